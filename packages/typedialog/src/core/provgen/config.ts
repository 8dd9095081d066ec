/**
 * prov-gen, step 1: a form's answers → an InfrastructureConfig (provider, region, resources, networking,
 * security). The answers a form must give are `ClusterAnswers` (examples/forms/cluster.toml asks all of
 * them); problems found here (a subnet outside the VPC, a name too long for the servers) are reported on
 * the answer that caused them, as the engine's errors are.
 */
import * as z from '@stratumiops/shared/zod';
import type { FieldError } from '../engine.js';

export const PROVIDERS = ['aws', 'gcp', 'azure', 'hetzner', 'upcloud', 'lxd'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const SIZES = ['small', 'medium', 'large', 'xlarge'] as const;
export type Size = (typeof SIZES)[number];

/** Default region per provider, when the answers leave it empty. */
export const DEFAULT_REGION: Record<Provider, string> = {
  aws: 'eu-west-1',
  gcp: 'europe-west1',
  azure: 'westeurope',
  hetzner: 'fsn1',
  upcloud: 'de-fra1',
  lxd: 'local',
};

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, { message: 'not in CIDR notation (a.b.c.d/n)' });
const count = (min: number, max: number) => z.number().int().min(min).max(max);

/** The answers prov-gen reads. Other answers of the form are ignored. */
export const clusterAnswersSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,40}[a-z0-9]$/, { message: 'lowercase letters, digits and -' }),
  provider: z.enum(PROVIDERS),
  region: z.string().optional(),
  environment: z.string().default('production'),
  owner: z.string().optional(),
  control_plane_count: count(1, 99).default(3),
  control_plane_size: z.enum(SIZES).default('medium'),
  worker_count: count(0, 999).default(3),
  worker_size: z.enum(SIZES).default('large'),
  disk_gb: count(20, 65536).default(50),
  os_family: z.enum(['ubuntu', 'debian', 'rocky', 'alpine']).default('ubuntu'),
  os_version: z.string().default('22.04'),
  public_ips: z.boolean().default(false),
  vpc_cidr: cidr.default('10.0.0.0/16'),
  private_subnet_cidr: cidr.default('10.0.1.0/24'),
  public_subnet_cidr: cidr.default('10.0.101.0/24'),
  ssh_from: cidr.default('10.0.0.0/8'),
  open_ports: z.array(z.union([z.string(), z.number()])).default([]),
  kubernetes: z.boolean().default(false),
  kubernetes_version: z.string().default('1.29'),
  cni: z.enum(['cilium', 'calico', 'flannel']).default('cilium'),
  pod_cidr: cidr.default('10.244.0.0/16'),
  service_cidr: cidr.default('10.96.0.0/12'),
  autoscaling: z.boolean().default(false),
  autoscaling_max: count(1, 9999).default(10),
  monitoring: z.boolean().default(false),
  encryption: z.boolean().default(false),
  kms_key_id: z.string().optional(),
  audit_logging: z.boolean().default(false),
  audit_retention_days: count(1, 36500).default(365),
});
export type ClusterAnswers = z.infer<typeof clusterAnswersSchema>;

export interface Rule {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  from: string;
}

export interface Server {
  name: string;
  role: 'control-plane' | 'worker';
  /** small..xlarge: each provider's template maps it to a plan with its cpu and memory. */
  size: Size;
  disk_gb: number;
  os: { family: string; version: string };
  subnet: string;
  public_ip: boolean;
  security_groups: string[];
  /** Index within its role, from 1 (templates spread servers over zones with it). */
  index: number;
}

export interface InfrastructureConfig {
  provider: Provider;
  /** The provider tag written into the Nickel files: the provider itself when schemas/ knows it. */
  schema_provider: string;
  region: string;
  name: string;
  environment: string;
  tags: Record<string, string>;
  resources: {
    servers: Server[];
    taskservs: { name: string; version?: string; hosts: string[]; depends_on: string[] }[];
  };
  networking: {
    vpc_cidr: string;
    pod_cidr: string;
    service_cidr: string;
    subnets: { name: string; cidr: string; public: boolean }[];
  };
  security: {
    groups: { name: string; ingress: Rule[]; egress: Rule[] }[];
    encryption_at_rest: boolean;
    kms_key_id?: string;
    audit_logging: boolean;
    audit_retention_days: number;
  };
  kubernetes?: {
    version: string;
    cni: string;
    control_plane: { count: number; plan: 'small' | 'medium' | 'large' };
    workers: { count: number; plan: Size; auto_scaling?: { enabled: boolean; min: number; max: number } };
    prometheus: boolean;
  };
}

function ipv4(cidrText: string): { base: number; bits: number } | undefined {
  const [addr, bits] = cidrText.split('/');
  const octets = (addr ?? '').split('.').map(Number);
  const n = Number(bits);
  if (octets.length !== 4 || octets.some((o) => !(o >= 0 && o <= 255)) || !(n >= 0 && n <= 32)) return undefined;
  const base = octets.reduce((a, o) => a * 256 + o, 0);
  return { base, bits: n };
}

/** Whether network `inner` lies inside network `outer`. */
export function cidrInside(inner: string, outer: string): boolean {
  const a = ipv4(inner);
  const b = ipv4(outer);
  if (!a || !b || a.bits < b.bits) return false;
  const size = 2 ** (32 - b.bits);
  const start = b.base - (b.base % size);
  return a.base >= start && a.base < start + size;
}

function overlaps(x: string, y: string): boolean {
  return cidrInside(x, y) || cidrInside(y, x);
}

/**
 * Builds the config. Errors name the answer at fault; `schemaProvider` is the tag the schemas accept
 * for this provider (see `schemaProviderTag`).
 */
export function toInfrastructure(
  answers: Record<string, unknown>,
  schemaProvider: (p: Provider) => string = (p) => p,
): { config?: InfrastructureConfig; errors: FieldError[] } {
  const parsed = clusterAnswersSchema.safeParse(answers);
  if (!parsed.success) {
    const errors: FieldError[] = parsed.error.issues.map((i) => ({
      field: String(i.path[0] ?? ''),
      code: 'contract',
      params: {
        message:
          i.path.length === 0
            ? i.message
            : i.code === 'invalid_type' && i.input === undefined
              ? 'is required by prov-gen'
              : i.message,
      },
    }));
    return { errors };
  }
  const a = parsed.data;
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, code: 'contract', params: { message } });
  for (const [field, value] of [
    ['private_subnet_cidr', a.private_subnet_cidr],
    ['public_subnet_cidr', a.public_subnet_cidr],
  ] as const) {
    if (!ipv4(value)) fail(field, `${value} is not a valid IPv4 network`);
    else if (!cidrInside(value, a.vpc_cidr)) fail(field, `${value} is not inside the VPC ${a.vpc_cidr}`);
  }
  if (cidrInside(a.private_subnet_cidr, a.vpc_cidr) && overlaps(a.private_subnet_cidr, a.public_subnet_cidr)) {
    fail('public_subnet_cidr', `${a.public_subnet_cidr} overlaps the private subnet ${a.private_subnet_cidr}`);
  }
  if (a.kubernetes && overlaps(a.pod_cidr, a.vpc_cidr))
    fail('pod_cidr', `${a.pod_cidr} overlaps the VPC ${a.vpc_cidr}`);
  if (a.kubernetes && overlaps(a.service_cidr, a.pod_cidr)) {
    fail('service_cidr', `${a.service_cidr} overlaps the pod network ${a.pod_cidr}`);
  }
  const ports: number[] = [];
  for (const p of a.open_ports) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) fail('open_ports', `${p} is not a port number (1-65535)`);
    else if (!ports.includes(n)) ports.push(n);
  }
  if (a.kubernetes && a.autoscaling && a.autoscaling_max < a.worker_count) {
    fail('autoscaling_max', `must be at least the worker count (${a.worker_count})`);
  }
  const longest = `${a.name}-worker-${a.worker_count}`;
  if (longest.length > 63) fail('name', `server names such as ${longest} would be longer than 63 characters`);
  if (errors.length > 0) return { errors };

  const nodes = `${a.name}-nodes`;
  const edge = `${a.name}-edge`;
  const privateNet = `${a.name}-private`;
  const publicNet = `${a.name}-public`;
  const server = (role: Server['role'], size: Size, index: number): Server => ({
    name: `${a.name}-${role === 'control-plane' ? 'cp' : 'worker'}-${index}`,
    role,
    size,
    disk_gb: a.disk_gb,
    os: { family: a.os_family, version: a.os_version },
    subnet: role === 'control-plane' && a.public_ips ? publicNet : privateNet,
    public_ip: role === 'control-plane' && a.public_ips,
    security_groups: role === 'control-plane' && a.public_ips ? [nodes, edge] : [nodes],
    index,
  });
  const cps = Array.from({ length: a.control_plane_count }, (_, i) =>
    server('control-plane', a.control_plane_size, i + 1),
  );
  const workers = Array.from({ length: a.worker_count }, (_, i) => server('worker', a.worker_size, i + 1));
  const servers = [...cps, ...workers];
  const all = servers.map((s) => s.name);
  const cpNames = cps.map((s) => s.name);

  const taskservs: InfrastructureConfig['resources']['taskservs'] = [];
  if (a.kubernetes) {
    taskservs.push({ name: 'containerd', hosts: all, depends_on: [] });
    taskservs.push({ name: 'kubernetes', version: a.kubernetes_version, hosts: all, depends_on: ['containerd'] });
    if (a.cni === 'cilium') taskservs.push({ name: 'cilium', hosts: cpNames, depends_on: ['kubernetes'] });
  }
  if (a.monitoring) {
    taskservs.push({ name: 'node_exporter', hosts: all, depends_on: [] });
    taskservs.push({ name: 'prometheus', hosts: cpNames.slice(0, 1), depends_on: ['node_exporter'] });
  }

  const ingress: Rule[] = [
    { protocol: 'tcp', port: 22, from: a.ssh_from },
    { protocol: 'all', from: a.vpc_cidr },
  ];
  const groups: InfrastructureConfig['security']['groups'] = [
    { name: nodes, ingress, egress: [{ protocol: 'all', from: '0.0.0.0/0' }] },
  ];
  if (a.public_ips) {
    const open: Rule[] = ports.map((port) => ({ protocol: 'tcp', port, from: '0.0.0.0/0' }));
    if (a.kubernetes) open.push({ protocol: 'tcp', port: 6443, from: a.ssh_from });
    groups.push({ name: edge, ingress: open, egress: [] });
  }

  const tags: Record<string, string> = {
    cluster: a.name,
    environment: a.environment,
    managed_by: 'typedialog',
  };
  if (a.owner) tags.owner = a.owner;
  // Not in schemas/infrastructure.ncl yet: carried as tags on every server (see security.ncl).
  if (a.encryption) tags.encryption_at_rest = 'true';
  if (a.encryption && a.kms_key_id) tags.kms_key_id = a.kms_key_id;
  if (a.audit_logging) tags.audit_log_retention_days = String(a.audit_retention_days);

  const cpPlan = a.control_plane_size === 'xlarge' ? 'large' : a.control_plane_size;
  const config: InfrastructureConfig = {
    provider: a.provider,
    schema_provider: schemaProvider(a.provider),
    region: a.region?.trim() ? a.region.trim() : DEFAULT_REGION[a.provider],
    name: a.name,
    environment: a.environment,
    tags,
    resources: { servers, taskservs },
    networking: {
      vpc_cidr: a.vpc_cidr,
      pod_cidr: a.pod_cidr,
      service_cidr: a.service_cidr,
      subnets: [
        { name: privateNet, cidr: a.private_subnet_cidr, public: false },
        { name: publicNet, cidr: a.public_subnet_cidr, public: true },
      ],
    },
    security: {
      groups,
      encryption_at_rest: a.encryption,
      ...(a.encryption && a.kms_key_id ? { kms_key_id: a.kms_key_id } : {}),
      audit_logging: a.audit_logging,
      audit_retention_days: a.audit_retention_days,
    },
  };
  if (a.kubernetes) {
    config.kubernetes = {
      version: a.kubernetes_version,
      cni: a.cni,
      control_plane: { count: a.control_plane_count, plan: cpPlan },
      workers: {
        count: a.worker_count,
        plan: a.worker_size,
        ...(a.autoscaling ? { auto_scaling: { enabled: true, min: a.worker_count, max: a.autoscaling_max } } : {}),
      },
      prometheus: a.monitoring,
    };
  }
  return { config, errors: [] };
}
