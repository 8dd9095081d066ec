import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import {
  hostEntry,
  inventory,
  knownHosts,
  prov,
  startHosts,
  stopHosts,
  type TestHost,
  workspace,
} from './support/hosts.js';

describe.skipIf(skipUnless('sshd'))('prov in automation: CI logs, colours, prompts, host keys', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(2);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  const config = () => `{
  provider = 'local,
  hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} },
  servers = [
    ${hosts.map((h) => `{ name = "${h.name}", provider = 'local, spec.os = { family = 'debian, version = "12" } }`).join(',\n    ')}
  ],
} | (import "infrastructure.ncl")
`;

  it('without a TTY: one line per task start and end with the elapsed time; a saved plan applies without a prompt', async () => {
    const ws = workspace(config(), hosts);
    const plan = await prov(ws, ['plan', '-o', 'plan.json']);
    expect(plan.code, plan.stderr).toBe(0);
    // No -y: a saved plan was reviewed when it was made.
    const apply = await prov(ws, ['apply', 'plan.json']);
    expect(apply.code, apply.stderr).toBe(0);
    for (const h of hosts) {
      expect(apply.stderr).toMatch(new RegExp(`^\\[\\d+\\.\\ds\\] server\\.${h.name}: create\\.\\.\\.$`, 'm'));
      expect(apply.stderr).toMatch(
        new RegExp(`^\\[\\d+\\.\\ds\\] server\\.${h.name}: created \\(\\d+\\.\\ds\\)$`, 'm'),
      );
    }
    // Each start comes before its end.
    const lines = apply.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/server\.node-1: create\.\.\./)).toBeLessThan(at(/server\.node-1: created/));
    // --json: one document on stdout and no progress lines.
    const destroy = await prov(ws, ['destroy', '-y', '--json']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(destroy.stderr).not.toMatch(/^\[\d/m);
    expect(JSON.parse(destroy.stdout).status).toBe('succeeded');
  });

  it('plan diffs are coloured with FORCE_COLOR (never with --json), plain otherwise', async () => {
    const ws = workspace(config(), hosts);
    const plain = await prov(ws, ['plan', '--no-refresh']);
    expect(plain.stdout).not.toContain('\u001b[');
    const colour = await prov({ ...ws, env: { ...ws.env, NO_COLOR: '', FORCE_COLOR: '1' } }, ['plan', '--no-refresh']);
    expect(colour.stdout).toContain('\u001b[32m+\u001b[39m server.node-1 (local)');
    expect(colour.stdout).toContain('\u001b[1mPlan: 2 to add, 0 to change, 0 to destroy.\u001b[22m');
    const json = await prov({ ...ws, env: { ...ws.env, NO_COLOR: '', FORCE_COLOR: '1' } }, [
      'plan',
      '--no-refresh',
      '--json',
    ]);
    expect(json.stdout).not.toContain('\u001b[');
    expect(JSON.parse(json.stdout).summary.add).toBe(2);
  });

  it('mutating commands ask on a TTY and need -y/--auto-approve without one (exit 2, nothing changed)', async () => {
    const ws = workspace(config(), hosts);
    const before = hosts.map((h) => inventory(h.root));
    for (const args of [
      ['apply'],
      ['service', 'install', 'node_exporter', '--servers', 'node-1'],
      ['state', 'rm', 'server.node-1'],
      ['state', 'mv', 'server.node-1', 'server.node-9'],
    ]) {
      const r = await prov(ws, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('--auto-approve');
      const j = await prov(ws, [...args, '--json']);
      expect(j.code).toBe(2);
      expect(JSON.parse(j.stdout).error.hint).toContain('--auto-approve');
    }
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
    // Nothing to uninstall: no changes, so nothing to approve.
    const none = await prov(ws, ['service', 'uninstall', 'node_exporter', '--servers', 'node-1']);
    expect(none.code, none.stderr).toBe(0);
    const resume = await prov(ws, ['resume', 'no-such-run', '-y', '--json']);
    expect(JSON.parse(resume.stdout).error).toMatchObject({ exitCode: 4, hint: 'see prov history' });
  });

  it('an unknown host key fails with the hint, also in --json; --accept-new-host-keys records it and goes on', async () => {
    const ws = workspace(config(), hosts);
    writeFileSync(join(ws.cwd, '.prov', 'known_hosts'), '');
    const r = await prov(ws, ['apply', '-y', '--json']);
    expect(r.code).toBe(5);
    const err = JSON.parse(r.stdout).error;
    expect(err.message).toContain('unknown host key');
    expect(err.hint).toContain('--accept-new-host-keys');
    expect(err.hint).toContain('see prov history');
    const ok = await prov(ws, ['apply', '-y', '--accept-new-host-keys']);
    expect(ok.code, ok.stderr).toBe(0);
    const recorded = readFileSync(join(ws.cwd, '.prov', 'known_hosts'), 'utf8');
    for (const line of knownHosts(hosts).trim().split('\n')) {
      const [where] = line.split(' ');
      expect(recorded).toContain(where);
    }
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
  });

  it('--json-stream: one JSON object per line, the plan, each task event, then the result', async () => {
    const ws = workspace(config(), hosts);
    const r = await prov(ws, ['apply', '-y', '--json-stream']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ type: 'plan', operation: 'apply', summary: { add: 2 } });
    for (const h of hosts) {
      const types = events.filter((e) => e.address === `server.${h.name}`).map((e) => e.type);
      expect(types).toEqual(['start', 'done']);
    }
    expect(events.at(-1)).toMatchObject({ type: 'result', status: 'succeeded', added: 2 });
    expect(events.every((e) => typeof e.at === 'string')).toBe(true);
    const d = await prov(ws, ['destroy', '-y', '--json-stream']);
    expect(d.code, d.stderr).toBe(0);
    const last = JSON.parse(d.stdout.trim().split('\n').at(-1) as string);
    expect(last).toMatchObject({ type: 'result', status: 'succeeded', destroyed: 2 });
    const both = await prov(ws, ['apply', '-y', '--json-stream', '--json']);
    expect(both.code).toBe(2);
  });
});
