import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import type { RunningServer } from '../src/server/main.js';
import { startTestServer } from './helpers.js';

let srv: RunningServer;
let env: NodeJS.ProcessEnv;
let cwd: string;
const sv = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runBin('svault', args, { cwd, env: { ...env, ...extra } });

beforeAll(async () => {
  srv = await startTestServer();
  ({ cwd, env } = sandbox());
  env.SVAULT_ADDR = srv.address;
});
afterAll(async () => {
  await srv.close();
});

describe('svault CLI against a server (SVAULT_ADDR)', { timeout: 90_000 }, () => {
  it('init, unseal K of N, KV put/get with versions and CAS, seal — with the documented exit codes', async () => {
    const st0 = await sv(['operator', 'status', '--json']);
    expect(st0.code).toBe(5);
    expect(JSON.parse(st0.stdout)).toMatchObject({ initialized: false, sealed: true });

    const init = await sv(['operator', 'init', '--shares', '3', '--threshold', '2', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const { keys_base64: keys, root_token: root } = JSON.parse(init.stdout);
    expect(keys).toHaveLength(3);
    env.SVAULT_TOKEN = root;

    const sealed = await sv(['kv', 'get', 'secret/myapp']);
    expect(sealed.code).toBe(5);
    expect(sealed.stderr).toMatch(/Vault is sealed/);

    const u1 = await sv(['operator', 'unseal', '--share', keys[2], '--json']);
    expect(JSON.parse(u1.stdout)).toMatchObject({ sealed: true, progress: 1 });
    const u2 = await sv(['operator', 'unseal', keys[0]]);
    expect(u2.stdout).toContain('Unsealed.');
    expect((await sv(['operator', 'status'])).code).toBe(0);

    expect((await sv(['kv', 'put', 'secret/myapp', 'user=admin', 'password=s3cr3t'])).code).toBe(0);
    expect((await sv(['kv', 'put', 'secret/myapp', 'password=n3w', '--cas', '1'])).code).toBe(0);
    const v1 = await sv(['kv', 'get', 'secret/myapp', '--version', '1', '--json']);
    expect(JSON.parse(v1.stdout).data.data).toEqual({ user: 'admin', password: 's3cr3t' });
    const field = await sv(['kv', 'get', 'secret/myapp', '--field', 'password']);
    expect(field.stdout.trim()).toBe('n3w');
    const fieldJson = await sv(['kv', 'get', 'secret/myapp', '--field', 'password', '--json']);
    expect([fieldJson.code, JSON.parse(fieldJson.stdout)]).toEqual([0, 'n3w']); // one JSON string, as vault -format=json
    const cas = await sv(['kv', 'put', 'secret/myapp', 'password=x', '--cas', '1']);
    expect(cas.code).toBe(6);
    expect(cas.stderr).toMatch(/check-and-set parameter did not match the current version/);
    expect((await sv(['kv', 'get', 'secret/absent'])).code).toBe(4);
    const list = await sv(['kv', 'list', 'secret/', '--json']);
    expect(JSON.parse(list.stdout)).toEqual({ keys: ['myapp'] });

    const bad = await sv(['kv', 'put', 'secret/myapp', 'novalue']);
    expect(bad.code).toBe(2);

    expect((await sv(['operator', 'seal'])).code).toBe(0);
    expect((await sv(['kv', 'get', 'secret/myapp'])).code).toBe(5);
    await sv(['operator', 'unseal', keys[1]]);
    await sv(['operator', 'unseal', keys[2]]);
  });

  it('tokens: create with a policy and TTL, look up, denied elsewhere, revoke', async () => {
    const created = await sv(['token', 'create', '--policy', 'app', '--ttl', '1h', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const auth = JSON.parse(created.stdout).auth;
    expect(auth.policies).toEqual(['app', 'default']);
    const look = await sv(['token', 'lookup', '--json'], { SVAULT_TOKEN: auth.client_token });
    const data = JSON.parse(look.stdout).data;
    expect(data).toMatchObject({ accessor: auth.accessor, policies: ['app', 'default'], id: '' });
    expect(look.stdout).not.toContain(auth.client_token);
    const denied = await sv(['kv', 'get', 'secret/myapp'], { SVAULT_TOKEN: auth.client_token });
    expect(denied.code).toBe(5);
    const listed = JSON.parse((await sv(['token', 'list', '--json'])).stdout).keys;
    expect(listed).toContain(auth.accessor);
    const notSudo = await sv(['token', 'list'], { SVAULT_TOKEN: auth.client_token });
    expect(notSudo.code).toBe(5);
    expect((await sv(['token', 'revoke', '--accessor', auth.accessor])).code).toBe(0);
    expect(JSON.parse((await sv(['token', 'list', '--json'])).stdout).keys).not.toContain(auth.accessor);
    expect((await sv(['token', 'lookup'], { SVAULT_TOKEN: auth.client_token })).code).toBe(5);
  });

  it('policies: write a .cedar file, list, read, refuse invalid Cedar (exit 3), capabilities, delete', async () => {
    const file = join(cwd, 'app.cedar');
    writeFileSync(
      file,
      'permit (principal, action == Svault::Action::"read", resource in Svault::Path::"secret/data/myapp/");\n',
    );
    const w = await sv(['policy', 'write', 'app', file]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain('Success! Uploaded policy: app');
    expect(JSON.parse((await sv(['policy', 'list', '--json'])).stdout).keys).toEqual(['app', 'default', 'root']);
    expect((await sv(['policy', 'read', 'app'])).stdout).toContain('secret/data/myapp/');

    const created = JSON.parse((await sv(['token', 'create', '--policy', 'app', '--json'])).stdout).auth;
    const as = { SVAULT_TOKEN: created.client_token };
    const got = await sv(['kv', 'get', 'secret/myapp', '--field', 'user'], as);
    expect(got.code).toBe(5); // secret/data/myapp is not under secret/data/myapp/
    await sv(['kv', 'put', 'secret/myapp/db', 'user=app']);
    expect((await sv(['kv', 'get', 'secret/myapp/db', '--field', 'user'], as)).stdout.trim()).toBe('app');
    const caps = await sv(['token', 'capabilities', 'secret/data/myapp/db', '--json'], as);
    expect(JSON.parse(caps.stdout)).toEqual({ path: 'secret/data/myapp/db', capabilities: ['read'] });

    writeFileSync(file, 'permit (principal, action, resource) when { resource.path like };\n');
    const bad = await sv(['policy', 'write', 'app', file]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/unexpected token/);
    expect((await sv(['policy', 'write', 'app', join(cwd, 'missing.cedar')])).code).toBe(2);
    expect((await sv(['policy', 'delete', 'default'])).code).toBe(3);
    expect((await sv(['policy', 'delete', 'app'])).code).toBe(0);
    expect((await sv(['kv', 'get', 'secret/myapp/db'], as)).code).toBe(5);
  });

  it('audit: enable a file device (path relative to the cwd), list, verify, detect tampering (exit 3)', async () => {
    const en = await sv(['audit', 'enable', 'file', 'path=./audit.log']);
    expect(en.code, en.stderr).toBe(0);
    const listed = JSON.parse((await sv(['audit', 'list', '--json'])).stdout);
    expect(listed['file/'].options.file_path).toBe(join(cwd, 'audit.log'));
    await sv(['kv', 'put', 'secret/audited', 'password=t0p-s3cret']);
    const log = join(cwd, 'audit.log');
    expect(readFileSync(log, 'utf8')).not.toContain('t0p-s3cret');
    const ok = await sv(['audit', 'verify', log, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, first_seq: 1 });
    const lines = readFileSync(log, 'utf8').split('\n');
    lines.splice(2, 1);
    writeFileSync(log, lines.join('\n'));
    const bad = await sv(['audit', 'verify', log]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/audit\.log:3: 1 line\(s\) missing before line 3/);
    expect((await sv(['audit', 'disable', 'file/'])).code).toBe(0);
    expect(JSON.parse((await sv(['audit', 'list', '--json'])).stdout)).toEqual({});
  });

  it('secrets enable/list/disable, and the generic read/write/list/delete forms as Vault spells them', async () => {
    const en = await sv(['secrets', 'enable', '--path', 'kv1', '--version', '1', '--description', 'team kv', 'kv']);
    expect(en.code, en.stderr).toBe(0);
    expect(en.stdout).toContain('Enabled the kv secrets engine at: kv1/');
    const mounts = JSON.parse((await sv(['secrets', 'list', '--json'])).stdout);
    expect(mounts['kv1/']).toMatchObject({ type: 'kv', description: 'team kv', options: { version: '1' } });
    expect((await sv(['secrets', 'list'])).stdout).toMatch(/kv1\/\s+kv\s+1/);
    const clash = await sv(['secrets', 'enable', '--path', 'kv1', 'kv']);
    expect(clash.code).toBe(3);
    expect(clash.stderr).toMatch(/path is already in use at kv1\//);
    const unknown = await sv(['secrets', 'enable', 'nosuch']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/plugin not found in the catalog: nosuch/);

    expect((await sv(['write', 'kv1/app', 'user=ops', 'port=5432'])).code).toBe(0);
    const read = await sv(['read', 'kv1/app', '--json']);
    expect(JSON.parse(read.stdout).data).toEqual({ user: 'ops', port: '5432' });
    expect((await sv(['read', 'kv1/app', '--field', 'user'])).stdout.trim()).toBe('ops');
    expect(JSON.parse((await sv(['list', 'kv1/', '--json'])).stdout)).toEqual({ keys: ['app'] });
    expect((await sv(['delete', 'kv1/app'])).code).toBe(0);
    expect((await sv(['read', 'kv1/app'])).code).toBe(4);

    expect((await sv(['secrets', 'disable', 'kv1/'])).code).toBe(0);
    expect(JSON.parse((await sv(['secrets', 'list', '--json'])).stdout)['kv1/']).toBeUndefined();
    expect((await sv(['read', 'kv1/app'])).code).toBe(4);
  });

  it('a server that is not there gives exit 7 and says where it looked', async () => {
    const r = await sv(['kv', 'get', 'secret/x'], { SVAULT_ADDR: 'http://127.0.0.1:9' });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/cannot reach svault at http:\/\/127\.0\.0\.1:9/);
  });
});
