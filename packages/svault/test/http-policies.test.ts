import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

const examples = join(import.meta.dirname, '..', '..', '..', 'examples', 'svault');
const example = (name: string) => readFileSync(join(examples, name), 'utf8');

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let keys: string[];
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root, keys } = await initAndUnseal(base));
});
afterAll(async () => {
  await srv.close();
});

const writePolicy = (name: string, policy: string, token = root) =>
  call(base, 'PUT', `/v1/sys/policies/acl/${name}`, { token, body: { policy } });
const token = async (body: Record<string, unknown>) => {
  const r = await call(base, 'POST', '/v1/auth/token/create', { token: root, body });
  expect(r.status, r.text).toBe(200);
  return { token: r.body.auth.client_token as string, accessor: r.body.auth.accessor as string, body: r.body };
};
const kvPut = (t: string, path: string, data: Record<string, unknown>) =>
  call(base, 'POST', `/v1/secret/data/${path}`, { token: t, body: { data } });
const kvGet = (t: string, path: string) => call(base, 'GET', `/v1/secret/data/${path}`, { token: t });

describe('Cedar authorization', () => {
  it('denies by default: a token whose policy does not exist yet may do nothing but use itself', async () => {
    const t = await token({ policies: ['app-read'] });
    expect(t.body.warnings).toEqual(['Policy "app-read" does not exist']);
    expect((await kvPut(root, 'myapp/db', { password: 'p1' })).status).toBe(200);
    const denied = await kvGet(t.token, 'myapp/db');
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({ errors: ['permission denied'] });
    // The default policy: look up, renew and revoke itself; nothing else.
    expect((await call(base, 'GET', '/v1/auth/token/lookup-self', { token: t.token })).status).toBe(200);
    expect((await call(base, 'POST', '/v1/auth/token/renew-self', { token: t.token, body: {} })).status).toBe(200);
    expect((await call(base, 'POST', '/v1/auth/token/create', { token: t.token, body: {} })).status).toBe(403);
    expect((await call(base, 'GET', '/v1/sys/mounts', { token: t.token })).status).toBe(403);
    expect((await call(base, 'GET', '/v1/sys/policies/acl/default', { token: t.token })).status).toBe(403);
    // A path that does not exist is 403 too: a token learns nothing about paths it may not use.
    expect((await call(base, 'GET', '/v1/nomount/x', { token: t.token })).status).toBe(403);
    expect((await call(base, 'GET', '/v1/nomount/x', { token: root })).status).toBe(404);
    expect((await call(base, 'POST', '/v1/auth/token/revoke-self', { token: t.token })).status).toBe(204);
  });

  it('allows what a policy grants (everything under a folder), only to tokens that carry it', async () => {
    expect((await writePolicy('app-read', example('app-read.cedar'))).status).toBe(204);
    const t = await token({ policies: ['app-read'] });
    expect(t.body.warnings).toBeNull();
    const other = await token({ policies: ['web'] });
    await kvPut(root, 'myapp/nested/deep', { k: 'v' });
    await kvPut(root, 'myapp2/db', { k: 'v' });
    await kvPut(root, 'myapp', { k: 'v' });

    const ok = await kvGet(t.token, 'myapp/db');
    expect(ok.status).toBe(200);
    expect(ok.body.data.data).toEqual({ password: 'p1' });
    expect((await kvGet(t.token, 'myapp/nested/deep')).status).toBe(200);
    expect((await kvGet(t.token, 'myapp2/db')).status).toBe(403); // a sibling with the same prefix
    expect((await kvGet(t.token, 'myapp')).status).toBe(403); // the folder's name is not in the folder
    expect((await kvPut(t.token, 'myapp/db', { password: 'x' })).status).toBe(403);
    expect((await call(base, 'DELETE', '/v1/secret/data/myapp/db', { token: t.token })).status).toBe(403);
    const list = await call(base, 'LIST', '/v1/secret/metadata/myapp/', { token: t.token });
    expect(list.status).toBe(200);
    expect(list.body.data.keys).toEqual(['db', 'nested/']);
    expect((await call(base, 'GET', '/v1/secret/metadata/?list=true', { token: t.token })).status).toBe(403);
    // Another token's policies do not borrow app-read's statements.
    expect((await kvGet(other.token, 'myapp/db')).status).toBe(403);
  });

  it('tells create from update by whether the path exists, and forbid wins over permit', async () => {
    const createOnly =
      'permit (principal, action == Svault::Action::"create", resource in Svault::Path::"secret/data/inbox/");';
    expect((await writePolicy('inbox', createOnly)).status).toBe(204);
    const t = await token({ policies: ['inbox'] });
    expect((await kvPut(t.token, 'inbox/a', { v: 1 })).status).toBe(200);
    expect((await kvPut(t.token, 'inbox/a', { v: 2 })).status).toBe(403); // exists now: an update
    expect((await kvGet(t.token, 'inbox/a')).status).toBe(403);

    expect((await writePolicy('app-write', example('app-write.cedar'))).status).toBe(204);
    const w = await token({ policies: ['app-write'] });
    expect((await kvPut(w.token, 'myapp/new', { v: 1 })).status).toBe(200);
    expect((await kvPut(w.token, 'myapp/new', { v: 2 })).status).toBe(200);
    expect((await kvPut(w.token, 'myapp/prod/db', { v: 1 })).status).toBe(403);
    const patch = await call(base, 'PATCH', '/v1/secret/data/myapp/new', {
      token: w.token,
      body: { data: { w: 3 } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(patch.status).toBe(200);
  });

  it('a policy update takes effect on the next request, for tokens that already exist', async () => {
    const t = await token({ policies: ['app-read'] });
    expect((await kvGet(t.token, 'myapp/db')).status).toBe(200);
    const narrower =
      'permit (principal, action == Svault::Action::"read", ' +
      'resource == Svault::Path::"secret/data/myapp/nested/deep");';
    expect((await writePolicy('app-read', narrower)).status).toBe(204);
    expect((await kvGet(t.token, 'myapp/db')).status).toBe(403);
    expect((await kvGet(t.token, 'myapp/nested/deep')).status).toBe(200);
    expect((await call(base, 'DELETE', '/v1/sys/policies/acl/app-read', { token: root })).status).toBe(204);
    expect((await kvGet(t.token, 'myapp/nested/deep')).status).toBe(403);
    expect((await writePolicy('app-read', example('app-read.cedar'))).status).toBe(204);
    expect((await kvGet(t.token, 'myapp/db')).status).toBe(200);
  });

  it('refuses invalid Cedar with 400 and the parser message, and keeps the policy it had', async () => {
    const bad = await writePolicy('app-read', 'permit (principal, action, resource) when { resource.path like };');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/failed to parse policy "app-read": unexpected token `}`.* at 1:/);
    const typo = await writePolicy('app-read', 'permit (principal, action == Svault::Action::"raed", resource);');
    expect(typo.status).toBe(400);
    expect(typo.body.errors[0]).toMatch(/unknown action "raed"/);
    const badType = await writePolicy('app-read', 'permit (principal == User::"alice", action, resource);');
    expect(badType.status).toBe(400);
    expect(badType.body.errors[0]).toMatch(/unknown entity type User/);
    expect((await writePolicy('app-read', '// nothing here\n')).status).toBe(400);
    expect((await call(base, 'PUT', '/v1/sys/policies/acl/app-read', { token: root, body: {} })).status).toBe(400);
    expect((await writePolicy('Bad%20Name!', 'permit (principal, action, resource);')).status).toBe(400);
    // Still the example policy.
    const read = await call(base, 'GET', '/v1/sys/policies/acl/app-read', { token: root });
    expect(read.body.data).toEqual({ name: 'app-read', policy: example('app-read.cedar') });
    const t = await token({ policies: ['app-read'] });
    expect((await kvGet(t.token, 'myapp/db')).status).toBe(200);
  });

  it('lists, reads and protects the built-in policies; the legacy sys/policy API works too', async () => {
    const list = await call(base, 'LIST', '/v1/sys/policies/acl', { token: root });
    expect(list.body.data.keys).toEqual(['app-read', 'app-write', 'default', 'inbox', 'root']);
    const def = await call(base, 'GET', '/v1/sys/policies/acl/default', { token: root });
    expect(def.body.data.policy).toContain('auth/token/lookup-self');
    expect((await call(base, 'DELETE', '/v1/sys/policies/acl/default', { token: root })).body.errors).toEqual([
      'cannot delete "default" policy',
    ]);
    expect((await writePolicy('root', 'permit (principal, action, resource);')).status).toBe(400);
    expect((await call(base, 'GET', '/v1/sys/policies/acl/nope', { token: root })).status).toBe(404);

    const legacy = await call(base, 'GET', '/v1/sys/policy', { token: root });
    expect(legacy.body.policies).toContain('default');
    const put = await call(base, 'PUT', '/v1/sys/policy/legacy', {
      token: root,
      body: {
        rules: 'permit (principal, action == Svault::Action::"read", resource == Svault::Path::"secret/data/x");',
      },
    });
    expect(put.status).toBe(204);
    const got = await call(base, 'GET', '/v1/sys/policy/legacy', { token: root });
    expect(got.body.data.rules).toContain('secret/data/x');
    expect((await call(base, 'DELETE', '/v1/sys/policy/legacy', { token: root })).status).toBe(204);
  });

  it('uses token metadata as attributes (attribute-based access)', async () => {
    expect((await writePolicy('team', example('team.cedar'))).status).toBe(204);
    const pay = await token({ policies: ['team'], meta: { team: 'payments' } });
    const none = await token({ policies: ['team'] });
    expect((await kvPut(pay.token, 'teams/payments/db', { v: 1 })).status).toBe(200);
    expect((await kvGet(pay.token, 'teams/payments/db')).status).toBe(200);
    expect((await kvPut(pay.token, 'teams/search/db', { v: 1 })).status).toBe(403);
    expect((await kvPut(pay.token, 'teams/search/payments', { v: 1 })).status).toBe(403);
    expect((await call(base, 'LIST', '/v1/secret/metadata/teams/payments/', { token: pay.token })).status).toBe(200);
    expect((await kvGet(none.token, 'teams/payments/db')).status).toBe(403);
  });

  it('needs sudo besides the action on root-protected paths; reports capabilities', async () => {
    const upd = `permit (principal, action == Svault::Action::"update", resource == Svault::Path::"sys/rotate");`;
    expect((await writePolicy('rotator', upd)).status).toBe(204);
    const t = await token({ policies: ['rotator'] });
    expect((await call(base, 'POST', '/v1/sys/rotate', { token: t.token })).status).toBe(403);
    const sudo =
      'permit (principal, action in [Svault::Action::"update", Svault::Action::"sudo"], ' +
      'resource == Svault::Path::"sys/rotate");';
    expect((await writePolicy('rotator', sudo)).status).toBe(204);
    expect((await call(base, 'POST', '/v1/sys/rotate', { token: t.token })).status).toBe(204);
    expect((await call(base, 'PUT', '/v1/sys/seal', { token: t.token })).status).toBe(403);

    const caps = await call(base, 'POST', '/v1/sys/capabilities-self', {
      token: t.token,
      body: { paths: ['sys/rotate', 'secret/data/x'] },
    });
    expect(caps.status).toBe(200);
    expect(caps.body.data).toEqual({ 'sys/rotate': ['update', 'sudo'], 'secret/data/x': ['deny'] });
    const one = await call(base, 'POST', '/v1/sys/capabilities-accessor', {
      token: root,
      body: { accessor: t.accessor, path: 'sys/rotate' },
    });
    expect(one.body.data.capabilities).toEqual(['update', 'sudo']);
    const rootCaps = await call(base, 'POST', '/v1/sys/capabilities-self', { token: root, body: { path: 'x/y' } });
    expect(rootCaps.body.data.capabilities).toEqual(['root']);
  });

  it('keeps policies across a restart, encrypted in storage', async () => {
    const dir = srv.dir;
    await srv.close();
    srv = await startTestServer({ dir });
    base = srv.address;
    for (const k of keys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    const t = await token({ policies: ['app-read'] });
    expect((await kvGet(t.token, 'myapp/db')).status).toBe(200);
    expect((await kvGet(t.token, 'myapp2/db')).status).toBe(403);
    const { execFileSync } = await import('node:child_process');
    const grep = () => execFileSync('grep', ['-rl', 'Svault::Action', dir], { encoding: 'utf8' });
    expect(grep).toThrow(); // grep exits 1: no file holds the policy text in plaintext
  });
});
