import { readdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandbox } from '../../../test/run-bin.js';
import { SECRET_KV_TOML } from './helpers.js';
import { type ServerProcess, spawnServer } from './proc.js';

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
afterAll(() => agent.destroy());

interface Got {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field
  body: any;
}

function call(base: string, method: string, path: string, token?: string, body?: unknown): Promise<Got> {
  const url = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: {
          ...(token ? { 'X-Vault-Token': token } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Runs `fn` over `items` with `n` in flight at once. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

describe('durability', () => {
  it('kill -9 during 10,000 KV writes: every acknowledged write survives, storage is not corrupt', {
    timeout: 120_000,
  }, async () => {
    const { cwd, env } = sandbox();
    const storage = join(cwd, 'data');
    const cfg = join(cwd, 'svault.toml');
    writeFileSync(
      cfg,
      `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${storage}"\n${SECRET_KV_TOML}`,
    );
    let srv: ServerProcess = await spawnServer(['--config', cfg], { cwd, env });
    const init = await call(srv.address, 'PUT', '/v1/sys/init', undefined, { secret_shares: 3, secret_threshold: 2 });
    const { keys, root_token: root } = init.body as { keys: string[]; root_token: string };
    for (const k of keys.slice(0, 2)) await call(srv.address, 'PUT', '/v1/sys/unseal', undefined, { key: k });

    // 10,000 writes over 1,000 keys (10 versions each: max_versions never prunes an acknowledged one).
    const TOTAL = 10_000;
    const killAt = 1000 + Math.floor(Math.random() * 1500);
    const acked: { key: string; version: number; value: string }[] = [];
    const sent = new Map<string, Set<string>>();
    let killed = false;
    let failures = 0;
    const base = srv.address;
    await pool(
      Array.from({ length: TOTAL }, (_, i) => i),
      16,
      async (i) => {
        if (killed) return;
        const key = `k${i % 1000}`;
        const value = `v${i}-${Math.random().toString(36).slice(2)}`;
        if (!sent.has(key)) sent.set(key, new Set());
        sent.get(key)?.add(value);
        try {
          const r = await call(base, 'POST', `/v1/secret/data/${key}`, root, { data: { value, i } });
          if (r.status === 200) acked.push({ key, version: r.body.data.version, value });
          else failures++;
        } catch {
          failures++; // the connection died with the server: not acknowledged
        }
        if (acked.length >= killAt && !killed) {
          killed = true;
          srv.proc.kill('SIGKILL');
        }
      },
    );
    await srv.stop('SIGKILL');
    expect(killed).toBe(true);
    expect(acked.length).toBeGreaterThanOrEqual(killAt);
    expect(acked.length).toBeLessThan(TOTAL);

    srv = await spawnServer(['--config', cfg], { cwd, env });
    try {
      for (const k of keys.slice(1, 3)) await call(srv.address, 'PUT', '/v1/sys/unseal', undefined, { key: k });
      const lost: string[] = [];
      await pool(acked, 16, async (w) => {
        const r = await call(srv.address, 'GET', `/v1/secret/data/${w.key}?version=${w.version}`, root);
        if (r.status !== 200 || r.body.data.data.value !== w.value) lost.push(`${w.key}@${w.version}: ${r.status}`);
      });
      expect(lost).toEqual([]);

      // Every key reads back whole (in-flight writes may or may not be there, never half there).
      const list = await call(srv.address, 'GET', '/v1/secret/metadata/?list=true', root);
      expect(list.status).toBe(200);
      const listed = list.body.data.keys as string[];
      expect(listed.length).toBe(new Set(acked.map((w) => w.key)).size);
      const bad: string[] = [];
      await pool(listed, 16, async (key) => {
        const meta = await call(srv.address, 'GET', `/v1/secret/metadata/${key}`, root);
        const latest = await call(srv.address, 'GET', `/v1/secret/data/${key}`, root);
        if (meta.status !== 200 || latest.status !== 200) bad.push(`${key}: ${meta.status}/${latest.status}`);
        else if (latest.body.data.metadata.version !== meta.body.data.current_version) bad.push(`${key}: version`);
        else if (!sent.get(key)?.has(latest.body.data.data.value)) bad.push(`${key}: a value never sent`);
        const maxAcked = Math.max(...acked.filter((w) => w.key === key).map((w) => w.version), 0);
        if (meta.body.data.current_version < maxAcked) bad.push(`${key}: went back before an acknowledged write`);
      });
      expect(bad).toEqual([]);
      // A new write after the crash works, on a key whose write was cut off or not.
      expect((await call(srv.address, 'POST', '/v1/secret/data/k1', root, { data: { after: 'crash' } })).status).toBe(
        200,
      );
      console.log(
        `durability: killed after ${acked.length} acknowledged writes (${failures} cut off); ` +
          `all readable after restart; ${readdirSync(storage).length} top-level storage entries`,
      );
    } finally {
      await srv.stop();
    }
  });
});
