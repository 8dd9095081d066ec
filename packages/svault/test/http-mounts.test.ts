import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: Awaited<ReturnType<typeof startTestServer>>;
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

const api = (method: string, path: string, body?: unknown, token = root) =>
  call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });

/**
 * A certificate's lifetime in seconds, from its own dates (no clock involved), less the 30 s
 * notBefore is backdated by.
 */
function lifetime(pem: string): number {
  const c = new X509Certificate(pem);
  return (Date.parse(c.validTo) - Date.parse(c.validFrom)) / 1000 - 30;
}

/**
 * About `secs`: notAfter and notBefore are taken at slightly different moments (a key is
 * generated in between) and cut to whole seconds; the TTLs compared here differ by hours.
 */
function expectLifetime(pem: string, secs: number): void {
  expect(Math.abs(lifetime(pem) - secs)).toBeLessThanOrEqual(120);
}

async function resealAndUnseal(): Promise<void> {
  expect((await api('PUT', 'sys/seal')).status).toBe(204);
  for (const k of keys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
}

describe('sys/mounts/<path>/tune', () => {
  it('reads the effective TTLs, tunes them and the description, and keeps them across a seal', async () => {
    expect((await api('POST', 'sys/mounts/pki', { type: 'pki' })).status).toBe(204);
    const before = await api('GET', 'sys/mounts/pki/tune');
    expect(before.status).toBe(200);
    expect(before.body.data).toMatchObject({
      default_lease_ttl: 2764800,
      max_lease_ttl: 2764800,
      force_no_cache: false,
    });
    const t = await api('POST', 'sys/mounts/pki/tune', { max_lease_ttl: '87600h', description: 'the CA' });
    expect(t.status, t.text).toBe(204);
    const after = await api('GET', 'sys/mounts/pki/tune');
    expect(after.body.data).toMatchObject({
      max_lease_ttl: 315360000,
      default_lease_ttl: 2764800,
      description: 'the CA',
    });
    const listed = await api('GET', 'sys/mounts');
    expect(listed.body.data['pki/'].config.max_lease_ttl).toBe(315360000);
    expect(listed.body.data['pki/'].description).toBe('the CA');
    await resealAndUnseal();
    expect((await api('GET', 'sys/mounts/pki/tune')).body.data.max_lease_ttl).toBe(315360000);
    // "system" goes back to the system value.
    expect((await api('POST', 'sys/mounts/pki/tune', { max_lease_ttl: 'system' })).status).toBe(204);
    expect((await api('GET', 'sys/mounts/pki/tune')).body.data.max_lease_ttl).toBe(2764800);
  });

  it('refuses bad tunings with Vault messages and changes nothing', async () => {
    const before = (await api('GET', 'sys/mounts/pki/tune')).body.data;
    const bad: [unknown, string, RegExp][] = [
      [
        { default_lease_ttl: '2h', max_lease_ttl: '1h' },
        'pki',
        /^backend max lease TTL of 3600 would be less than backend default lease TTL of 7200$/,
      ],
      [{ default_lease_ttl: '800h' }, 'pki', /^given default lease TTL greater than system max lease TTL of 2764800$/],
      [{ max_lease_ttl: 'forever' }, 'pki', /field "max_lease_ttl"/],
      [{ listing_visibility: 'everyone' }, 'pki', /invalid listing_visibility/],
      [{ description: 'x' }, 'nope', /^tune of path "nope\/" failed: no mount entry found$/],
      [{ options: { version: '1' } }, 'secret', /changing the version of a KV mount is not supported/],
      [{ default_lease_ttl: '1h' }, 'sys', /cannot tune "sys\/"/],
    ];
    for (const [body, mount, msg] of bad) {
      const r = await api('POST', `sys/mounts/${mount}/tune`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect((await api('GET', 'sys/mounts/pki/tune')).body.data).toEqual(before);
    expect((await api('GET', 'sys/mounts/nope/tune')).status).toBe(400);
  });

  it('is honoured at once where TTLs are capped: CA and leaf certificates of the mount', async () => {
    // A CA made before the tuning (72h), then the mount's max goes down to 2h.
    const gen = await api('POST', 'pki/root/generate/internal', { common_name: 'example.com', ttl: '72h' });
    expect(gen.status, gen.text).toBe(200);
    expectLifetime(gen.body.data.certificate, 72 * 3600);
    await api('POST', 'pki/roles/web', { allowed_domains: 'example.com', allow_subdomains: true });
    expect((await api('POST', 'sys/mounts/pki/tune', { max_lease_ttl: '2h' })).status).toBe(204);
    const capped = await api('POST', 'pki/issue/web', { common_name: 'a.example.com', ttl: '5h' });
    expect(capped.status, capped.text).toBe(200);
    expectLifetime(capped.body.data.certificate, 2 * 3600);
    expect(capped.body.warnings?.join(' ')).toMatch(/maxTTL/);
    // Raised again: a 5h certificate is issued as asked.
    expect((await api('POST', 'sys/mounts/pki/tune', { max_lease_ttl: '10h' })).status).toBe(204);
    const asked = await api('POST', 'pki/issue/web', { common_name: 'b.example.com', ttl: '5h' });
    expectLifetime(asked.body.data.certificate, 5 * 3600);
    // A new CA on a mount tuned to 3h is cut to 3h, whatever it asks for.
    expect((await api('POST', 'sys/mounts/pki2', { type: 'pki', config: { max_lease_ttl: '3h' } })).status).toBe(204);
    const ca2 = await api('POST', 'pki2/root/generate/internal', { common_name: 'two.example.com', ttl: '87600h' });
    expectLifetime(ca2.body.data.certificate, 3 * 3600);
  });
});

describe('sys/remount', () => {
  it('moves a mount with its data; the old path is gone; it survives a seal', async () => {
    await api('POST', 'secret/data/app/db', { data: { password: 'p1' } });
    const r = await api('POST', 'sys/remount', { from: 'secret', to: 'kv-moved' });
    expect(r.status, r.text).toBe(200);
    const id = r.body.data.migration_id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const st = await api('GET', `sys/remount/status/${id}`);
    expect(st.body.data.migration_info).toEqual({
      source_mount: 'secret/',
      target_mount: 'kv-moved/',
      status: 'success',
    });
    expect((await api('GET', 'kv-moved/data/app/db')).body.data.data).toEqual({ password: 'p1' });
    expect((await api('GET', 'secret/data/app/db')).status).toBe(404);
    const mounts = (await api('GET', 'sys/mounts')).body.data;
    expect(mounts['kv-moved/'].options).toEqual({ version: '2' });
    expect(mounts['secret/']).toBeUndefined();
    await resealAndUnseal();
    expect((await api('GET', 'kv-moved/data/app/db')).body.data.data).toEqual({ password: 'p1' });
    // And writes go on at the new path.
    expect((await api('POST', 'kv-moved/data/app/db', { data: { password: 'p2' } })).status).toBe(200);
  });

  it('refuses bad moves and leaves the mount table as it was', async () => {
    const before = Object.keys((await api('GET', 'sys/mounts')).body.data).sort();
    const bad: [unknown, RegExp][] = [
      [{ from: 'nope', to: 'other' }, /^no matching mount at "nope\/"$/],
      [{ from: 'kv-moved', to: 'pki' }, /^path already in use at "pki\/"$/],
      [{ from: 'kv-moved', to: 'pki/sub' }, /^path already in use at "pki\/"$/],
      [{ from: 'sys', to: 'system2' }, /^cannot remount "sys\/"$/],
      [{ from: 'kv-moved', to: 'sys/x' }, /^cannot remount to destination "sys\/x\/"$/],
      [{ from: 'kv-moved', to: 'auth/kv' }, /^cannot remount to destination "auth\/kv\/"$/],
      [{ from: 'kv-moved' }, /both 'from' and 'to' path must be specified/],
      [{ from: 'kv-moved', to: 'bad path!' }, /invalid mount path/],
    ];
    for (const [body, msg] of bad) {
      const r = await api('POST', 'sys/remount', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(msg);
    }
    expect(Object.keys((await api('GET', 'sys/mounts')).body.data).sort()).toEqual(before);
    expect((await api('GET', 'sys/remount/status/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    // A token without sudo on sys/remount may not move anything.
    const t = await api('POST', 'auth/token/create', { policies: ['default'] });
    const denied = await api('POST', 'sys/remount', { from: 'kv-moved', to: 'kv3' }, t.body.auth.client_token);
    expect(denied.status).toBe(403);
  });
});

describe('sys/internal/ui/mounts', () => {
  let appToken: string;
  beforeAll(async () => {
    const policy = `permit (principal, action == Svault::Action::"read", resource in Svault::Path::"kv-moved/data/app/");`;
    expect((await api('PUT', 'sys/policies/acl/app', { policy })).status).toBe(204);
    appToken = (await api('POST', 'auth/token/create', { policies: ['app'] })).body.auth.client_token;
  });

  it('lists what a token may use, everything for root, and only "unauth" mounts without a token', async () => {
    const anon = await call(base, 'GET', '/v1/sys/internal/ui/mounts');
    expect(anon.status).toBe(200);
    expect(anon.body.data).toEqual({ secret: {}, auth: {} });
    expect((await api('POST', 'sys/mounts/kv-moved/tune', { listing_visibility: 'unauth' })).status).toBe(204);
    const anon2 = await call(base, 'GET', '/v1/sys/internal/ui/mounts');
    expect(anon2.body.data.secret).toEqual({ 'kv-moved/': { type: 'kv', description: '', options: { version: '2' } } });

    const all = await api('GET', 'sys/internal/ui/mounts');
    expect(Object.keys(all.body.data.secret)).toEqual(expect.arrayContaining(['kv-moved/', 'pki/', 'pki2/', 'sys/']));
    expect(all.body.data.secret['pki/']).toMatchObject({ type: 'pki', accessor: expect.any(String) });

    const app = await api('GET', 'sys/internal/ui/mounts', undefined, appToken);
    // sys/ and cubbyhole/ through the default policy (capabilities-self, the token's own
    // cubbyhole), as in Vault; not pki/ nor pki2/.
    expect(Object.keys(app.body.data.secret).sort()).toEqual(['cubbyhole/', 'kv-moved/', 'sys/']);
    expect(app.body.data.secret['kv-moved/'].uuid).toEqual(expect.any(String));
  });

  it('answers the vault CLI KV preflight for a path, and 403 where the token has no access or no mount is', async () => {
    const r = await api('GET', 'sys/internal/ui/mounts/kv-moved/app/db', undefined, appToken);
    expect(r.status, r.text).toBe(200);
    expect(r.body.data).toMatchObject({ path: 'kv-moved/', type: 'kv', options: { version: '2' } });
    for (const [path, token] of [
      ['pki/issue/web', appToken],
      ['nomount/x', root],
      ['kv-moved/app', ''],
    ] as const) {
      const d = await call(base, 'GET', `/v1/sys/internal/ui/mounts/${path}`, token ? { token } : {});
      expect(d.status, path).toBe(403);
      expect(d.body.errors[0]).toMatch(/^preflight capability check returned 403/);
    }
  });
});
