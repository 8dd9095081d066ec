import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';

const mountsOf = async (base: string, root: string) => {
  const r = await call(base, 'GET', '/v1/sys/mounts', { token: root });
  expect(r.status).toBe(200);
  return r.body.data as Record<
    string,
    { type: string; options: Record<string, string> | null; config: Record<string, number> }
  >;
};

describe('[engines]: what init mounts', () => {
  it('mounts nothing without the table, as Vault outside dev mode: a bootstrap script enables secret/', async () => {
    const srv = await startTestServer({ engines: {} });
    try {
      const { root } = await initAndUnseal(srv.address);
      expect(Object.keys(await mountsOf(srv.address, root)).sort()).toEqual(['cubbyhole/', 'sys/']);
      const enable = await call(srv.address, 'POST', '/v1/sys/mounts/secret', {
        token: root,
        body: { type: 'kv', options: { version: '2' } },
      });
      expect(enable.status, enable.text).toBe(204);
    } finally {
      await srv.close();
    }
  });

  it("mounts exactly what the table lists, in the seed's shape", async () => {
    const srv = await startTestServer({
      engines: {
        kv: { path: 'secret', version: 2, description: '' },
        transit: { path: 'transit', description: '' },
        pki: { path: 'pki', max_lease_ttl: '87600h', description: 'the CA' },
        database: { path: 'database', description: '' },
        legacy: { type: 'kv', path: 'legacy/', version: 1, description: '' },
      },
    });
    try {
      const { root } = await initAndUnseal(srv.address);
      const m = await mountsOf(srv.address, root);
      expect(Object.keys(m).sort()).toEqual([
        'cubbyhole/',
        'database/',
        'legacy/',
        'pki/',
        'secret/',
        'sys/',
        'transit/',
      ]);
      expect(m['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
      expect(m['legacy/']).toMatchObject({ type: 'kv', options: { version: '1' } });
      expect(m['pki/']).toMatchObject({ type: 'pki', description: 'the CA', config: { max_lease_ttl: 87600 * 3600 } });
      expect(m['transit/']?.type).toBe('transit');
      // They work: a KV v2 write and a transit key.
      const w = await call(srv.address, 'POST', '/v1/secret/data/a', { token: root, body: { data: { k: 1 } } });
      expect(w.status).toBe(200);
      expect((await call(srv.address, 'POST', '/v1/transit/keys/k', { token: root, body: {} })).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('--dev mounts KV v2 at secret/ as Vault dev mode does', async () => {
    const srv = await startTestServer({ dev: true, engines: {} });
    try {
      const root = srv.dev?.rootToken as string;
      const m = await mountsOf(srv.address, root);
      expect(m['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    } finally {
      await srv.close();
    }
  });

  it('refuses a bad table at start, before anything is stored', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ vaultx: { path: 'x', description: '' } }, /plugin not found in the catalog: vaultx/],
      [
        { kv: { path: 'secret', description: '' }, other: { type: 'kv', path: 'secret/team', description: '' } },
        /overlaps/,
      ],
      [{ pki: { path: 'pki', max_lease_ttl: 'ten years', description: '' } }, /invalid max_lease_ttl "ten years"/],
      [{ transit: { path: 'transit', version: 2, description: '' } }, /version applies to kv only/],
      [{ kv: { path: 'sys', description: '' } }, /reserved path "sys\/"/],
      [{ kv: { path: '../etc', description: '' } }, /invalid mount path/],
    ];
    for (const [engines, message] of bad) {
      const dir = tempDir();
      await expect(startTestServer({ dir, engines: engines as never })).rejects.toThrow(message);
      expect(readdirSync(dir)).toEqual([]);
    }
    // The real CLI: exit 3 with the reason on one line.
    const { cwd, env } = sandbox();
    const cfg = join(cwd, 'svault.toml');
    writeFileSync(cfg, `[server]\naddress = "127.0.0.1:0"\n[engines]\nkv = { path = "secret", version = 3 }\n`);
    const r = await runBin('svault', ['server', '--config', cfg], { cwd, env, timeoutMs: 30_000 });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/engines/);
  });
});
