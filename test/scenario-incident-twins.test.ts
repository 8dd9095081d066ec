import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, needsServers, scenario, scenarioHome } from './scenario-run.js';

const { home, dirs } = scenarioHome();

describe('npm run scenario -- incident-response --twin', () => {
  it.skipIf(needsServers())(
    'the failed-restart twin: the restart fails, credentials stay, the postmortem stays open',
    async () => {
      const r = await scenario(home, ['incident-response', '--twin', 'failed-restart', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      const steps = report.steps as { step: string; detail: string }[];
      expect(steps.find((s) => /the restart fails/.test(s.step))?.detail).toMatch(
        /^run (failed|rolled_back); restart: /,
      );
      const a = report.artifacts as string;
      const calls = readFileSync(join(a, 'agent-calls.log'), 'utf8');
      expect(calls).toContain('devops restart');
      expect(calls).not.toContain('rotate_credentials');
      const run = JSON.parse(readFileSync(join(a, 'pipeline-run.json'), 'utf8'));
      const dir = join(a, 'kogral', '.kogral', 'executions');
      const body = readFileSync(
        join(dir, readdirSync(dir).find((n) => n.startsWith(`incident-${run.run.id}`))!),
        'utf8',
      );
      expect(body).toMatch(/^status: open$/m);
      expect(body).toContain('the restart failed');
      for (const s of report.servers as { pid: number }[]) expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
    },
    240_000,
  );

  it.skipIf(needsServers())(
    'the rejected-approval twin: the run stops, the restart never runs, the postmortem stays open',
    async () => {
      const r = await scenario(home, ['incident-response', '--twin', 'rejected-approval', '--json']);
      const report = JSON.parse(r.stdout);
      dirs.push(report.artifacts);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      expect(report).toMatchObject({ ok: true, twin: 'rejected-approval' });
      const steps = report.steps as { step: string; ok: boolean; detail: string }[];
      expect(steps.find((s) => /rejects the restart/.test(s.step))?.detail).toMatch(
        /^run (rolled_back|failed): step 'restart' rejected by oncall-lead.*no rollback plan$/,
      );
      expect(steps.find((s) => /approval decision/.test(s.step))?.detail).toMatch(/rejected by .*oncall-lead/);
      expect(steps.some((s) => /oncall-lead approves/.test(s.step))).toBe(false);
      const a = report.artifacts as string;
      expect(readFileSync(join(a, 'agent-calls.log'), 'utf8')).not.toContain('devops restart');
      const run = JSON.parse(readFileSync(join(a, 'pipeline-run.json'), 'utf8'));
      const dir = join(a, 'kogral', '.kogral', 'executions');
      const pm = readdirSync(dir).find((n) => n.startsWith(`incident-${run.run.id}`));
      const body = readFileSync(join(dir, pm!), 'utf8');
      expect(body).toMatch(/^status: open$/m);
      expect(body).toContain('the restart was rejected');
      for (const s of report.servers as { pid: number }[]) expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
    },
    240_000,
  );
});
