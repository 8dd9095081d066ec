import { certInventory } from './certs.js';
import { diffEstimates, estimate, type PriceTable } from './estimate.js';
import { shq } from './executor.js';
import type { StateStore } from './state.js';
import type { DesiredResource } from './types.js';

/** One step of a migration: what it does, the commands that do it, and how to undo it. */
export interface MigrationStep {
  n: number;
  phase: 'prepare' | 'create' | 'data' | 'certs' | 'secrets' | 'switch' | 'destroy';
  title: string;
  /** Addresses of resources the step touches. */
  resources: string[];
  /** Commands an operator (or a runner) would run, in order; host-side ones as `host: command`. */
  commands: string[];
  undo: { title: string; commands: string[] };
  /** Once done, the undo cannot bring back everything (e.g. a destroyed source). */
  irreversible?: boolean;
}

export interface MigrationPlan {
  format: 'prov-migration/1';
  from: string;
  to: string;
  summary: { create: number; move: number; keep: number; destroy: number; data: number };
  steps: MigrationStep[];
  warnings: string[];
}

interface Side {
  path: string;
  resources: DesiredResource[];
}

/** What a taskserv's data is and how it travels. */
const DATA_SERVICES: Record<
  string,
  { what: string; dump(src: string): string[]; load(dst: string): string[]; drop(dst: string): string[] }
> = {
  postgresql: {
    what: 'PostgreSQL databases (dump and restore)',
    dump: (src) => [`${src}: pg_dumpall --clean --if-exists > /var/backups/prov-migrate.sql`],
    load: (dst) => [`${dst}: psql -v ON_ERROR_STOP=1 -f /var/backups/prov-migrate.sql postgres`],
    drop: (dst) => [`prov service uninstall postgresql --servers ${dst} (the restored data goes with it)`],
  },
  patroni: {
    what: 'PostgreSQL under Patroni (dump from the leader, restore into the new leader)',
    dump: (src) => [`${src}: pg_dumpall --clean --if-exists > /var/backups/prov-migrate.sql`],
    load: (dst) => [`${dst}: psql -v ON_ERROR_STOP=1 -f /var/backups/prov-migrate.sql postgres`],
    drop: (dst) => [`prov service uninstall patroni --servers ${dst} (the restored data goes with it)`],
  },
  etcd: {
    what: 'etcd keys (snapshot and restore)',
    dump: (src) => [`${src}: etcdctl snapshot save /var/backups/prov-migrate.etcd`],
    load: (dst) => [`${dst}: etcdutl snapshot restore /var/backups/prov-migrate.etcd --data-dir "$data_dir"`],
    drop: (dst) => [`prov service uninstall etcd --servers ${dst} (the restored keys go with it)`],
  },
};

const servers = (s: Side) => s.resources.filter((r) => r.kind === 'server');
const taskservs = (s: Side) => s.resources.filter((r) => r.kind === 'taskserv');
const where = (r: DesiredResource) => {
  const a = r.attrs as { plan?: string; region?: string; zone?: string; host?: { address?: string } };
  return [r.provider, a.region ?? a.zone, a.plan, a.host?.address].filter(Boolean).join(' ');
};
const same = (a: DesiredResource, b: DesiredResource) =>
  JSON.stringify(a.attrs) === JSON.stringify(b.attrs) && a.provider === b.provider;

/**
 * The ordered, reversible plan from one configuration to another (another provider, region or plan): create
 * the target servers beside the source ones, install the taskservs there, freeze writes and move data,
 * reissue certificates, check secrets, switch, and only then destroy the source. Every step names its undo.
 */
export function planMigration(
  from: Side,
  to: Side,
  extra: {
    certs?: { domain: string; host: string; group?: string; role: string; pki: string }[];
    secretRefs?: string[];
  } = {},
): MigrationPlan {
  const steps: Omit<MigrationStep, 'n'>[] = [];
  const warnings: string[] = [];
  const src = new Map(servers(from).map((r) => [r.name, r]));
  const dst = new Map(servers(to).map((r) => [r.name, r]));
  const created = [...dst.values()].filter((r) => !src.has(r.name));
  const moved = [...dst.values()].filter((r) => src.has(r.name) && !same(src.get(r.name)!, r));
  const kept = [...dst.values()].filter((r) => src.has(r.name) && same(src.get(r.name)!, r));
  const removed = [...src.values()].filter((r) => !dst.has(r.name));
  // A moved server's old machine is renamed <name>-old in state, so that the new one is created under its name
  // while the old one still serves; the old one is destroyed last.
  const oldName = (host: string) => `${host}-old`;

  const dataMoves: { service: string; from: string; to: string }[] = [];
  const srcTs = taskservs(from);
  for (const t of taskservs(to)) {
    const service = String(t.attrs.service);
    if (!DATA_SERVICES[service]) continue;
    const host = String(t.attrs.host);
    const before = srcTs.find((x) => x.attrs.service === service && x.attrs.host === host);
    const moving = moved.some((m) => m.name === host);
    if (before && !moving) continue;
    const source = before ?? srcTs.find((x) => x.attrs.service === service);
    if (!source) continue;
    // One move per service: from the first source member into the first target member.
    if (dataMoves.some((d) => d.service === service)) continue;
    const sourceHost = String(source.attrs.host);
    dataMoves.push({
      service,
      from: moved.some((m) => m.name === sourceHost) ? oldName(sourceHost) : sourceHost,
      to: host,
    });
  }
  const needsFreeze = dataMoves.length > 0;

  if (created.length + moved.length + removed.length + dataMoves.length === 0) {
    return {
      format: 'prov-migration/1',
      from: from.path,
      to: to.path,
      summary: { create: 0, move: 0, keep: kept.length, destroy: 0, data: 0 },
      steps: [],
      warnings,
    };
  }

  steps.push({
    phase: 'prepare',
    title: 'Check both configurations and record the starting point',
    resources: [],
    commands: [
      `prov validate ${from.path} ${to.path}`,
      `prov plan ${from.path} --detailed-exitcode (no drift before starting)`,
    ],
    undo: { title: 'nothing to undo', commands: [] },
  });
  for (const r of moved) {
    const moving = [`server.${r.name}`, ...srcTs.filter((t) => t.attrs.host === r.name).map((t) => t.address)];
    steps.push({
      phase: 'prepare',
      title: `Rename ${r.name} (${where(src.get(r.name)!)}) to ${oldName(r.name)} in state: it keeps serving until the switch`,
      resources: moving,
      commands: moving.map((a) => `prov state mv ${a} ${a.replace(new RegExp(`${r.name}$`), oldName(r.name))}`),
      undo: {
        title: `Give ${r.name} its name back in state`,
        commands: moving.map((a) => `prov state mv ${a.replace(new RegExp(`${r.name}$`), oldName(r.name))} ${a}`),
      },
    });
  }
  for (const r of [...created, ...moved]) {
    steps.push({
      phase: 'create',
      title: `Create server ${r.name} (${where(r)})`,
      resources: [`server.${r.name}`],
      commands: [`prov apply ${to.path} --target server.${r.name} -y`],
      undo: { title: `Destroy the new server ${r.name}`, commands: [`prov destroy --target server.${r.name} -y`] },
    });
  }
  const installs = taskservs(to).filter((t) => [...created, ...moved].some((s) => s.name === t.attrs.host));
  for (const t of installs) {
    steps.push({
      phase: 'create',
      title: `Install taskserv ${t.attrs.service} on ${t.attrs.host}`,
      resources: [t.address],
      commands: [`prov apply ${to.path} --target ${t.address} -y`],
      undo: {
        title: `Uninstall ${t.attrs.service} from ${t.attrs.host}`,
        commands: [`prov destroy --target ${t.address} -y`],
      },
    });
  }
  if (needsFreeze) {
    const hosts = [...new Set(dataMoves.map((d) => d.from))];
    steps.push({
      phase: 'data',
      title: `Freeze writes on ${hosts.join(', ')} (maintenance mode) so the copy is complete`,
      resources: hosts.map((h) => `server.${h}`),
      commands: hosts.map((h) => `${h}: stop the application writers (or set default_transaction_read_only = on)`),
      undo: {
        title: `Let writes in again on ${hosts.join(', ')}`,
        commands: hosts.map((h) => `${h}: start the writers again`),
      },
    });
  }
  for (const d of dataMoves) {
    const how = DATA_SERVICES[d.service]!;
    steps.push({
      phase: 'data',
      title: `Move ${how.what} from ${d.from} to ${d.to}`,
      resources: [`taskserv.${d.service}.${d.from}`, `taskserv.${d.service}.${d.to}`],
      commands: [
        ...how.dump(d.from),
        `scp ${d.from}:/var/backups/prov-migrate.* ${d.to}:/var/backups/ (kept until the source is destroyed)`,
        ...how.load(d.to),
        `prov health --service ${d.service}`,
      ],
      undo: { title: `Drop what was restored on ${d.to} (the source still has everything)`, commands: how.drop(d.to) },
    });
  }
  const movedHosts = new Set([...moved.map((m) => m.name), ...removed.map((r) => r.name)]);
  const certs = (extra.certs ?? []).filter((c) => movedHosts.has(c.host));
  for (const c of certs) {
    const target = dst.has(c.host) ? c.host : undefined;
    if (!target) {
      warnings.push(
        `certificate ${c.domain} on ${c.host}: the host goes away and the target has no server of that name; issue one where it is needed`,
      );
      continue;
    }
    steps.push({
      phase: 'certs',
      title: `Issue certificate ${c.domain} for ${target} from ${c.pki}/${c.role}`,
      resources: [`cert.${c.domain}.${target}`],
      commands: [
        `prov cert generate --domain ${shq(c.domain)} --engine ${c.pki} --role ${c.role} --servers ${target}${c.group ? ` --cluster ${c.group}` : ''}`,
      ],
      undo: {
        title: `Nothing to put back: the old certificate stays on ${oldName(c.host)} and valid in svault`,
        commands: [],
      },
    });
  }
  const refs = extra.secretRefs ?? [];
  if (refs.length) {
    steps.push({
      phase: 'secrets',
      title: `Check the ${refs.length} svault reference(s) the target uses resolve from its hosts`,
      resources: [],
      commands: [
        ...refs.map((r) => `prov vault read ${r.replace(/^svault:\/\/([^#]+)#(.*)$/, '$1 --field $2')} (must answer)`),
      ],
      undo: { title: 'nothing to undo (read only)', commands: [] },
    });
  }
  steps.push({
    phase: 'switch',
    title: `Switch: point clients at the target${moved.length ? ` (${moved.map((m) => m.name).join(', ')} now on ${[...new Set(moved.map((m) => m.provider))].join(', ')})` : ''}`,
    resources: moved.map((m) => `server.${m.name}`),
    commands: [
      'update DNS or the load balancer to the addresses of the new servers',
      ...(needsFreeze ? ['let the writers in again, on the target'] : []),
      `prov plan ${to.path} (expect only the source servers to delete)`,
    ],
    undo: {
      title: 'Point clients back at the source',
      commands: ['point DNS or the load balancer back at the source addresses'],
    },
  });
  for (const r of [...moved, ...removed]) {
    const old = moved.includes(r) ? oldName(r.name) : r.name;
    const source = src.get(r.name)!;
    steps.push({
      phase: 'destroy',
      title: `Destroy the source server ${old} (${where(source)})`,
      resources: [`server.${old}`],
      commands: [`prov destroy --target server.${old} -y`],
      undo: dataMoves.some((d) => d.from === old)
        ? {
            title: `Recreate ${r.name} from ${from.path} and restore its data from the copy kept in /var/backups`,
            commands: [`prov apply ${from.path} --target server.${r.name}`, 'restore the dump kept by the data step'],
          }
        : {
            title: `Recreate ${r.name} from ${from.path}`,
            commands: [`prov apply ${from.path} --target server.${r.name}`],
          },
      irreversible: true,
    });
  }
  if (kept.length) warnings.push(`${kept.length} server(s) stay as they are: ${kept.map((k) => k.name).join(', ')}`);
  return {
    format: 'prov-migration/1',
    from: from.path,
    to: to.path,
    summary: {
      create: created.length,
      move: moved.length,
      keep: kept.length,
      destroy: removed.length,
      data: dataMoves.length,
    },
    steps: steps.map((s, i) => ({ n: i + 1, ...s })),
    warnings,
  };
}

export function renderMigration(p: MigrationPlan, costLine?: string): string {
  if (p.steps.length === 0) return `No migration needed: ${p.to} asks for nothing ${p.from} does not have.`;
  const out = [`Migration ${p.from} → ${p.to}`, ''];
  for (const s of p.steps) {
    out.push(
      `${String(s.n).padStart(2)}. [${s.phase}] ${s.title}${s.irreversible ? '  (irreversible once done)' : ''}`,
    );
    for (const c of s.commands) out.push(`      $ ${c}`);
    out.push(`      undo: ${s.undo.title}`);
    for (const c of s.undo.commands) out.push(`      $ ${c}`);
  }
  const m = p.summary;
  out.push(
    '',
    `Migration: ${m.create} to create, ${m.move} to move, ${m.data} data move(s), ${m.destroy} to destroy, ${m.keep} unchanged; ${p.steps.length} steps.`,
  );
  if (costLine) out.push(costLine);
  for (const w of p.warnings) out.push(`note: ${w}`);
  return out.join('\n');
}

/** A config as loaded for planning: its path, the evaluated value, and the resources it asks for. */
export interface LoadedConfig {
  path: string;
  infra: unknown;
  desired: { resources: DesiredResource[] };
}

/**
 * The migration plan between two loaded configs with what it needs from the workspace: the certificates prov
 * recorded (reissued for moved hosts), the svault references of the target, and the monthly cost before and after.
 */
export async function migrationDocument(
  from: LoadedConfig,
  to: LoadedConfig,
  deps: { store: StateStore; tables: Map<string, PriceTable> },
) {
  const certs = await certInventory(deps.store);
  const secretRefs = [
    ...new Set([...JSON.stringify(to.infra).matchAll(/svault:\/\/[^"#]+#[A-Za-z0-9_.-]+/g)].map((m) => m[0])),
  ];
  const plan = planMigration(
    { path: from.path, resources: from.desired.resources },
    { path: to.path, resources: to.desired.resources },
    { certs, secretRefs },
  );
  const cost = diffEstimates(
    estimate(from.desired.resources, deps.tables, from.path),
    estimate(to.desired.resources, deps.tables, to.path),
  ).totals;
  return { ...plan, cost };
}
