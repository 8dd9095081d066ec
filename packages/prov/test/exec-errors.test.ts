import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

describe.skipIf(skipUnless('sshd'))('prov exec and bad input: per-host errors, contracts before providers', () => {
  let hosts: TestHost[];
  let closedPort: number;
  let trap: Server;
  let trapped = 0;
  let trapPort: number;
  beforeAll(async () => {
    hosts = await startHosts(2, 'web');
    // A port nobody listens on (unreachable host), and a listener that counts connections (must stay 0).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    trap = createServer((s) => {
      trapped++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    trapPort = (trap.address() as { port: number }).port;
  });
  afterAll(async () => {
    trap?.close();
    await stopHosts(hosts);
  });

  const config = (extra = '') => `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = {
    ${hosts.map((h) => hostEntry(h)).join(',\n    ')},
    down = { address = "127.0.0.1", port = ${closedPort}, user = "stratumtest" },
    wrongkey = { address = "127.0.0.1", port = ${hosts[1]!.sshd.port}, user = "stratumtest", key_path = "${hosts[0]!.sshd.privateKeyPath}" },
  },
  ${extra}
} | Infrastructure
`;

  it('runs a command on every host with host-prefixed output and per-step exit codes', async () => {
    const ws = workspace(config(), hosts);
    const r = await prov(ws, ['exec', '--hosts', 'web-1,web-2', '--', 'echo', 'hello from $(hostname) && id -un']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^web-1 \| hello from \S+$/m);
    expect(r.stdout).toMatch(/^web-2 \| stratumtest$/m);
    writeFileSync(join(ws.cwd, 'steps.sh'), 'echo one\n# a comment\ntrue\necho two >&2\nexit 3\necho never\n');
    const s = await prov(ws, ['exec', '--hosts', 'web-1,web-2', '--script', 'steps.sh', '--json']);
    expect(s.code).toBe(1);
    const doc = JSON.parse(s.stdout).error.details;
    for (const h of doc.hosts) {
      expect(h.steps.map((x: { exit_code: number }) => x.exit_code)).toEqual([0, 0, 0, 3]);
      expect(h.steps[2].stderr).toBe('two\n');
      expect(h.steps[0].stdout).toBe('one\n');
    }
  }, 90_000);

  it('gives a clear error per host: unreachable, wrong key, command exiting 1; the good host still runs', async () => {
    const ws = workspace(config(), hosts);
    const r = await prov(ws, [
      'exec',
      '--hosts',
      'web-1,down,wrongkey,web-2',
      '--json',
      '--',
      'test',
      '-d',
      '/nonexistent-dir',
    ]);
    expect(r.code).toBe(1);
    const byHost = Object.fromEntries(
      JSON.parse(r.stdout).error.details.hosts.map((h: { host: string }) => [h.host, h]),
    );
    expect(byHost.down.error).toMatch(/^down: connection refused by 127\.0\.0\.1:\d+ \(is sshd running\?\)$/);
    expect(byHost.down.kind).toBe('refused');
    expect(byHost.wrongkey.error).toMatch(
      /^wrongkey: authentication failed for stratumtest@127\.0\.0\.1:\d+ \(wrong key/,
    );
    expect(byHost['web-1'].steps[0].exit_code).toBe(1);
    const ok = await prov(ws, ['exec', '--hosts', 'web-1,down', '--', 'true']);
    expect(ok.code).toBe(7);
    expect(ok.stdout).toMatch(/web-1\s+ok/);
    expect(ok.stdout).toMatch(/down\s+ERROR\s+-\s+0\/1\s+\d+\s+down: connection refused/);
  }, 90_000);

  it('refuses an unknown host key (strict) and accepts it on first use only when asked', async () => {
    const ws = workspace(config(), hosts);
    writeFileSync(join(ws.cwd, '.prov', 'known_hosts'), '');
    const r = await prov(ws, ['exec', '--hosts', 'web-1', '--', 'true']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/web-1: unknown host key SHA256:\S+ for 127\.0\.0\.1:\d+/);
    const ok = await prov(ws, ['exec', '--hosts', 'web-1', '--accept-new-host-keys', '--', 'true']);
    expect(ok.code, ok.stderr).toBe(0);
    const pinned = await prov(ws, ['exec', '--hosts', 'web-1', '--', 'true']);
    expect(pinned.code).toBe(0);
    // A different key for a pinned host is refused.
    writeFileSync(
      join(ws.cwd, '.prov', 'known_hosts'),
      `[127.0.0.1]:${hosts[0]!.sshd.port} ${hosts[1]!.sshd.hostKey}\n`,
    );
    const mismatch = await prov(ws, ['exec', '--hosts', 'web-1', '--', 'true']);
    expect(mismatch.code).toBe(5);
    expect(mismatch.stderr).toContain('host key mismatch');
  }, 90_000);

  it('a config failing a contract never reaches a provider (exit 3, no connection)', async () => {
    const bad = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = { trap = { address = "127.0.0.1", port = ${trapPort}, user = "x" } },
  servers = [{ name = "trap", provider = 'local, spec = { disk_gb = 10, os = { family = 'debian, version = "12" } } }],
} | Infrastructure
`;
    const ws = workspace(bad, hosts);
    for (const args of [['plan'], ['apply', '-y']]) {
      const r = await prov(ws, args);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('must be at least 20, got 10');
      expect(r.stderr).toContain('servers[0].spec.disk_gb');
    }
    expect(trapped).toBe(0);
    // The same config with a valid disk does reach the host (the trap sees the connection).
    writeFileSync(join(ws.cwd, 'prov.ncl'), bad.replace('disk_gb = 10', 'disk_gb = 20'));
    const r = await prov(ws, ['apply', '-y']);
    expect(r.code).not.toBe(0);
    expect(trapped).toBeGreaterThan(0);
  }, 90_000);

  it('an unreachable host during apply: a clear per-host error, the other host rolled back, state empty', async () => {
    const ws = workspace(
      config(`servers = [
        { name = "web-1", provider = 'local, spec.os = { family = 'debian, version = "12" } },
        { name = "down", provider = 'local, spec.os = { family = 'debian, version = "12" } },
      ],`),
      hosts,
    );
    const r = await prov(ws, ['apply', '-y', '--json']);
    // Every failure was a host that could not be reached: exit 7 (unavailable).
    expect(r.code).toBe(7);
    const d = JSON.parse(r.stdout).error.details;
    expect(d.failed[0]).toMatchObject({ address: 'server.down', code: 'unavailable' });
    expect(d.failed[0].error).toMatch(/down: connection refused by 127\.0\.0\.1/);
    expect(d.status).toBe('rolled_back');
    expect(JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout).resources).toEqual([]);
  }, 90_000);
});
