import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let servers: RunningServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});
async function server(opts: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer(opts);
  servers.push(s);
  return s;
}

describe('init, unseal, seal over HTTP', () => {
  it('starts uninitialized, inits once, and stays sealed until unsealed', async () => {
    const { address } = await server();
    expect((await call(address, 'GET', '/v1/sys/init')).body).toEqual({ initialized: false });
    expect((await call(address, 'GET', '/v1/sys/health')).status).toBe(501);
    const init = await call(address, 'PUT', '/v1/sys/init', { body: { secret_shares: 5, secret_threshold: 3 } });
    expect(init.status).toBe(200);
    expect(init.body.keys).toHaveLength(5);
    for (const k of init.body.keys) expect(k).toMatch(/^[0-9a-f]{66}$/);
    expect(init.body.keys_base64).toHaveLength(5);
    expect(init.body.root_token).toMatch(/^hvs\.[A-Za-z0-9]{32}$/);

    const again = await call(address, 'POST', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ errors: ['Vault is already initialized'] });

    const st = await call(address, 'GET', '/v1/sys/seal-status');
    expect(st.body).toMatchObject({ type: 'shamir', initialized: true, sealed: true, t: 3, n: 5, progress: 0 });
    expect((await call(address, 'GET', '/v1/sys/health')).status).toBe(503);
    expect((await call(address, 'GET', '/v1/sys/health?sealedcode=299')).status).toBe(299);
    const kv = await call(address, 'GET', '/v1/secret/data/x', { token: init.body.root_token });
    expect(kv.status).toBe(503);
    expect(kv.body).toEqual({ errors: ['Vault is sealed'] });
  });

  it('unseals with any K of N keys (hex or base64), never with K-1, and seals again', async () => {
    const { address } = await server();
    const init = await call(address, 'PUT', '/v1/sys/init', { body: { secret_shares: 5, secret_threshold: 3 } });
    const hex: string[] = init.body.keys;
    const b64: string[] = init.body.keys_base64;
    const root: string = init.body.root_token;
    const subsets = [
      [0, 1, 2],
      [4, 2, 0],
      [1, 3, 4],
    ];
    for (const [i, subset] of subsets.entries()) {
      for (const [j, idx] of subset.entries()) {
        const key = (j % 2 === 0 ? hex : b64)[idx] as string;
        const r = await call(address, 'PUT', '/v1/sys/unseal', { body: { key } });
        expect(r.status).toBe(200);
        if (j < 2) expect(r.body).toMatchObject({ sealed: true, progress: j + 1, t: 3 });
        else expect(r.body).toMatchObject({ sealed: false, progress: 0 });
      }
      expect((await call(address, 'GET', '/v1/sys/health')).status).toBe(200);
      const w = await call(address, 'POST', `/v1/secret/data/cycle${i}`, { token: root, body: { data: { i } } });
      expect(w.status).toBe(200);
      const s = await call(address, 'PUT', '/v1/sys/seal', { token: root });
      expect(s.status).toBe(204);
      expect((await call(address, 'GET', '/v1/sys/seal-status')).body.sealed).toBe(true);
    }
    // K-1 keys leave it sealed; reset forgets them.
    await call(address, 'PUT', '/v1/sys/unseal', { body: { key: hex[3] } });
    const two = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: hex[4] } });
    expect(two.body).toMatchObject({ sealed: true, progress: 2 });
    const reset = await call(address, 'PUT', '/v1/sys/unseal', { body: { reset: true } });
    expect(reset.body).toMatchObject({ sealed: true, progress: 0 });
    // Everything written in the cycles is still there.
    for (const k of hex.slice(0, 3)) await call(address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    for (const i of [0, 1, 2]) {
      const r = await call(address, 'GET', `/v1/secret/data/cycle${i}`, { token: root });
      expect(r.body.data.data).toEqual({ i });
    }
  });

  it('refuses a malformed or duplicate key without counting it, and a wrong key set with "invalid unseal keys"', async () => {
    const { address } = await server();
    const init = await call(address, 'PUT', '/v1/sys/init', { body: { secret_shares: 5, secret_threshold: 3 } });
    const keys: string[] = init.body.keys;
    const bad = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: 'not a key' } });
    expect(bad.status).toBe(400);
    expect((await call(address, 'GET', '/v1/sys/seal-status')).body.progress).toBe(0);
    await call(address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
    const dup = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
    expect(dup.status).toBe(400);
    expect(dup.body.errors[0]).toMatch(/duplicate unseal key/);
    expect((await call(address, 'GET', '/v1/sys/seal-status')).body.progress).toBe(1);
    const short = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: (keys[1] as string).slice(2) } });
    expect(short.status).toBe(400);
    // A damaged share (right length, right index, wrong bytes) is only detectable once combined.
    const k1 = keys[1] as string;
    const damaged = (k1[0] === 'a' ? 'b' : 'a') + k1.slice(1);
    await call(address, 'PUT', '/v1/sys/unseal', { body: { key: damaged } });
    const third = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: keys[2] } });
    expect(third.status).toBe(400);
    expect(third.body.errors[0]).toMatch(/^invalid unseal keys/);
    const st = (await call(address, 'GET', '/v1/sys/seal-status')).body;
    expect(st).toMatchObject({ sealed: true, progress: 0 });
    for (const k of keys.slice(2, 5)) await call(address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    expect((await call(address, 'GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
  });

  it('handles 1-of-1 as Vault does: the single key is the 256-bit root key', async () => {
    const { address } = await server();
    const init = await call(address, 'PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    expect(init.body.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    const r = await call(address, 'PUT', '/v1/sys/unseal', { body: { key: init.body.keys_base64[0] } });
    expect(r.body.sealed).toBe(false);
  });

  it('validates the seal configuration', async () => {
    const { address } = await server();
    for (const [n, t] of [
      [3, 1],
      [2, 3],
      [256, 2],
      [0, 0],
    ]) {
      const r = await call(address, 'PUT', '/v1/sys/init', { body: { secret_shares: n, secret_threshold: t } });
      expect(r.status, `${n}/${t}`).toBe(400);
    }
    const wrongType = await call(address, 'PUT', '/v1/sys/init', {
      body: { secret_shares: 'five', secret_threshold: 3 },
    });
    expect(wrongType.status).toBe(400);
    expect((await call(address, 'GET', '/v1/sys/init')).body.initialized).toBe(false);
  });

  it('only a root token may seal; sealing needs a token at all', async () => {
    const { address } = await server();
    const { root } = await initAndUnseal(address);
    expect((await call(address, 'PUT', '/v1/sys/seal')).status).toBe(403);
    const child = await call(address, 'POST', '/v1/auth/token/create', { token: root, body: { policies: ['app'] } });
    const r = await call(address, 'PUT', '/v1/sys/seal', { token: child.body.auth.client_token });
    expect(r.status).toBe(403);
    expect((await call(address, 'GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
  });

  it('keeps everything across a restart (after unsealing again)', async () => {
    const first = await startTestServer();
    const { keys, root } = await initAndUnseal(first.address);
    await call(first.address, 'POST', '/v1/secret/data/app/db', { token: root, body: { data: { password: 'p1' } } });
    await call(first.address, 'POST', '/v1/secret/data/app/db', { token: root, body: { data: { password: 'p2' } } });
    const child = await call(first.address, 'POST', '/v1/auth/token/create', { token: root, body: { ttl: '1h' } });
    await call(first.address, 'POST', '/v1/sys/mounts/kv1', { token: root, body: { type: 'kv' } });
    await call(first.address, 'POST', '/v1/kv1/plain', { token: root, body: { v: 'one' } });
    await first.close();

    const second = await server({ dir: first.dir });
    expect((await call(second.address, 'GET', '/v1/sys/seal-status')).body).toMatchObject({
      initialized: true,
      sealed: true,
    });
    for (const k of keys.slice(1, 4)) await call(second.address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    const v1 = await call(second.address, 'GET', '/v1/secret/data/app/db?version=1', { token: root });
    expect(v1.body.data.data).toEqual({ password: 'p1' });
    const latest = await call(second.address, 'GET', '/v1/secret/data/app/db', { token: root });
    expect(latest.body.data).toMatchObject({ data: { password: 'p2' }, metadata: { version: 2 } });
    const look = await call(second.address, 'GET', '/v1/auth/token/lookup-self', {
      token: child.body.auth.client_token,
    });
    expect(look.status).toBe(200);
    expect((await call(second.address, 'GET', '/v1/kv1/plain', { token: root })).body.data).toEqual({ v: 'one' });
  });
});
