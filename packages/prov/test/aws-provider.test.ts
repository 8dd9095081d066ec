import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeEc2, startFakeEc2 } from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

const config = (servers: string) => `let Infrastructure = import "infrastructure.ncl" in
let web = fun n extra => {
  name = n,
  provider = 'aws,
  plan = "t3.small",
  role = "web",
  spec = { cpu = 2, memory_gb = 2, disk_gb = 30, os = { family = 'ubuntu, version = "22.04" } },
  networking = { subnet = "private-a", security_groups = ["web"] },
  tags = { env = "test" },
} & extra in
{
  provider = 'aws,
  region = "eu-west-1",
  networking = {
    vpc_cidr = "10.20.0.0/16",
    subnets = [{ name = "private-a", cidr = "10.20.1.0/24", zone = "eu-west-1a" }],
    security_groups.web.ingress = [{ port = 443, from = "0.0.0.0/0" }, { port = 22, from = "10.20.0.0/16" }],
  },
  servers = [${servers}],
} | Infrastructure
`;

describe('aws provider against a local EC2 Query API server (real SDK)', () => {
  let ec2: FakeEc2;
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  beforeEach(async () => {
    ec2 = await startFakeEc2();
    ws = workspace(config('web "web-1" {}, web "web-2" {}'), []);
    Object.assign(ws.env, {
      PROV_AWS_ENDPOINT: ec2.url,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      AWS_REGION: 'eu-west-1',
    });
  });
  afterEach(async () => {
    await ec2.close();
  });

  it('plans, applies, sees drift, updates tags in place and destroys in dependency order', async () => {
    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('Plan: 5 to add, 0 to change, 0 to destroy.');
    expect(plan.stdout).toContain('(after vpc.main, subnet.private-a, security_group.web)');

    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 5 added, 0 changed, 0 destroyed.');
    const inv = ec2.inventory();
    expect(inv.filter((l) => l.startsWith('instance'))).toHaveLength(2);
    expect(inv.join('\n')).toContain('"prov:address":"server.web-1"');
    expect(inv.join('\n')).toMatch(/sg sg-\S+ web .*"from":"443"/);
    const web1 = JSON.parse((await prov(ws, ['state', 'show', 'server.web-1', '--json'])).stdout);
    expect(web1.outputs).toMatchObject({ id: expect.stringMatching(/^i-/), image: 'ami-0fake', type: 't3.small' });

    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');

    // A tag changed in the config: update in place; an instance terminated outside prov: drift, re-created.
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" { tags.owner = "ops" }, web "web-2" {}'));
    ec2.instances.get(
      String(JSON.parse((await prov(ws, ['state', 'show', 'server.web-2', '--json'])).stdout).outputs.id),
    )!.state = 'terminated';
    const p2 = await prov(ws, ['plan', '--json']);
    const doc = JSON.parse(p2.stdout);
    const byAddr = Object.fromEntries(doc.changes.map((c: { address: string }) => [c.address, c]));
    expect(byAddr['server.web-1'].action).toBe('update');
    expect(byAddr['server.web-1'].changes).toEqual([{ path: 'tags.owner', before: null, after: 'ops' }]);
    expect(byAddr['server.web-2']).toMatchObject({ action: 'create', gone: true });
    const a2 = await prov(ws, ['apply', '-y']);
    expect(a2.code, a2.stderr).toBe(0);
    expect(a2.stdout).toContain('Resources: 1 added, 1 changed, 0 destroyed.');
    expect(ec2.inventory().join('\n')).toContain('"owner":"ops"');

    const d = await prov(ws, ['destroy', '-y']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain('Destroy complete! Resources: 0 added, 0 changed, 5 destroyed.');
    expect(ec2.inventory()).toEqual([]);
    // The VPC went last: EC2 refuses to delete one that still has subnets or groups.
    expect(ec2.requests.lastIndexOf('DeleteVpc')).toBeGreaterThan(ec2.requests.lastIndexOf('DeleteSubnet'));
  }, 120_000);

  it('a failing RunInstances rolls everything back: the EC2 inventory is exactly as before', async () => {
    writeFileSync(join(ws.cwd, 'prov.ncl'), config('web "web-1" {}, web "web-9" { plan | force = "x9.fail" }'));
    // One VPC of someone else's exists before and must be left alone.
    ec2.vpcs.set('vpc-other', { cidr: '172.16.0.0/16', tags: { Name: 'not ours' } });
    const before = ec2.inventory();
    ec2.fail = (action, p) =>
      action === 'RunInstances' && p.get('InstanceType') === 'x9.fail' ? 'Unsupported' : undefined;
    const r = await prov(ws, ['apply', '-y', '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.failed).toEqual([
      expect.objectContaining({
        address: 'server.web-9',
        error: expect.stringContaining('aws RunInstances: Unsupported: injected failure'),
      }),
    ]);
    expect(err.details.status).toBe('rolled_back');
    expect(err.details.rolled_back.at(-1)).toBe('vpc.main');
    expect(ec2.inventory()).toEqual(before);
    expect(JSON.parse((await prov(ws, ['state', 'list', '--json'])).stdout).resources).toEqual([]);
  }, 120_000);

  it('retries throttling with backoff, then succeeds', async () => {
    let throttled = 0;
    ec2.fail = (action) => (action === 'CreateVpc' && throttled++ < 2 ? 'RequestLimitExceeded' : undefined);
    const r = await prov(ws, ['apply', '-y', '--verbose']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/vpc\.main: aws CreateVpc: RequestLimitExceeded: .* — retrying in 20 ms/);
    expect(r.stderr).toMatch(/vpc\.main: aws CreateVpc: RequestLimitExceeded: .* — retrying in 40 ms/);
    expect(ec2.inventory().filter((l) => l.startsWith('vpc'))).toHaveLength(1);
    const hist = JSON.parse((await prov(ws, ['history', '--json'])).stdout);
    const tasks = JSON.parse((await prov(ws, ['history', hist.runs[0].id, '--json'])).stdout).tasks;
    expect(tasks.find((t: { address: string }) => t.address === 'vpc.main').attempts).toBe(3);

    // state rm forgets without touching EC2; import records the existing instance again; mv renames.
    const id = JSON.parse((await prov(ws, ['state', 'show', 'server.web-1', '--json'])).stdout).outputs.id;
    expect((await prov(ws, ['state', 'rm', 'server.web-1', '-y'])).code).toBe(0);
    expect(ec2.instances.get(id)?.state).toBe('running');
    const missing = await prov(ws, ['state', 'import', 'server.web-1', 'i-doesnotexist']);
    expect(missing.code).toBe(4);
    const imp = await prov(ws, ['state', 'import', 'server.web-1', id]);
    expect(imp.code, imp.stderr).toBe(0);
    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');
    expect((await prov(ws, ['state', 'mv', 'server.web-2', 'server.web-3', '-y'])).code).toBe(0);
    const moved = await prov(ws, ['plan', '--json']);
    const acts = JSON.parse(moved.stdout).changes.filter((c: { action: string }) => c.action !== 'noop');
    expect(acts.map((c: { address: string; action: string }) => `${c.action} ${c.address}`)).toEqual([
      'create server.web-2',
      'delete server.web-3',
    ]);
  }, 120_000);

  it('imports the login key as a key pair the instances launch with, and deletes it last on destroy', async () => {
    const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForProvTestsOnlyxxxxxxxxxxxxxxxxxx prov@test';
    writeFileSync(join(ws.cwd, 'id.pub'), `${pub}\n`);
    expect((await prov(ws, ['provider', 'add', 'aws', '--ssh-public-key', 'id.pub'])).code).toBe(0);
    const plan = await prov(ws, ['plan']);
    expect(plan.stdout).toContain('Plan: 6 to add, 0 to change, 0 to destroy.');
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    const [name, kp] = [...ec2.keyPairs][0]!;
    expect(name).toMatch(/^prov-login-[0-9a-f]{12}$/);
    expect(kp.material).toBe(pub);
    expect(kp.tags['prov:address']).toBe('key_pair.login');
    const instances = ec2.inventory().filter((l) => l.startsWith('instance'));
    expect(instances).toHaveLength(2);
    for (const i of instances) expect(i).toContain(`key ${name}`);
    expect((await prov(ws, ['plan'])).stdout).toContain('No changes.');

    const d = await prov(ws, ['destroy', '-y']);
    expect(d.code, d.stderr).toBe(0);
    expect(ec2.inventory()).toEqual([]);
    expect(ec2.requests.lastIndexOf('DeleteKeyPair')).toBeGreaterThan(ec2.requests.lastIndexOf('TerminateInstances'));
  }, 120_000);
});
