import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox } from '../../../../test/run-bin.js';
import { SECRET_KV_TOML } from '../helpers.js';
import { type ServerProcess, spawnServer } from '../proc.js';
import { type Json, VaultApi, VaultApiError } from './vault-api.js';

// The server is the real `svault server` binary; the client knows only Vault's documentation.
let srv: ServerProcess;
let vault: VaultApi;
let keys: string[];
let root: string;

beforeAll(async () => {
  const { cwd, env } = sandbox();
  const cfg = join(cwd, 'svault.toml');
  writeFileSync(
    cfg,
    `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${join(cwd, 'data')}"\n${SECRET_KV_TOML}`,
  );
  srv = await spawnServer(['--config', cfg], { cwd, env });
  vault = new VaultApi(srv.address);
});
afterAll(async () => {
  await srv?.stop();
});

/** The error a call fails with (the documented {"errors": [...]} and status). */
async function failure(p: Promise<unknown>): Promise<VaultApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VaultApiError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}

const ENVELOPE = ['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth'];

describe('Vault API compatibility: sys', () => {
  it('init, seal-status, unseal with a threshold of keys, reset, health codes', async () => {
    expect(await vault.initStatus()).toEqual({ initialized: false });
    expect((await vault.health()).status).toBe(501);
    expect((await vault.health('?uninitcode=299')).status).toBe(299);
    const init = await vault.init(5, 3);
    expect(init.keys).toHaveLength(5);
    expect(init.keys_base64).toHaveLength(5);
    expect(init.root_token).toMatch(/^hvs\./);
    keys = init.keys;
    root = init.root_token;
    expect((await failure(vault.init(5, 3))).status).toBe(400);

    const sealed = await vault.sealStatus();
    expect(sealed).toMatchObject({ type: 'shamir', initialized: true, sealed: true, t: 3, n: 5, progress: 0 });
    expect(typeof sealed.version).toBe('string');
    expect((await vault.health()).status).toBe(503);
    expect((await vault.health('?sealedcode=200')).status).toBe(200);

    expect(await vault.unseal(keys[0] as string)).toMatchObject({ sealed: true, progress: 1 });
    expect(await vault.unsealReset()).toMatchObject({ sealed: true, progress: 0 });
    await vault.unseal(keys[4] as string);
    await vault.unseal(init.keys_base64[2]); // base64 works as well as hex
    const unsealed = await vault.unseal(keys[1] as string);
    expect(unsealed).toMatchObject({ sealed: false, progress: 0 });
    expect(typeof unsealed.cluster_name).toBe('string');
    const health = await vault.health();
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(typeof health.body.server_time_utc).toBe('number');
  });

  it('mounts: list, enable KV v2 and v1, disable; requests need a token', async () => {
    expect((await failure(vault.mounts())).status).toBe(403);
    vault.token = root;
    const mounts = await vault.mounts();
    expect(Object.keys(mounts)).toEqual(expect.arrayContaining(ENVELOPE));
    expect(mounts.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(mounts['secret/']).toEqual(mounts.data['secret/']); // sys responses repeat data at the top
    expect(await vault.enableSecretsEngine('kv2', 'kv-v2')).toBeUndefined();
    expect(await vault.enableSecretsEngine('kv1', 'kv', { version: '1' })).toBeUndefined();
    const after = await vault.mounts();
    expect(after.data['kv2/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(after.data['kv1/'].type).toBe('kv');
    expect((await failure(vault.enableSecretsEngine('kv2', 'kv-v2'))).status).toBe(400);
    await vault.disableSecretsEngine('kv1');
    expect((await vault.mounts()).data['kv1/']).toBeUndefined();
    const unknown = await vault.raw('GET', 'nosuchmount/foo');
    expect(unknown.status).toBe(404);
    expect(Array.isArray(unknown.body.errors)).toBe(true);
  });
});

describe('Vault API compatibility: KV', () => {
  it('KV v2: versions, check-and-set, read by version, list, metadata', async () => {
    const w1 = await vault.kv2Write('secret', 'app/db', { user: 'admin', password: 'one' });
    expect(Object.keys(w1)).toEqual(expect.arrayContaining(ENVELOPE));
    expect(w1.data).toMatchObject({ version: 1, destroyed: false, deletion_time: '' });
    expect(typeof w1.data.created_time).toBe('string');
    await vault.kv2Write('secret', 'app/db', { user: 'admin', password: 'two' }, 1);
    const cas = await failure(vault.kv2Write('secret', 'app/db', { password: 'x' }, 1));
    expect(cas.status).toBe(400);
    expect(cas.errors.join()).toMatch(/check-and-set/);
    expect((await failure(vault.kv2Write('secret', 'app/db', { password: 'x' }, 0))).status).toBe(400);

    const latest = await vault.kv2Read('secret', 'app/db');
    expect(latest.data.data).toEqual({ user: 'admin', password: 'two' });
    expect(latest.data.metadata).toMatchObject({ version: 2, destroyed: false });
    expect((await vault.kv2Read('secret', 'app/db', 1)).data.data.password).toBe('one');
    expect((await failure(vault.kv2Read('secret', 'app/nothing'))).status).toBe(404);

    await vault.kv2Write('secret', 'app/api', { key: 'k' });
    await vault.kv2Write('secret', 'app/nested/x', { a: '1' });
    expect((await vault.kv2List('secret', 'app')).data.keys).toEqual(['api', 'db', 'nested/']);
    const viaGet = await vault.call('GET', 'secret/metadata/app?list=true');
    expect(viaGet.data.keys).toEqual(['api', 'db', 'nested/']);
    expect((await failure(vault.kv2List('secret', 'empty'))).status).toBe(404);

    const meta = await vault.kv2ReadMetadata('secret', 'app/db');
    expect(meta.data).toMatchObject({ current_version: 2, oldest_version: 1, max_versions: 0, cas_required: false });
    expect(Object.keys(meta.data.versions)).toEqual(['1', '2']);
    await vault.kv2WriteMetadata('secret', 'app/db', { max_versions: 2, custom_metadata: { owner: 'ops' } });
    await vault.kv2Write('secret', 'app/db', { password: 'three' });
    const pruned = await vault.kv2ReadMetadata('secret', 'app/db');
    expect(Object.keys(pruned.data.versions)).toEqual(['2', '3']);
    expect(pruned.data.custom_metadata).toEqual({ owner: 'ops' });
  });

  it('KV v2: soft delete, undelete, destroy, delete metadata', async () => {
    await vault.kv2DeleteLatest('secret', 'app/db');
    const deleted = await vault.raw('GET', 'secret/data/app/db');
    expect(deleted.status).toBe(404);
    expect(deleted.body.data.data).toBeNull(); // the documented body of a deleted version
    expect(deleted.body.data.metadata.deletion_time).not.toBe('');
    await vault.kv2Undelete('secret', 'app/db', [3]);
    expect((await vault.kv2Read('secret', 'app/db')).data.data.password).toBe('three');
    await vault.kv2DeleteVersions('secret', 'app/db', [2]);
    expect((await failure(vault.kv2Read('secret', 'app/db', 2))).status).toBe(404);
    await vault.kv2Destroy('secret', 'app/db', [3]);
    const destroyed = await vault.raw('GET', 'secret/data/app/db');
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata.destroyed).toBe(true);
    await vault.kv2DeleteMetadata('secret', 'app/db');
    expect((await failure(vault.kv2ReadMetadata('secret', 'app/db'))).status).toBe(404);
  });

  it('KV v1 on its own mount', async () => {
    await vault.enableSecretsEngine('kv', 'kv', { version: '1' });
    await vault.kv1Write('kv', 'team/cfg', { url: 'https://example', retries: 3 });
    const r = await vault.kv1Read('kv', 'team/cfg');
    expect(r.data).toEqual({ url: 'https://example', retries: 3 });
    expect((await vault.kv1List('kv', 'team')).data.keys).toEqual(['cfg']);
    await vault.call('DELETE', 'kv/team/cfg');
    expect((await failure(vault.kv1Read('kv', 'team/cfg'))).status).toBe(404);
  });
});

describe('Vault API compatibility: tokens', () => {
  it('create, look up (self, by token, by accessor), renew, revoke with children', async () => {
    // Policies go through the documented endpoint; their language is svault's (Cedar, not HCL).
    await vault.call('PUT', 'sys/policies/acl/dev', {
      policy:
        'permit (principal, action in [Svault::Action::"create", Svault::Action::"update"], ' +
        'resource == Svault::Path::"auth/token/create");',
    });
    const created = await vault.tokenCreate({ policies: ['dev'], ttl: '1h', meta: { who: 'compat' } });
    expect(created.data).toBeNull();
    const auth: Json = created.auth;
    expect(auth).toMatchObject({
      policies: ['default', 'dev'],
      metadata: { who: 'compat' },
      lease_duration: 3600,
      renewable: true,
      orphan: false,
    });
    expect(auth.client_token).toMatch(/^hvs\./);
    expect(typeof auth.accessor).toBe('string');

    const child = new VaultApi(srv.address);
    child.token = auth.client_token;
    const self = await child.tokenLookupSelf();
    expect(self.data).toMatchObject({ id: auth.client_token, accessor: auth.accessor, meta: { who: 'compat' } });
    expect(self.data.ttl).toBeGreaterThan(3500);
    expect((await vault.tokenLookup(auth.client_token)).data.accessor).toBe(auth.accessor);
    const byAccessor = await vault.tokenLookupAccessor(auth.accessor);
    expect(byAccessor.data.policies).toEqual(['default', 'dev']);
    expect(byAccessor.data.id).toBe(''); // the token is not revealed through its accessor
    const renewed = await child.tokenRenewSelf('2h');
    expect(renewed.auth.lease_duration).toBe(7200);

    // A grandchild dies with its parent; an orphan does not.
    const grandchild = (await child.call('POST', 'auth/token/create', { policies: ['dev'] })).auth.client_token;
    const orphan = (await vault.tokenCreateOrphan({ policies: ['dev'] })).auth.client_token;
    expect(await vault.tokenRevoke(auth.client_token)).toBeUndefined();
    expect((await failure(child.tokenLookupSelf())).status).toBe(403);
    expect((await failure(vault.tokenLookup(grandchild))).status).toBe(400);
    expect((await vault.tokenLookup(orphan)).data.orphan).toBe(true);

    const other = new VaultApi(srv.address);
    other.token = (await vault.tokenCreate({ policies: ['dev'] })).auth.client_token;
    await other.tokenRevokeSelf();
    expect((await failure(other.tokenLookupSelf())).status).toBe(403);
    const byAcc = await vault.tokenCreate({});
    await vault.tokenRevokeAccessor(byAcc.auth.accessor);
    expect((await failure(vault.tokenLookup(byAcc.auth.client_token))).status).toBe(400);
  });

  it('the root token: no TTL; sealing makes every secret path 503', async () => {
    const me = await vault.tokenLookupSelf();
    expect(me.data).toMatchObject({ policies: ['root'], ttl: 0, expire_time: null });
    expect(await vault.seal()).toBeUndefined();
    const sealed = await vault.raw('GET', 'secret/data/app/api');
    expect(sealed.status).toBe(503);
    expect(sealed.body.errors).toEqual(['Vault is sealed']);
    for (const k of keys.slice(0, 3)) await vault.unseal(k);
    expect((await vault.kv2Read('secret', 'app/api')).data.data).toEqual({ key: 'k' });
  });
});
