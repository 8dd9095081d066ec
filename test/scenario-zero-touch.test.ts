import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipUnless } from '../packages/shared/src/testing/index.js';
import { alive, needsServers, scenario, scenarioHome } from './scenario-run.js';

const { home, dirs } = scenarioHome();
const skip = needsServers() || skipUnless('patroni') || skipUnless('etcd');

describe('npm run scenario -- zero-touch', () => {
  it.skipIf(skip)(
    'zero-touch: wizard → guidelines applied → cluster, certificates, credentials only after acceptance and approval',
    async () => {
      const r = await scenario(home, ['zero-touch', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; tool: string; detail: string }[];
      const detail = (re: RegExp) => steps.find((s) => re.test(s.step))?.detail ?? '';
      expect(new Set(steps.map((s) => s.tool))).toEqual(new Set(['kogral', 'sshd', 'prov', 'svault', 'vapora']));
      // Without chromium the wizard is answered from a file; with it (CI), on its web page.
      expect(steps.some((s) => /the database wizard answered/.test(s.step))).toBe(true);
      expect(detail(/guidelines read through kogral MCP/)).toMatch(
        /^pg-db-1, pg-db-2, pg-db-3 match .*; database-cluster-default-security-\w+ merged/,
      );
      expect(detail(/validate and apply the servers/)).toMatch(
        /create server\.pg-db-1, create server\.pg-db-2, create server\.pg-db-3; run \S+ succeeded$/,
      );
      expect(detail(/PostgreSQL HA/)).toMatch(/succeeded \(6 services, checkpointed\); leader pg-db-\d/);
      expect(detail(/certificates issued by svault/)).toMatch(/^6 certificates .* no key in state$/);
      expect(detail(/acceptance pipeline/)).toMatch(
        /soc2: no high finding .*suppressed: PROV-ENC-001 .*; approval \S+ pending$/,
      );
      expect(detail(/platform-lead approves/)).toMatch(/^v-\S+ \(lease \S+, 1h\) logs in on pg-db-\d$/);
      const a = report.artifacts as string;
      // The generated config carries the guideline's defaults; the credentials file is the app's only copy.
      expect(readFileSync(join(a, 'prov', 'parts', 'guidelines.ncl'), 'utf8')).toMatch(/backups = \{ enabled = true/);
      expect(readFileSync(join(a, 'prov', 'gen', 'main.ncl'), 'utf8')).toMatch(/db-cluster/);
      const calls = readFileSync(join(a, 'agent-calls.log'), 'utf8');
      expect(calls.indexOf('devops handover')).toBeGreaterThan(calls.indexOf('security compliance'));
      const nodes = readdirSync(join(a, 'kogral', '.kogral', 'executions'));
      expect(nodes.some((n) => n.startsWith('zero-touch-pg'))).toBe(true);
      for (const s of report.servers as { pid: number; stopped: boolean }[])
        expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
    },
    300_000,
  );

  it.skipIf(skip)(
    'the skip-guidelines twin: Security finds the config non-compliant; no credentials; the record stays open',
    async () => {
      const r = await scenario(home, ['zero-touch', '--twin', 'skip-guidelines', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; detail: string }[];
      expect(steps.find((s) => /acceptance pipeline/.test(s.step))?.detail).toMatch(
        /^run (rolled_back|failed): Security blocked it: \d+ high soc2 finding\(s\): .*PROV-ENC-001/,
      );
      const a = report.artifacts as string;
      expect(existsSync(join(a, 'app-credentials.json'))).toBe(false);
      expect(readFileSync(join(a, 'agent-calls.log'), 'utf8')).not.toContain('devops handover');
      const dir = join(a, 'kogral', '.kogral', 'executions');
      const node = readdirSync(dir).find((n) => n.startsWith('zero-touch-pg'));
      expect(readFileSync(join(dir, node!), 'utf8')).toMatch(/^status: open$/m);
    },
    300_000,
  );
});
