import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, needsServers, scenario, scenarioHome } from './scenario-run.js';

const { home, dirs } = scenarioHome();

describe('npm run scenario -- disaster-recovery', () => {
  it.skipIf(needsServers())(
    'disaster-recovery: the alert starts DR, prov migrates AWS → UpCloud, svault serves through a failover, no order lost',
    async () => {
      const r = await scenario(home, ['disaster-recovery', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; tool: string; detail: string }[];
      const detail = (re: RegExp) => steps.find((s) => re.test(s.step))?.detail ?? '';
      expect(new Set(steps.map((s) => s.tool))).toEqual(new Set(['kogral', 'prov', 'svault', 'vapora']));
      expect(detail(/two nodes on shared PostgreSQL storage/)).toMatch(
        /b \S+ standby; the app \(\S+\) reads 250 orders$/,
      );
      expect(detail(/the project manager declares DR/)).toMatch(
        /^DR declared \(multi-cloud-disaster-recovery-\S+, runbook runbook-region-evacuation-\S+\); plan: \d+ steps .*; approval \S+ pending$/,
      );
      expect(detail(/prov migrate apply moves the service/)).toMatch(
        /^run succeeded; state: .*server\.db-1.*; svault b served .*; 250 orders on UpCloud, 0 lost$/,
      );
      expect(detail(/incident record/)).toMatch(/: RTO \d+ s, RPO 0$/);
      const a = report.artifacts as string;
      const calls = readFileSync(join(a, 'agent-calls.log'), 'utf8');
      expect(calls.indexOf('security new_credentials')).toBeGreaterThan(calls.indexOf('devops migrate'));
      expect(JSON.parse(readFileSync(join(a, 'migration-plan.json'), 'utf8')).steps.length).toBeGreaterThan(0);
      const nodes = readdirSync(join(a, 'kogral', '.kogral', 'executions'));
      expect(nodes.some((n) => n.startsWith('dr-eu-west-1-order-service-moved'))).toBe(true);
      for (const s of report.servers as { pid: number }[]) expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
    },
    300_000,
  );

  it.skipIf(needsServers())(
    'the upcloud-fails twin: prov rolls the migration back, AWS keeps serving, nothing new is issued',
    async () => {
      const r = await scenario(home, ['disaster-recovery', '--twin', 'upcloud-fails', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; detail: string }[];
      expect(steps.find((s) => /the UpCloud side fails/.test(s.step))?.detail).toMatch(
        /^run (failed|rolled_back): .*; AWS untouched \(250 orders, old credentials work\); UpCloud empty$/,
      );
      const a = report.artifacts as string;
      expect(readFileSync(join(a, 'agent-calls.log'), 'utf8')).not.toContain('security new_credentials');
      expect(existsSync(join(a, 'migration-run.json'))).toBe(true);
      const dir = join(a, 'kogral', '.kogral', 'executions');
      const node = readdirSync(dir).find((n) => n.startsWith('dr-eu-west-1'));
      expect(readFileSync(join(dir, node!), 'utf8')).toMatch(/^status: open$/m);
    },
    300_000,
  );
});
