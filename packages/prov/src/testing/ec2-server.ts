import { createServer, type Server } from 'node:http';
import type { HostPool } from './cloud-hosts.js';

/**
 * A small local server speaking the EC2 Query API (form-encoded POST in, XML out) for the calls prov makes:
 * VPCs, subnets, security groups, instances, tags, images, regions. The real @aws-sdk/client-ec2 talks to it
 * through its endpoint setting; nothing of prov is stubbed. Instances go pending → running on the next
 * Describe, shutting-down → terminated likewise. DeleteVpc refuses while subnets or groups remain in it.
 * With a host pool, an instance's public address is the pool's host for its Name tag (a throwaway sshd), so what
 * prov installs on the "instance" runs for real; a terminated instance gives its host back to the pool.
 */
export interface FakeEc2 {
  url: string;
  requests: string[];
  /** The access key id each request was signed with (SigV4 Credential=), in order. */
  accessKeys: string[];
  vpcs: Map<string, { cidr: string; tags: Record<string, string> }>;
  subnets: Map<string, { vpc: string; cidr: string; zone: string; tags: Record<string, string> }>;
  groups: Map<string, { name: string; vpc: string; perms: Perm[]; tags: Record<string, string> }>;
  instances: Map<string, Inst>;
  keyPairs: Map<string, { id: string; material: string; tags: Record<string, string> }>;
  /** Return an error code to fail a call (e.g. RunInstances for a given instance type). */
  fail?: (action: string, p: URLSearchParams) => string | undefined;
  /** Live resources (terminated instances excluded), for "the inventory is exactly as before". */
  inventory(): string[];
  close(): Promise<void>;
}

interface Perm {
  proto: string;
  from?: string;
  to?: string;
  cidrs: string[];
}
interface Inst {
  id: string;
  image: string;
  type: string;
  subnet?: string;
  groups: string[];
  state: string;
  ip: string;
  /** The public address: a pool host's, or none. */
  publicIp?: string;
  /** The boot volume was asked for encrypted (BlockDeviceMapping Ebs.Encrypted). */
  encrypted: boolean;
  keyName?: string;
  tags: Record<string, string>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const tagSet = (t: Record<string, string>) =>
  `<tagSet>${Object.entries(t)
    .map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`)
    .join('')}</tagSet>`;
const stateCode: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 };

export interface FakeCloudOptions {
  /** Hands out a real (sshd) host's address for each created server, by server name. */
  hosts?: HostPool;
}

export async function startFakeEc2(opts: FakeCloudOptions = {}): Promise<FakeEc2> {
  let n = 0;
  const id = (p: string) => `${p}-${(++n).toString(16).padStart(8, '0')}`;
  const fake: FakeEc2 = {
    url: '',
    requests: [],
    accessKeys: [],
    vpcs: new Map(),
    subnets: new Map(),
    groups: new Map(),
    instances: new Map(),
    keyPairs: new Map(),
    inventory() {
      return [
        ...[...fake.vpcs].map(([k, v]) => `vpc ${k} ${v.cidr} ${v.tags['prov:address']}`),
        ...[...fake.subnets].map(([k, v]) => `subnet ${k} ${v.cidr} ${v.tags['prov:address']}`),
        ...[...fake.groups].map(([k, v]) => `sg ${k} ${v.name} ${JSON.stringify(v.perms)}`),
        ...[...fake.instances.values()]
          .filter((i) => i.state !== 'terminated')
          .map(
            (i) =>
              `instance ${i.id} ${i.type} ${JSON.stringify(i.tags)}${i.keyName ? ` key ${i.keyName}` : ''}${i.encrypted ? ' encrypted' : ''}`,
          ),
        ...[...fake.keyPairs].map(([k, v]) => `keypair ${k} ${v.id} ${v.tags['prov:address']}`),
      ].sort();
    },
    close: async () => {},
  };
  const list = (p: URLSearchParams, prefix: string) => {
    const out: string[] = [];
    for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`)!);
    return out;
  };
  const tagsFrom = (p: URLSearchParams, type: string) => {
    const t: Record<string, string> = {};
    for (let i = 1; p.has(`TagSpecification.${i}.ResourceType`); i++) {
      if (p.get(`TagSpecification.${i}.ResourceType`) !== type) continue;
      for (let j = 1; p.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
        t[p.get(`TagSpecification.${i}.Tag.${j}.Key`)!] = p.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
      }
    }
    return t;
  };
  const filters = (p: URLSearchParams) => {
    const f: { name: string; values: string[] }[] = [];
    for (let i = 1; p.has(`Filter.${i}.Name`); i++)
      f.push({ name: p.get(`Filter.${i}.Name`)!, values: list(p, `Filter.${i}.Value`) });
    return f;
  };
  const match = (p: URLSearchParams, tags: Record<string, string>, extra: Record<string, string> = {}) =>
    filters(p).every((f) => {
      if (f.name.startsWith('tag:')) return f.values.includes(tags[f.name.slice(4)] ?? '\u0000');
      if (f.name in extra) return f.values.includes(extra[f.name]!);
      return true;
    });
  const notFound = (code: string, what: string) => ({ error: code, message: `The ${what} does not exist` });
  const perms = (p: URLSearchParams) => {
    const out: Perm[] = [];
    for (let i = 1; p.has(`IpPermissions.${i}.IpProtocol`); i++) {
      const perm: Perm = { proto: p.get(`IpPermissions.${i}.IpProtocol`)!, cidrs: [] };
      for (let j = 1; p.has(`IpPermissions.${i}.IpRanges.${j}.CidrIp`); j++)
        perm.cidrs.push(p.get(`IpPermissions.${i}.IpRanges.${j}.CidrIp`)!);
      if (p.has(`IpPermissions.${i}.FromPort`)) perm.from = p.get(`IpPermissions.${i}.FromPort`)!;
      if (p.has(`IpPermissions.${i}.ToPort`)) perm.to = p.get(`IpPermissions.${i}.ToPort`)!;
      out.push(perm);
    }
    return out;
  };
  const instXml = (i: Inst) =>
    `<item><instanceId>${i.id}</instanceId><imageId>${i.image}</imageId><instanceState><code>${stateCode[i.state]}</code><name>${i.state}</name></instanceState><instanceType>${i.type}</instanceType><privateIpAddress>${i.ip}</privateIpAddress>${i.publicIp ? `<ipAddress>${i.publicIp}</ipAddress>` : ''}${i.subnet ? `<subnetId>${i.subnet}</subnetId>` : ''}${tagSet(i.tags)}</item>`;

  const handle = (action: string, p: URLSearchParams): { xml?: string; error?: string; message?: string } => {
    const injected = fake.fail?.(action, p);
    if (injected) return { error: injected, message: `injected failure for ${action}` };
    switch (action) {
      case 'DescribeRegions':
        return {
          xml: '<regionInfo><item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint></item></regionInfo>',
        };
      case 'DescribeImages':
        return {
          xml: '<imagesSet><item><imageId>ami-0fake</imageId><name>ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101</name><creationDate>2024-01-01T00:00:00.000Z</creationDate><state>available</state></item></imagesSet>',
        };
      case 'CreateVpc': {
        const v = id('vpc');
        fake.vpcs.set(v, { cidr: p.get('CidrBlock')!, tags: tagsFrom(p, 'vpc') });
        return {
          xml: `<vpc><vpcId>${v}</vpcId><cidrBlock>${p.get('CidrBlock')}</cidrBlock><state>available</state>${tagSet(fake.vpcs.get(v)!.tags)}</vpc>`,
        };
      }
      case 'DescribeVpcs': {
        const ids = list(p, 'VpcId');
        for (const x of ids) if (!fake.vpcs.has(x)) return notFound('InvalidVpcID.NotFound', `vpc ID '${x}'`);
        const items = [...fake.vpcs].filter(([k, v]) => (ids.length ? ids.includes(k) : match(p, v.tags)));
        return {
          xml: `<vpcSet>${items.map(([k, v]) => `<item><vpcId>${k}</vpcId><cidrBlock>${v.cidr}</cidrBlock><state>available</state>${tagSet(v.tags)}</item>`).join('')}</vpcSet>`,
        };
      }
      case 'DeleteVpc': {
        const v = p.get('VpcId')!;
        if (!fake.vpcs.has(v)) return notFound('InvalidVpcID.NotFound', `vpc ID '${v}'`);
        const busy =
          [...fake.subnets.values()].some((s) => s.vpc === v) || [...fake.groups.values()].some((g) => g.vpc === v);
        if (busy)
          return { error: 'DependencyViolation', message: `The vpc '${v}' has dependencies and cannot be deleted.` };
        fake.vpcs.delete(v);
        return { xml: '<return>true</return>' };
      }
      case 'CreateSubnet': {
        const v = p.get('VpcId')!;
        if (!fake.vpcs.has(v)) return notFound('InvalidVpcID.NotFound', `vpc ID '${v}'`);
        const s = id('subnet');
        const rec = {
          vpc: v,
          cidr: p.get('CidrBlock')!,
          zone: p.get('AvailabilityZone') ?? 'eu-west-1a',
          tags: tagsFrom(p, 'subnet'),
        };
        fake.subnets.set(s, rec);
        return {
          xml: `<subnet><subnetId>${s}</subnetId><vpcId>${v}</vpcId><cidrBlock>${rec.cidr}</cidrBlock><availabilityZone>${rec.zone}</availabilityZone>${tagSet(rec.tags)}</subnet>`,
        };
      }
      case 'DescribeSubnets': {
        const ids = list(p, 'SubnetId');
        for (const x of ids) if (!fake.subnets.has(x)) return notFound('InvalidSubnetID.NotFound', `subnet ID '${x}'`);
        const items = [...fake.subnets].filter(([k, v]) => (ids.length ? ids.includes(k) : match(p, v.tags)));
        return {
          xml: `<subnetSet>${items.map(([k, v]) => `<item><subnetId>${k}</subnetId><vpcId>${v.vpc}</vpcId><cidrBlock>${v.cidr}</cidrBlock><availabilityZone>${v.zone}</availabilityZone>${tagSet(v.tags)}</item>`).join('')}</subnetSet>`,
        };
      }
      case 'DeleteSubnet': {
        const s = p.get('SubnetId')!;
        if (!fake.subnets.delete(s)) return notFound('InvalidSubnetID.NotFound', `subnet ID '${s}'`);
        return { xml: '<return>true</return>' };
      }
      case 'CreateSecurityGroup': {
        const g = id('sg');
        fake.groups.set(g, {
          name: p.get('GroupName')!,
          vpc: p.get('VpcId')!,
          perms: [],
          tags: tagsFrom(p, 'security-group'),
        });
        return { xml: `<groupId>${g}</groupId>` };
      }
      case 'DescribeSecurityGroups': {
        const ids = list(p, 'GroupId');
        for (const x of ids) if (!fake.groups.has(x)) return notFound('InvalidGroup.NotFound', `security group '${x}'`);
        const items = [...fake.groups].filter(([k, v]) => (ids.length ? ids.includes(k) : match(p, v.tags)));
        const permXml = (ps: Perm[]) =>
          `<ipPermissions>${ps.map((x) => `<item><ipProtocol>${x.proto}</ipProtocol>${x.from ? `<fromPort>${x.from}</fromPort>` : ''}${x.to ? `<toPort>${x.to}</toPort>` : ''}<ipRanges>${x.cidrs.map((c) => `<item><cidrIp>${c}</cidrIp></item>`).join('')}</ipRanges></item>`).join('')}</ipPermissions>`;
        return {
          xml: `<securityGroupInfo>${items.map(([k, v]) => `<item><groupId>${k}</groupId><groupName>${v.name}</groupName><vpcId>${v.vpc}</vpcId>${permXml(v.perms)}${tagSet(v.tags)}</item>`).join('')}</securityGroupInfo>`,
        };
      }
      case 'AuthorizeSecurityGroupIngress':
      case 'RevokeSecurityGroupIngress': {
        const g = fake.groups.get(p.get('GroupId')!);
        if (!g) return notFound('InvalidGroup.NotFound', `security group '${p.get('GroupId')}'`);
        const ps = perms(p);
        const key = (x: Perm) => JSON.stringify(x);
        if (action.startsWith('Authorize')) g.perms.push(...ps);
        else g.perms = g.perms.filter((x) => !ps.some((y) => key(y) === key(x)));
        return { xml: '<return>true</return>' };
      }
      case 'DeleteSecurityGroup': {
        const g = p.get('GroupId')!;
        if (!fake.groups.has(g)) return notFound('InvalidGroup.NotFound', `security group '${g}'`);
        if ([...fake.instances.values()].some((i) => i.state !== 'terminated' && i.groups.includes(g))) {
          return { error: 'DependencyViolation', message: `resource ${g} has a dependent object` };
        }
        fake.groups.delete(g);
        return { xml: '<return>true</return>' };
      }
      case 'RunInstances': {
        const i: Inst = {
          id: id('i'),
          image: p.get('ImageId')!,
          type: p.get('InstanceType')!,
          ...(p.get('SubnetId') ? { subnet: p.get('SubnetId')! } : {}),
          groups: list(p, 'SecurityGroupId'),
          state: 'pending',
          ip: `10.0.0.${n}`,
          encrypted: p.get('BlockDeviceMapping.1.Ebs.Encrypted') === 'true',
          ...(p.get('KeyName') ? { keyName: p.get('KeyName')! } : {}),
          tags: tagsFrom(p, 'instance'),
        };
        if (i.keyName && !fake.keyPairs.has(i.keyName))
          return notFound('InvalidKeyPair.NotFound', `key pair '${i.keyName}'`);
        if (i.subnet && !fake.subnets.has(i.subnet))
          return notFound('InvalidSubnetID.NotFound', `subnet ID '${i.subnet}'`);
        const name = i.tags.Name ?? i.tags['prov:address']?.replace(/^server\./, '');
        const host = name ? opts.hosts?.claim(name) : undefined;
        if (host) i.publicIp = host.address;
        fake.instances.set(i.id, i);
        return {
          xml: `<reservationId>r-${i.id}</reservationId><ownerId>123456789012</ownerId><instancesSet>${instXml(i)}</instancesSet>`,
        };
      }
      case 'DescribeInstances': {
        const ids = list(p, 'InstanceId');
        for (const x of ids)
          if (!fake.instances.has(x)) return notFound('InvalidInstanceID.NotFound', `instance ID '${x}'`);
        const items = [...fake.instances.values()].filter((i) =>
          ids.length ? ids.includes(i.id) : match(p, i.tags, { 'instance-state-name': i.state }),
        );
        const xml = `<reservationSet>${items.map((i) => `<item><reservationId>r-${i.id}</reservationId><instancesSet>${instXml(i)}</instancesSet></item>`).join('')}</reservationSet>`;
        for (const i of items) {
          if (i.state === 'pending') i.state = 'running';
          else if (i.state === 'shutting-down') {
            i.state = 'terminated';
            const name = i.tags.Name ?? i.tags['prov:address']?.replace(/^server\./, '');
            if (name && i.publicIp) opts.hosts?.release?.(name);
          }
        }
        return { xml };
      }
      case 'TerminateInstances': {
        const ids = list(p, 'InstanceId');
        for (const x of ids)
          if (!fake.instances.has(x)) return notFound('InvalidInstanceID.NotFound', `instance ID '${x}'`);
        const xml = ids
          .map((x) => {
            const i = fake.instances.get(x)!;
            const prev = i.state;
            if (i.state !== 'terminated') i.state = 'shutting-down';
            return `<item><instanceId>${x}</instanceId><currentState><code>${stateCode[i.state]}</code><name>${i.state}</name></currentState><previousState><code>${stateCode[prev]}</code><name>${prev}</name></previousState></item>`;
          })
          .join('');
        return { xml: `<instancesSet>${xml}</instancesSet>` };
      }
      case 'ImportKeyPair': {
        const name = p.get('KeyName')!;
        if (fake.keyPairs.has(name))
          return { error: 'InvalidKeyPair.Duplicate', message: `The keypair already exists` };
        // PublicKeyMaterial is a blob: base64 on the wire.
        const material = Buffer.from(p.get('PublicKeyMaterial') ?? '', 'base64').toString();
        if (!/^ssh-\S+ \S+/.test(material))
          return { error: 'InvalidKey.Format', message: 'Key is not in valid OpenSSH public key format' };
        const kp = { id: id('key'), material, tags: tagsFrom(p, 'key-pair') };
        fake.keyPairs.set(name, kp);
        return {
          xml: `<keyName>${esc(name)}</keyName><keyFingerprint>fp:${kp.id}</keyFingerprint><keyPairId>${kp.id}</keyPairId>${tagSet(kp.tags)}`,
        };
      }
      case 'DescribeKeyPairs': {
        const names = list(p, 'KeyName');
        for (const x of names) if (!fake.keyPairs.has(x)) return notFound('InvalidKeyPair.NotFound', `key pair '${x}'`);
        const items = [...fake.keyPairs].filter(([k, v]) => (names.length ? names.includes(k) : match(p, v.tags)));
        return {
          xml: `<keySet>${items.map(([k, v]) => `<item><keyPairId>${v.id}</keyPairId><keyName>${esc(k)}</keyName><keyFingerprint>fp:${v.id}</keyFingerprint>${tagSet(v.tags)}</item>`).join('')}</keySet>`,
        };
      }
      case 'DeleteKeyPair': {
        // EC2 answers true whether or not the key pair existed.
        fake.keyPairs.delete(p.get('KeyName') ?? '');
        return { xml: '<return>true</return>' };
      }
      case 'CreateTags':
      case 'DeleteTags': {
        for (const r of list(p, 'ResourceId')) {
          const target = fake.instances.get(r) ?? fake.vpcs.get(r) ?? fake.subnets.get(r) ?? fake.groups.get(r);
          if (!target) return notFound('InvalidID', `resource '${r}'`);
          for (let j = 1; p.has(`Tag.${j}.Key`); j++) {
            if (action === 'CreateTags') target.tags[p.get(`Tag.${j}.Key`)!] = p.get(`Tag.${j}.Value`) ?? '';
            else delete target.tags[p.get(`Tag.${j}.Key`)!];
          }
        }
        return { xml: '<return>true</return>' };
      }
      default:
        return { error: 'InvalidAction', message: `fake EC2 does not implement ${action}` };
    }
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const p = new URLSearchParams(body);
      const action = p.get('Action') ?? '';
      fake.requests.push(action);
      fake.accessKeys.push(/Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '');
      const r = handle(action, p);
      const rid = `req-${fake.requests.length}`;
      if (r.error) {
        const status = r.error === 'InternalError' ? 500 : 400;
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${r.error}</Code><Message>${esc(r.message ?? '')}</Message></Error></Errors><RequestID>${rid}</RequestID></Response>`,
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${rid}</requestId>${r.xml}</${action}Response>`,
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
