import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, initAndUnseal, signJwt, startTestServer } from './helpers.js';

let srv: Awaited<ReturnType<typeof startTestServer>>;
let base: string;
let root: string;

const api = (method: string, path: string, body?: unknown, token = root) =>
  call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });
const login = (body: unknown) => call(base, 'POST', '/v1/auth/jwt/login', { body });

// The CI system's signing keys, made here as a CI provider holds its own.
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ed = generateKeyPairSync('ed25519');
const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A JWT signed with node:crypto, as a CI system issues one. */
const jwt = (claims: Record<string, unknown>, key: KeyObject = ec.privateKey, alg = 'ES256', kid = 'ci-1') =>
  signJwt(claims, key, alg, kid);

const now = () => Math.floor(Date.now() / 1000);
/** Claims of a GitLab-CI-like job token, valid for the next 5 minutes. */
const ciClaims = (over: Record<string, unknown> = {}) => ({
  iss: 'https://ci.example.com',
  aud: 'svault',
  sub: 'project_path:group/app:ref_type:branch:ref:main',
  project_path: 'group/app',
  ref: 'main',
  ref_protected: true,
  pipeline_id: 4242,
  iat: now(),
  nbf: now(),
  exp: now() + 300,
  ...over,
});

beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root } = await initAndUnseal(base));
  const policy = readFileSync(
    join(import.meta.dirname, '..', '..', '..', 'examples', 'svault', 'ci-deploy.cedar'),
    'utf8',
  );
  expect((await api('PUT', 'sys/policies/acl/ci-deploy', { policy })).status).toBe(204);
  await api('POST', 'secret/data/ci/app/deploy-key', { data: { key: 'k1' } });
  await api('POST', 'secret/data/ci/app/production/deploy-key', { data: { key: 'prod' } });
  await api('POST', 'secret/data/ci/other/deploy-key', { data: { key: 'k2' } });
  expect((await api('POST', 'sys/auth/jwt', { type: 'jwt' })).status).toBe(204);
  const cfg = await api('POST', 'auth/jwt/config', {
    jwt_validation_pubkeys: [pem(ec.publicKey), pem(rsa.publicKey), pem(ed.publicKey)],
    bound_issuer: 'https://ci.example.com',
  });
  expect(cfg.status, cfg.text).toBe(204);
  const role = await api('POST', 'auth/jwt/role/deploy', {
    role_type: 'jwt',
    bound_audiences: ['svault'],
    bound_claims_type: 'glob',
    bound_claims: { project_path: 'group/app', ref: ['main', 'release/*'] },
    user_claim: 'sub',
    claim_mappings: { project_path: 'project', ref: 'ref', pipeline_id: 'pipeline' },
    token_policies: ['ci-deploy'],
    token_ttl: '10m',
  });
  expect(role.status, role.text).toBe(204);
});
afterAll(async () => {
  await srv.close();
});

describe('jwt auth: a CI job logs in with a JWT signed by its CI system', () => {
  it('logs in and reads only what the role policy allows', async () => {
    const r = await login({ role: 'deploy', jwt: jwt(ciClaims()) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.auth).toMatchObject({
      policies: ['ci-deploy', 'default'],
      metadata: { role: 'deploy', project: 'group/app', ref: 'main', pipeline: '4242' },
      lease_duration: expect.closeTo(600, -1),
      orphan: true,
    });
    const t = r.body.auth.client_token as string;
    expect((await api('GET', 'secret/data/ci/app/deploy-key', undefined, t)).body.data.data).toEqual({ key: 'k1' });
    expect((await api('GET', 'secret/data/ci/other/deploy-key', undefined, t)).status).toBe(403);
    expect((await api('POST', 'secret/data/ci/app/deploy-key', { data: { key: 'x' } }, t)).status).toBe(403);
    const self = (await api('GET', 'auth/token/lookup-self', undefined, t)).body.data;
    expect(self.display_name).toBe('jwt-project_path:group/app:ref_type:branch:ref:main');
    // Globs in bound claims; RS256 and EdDSA keys of the same configuration.
    expect(
      (await login({ role: 'deploy', jwt: jwt(ciClaims({ ref: 'release/1.2' }), rsa.privateKey, 'RS256') })).status,
    ).toBe(200);
    expect(
      (await login({ role: 'deploy', jwt: jwt(ciClaims({ aud: ['other', 'svault'] }), ed.privateKey, 'EdDSA') }))
        .status,
    ).toBe(200);
  });

  it('honours leeway on exp, and a role may narrow it', async () => {
    // Expired 30 s ago: within the default leeways (150 s + 60 s clock skew).
    expect((await login({ role: 'deploy', jwt: jwt(ciClaims({ exp: now() - 30 })) })).status).toBe(200);
    await api('POST', 'auth/jwt/role/strict', {
      bound_audiences: 'svault',
      user_claim: 'sub',
      bound_subject: 'project_path:group/app:ref_type:branch:ref:main',
      token_policies: 'ci-deploy',
      expiration_leeway: -1,
      clock_skew_leeway: -1,
    });
    const r = await login({ role: 'strict', jwt: jwt(ciClaims({ exp: now() - 30 })) });
    expect(r.body.errors).toEqual(['invalid expiration time (exp) claim: token is expired']);
    expect((await login({ role: 'strict', jwt: jwt(ciClaims()) })).status).toBe(200);
  });

  it('refuses bad JWTs with clear errors and issues nothing', async () => {
    const accessors = async () => (await api('GET', 'auth/token/accessors?list=true')).body.data.keys.length;
    const n = await accessors();
    const unsigned = `${b64({ alg: 'none' })}.${b64(ciClaims())}.`;
    const hs = `${b64({ alg: 'HS256' })}.${b64(ciClaims())}.${Buffer.from('x').toString('base64url')}`;
    const good = jwt(ciClaims());
    const [h, p] = good.split('.');
    const tampered = `${h}.${b64({ ...ciClaims(), project_path: 'group/other' })}.${good.split('.')[2]}`;
    const bad: [unknown, RegExp][] = [
      [
        { role: 'deploy', jwt: jwt(ciClaims({ aud: 'someone-else' })) },
        /^invalid audience \(aud\) claim: audience claim does not match any expected audience$/,
      ],
      [
        { role: 'deploy', jwt: jwt(ciClaims(), rogue.privateKey) },
        /no known key successfully validated the token signature/,
      ],
      [{ role: 'deploy', jwt: tampered }, /no known key successfully validated the token signature/],
      [{ role: 'deploy', jwt: jwt(ciClaims({ exp: now() - 3600 })) }, /token is expired/],
      [{ role: 'deploy', jwt: jwt(ciClaims({ nbf: now() + 3600 })) }, /token not yet valid/],
      [{ role: 'deploy', jwt: jwt(ciClaims({ exp: undefined })) }, /invalid expiration time \(exp\) claim/],
      [{ role: 'deploy', jwt: jwt(ciClaims({ iss: 'https://evil.example.com' })) }, /invalid issuer \(iss\) claim/],
      [
        { role: 'deploy', jwt: jwt(ciClaims({ ref: 'feature/x' })) },
        /^claim "ref" does not match any associated bound claim values$/,
      ],
      [{ role: 'deploy', jwt: jwt(ciClaims({ project_path: 'group/other' })) }, /claim "project_path" does not match/],
      [
        { role: 'strict', jwt: jwt(ciClaims({ sub: 'project_path:group/app:ref_type:branch:ref:dev' })) },
        /sub claim does not match bound subject/,
      ],
      [{ role: 'deploy', jwt: jwt(ciClaims({ sub: undefined })) }, /claim "sub" not found in token/],
      [{ role: 'deploy', jwt: unsigned }, /unsupported signing algorithm "none"/],
      [{ role: 'deploy', jwt: hs }, /unsupported signing algorithm "HS256"/],
      [{ role: 'deploy', jwt: `${h}.${p}` }, /malformed JWT/],
      [{ role: 'deploy', jwt: 'a.b.c' }, /malformed JWT/],
      [{ role: 'nope', jwt: good }, /^role "nope" could not be found$/],
      [{ role: 'deploy' }, /^missing token$/],
    ];
    for (const [body, msg] of bad) {
      const r = await login(body);
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect(await accessors()).toBe(n);
  });

  it('refuses bad configuration and roles without changing what is there', async () => {
    const cfg = (await api('GET', 'auth/jwt/config')).body.data;
    const role = (await api('GET', 'auth/jwt/role/deploy')).body.data;
    const bad: [string, unknown, RegExp][] = [
      ['config', { jwt_validation_pubkeys: ['not a key'] }, /error parsing public key 1/],
      ['config', {}, /exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set/],
      [
        'config',
        { jwt_validation_pubkeys: [pem(ec.publicKey)], jwt_supported_algs: ['HS256'] },
        /unsupported signing algorithm/,
      ],
      ['role/deploy', { user_claim: '' }, /a user claim must be defined on the role/],
      ['role/deploy', { bound_claims_type: 'regex' }, /invalid 'bound_claims_type'/],
      ['role/deploy', { bound_claims: { ref: 5 } }, /bound claim "ref" must be a string or a list of strings/],
      ['role/deploy', { role_type: 'oidc' }, /only "jwt" roles/],
      ['role/loose', { user_claim: 'sub' }, /must have at least one bound constraint/],
      ['role/deploy', { token_ttl: '2h', token_max_ttl: '1h' }, /'token_ttl' cannot be greater than 'token_max_ttl'/],
    ];
    for (const [path, body, msg] of bad) {
      const r = await api('POST', `auth/jwt/${path}`, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect((await api('GET', 'auth/jwt/config')).body.data).toEqual(cfg);
    expect((await api('GET', 'auth/jwt/role/deploy')).body.data).toEqual(role);
    expect((await api('GET', 'auth/jwt/role/loose')).status).toBe(404);
    expect((await login({ role: 'deploy', jwt: jwt(ciClaims()) })).status).toBe(200);
  });
});

describe('jwt auth with the keys from a JWKS URL', () => {
  // The CI system's key endpoint: a real HTTP server on loopback, serving what `jwks` holds.
  let jwks: unknown = {};
  let keyServer: Server;
  let jwksUrl: string;
  const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const asJwk = (k: KeyObject, kid: string) => ({ ...k.export({ format: 'jwk' }), kid, use: 'sig', alg: 'ES256' });
  beforeAll(async () => {
    keyServer = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(typeof jwks === 'string' ? jwks : JSON.stringify(jwks));
    });
    await new Promise<void>((r) => keyServer.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    expect((await api('POST', 'sys/auth/ci', { type: 'jwt' })).status).toBe(204);
  });
  afterAll(async () => {
    await new Promise((r) => keyServer.close(r));
  });
  const ciLogin = (token: string) => call(base, 'POST', '/v1/auth/ci/login', { body: { role: 'deploy', jwt: token } });

  it('logs in with a key from the set, and follows a key rotation', async () => {
    jwks = { keys: [asJwk(ec.publicKey, 'k1'), { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }] };
    const cfg = await api('POST', 'auth/ci/config', { jwks_url: jwksUrl, bound_issuer: 'https://ci.example.com' });
    expect(cfg.status, cfg.text).toBe(204);
    expect((await api('GET', 'auth/ci/config')).body.data.jwks_url).toBe(jwksUrl);
    await api('POST', 'auth/ci/role/deploy', {
      bound_audiences: 'svault',
      bound_claims: { project_path: 'group/app' },
      user_claim: 'sub',
      token_policies: 'ci-deploy',
    });
    const r = await ciLogin(jwt(ciClaims(), ec.privateKey, 'ES256', 'k1'));
    expect(r.status, r.text).toBe(200);
    expect((await api('GET', 'secret/data/ci/app/deploy-key', undefined, r.body.auth.client_token)).status).toBe(200);
    // The CI system rotates to k2 and drops k1: a k2 token fetches the set again.
    jwks = { keys: [asJwk(rotated.publicKey, 'k2')] };
    await sleep(1100); // past the minimum interval between fetches
    expect((await ciLogin(jwt(ciClaims(), rotated.privateKey, 'ES256', 'k2'))).status).toBe(200);
    const old = await ciLogin(jwt(ciClaims(), ec.privateKey, 'ES256', 'k1'));
    expect(old.status).toBe(400);
    expect(old.body.errors[0]).toMatch(/no known key successfully validated the token signature/);
  });

  it('refuses a JWKS URL it cannot use, and keeps the configuration it has', async () => {
    const before = (await api('GET', 'auth/ci/config')).body.data;
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/jwks`;
    await new Promise((r) => dead.close(r));
    const bad: [unknown, RegExp, unknown?][] = [
      [{ jwks_url: deadUrl }, /^error checking jwks URL: /],
      [{ jwks_url: jwksUrl }, /error checking jwks URL: .* did not answer JSON/, 'not json'],
      [{ jwks_url: jwksUrl }, /has no usable signing keys/, { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }],
      [{ jwks_url: 'file:///etc/passwd' }, /invalid jwks_url/],
      [{ jwks_url: jwksUrl, jwt_validation_pubkeys: [pem(ec.publicKey)] }, /exactly one of/],
    ];
    for (const [body, msg, served] of bad) {
      if (served !== undefined) jwks = served;
      const r = await api('POST', 'auth/ci/config', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect((await api('GET', 'auth/ci/config')).body.data).toEqual(before);
  });
});
