import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

const require = createRequire(import.meta.url);
/** The OASIS SARIF 2.1.0 schema as Microsoft's SARIF SDK ships it (@microsoft/jest-sarif). */
const sarifSchema = JSON.parse(
  readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8'),
);

// Lines: 9 the public SSH rule's `from`, 13 encryption_at_rest = false, 16 backups.enabled = false.
const FAILING = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'aws,
  region = "us-east-1",
  servers = [
    { name = "web-1", provider = 'aws, plan = "t3.micro", role = "web", spec.os = { family = 'ubuntu, version = "24.04" } },
  ],
  networking.security_groups.admin.ingress = [
    { port = 22, from = "0.0.0.0/0" },
    { port = 443, from = "0.0.0.0/0" },
  ],
  security = {
    encryption_at_rest = false,
    audit_logging.enabled = true,
  },
  backups = { enabled = false },
} | Infrastructure
`;

interface Finding {
  rule: string;
  severity: string;
  path: string;
  location: { file: string; line: number; column: number };
  requirements: string[];
}

function ws(config: string) {
  const sb = sandbox();
  writeFileSync(join(sb.cwd, 'prov.ncl'), config);
  return sb;
}
const prov = (sb: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) =>
  runBin('prov', args, { cwd: sb.cwd, env: sb.env, timeoutMs: 60_000 });

describe('prov compliance', () => {
  it('fails soc2 with three findings on the lines of the public SSH rule, the unencrypted disk and the backups', async () => {
    const sb = ws(FAILING);
    const r = await prov(sb, ['compliance', '--framework', 'soc2', '--format', 'json']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/3 findings at or above low/);
    const report = JSON.parse(r.stdout) as { findings: Finding[]; requirements: { id: string; status: string }[] };
    expect(report.findings.map((f) => [f.rule, f.location.line, f.path])).toEqual([
      ['PROV-NET-001', 9, 'networking.security_groups.admin.ingress[0].from'],
      ['PROV-ENC-001', 13, 'security.encryption_at_rest'],
      ['PROV-BAK-001', 16, 'backups.enabled'],
    ]);
    expect(report.findings[0]?.location.file).toBe(join(sb.cwd, 'prov.ncl'));
    expect(report.findings.map((f) => f.requirements)).toEqual([['cc_6_6'], ['cc_6_1'], ['a_1_2']]);
    expect(report.requirements.find((q) => q.id === 'cc_7_2')?.status).toBe('pass');

    const text = await prov(sb, ['compliance', '--framework', 'soc2']);
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/HIGH\s+PROV-NET-001\s+Security group allows SSH/);
    expect(text.stdout).toContain('prov.ncl:9:');
    expect(text.stdout).toMatch(/fix: allow port 22 only from your admin network/);
    // Below the floor: exit 0.
    expect((await prov(sb, ['compliance', '--framework', 'soc2', '--fail-on', 'critical'])).code).toBe(0);
  });

  it('a config split into files: a finding points into the file that writes the field; that file suppresses it', async () => {
    const sb = ws(`(import "parts/base.ncl") & (import "parts/security.ncl")\n`);
    mkdirSync(join(sb.cwd, 'parts'));
    writeFileSync(
      join(sb.cwd, 'parts', 'base.ncl'),
      FAILING.replace(/ {2}security = \{[^}]*\},\n {2}backups = \{ enabled = false \},\n/, ''),
    );
    writeFileSync(
      join(sb.cwd, 'parts', 'security.ncl'),
      '{\n  # prov:skip=PROV-ENC-001 disks encrypted by the hosting contract (LUKS)\n  security.encryption_at_rest = false,\n  backups.enabled = false,\n}\n',
    );
    const r = await prov(sb, ['compliance', '--framework', 'soc2', '--format', 'json']);
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as {
      findings: Finding[];
      suppressions: { rule: string; suppressed: number }[];
    };
    const at = (rule: string) => report.findings.find((f) => f.rule === rule)?.location;
    expect(at('PROV-NET-001')).toMatchObject({ file: join(sb.cwd, 'parts', 'base.ncl'), line: 9 });
    expect(at('PROV-BAK-001')).toMatchObject({ file: join(sb.cwd, 'parts', 'security.ncl'), line: 4 });
    expect(at('PROV-ENC-001')).toBeUndefined();
    expect(report.suppressions).toEqual([expect.objectContaining({ rule: 'PROV-ENC-001', suppressed: 1 })]);
  });

  it('writes SARIF 2.1.0 that validates against the SARIF schema', async () => {
    const sb = ws(FAILING);
    const r = await prov(sb, ['compliance', '--framework', 'hipaa', '--format', 'sarif', '--out', 'prov.sarif']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/Wrote the sarif report to prov\.sarif/);
    const sarif = JSON.parse(readFileSync(join(sb.cwd, 'prov.sarif'), 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false });
    const validate = ajv.compile(sarifSchema);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const run = sarif.runs[0];
    expect(run.results).toHaveLength(3);
    expect(run.results[0].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'prov.ncl' },
      region: { startLine: 9, startColumn: expect.any(Number) },
    });
    const rule = run.tool.driver.rules[run.results[0].ruleIndex];
    expect(rule.id).toBe(run.results[0].ruleId);
    expect(rule.properties['security-severity']).toBe('8.0');
    expect(rule.properties.frameworks.hipaa).toContain('164_308_a_1_ii_b');
    // A schema check that can fail: a result without a message is refused.
    const broken = structuredClone(sarif);
    delete broken.runs[0].results[0].message;
    expect(validate(broken)).toBe(false);
  });

  it('writes JUnit XML with a failure per finding and a passing case per clean rule', async () => {
    const sb = ws(FAILING);
    const r = await prov(sb, ['compliance', '--framework', 'pci', '--format', 'junit']);
    expect(r.code).toBe(3);
    const x = r.stdout;
    expect(x).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="prov compliance pci"/);
    const failures = [...x.matchAll(/<failure type="(\w+)" message="([^"]*)"/g)];
    expect(failures.map((f) => f[1])).toEqual(['high', 'high', 'high']);
    expect(failures[0]?.[2]).toContain('prov.ncl:9:');
    expect(x).toMatch(/<testcase classname="PROV-LOG-001" name="Audit logging is disabled"\/>/);
    // Balanced tags: every opened element is closed in order.
    const stack: string[] = [];
    for (const m of x.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
      if (m[3]) continue;
      if (m[1]) expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2] as string);
    }
    expect(stack).toEqual([]);
  });

  it('honours a suppression with a reason, lists it, and ignores one without', async () => {
    const config = FAILING.replace(
      '    { port = 22, from = "0.0.0.0/0" },',
      '    # prov:skip=PROV-NET-001 bastion host, reviewed by security 2026-11\n    { port = 22, from = "0.0.0.0/0" },',
    ).replace('  backups = { enabled = false },', '  backups = { enabled = false }, # prov:skip=PROV-BAK-001');
    const sb = ws(config);
    const r = await prov(sb, ['compliance', '--framework', 'soc2', '--json']);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as {
      findings: Finding[];
      suppressions: { rule: string; reason: string; valid: boolean; suppressed: number; location: { line: number } }[];
      summary: { suppressed: number };
    };
    expect(report.findings.map((f) => f.rule)).toEqual(['PROV-ENC-001', 'PROV-BAK-001']);
    expect(report.summary.suppressed).toBe(1);
    expect(report.suppressions).toEqual([
      expect.objectContaining({
        rule: 'PROV-NET-001',
        reason: 'bastion host, reviewed by security 2026-11',
        valid: true,
        suppressed: 1,
      }),
      expect.objectContaining({ rule: 'PROV-BAK-001', reason: '', valid: false, suppressed: 0 }),
    ]);
    const text = await prov(sb, ['compliance', '--framework', 'soc2']);
    expect(text.stdout).toMatch(
      /PROV-NET-001 at prov\.ncl:9: bastion host, reviewed by security 2026-11 \(1 finding\)/,
    );
    expect(text.stdout).toMatch(/PROV-BAK-001 at prov\.ncl:17: IGNORED, a suppression needs a reason/);
  });

  it('passes a compliant config; points at the nearest written field when one is missing; refuses bad input', async () => {
    const good = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = { db-1 = { address = "192.0.2.1", user = "deploy", sudo = true } },
  networking.security_groups.app.ingress = [{ port = 22, from = "10.0.0.0/8" }],
  security = { encryption_at_rest = true, audit_logging.enabled = true },
  backups = { enabled = true, retention_days = 30 },
} | Infrastructure
`;
    const sb = ws(good);
    const ok = await prov(sb, ['compliance', '--framework', 'gdpr', '--fail-on', 'info']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/No findings\./);

    const partial = ws(`let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  security = { audit_logging.enabled = true },
} | Infrastructure
`);
    const p = await prov(partial, ['compliance', '--framework', 'soc2', '--json']);
    const findings = (JSON.parse(p.stdout) as { findings: (Finding & { missing: boolean })[] }).findings;
    // encryption_at_rest is a schema default: the finding points at the `security` record of this file.
    expect(findings.find((f) => f.rule === 'PROV-ENC-001')).toMatchObject({ missing: true, location: { line: 4 } });
    expect(findings.find((f) => f.rule === 'PROV-BAK-001')).toMatchObject({ missing: true, location: { line: 1 } });

    const bad = ws('{ provider = 42 }');
    expect((await prov(bad, ['compliance', '--framework', 'soc2'])).code).toBe(3);
    expect((await prov(bad, ['compliance', 'missing.ncl', '--framework', 'soc2'])).code).toBe(4);
    const usage = await prov(bad, ['compliance', '--framework', 'iso']);
    expect(usage.code).toBe(2);
  });
});
