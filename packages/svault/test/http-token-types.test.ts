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
  await api('POST', 'secret/data/app/db', { data: { pw: 'x' } });
  const app = 'path "secret/data/app/*" { capabilities = ["read"] }';
  expect((await api('PUT', 'sys/policies/acl/app', { policy: app })).status).toBe(204);
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown, token = root) =>
  call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });
const create = async (body: Record<string, unknown>, token = root, path = 'auth/token/create') => {
  const r = await api('POST', path, body, token);
  expect(r.status, r.text).toBe(200);
  return r.body.auth as {
    client_token: string;
    accessor: string;
    policies: string[];
    token_type: string;
    orphan: boolean;
  };
};

describe('token roles', () => {
  it('creates tokens with the role policies for a caller allowed only to use the role', async () => {
    const role = await api('POST', 'auth/token/roles/app-issuer', {
      allowed_policies: 'app',
      allowed_policies_glob: 'app-*',
      disallowed_policies: ['admin'],
      orphan: true,
      token_explicit_max_ttl: '2h',
      path_suffix: 'v1',
    });
    expect(role.status, role.text).toBe(204);
    const read = await api('GET', 'auth/token/roles/app-issuer');
    expect(read.body.data).toMatchObject({
      name: 'app-issuer',
      allowed_policies: ['app'],
      allowed_policies_glob: ['app-*'],
      disallowed_policies: ['admin'],
      orphan: true,
      renewable: true,
      token_explicit_max_ttl: 7200,
      explicit_max_ttl: 7200,
      token_type: 'default-service',
    });
    expect((await api('LIST', 'auth/token/roles')).body.data.keys).toEqual(['app-issuer']);

    const policy = 'path "auth/token/create/app-issuer" { capabilities = ["update"] }';
    expect((await api('PUT', 'sys/policies/acl/issuer', { policy })).status).toBe(204);
    const issuer = (await create({ policies: ['issuer'] })).client_token;

    // The issuer does not carry "app", the role allows it.
    const t = await create({}, issuer, 'auth/token/create/app-issuer');
    expect(t.policies).toEqual(['app', 'default']);
    expect(t.orphan).toBe(true);
    const self = await api('GET', 'auth/token/lookup-self', undefined, t.client_token);
    expect(self.body.data).toMatchObject({ path: 'auth/token/create/app-issuer/v1', explicit_max_ttl: 7200 });
    expect((await api('GET', 'secret/data/app/db', undefined, t.client_token)).status).toBe(200);
    expect((await create({ policies: ['app-extra'] }, issuer, 'auth/token/create/app-issuer')).policies).toEqual([
      'app-extra',
      'default',
    ]);

    const outside = await api('POST', 'auth/token/create/app-issuer', { policies: ['other'] }, issuer);
    expect(outside.status).toBe(400);
    expect(outside.body.errors[0]).toMatch(/must be subset of the role's allowed policies/);
    const plain = await api('POST', 'auth/token/create', { policies: ['app'] }, issuer);
    expect(plain.status).toBe(403); // the role path only
  });

  it('refuses bad roles and unknown ones, and disallowed policies', async () => {
    expect((await api('POST', 'auth/token/roles/bad', { token_type: 'sometimes' })).status).toBe(400);
    expect((await api('POST', 'auth/token/roles/bad', { token_type: 'batch', token_period: '1h' })).status).toBe(400);
    expect((await api('POST', 'auth/token/roles/bad', { path_suffix: '../x' })).status).toBe(400);
    expect((await api('GET', 'auth/token/roles/bad')).status).toBe(404);
    const unknown = await api('POST', 'auth/token/create/nope', {});
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual(['unknown role nope']);
    expect((await api('POST', 'auth/token/roles/no-admin', { disallowed_policies: 'admin' })).status).toBe(204);
    const r = await api('POST', 'auth/token/create/no-admin', { policies: ['admin'] });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual(['token policy "admin" is disallowed by this role']);
    expect((await api('DELETE', 'auth/token/roles/no-admin')).status).toBe(204);
    expect((await api('GET', 'auth/token/roles/no-admin')).status).toBe(404);
  });
});

describe('periodic tokens', () => {
  it('renew to their period whatever the increment, and die when not renewed within it', async () => {
    // A 5 s period renewed every 2 s: 3 s of slack for each renewal on a busy machine.
    const t = await create({ policies: ['app'], period: '5s' });
    const look = await api('GET', 'auth/token/lookup-self', undefined, t.client_token);
    expect(look.body.data.period).toBe(5);
    expect(look.body.data.ttl).toBeLessThanOrEqual(5);
    const renewed = await api('POST', 'auth/token/renew-self', { increment: '1h' }, t.client_token);
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBeLessThanOrEqual(5);
    // Renewed within its period, again and again, it outlives its first period.
    for (let i = 0; i < 3; i++) {
      await sleep(2000);
      expect((await api('POST', 'auth/token/renew-self', {}, t.client_token)).status).toBe(200);
    }
    await sleep(6000);
    expect((await api('GET', 'auth/token/lookup-self', undefined, t.client_token)).status).toBe(403);
  });

  it('a role period makes every token it issues periodic', async () => {
    expect((await api('POST', 'auth/token/roles/periodic', { token_period: '1h' })).status).toBe(204);
    const t = await create({ ttl: '10s' }, root, 'auth/token/create/periodic');
    const look = await api('GET', 'auth/token/lookup-self', undefined, t.client_token);
    expect(look.body.data.period).toBe(3600);
    expect(look.body.data.ttl).toBeGreaterThan(60);
  });
});

describe('batch tokens', () => {
  it('work for what their policies allow, and are not stored', async () => {
    const stored = async () => (await srv.vault.barrier.list('sys/token/id/')).length;
    const before = await stored();
    const b = await create({ policies: ['app'], type: 'batch', ttl: '10m' });
    const none = await create({ policies: ['nothing'], type: 'batch', ttl: '10m' });
    expect(await stored()).toBe(before);
    expect(b.client_token).toMatch(/^hvb\./);
    expect(b).toMatchObject({ token_type: 'batch', accessor: '' });
    const self = await api('GET', 'auth/token/lookup-self', undefined, b.client_token);
    expect(self.body.data).toMatchObject({ type: 'batch', renewable: false, policies: ['app', 'default'] });
    expect((await api('GET', 'secret/data/app/db', undefined, b.client_token)).status).toBe(200);
    // Two batch tokens are two principals (no accessor to tell them apart by).
    expect((await api('GET', 'secret/data/app/db', undefined, none.client_token)).status).toBe(403);
  });

  it('are Cedar principals of their own: not Svault::Token::"", told apart by token_type', async () => {
    const cedar = (policy: string) => api('PUT', 'sys/policies/acl/' + policy, { policy: POLICIES[policy] });
    const POLICIES: Record<string, string> = {
      'no-accessor': `permit (principal, action == Svault::Action::"read", resource in Svault::Path::"secret/data/app/");
forbid (principal == Svault::Token::"", action, resource);`,
      'service-only': `permit (principal, action == Svault::Action::"read", resource in Svault::Path::"secret/data/app/");
forbid (principal, action, resource) when { principal.token_type == "batch" };`,
    };
    for (const name of Object.keys(POLICIES)) expect((await cedar(name)).status).toBe(204);
    // Bad input: a typo in the principal's type is refused, and the policy keeps what it had.
    const typo = await api('PUT', 'sys/policies/acl/service-only', {
      policy: 'forbid (principal == Svault::Tokn::"", action, resource);',
    });
    expect(typo.status).toBe(400);
    expect(typo.body.errors[0]).toMatch(/unknown entity type Svault::Tokn/);

    const b1 = (await create({ policies: ['no-accessor'], type: 'batch' })).client_token;
    const b2 = (await create({ policies: ['no-accessor'], type: 'batch' })).client_token;
    // A statement about the empty accessor matches no batch token (it used to match all of them).
    expect((await api('GET', 'secret/data/app/db', undefined, b1)).status).toBe(200);
    expect((await api('GET', 'secret/data/app/db', undefined, b2)).status).toBe(200);
    const svc = (await create({ policies: ['service-only'] })).client_token;
    const batch = (await create({ policies: ['service-only'], type: 'batch' })).client_token;
    expect((await api('GET', 'secret/data/app/db', undefined, svc)).status).toBe(200);
    expect((await api('GET', 'secret/data/app/db', undefined, batch)).status).toBe(403);
  });

  it('cannot be renewed, revoked, used to create tokens or to keep a cubbyhole; tampering breaks them', async () => {
    const b = (await create({ policies: ['app'], type: 'batch' })).client_token;
    const no = async (method: string, path: string, body: unknown, message: RegExp) => {
      const r = await api(method, path, body, b);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    };
    await no('POST', 'auth/token/renew-self', {}, /batch tokens cannot be renewed/);
    await no('POST', 'auth/token/revoke-self', {}, /batch tokens cannot be revoked/);
    expect((await api('POST', 'auth/token/revoke', { token: b })).status).toBe(400);
    const withCreate =
      'path "auth/token/create" { capabilities = ["update"] }\npath "cubbyhole/*" { capabilities = ["create", "update", "read"] }';
    expect((await api('PUT', 'sys/policies/acl/creator', { policy: withCreate })).status).toBe(204);
    const bc = (await create({ policies: ['creator'], type: 'batch' })).client_token;
    const child = await api('POST', 'auth/token/create', {}, bc);
    expect(child.status).toBe(400);
    expect(child.body.errors).toEqual(['batch tokens cannot create more tokens']);
    const cubby = await api('POST', 'cubbyhole/x', { a: 1 }, bc);
    expect(cubby.status).toBe(400);
    expect(cubby.body.errors).toEqual(['batch tokens have no cubbyhole']);

    const tampered = `${b.slice(0, 20)}${b[20] === 'A' ? 'B' : 'A'}${b.slice(21)}`;
    expect((await api('GET', 'auth/token/lookup-self', undefined, tampered)).status).toBe(403);
    expect((await api('GET', 'auth/token/lookup-self', undefined, `hvb.${'A'.repeat(5000)}`)).status).toBe(403);
    for (const body of [
      { type: 'batch', period: '1h' },
      { type: 'batch', num_uses: 3 },
      { type: 'batch', id: 'hvb.mine' },
      { type: 'bulk' },
    ]) {
      expect((await api('POST', 'auth/token/create', body)).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('end with their TTL and with their parent', async () => {
    const creator = 'path "auth/token/create" { capabilities = ["update"] }';
    expect((await api('PUT', 'sys/policies/acl/creator', { policy: creator })).status).toBe(204);
    const parent = await create({ policies: ['app', 'creator'] });
    const child = await create({ type: 'batch', ttl: '1h' }, parent.client_token);
    expect((await api('GET', 'auth/token/lookup-self', undefined, child.client_token)).status).toBe(200);
    expect((await api('POST', 'auth/token/revoke-self', {}, parent.client_token)).status).toBe(204);
    expect((await api('GET', 'auth/token/lookup-self', undefined, child.client_token)).status).toBe(403);
    const short = await create({ type: 'batch', ttl: '1s', policies: ['app'] });
    await sleep(2200);
    expect((await api('GET', 'auth/token/lookup-self', undefined, short.client_token)).status).toBe(403);
  });

  it('a role can issue only batch tokens, and a login can issue them', async () => {
    expect(
      (await api('POST', 'auth/token/roles/batcher', { token_type: 'batch', allowed_policies: 'app' })).status,
    ).toBe(204);
    const t = await create({}, root, 'auth/token/create/batcher');
    expect(t.client_token).toMatch(/^hvb\./);
    expect((await api('POST', 'auth/token/create/batcher', { type: 'service' })).status).toBe(400);
    expect((await api('POST', 'sys/auth/userpass', { type: 'userpass' })).status).toBe(204);
    const user = { password: 'pw-bob-12345', token_policies: 'app', token_type: 'batch' };
    expect((await api('POST', 'auth/userpass/users/bob', user)).status).toBe(204);
    const login = await call(base, 'POST', '/v1/auth/userpass/login/bob', { body: { password: 'pw-bob-12345' } });
    expect(login.status).toBe(200);
    expect(login.body.auth.client_token).toMatch(/^hvb\./);
    expect((await api('GET', 'secret/data/app/db', undefined, login.body.auth.client_token)).status).toBe(200);
    // Disabling the method ends its batch tokens too (nothing stored to revoke, the mount is checked).
    expect((await api('DELETE', 'sys/auth/userpass')).status).toBe(204);
    expect((await api('GET', 'secret/data/app/db', undefined, login.body.auth.client_token)).status).toBe(403);
  });
});
