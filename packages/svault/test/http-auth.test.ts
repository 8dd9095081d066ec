import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordWork } from '../src/core/password.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';

let srv: Awaited<ReturnType<typeof startTestServer>>;
let base: string;
let root: string;
const auditFile = join(tempDir('svault-auth-audit-'), 'audit.log');

beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root } = await initAndUnseal(base));
  await call(base, 'PUT', '/v1/sys/audit/file', {
    token: root,
    body: { type: 'file', options: { file_path: auditFile } },
  });
  // app: one folder. users: each user their own folder, from the login's metadata.
  const app = `permit (principal, action == Svault::Action::"read", resource in Svault::Path::"secret/data/app/");`;
  const users = readFileSync(join(import.meta.dirname, '..', '..', '..', 'examples', 'svault', 'users.cedar'), 'utf8');
  expect((await api('PUT', 'sys/policies/acl/app', { policy: app })).status).toBe(204);
  expect((await api('PUT', 'sys/policies/acl/users', { policy: users })).status).toBe(204);
  for (const p of ['app/db', 'users/alice/key', 'users/bob/key', 'other/x']) {
    await api('POST', `secret/data/${p}`, { data: { v: p } });
  }
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown, token = root) =>
  call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });
const login = (path: string, body: unknown) => call(base, 'POST', `/v1/auth/${path}`, { body });

describe('sys/auth', () => {
  it('lists the token method, enables, reads, tunes and refuses bad mounts', async () => {
    const list0 = await api('GET', 'sys/auth');
    expect(list0.status).toBe(200);
    expect(list0.body.data['token/']).toMatchObject({ type: 'token' });
    expect((await api('POST', 'sys/auth/userpass', { type: 'userpass', description: 'people' })).status).toBe(204);
    const list = (await api('GET', 'sys/auth')).body.data;
    expect(list['userpass/']).toMatchObject({
      type: 'userpass',
      description: 'people',
      accessor: expect.stringMatching(/^auth_userpass_/),
    });
    expect(list['userpass/'].config.token_type).toBe('default-service');
    expect((await api('GET', 'sys/auth/userpass')).body.data.type).toBe('userpass');
    expect((await api('POST', 'sys/auth/userpass/tune', { default_lease_ttl: '1h', max_lease_ttl: '2h' })).status).toBe(
      204,
    );
    expect((await api('GET', 'sys/auth/userpass/tune')).body.data).toMatchObject({
      default_lease_ttl: 3600,
      max_lease_ttl: 7200,
      token_type: 'default-service',
    });
    // Secrets engines and auth methods stay apart.
    expect((await api('GET', 'sys/mounts')).body.data['auth/userpass/']).toBeUndefined();

    const before = Object.keys((await api('GET', 'sys/auth')).body.data).sort();
    const bad: [string, string, unknown, number, RegExp][] = [
      ['POST', 'sys/auth/x', { type: 'nope' }, 400, /plugin not found in the catalog: nope/],
      ['POST', 'sys/auth/userpass', { type: 'userpass' }, 400, /path is already in use at userpass\//],
      ['POST', 'sys/auth/token', { type: 'userpass' }, 400, /path is already in use at token\//],
      ['POST', 'sys/auth/t2', { type: 'token' }, 400, /token credential backend cannot be instantiated/],
      ['DELETE', 'sys/auth/token', undefined, 400, /token credential backend cannot be disabled/],
      ['POST', 'sys/auth/x', {}, 400, /missing type/],
      ['POST', 'sys/auth/userpass/tune', { default_lease_ttl: '3h', max_lease_ttl: '2h' }, 400, /would be less than/],
    ];
    for (const [method, path, body, status, msg] of bad) {
      const r = await api(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(status);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect(Object.keys((await api('GET', 'sys/auth')).body.data).sort()).toEqual(before);
    // Enabling needs sudo.
    const plain = (await api('POST', 'auth/token/create', { policies: ['app'] })).body.auth.client_token;
    expect((await api('POST', 'sys/auth/up2', { type: 'userpass' }, plain)).status).toBe(403);
  });
});

describe('userpass', () => {
  it('creates users (password never shown) and logs in to an ordinary token with their policies, TTL and metadata', async () => {
    expect(
      (
        await api('POST', 'auth/userpass/users/Alice', {
          password: 'alice-pw-1',
          token_policies: 'app,users',
          token_ttl: '30m',
        })
      ).status,
    ).toBe(204);
    expect(
      (await api('POST', 'auth/userpass/users/bob', { password: 'bob-pw-1', token_policies: ['users'] })).status,
    ).toBe(204);
    const u = await api('GET', 'auth/userpass/users/alice');
    expect(u.body.data).toMatchObject({ token_policies: ['app', 'users'], token_ttl: 1800 });
    expect(JSON.stringify(u.body)).not.toMatch(/password|alice-pw-1/);
    expect((await api('LIST', 'auth/userpass/users')).body.data.keys).toEqual(['alice', 'bob']);
    expect((await api('GET', 'auth/userpass/users?list=true')).body.data.keys).toEqual(['alice', 'bob']);

    const r = await login('userpass/login/ALICE', { password: 'alice-pw-1' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.auth).toMatchObject({
      client_token: expect.stringMatching(/^hvs\./),
      policies: ['app', 'default', 'users'],
      metadata: { username: 'alice' },
      lease_duration: expect.closeTo(1800, -1),
      renewable: true,
      orphan: true,
      token_type: 'service',
    });
    const t = r.body.auth.client_token as string;
    const self = await api('GET', 'auth/token/lookup-self', undefined, t);
    // The path as requested (as Vault records it); the user name itself is case-insensitive.
    expect(self.body.data).toMatchObject({ display_name: 'userpass-alice', path: 'auth/userpass/login/ALICE' });
    // Policies apply, the metadata in a Cedar condition too: her folder, not Bob's.
    expect((await api('GET', 'secret/data/app/db', undefined, t)).status).toBe(200);
    expect((await api('GET', 'secret/data/users/alice/key', undefined, t)).body.data.data).toEqual({
      v: 'users/alice/key',
    });
    expect((await api('GET', 'secret/data/users/bob/key', undefined, t)).status).toBe(403);
    expect((await api('POST', 'secret/data/users/alice/new', { data: { a: '1' } }, t)).status).toBe(200);
    expect((await api('POST', 'secret/data/users/bob/new', { data: { a: '1' } }, t)).status).toBe(403);
    expect((await api('GET', 'secret/data/other/x', undefined, t)).status).toBe(403);
    const b = (await login('userpass/login/bob', { password: 'bob-pw-1' })).body.auth;
    expect((await api('GET', 'secret/data/users/bob/key', undefined, b.client_token)).status).toBe(200);
    expect((await api('GET', 'secret/data/app/db', undefined, b.client_token)).status).toBe(403);
    // The mount's tuned default (1h) applies when the user sets no TTL; its max (2h) caps one that is longer.
    expect(b.lease_duration).toBeCloseTo(3600, -1);
    await api('POST', 'auth/userpass/users/bob', { token_ttl: '5h' });
    expect((await login('userpass/login/bob', { password: 'bob-pw-1' })).body.auth.lease_duration).toBeCloseTo(
      7200,
      -1,
    );
  });

  it('a wrong password and an unknown user fail alike: 400 "invalid credentials", one scrypt each, nothing issued', async () => {
    const accessors = async () => (await api('GET', 'auth/token/accessors?list=true')).body.data.keys.length;
    const n = await accessors();
    for (const [user, pw] of [
      ['alice', 'wrong'],
      ['nobody', 'alice-pw-1'],
      ['no one!', 'x'],
    ]) {
      const work = passwordWork();
      const r = await login(`userpass/login/${encodeURIComponent(user as string)}`, { password: pw });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ errors: ['invalid credentials'] });
      expect(passwordWork() - work).toBe(1);
    }
    expect((await login('userpass/login/alice', {})).body.errors[0]).toBe('missing password');
    expect(await accessors()).toBe(n);
  });

  it('changes passwords and policies; refuses bad users without changing anything', async () => {
    expect((await api('POST', 'auth/userpass/users/alice/password', { password: 'alice-pw-2' })).status).toBe(204);
    expect((await login('userpass/login/alice', { password: 'alice-pw-1' })).status).toBe(400);
    expect((await login('userpass/login/alice', { password: 'alice-pw-2' })).status).toBe(200);
    expect((await api('POST', 'auth/userpass/users/alice/policies', { token_policies: 'app' })).status).toBe(204);
    expect((await api('GET', 'auth/userpass/users/alice')).body.data.token_policies).toEqual(['app']);

    const before = (await api('GET', 'auth/userpass/users/alice')).body.data;
    const bad: [string, unknown, RegExp][] = [
      ['users/carol', { token_policies: 'app' }, /missing password/],
      ['users/alice', { token_ttl: '3h', token_max_ttl: '1h' }, /'token_ttl' cannot be greater than 'token_max_ttl'/],
      ['users/alice', { token_num_uses: -1 }, /'token_num_uses' cannot be negative/],
      ['users/alice', { token_bound_cidrs: ['10.0.0.0/33'] }, /invalid CIDR block/],
      ['users/alice', { token_type: 'bulk' }, /invalid 'token_type' value "bulk"/],
      ['users/alice/password', { password: '' }, /missing password/],
      ['users/nobody/password', { password: 'x' }, /username does not exist/],
    ];
    for (const [path, body, msg] of bad) {
      const r = await api('POST', `auth/userpass/${path}`, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect((await api('GET', 'auth/userpass/users/carol')).status).toBe(404);
    expect((await api('GET', 'auth/userpass/users/alice')).body.data).toEqual(before);
    expect((await login('userpass/login/alice', { password: 'alice-pw-2' })).status).toBe(200);
  });

  it('a token bound to other addresses is refused; deleting a user and disabling the method end its logins', async () => {
    await api('POST', 'auth/userpass/users/dana', { password: 'dana-pw', token_bound_cidrs: '10.0.0.0/8' });
    const d = (await login('userpass/login/dana', { password: 'dana-pw' })).body.auth.client_token;
    expect((await api('GET', 'auth/token/lookup-self', undefined, d)).status).toBe(403);

    const t = (await login('userpass/login/alice', { password: 'alice-pw-2' })).body.auth.client_token;
    expect((await api('DELETE', 'auth/userpass/users/bob')).status).toBe(204);
    expect((await login('userpass/login/bob', { password: 'bob-pw-1' })).body.errors).toEqual(['invalid credentials']);
    expect((await api('DELETE', 'sys/auth/userpass')).status).toBe(204);
    expect((await api('GET', 'auth/token/lookup-self', undefined, t)).status).toBe(403);
    // No such mount any more: without a token that is a 403, as in Vault.
    expect((await login('userpass/login/alice', { password: 'alice-pw-2' })).status).toBe(403);
    expect((await api('POST', 'sys/auth/userpass', { type: 'userpass' })).status).toBe(204);
    expect((await api('GET', 'auth/userpass/users?list=true')).status).toBe(404);
  });

  it('no password, secret ID or issued token reaches the audit log in the clear', async () => {
    const log = readFileSync(auditFile, 'utf8');
    expect(log).toContain('auth/userpass/login/alice');
    for (const secret of ['alice-pw-1', 'alice-pw-2', 'bob-pw-1', 'dana-pw']) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/"client_token":"hvs\./);
  });
});

describe('approle', () => {
  let roleId: string;
  beforeAll(async () => {
    expect((await api('POST', 'sys/auth/approle', { type: 'approle' })).status).toBe(204);
    const r = await api('POST', 'auth/approle/role/CI', {
      token_policies: 'app',
      token_ttl: '20m',
      secret_id_ttl: '10m',
      secret_id_num_uses: 2,
    });
    expect(r.status, r.text).toBe(204);
    roleId = (await api('GET', 'auth/approle/role/ci/role-id')).body.data.role_id;
  });

  it('role, role-id and secret-id with metadata log in to a token with the role policies; num_uses counts down', async () => {
    expect(roleId).toMatch(/^[0-9a-f-]{36}$/);
    const role = (await api('GET', 'auth/approle/role/ci')).body.data;
    expect(role).toMatchObject({
      token_policies: ['app'],
      token_ttl: 1200,
      secret_id_ttl: 600,
      secret_id_num_uses: 2,
      bind_secret_id: true,
    });
    const sid = await api('POST', 'auth/approle/role/ci/secret-id', { metadata: '{"job":"build-1"}' });
    expect(sid.body.data).toMatchObject({
      secret_id_ttl: 600,
      secret_id_num_uses: 2,
      secret_id_accessor: expect.any(String),
    });
    const secretId = sid.body.data.secret_id as string;
    const a = await login('approle/login', { role_id: roleId, secret_id: secretId });
    expect(a.status, a.text).toBe(200);
    expect(a.body.auth).toMatchObject({
      policies: ['app', 'default'],
      metadata: { job: 'build-1', role_name: 'ci' },
      lease_duration: expect.closeTo(1200, -1),
    });
    const t = a.body.auth.client_token as string;
    expect((await api('GET', 'secret/data/app/db', undefined, t)).status).toBe(200);
    expect((await api('GET', 'secret/data/other/x', undefined, t)).status).toBe(403);
    expect((await api('GET', 'auth/token/lookup-self', undefined, t)).body.data.display_name).toBe('approle');
    const look = await api('POST', 'auth/approle/role/ci/secret-id/lookup', { secret_id: secretId });
    expect(look.body.data).toMatchObject({ secret_id_num_uses: 1, metadata: { job: 'build-1' } });
    expect((await login('approle/login', { role_id: roleId, secret_id: secretId })).status).toBe(200);
    const spent = await login('approle/login', { role_id: roleId, secret_id: secretId });
    expect(spent.status).toBe(400);
    expect(spent.body.errors).toEqual(['invalid role or secret ID']);
  });

  it('binds secret IDs and tokens to CIDRs; a refused source spends no use', async () => {
    const far = (await api('POST', 'auth/approle/role/ci/secret-id', { cidr_list: '10.0.0.0/8' })).body.data.secret_id;
    const r = await login('approle/login', { role_id: roleId, secret_id: far });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatch(
      /^source address "(::ffff:)?127\.0\.0\.1" unauthorized by CIDR restrictions on the secret ID$/,
    );
    expect(
      (await api('POST', 'auth/approle/role/ci/secret-id/lookup', { secret_id: far })).body.data.secret_id_num_uses,
    ).toBe(2);
    const near = (await api('POST', 'auth/approle/role/ci/secret-id', { cidr_list: '127.0.0.0/8' })).body.data
      .secret_id;
    expect((await login('approle/login', { role_id: roleId, secret_id: near })).status).toBe(200);
    const bound = (await api('POST', 'auth/approle/role/ci/secret-id', { token_bound_cidrs: '10.0.0.0/8' })).body.data
      .secret_id;
    const tb = (await login('approle/login', { role_id: roleId, secret_id: bound })).body.auth.client_token;
    expect((await api('GET', 'auth/token/lookup-self', undefined, tb)).status).toBe(403);
  });

  it('an expired secret ID, a wrong one, a wrong role_id and bad roles are refused and change nothing', async () => {
    await api('POST', 'auth/approle/role/short', { token_policies: 'app', secret_id_ttl: '1s' });
    const shortRole = (await api('GET', 'auth/approle/role/short/role-id')).body.data.role_id;
    const shortId = (await api('POST', 'auth/approle/role/short/secret-id')).body.data.secret_id;
    await sleep(1500);
    const expired = await login('approle/login', { role_id: shortRole, secret_id: shortId });
    expect(expired.status).toBe(400);
    expect(expired.body.errors).toEqual(['invalid role or secret ID']);

    const good = (await api('POST', 'auth/approle/role/ci/secret-id')).body.data.secret_id;
    const fails: [unknown, RegExp][] = [
      [{ role_id: roleId, secret_id: 'not-a-secret-id' }, /^invalid role or secret ID$/],
      [{ role_id: 'not-a-role-id', secret_id: good }, /^invalid role or secret ID$/],
      [{ role_id: roleId }, /^missing secret_id$/],
      [{ secret_id: good }, /^missing role_id$/],
    ];
    for (const [body, msg] of fails) {
      const r = await login('approle/login', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    const before = (await api('GET', 'auth/approle/role/ci')).body.data;
    const bad: [string, unknown, RegExp][] = [
      ['role/ci/secret-id', { ttl: '1h' }, /ttl cannot be longer than the role's secret_id_ttl/],
      ['role/ci/secret-id', { num_uses: 5 }, /num_uses cannot be higher than the role's secret_id_num_uses/],
      ['role/ci/secret-id', { metadata: 'not json' }, /failed to parse metadata/],
      ['role/ci/secret-id', { cidr_list: 'nonsense' }, /invalid CIDR block/],
      ['role/ci', { bind_secret_id: false }, /at least one constraint should be enabled on the role/],
      ['role/ci', { token_type: 'bulk' }, /invalid 'token_type' value "bulk"/],
      ['role/nope/secret-id', {}, /role "nope" does not exist/],
    ];
    for (const [path, body, msg] of bad) {
      const r = await api('POST', `auth/approle/${path}`, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect((await api('GET', 'auth/approle/role/ci')).body.data).toEqual(before);
    expect((await login('approle/login', { role_id: roleId, secret_id: good })).status).toBe(200);
  });

  it('custom role_id, secret IDs listed and destroyed by accessor, role deletion', async () => {
    expect((await api('POST', 'auth/approle/role/ci/role-id', { role_id: 'ci-role-id' })).status).toBe(204);
    const sid = (await api('POST', 'auth/approle/role/ci/secret-id')).body.data;
    expect((await login('approle/login', { role_id: roleId, secret_id: sid.secret_id })).status).toBe(400);
    expect((await login('approle/login', { role_id: 'ci-role-id', secret_id: sid.secret_id })).status).toBe(200);
    const accessors = (await api('GET', 'auth/approle/role/ci/secret-id?list=true')).body.data.keys as string[];
    expect(accessors).toContain(sid.secret_id_accessor);
    expect(
      (
        await api('POST', 'auth/approle/role/ci/secret-id-accessor/destroy', {
          secret_id_accessor: sid.secret_id_accessor,
        })
      ).status,
    ).toBe(204);
    expect((await login('approle/login', { role_id: 'ci-role-id', secret_id: sid.secret_id })).status).toBe(400);
    const other = (await api('POST', 'auth/approle/role/ci/secret-id')).body.data.secret_id;
    expect((await api('DELETE', 'auth/approle/role/ci')).status).toBe(204);
    expect((await login('approle/login', { role_id: 'ci-role-id', secret_id: other })).status).toBe(400);
    expect((await api('GET', 'auth/approle/role?list=true')).body.data.keys).toEqual(['short']);
  });

  it('moves with sys/remount: logins work at the new path, tokens of the old one are revoked', async () => {
    await api('POST', 'auth/approle/role/mover', { token_policies: 'app' });
    const rid = (await api('GET', 'auth/approle/role/mover/role-id')).body.data.role_id;
    const sid = (await api('POST', 'auth/approle/role/mover/secret-id')).body.data.secret_id;
    const before = (await login('approle/login', { role_id: rid, secret_id: sid })).body.auth.client_token;
    const bad = await api('POST', 'sys/remount', { from: 'auth/approle', to: 'kv-approle' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toBe('cannot remount auth mount to non-auth mount "kv-approle/"');
    const r = await api('POST', 'sys/remount', { from: 'auth/approle', to: 'auth/apps' });
    expect(r.status, r.text).toBe(200);
    const list = (await api('GET', 'sys/auth')).body.data;
    expect(list['apps/']?.type).toBe('approle');
    expect(list['approle/']).toBeUndefined();
    expect((await api('GET', 'auth/token/lookup-self', undefined, before)).status).toBe(403);
    const after = await login('apps/login', { role_id: rid, secret_id: sid });
    expect(after.status, after.text).toBe(200);
    expect((await api('GET', 'secret/data/app/db', undefined, after.body.auth.client_token)).status).toBe(200);
  });
});
