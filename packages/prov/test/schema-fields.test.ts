import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckContext, checkInfra } from '../src/core/check.js';
import { desiredResources, type InfraConfig } from '../src/core/desired.js';
import { schemaFields } from './support/schema-fields.js';

const schemas = join(import.meta.dirname, '..', '..', '..', 'schemas');
const ctx: CheckContext = { definitions: ['etcd', 'node_exporter', 'postgresql'] };

type Cfg = InfraConfig & Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: test variants reach into the exported config freely
type Any = any;

/** A config as its export looks (defaults filled in) with a server of each provider, hosts, networking and taskservs. */
function base(): Cfg {
  const server = (name: string, provider: string, extra: Record<string, unknown> = {}) => ({
    name,
    provider,
    spec: { cpu: 2, memory_gb: 4, disk_gb: 50, os: { family: 'debian', version: '12' } },
    depends_on: [],
    networking: { public_ip: false, security_groups: [] },
    tags: {},
    ...extra,
  });
  return {
    provider: 'aws',
    region: 'eu-west-1',
    servers: [
      server('web-1', 'aws', { networking: { subnet: 'a', public_ip: false, security_groups: ['web'] } }),
      server('db-1', 'local'),
      server('up-1', 'upcloud', { zone: 'fi-hel1' }),
    ],
    networking: {
      vpc_cidr: '10.0.0.0/16',
      pod_cidr: '10.244.0.0/16',
      service_cidr: '10.96.0.0/12',
      subnets: [{ name: 'a', cidr: '10.0.1.0/24', public: false }],
      security_groups: {
        web: {
          ingress: [{ protocol: 'tcp', port: 443, from: '0.0.0.0/0' }],
          egress: [{ protocol: 'all', from: '0.0.0.0/0' }],
        },
      },
    },
    taskservs: [
      { name: 'etcd', hosts: ['db-1'], depends_on: [], config: {} },
      { name: 'node_exporter', hosts: ['db-1'], depends_on: [], config: {} },
    ],
    hosts: { 'db-1': { address: '192.0.2.1', port: 22, user: 'root', sudo: false, labels: {} } },
  };
}

type Outcome = 'effect' | 'refused' | 'warned';
interface Case {
  outcome: Outcome;
  /** Changes the base config (a copy) to set the field. */
  set: (c: Any) => void;
  /** Changes the base config before the comparison (for both sides). */
  base?: (c: Any) => void;
  /** For refused: the path of the issue; for warned: a piece of the warning. */
  expect?: string;
  /** An effect that also warns (the top-level provider decides whether networking is managed). */
  warns?: boolean;
}

const web = (c: Any) => c.servers[0];
const host = (c: Any) => c.hosts['db-1'];
const refused = (path: string, set: (c: Any) => void): Case => ({ outcome: 'refused', set, expect: path });
const effect = (set: (c: Any) => void): Case => ({ outcome: 'effect', set });

/** Every field of every schema: how it shows (a change of the plan's resources), or that it is refused. */
const cases: Record<string, Record<string, Case>> = {
  'hosts.ncl': {
    '<name>.address': effect((c) => (host(c).address = '192.0.2.9')),
    '<name>.port': effect((c) => (host(c).port = 2222)),
    '<name>.user': effect((c) => (host(c).user = 'deploy')),
    '<name>.key_path': effect((c) => (host(c).key_path = '/keys/id')),
    '<name>.sudo': effect((c) => (host(c).sudo = true)),
    '<name>.sudo_password': effect((c) => (host(c).sudo_password = 'env://SUDO_PW')),
    '<name>.root': effect((c) => (host(c).root = '/opt/prov-root')),
    '<name>.labels': effect((c) => (host(c).labels = { rack: 'r1' })),
  },
  'infrastructure.ncl': {
    provider: {
      outcome: 'effect',
      warns: true,
      set: (c) => (c.provider = 'local'),
      base: (c) => (c.servers = c.servers.filter((s: Any) => s.provider !== 'aws')),
    },
    region: effect((c) => (c.region = 'us-east-2')),
    servers: effect((c) => c.servers.push({ ...web(c), name: 'web-2' })),
    networking: effect((c) => (c.networking.vpc_cidr = '10.9.0.0/16')),
    kubernetes: { outcome: 'warned', set: (c) => (c.kubernetes = { name: 'k' }), expect: 'kubernetes' },
    taskservs: effect((c) => c.taskservs.push({ name: 'postgresql', hosts: ['db-1'], depends_on: [], config: {} })),
    hosts: effect((c) => (host(c).address = '192.0.2.7')),
    // An encrypted volume for the servers prov creates; refused while the config has a host it cannot encrypt.
    security: refused('security.encryption_at_rest', (c) => (c.security = { encryption_at_rest: true })),
    'security.encryption_at_rest': {
      outcome: 'effect',
      set: (c) => (c.security = { encryption_at_rest: true }),
      base: (c) => (c.servers = c.servers.filter((s: Any) => s.provider !== 'local')),
    },
    'security.kms_key_id': refused('security.kms_key_id', (c) => (c.security = { kms_key_id: 'key-1' })),
    'security.audit_logging': refused(
      'security.audit_logging.enabled',
      (c) => (c.security = { audit_logging: { enabled: true } }),
    ),
    'security.audit_logging.enabled': refused(
      'security.audit_logging.enabled',
      (c) => (c.security = { audit_logging: { enabled: true } }),
    ),
    // The declared backup policy: compliance judges it, plan says what runs it.
    backups: { outcome: 'warned', set: (c) => (c.backups = { enabled: true }), expect: 'prov workflow run backup' },
    'backups.enabled': { outcome: 'warned', set: (c) => (c.backups = { enabled: true }), expect: 'backups:' },
    'backups.schedule': {
      outcome: 'warned',
      set: (c) => (c.backups = { schedule: '0 3 * * *' }),
      expect: 'from cron at "0 3 * * *"',
    },
    'backups.retention_days': {
      outcome: 'warned',
      set: (c) => (c.backups = { retention_days: 30 }),
      expect: '--param keep=30',
    },
    'security.audit_logging.retention_days': refused(
      'security.audit_logging.retention_days',
      (c) => (c.security = { audit_logging: { retention_days: 30 } }),
    ),
  },
  'networking.ncl': {
    vpc_cidr: effect((c) => (c.networking.vpc_cidr = '10.9.0.0/16')),
    pod_cidr: refused('networking.pod_cidr', (c) => (c.networking.pod_cidr = '10.1.0.0/16')),
    service_cidr: refused('networking.service_cidr', (c) => (c.networking.service_cidr = '10.2.0.0/16')),
    subnets: effect((c) => c.networking.subnets.push({ name: 'b', cidr: '10.0.2.0/24', public: false })),
    'subnets[].name': effect((c) => (c.networking.subnets[0].name = 'b')),
    'subnets[].cidr': effect((c) => (c.networking.subnets[0].cidr = '10.0.3.0/24')),
    'subnets[].public': effect((c) => (c.networking.subnets[0].public = true)),
    'subnets[].zone': effect((c) => (c.networking.subnets[0].zone = 'eu-west-1b')),
    security_groups: effect((c) => (c.networking.security_groups.db = { ingress: [], egress: [] })),
    ...Object.fromEntries(
      (['ingress', 'egress'] as const).flatMap((dir) => [
        [
          `security_groups.<name>.${dir}`,
          effect((c) => c.networking.security_groups.web[dir].push({ protocol: 'udp', from: '10.0.0.0/8' })),
        ],
        [
          `security_groups.<name>.${dir}[].protocol`,
          effect((c) => (c.networking.security_groups.web[dir][0].protocol = 'udp')),
        ],
        [`security_groups.<name>.${dir}[].port`, effect((c) => (c.networking.security_groups.web[dir][0].port = 8443))],
        [
          `security_groups.<name>.${dir}[].from`,
          effect((c) => (c.networking.security_groups.web[dir][0].from = '10.0.0.0/8')),
        ],
      ]),
    ),
  },
  'server.ncl': {
    name: effect((c) => (web(c).name = 'web-9')),
    provider: effect((c) =>
      Object.assign(web(c), {
        provider: 'upcloud',
        zone: 'fi-hel1',
        networking: { public_ip: false, security_groups: [] },
      }),
    ),
    plan: effect((c) => (web(c).plan = 't3.large')),
    zone: effect((c) => (c.servers[2].zone = 'de-fra1')),
    role: effect((c) => (web(c).role = 'web')),
    spec: effect((c) => (web(c).spec = { ...web(c).spec, cpu: 8, memory_gb: 32 })),
    'spec.cpu': effect((c) => (web(c).spec.cpu = 4)),
    'spec.memory_gb': effect((c) => (web(c).spec.memory_gb = 8)),
    'spec.disk_gb': effect((c) => (web(c).spec.disk_gb = 100)),
    'spec.os': effect((c) => (web(c).spec.os = { family: 'ubuntu', version: '24.04' })),
    'spec.os.family': effect((c) => (web(c).spec.os.family = 'rocky')),
    'spec.os.version': effect((c) => (web(c).spec.os.version = '11')),
    depends_on: effect((c) => (web(c).depends_on = ['db-1'])),
    networking: effect((c) => (web(c).networking.public_ip = true)),
    'networking.vpc': effect((c) => (web(c).networking.vpc = 'vpc-123')),
    'networking.subnet': effect((c) => (web(c).networking.subnet = undefined)),
    'networking.public_ip': effect((c) => (web(c).networking.public_ip = true)),
    'networking.security_groups': effect((c) => (web(c).networking.security_groups = [])),
    tags: effect((c) => (web(c).tags = { team: 'a' })),
  },
  'taskserv.ncl': {
    name: effect((c) => (c.taskservs[1].name = 'postgresql')),
    version: effect((c) => (c.taskservs[0].version = '3.5.0')),
    hosts: effect((c) => {
      c.hosts['db-2'] = { ...host(c), address: '192.0.2.2' };
      c.taskservs[0].hosts.push('db-2');
    }),
    depends_on: effect((c) => (c.taskservs[1].depends_on = ['etcd'])),
    config: effect((c) => (c.taskservs[0].config = { client_port: 2479 })),
  },
};

/** Every field of kubernetes.ncl: the section is accepted and warned about (clusters come from templates). */
const kubernetesFields = schemaFields(join(schemas, 'kubernetes.ncl'));
cases['kubernetes.ncl'] = Object.fromEntries(
  kubernetesFields.map((f) => [
    f,
    {
      outcome: 'warned',
      set: (c: Any) => (c.kubernetes = { name: 'k', provider: 'aws', region: 'eu-west-1' }),
      expect: 'the kubernetes section is ignored',
    } satisfies Case,
  ]),
);

const plan = (c: Cfg) => {
  const d = desiredResources(structuredClone(c));
  return { resources: JSON.stringify(d.resources), warnings: d.warnings };
};

describe('every field of every schema has an effect or is refused', () => {
  // The infrastructure config's schemas. cluster.ncl and workflow.ncl are the contracts of cluster templates and
  // workflows: a template or workflow that breaks them is refused when it loads (cluster and workflow tests).
  const files = readdirSync(schemas).filter(
    (f) => f.endsWith('.ncl') && !['lib.ncl', 'cluster.ncl', 'workflow.ncl'].includes(f),
  );

  // Declared clusters are planned through their templates (Nickel functions, evaluated by prov plan itself):
  // cluster-state.test.ts shows their effect on a real plan and apply.
  const planned = (f: string) => schemaFields(join(schemas, f)).filter((x) => !/^clusters(\.|$)/.test(x));

  it('the table covers exactly the fields the schemas declare', () => {
    for (const f of files) expect(Object.keys(cases[f] ?? {}).sort(), f).toEqual(planned(f).sort());
    expect(Object.keys(cases).sort()).toEqual(files.sort());
  });

  it('the base config is valid and plans without warnings', () => {
    expect(checkInfra(base(), ctx)).toEqual([]);
    expect(plan(base()).warnings).toEqual([]);
  });

  for (const [file, fields] of Object.entries(cases)) {
    for (const [field, c] of Object.entries(fields)) {
      it(`${file} ${field}: ${c.outcome}`, () => {
        const start = () => {
          const b = base();
          c.base?.(b);
          return b;
        };
        const cfg = start();
        c.set(cfg);
        const issues = checkInfra(cfg, ctx);
        if (c.outcome === 'refused') {
          expect(issues.map((i) => i.path.join('.'))).toContain(c.expect);
          return;
        }
        expect(issues).toEqual([]);
        const before = plan(start());
        const after = plan(cfg);
        if (c.outcome === 'warned') {
          expect(after.warnings.join('\n')).toContain(c.expect);
          return;
        }
        if (!c.warns) expect(after.warnings).toEqual([]);
        expect(after.resources).not.toEqual(before.resources);
      });
    }
  }

  it('a zone or networking the provider does not manage is refused, not ignored', () => {
    const cfg = base() as Any;
    cfg.servers[0].zone = 'eu-west-1a';
    cfg.servers[1].zone = 'dc-1';
    cfg.servers[1].networking = { vpc: 'v', public_ip: true, security_groups: ['x'] };
    cfg.servers[2].networking = { subnet: 's', public_ip: true, security_groups: [] };
    expect(checkInfra(cfg, ctx).map((i) => i.path.join('.'))).toEqual([
      'servers.0.zone',
      'servers.1.zone',
      'servers.1.networking.vpc',
      'servers.1.networking.public_ip',
      'servers.1.networking.security_groups',
      'servers.2.networking.subnet',
    ]);
  });

  it('root must be an absolute path and agree with labels.root; sudo_password must be a reference', () => {
    const cfg = base() as Any;
    host(cfg).root = 'opt/x';
    cfg.hosts['db-2'] = { address: '192.0.2.2', root: '/a', labels: { root: '/b' }, sudo_password: 'hunter2' };
    expect(checkInfra(cfg, ctx).map((i) => i.message)).toEqual([
      'host db-1: root "opt/x" is not an absolute path',
      'host db-2: root "/a" and labels.root "/b" disagree',
      'host db-2: sudo_password must be a reference (svault://path#field or env://VAR), never the password',
    ]);
  });
});
