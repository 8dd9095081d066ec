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

const create = async (token: string, body: Record<string, unknown> = {}, path = 'create') => {
  const r = await call(base, 'POST', `/v1/auth/token/${path}`, { token, body });
  if (r.status !== 200) throw new Error(`create: ${r.status} ${r.text}`);
  return r.body.auth as {
    client_token: string;
    accessor: string;
    policies: string[];
    lease_duration: number;
    orphan: boolean;
  };
};
const lookupSelf = (token: string) => call(base, 'GET', '/v1/auth/token/lookup-self', { token });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tokens over HTTP', () => {
  it('creates a child with policies, TTL and metadata; lookup shows them; the root token never expires', async () => {
    const r = await call(base, 'POST', '/v1/auth/token/create', {
      token: root,
      body: { policies: ['app', 'web'], ttl: '1h', meta: { team: 'a' }, display_name: 'ci', whatever: 1 },
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.auth).toMatchObject({
      policies: ['app', 'default', 'web'],
      token_policies: ['app', 'default', 'web'],
      metadata: { team: 'a' },
      lease_duration: 3600,
      renewable: true,
      token_type: 'service',
      orphan: false,
    });
    const t = r.body.auth.client_token;
    const look = await lookupSelf(t);
    expect(look.body.data).toMatchObject({
      id: t,
      accessor: r.body.auth.accessor,
      display_name: 'token-ci',
      policies: ['app', 'default', 'web'],
      meta: { team: 'a' },
      orphan: false,
      path: 'auth/token/create',
    });
    expect(look.body.data.ttl).toBeGreaterThan(3590);
    const rootLook = await lookupSelf(root);
    expect(rootLook.body.data).toMatchObject({ policies: ['root'], ttl: 0, expire_time: null });
    // Bearer works as well as X-Vault-Token.
    const bearer = await call(base, 'GET', '/v1/auth/token/lookup-self', { headers: { Authorization: `Bearer ${t}` } });
    expect(bearer.status).toBe(200);
  });

  it('a non-root token gets only the default policy: itself, nothing else', async () => {
    const t = (await create(root, { policies: ['app'] })).client_token;
    expect((await lookupSelf(t)).status).toBe(200);
    const read = await call(base, 'GET', '/v1/secret/data/anything', { token: t });
    expect(read.status).toBe(403);
    expect(read.body).toEqual({ errors: ['permission denied'] });
    expect((await call(base, 'GET', '/v1/sys/mounts', { token: t })).status).toBe(403);
    expect((await call(base, 'GET', '/v1/secret/data/x')).status).toBe(403);
    expect((await call(base, 'GET', '/v1/secret/data/x', { token: 'hvs.bogus' })).status).toBe(403);
  });

  it('expires a token after its TTL, and its children with it', async () => {
    // 3 s: alive when looked up at once even on a busy machine, dead after the sleep.
    const parent = await create(root, { ttl: '3s' });
    expect(parent.lease_duration).toBe(3);
    expect((await lookupSelf(parent.client_token)).status).toBe(200);
    const child = await create(root, { ttl: '1h' });
    await sleep(3100);
    const r = await lookupSelf(parent.client_token);
    expect(r.status).toBe(403);
    expect((await lookupSelf(child.client_token)).status).toBe(200);
  });

  it('revoking a token revokes its whole tree; orphans survive', async () => {
    // Without policies only root-policy tokens may create tokens (Vault's default policy does not allow it).
    const a = await create(root, { policies: ['root'], ttl: '1h' });
    const b = await create(a.client_token, { policies: ['root'] });
    const c = await create(b.client_token, { policies: ['app'] });
    expect(c.policies).toEqual(['app', 'default']);
    const o = await create(a.client_token, { policies: ['app'] }, 'create-orphan');
    expect(o.orphan).toBe(true);
    const denied = await call(base, 'POST', '/v1/auth/token/create', { token: c.client_token, body: {} });
    expect(denied.status).toBe(403);
    expect(
      (await call(base, 'POST', '/v1/auth/token/revoke', { token: root, body: { token: a.client_token } })).status,
    ).toBe(204);
    for (const t of [a, b, c]) expect((await lookupSelf(t.client_token)).status).toBe(403);
    expect((await lookupSelf(o.client_token)).status).toBe(200);
  });

  it('a child whose parent expired is dead too', async () => {
    const p = await create(root, { ttl: '1s', policies: ['root'] });
    const child = await create(p.client_token, { ttl: '1h' });
    await sleep(1100);
    expect((await lookupSelf(child.client_token)).status).toBe(403);
  });

  it('accessors: look up and revoke by accessor; revoke-orphan keeps children', async () => {
    const t = await create(root, { policies: ['root'], ttl: '1h' });
    const child = await create(t.client_token, { policies: ['p'] });
    const look = await call(base, 'POST', '/v1/auth/token/lookup-accessor', {
      token: root,
      body: { accessor: t.accessor },
    });
    expect(look.body.data).toMatchObject({ accessor: t.accessor, id: '' });
    const list = await call(base, 'LIST', '/v1/auth/token/accessors', { token: root });
    expect(list.body.data.keys).toContain(t.accessor);
    expect((await call(base, 'LIST', '/v1/auth/token/accessors', { token: child.client_token })).status).toBe(403);
    await call(base, 'POST', '/v1/auth/token/revoke-orphan', { token: root, body: { token: t.client_token } });
    expect((await lookupSelf(t.client_token)).status).toBe(403);
    const orphaned = await lookupSelf(child.client_token);
    expect(orphaned.status).toBe(200);
    expect(orphaned.body.data.orphan).toBe(true);
    await call(base, 'POST', '/v1/auth/token/revoke-accessor', { token: root, body: { accessor: child.accessor } });
    expect((await lookupSelf(child.client_token)).status).toBe(403);
  });

  it('renew extends the TTL up to explicit_max_ttl; revoke-self ends the token', async () => {
    const t = await create(root, { ttl: '10s', explicit_max_ttl: '30s' });
    const r = await call(base, 'POST', '/v1/auth/token/renew-self', {
      token: t.client_token,
      body: { increment: '1h' },
    });
    expect(r.status).toBe(200);
    // Beyond the 10 s TTL, capped by the 30 s maximum counted from creation (less the time since).
    expect(r.body.auth.lease_duration).toBeGreaterThan(10);
    expect(r.body.auth.lease_duration).toBeLessThanOrEqual(30);
    const nr = await create(root, { ttl: '10s', renewable: false });
    const refused = await call(base, 'POST', '/v1/auth/token/renew-self', { token: nr.client_token, body: {} });
    expect(refused.status).toBe(400);
    expect((await call(base, 'POST', '/v1/auth/token/revoke-self', { token: t.client_token })).status).toBe(204);
    expect((await lookupSelf(t.client_token)).status).toBe(403);
  });

  it('a limited-use token stops working after its uses', async () => {
    const t = await create(root, { num_uses: 2 });
    expect((await lookupSelf(t.client_token)).status).toBe(200);
    expect((await lookupSelf(t.client_token)).status).toBe(200);
    expect((await lookupSelf(t.client_token)).status).toBe(403);
  });
});
