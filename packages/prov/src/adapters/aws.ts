import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { EC2Client, EC2ClientConfig, Filter, Instance, IpPermission, Tag } from '@aws-sdk/client-ec2';
import { StratumError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import { type Provider, type ProviderCheck, type ProviderContext, ProviderError } from '../core/provider.js';
import type { Attrs, DesiredResource, ResourceRecord } from '../core/types.js';

type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

/**
 * The client, made with the SDK's notice about its own future releases (Node 22 from 2027) off: prov pins the
 * SDK and supports Node 20, so it is not the user's concern. The notice is decided as the client is made; the
 * variable is put back after, so that commands prov runs never see it.
 */
function makeClient(sdk: Ec2Sdk, config: EC2ClientConfig): EC2Client {
  const name = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const had = process.env[name];
  process.env[name] = 'true';
  try {
    return new sdk.EC2Client(config);
  } finally {
    if (had === undefined) delete process.env[name];
    else process.env[name] = had;
  }
}

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsSettings {
  region: string;
  endpoint?: string;
  /** Keys, or a function that fetches them (called on the first API call, not when the provider is made). */
  credentials?: AwsKeys | (() => Promise<AwsKeys>);
  /** How often to poll an instance until it runs or is gone (ms). */
  pollMs?: number;
}

export interface AwsContext extends ProviderContext {
  /** Outputs of another resource (e.g. the VPC id for a subnet). */
  outputsOf?(address: string): Attrs | undefined;
}

const RETRYABLE = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'InsufficientInstanceCapacity',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'DependencyViolation',
]);
const NOT_FOUND = /NotFound$|\.Malformed$/;

/** Images by OS family: the owner account and name pattern of the official AMIs; the newest match wins. */
const IMAGES: Record<string, (version: string) => { owner: string; name: string }> = {
  ubuntu: (v) => ({ owner: '099720109477', name: `ubuntu/images/*ubuntu-*-${v}-amd64-server-*` }),
  debian: (v) => ({ owner: '136693071363', name: `debian-${v}-amd64-*` }),
  rocky: (v) => ({ owner: '792107900819', name: `Rocky-${v.split('.')[0]}-EC2-Base-*x86_64*` }),
  alpine: (v) => ({ owner: '538276064493', name: `alpine-${v}*-x86_64-*` }),
};

/** Instance type from cpu/memory when the server names no plan. */
export function instanceTypeFor(spec: Attrs): string {
  const cpu = Number(spec.cpu ?? 2);
  const mem = Number(spec.memory_gb ?? 4);
  const table: [number, number, string][] = [
    [2, 1, 't3.micro'],
    [2, 2, 't3.small'],
    [2, 4, 't3.medium'],
    [2, 8, 't3.large'],
    [4, 16, 't3.xlarge'],
    [8, 32, 't3.2xlarge'],
    [16, 64, 'm6i.4xlarge'],
    [32, 128, 'm6i.8xlarge'],
  ];
  return table.find(([c, m]) => cpu <= c && mem <= m)?.[2] ?? 'm6i.16xlarge';
}

const tagList = (address: string, name: string, extra: Record<string, string> = {}): Tag[] => [
  { Key: 'Name', Value: name },
  { Key: 'prov:address', Value: address },
  ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
];

function userTags(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key && t.Key !== 'Name' && !t.Key.startsWith('prov:')) out[t.Key] = t.Value ?? '';
  return out;
}

function rulesToPermissions(rules: Attrs[]): IpPermission[] {
  return rules.map((r) => {
    const proto = String(r.protocol ?? 'tcp');
    const port = r.port === undefined ? undefined : Number(r.port);
    return {
      IpProtocol: proto === 'all' ? '-1' : proto,
      ...(proto === 'all' || port === undefined ? {} : { FromPort: port, ToPort: port }),
      IpRanges: [{ CidrIp: String(r.from) }],
    };
  });
}

function permissionsToRules(perms: IpPermission[] | undefined): Attrs[] {
  const out: Attrs[] = [];
  for (const p of perms ?? []) {
    for (const range of p.IpRanges ?? []) {
      const protocol = p.IpProtocol === '-1' ? 'all' : (p.IpProtocol ?? 'tcp');
      out.push({
        protocol,
        ...(p.FromPort !== undefined && protocol !== 'all' ? { port: p.FromPort } : {}),
        from: range.CidrIp,
      });
    }
  }
  return out;
}

/** AWS through @aws-sdk/client-ec2: VPC, subnets, security groups, key pairs, instances. */
export class AwsProvider implements Provider {
  readonly name = 'aws';
  readonly kinds = ['vpc', 'subnet', 'security_group', 'key_pair', 'server'] as const;
  /** The SDK is loaded and the client made on the first API call: a plan from recorded state never pays for them. */
  private client?: Promise<{ ec2: EC2Client; sdk: Ec2Sdk }>;

  constructor(private readonly s: AwsSettings) {}

  private connect() {
    this.client ??= import('@aws-sdk/client-ec2').then((sdk) => ({
      sdk,
      ec2: makeClient(sdk, {
        region: this.s.region,
        ...(this.s.endpoint ? { endpoint: this.s.endpoint } : {}),
        ...(this.s.credentials ? { credentials: this.s.credentials } : {}),
        // Retries are the orchestrator's (backoff policy, checkpoints); one attempt per SDK call.
        maxAttempts: 1,
      }),
    }));
    return this.client;
  }

  async prepare(): Promise<void> {
    if (typeof this.s.credentials === 'function') await this.s.credentials();
  }

  replaceOn(kind: string): string[] {
    switch (kind) {
      case 'vpc':
        return ['cidr', 'region'];
      case 'subnet':
        return ['cidr', 'zone', 'public'];
      case 'security_group':
        return [];
      case 'key_pair':
        return ['public_key'];
      default:
        return ['plan', 'spec', 'networking', 'region', 'encrypted'];
    }
  }

  private async call<T>(what: string, fn: (ec2: EC2Client, sdk: Ec2Sdk) => Promise<T>): Promise<T> {
    try {
      const { ec2, sdk } = await this.connect();
      return await fn(ec2, sdk);
    } catch (e) {
      const err = e as Error & { name: string; $metadata?: { httpStatusCode?: number }; code?: string };
      // Ours (a provider error, or svault's when the keys cannot be read): its code and hint stay as they are.
      if (err instanceof StratumError) throw err;
      const status = err.$metadata?.httpStatusCode;
      const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(String(err.code));
      const retryable = RETRYABLE.has(err.name) || (status !== undefined && status >= 500) || network;
      throw new ProviderError(`aws ${what}: ${err.name}: ${err.message}`, {
        retryable,
        code: network
          ? 'unavailable'
          : err.name === 'AuthFailure' || err.name === 'UnauthorizedOperation'
            ? 'denied'
            : 'failure',
        details: { aws_error: err.name, http_status: status },
      });
    }
  }

  private isNotFound(e: unknown) {
    return e instanceof ProviderError && NOT_FOUND.test(String(e.details?.aws_error));
  }

  private byTag(address: string): Filter[] {
    return [{ Name: 'tag:prov:address', Values: [address] }];
  }

  private dep(ctx: AwsContext, address: string, key: string): string {
    const v = ctx.outputsOf?.(address)?.[key];
    if (!v) throw new ProviderError(`${address} has no ${key} yet (it must be created first)`);
    return String(v);
  }

  async read(rec: ResourceRecord): Promise<Attrs | null> {
    const id = String(rec.outputs.id ?? '');
    try {
      switch (rec.kind) {
        case 'vpc': {
          const r = await this.call('DescribeVpcs', (ec2, sdk) =>
            ec2.send(new sdk.DescribeVpcsCommand({ VpcIds: [id] })),
          );
          const v = r.Vpcs?.[0];
          return v ? { cidr: v.CidrBlock } : null;
        }
        case 'subnet': {
          const r = await this.call('DescribeSubnets', (ec2, sdk) =>
            ec2.send(new sdk.DescribeSubnetsCommand({ SubnetIds: [id] })),
          );
          const s = r.Subnets?.[0];
          return s
            ? { cidr: s.CidrBlock, ...(rec.attrs.zone !== undefined ? { zone: s.AvailabilityZone } : {}) }
            : null;
        }
        case 'security_group': {
          const r = await this.call('DescribeSecurityGroups', (ec2, sdk) =>
            ec2.send(new sdk.DescribeSecurityGroupsCommand({ GroupIds: [id] })),
          );
          const g = r.SecurityGroups?.[0];
          return g ? { ingress: permissionsToRules(g.IpPermissions) } : null;
        }
        case 'key_pair': {
          const r = await this.call('DescribeKeyPairs', (ec2, sdk) =>
            ec2.send(new sdk.DescribeKeyPairsCommand({ KeyNames: [String(rec.outputs.name)] })),
          );
          return r.KeyPairs?.length ? {} : null;
        }
        default: {
          const i = await this.instance(id);
          if (!i || ['terminated', 'shutting-down'].includes(String(i.State?.Name))) return null;
          return { tags: userTags(i.Tags) };
        }
      }
    } catch (e) {
      if (this.isNotFound(e)) return null;
      throw e;
    }
  }

  private async instance(id: string): Promise<Instance | undefined> {
    const r = await this.call('DescribeInstances', (ec2, sdk) =>
      ec2.send(new sdk.DescribeInstancesCommand({ InstanceIds: [id] })),
    );
    return r.Reservations?.[0]?.Instances?.[0];
  }

  private async image(spec: Attrs): Promise<string> {
    const os = (spec.os ?? {}) as Attrs;
    const family = String(os.family ?? 'ubuntu');
    const pattern = IMAGES[family]?.(String(os.version ?? ''));
    if (!pattern) throw new ProviderError(`no image mapping for OS family ${family} on aws`);
    const r = await this.call('DescribeImages', (ec2, sdk) =>
      ec2.send(
        new sdk.DescribeImagesCommand({
          Owners: [pattern.owner],
          Filters: [
            { Name: 'name', Values: [pattern.name] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
      ),
    );
    const newest = [...(r.Images ?? [])].sort((a, b) => byCodeUnits(String(b.CreationDate), String(a.CreationDate)))[0];
    if (!newest?.ImageId)
      throw new ProviderError(`no ${family} ${os.version} image found in ${this.s.region} (${pattern.name})`);
    return newest.ImageId;
  }

  async create(res: DesiredResource, context: ProviderContext): Promise<Attrs> {
    const ctx = context as AwsContext;
    const a = res.attrs;
    const tags = (k: string, extra?: Record<string, string>) =>
      [{ ResourceType: k, Tags: tagList(res.address, res.name, extra) }] as never;
    switch (res.kind) {
      case 'vpc': {
        const found = await this.call('DescribeVpcs', (ec2, sdk) =>
          ec2.send(new sdk.DescribeVpcsCommand({ Filters: this.byTag(res.address) })),
        );
        const existing = found.Vpcs?.[0]?.VpcId;
        if (existing) return { id: existing, adopted: true };
        const r = await this.call('CreateVpc', (ec2, sdk) =>
          ec2.send(new sdk.CreateVpcCommand({ CidrBlock: String(a.cidr), TagSpecifications: tags('vpc') })),
        );
        return { id: r.Vpc?.VpcId };
      }
      case 'subnet': {
        const found = await this.call('DescribeSubnets', (ec2, sdk) =>
          ec2.send(new sdk.DescribeSubnetsCommand({ Filters: this.byTag(res.address) })),
        );
        const existing = found.Subnets?.[0]?.SubnetId;
        if (existing) return { id: existing, adopted: true };
        const vpc = this.dep(ctx, 'vpc.main', 'id');
        const r = await this.call('CreateSubnet', (ec2, sdk) =>
          ec2.send(
            new sdk.CreateSubnetCommand({
              VpcId: vpc,
              CidrBlock: String(a.cidr),
              ...(a.zone ? { AvailabilityZone: String(a.zone) } : {}),
              TagSpecifications: tags('subnet', { 'prov:public': String(Boolean(a.public)) }),
            }),
          ),
        );
        return { id: r.Subnet?.SubnetId, vpc_id: vpc };
      }
      case 'security_group': {
        const found = await this.call('DescribeSecurityGroups', (ec2, sdk) =>
          ec2.send(new sdk.DescribeSecurityGroupsCommand({ Filters: this.byTag(res.address) })),
        );
        let id = found.SecurityGroups?.[0]?.GroupId;
        const vpc = this.dep(ctx, 'vpc.main', 'id');
        if (!id) {
          const r = await this.call('CreateSecurityGroup', (ec2, sdk) =>
            ec2.send(
              new sdk.CreateSecurityGroupCommand({
                GroupName: res.name,
                Description: `prov ${res.address}`,
                VpcId: vpc,
                TagSpecifications: tags('security-group'),
              }),
            ),
          );
          id = r.GroupId;
        }
        await this.setIngress(String(id), [], (a.ingress ?? []) as Attrs[]);
        return { id, vpc_id: vpc };
      }
      case 'key_pair': {
        // Named by content: the same key is imported once and found again by a retried create.
        const material = String(a.public_key);
        const name = `prov-${res.name}-${createHash('sha256').update(material).digest('hex').slice(0, 12)}`;
        const found = await this.call('DescribeKeyPairs', (ec2, sdk) =>
          ec2.send(new sdk.DescribeKeyPairsCommand({ KeyNames: [name] })),
        ).catch((e) => {
          if (this.isNotFound(e)) return undefined;
          throw e;
        });
        const existing = found?.KeyPairs?.[0];
        if (existing) return { name, id: existing.KeyPairId, fingerprint: existing.KeyFingerprint, adopted: true };
        const r = await this.call('ImportKeyPair', (ec2, sdk) =>
          ec2.send(
            new sdk.ImportKeyPairCommand({
              KeyName: name,
              PublicKeyMaterial: Buffer.from(material),
              TagSpecifications: tags('key-pair'),
            }),
          ),
        );
        return { name, id: r.KeyPairId, fingerprint: r.KeyFingerprint };
      }
      case 'server': {
        const found = await this.call('DescribeInstances', (ec2, sdk) =>
          ec2.send(
            new sdk.DescribeInstancesCommand({
              Filters: [...this.byTag(res.address), { Name: 'instance-state-name', Values: ['pending', 'running'] }],
            }),
          ),
        );
        let inst = found.Reservations?.[0]?.Instances?.[0];
        if (!inst) {
          const net = (a.networking ?? {}) as Attrs;
          const spec = (a.spec ?? {}) as Attrs;
          const subnetName = net.subnet ? String(net.subnet) : undefined;
          const subnetId = subnetName
            ? ((ctx.outputsOf?.(`subnet.${subnetName}`)?.id as string | undefined) ?? subnetName)
            : undefined;
          const groups = ((net.security_groups ?? []) as string[]).map(
            (g) => (ctx.outputsOf?.(`security_group.${g}`)?.id as string | undefined) ?? g,
          );
          const image = await this.image(spec);
          const keyName = a.key_pair ? this.dep(ctx, `key_pair.${a.key_pair}`, 'name') : undefined;
          const r = await this.call('RunInstances', (ec2, sdk) =>
            ec2.send(
              new sdk.RunInstancesCommand({
                ImageId: image,
                InstanceType: (a.plan ? String(a.plan) : instanceTypeFor(spec)) as never,
                MinCount: 1,
                MaxCount: 1,
                ...(subnetId ? { SubnetId: subnetId } : {}),
                ...(groups.length ? { SecurityGroupIds: groups } : {}),
                ...(keyName ? { KeyName: keyName } : {}),
                BlockDeviceMappings: [
                  {
                    DeviceName: '/dev/sda1',
                    Ebs: {
                      VolumeSize: Number(spec.disk_gb ?? 50),
                      VolumeType: 'gp3',
                      // security.encryption_at_rest: an encrypted EBS volume (the account's default KMS key).
                      ...(a.encrypted === true ? { Encrypted: true } : {}),
                    },
                  },
                ],
                TagSpecifications: tags('instance', (a.tags ?? {}) as Record<string, string>),
              }),
            ),
          );
          inst = r.Instances?.[0];
        }
        const id = String(inst?.InstanceId);
        const running = await this.waitFor(id, (i) => i?.State?.Name === 'running', 'running');
        return {
          id,
          image: running?.ImageId,
          type: running?.InstanceType,
          private_ip: running?.PrivateIpAddress ?? null,
          public_ip: running?.PublicIpAddress ?? null,
        };
      }
    }
    throw new ProviderError(`the aws provider has no resource kind ${res.kind}`);
  }

  private async waitFor(
    id: string,
    ok: (i: Instance | undefined) => boolean,
    what: string,
  ): Promise<Instance | undefined> {
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const i = await this.instance(id).catch((e) => {
        if (this.isNotFound(e)) return undefined;
        throw e;
      });
      if (ok(i)) return i;
      if (Date.now() > deadline)
        throw new ProviderError(`instance ${id} did not become ${what} within 5 min`, { retryable: true });
      await delay(this.s.pollMs ?? 2000);
    }
  }

  private async setIngress(id: string, before: Attrs[], after: Attrs[]) {
    if (before.length) {
      await this.call('RevokeSecurityGroupIngress', (ec2, sdk) =>
        ec2.send(new sdk.RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: rulesToPermissions(before) })),
      );
    }
    if (after.length) {
      await this.call('AuthorizeSecurityGroupIngress', (ec2, sdk) =>
        ec2.send(
          new sdk.AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: rulesToPermissions(after) }),
        ),
      );
    }
  }

  async update(res: DesiredResource, prev: ResourceRecord, _ctx: ProviderContext): Promise<Attrs> {
    const id = String(prev.outputs.id);
    if (res.kind === 'security_group') {
      const current = (await this.read(prev))?.ingress as Attrs[] | undefined;
      await this.setIngress(
        id,
        current ?? ((prev.attrs.ingress ?? []) as Attrs[]),
        (res.attrs.ingress ?? []) as Attrs[],
      );
      return prev.outputs;
    }
    if (res.kind === 'server') {
      const before = (prev.attrs.tags ?? {}) as Record<string, string>;
      const after = (res.attrs.tags ?? {}) as Record<string, string>;
      const removed = Object.keys(before).filter((k) => !(k in after));
      if (removed.length) {
        await this.call('DeleteTags', (ec2, sdk) =>
          ec2.send(new sdk.DeleteTagsCommand({ Resources: [id], Tags: removed.map((Key) => ({ Key })) })),
        );
      }
      const set = Object.entries(after).map(([Key, Value]) => ({ Key, Value }));
      if (set.length)
        await this.call('CreateTags', (ec2, sdk) =>
          ec2.send(new sdk.CreateTagsCommand({ Resources: [id], Tags: set })),
        );
      return prev.outputs;
    }
    return prev.outputs;
  }

  async delete(rec: ResourceRecord, _ctx: ProviderContext): Promise<void> {
    const id = String(rec.outputs.id ?? '');
    const gone = (e: unknown) => {
      if (!this.isNotFound(e)) throw e;
    };
    switch (rec.kind) {
      case 'vpc':
        await this.call('DeleteVpc', (ec2, sdk) => ec2.send(new sdk.DeleteVpcCommand({ VpcId: id }))).catch(gone);
        return;
      case 'subnet':
        await this.call('DeleteSubnet', (ec2, sdk) => ec2.send(new sdk.DeleteSubnetCommand({ SubnetId: id }))).catch(
          gone,
        );
        return;
      case 'key_pair':
        await this.call('DeleteKeyPair', (ec2, sdk) =>
          ec2.send(new sdk.DeleteKeyPairCommand({ KeyName: String(rec.outputs.name) })),
        ).catch(gone);
        return;
      case 'security_group':
        await this.call('DeleteSecurityGroup', (ec2, sdk) =>
          ec2.send(new sdk.DeleteSecurityGroupCommand({ GroupId: id })),
        ).catch(gone);
        return;
      default:
        await this.call('TerminateInstances', (ec2, sdk) =>
          ec2.send(new sdk.TerminateInstancesCommand({ InstanceIds: [id] })),
        ).catch(gone);
        await this.waitFor(id, (i) => !i || i.State?.Name === 'terminated', 'terminated');
    }
  }

  async test(): Promise<ProviderCheck[]> {
    try {
      const r = await this.call('DescribeRegions', (ec2, sdk) => ec2.send(new sdk.DescribeRegionsCommand({})));
      return [
        {
          target: `aws ${this.s.region}${this.s.endpoint ? ` (${this.s.endpoint})` : ''}`,
          ok: true,
          detail: `${r.Regions?.length ?? 0} regions visible`,
        },
      ];
    } catch (e) {
      return [{ target: `aws ${this.s.region}`, ok: false, detail: (e as Error).message }];
    }
  }

  async close() {
    await this.client?.then(
      (c) => c.ec2.destroy(),
      () => {},
    );
  }
}
