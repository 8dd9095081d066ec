import { readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NickelEngine } from '@stratumiops/nickel';
import { StratumError, validationError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import * as z from '@stratumiops/shared/zod';
import { configFailure, nickelFailure } from './nickel.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const FRAMEWORKS = ['soc2', 'hipaa', 'gdpr', 'pci'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** A condition on the selected value: a field compared, or a combination of conditions. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { field: string; equals?: unknown; in?: unknown[]; missing?: boolean; lt?: number; gt?: number };

const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(condition).min(1) }),
    z.strictObject({ any: z.array(condition).min(1) }),
    z.strictObject({ not: condition }),
    z.strictObject({
      field: z.string().min(1),
      equals: z.unknown().optional(),
      in: z.array(z.unknown()).optional(),
      missing: z.boolean().optional(),
      lt: z.number().optional(),
      gt: z.number().optional(),
    }),
  ]),
);

const ruleSchema = z.strictObject({
  /** Stable: suppressions, SARIF ruleIds and framework files name it. */
  id: z.string().regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/),
  title: z.string().min(1),
  severity: z.enum(SEVERITIES),
  /** The values the rule looks at: a dotted path, `*` for every element or field ("" is the whole config). */
  select: z.string(),
  /** Fields of the selected value the rule reads (documentation, and what `--json` lists). */
  reads: z.array(z.string()),
  /** The field a finding points at (its file:line); the nearest written ancestor when it is missing. */
  at: z.string(),
  fail_if: condition,
  fix: z.string().min(1),
});
export type Rule = z.infer<typeof ruleSchema> & { frameworks: Partial<Record<Framework, string[]>> };

/** A framework file in the shape of Prowler's compliance JSONs: requirements, each naming the checks. */
const frameworkSchema = z.object({
  Framework: z.string(),
  Version: z.string(),
  Description: z.string(),
  Requirements: z.array(
    z.object({ Id: z.string(), Name: z.string(), Description: z.string(), Checks: z.array(z.string()) }),
  ),
});
export type FrameworkFile = z.infer<typeof frameworkSchema>;

const dataDir = () => fileURLToPath(new URL('../../data/compliance', import.meta.url));

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw validationError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw validationError(`${file}: ${i?.path.join('.') || '(root)'}: ${i?.message}`);
  }
  return r.data;
}

/** The shipped rules with the requirements of every framework that maps them. */
export function loadRules(dir = dataDir()): { rules: Rule[]; frameworks: Record<Framework, FrameworkFile> } {
  const { rules } = readJson(join(dir, 'rules.json'), z.object({ version: z.number(), rules: z.array(ruleSchema) }));
  const frameworks = Object.fromEntries(
    FRAMEWORKS.map((f) => [f, readJson(join(dir, 'frameworks', `${f}.json`), frameworkSchema)]),
  ) as Record<Framework, FrameworkFile>;
  const ids = new Set(rules.map((r) => r.id));
  if (ids.size !== rules.length) throw validationError(`${dir}/rules.json: a rule id is used twice`);
  const out: Rule[] = rules.map((r) => ({ ...r, frameworks: {} }));
  for (const f of FRAMEWORKS) {
    for (const req of frameworks[f].Requirements) {
      for (const check of req.Checks) {
        const rule = out.find((r) => r.id === check);
        if (!rule) throw validationError(`frameworks/${f}.json: requirement ${req.Id} names unknown rule ${check}`);
        rule.frameworks[f] = [...(rule.frameworks[f] ?? []), req.Id];
      }
    }
  }
  return { rules: out, frameworks };
}

type Path = (string | number)[];

/** Every value the selector reaches, with its path. */
function select(root: unknown, selector: string): { path: Path; value: unknown }[] {
  let found: { path: Path; value: unknown }[] = [{ path: [], value: root }];
  for (const seg of selector.split('.').filter(Boolean)) {
    const next: { path: Path; value: unknown }[] = [];
    for (const { path, value } of found) {
      if (seg === '*') {
        if (Array.isArray(value)) {
          for (const [i, v] of value.entries()) next.push({ path: [...path, i], value: v });
        } else if (value && typeof value === 'object')
          for (const [k, v] of Object.entries(value)) next.push({ path: [...path, k], value: v });
      } else if (value && typeof value === 'object' && !Array.isArray(value) && seg in value) {
        next.push({ path: [...path, seg], value: (value as Record<string, unknown>)[seg] });
      }
    }
    found = next;
  }
  return found;
}

function get(value: unknown, path: Path): unknown {
  let v = value;
  for (const seg of path) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

const field = (value: unknown, dotted: string) => get(value, dotted.split('.'));

export function holds(c: Condition, value: unknown): boolean {
  if ('all' in c) return c.all.every((x) => holds(x, value));
  if ('any' in c) return c.any.some((x) => holds(x, value));
  if ('not' in c) return !holds(c.not, value);
  const v = field(value, c.field);
  if (c.missing !== undefined) return (v === undefined || v === null) === c.missing;
  if (v === undefined || v === null) return false;
  if ('equals' in c && c.equals !== undefined) return v === c.equals;
  if (c.in) return c.in.includes(v);
  if (c.lt !== undefined) return typeof v === 'number' && v < c.lt;
  if (c.gt !== undefined) return typeof v === 'number' && v > c.gt;
  return false;
}

export interface Location {
  file: string;
  line: number;
  column: number;
}

export interface Finding {
  rule: string;
  title: string;
  severity: Severity;
  /** The offending value, e.g. networking.security_groups.ssh.ingress[0].from */
  path: string;
  /** True when the field is not written (the location is then its nearest written ancestor). */
  missing: boolean;
  location: Location;
  fix: string;
  /** Requirement ids of the chosen framework. */
  requirements: string[];
}

export interface Suppression {
  rule: string;
  reason: string;
  location: Location;
  /** Findings it removed. */
  suppressed: number;
  /** A suppression without a reason is not honoured. */
  valid: boolean;
}

export interface ComplianceReport {
  format: 'prov-compliance/1';
  config: string;
  framework: { id: Framework; name: string; version: string };
  rulesChecked: number;
  findings: Finding[];
  suppressions: Suppression[];
  summary: Record<Severity, number> & { total: number; suppressed: number };
  /** Requirements of the framework with their status. */
  requirements: { id: string; name: string; status: 'pass' | 'fail'; findings: number }[];
}

const pathText = (p: Path) => p.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

/** `# prov:skip=PROV-NET-001 reason` on the finding's line or the line above it. */
const SKIP = /#\s*prov:skip=([A-Za-z0-9-]+)(?:[ \t]+(.*\S))?/g;

export function parseSuppressions(source: string, file: string): Suppression[] {
  const out: Suppression[] = [];
  source.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(SKIP)) {
      const reason = (m[2] ?? '').trim();
      out.push({
        rule: m[1] as string,
        reason,
        location: { file, line: i + 1, column: (m.index ?? 0) + 1 },
        suppressed: 0,
        valid: reason.length > 0,
      });
    }
  });
  return out;
}

export interface Evaluated {
  /** The exported configuration (defaults filled in). */
  config: unknown;
  file: string;
  source: string;
  /** Where the value at a path was written (its nearest written parent for a default), or undefined. */
  locate(path: Path): (Location & { offset: number; end: number }) | undefined;
}

/** The exported config (contract errors are exit 3 with their positions) and where each value was written. */
export async function evaluateConfig(engine: NickelEngine, file: string, importPaths: string[]): Promise<Evaluated> {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    throw new StratumError('notFound', `no such config: ${file}`, { hint: 'pass the config file (.ncl)' });
  }
  if (!engine.exportDiagnosed) {
    // A `nickel` binary gives no positions of values: findings point at the file.
    let json: string;
    try {
      json = await engine.exportFile(file, { format: 'json', importPaths });
    } catch (e) {
      throw nickelFailure(e);
    }
    return { config: JSON.parse(json), file, source, locate: () => undefined };
  }
  const r = await engine.exportDiagnosed(file, { importPaths });
  if (r.json === undefined || r.errors.length)
    throw configFailure(file, { errors: r.errors, omitted: r.omitted, warnings: [] });
  return { config: JSON.parse(r.json), file, source, locate: (path) => r.locate(path) };
}

/**
 * Runs the rules mapped to `framework` on an evaluated config. Each finding names the offending field's
 * file:line (its nearest written ancestor when it is absent); suppressions with a reason remove theirs.
 */
export function checkCompliance(ev: Evaluated, rules: Rule[], fw: FrameworkFile, framework: Framework) {
  const applicable = rules.filter((r) => r.frameworks[framework]?.length);
  // A config split into files (imports from its own folder): findings point into the file that writes the
  // field, and that file's suppressions count. Files elsewhere (the schemas' defaults) are not pointed at.
  const ownFile = (f: string) => f === ev.file || f.startsWith(dirname(ev.file) + sep);
  const suppressionsOf = new Map<string, Suppression[]>([[ev.file, parseSuppressions(ev.source, ev.file)]]);
  const suppressionsIn = (f: string) => {
    let list = suppressionsOf.get(f);
    if (!list) {
      list = parseSuppressions(readFileSync(f, 'utf8'), f);
      suppressionsOf.set(f, list);
    }
    return list;
  };
  const findings: Finding[] = [];
  for (const rule of applicable) {
    for (const { path, value } of select(ev.config, rule.select)) {
      if (!holds(rule.fail_if, value)) continue;
      const at = [...path, ...rule.at.split('.').filter(Boolean)];
      // The field itself when the config writes it, else its nearest ancestor written in the config's files
      // (a default comes from the schema: pointing there would not help).
      let pos: Location | undefined;
      let missing = false;
      for (let n = at.length; n > 0 && !pos; n--) {
        const sub = at.slice(0, n);
        const span = get(ev.config, sub) === undefined ? undefined : ev.locate(sub);
        // locate answers with the parent's position for a value the file does not write (a default).
        const parent = n > 1 ? ev.locate(sub.slice(0, -1)) : undefined;
        const own = span && !(parent && parent.offset === span.offset && parent.end === span.end);
        if (span && own && ownFile(span.file)) pos = { file: span.file, line: span.line, column: span.column };
        else missing = true;
      }
      findings.push({
        rule: rule.id,
        title: rule.title,
        severity: rule.severity,
        path: pathText(at),
        missing,
        location: pos ?? { file: ev.file, line: 1, column: 1 },
        fix: rule.fix,
        requirements: rule.frameworks[framework] ?? [],
      });
    }
  }
  const kept = findings.filter((f) => {
    const s = suppressionsIn(f.location.file).find(
      (x) =>
        x.valid &&
        x.rule === f.rule &&
        (x.location.line === f.location.line || x.location.line === f.location.line - 1),
    );
    if (s) s.suppressed++;
    return !s;
  });
  const suppressions = [...suppressionsOf.values()].flat();
  kept.sort(
    (a, b) =>
      byCodeUnits(a.location.file, b.location.file) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column ||
      SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity),
  );
  const summary = Object.fromEntries(SEVERITIES.map((s) => [s, kept.filter((f) => f.severity === s).length])) as Record<
    Severity,
    number
  >;
  const report: ComplianceReport = {
    format: 'prov-compliance/1',
    config: ev.file,
    framework: { id: framework, name: fw.Framework, version: fw.Version },
    rulesChecked: applicable.length,
    findings: kept,
    suppressions,
    summary: { ...summary, total: kept.length, suppressed: findings.length - kept.length },
    requirements: fw.Requirements.map((r) => {
      const n = kept.filter((f) => r.Checks.includes(f.rule)).length;
      return { id: r.Id, name: r.Name, status: n ? 'fail' : 'pass', findings: n };
    }),
  };
  return report;
}

export const atOrAbove = (s: Severity, floor: Severity) => SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(floor);

export function renderText(r: ComplianceReport, rel: (file: string) => string): string {
  const out: string[] = [
    `${r.framework.name} ${r.framework.version}: ${r.rulesChecked} rules on ${rel(r.config)}`.trim(),
    '',
  ];
  for (const f of r.findings) {
    out.push(
      `${f.severity.toUpperCase().padEnd(8)} ${f.rule}  ${f.title}`,
      `         ${rel(f.location.file)}:${f.location.line}:${f.location.column}  ${f.path}${f.missing ? ' (not set)' : ''}`,
      `         requirements: ${f.requirements.join(', ')}`,
      `         fix: ${f.fix}`,
      '',
    );
  }
  if (r.suppressions.length) {
    out.push('Suppressions:');
    for (const s of r.suppressions) {
      const where = `${rel(s.location.file)}:${s.location.line}`;
      out.push(
        s.valid
          ? `  ${s.rule} at ${where}: ${s.reason} (${s.suppressed} finding${s.suppressed === 1 ? '' : 's'})`
          : `  ${s.rule} at ${where}: IGNORED, a suppression needs a reason (# prov:skip=${s.rule} why)`,
      );
    }
    out.push('');
  }
  const failed = r.requirements.filter((q) => q.status === 'fail').map((q) => q.id);
  const s = r.summary;
  out.push(
    r.findings.length
      ? `${s.total} finding${s.total === 1 ? '' : 's'}: ${SEVERITIES.filter((x) => s[x])
          .reverse()
          .map((x) => `${s[x]} ${x}`)
          .join(', ')}${s.suppressed ? `; ${s.suppressed} suppressed` : ''}`
      : `No findings${s.suppressed ? ` (${s.suppressed} suppressed)` : ''}.`,
    `Requirements: ${r.requirements.length - failed.length} of ${r.requirements.length} pass${failed.length ? `; failing: ${failed.join(', ')}` : ''}`,
  );
  return out.join('\n');
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};
/** GitHub code scanning orders alerts by this property (0.1-10). */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '1.0',
};

/** SARIF 2.1.0, as GitHub code scanning takes it: rules in the driver, results with physical locations. */
export function renderSarif(r: ComplianceReport, rules: Rule[], uri: (file: string) => string, version: string) {
  const used = rules.filter((x) => x.frameworks[r.framework.id]?.length);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'prov compliance',
            version,
            informationUri: 'https://github.com/stratumiops/stratumiops',
            rules: used.map((x) => ({
              id: x.id,
              name: x.id.replaceAll('-', ''),
              shortDescription: { text: x.title },
              fullDescription: { text: `${x.title}. Reads: ${x.reads.join(', ')}.` },
              help: { text: `Fix: ${x.fix}`, markdown: `**Fix:** ${x.fix}` },
              defaultConfiguration: { level: SARIF_LEVEL[x.severity] },
              properties: {
                tags: ['security', 'compliance', ...Object.keys(x.frameworks)],
                'security-severity': SECURITY_SEVERITY[x.severity],
                frameworks: x.frameworks,
              },
            })),
          },
        },
        results: r.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: used.findIndex((x) => x.id === f.rule),
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.title}: ${f.path}${f.missing ? ' is not set' : ''}. Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: uri(f.location.file) },
                region: { startLine: f.location.line, startColumn: f.location.column },
              },
            },
          ],
          partialFingerprints: { 'provFinding/v1': `${f.rule}:${f.path}` },
          properties: { requirements: f.requirements, severity: f.severity },
        })),
        columnKind: 'unicodeCodePoints',
      },
    ],
  };
}

const xml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

/** JUnit XML: one test case per rule and finding target; a failure per finding, passes for clean rules. */
export function renderJunit(r: ComplianceReport, rules: Rule[], rel: (file: string) => string): string {
  const used = rules.filter((x) => x.frameworks[r.framework.id]?.length);
  const cases: string[] = [];
  for (const rule of used) {
    const fs = r.findings.filter((f) => f.rule === rule.id);
    if (fs.length === 0) {
      cases.push(`    <testcase classname="${xml(rule.id)}" name="${xml(rule.title)}"/>`);
      continue;
    }
    for (const f of fs) {
      const where = `${rel(f.location.file)}:${f.location.line}:${f.location.column}`;
      cases.push(
        `    <testcase classname="${xml(rule.id)}" name="${xml(`${rule.title}: ${f.path}`)}" file="${xml(rel(f.location.file))}" line="${f.location.line}">`,
        `      <failure type="${f.severity}" message="${xml(`${f.title} (${where})`)}">${xml(`${where} ${f.path}\nrequirements: ${f.requirements.join(', ')}\nfix: ${f.fix}`)}</failure>`,
        '    </testcase>',
      );
    }
  }
  const tests = cases.filter((c) => c.trimStart().startsWith('<testcase')).length;
  const name = `prov compliance ${r.framework.id}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(name)}" tests="${tests}" failures="${r.findings.length}">`,
    `  <testsuite name="${xml(`${name} ${rel(r.config)}`)}" tests="${tests}" failures="${r.findings.length}" errors="0" skipped="0">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
