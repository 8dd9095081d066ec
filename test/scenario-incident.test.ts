import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, needsServers, scenario, scenarioHome, spawnScenario } from './scenario-run.js';

const { home, dirs } = scenarioHome();

describe('npm run scenario -- incident-response', () => {
  it.skipIf(needsServers())(
    'incident-response runs end to end on the real binaries and stops its servers',
    async () => {
      const r = await scenario(home, ['incident-response', '--json']);
      const report = JSON.parse(r.stdout);
      expect(report.error, r.stderr).toBeNull();
      expect(r.code).toBe(0);
      expect(report).toMatchObject({ scenario: 'incident-response', ok: true });
      dirs.push(report.artifacts);

      // The timeline on stderr names the artifacts folder at the start; the JSON repeats every step.
      expect(r.stderr.split('\n')[0]).toBe(`scenario incident-response: artifacts in ${report.artifacts}`);
      const steps = report.steps as { n: number; step: string; tool: string; ok: boolean; detail: string }[];
      expect(steps.every((s) => s.ok)).toBe(true);
      expect(new Set(steps.map((s) => s.tool))).toEqual(new Set(['sshd', 'prov', 'svault', 'kogral', 'vapora']));
      const detail = (re: RegExp) => steps.find((s) => re.test(s.step))?.detail ?? '';
      expect(detail(/installed on db-1 by prov apply/)).toMatch(/succeeded, 1 added; db-1: running; port \d+$/);
      expect(detail(/dev server/)).toMatch(/^http:\/\/127\.0\.0\.1:\d+ \(pid \d+\); audit log /);
      expect(detail(/dynamic PostgreSQL credentials/)).toMatch(/under database\/creds\/app\/\S+; the app logs in$/);
      expect(detail(/encrypted with transit/)).toMatch(/^vault:v1:/);
      expect(detail(/crashes/)).toMatch(/app login: .*ECONNREFUSED/);
      expect(detail(/its alert starts the incident pipeline/)).toMatch(
        /^check t-\S+ → alert task:t-\S+ \("postgresql: .*ECONNREFUSED.*"\) → run r-\S+: detect → lookup → diagnose → audit → restart → rotate → verify$/,
      );
      expect(detail(/the restart waits/)).toMatch(
        /ECONNREFUSED.*postmortems \S*postgresql-connection-refused.*prov: db-1: stopped; audit chain \d+ lines intact; approval ap-\S+ pending$/,
      );
      expect(detail(/a viewer cannot approve/)).toMatch(/status-page|viewer|not allowed|denied/i);
      expect(detail(/oncall-lead approves/)).toMatch(
        /^run succeeded; plan: .*taskserv\.postgresql\.db-1.*; \S+ refused, \S+ logs in$/,
      );
      expect(detail(/approval decision/)).toMatch(/approved by .*oncall-lead/);
      expect(steps.find((s) => /audit chain verified/.test(s.step))?.step).toMatch(/no secret in clear/);
      for (const line of steps.map((s) => `${s.n}. ${s.tool}`)) expect(r.stderr).toContain(line);

      // Artifacts: the audit log, the pipeline run, the postmortem as a kogral node, the timeline.
      const a = report.artifacts as string;
      for (const f of [
        'svault-audit.log',
        'pipeline-run.json',
        'kogral-search.json',
        'timeline.json',
        'evidence.ciphertext',
        'commands.log',
      ])
        expect(existsSync(join(a, f)), f).toBe(true);
      const run = JSON.parse(readFileSync(join(a, 'pipeline-run.json'), 'utf8'));
      expect(run.run.status).toBe('succeeded');
      const forward = run.steps.filter((s: { phase: string }) => s.phase === 'forward');
      expect(Object.fromEntries(forward.map((s: { step: string; status: string }) => [s.step, s.status]))).toEqual({
        detect: 'done',
        lookup: 'done',
        diagnose: 'done',
        audit: 'done',
        restart: 'done',
        rotate: 'done',
        verify: 'done',
      });
      const nodes = readdirSync(join(a, 'kogral', '.kogral', 'executions'));
      const pm = nodes.find((n) => n.startsWith(`incident-${run.run.id}`));
      expect(pm, nodes.join(', ')).toBeDefined();
      const body = readFileSync(join(a, 'kogral', '.kogral', 'executions', pm!), 'utf8');
      for (const h of ['## Root Cause', '## Resolution', '## Action Items', 'Timeline', 'rotated'])
        expect(body).toContain(h);
      // The monitor detects first; the restart comes only after lookup, diagnosis and audit; rotation after it.
      const calls = readFileSync(join(a, 'agent-calls.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(0, 2).join(' '));
      // The Monitor's own check (its alert starts the run), then the run's detect step.
      expect(calls.slice(0, 2)).toEqual(['monitor health_check', 'monitor health_check']);
      expect(calls.slice(2, 5).sort()).toEqual(['devops diagnose', 'devops find_postmortems', 'security audit_verify']);
      expect(calls.slice(5)).toEqual(['devops restart', 'security rotate_credentials', 'monitor health_check']);

      // Everything it started is reported, stopped, and gone.
      expect(report.servers.map((s: { name: string }) => s.name).sort()).toEqual(['sshd db-1', 'svault', 'vapora']);
      for (const s of report.servers as { pid: number; stopped: boolean }[]) {
        expect(s.stopped).toBe(true);
        expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
      }
    },
    240_000,
  );

  it.skipIf(needsServers())(
    'Ctrl-C stops the servers it started, reports where it stopped, and exits 130',
    async () => {
      const child = spawnScenario(home, ['incident-response', '--json']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      const code = await new Promise<number | null>((resolve) => {
        child.on('close', (c) => resolve(c));
        child.stderr.on('data', (d) => {
          const before = stderr;
          stderr += d;
          // Interrupt once both servers are up (the vapora serve step is done).
          if (!/serve on a free loopback port/.test(before) && /serve on a free loopback port/.test(stderr))
            child.kill('SIGINT');
        });
      });
      expect(code, stderr).toBe(130);
      const report = JSON.parse(stdout);
      dirs.push(report.artifacts);
      expect(report).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^interrupted by SIGINT during step \d+$/),
      });
      expect(stderr).toContain('SIGINT: stopping the servers this scenario started');
      expect(report.servers).toHaveLength(3);
      for (const s of report.servers as { pid: number; stopped: boolean }[]) {
        expect(s.stopped).toBe(true);
        expect(alive(s.pid), `pid ${s.pid}`).toBe(false);
      }
    },
    120_000,
  );
});
