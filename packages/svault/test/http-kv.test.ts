import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer;
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  root = (await initAndUnseal(base)).root;
});
afterAll(async () => {
  await srv.close();
});

const put = (path: string, body: unknown, token = root) => call(base, 'POST', `/v1/secret/${path}`, { token, body });
const get = (path: string, token = root) => call(base, 'GET', `/v1/secret/${path}`, { token });

describe('KV v2 over HTTP', () => {
  it("writes versions and reads the latest or a given one, in Vault's envelope", async () => {
    const w1 = await put('data/myapp', { data: { user: 'admin', password: 's3cr3t' } });
    expect(w1.status).toBe(200);
    expect(w1.body).toMatchObject({
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'kv',
      data: { version: 1, destroyed: false, deletion_time: '', custom_metadata: null },
    });
    expect(w1.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    await put('data/myapp', { data: { user: 'admin', password: 'n3w' } });
    const latest = await get('data/myapp');
    expect(latest.body.data).toMatchObject({ data: { password: 'n3w' }, metadata: { version: 2 } });
    const v1 = await get('data/myapp?version=1');
    expect(v1.body.data.data.password).toBe('s3cr3t');
    const missing = await get('data/myapp?version=7');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
    expect((await get('data/nothing-here')).status).toBe(404);
  });

  it("check-and-set: 0 creates only, a stale version is refused with Vault's texts", async () => {
    expect((await put('data/cas', { options: { cas: 0 }, data: { a: 1 } })).status).toBe(200);
    const again = await put('data/cas', { options: { cas: 0 }, data: { a: 2 } });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: ['check-and-set parameter did not match the current version'] });
    expect((await put('data/cas', { options: { cas: 1 }, data: { a: 2 } })).body.data.version).toBe(2);
    expect((await put('data/cas', { options: { cas: 1 }, data: { a: 3 } })).status).toBe(400);
    // cas_required on the key's metadata: a write without cas is refused.
    expect((await put('metadata/cas', { cas_required: true })).status).toBe(204);
    const nocas = await put('data/cas', { data: { a: 4 } });
    expect(nocas.status).toBe(400);
    expect(nocas.body).toEqual({ errors: ['check-and-set parameter required for this call'] });
    expect((await get('data/cas')).body.data.data).toEqual({ a: 2 });
  });

  it('keeps max_versions (default 10), pruning the oldest', async () => {
    for (let i = 1; i <= 12; i++) await put('data/pruned', { data: { i } });
    const meta = await get('metadata/pruned');
    expect(meta.body.data).toMatchObject({ current_version: 12, oldest_version: 3, max_versions: 0 });
    expect(
      Object.keys(meta.body.data.versions)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect((await get('data/pruned?version=2')).status).toBe(404);
    expect((await get('data/pruned?version=3')).body.data.data).toEqual({ i: 3 });
    await put('metadata/pruned', { max_versions: 2 });
    await put('data/pruned', { data: { i: 13 } });
    const after = await get('metadata/pruned');
    expect(Object.keys(after.body.data.versions)).toEqual(['12', '13']);
    expect(after.body.data.oldest_version).toBe(12);
  });

  it('soft delete, undelete and destroy', async () => {
    await put('data/del', { data: { v: 1 } });
    await put('data/del', { data: { v: 2 } });
    expect((await call(base, 'DELETE', '/v1/secret/data/del', { token: root })).status).toBe(204);
    const gone = await get('data/del');
    expect(gone.status).toBe(404);
    expect(gone.body.data.data).toBeNull();
    expect(gone.body.data.metadata.deletion_time).not.toBe('');
    expect((await get('data/del?version=1')).body.data.data).toEqual({ v: 1 });
    expect((await put('undelete/del', { versions: [2] })).status).toBe(204);
    expect((await get('data/del')).body.data.data).toEqual({ v: 2 });
    expect((await put('delete/del', { versions: [1, 2] })).status).toBe(204);
    expect((await get('data/del?version=1')).status).toBe(404);
    expect((await put('destroy/del', { versions: [1] })).status).toBe(204);
    await put('undelete/del', { versions: [1, 2] });
    const destroyed = await get('data/del?version=1');
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata.destroyed).toBe(true);
    expect((await get('data/del?version=2')).body.data.data).toEqual({ v: 2 });
    expect((await put('delete/del', {})).body).toEqual({ errors: ['no version number provided'] });
    // Deleting the metadata removes every version.
    expect((await call(base, 'DELETE', '/v1/secret/metadata/del', { token: root })).status).toBe(204);
    expect((await get('metadata/del')).status).toBe(404);
    expect((await get('data/del?version=2')).status).toBe(404);
  });

  it('custom metadata, patch, and listing with ?list=true and the LIST verb', async () => {
    expect((await put('metadata/team/a', { custom_metadata: { owner: 'platform' } })).status).toBe(204);
    await put('data/team/a', { data: { x: 1, y: { z: 1 } } });
    await put('data/team/b/c', { data: { x: 2 } });
    const a = await get('data/team/a');
    expect(a.body.data.metadata.custom_metadata).toEqual({ owner: 'platform' });
    const patched = await call(base, 'PATCH', '/v1/secret/data/team/a', {
      token: root,
      body: { data: { y: { w: 2 }, x: null } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(200);
    expect((await get('data/team/a')).body.data.data).toEqual({ y: { z: 1, w: 2 } });

    const list = await get('metadata/team?list=true');
    expect(list.body.data).toEqual({ keys: ['a', 'b/'] });
    const verb = await call(base, 'LIST', '/v1/secret/metadata/team/', { token: root });
    expect(verb.status).toBe(200);
    expect(verb.body.data).toEqual({ keys: ['a', 'b/'] });
    const empty = await call(base, 'LIST', '/v1/secret/metadata/nobody', { token: root });
    expect(empty.status).toBe(404);
    expect(empty.body).toEqual({ errors: [] });
    expect((await get('metadata/team?list=maybe')).status).toBe(400);
    const top = await get('metadata/?list=true');
    expect(top.body.data.keys).toContain('team/');
  });

  it('LIST works over a keep-alive connection between other requests with bodies', async () => {
    const { Agent, request } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const u = new URL(base);
    const one = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            agent,
            host: u.hostname,
            port: u.port,
            method,
            path,
            headers: { 'X-Vault-Token': root, ...(payload ? { 'Content-Length': Buffer.byteLength(payload) } : {}) },
          },
          (res) => {
            let t = '';
            res.on('data', (c) => {
              t += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: t }));
          },
        );
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    for (let i = 0; i < 3; i++) {
      expect(
        (await one('POST', `/v1/secret/data/ka/k${i}`, { data: { LIST: 'LIST /v1/x HTTP/1.1\r\n\r\n' } })).status,
      ).toBe(200);
      const l = await one('LIST', '/v1/secret/metadata/ka');
      expect(l.status).toBe(200);
      expect(JSON.parse(l.body).data.keys).toHaveLength(i + 1);
    }
    agent.destroy();
  });

  it('mounts: lists secret/, enables a KV v1 and a KV v2 mount, disables one and its data goes', async () => {
    const mounts = await call(base, 'GET', '/v1/sys/mounts', { token: root });
    expect(mounts.body.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(mounts.body['secret/']).toMatchObject({ type: 'kv' });
    expect(mounts.body.data['sys/']).toMatchObject({ type: 'system' });
    expect(
      (await call(base, 'POST', '/v1/sys/mounts/kv', { token: root, body: { type: 'kv', options: { version: '1' } } }))
        .status,
    ).toBe(204);
    expect((await call(base, 'POST', '/v1/sys/mounts/team/v2', { token: root, body: { type: 'kv-v2' } })).status).toBe(
      204,
    );
    const clash = await call(base, 'POST', '/v1/sys/mounts/secret/sub', { token: root, body: { type: 'kv' } });
    expect(clash.status).toBe(400);
    expect((await call(base, 'POST', '/v1/kv/app', { token: root, body: { k: 'v' } })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/kv/app', { token: root })).body.data).toEqual({ k: 'v' });
    expect((await call(base, 'GET', '/v1/kv/?list=true', { token: root })).body.data.keys).toEqual(['app']);
    expect((await call(base, 'POST', '/v1/team/v2/data/x', { token: root, body: { data: { a: 1 } } })).status).toBe(
      200,
    );
    expect((await call(base, 'DELETE', '/v1/sys/mounts/kv', { token: root })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/kv/app', { token: root })).status).toBe(404);
    expect((await call(base, 'POST', '/v1/sys/mounts/kv', { token: root, body: { type: 'kv' } })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/kv/app', { token: root })).status).toBe(404);
  });
});
