import { closestName } from '@stratumiops/nickel';
import type { InfraConfig, ServerConfig } from './desired.js';
import { SECRET_REF } from './sensitive.js';

/**
 * One problem of a configuration that its contracts cannot see: a reference to something that is not
 * there, a duplicate, a setting a provider needs. `path` is the exported value at fault (for file:line:col),
 * `literal` the string it spells (the caret goes under it).
 */
export interface ConfigIssue {
  message: string;
  path: (string | number)[];
  literal?: string;
  hint?: string;
}

export interface CheckContext {
  /** Names of the taskserv definitions prov can find. */
  definitions: string[];
  /** Provider settings of the workspace (.prov/providers.json). */
  upcloudZone?: string;
}

/** Providers prov can plan servers on; the others are warned about and ignored. */
export const SERVER_PROVIDERS = ['local', 'aws', 'upcloud', 'lxd'];

/** `3.5.16`, `15`, `v1.28.3`, `1.7.22-1`, `2.1~rc1`. */
const VERSION = /^v?\d+(\.\d+)*([-+~][0-9A-Za-z.+~-]*)?$/;

const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const didYouMean = (name: string, candidates: Iterable<string>) => {
  const c = closestName(name, candidates);
  return c ? ` (did you mean \`${c}\`?)` : '';
};

/**
 * The checks `plan` would make on the references of a configuration, all of them at once. The config
 * may be partial (null where a contract failed): whatever is missing is skipped, not reported twice.
 */
export function checkInfra(cfg: InfraConfig, ctx: CheckContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const servers = Array.isArray(cfg.servers) ? cfg.servers : [];
  const hosts = cfg.hosts && typeof cfg.hosts === 'object' ? cfg.hosts : {};
  const taskservs = Array.isArray(cfg.taskservs) ? cfg.taskservs : [];
  const serverNames = servers.map((s) => str(s?.name)).filter((n): n is string => n !== undefined);
  const machines = new Set([...serverNames, ...Object.keys(hosts)]);

  const seen = new Map<string, number>();
  servers.forEach((s, i) => {
    const name = str(s?.name);
    if (!s || name === undefined) return;
    const first = seen.get(name);
    if (first !== undefined) {
      issues.push({
        message: `server ${name} is declared twice (servers[${first}] and servers[${i}])`,
        path: ['servers', i, 'name'],
        literal: name,
        hint: 'server names are unique: rename or remove one',
      });
    } else seen.set(name, i);
    const provider = str(s.provider);
    if (provider === 'local' && !hosts[name]) {
      issues.push({
        message: `server ${name} uses the local provider but hosts has no entry ${name}${didYouMean(name, Object.keys(hosts))}`,
        path: ['servers', i, 'name'],
        literal: name,
        hint: `add hosts.${name} = { address = "..." } to the config`,
      });
    }
    if (provider === 'upcloud' && !str(s.zone) && !str(cfg.region) && !ctx.upcloudZone) {
      issues.push({
        message: `server ${name}: no UpCloud zone`,
        path: ['servers', i, 'provider'],
        hint: 'set region (e.g. fi-hel1) in the config, zone on the server, or prov provider add upcloud --zone',
      });
    }
    const deps = (s as { depends_on?: unknown }).depends_on;
    if (Array.isArray(deps)) {
      deps.forEach((d, j) => {
        const dep = str(d);
        if (dep === undefined) return;
        if (dep === name)
          issues.push({
            message: `server ${name} depends on itself`,
            path: ['servers', i, 'depends_on', j],
            literal: dep,
          });
        else if (!serverNames.includes(dep))
          issues.push({
            message: `server ${name} depends on ${dep}, which is not in servers${didYouMean(dep, serverNames)}`,
            path: ['servers', i, 'depends_on', j],
            literal: dep,
            hint: `servers: ${serverNames.join(', ') || 'none'}`,
          });
      });
    }
  });

  for (const [name, h] of Object.entries(hosts)) {
    if (!h || typeof h !== 'object') continue;
    const root = str(h.root);
    const labelRoot = str(h.labels?.root);
    if (root !== undefined && !root.startsWith('/')) {
      issues.push({
        message: `host ${name}: root ${JSON.stringify(root)} is not an absolute path`,
        path: ['hosts', name, 'root'],
        literal: root,
        hint: 'root is the install prefix of taskservs on this host, e.g. "/opt/prov-root" ("/" for the real tree)',
      });
    }
    if (root !== undefined && labelRoot !== undefined && root.replace(/\/+$/, '') !== labelRoot.replace(/\/+$/, '')) {
      issues.push({
        message: `host ${name}: root ${JSON.stringify(root)} and labels.root ${JSON.stringify(labelRoot)} disagree`,
        path: ['hosts', name, 'root'],
        literal: root,
        hint: 'keep root (labels.root is its older spelling)',
      });
    }
    for (const [path, ref] of [
      [['hosts', name, 'sudo_password'], str(h.sudo_password)],
      [['hosts', name, 'labels', 'sudo_password'], str(h.labels?.sudo_password)],
    ] as const) {
      if (ref === undefined || SECRET_REF.test(ref)) continue;
      issues.push({
        message: `host ${name}: sudo_password must be a reference (svault://path#field or env://VAR), never the password`,
        path: [...path],
        hint: 'store the password in svault (prov vault put) or an environment variable, and give its reference',
      });
    }
  }

  servers.forEach((s, i) => {
    if (!s) return;
    const provider = str(s.provider);
    const net = (s.networking ?? {}) as NonNullable<ServerConfig['networking']>;
    const unused: string[] = [];
    if (provider === 'local') {
      if (str(s.zone) !== undefined) unused.push('zone');
      if (net.vpc !== undefined) unused.push('networking.vpc');
      if (net.subnet !== undefined) unused.push('networking.subnet');
      if (net.public_ip === true) unused.push('networking.public_ip');
      if ((net.security_groups ?? []).length > 0) unused.push('networking.security_groups');
    } else if (provider === 'upcloud') {
      if (net.vpc !== undefined) unused.push('networking.vpc');
      if (net.subnet !== undefined) unused.push('networking.subnet');
      if ((net.security_groups ?? []).length > 0) unused.push('networking.security_groups');
    } else if (provider === 'aws') {
      if (str(s.zone) !== undefined) unused.push('zone');
    } else if (provider === 'lxd') {
      // Containers on this LXD, with no cloud network: placement and addresses are not theirs to set.
      if (str(s.zone) !== undefined) unused.push('zone');
      if (net.vpc !== undefined) unused.push('networking.vpc');
      if (net.subnet !== undefined) unused.push('networking.subnet');
      if (net.public_ip === true) unused.push('networking.public_ip');
      if ((net.security_groups ?? []).length > 0) unused.push('networking.security_groups');
    }
    for (const field of unused) {
      issues.push({
        message: `server ${str(s.name) ?? i}: ${field} has no effect on a ${provider} server`,
        path: ['servers', i, ...field.split('.')],
        hint:
          provider === 'aws' && field === 'zone'
            ? 'an aws server is placed by its subnet: set zone on the subnet (networking.subnets) and networking.subnet here'
            : `remove ${field} (the ${provider} provider does not manage it)`,
      });
    }
  });

  const net = (cfg.networking ?? {}) as { pod_cidr?: unknown; service_cidr?: unknown };
  for (const [field, dflt] of [
    ['pod_cidr', '10.244.0.0/16'],
    ['service_cidr', '10.96.0.0/12'],
  ] as const) {
    const v = str(net[field]);
    if (v === undefined || v === dflt) continue;
    issues.push({
      message: `networking.${field} is not used by prov: the setting would be silently ignored`,
      path: ['networking', field],
      literal: v,
      hint: `a Kubernetes cluster's networks are kubernetes.networking.${field}; remove networking.${field}`,
    });
  }

  const security = (cfg as { security?: Record<string, unknown> }).security;
  if (security && typeof security === 'object') {
    const audit = (security.audit_logging ?? {}) as Record<string, unknown>;
    // Encryption at rest is the encrypted-volume flag of the servers prov creates (EBS, UpCloud storage); the
    // disks of hosts it only reaches over SSH (local) or of LXD containers are not its to encrypt.
    if (security.encryption_at_rest === true) {
      servers.forEach((s, i) => {
        const provider = str(s?.provider);
        if (provider !== 'local' && provider !== 'lxd') return;
        issues.push({
          message: `security.encryption_at_rest: prov cannot encrypt the disks of ${provider} server ${str(s?.name) ?? i}`,
          path: ['security', 'encryption_at_rest'],
          hint: `encrypt that host's disks yourself (LUKS) and leave it out of this config, or set encryption_at_rest = false`,
        });
      });
    }
    const refused: [string[], boolean][] = [
      [['security', 'kms_key_id'], security.kms_key_id !== undefined],
      [['security', 'audit_logging', 'enabled'], audit.enabled === true],
      [
        ['security', 'audit_logging', 'retention_days'],
        audit.retention_days !== undefined && audit.retention_days !== 2555,
      ],
    ];
    for (const [path, set] of refused) {
      if (!set) continue;
      issues.push({
        message: `${path.join('.')} is not applied by prov yet: the setting would be silently ignored`,
        path,
        hint: `remove ${path.join('.')} (prov compliance checks these settings on existing resources)`,
      });
    }
  }

  // backups (enabled, schedule, retention_days) is the declared backup policy: prov compliance judges it and plan
  // reminds what runs it (prov workflow run backup, from cron); nothing in it is refused.

  const tsNames = taskservs.map((t) => str(t?.name)).filter((n): n is string => n !== undefined);
  const placed = new Set<string>();
  taskservs.forEach((t, i) => {
    const name = str(t?.name);
    if (!t || name === undefined) return;
    if (Array.isArray(t.hosts)) {
      t.hosts.forEach((h, j) => {
        const host = str(h);
        if (host === undefined) return;
        if (placed.has(`${name}\0${host}`)) {
          issues.push({
            message: `taskserv ${name} is declared twice on ${host}`,
            path: ['taskservs', i, 'hosts', j],
            literal: host,
            hint: 'a taskserv is installed once per host: remove the repeated host',
          });
        }
        placed.add(`${name}\0${host}`);
      });
    }
    if (ctx.definitions.length > 0 && !ctx.definitions.includes(name)) {
      issues.push({
        message: `no taskserv definition '${name}'${didYouMean(name, ctx.definitions)}`,
        path: ['taskservs', i, 'name'],
        literal: name,
        hint: `have: ${[...ctx.definitions].sort().join(', ')} (or add <name>.ncl to a [taskservs] dirs folder)`,
      });
    }
    const version = str(t.version);
    if (version !== undefined && !VERSION.test(version)) {
      issues.push({
        message: `taskserv ${name}: "${version}" is not a version number`,
        path: ['taskservs', i, 'version'],
        literal: version,
        hint: 'give a release such as "3.5.16" or "15", or leave version out for the definition\'s own',
      });
    }
    if (Array.isArray(t.hosts)) {
      t.hosts.forEach((h, j) => {
        const host = str(h);
        if (host === undefined || machines.has(host)) return;
        issues.push({
          message: `taskserv ${name} runs on ${host}, which is neither a server nor in hosts${didYouMean(host, machines)}`,
          path: ['taskservs', i, 'hosts', j],
          literal: host,
          hint: `add hosts.${host} = { address = "..." }`,
        });
      });
    }
    if (Array.isArray(t.depends_on)) {
      t.depends_on.forEach((d, j) => {
        const dep = str(d);
        if (dep === undefined || tsNames.includes(dep)) return;
        issues.push({
          message: `taskserv ${name} depends on ${dep}, which is not in taskservs${didYouMean(dep, tsNames)}`,
          path: ['taskservs', i, 'depends_on', j],
          literal: dep,
          hint: `taskservs: ${tsNames.join(', ') || 'none'}`,
        });
      });
    }
    if (t.config && typeof t.config === 'object') {
      for (const k of Object.keys(t.config)) {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) continue;
        issues.push({
          message: `taskserv ${name}: config key ${JSON.stringify(k)} is not a valid variable name`,
          path: ['taskservs', i, 'config', k],
          hint: 'config keys become environment variables of the steps: letters, digits and _',
        });
      }
    }
  });
  return issues;
}
