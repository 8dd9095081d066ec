import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, signJwt, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let keys: string[];
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root, keys } = await initAndUnseal(base));
  for (const p of [
    'app',
    'super-secret',
    'restricted',
    'a/config',
    'a/b/config',
    'a/other',
    'locked/x',
    'locked/open',
  ]) {
    await call(base, 'POST', `/v1/secret/data/${p}`, { token: root, body: { data: { v: p } } });
  }
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown, token = root) =>
  call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });
const token = async (policies: string[]) => {
  const r = await api('POST', 'auth/token/create', { policies });
  expect(r.status, r.text).toBe(200);
  return r.body.auth.client_token as string;
};
const read = (t: string, p: string) => api('GET', `secret/data/${p}`, undefined, t);
const write = (t: string, p: string, data: Record<string, unknown>) => api('POST', `secret/data/${p}`, { data }, t);

// The example from Vault's policy documentation, with KV v2's data/ paths.
const DOCS_POLICY = `
# This section grants all access on "secret/*". further restrictions can be
# applied to this broad policy, as shown below.
path "secret/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete", "list"]
}

# Even though we allowed secret/*, this line explicitly denies
# secret/super-secret. this takes precedence.
path "secret/data/super-secret" {
  capabilities = ["deny"]
}

path "secret/metadata/*" {
  capabilities = ["list"]
}
`;

describe('Vault ACL policies in HCL', () => {
  it('stores a policy from Vault docs as written, and enforces its glob and its deny', async () => {
    expect((await api('PUT', 'sys/policy/docs', { rules: DOCS_POLICY })).status).toBe(204);
    const legacy = await api('GET', 'sys/policy/docs');
    expect(legacy.body.data).toEqual({ name: 'docs', rules: DOCS_POLICY });
    expect((await api('GET', 'sys/policies/acl/docs')).body.data.policy).toBe(DOCS_POLICY);
    expect((await api('LIST', 'sys/policies/acl')).body.data.keys).toContain('docs');

    const t = await token(['docs']);
    expect((await read(t, 'app')).body.data.data).toEqual({ v: 'app' });
    expect((await write(t, 'new-one', { k: 1 })).status).toBe(200);
    expect((await read(t, 'super-secret')).status).toBe(403);
    expect((await write(t, 'super-secret', { k: 1 })).status).toBe(403);
    expect((await api('LIST', 'secret/metadata/', undefined, t)).status).toBe(200);
    expect((await api('GET', 'secret/config', undefined, t)).status).toBe(403);
    expect((await api('GET', 'sys/mounts', undefined, t)).status).toBe(403);
    // The default policy (Cedar) still lets the token look itself up.
    expect((await api('GET', 'auth/token/lookup-self', undefined, t)).status).toBe(200);
    const caps = await api(
      'POST',
      'sys/capabilities-self',
      { paths: ['secret/data/app', 'secret/data/super-secret'] },
      t,
    );
    expect(caps.body['secret/data/app']).toEqual(
      expect.arrayContaining(['create', 'read', 'update', 'delete', 'list']),
    );
    expect(caps.body['secret/data/super-secret']).toEqual(['deny']);
  });

  it('matches + segments and picks the most specific rule as Vault does', async () => {
    const policy = `
      path "secret/data/+/config" { capabilities = ["read"] }
      path "secret/data/a/*" { capabilities = ["list"] }
      path "secret/data/app" { capabilities = ["read"] }
      path "secret/data/lo*" { capabilities = ["read"] }
      path "secret/data/locked/*" { capabilities = ["deny"] }
      path "secret/data/locked/open" { capabilities = ["read"] }
    `;
    expect((await api('PUT', 'sys/policies/acl/segments', { policy })).status).toBe(204);
    const t = await token(['segments']);
    expect((await read(t, 'zz/config')).status).toBe(404); // allowed by "+/config", not there
    expect((await read(t, 'a/config')).status).toBe(403); // "a/*" governs: its wildcard comes later
    expect((await read(t, 'a/b/config')).status).toBe(403); // + is one segment
    expect((await read(t, 'app')).status).toBe(200);
    expect((await read(t, 'restricted')).status).toBe(403);
    expect((await read(t, 'lox')).status).toBe(404); // "lo*"
    expect((await read(t, 'locked/x')).status).toBe(403); // the longer prefix denies
    expect((await read(t, 'locked/open')).status).toBe(200); // an exact path beats every glob
  });

  it('accepts the same policy in JSON (object and list forms) and base64-encoded', async () => {
    const json = JSON.stringify({ path: { 'secret/data/app': { capabilities: ['read'] } } });
    expect((await api('PUT', 'sys/policies/acl/json1', { policy: json })).status).toBe(204);
    const list = JSON.stringify({ path: [{ 'secret/data/restricted': [{ capabilities: ['read'] }] }] });
    expect((await api('PUT', 'sys/policies/acl/json2', { policy: list })).status).toBe(204);
    const hcl = 'path "secret/data/a/config" {\n  capabilities = ["read"]\n}\n';
    const b64 = Buffer.from(hcl).toString('base64');
    expect((await api('PUT', 'sys/policies/acl/b64', { policy: b64 })).status).toBe(204);
    expect((await api('GET', 'sys/policies/acl/b64')).body.data.policy).toBe(hcl);

    const t = await token(['json1', 'json2', 'b64']);
    expect((await read(t, 'app')).status).toBe(200);
    expect((await read(t, 'restricted')).status).toBe(200);
    expect((await read(t, 'a/config')).status).toBe(200);
    expect((await read(t, 'super-secret')).status).toBe(403);
    expect((await write(t, 'app', { x: 1 })).status).toBe(403);
  });

  it('enforces required, allowed and denied parameters on the request body', async () => {
    const policy = `
      path "auth/token/create" {
        capabilities = ["create", "update"]
        required_parameters = ["ttl"]
        allowed_parameters = {
          "policies" = ["child", "child-*"]
          "ttl" = []
          "no_parent" = []
        }
        denied_parameters = {
          "no_parent" = [true]
        }
      }
    `;
    expect((await api('PUT', 'sys/policies/acl/minter', { policy })).status).toBe(204);
    const t = await token(['minter', 'child', 'child-ro', 'other']);
    const create = (body: Record<string, unknown>) => api('POST', 'auth/token/create', body, t);
    expect((await create({ policies: ['child'], ttl: '10m' })).status).toBe(200);
    expect((await create({ policies: ['child', 'child-ro'], ttl: '10m' })).status).toBe(200); // a glob value
    expect((await create({ policies: ['child'] })).status).toBe(403); // ttl required
    expect((await create({ policies: ['other'], ttl: '10m' })).status).toBe(403); // not an allowed value
    expect((await create({ policies: ['child'], ttl: '10m', display_name: 'x' })).status).toBe(403); // not listed
    expect((await create({ policies: ['child'], ttl: '10m', no_parent: false })).status).toBe(200);
    expect((await create({ policies: ['child'], ttl: '10m', no_parent: true })).status).toBe(403); // denied value
  });

  it('combines with Cedar: allowed when one language allows and neither denies', async () => {
    const cedar = `permit (principal, action == Svault::Action::"read", resource in Svault::Path::"secret/data/locked/");
forbid (principal, action, resource == Svault::Path::"secret/data/app");`;
    expect((await api('PUT', 'sys/policies/acl/cedar-mix', { policy: cedar })).status).toBe(204);
    const hcl = `path "secret/data/*" { capabilities = ["read"] }\npath "secret/data/locked/x" { capabilities = ["deny"] }`;
    expect((await api('PUT', 'sys/policies/acl/hcl-mix', { policy: hcl })).status).toBe(204);
    const t = await token(['cedar-mix', 'hcl-mix']);
    expect((await read(t, 'restricted')).status).toBe(200); // HCL allows, Cedar silent
    expect((await read(t, 'app')).status).toBe(403); // HCL allows, Cedar forbids
    expect((await read(t, 'locked/open')).status).toBe(200); // both allow
    expect((await read(t, 'locked/x')).status).toBe(403); // Cedar allows, HCL denies
    const cedarOnly = await token(['cedar-mix']);
    expect((await read(cedarOnly, 'locked/x')).status).toBe(200);
    expect((await read(cedarOnly, 'restricted')).status).toBe(403);
  });

  it('refuses a bad policy with 400 and Vault-like text, and keeps the previous version', async () => {
    const good = 'path "secret/data/app" { capabilities = ["read"] }';
    expect((await api('PUT', 'sys/policies/acl/strict', { policy: good })).status).toBe(204);
    const bad = [
      [
        'path "secret/data/*" { capabilities = ["reed"] }',
        'failed to parse policy: path "secret/data/*": invalid capability "reed"',
      ],
      ['path "secret/data/*" {\n  capabilities = ["read"\n', 'failed to parse policy: At 3:1'],
      ['path "secret/data/*" { capabilitiez = ["read"] }', 'invalid key "capabilitiez" on line 1'],
      ['pathh "secret/data/*" { capabilities = ["read"] }', 'invalid key "pathh" on line 1'],
      ['path "x" { policy = "writ" }', 'invalid policy "writ"'],
      [`path "x" { a = ${'{ b = '.repeat(5000)}`, 'nesting deeper than'],
      ['{"path": {"x": {"capabilities": "read"}}}', 'capabilities must be a list of strings'],
      ['{"path": ', 'failed to parse policy'],
    ];
    for (const [policy, message] of bad) {
      const r = await api('PUT', 'sys/policies/acl/strict', { policy });
      expect(r.status, policy?.slice(0, 60)).toBe(400);
      expect(r.body.errors[0]).toContain(message);
    }
    expect((await api('GET', 'sys/policies/acl/strict')).body.data.policy).toBe(good);
    const r = await api('PUT', 'sys/policies/acl/never', { policy: 'path "x" { capabilities = ["fly"] }' });
    expect(r.status).toBe(400);
    expect((await api('GET', 'sys/policies/acl/never')).status).toBe(404);
    const t = await token(['strict']);
    expect((await read(t, 'app')).status).toBe(200);
    expect((await read(t, 'restricted')).status).toBe(403);
  });

  it('fills templated paths from the login (userpass alias by mount accessor)', async () => {
    expect((await api('POST', 'sys/auth/userpass', { type: 'userpass' })).status).toBe(204);
    const accessor = (await api('GET', 'sys/auth')).body.data['userpass/'].accessor as string;
    const policy = `path "secret/data/users/{{identity.entity.aliases.${accessor}.name}}/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/data/users/{{identity.entity.aliases.auth_other_123.name}}/*" { capabilities = ["read"] }
path "secret/data/users/{{identity.groups.names}}/*" { capabilities = ["read"] }`;
    expect((await api('PUT', 'sys/policies/acl/per-user', { policy })).status).toBe(204);
    for (const u of ['alice', 'bob']) {
      const w = await api('POST', `auth/userpass/users/${u}`, { password: `pw-${u}-123`, token_policies: 'per-user' });
      expect(w.status).toBe(204);
    }
    await write(root, 'users/bob/key', { k: 'bob' });
    const l = await api('POST', 'auth/userpass/login/alice', { password: 'pw-alice-123' }, '');
    const alice = l.body.auth.client_token as string;
    expect((await write(alice, 'users/alice/key', { k: 'a' })).status).toBe(200);
    expect((await read(alice, 'users/alice/key')).status).toBe(200);
    expect((await read(alice, 'users/bob/key')).status).toBe(403);
    // A token not from a login resolves no template: the paths are left out.
    const plain = await token(['per-user']);
    expect((await read(plain, 'users/alice/key')).status).toBe(403);
  });

  it('keeps enforcing stored HCL policies after a seal and unseal', async () => {
    const t = await token(['docs']);
    expect((await api('PUT', 'sys/seal', {})).status).toBe(204);
    for (const k of keys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    expect((await read(t, 'app')).status).toBe(200);
    expect((await read(t, 'super-secret')).status).toBe(403);
  });
});

describe('a CI job logs in with its JWT and reads only what its role HCL policy allows', () => {
  const ci = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}) => ({
    iss: 'https://ci.example.com',
    aud: 'svault',
    sub: 'repo:group/app:ref:refs/heads/main',
    repository: 'group/app',
    iat: now(),
    exp: now() + 300,
    ...over,
  });

  it('reads secret/data/ci/app/*, nothing else; a wrong audience gets no token', async () => {
    const policy = `
# CI deploy jobs of group/app
path "secret/data/ci/app/*" {
  capabilities = ["read"]
}
path "secret/data/ci/app/admin-*" {
  capabilities = ["deny"]
}`;
    expect((await api('PUT', 'sys/policies/acl/ci-app', { policy })).status).toBe(204);
    for (const p of ['ci/app/deploy-key', 'ci/app/admin-key', 'ci/other/deploy-key']) await write(root, p, { k: p });
    expect((await api('POST', 'sys/auth/jwt', { type: 'jwt' })).status).toBe(204);
    expect(
      (
        await api('POST', 'auth/jwt/config', {
          jwt_validation_pubkeys: [pem(ci.publicKey)],
          bound_issuer: 'https://ci.example.com',
        })
      ).status,
    ).toBe(204);
    const role = await api('POST', 'auth/jwt/role/app-deploy', {
      role_type: 'jwt',
      bound_audiences: ['svault'],
      bound_claims: { repository: 'group/app' },
      user_claim: 'sub',
      token_policies: ['ci-app'],
      token_ttl: '10m',
    });
    expect(role.status, role.text).toBe(204);

    const login = await call(base, 'POST', '/v1/auth/jwt/login', {
      body: { role: 'app-deploy', jwt: signJwt(claims(), ci.privateKey) },
    });
    expect(login.status, login.text).toBe(200);
    expect(login.body.auth.policies).toEqual(['ci-app', 'default']);
    const t = login.body.auth.client_token as string;
    expect((await read(t, 'ci/app/deploy-key')).body.data.data).toEqual({ k: 'ci/app/deploy-key' });
    expect((await read(t, 'ci/app/admin-key')).status).toBe(403);
    expect((await read(t, 'ci/other/deploy-key')).status).toBe(403);
    expect((await write(t, 'ci/app/deploy-key', { k: 'x' })).status).toBe(403);

    const wrongAud = await call(base, 'POST', '/v1/auth/jwt/login', {
      body: { role: 'app-deploy', jwt: signJwt(claims({ aud: 'other' }), ci.privateKey) },
    });
    expect(wrongAud.status).toBe(400);
    expect(wrongAud.body.auth ?? null).toBeNull();
  });
});
