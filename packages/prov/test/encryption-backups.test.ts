import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeEc2, type FakeUpcloud, fakeCloudEnv, startFakeEc2, startFakeUpcloud } from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

const os = `os = { family = 'ubuntu, version = "22.04" }`;
const POLICY = `security = { encryption_at_rest = true },
  backups = { enabled = true, schedule = "0 3 * * *", retention_days = 30 },`;

const awsConfig = (extra = POLICY) => `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'aws,
  region = "eu-west-1",
  servers = [{ name = "app-1", provider = 'aws, plan = "t3.small", spec = { cpu = 2, memory_gb = 2, disk_gb = 20, ${os} } }],
  ${extra}
} | Infrastructure
`;
const upcloudConfig = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'upcloud,
  region = "de-fra1",
  servers = [{ name = "app-1", provider = 'upcloud, plan = "1xCPU-2GB", spec = { cpu = 1, memory_gb = 2, disk_gb = 30, ${os} } }],
  ${POLICY}
} | Infrastructure
`;

/**
 * security.encryption_at_rest and backups: one config passes validate, is judged by compliance, and apply
 * encrypts the volumes of the servers it creates (EBS Encrypted, UpCloud encrypted storage); hosts prov cannot
 * encrypt are refused. backups is the declared policy: plan says what runs it.
 */
describe('encryption at rest and the backup policy', () => {
  let ec2: FakeEc2;
  let uc: FakeUpcloud;
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  beforeEach(async () => {
    ec2 = await startFakeEc2();
    uc = await startFakeUpcloud();
    ws = workspace(awsConfig(), []);
    Object.assign(ws.env, fakeCloudEnv(ec2, uc));
  });
  afterEach(async () => {
    await ec2.close();
    await uc.close();
  });

  it('validates, passes the compliance rules that read them, and apply encrypts the volumes', async () => {
    const v = await prov(ws, ['validate']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const c = await prov(ws, ['compliance', '--framework', 'soc2', '--json']);
    const findings = (JSON.parse(c.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule);
    expect(findings.filter((r) => /^PROV-(ENC|BAK)-/.test(r))).toEqual([]);

    const plan = await prov(ws, ['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(
      /backups: .*prov workflow run backup .*--param keep=30 from cron at "0 3 \* \* \*"/,
    );
    const a = await prov(ws, ['apply', '-y']);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(ec2.inventory().filter((l) => l.startsWith('instance'))).toEqual([expect.stringMatching(/ encrypted$/)]);

    // Turning it off is a new volume: the plan replaces the server, it does not pretend to decrypt in place.
    writeFileSync(join(ws.cwd, 'prov.ncl'), awsConfig(''));
    const off = JSON.parse((await prov(ws, ['plan', '--json'])).stdout);
    expect(off.changes.find((x: { address: string }) => x.address === 'server.app-1').action).toBe('replace');

    writeFileSync(join(ws.cwd, 'prov.ncl'), upcloudConfig);
    expect((await prov(ws, ['destroy', '-y'])).code).toBe(0);
    const u = await prov(ws, ['apply', '-y']);
    expect(u.code, u.stderr + u.stdout).toBe(0);
    expect(uc.inventory().filter((l) => l.startsWith('storage'))).toEqual([expect.stringMatching(/ encrypted$/)]);
  }, 180_000);

  it('refuses encryption at rest for hosts prov cannot encrypt, changing nothing', async () => {
    writeFileSync(
      join(ws.cwd, 'prov.ncl'),
      `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  servers = [{ name = "db-1", provider = 'local, spec = { ${os} } }],
  hosts = { db-1 = { address = "192.0.2.1" } },
  security.encryption_at_rest = true,
} | Infrastructure
`,
    );
    const v = await prov(ws, ['validate']);
    expect(v.code).toBe(3);
    expect(v.stdout + v.stderr).toMatch(/prov cannot encrypt the disks of local server db-1/);
    expect((await prov(ws, ['apply', '-y'])).code).toBe(3);
  }, 60_000);
});
