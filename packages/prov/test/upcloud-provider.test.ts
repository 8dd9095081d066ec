import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CREDENTIALS, type FakeUpcloud, startFakeUpcloud, TOKEN } from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

const config = (servers: string, region = 'region = "fi-hel1",') => `let Infrastructure = import "infrastructure.ncl" in
let web = fun n extra => {
  name = n,
  provider = 'upcloud,
  role = "web",
  spec = { cpu = 2, memory_gb = 4, disk_gb = 30, os = { family = 'ubuntu, version = "24.04" } },
  tags = { env = "test" },
} & extra in
{
  provider = 'upcloud,
  ${region}
  servers = [${servers}],
} | Infrastructure
`;

const PUB_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForProvTestsOnlyxxxxxxxxxxxxxxxxxx prov@test';

describe('upcloud provider against a local UpCloud API 1.3 server', () => {
  let api: FakeUpcloud;
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  const stateOf = async (addr: string) =>
    JSON.parse((await prov(ws, ['state', 'show', addr, '--json'])).stdout) as { outputs: Record<string, unknown> };

  beforeEach(async () => {
    api = await startFakeUpcloud();
    ws = workspace(config('web "web-1" { plan = "1xCPU-2GB", networking.public_ip = true }, web "web-2" {}'), []);
    Object.assign(ws.env, {
      PROV_UPCLOUD_ENDPOINT: api.url,
      UPCLOUD_USERNAME: CREDENTIALS.username,
      UPCLOUD_PASSWORD: CREDENTIALS.password,
    });
  });
  afterEach(async () => {
    await api.close();
  });

  it('plans, applies, resizes in place (stop, modify, start), re-creates what vanished and destroys', async () => {
    writeFileSync(join(ws.cwd, 'id.pub'), `${PUB_KEY}\n`);
    expect((await prov(ws, ['provider', 'add', 'upcloud', '--ssh-public-key', 'id.pub'])).code).toBe(0);

    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');

    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    expect(api.lastAuth).toBe(`Basic ${Buffer.from('prov-test:api-secret').toString('base64')}`);
    const inv = api.inventory().join('\n');
    // A named plan for web-1; cores and memory as a custom plan for web-2; 30 GB disks cloned from the template.
    expect(inv).toMatch(/server \S+ web-1 fi-hel1 1xCPU-2GB 1\/2048 \{"env":"test","prov_address":"server.web-1"\}/);
    expect(inv).toMatch(/server \S+ web-2 fi-hel1 custom 2\/4096 /);
    expect(inv.match(/storage \S+ web-\d-disk1 30 GB/g)).toHaveLength(2);
    const body = api.createBodies.find((b) => JSON.stringify(b).includes('"web-1"')) as {
      server: Record<string, unknown>;
    };
    expect(body.server).toMatchObject({
      zone: 'fi-hel1',
      login_user: { username: 'root', ssh_keys: { ssh_key: [PUB_KEY] } },
      storage_devices: { storage_device: [{ action: 'clone', storage: '01000000-0000-4000-8000-000030240200' }] },
    });
    const web1 = await stateOf('server.web-1');
    expect(web1.outputs).toMatchObject({
      id: expect.any(String),
      zone: 'fi-hel1',
      public_ip: expect.stringMatching(/^94\./),
    });
    expect((await stateOf('server.web-2')).outputs.public_ip).toBeNull();
    // Credentials never reach state.
    expect(readFileSync(join(ws.cwd, '.prov', 'state.db')).includes('api-secret')).toBe(false);

    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');

    // web-1: a tag (labels change on a running server); web-2: more memory and a bigger disk (only while stopped).
    writeFileSync(
      join(ws.cwd, 'prov.ncl'),
      config(
        'web "web-1" { plan = "1xCPU-2GB", networking.public_ip = true, tags.owner = "ops" }, web "web-2" { spec.memory_gb | force = 8, spec.disk_gb | force = 40 }',
      ),
    );
    const p2 = JSON.parse((await prov(ws, ['plan', '--json'])).stdout);
    const byAddr = Object.fromEntries(p2.changes.map((c: { address: string }) => [c.address, c]));
    expect(byAddr['server.web-1']).toMatchObject({
      action: 'update',
      changes: [{ path: 'tags.owner', before: null, after: 'ops' }],
    });
    expect(byAddr['server.web-2'].action).toBe('update');
    api.requests.length = 0;
    const a2 = await prov(ws, ['apply', '-y']);
    expect(a2.code, a2.stderr).toBe(0);
    expect(a2.stdout).toContain('Resources: 0 added, 2 changed, 0 destroyed.');
    const web2 = [...api.servers.values()].find((s) => s.title === 'web-2')!;
    expect(web2).toMatchObject({ state: 'started', core_number: '2', memory_amount: '8192' });
    expect(api.storages.get(web2.storage)?.size).toBe(40);
    const calls = api.requests.filter((r) => !r.startsWith('GET'));
    expect(calls).toEqual(
      expect.arrayContaining([
        `POST /server/${web2.uuid}/stop`,
        `PUT /storage/${web2.storage}`,
        `POST /server/${web2.uuid}/start`,
      ]),
    );
    expect(calls.indexOf(`POST /server/${web2.uuid}/stop`)).toBeLessThan(calls.indexOf(`PUT /server/${web2.uuid}`));
    expect([...api.servers.values()].find((s) => s.title === 'web-1')?.labels.owner).toBe('ops');

    // A server deleted outside prov (with its disk): the plan sees it gone and apply creates it again.
    const gone = api.servers.get(String(web1.outputs.id))!;
    api.servers.delete(gone.uuid);
    api.storages.delete(gone.storage);
    const p3 = JSON.parse((await prov(ws, ['plan', '--json'])).stdout);
    expect(p3.changes.find((c: { address: string }) => c.address === 'server.web-1')).toMatchObject({
      action: 'create',
      gone: true,
    });
    expect((await prov(ws, ['apply', '-y'])).stdout).toContain('Resources: 1 added, 0 changed, 0 destroyed.');

    api.requests.length = 0;
    const d = await prov(ws, ['destroy', '-y']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('Destroy complete! Resources: 0 added, 0 changed, 2 destroyed.');
    // Each server stopped first (the API refuses to delete a running one), its storage deleted with it.
    expect(api.inventory()).toEqual([]);
    expect(api.servers.size).toBe(0);
    expect(api.requests.filter((r) => r.startsWith('POST') && r.endsWith('/stop'))).toHaveLength(2);
    expect(api.requests.filter((r) => r.startsWith('DELETE'))).toHaveLength(2);
  }, 120_000);

  it('a failing server create rolls everything back: the account is exactly as before', async () => {
    writeFileSync(
      join(ws.cwd, 'prov.ncl'),
      config('web "web-1" {}, web "web-2" {}, web "web-9" { plan = "64xCPU-1TB" }'),
    );
    // Someone else's server exists before and must be left alone.
    api.servers.set('00000000-other', {
      uuid: '00000000-other',
      title: 'not ours',
      hostname: 'not-ours',
      zone: 'fi-hel1',
      plan: '1xCPU-1GB',
      core_number: '1',
      memory_amount: '1024',
      state: 'started',
      settleIn: 0,
      next: 'started',
      labels: {},
      storage: 'st-other',
      publicIp: null,
      privateIp: '10.6.0.2',
    });
    api.storages.set('st-other', { title: 'other disk', size: 25, server: '00000000-other', zone: 'fi-hel1' });
    const before = api.inventory();
    const r = await prov(ws, ['apply', '-y', '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.failed).toEqual([
      expect.objectContaining({
        address: 'server.web-9',
        error: expect.stringContaining('upcloud POST /server: PLAN_INVALID: The plan 64xCPU-1TB does not exist.'),
      }),
    ]);
    expect(err.details.status).toBe('rolled_back');
    // All three were asked for; web-1 and web-2 were created, then stopped and deleted by the rollback.
    expect(api.createBodies).toHaveLength(3);
    expect(api.requests.filter((q) => q.startsWith('DELETE /server/'))).toHaveLength(2);
    expect(api.inventory()).toEqual(before);
    expect(JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout).resources).toEqual([]);
  }, 120_000);

  it('retries a throttled create, refuses to shrink a disk, and needs a zone', async () => {
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" {}'));
    let throttled = 0;
    api.fail = (method, path) =>
      method === 'POST' && path === '/server' && throttled++ < 2 ? 'TOO_MANY_REQUESTS' : undefined;
    const r = await prov(ws, ['apply', '-y', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/server\.web-1: upcloud POST \/server: TOO_MANY_REQUESTS: .* — retrying in 20 ms/);
    expect(api.servers.size).toBe(1);
    api.fail = undefined;

    // Bad input, clear error, nothing changed.
    const before = api.inventory();
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" { spec.disk_gb | force = 20 }'));
    const shrink = await prov(ws, ['apply', '-y']);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toContain('UpCloud cannot shrink a disk (30 → 20 GB)');
    expect(api.inventory()).toEqual(before);
    expect([...api.servers.values()][0]?.state).toBe('started');

    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" {}, web "web-2" {}', ''));
    const noZone = await prov(ws, ['apply', '-y', '--target', 'server.web-2']);
    // Caught with the config's checks (exit 3, with the position), before the API is asked anything.
    expect(noZone.code).toBe(3);
    expect(noZone.stderr).toContain('server web-2: no UpCloud zone');
    expect(noZone.stderr).toMatch(/--> prov\.ncl:\d+:\d+/);
    expect(api.inventory()).toEqual(before);
  }, 120_000);

  it('provider add / test / list: token or account credentials, never written to disk', async () => {
    delete ws.env.UPCLOUD_USERNAME;
    delete ws.env.UPCLOUD_PASSWORD;
    const none = await prov(ws, ['provider', 'test', 'upcloud']);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain('no UpCloud credentials');
    expect(none.stderr).toContain('UPCLOUD_TOKEN');

    const wrong = await prov({ ...ws, env: { ...ws.env, UPCLOUD_TOKEN: 'ucat_wrong' } }, [
      'provider',
      'test',
      'upcloud',
    ]);
    expect(wrong.code).toBe(7);
    expect(wrong.stdout).toContain('AUTHENTICATION_FAILED');

    ws.env.UPCLOUD_TOKEN = TOKEN;
    const ok = await prov(ws, ['provider', 'test', 'upcloud']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('account prov-test');
    expect(api.lastAuth).toBe(`Bearer ${TOKEN}`);

    // A private key given as a login key is refused before anything is written.
    writeFileSync(join(ws.cwd, 'id'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n');
    const bad = await prov(ws, ['provider', 'add', 'upcloud', '--zone', 'de-fra1', '--ssh-public-key', 'id']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('id is not a public SSH key file');
    expect(existsSync(join(ws.cwd, '.prov', 'providers.json'))).toBe(false);

    const add = await prov(ws, [
      'provider',
      'add',
      'upcloud',
      '--zone',
      'de-fra1',
      '--from-vault',
      'svault://secret/data/upcloud',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const list = JSON.parse((await prov(ws, ['provider', 'list', '--json'])).stdout);
    expect(list.providers.upcloud).toEqual({
      zone: 'de-fra1',
      credentials: 'svault://secret/data/upcloud',
      ssh_keys: [],
    });
    expect(readFileSync(join(ws.cwd, '.prov', 'providers.json'), 'utf8')).not.toContain(TOKEN);
  }, 60_000);

  it('a create retried after a crash adopts the server it finds by label, and starts it', async () => {
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" {}'));
    api.servers.set('0000-left-by-crash', {
      uuid: '0000-left-by-crash',
      title: 'web-1',
      hostname: 'web-1',
      zone: 'fi-hel1',
      plan: 'custom',
      core_number: '2',
      memory_amount: '4096',
      state: 'stopped',
      settleIn: 0,
      next: 'stopped',
      labels: { env: 'test', prov_address: 'server.web-1' },
      storage: 'st-crash',
      publicIp: null,
      privateIp: '10.6.0.3',
    });
    api.storages.set('st-crash', { title: 'web-1-disk1', size: 30, server: '0000-left-by-crash', zone: 'fi-hel1' });
    const r = await prov(ws, ['apply', '-y']);
    expect(r.code, r.stderr).toBe(0);
    expect(api.createBodies).toEqual([]);
    expect(api.servers.get('0000-left-by-crash')?.state).toBe('started');
    expect((await stateOf('server.web-1')).outputs.id).toBe('0000-left-by-crash');
  }, 60_000);
});
