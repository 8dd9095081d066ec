import { validationError } from '@stratumiops/shared/errors';
import type { Attrs, DesiredResource } from './types.js';

/** The exported configuration (schemas/infrastructure.ncl), as far as prov reads it. */
export interface InfraConfig {
  provider: string;
  region?: string;
  servers?: ServerConfig[];
  networking?: {
    vpc_cidr?: string;
    subnets?: { name: string; cidr: string; public?: boolean; zone?: string }[];
    security_groups?: Record<string, { ingress?: Attrs[]; egress?: Attrs[] }>;
  };
  kubernetes?: Attrs;
  taskservs?: { name: string; version?: string; hosts: string[]; depends_on?: string[]; config?: Attrs }[];
  hosts?: Record<string, HostConfig>;
  security?: { encryption_at_rest?: boolean };
  backups?: { enabled?: boolean; schedule?: string; retention_days?: number };
  /** Clusters made from templates (schemas/cluster.ncl's Declared); their services are planned by the cluster. */
  clusters?: { name: string; template: string; members: string[]; version?: string; settings?: Attrs }[];
}

export interface ServerConfig {
  name: string;
  provider: string;
  plan?: string;
  zone?: string;
  role?: string;
  spec: Attrs;
  networking?: { vpc?: string; subnet?: string; public_ip?: boolean; security_groups?: string[] };
  tags?: Record<string, string>;
  /** Servers created first. */
  depends_on?: string[];
}

export interface HostConfig {
  address: string;
  port?: number;
  user?: string;
  key_path?: string;
  sudo?: boolean;
  /** Reference to the sudo password (svault://… or env://…), never the password. */
  sudo_password?: string;
  /** Install prefix of taskservs on this host. */
  root?: string;
  labels?: Record<string, string>;
}

export interface Desired {
  resources: DesiredResource[];
  warnings: string[];
}

/** Providers whose servers prov creates or enrolls (a taskserv on one of them waits for it). */
const MANAGED_SERVERS = ['local', 'aws', 'upcloud', 'lxd'];

const clean = (o: Attrs): Attrs => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Workspace settings that add resources the config does not spell out. */
export interface DesiredOptions {
  /** Public key (an authorized_keys line) for the login user of aws servers: imported as key pair `login`. */
  awsLoginKey?: string;
}

/**
 * Resources the configuration asks for, with their dependencies: explicit (taskserv depends_on) and implicit
 * from references by name (a server's subnet and security groups, a taskserv's hosts).
 */
export function desiredResources(cfg: InfraConfig, opts: DesiredOptions = {}): Desired {
  const warnings: string[] = [];
  const out: DesiredResource[] = [];
  const add = (kind: string, name: string, provider: string, attrs: Attrs, deps: string[] = []) => {
    const address = `${kind}.${name}`;
    if (out.some((r) => r.address === address)) throw validationError(`${address} is declared twice`);
    out.push({ address, kind, name, provider, attrs: clean(attrs), deps: [...new Set(deps)] });
  };
  const servers = cfg.servers ?? [];
  const hosts = cfg.hosts ?? {};
  const net = cfg.networking ?? {};
  const subnets = net.subnets ?? [];
  const groups = net.security_groups ?? {};
  const awsInUse = cfg.provider === 'aws' || servers.some((s) => s.provider === 'aws');

  if (awsInUse && (subnets.length > 0 || Object.keys(groups).length > 0)) {
    add('vpc', 'main', 'aws', { cidr: net.vpc_cidr ?? '10.0.0.0/16', region: cfg.region });
    for (const s of subnets) {
      add('subnet', s.name, 'aws', { cidr: s.cidr, public: s.public ?? false, zone: s.zone }, ['vpc.main']);
    }
    for (const [name, g] of Object.entries(groups)) {
      add('security_group', name, 'aws', { ingress: g.ingress ?? [], egress: g.egress ?? [] }, ['vpc.main']);
    }
  } else if (subnets.length > 0 || Object.keys(groups).length > 0) {
    warnings.push(`networking for provider ${cfg.provider} is not managed yet: subnets and security groups ignored`);
  }

  const loginKey = servers.some((s) => s.provider === 'aws') ? opts.awsLoginKey : undefined;
  if (loginKey) add('key_pair', 'login', 'aws', { public_key: loginKey });

  for (const s of servers) {
    const deps: string[] = (s.depends_on ?? []).map((d) => `server.${d}`);
    const attrs: Attrs = { plan: s.plan, role: s.role, spec: s.spec, tags: s.tags ?? {} };
    if (s.provider === 'aws') {
      const n = s.networking ?? {};
      attrs.networking = n;
      attrs.region = cfg.region;
      if (cfg.security?.encryption_at_rest === true) attrs.encrypted = true;
      if (out.some((r) => r.address === 'vpc.main')) deps.push('vpc.main');
      if (n.subnet && subnets.some((x) => x.name === n.subnet)) deps.push(`subnet.${n.subnet}`);
      for (const g of n.security_groups ?? []) if (groups[g]) deps.push(`security_group.${g}`);
      if (loginKey) {
        attrs.key_pair = 'login';
        deps.push('key_pair.login');
      }
    } else if (s.provider === 'local') {
      const h = hosts[s.name];
      if (!h) {
        throw validationError(`server ${s.name} uses the local provider but hosts has no entry ${s.name}`, {
          hint: `add hosts.${s.name} = { address = "..." } to the config`,
        });
      }
      attrs.host = hostAttrs(h);
    } else if (s.provider === 'upcloud') {
      attrs.zone = s.zone ?? cfg.region;
      if (cfg.security?.encryption_at_rest === true) attrs.encrypted = true;
      attrs.networking = { public_ip: s.networking?.public_ip ?? false };
    } else if (s.provider === 'lxd') {
      // A stopped container is drift: apply starts it again.
      attrs.running = true;
    } else {
      warnings.push(`server ${s.name}: provider ${s.provider} is not implemented yet; ignored`);
      continue;
    }
    add('server', s.name, s.provider, attrs, deps);
  }

  const taskservs = cfg.taskservs ?? [];
  const tsNames = new Set(taskservs.map((t) => String(t.name)));
  for (const t of taskservs) {
    for (const d of t.depends_on ?? []) {
      if (!tsNames.has(d)) throw validationError(`taskserv ${t.name} depends on ${d}, which is not in taskservs`);
    }
  }
  // Servers prov creates but cannot reach yet: one warning per provider, not one per taskserv and server.
  const noSsh = new Map<string, Map<string, string[]>>();
  for (const t of taskservs) {
    for (const host of t.hosts) {
      const server = servers.find((s) => s.name === host);
      // An LXD container of this config needs no SSH entry: its steps go through LXD exec.
      const h =
        hosts[host] ?? (server?.provider === 'lxd' ? { address: host, labels: { transport: 'lxd' } } : undefined);
      if (!h) {
        if (server) {
          const skip = noSsh.get(server.provider) ?? new Map<string, string[]>();
          skip.set(String(t.name), [...(skip.get(String(t.name)) ?? []), host]);
          noSsh.set(server.provider, skip);
          continue;
        }
        throw validationError(`taskserv ${t.name} runs on ${host}, which is neither a server nor in hosts`, {
          hint: `add hosts.${host} = { address = "..." }`,
        });
      }
      const deps: string[] = [];
      if (server && MANAGED_SERVERS.includes(server.provider)) deps.push(`server.${host}`);
      for (const d of t.depends_on ?? []) {
        const dep = taskservs.find((x) => x.name === d)!;
        if (dep.hosts.includes(host)) deps.push(`taskserv.${d}.${host}`);
        else for (const other of dep.hosts) deps.push(`taskserv.${d}.${other}`);
      }
      add(
        'taskserv',
        `${t.name}.${host}`,
        'local',
        { service: String(t.name), version: t.version, host, ssh: hostAttrs(h), config: t.config ?? {} },
        deps,
      );
    }
  }
  for (const [provider, skip] of noSsh) {
    const which = [...skip].map(([name, on]) => `${name} (${on.join(', ')})`).join(', ');
    warnings.push(
      `taskservs skipped on ${provider} servers with no SSH entry in hosts: ${which}; add hosts.<name> = { address = "..." } once a server's address is known`,
    );
  }
  const b = cfg.backups;
  if (b && (b.enabled === true || b.schedule !== undefined || (b.retention_days ?? 7) !== 7)) {
    warnings.push(
      `backups: prov keeps no schedule of its own: run prov workflow run backup --cluster NAME -y --param keep=${b.retention_days ?? 7}${b.schedule ? ` from cron at "${b.schedule}"` : ' from cron or a systemd timer'}${b.enabled === true ? '' : ' (backups.enabled is false)'}; prov compliance judges this policy`,
    );
  }
  if (cfg.kubernetes)
    warnings.push(
      'the kubernetes section is ignored: create Kubernetes clusters with prov cluster create --template k8s-ha (or k8s-dev)',
    );
  // Drop dependencies on resources that were skipped with a warning.
  const have = new Set(out.map((r) => r.address));
  for (const r of out) r.deps = r.deps.filter((d) => have.has(d));
  return { resources: out, warnings };
}

export function hostAttrs(h: HostConfig): Attrs {
  return clean({
    address: h.address,
    port: h.port ?? 22,
    user: h.user ?? 'root',
    key_path: h.key_path,
    sudo: h.sudo ?? false,
    sudo_password: h.sudo_password,
    root: h.root,
    labels: h.labels ?? {},
  });
}
