import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root } = await initAndUnseal(base));
  await api('POST', 'secret/data/db', { data: { password: 'p4ss' } });
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown, token = root, wrapTtl?: string) =>
  call(base, method, `/v1/${path}`, {
    token,
    ...(body === undefined ? {} : { body }),
    ...(wrapTtl ? { headers: { 'X-Vault-Wrap-TTL': wrapTtl } } : {}),
  });
const NOT_VALID = { errors: ['wrapping token is not valid or does not exist'] };
const child = async (policies: string[] = []) =>
  (await api('POST', 'auth/token/create', { policies })).body.auth.client_token as string;

describe('response wrapping', () => {
  it('wraps a secret: the client gets a wrapping token, the secret comes out once', async () => {
    const r = await api('GET', 'secret/data/db', undefined, root, '5m');
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.text).not.toContain('p4ss');
    const info = r.body.wrap_info;
    expect(info).toMatchObject({ ttl: 300, creation_path: 'secret/data/db', wrapped_accessor: '' });
    expect(info.token).toMatch(/^hvs\./);
    expect(Date.parse(info.creation_time)).not.toBeNaN();

    // Lookup needs no token of one's own.
    const look = await call(base, 'POST', '/v1/sys/wrapping/lookup', { body: { token: info.token } });
    expect(look.status).toBe(200);
    expect(look.body.data).toEqual({
      creation_path: 'secret/data/db',
      creation_time: info.creation_time,
      creation_ttl: 300,
    });

    // The wrapping token may unwrap and nothing else.
    expect((await api('GET', 'secret/data/db', undefined, info.token)).status).toBe(403);
    const un = await api('POST', 'sys/wrapping/unwrap', {}, info.token);
    expect(un.status).toBe(200);
    expect(un.body.data.data).toEqual({ password: 'p4ss' });
    expect(un.body.wrap_info).toBeNull();

    const again = await api('POST', 'sys/wrapping/unwrap', {}, info.token);
    expect(again.status).toBe(400);
    expect(again.body).toEqual(NOT_VALID);
    expect((await api('POST', 'sys/wrapping/unwrap', { token: info.token })).body).toEqual(NOT_VALID);
    expect((await call(base, 'POST', '/v1/sys/wrapping/lookup', { body: { token: info.token } })).status).toBe(400);
  });

  it('wraps arbitrary data with sys/wrapping/wrap; another token unwraps it by the body', async () => {
    const w = await api('POST', 'sys/wrapping/wrap', { api_key: 'k-123', nested: { a: 1 } }, root, '2m');
    expect(w.status).toBe(200);
    const token = w.body.wrap_info.token as string;
    expect(w.body.wrap_info.creation_path).toBe('sys/wrapping/wrap');
    // Someone's wrapping token in the body needs a token of one's own.
    expect((await call(base, 'POST', '/v1/sys/wrapping/unwrap', { body: { token } })).status).toBe(403);
    const other = await child(['nothing']);
    const un = await api('POST', 'sys/wrapping/unwrap', { token }, other);
    expect(un.status).toBe(200);
    expect(un.body.data).toEqual({ api_key: 'k-123', nested: { a: 1 } });
    // Without a TTL there is nothing to wrap into.
    const noTtl = await api('POST', 'sys/wrapping/wrap', { a: 1 });
    expect(noTtl.status).toBe(400);
    expect(noTtl.body.errors[0]).toMatch(/X-Vault-Wrap-TTL/);
    expect((await api('POST', 'sys/wrapping/unwrap', { token: 'hvs.not-a-token' })).body).toEqual(NOT_VALID);
    expect((await api('POST', 'sys/wrapping/unwrap', { token: other })).body).toEqual(NOT_VALID); // not a wrapping token
  });

  it('rewraps into a new token with the same TTL; the old one stops working', async () => {
    const w = await api('GET', 'secret/data/db', undefined, root, '10m');
    const old = w.body.wrap_info.token as string;
    const re = await api('POST', 'sys/wrapping/rewrap', { token: old });
    expect(re.status).toBe(200);
    expect(re.body.wrap_info).toMatchObject({ ttl: 600, creation_path: 'secret/data/db' });
    expect(re.body.wrap_info.token).not.toBe(old);
    expect((await api('POST', 'sys/wrapping/unwrap', { token: old })).status).toBe(400);
    const un = await api('POST', 'sys/wrapping/unwrap', { token: re.body.wrap_info.token });
    expect(un.body.data.data).toEqual({ password: 'p4ss' });
  });

  it('wraps a new token (wrapped_accessor) and hands it out once, also to two unwraps at once', async () => {
    const w = await api('POST', 'auth/token/create', { policies: ['app'], ttl: '1h' }, root, '1m');
    expect(w.status).toBe(200);
    expect(w.body.auth).toBeNull();
    const { token, wrapped_accessor } = w.body.wrap_info;
    expect(wrapped_accessor).toMatch(/\w{10,}/);
    const [a, b] = await Promise.all([
      api('POST', 'sys/wrapping/unwrap', { token }),
      api('POST', 'sys/wrapping/unwrap', { token }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const won = a.status === 200 ? a : b;
    expect(won.body.auth.accessor).toBe(wrapped_accessor);
    const self = await api('GET', 'auth/token/lookup-self', undefined, won.body.auth.client_token);
    expect(self.status).toBe(200);
    expect(self.body.data.policies).toEqual(['app', 'default']);
  });

  it('a wrapping token past its TTL unwraps nothing', async () => {
    const w = await api('GET', 'secret/data/db', undefined, root, '1s');
    await sleep(2200);
    const r = await api('POST', 'sys/wrapping/unwrap', { token: w.body.wrap_info.token });
    expect(r.status).toBe(400);
    expect(r.body).toEqual(NOT_VALID);
  });

  it('delivers an AppRole secret-id wrapped; the unwrapped secret-id logs in', async () => {
    expect((await api('POST', 'sys/auth/approle', { type: 'approle' })).status).toBe(204);
    expect((await api('POST', 'auth/approle/role/deployer', { token_policies: ['app'] })).status).toBe(204);
    const roleId = (await api('GET', 'auth/approle/role/deployer/role-id')).body.data.role_id as string;
    const w = await api('POST', 'auth/approle/role/deployer/secret-id', {}, root, '2m');
    expect(w.status).toBe(200);
    expect(w.body.data).toBeNull();
    expect(w.body.wrap_info.creation_path).toBe('auth/approle/role/deployer/secret-id');
    const un = await call(base, 'POST', '/v1/sys/wrapping/unwrap', { token: w.body.wrap_info.token, body: {} });
    const secretId = un.body.data.secret_id as string;
    expect(secretId).toMatch(/[0-9a-f-]{36}/);
    const login = await call(base, 'POST', '/v1/auth/approle/login', {
      body: { role_id: roleId, secret_id: secretId },
    });
    expect(login.status, login.text).toBe(200);
    expect(login.body.auth.policies).toContain('app');
  });

  it('enforces min_wrapping_ttl and max_wrapping_ttl of a Vault policy', async () => {
    const policy = `path "secret/data/db" {
  capabilities = ["read"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = "10m"
}`;
    expect((await api('PUT', 'sys/policies/acl/wrapped-reads', { policy })).status).toBe(204);
    const t = await child(['wrapped-reads']);
    expect((await api('GET', 'secret/data/db', undefined, t)).status).toBe(403);
    expect((await api('GET', 'secret/data/db', undefined, t, '30s')).status).toBe(403);
    expect((await api('GET', 'secret/data/db', undefined, t, '1h')).status).toBe(403);
    const ok = await api('GET', 'secret/data/db', undefined, t, '5m');
    expect(ok.status).toBe(200);
    expect(ok.body.wrap_info.ttl).toBe(300);
  });
});

describe('cubbyhole', () => {
  it("is each token's own: others see nothing, and it goes with the token", async () => {
    const a = await child();
    const b = await child();
    expect((await api('POST', 'cubbyhole/notes/one', { text: 'mine' }, a)).status).toBe(204);
    expect((await api('GET', 'cubbyhole/notes/one', undefined, a)).body.data).toEqual({ text: 'mine' });
    expect((await api('LIST', 'cubbyhole/notes', undefined, a)).body.data.keys).toEqual(['one']);
    expect((await api('GET', 'cubbyhole/notes/one', undefined, b)).status).toBe(404);
    expect((await api('LIST', 'cubbyhole/notes', undefined, b)).status).toBe(404);
    const empty = await api('POST', 'cubbyhole/x', {}, a);
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual(['missing data fields']);
    expect((await api('DELETE', 'cubbyhole/notes/one', undefined, a)).status).toBe(204);
    expect((await api('GET', 'cubbyhole/notes/one', undefined, a)).status).toBe(404);
    // Revoking the token empties its cubbyhole in storage (what is stored there is keyed by token).
    const holes = async () => (await srv.vault.barrier.list('sys/cubbyhole/')).length;
    const before = await holes(); // wrapped responses not unwrapped yet
    await api('POST', 'cubbyhole/keep/two', { text: 'gone with a' }, a);
    await api('POST', 'cubbyhole/keep', { text: 'b stays' }, b);
    expect(await holes()).toBe(before + 2);
    expect((await api('POST', 'auth/token/revoke-self', {}, a)).status).toBe(204);
    expect(await holes()).toBe(before + 1);
    expect((await api('GET', 'cubbyhole/keep', undefined, b)).body.data).toEqual({ text: 'b stays' });
    expect((await api('GET', 'sys/mounts')).body.data['cubbyhole/'].type).toBe('cubbyhole');
  });
});
