import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { conflictError, notFoundError, StratumError, usageError, validationError } from '@stratumiops/shared/errors';
import { processAlive } from '@stratumiops/shared/fs';
import { byCodeUnits } from '@stratumiops/shared/order';
import { certInventory } from './certs.js';
import {
  assertNoUnfinished,
  assertNoUnfinishedMigration,
  effectiveStatus,
  executePlan,
  lockState,
  makePlan,
  type ProviderSource,
  type RunResult,
} from './engine.js';
import { diffEstimates, estimate, type PriceTable } from './estimate.js';
import { type Executor, HostError, type HostTarget, installRoot, type OutputSink, shq } from './executor.js';
import { topoSort } from './graph.js';
import { type OrchEvent, type OrchTask, type RetryPolicy, runDag } from './orchestrator.js';
import { newRunId, type StateStore } from './state.js';
import type { TaskservDefinition } from './taskserv.js';
import type { Attrs, DesiredResource } from './types.js';
import { writeAtomic } from './workspace.js';

/** What the runner does for a step (prov migrate apply); the commands are the same step for a reader. */
export type StepAction =
  | { type: 'check' }
  | { type: 'create'; address: string }
  | { type: 'freeze'; service: string; host: string }
  | { type: 'data'; service: string; from: string; to: string }
  | { type: 'verify'; service: string; from: string; to: string }
  | { type: 'certs'; domain: string; host: string }
  | { type: 'secrets'; refs: string[] }
  | { type: 'switch' }
  | { type: 'destroy'; targets: string[] }
  | { type: 'record' };

/** One step of a migration: what it does, the commands that do it, and how to undo it. */
export interface MigrationStep {
  n: number;
  phase: 'prepare' | 'create' | 'data' | 'certs' | 'secrets' | 'switch' | 'destroy' | 'record';
  title: string;
  /** Addresses of resources the step touches. */
  resources: string[];
  /** Commands an operator would run, in order; host-side ones as `host: command`. */
  commands: string[];
  undo: { title: string; commands: string[] };
  /** Once done, the undo cannot bring back everything (e.g. a destroyed source). */
  irreversible?: boolean;
  action: StepAction;
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

/** What a taskserv's data is and how it travels; `runs`: prov migrate apply moves it (else the steps are by hand). */
const DATA_SERVICES: Record<
  string,
  {
    what: string;
    runs: boolean;
    freeze?: (src: string) => string[];
    dump(src: string): string[];
    load(dst: string): string[];
    verify?: (src: string, dst: string) => string[];
  }
> = {
  postgresql: {
    what: 'PostgreSQL databases (dump and restore)',
    runs: true,
    freeze: (src) => [
      `${src}: psql -c "ALTER SYSTEM SET default_transaction_read_only = on" -c "SELECT pg_reload_conf()"`,
    ],
    dump: (src) => [`${src}: pg_dumpall --clean --if-exists > /var/backups/prov-migrate-<id>.sql`],
    load: (dst) => [`${dst}: psql -v ON_ERROR_STOP=1 -f /var/backups/prov-migrate-<id>.sql postgres`],
    verify: (src, dst) => [`${src}, ${dst}: count(*) and md5 of every table of every database; they must match`],
  },
  patroni: {
    what: 'PostgreSQL under Patroni (dump from the leader, restore into the new leader)',
    runs: false,
    dump: (src) => [`${src}: pg_dumpall --clean --if-exists > /var/backups/prov-migrate-<id>.sql`],
    load: (dst) => [`${dst}: psql -v ON_ERROR_STOP=1 -f /var/backups/prov-migrate-<id>.sql postgres`],
  },
  etcd: {
    // Through etcd's v3 JSON gateway (curl on the host; no etcdctl needed): every key and value, not the revision
    // history; a key under a lease is left for its owner to write again. etcd has no read-only mode: writes during the copy show in the verify step, which fails.
    what: 'etcd keys (every key and value through the v3 API; not revisions, nor keys under a lease: a warning names them)',
    runs: true,
    dump: (src) => [`${src}: curl -X POST $client_url/v3/kv/range -d '{"key":"AA==","range_end":"AA=="}' (every key)`],
    load: (dst) => [`${dst}: curl -X POST $client_url/v3/kv/put, one request per key`],
    verify: (src, dst) => [`${src}, ${dst}: the number of keys and the sha256 of every key and value; they must match`],
  },
};

/** The data services prov migrate apply moves itself. */
export const RUNNABLE_DATA = Object.keys(DATA_SERVICES).filter((k) => DATA_SERVICES[k]!.runs);

const servers = (s: Side) => s.resources.filter((r) => r.kind === 'server');
const where = (r: DesiredResource) => {
  const a = r.attrs as { plan?: string; region?: string; zone?: string; host?: { address?: string } };
  return [r.provider, a.region ?? a.zone, a.plan, a.host?.address].filter(Boolean).join(' ');
};
const same = (a: DesiredResource, b: DesiredResource) =>
  JSON.stringify(a.attrs) === JSON.stringify(b.attrs) && a.provider === b.provider;

/**
 * Which resources a migration creates, keeps and destroys. Kept: the same address, provider and attributes on both
 * sides (and nothing it depends on moves). Staged: every other target resource, created beside the source and
 * recorded in the migration's own state until the switch. Destroyed: every source resource not kept.
 */
export function migrationSets(from: DesiredResource[], to: DesiredResource[]) {
  const src = new Map(from.map((r) => [r.address, r]));
  const staged = new Set(to.filter((r) => !src.has(r.address) || !same(src.get(r.address)!, r)).map((r) => r.address));
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of to) {
      if (!staged.has(r.address) && r.deps.some((d) => staged.has(d))) {
        staged.add(r.address);
        grew = true;
      }
    }
  }
  const kept = new Set(to.filter((r) => !staged.has(r.address)).map((r) => r.address));
  return {
    staged: topoSort(
      to.filter((r) => staged.has(r.address)).map((r) => ({ id: r.address, deps: r.deps })),
      { ignoreMissing: true },
    ).map((id) => to.find((r) => r.address === id)!),
    kept,
    destroyed: from.filter((r) => !kept.has(r.address)),
  };
}

/**
 * The ordered, reversible plan from one configuration to another (another provider, region or plan): create the
 * target's resources beside the source ones (in the migration's own state: the workspace state keeps the source
 * until the end), freeze writes and move data, check it arrived, reissue certificates, check secrets, switch,
 * and only then destroy the source and record the target in state. Every step names its undo.
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
  const sets = migrationSets(from.resources, to.resources);
  const stagedTs = sets.staged.filter((r) => r.kind === 'taskserv');
  const srcTs = from.resources.filter((r) => r.kind === 'taskserv');
  const destroyedAddr = new Set(sets.destroyed.map((r) => r.address));

  const dataMoves: { service: string; from: string; to: string }[] = [];
  for (const t of stagedTs) {
    const service = String(t.attrs.service);
    if (!DATA_SERVICES[service] || dataMoves.some((d) => d.service === service)) continue;
    // From the first source member that goes away into the first new target member.
    const source = srcTs.find((x) => x.attrs.service === service && destroyedAddr.has(x.address));
    if (!source) continue;
    dataMoves.push({ service, from: String(source.attrs.host), to: String(t.attrs.host) });
  }

  if (sets.staged.length + sets.destroyed.length === 0) {
    return {
      format: 'prov-migration/1',
      from: from.path,
      to: to.path,
      summary: { create: 0, move: 0, keep: kept.length, destroy: 0, data: 0 },
      steps: [],
      warnings,
    };
  }
  const srcName = (h: string) => `${h} (${from.path})`;
  const dstName = (h: string) => `${h} (${to.path})`;

  steps.push({
    phase: 'prepare',
    title: 'Check both configurations and record the starting point',
    resources: sets.destroyed.map((r) => r.address),
    commands: [
      `prov validate ${from.path} ${to.path}`,
      `prov state list (every source resource that goes away is recorded)`,
    ],
    undo: { title: 'nothing to undo', commands: [] },
    action: { type: 'check' },
  });
  for (const r of sets.staged) {
    const title =
      r.kind === 'server'
        ? `Create server ${r.name} (${where(r)})`
        : r.kind === 'taskserv'
          ? `Install taskserv ${r.attrs.service} on ${r.attrs.host}`
          : `Create ${r.kind} ${r.name} (${r.provider})`;
    steps.push({
      phase: 'create',
      title,
      resources: [r.address],
      commands: [`prov apply ${to.path} --target ${r.address} -y (recorded in the migration's state until the switch)`],
      undo: {
        title:
          r.kind === 'taskserv'
            ? `Uninstall ${r.attrs.service} from ${r.attrs.host}`
            : `Destroy the new ${r.kind} ${r.name}`,
        commands: [`prov destroy --target ${r.address} -y (in the migration's state)`],
      },
      action: { type: 'create', address: r.address },
    });
  }
  for (const d of dataMoves) {
    const how = DATA_SERVICES[d.service]!;
    if (!how.runs)
      warnings.push(`${how.what}: prov migrate apply does not move this data yet; the steps are for doing it by hand`);
    if (how.freeze || !how.runs)
      steps.push({
        phase: 'data',
        title: `Freeze writes on ${srcName(d.from)} so the copy is complete`,
        resources: [`taskserv.${d.service}.${d.from}`],
        commands: how.freeze?.(d.from) ?? [`${d.from}: stop the application writers`],
        undo: { title: `Let writes in again on ${d.from}`, commands: [`${d.from}: let the writers in again`] },
        action: { type: 'freeze', service: d.service, host: d.from },
      });
    steps.push({
      phase: 'data',
      title: `Move ${how.what} from ${srcName(d.from)} to ${dstName(d.to)}`,
      resources: [`taskserv.${d.service}.${d.from}`, `taskserv.${d.service}.${d.to}`],
      commands: [
        ...how.dump(d.from),
        `copy the dump from ${d.from} to ${d.to}:/var/backups/ (the source keeps its copy until it is destroyed)`,
        ...how.load(d.to),
      ],
      undo: {
        title: `Nothing of the source to put back (it was only read); the restored copy goes with the new ${d.to}`,
        commands: [],
      },
      action: { type: 'data', service: d.service, from: d.from, to: d.to },
    });
    steps.push({
      phase: 'data',
      title: `Verify the moved data: row counts and checksums on ${d.to} match ${d.from}`,
      resources: [`taskserv.${d.service}.${d.from}`, `taskserv.${d.service}.${d.to}`],
      commands: how.verify?.(d.from, d.to) ?? [`compare the data on ${d.from} and ${d.to}`],
      undo: { title: 'nothing to undo (read only)', commands: [] },
      action: { type: 'verify', service: d.service, from: d.from, to: d.to },
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
        title: `Nothing to put back: the old certificate stays on the source ${c.host} and valid in svault`,
        commands: [],
      },
      action: { type: 'certs', domain: c.domain, host: target },
    });
  }
  const refs = extra.secretRefs ?? [];
  if (refs.length) {
    steps.push({
      phase: 'secrets',
      title: `Check the ${refs.length} svault reference(s) the target uses resolve`,
      resources: [],
      commands: [
        ...refs.map((r) => `prov vault read ${r.replace(/^svault:\/\/([^#]+)#(.*)$/, '$1 --field $2')} (must answer)`),
      ],
      undo: { title: 'nothing to undo (read only)', commands: [] },
      action: { type: 'secrets', refs },
    });
  }
  steps.push({
    phase: 'switch',
    title: `Switch: point clients at the target${moved.length ? ` (${moved.map((m) => m.name).join(', ')} now on ${[...new Set(moved.map((m) => m.provider))].join(', ')})` : ''}`,
    resources: [...dst.values()].map((m) => `server.${m.name}`),
    commands: [
      'update DNS or the load balancer to the addresses of the new servers (prov records the cut-over)',
      ...(dataMoves.length ? ['the writers go to the target; the source stays read-only'] : []),
    ],
    undo: {
      title: 'Point clients back at the source',
      commands: ['point DNS or the load balancer back at the source addresses'],
    },
    action: { type: 'switch' },
  });
  const destroyServers = sets.destroyed.filter((r) => r.kind === 'server');
  const covered = new Set<string>();
  for (const r of destroyServers) {
    const withDependents = new Set([r.address]);
    for (const x of sets.destroyed) if (x.deps.includes(r.address)) withDependents.add(x.address);
    for (const a of withDependents) covered.add(a);
    steps.push({
      phase: 'destroy',
      title: `Destroy the source server ${r.name} (${where(r)})`,
      resources: [...withDependents],
      commands: [`prov destroy --target server.${r.name} -y (${from.path})`],
      undo: dataMoves.some((d) => d.from === r.name)
        ? {
            title: `Recreate ${r.name} from ${from.path} and restore its data from the copy kept on the target`,
            commands: [`prov apply ${from.path} --target server.${r.name}`, 'restore the dump kept by the data step'],
          }
        : {
            title: `Recreate ${r.name} from ${from.path}`,
            commands: [`prov apply ${from.path} --target server.${r.name}`],
          },
      irreversible: true,
      action: { type: 'destroy', targets: [r.address] },
    });
  }
  const rest = sets.destroyed.filter((r) => !covered.has(r.address)).map((r) => r.address);
  if (rest.length) {
    steps.push({
      phase: 'destroy',
      title: `Destroy the rest of the source: ${rest.join(', ')}`,
      resources: rest,
      commands: [`prov destroy ${rest.map((a) => `--target ${a}`).join(' ')} -y (${from.path})`],
      undo: { title: `Recreate them from ${from.path}`, commands: [`prov apply ${from.path}`] },
      irreversible: true,
      action: { type: 'destroy', targets: rest },
    });
  }
  steps.push({
    phase: 'record',
    title: `Record the target in state: ${sets.staged.length} resource(s) enter, ${sets.destroyed.length} left with the source`,
    resources: sets.staged.map((r) => r.address),
    commands: ['prov state list (only the target side and what was kept)'],
    undo: { title: 'nothing to undo: the source is gone', commands: [] },
    action: { type: 'record' },
  });
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

// ---------- running a migration ----------

export type MigrationStatus =
  | 'running'
  | 'succeeded'
  | 'rolled_back'
  | 'rollback_failed'
  /** A step after the switch (destroying the source, recording the target) failed: resume retries it. */
  | 'failed'
  | 'interrupted';

export interface StepRecord {
  status: 'running' | 'done' | 'failed' | 'rolled_back' | 'rollback_failed';
  attempts: number;
  result?: unknown;
  error?: string;
  /** The engine run (in the migration's state or the workspace's) a create or destroy step started. */
  inner_run?: string;
  /** The engine run that undid it. */
  undo_run?: string;
  started_at?: string;
  finished_at?: string;
}

/** A migration as journalled after every event: what status, resume and the scenario scripts read. */
export interface MigrationRun {
  format: 'prov-migration-run/1';
  id: string;
  from: string;
  to: string;
  status: MigrationStatus;
  hostname: string;
  pid: number;
  started_at: string;
  finished_at: string | null;
  plan: MigrationPlan;
  /** Step number → what happened to it. */
  steps: Record<string, StepRecord>;
  /** Steps completed, in completion order. */
  done: number[];
  switched_at: string | null;
  error: string | null;
  /** `unavailable` when every failure was a host or API that could not be reached. */
  error_code?: string;
  /** What the run left undone on purpose and the user should know (etcd keys under a lease, not copied). */
  warnings?: string[];
}

export type MigrationEvent =
  | { type: 'start' | 'done' | 'rollback-start' | 'rolled-back'; step: MigrationStep; attempt?: number }
  | { type: 'retry' | 'failed' | 'rollback-failed'; step: MigrationStep; error: string; attempt?: number };

/** The journals of a workspace's migrations, and each one's own state (the target until the switch). */
export class MigrationRuns {
  constructor(readonly dir: string) {}

  static forWorkspace(cwd = process.cwd()): MigrationRuns {
    return new MigrationRuns(join(cwd, '.prov', 'migrations'));
  }

  private folder(id: string) {
    if (!/^[0-9A-Za-z-]+$/.test(id)) throw usageError(`not a migration id: ${id}`);
    return join(this.dir, id);
  }

  /** Where the migration records the target's resources until they enter the workspace state. */
  stagingPath(id: string): string {
    return join(this.folder(id), 'state.db');
  }

  save(run: MigrationRun): void {
    mkdirSync(this.folder(run.id), { recursive: true, mode: 0o700 });
    writeAtomic(join(this.folder(run.id), 'run.json'), `${JSON.stringify(run, null, 2)}\n`, 0o600);
  }

  get(id: string): MigrationRun {
    const f = join(this.folder(id), 'run.json');
    if (!existsSync(f)) throw notFoundError(`no migration ${id}`, { hint: 'prov migrate status lists them' });
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as MigrationRun;
    } catch (e) {
      throw validationError(`migration journal ${f} is unreadable: ${(e as Error).message}`);
    }
  }

  /** Every journal; one that cannot be read is listed as such (with its id) instead of hiding the others. */
  list(): (MigrationRun | { id: string; unreadable: string })[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((d) => existsSync(join(this.dir, d, 'run.json')))
      .map((d) => {
        try {
          const r = this.get(d);
          if (typeof r.started_at !== 'string' || !r.plan) throw new Error('not a migration journal');
          return r;
        } catch (e) {
          return { id: d, unreadable: (e as Error).message };
        }
      })
      .sort((a, b) => byCodeUnits('started_at' in b ? b.started_at : '', 'started_at' in a ? a.started_at : ''));
  }
}

/** A migration recorded as running whose process is gone was interrupted (killed, crashed). */
export function effectiveMigrationStatus(run: MigrationRun): MigrationStatus {
  if (run.status === 'running' && run.hostname === hostname() && !processAlive(run.pid)) return 'interrupted';
  return run.status;
}

export function newMigrationRun(plan: MigrationPlan): MigrationRun {
  return {
    format: 'prov-migration-run/1',
    id: `m${newRunId()}`,
    from: plan.from,
    to: plan.to,
    status: 'running',
    hostname: hostname(),
    pid: process.pid,
    started_at: new Date().toISOString(),
    finished_at: null,
    plan,
    steps: {},
    done: [],
    switched_at: null,
    error: null,
  };
}

export interface MigrationDeps {
  /** The workspace state: locked for the whole run; the source leaves it and the target enters it at the end. */
  store: StateStore;
  /** The migration's own state, where the target's resources are recorded until then. */
  staging: StateStore;
  source: { provider: ProviderSource; desired: DesiredResource[] };
  target: { provider: ProviderSource; desired: DesiredResource[] };
  /** Runs the data steps on the hosts (SSH). */
  exec: Executor;
  definition(name: string): Promise<TaskservDefinition>;
  /** A taskserv's `ssh` attributes → the host to reach (the local provider's reading of them). */
  host(name: string, ssh: Attrs): HostTarget;
  retry: RetryPolicy;
  runs: MigrationRuns;
  onEvent?(e: MigrationEvent): void;
  output?: OutputSink;
  signal?: AbortSignal;
}

/** Refuses a plan the runner cannot carry out, before anything changes. */
export function assertRunnable(plan: MigrationPlan): void {
  for (const s of plan.steps) {
    if ((s.action.type === 'data' || s.action.type === 'freeze') && !RUNNABLE_DATA.includes(s.action.service)) {
      throw usageError(`step ${s.n} moves ${s.action.service} data, which prov migrate apply does not do yet`, {
        hint: `it moves ${RUNNABLE_DATA.join(', ')} data; follow prov migrate plan for the rest by hand`,
      });
    }
  }
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs (or resumes) a migration through the orchestrator, under the workspace state lock. Until the switch every
 * step is undone in reverse if one fails (the target destroyed, the source let in writes again: it still serves);
 * destroying the source and recording the target come after, without rollback: a failure there is retried by
 * resume. The journal is written after every event, so a killed run resumes where it was.
 */
export async function runMigration(run: MigrationRun, deps: MigrationDeps, resume = false): Promise<MigrationRun> {
  const lock = await lockState(deps.store, 'migrate', run.id, resume ? run.id : undefined);
  try {
    // Not over an apply a crash left half-done: its resources are in an unknown state.
    if (!resume) {
      await assertNoUnfinished(deps.store);
      assertNoUnfinishedMigration(deps.runs.dir);
    }
    run.status = 'running';
    run.pid = process.pid;
    run.hostname = hostname();
    deps.runs.save(run);
    await execute(run, deps);
  } finally {
    await lock.release();
  }
  return run;
}

async function execute(run: MigrationRun, deps: MigrationDeps): Promise<void> {
  const steps = run.plan.steps;
  const switchAt = steps.findIndex((s) => s.phase === 'switch');
  const before = steps.slice(0, switchAt + 1);
  const after = steps.slice(switchAt + 1);
  const rec = (s: MigrationStep) => {
    run.steps[s.n] ??= { status: 'running', attempts: 0 };
    return run.steps[s.n]!;
  };
  const save = () => deps.runs.save(run);
  const byId = new Map(steps.map((s) => [String(s.n), s]));
  const onEvent = (e: OrchEvent) => {
    const s = byId.get(e.id)!;
    const r = rec(s);
    const now = new Date().toISOString();
    switch (e.type) {
      case 'start':
        Object.assign(r, { status: 'running', attempts: e.attempt, started_at: now });
        delete r.error;
        deps.onEvent?.({ type: 'start', step: s, attempt: e.attempt });
        break;
      case 'retry':
        deps.onEvent?.({ type: 'retry', step: s, error: errText(e.error), attempt: e.attempt });
        break;
      case 'done':
        Object.assign(r, { status: 'done', result: e.result, finished_at: now });
        if (!run.done.includes(s.n)) run.done.push(s.n);
        deps.onEvent?.({ type: 'done', step: s });
        break;
      case 'failed':
        Object.assign(r, { status: 'failed', error: errText(e.error), finished_at: now });
        deps.onEvent?.({ type: 'failed', step: s, error: errText(e.error) });
        break;
      case 'rollback-start':
        deps.onEvent?.({ type: 'rollback-start', step: s });
        break;
      case 'rolled-back':
        r.status = 'rolled_back';
        deps.onEvent?.({ type: 'rolled-back', step: s });
        break;
      case 'rollback-failed':
        Object.assign(r, { status: 'rollback_failed', error: errText(e.error) });
        deps.onEvent?.({ type: 'rollback-failed', step: s, error: errText(e.error) });
        break;
    }
    save();
  };
  const task = (s: MigrationStep, i: number, list: MigrationStep[]): OrchTask<unknown> => ({
    id: String(s.n),
    deps: i > 0 ? [String(list[i - 1]!.n)] : [],
    run: () => runStep(s, run, deps),
    retryable: (e) => Boolean((e as { retryable?: boolean } | null)?.retryable),
    rollback: () => undoStep(s, run, deps),
  });

  const doneMap = (list: MigrationStep[], statuses = ['done']) =>
    new Map(
      run.done
        .filter((n) => list.some((s) => s.n === n) && statuses.includes(run.steps[n]?.status ?? ''))
        .map((n) => [String(n), run.steps[n]!.result]),
    );

  // A run killed while it was undoing: the orchestrator finishes the undo (nothing starts; what completed,
  // or whose undo failed before, is undone last first, with retries).
  const failedBefore = before.find((s) => ['failed', 'rollback_failed'].includes(run.steps[s.n]?.status ?? ''));
  if (failedBefore) {
    const r = await runDag(
      before.map((s, i) => task(s, i, before)),
      {
        parallelism: 1,
        retry: deps.retry,
        rollback: true,
        done: doneMap(before, ['done', 'rollback_failed']),
        failed: [{ id: String(failedBefore.n), error: run.steps[failedBefore.n]?.error ?? run.error }],
        onEvent,
        ...(deps.signal ? { signal: deps.signal } : {}),
      },
    );
    finish(
      run,
      r.rollbackFailed.length ? 'rollback_failed' : 'rolled_back',
      run.steps[failedBefore.n]?.error ?? run.error,
    );
    return save();
  }

  const a = await runDag(
    before.map((s, i) => task(s, i, before)),
    {
      parallelism: 1,
      retry: deps.retry,
      rollback: true,
      done: doneMap(before),
      onEvent,
      ...(deps.signal ? { signal: deps.signal } : {}),
    },
  );
  if (a.interrupted && a.failed.length === 0) {
    finish(run, 'interrupted', null);
    return save();
  }
  if (!a.ok) {
    const error = a.failed.map((f) => `step ${f.id}: ${errText(f.error)}`).join('; ');
    finish(
      run,
      a.rollbackFailed.length ? 'rollback_failed' : 'rolled_back',
      error,
      a.failed.map((f) => f.error),
    );
    return save();
  }
  // Past the switch: nothing is undone any more; a failure is retried by resume.
  const b = await runDag(
    after.map((s, i) => ({ ...task(s, i, after), rollback: undefined })),
    {
      parallelism: 1,
      retry: deps.retry,
      rollback: false,
      done: doneMap(after),
      onEvent,
      ...(deps.signal ? { signal: deps.signal } : {}),
    },
  );
  if (b.interrupted && b.failed.length === 0) finish(run, 'interrupted', null);
  else if (!b.ok)
    finish(
      run,
      'failed',
      b.failed.map((f) => `step ${f.id}: ${errText(f.error)}`).join('; '),
      b.failed.map((f) => f.error),
    );
  else finish(run, 'succeeded', null);
  save();
}

function finish(run: MigrationRun, status: MigrationStatus, error: string | null, failures: unknown[] = []) {
  run.status = status;
  run.error = error;
  if (failures.length > 0 && failures.every((f) => f instanceof StratumError && f.code === 'unavailable'))
    run.error_code = 'unavailable';
  else delete run.error_code;
  run.finished_at = status === 'interrupted' ? null : new Date().toISOString();
}

async function runStep(s: MigrationStep, run: MigrationRun, deps: MigrationDeps): Promise<unknown> {
  const a = s.action;
  switch (a.type) {
    case 'check': {
      const recorded = new Set((await deps.store.list()).map((r) => r.address));
      const sets = migrationSets(deps.source.desired, deps.target.desired);
      const missing = sets.destroyed.filter((r) => !recorded.has(r.address)).map((r) => r.address);
      if (missing.length)
        throw conflictError(`the source is not what state records: ${missing.join(', ')} not in state`, {
          hint: `apply ${run.from} first, or migrate from the config state matches`,
        });
      return { source: sets.destroyed.length, target: sets.staged.length };
    }
    case 'create':
      return engineRun(s, run, deps, 'staging', [a.address], 'apply');
    case 'destroy':
      return engineRun(s, run, deps, 'workspace', a.targets, 'destroy');
    case 'freeze':
      await hostScript(deps, await pgTarget(deps, 'source', a.host, run), FREEZE, 'freeze');
      return { frozen: a.host };
    case 'data':
      try {
        return await (a.service === 'etcd' ? moveEtcd(a, run, deps) : moveData(a, run, deps));
      } catch (e) {
        // A failed move leaves no dump behind (a retry or resume dumps again).
        await undoData(a, run, deps);
        throw e;
      }
    case 'verify':
      return a.service === 'etcd' ? verifyEtcd(a, run, deps) : verifyData(a, run, deps);
    case 'certs':
      // Issued with prov cert generate once the target is up: it needs the PKI's credentials, not the runner's.
      return { manual: `prov cert generate --domain ${shq(a.domain)} --servers ${a.host}` };
    case 'secrets': {
      if (!deps.exec.secret) return { checked: 0 };
      for (const ref of a.refs) await deps.exec.secret(ref);
      return { checked: a.refs.length };
    }
    case 'switch':
      run.switched_at = new Date().toISOString();
      return {
        switched_at: run.switched_at,
        servers: deps.target.desired.filter((r) => r.kind === 'server').map((r) => r.address),
      };
    case 'record': {
      const staged = await deps.staging.list();
      const gone = migrationSets(deps.source.desired, deps.target.desired).destroyed.map((r) => r.address);
      for (const g of gone)
        if (!staged.some((r) => r.address === g) && (await deps.store.get(g))) await deps.store.remove(g);
      for (const r of staged) await deps.store.put(r);
      return { recorded: staged.map((r) => r.address), removed: gone };
    }
  }
}

async function undoStep(s: MigrationStep, run: MigrationRun, deps: MigrationDeps): Promise<void> {
  const a = s.action;
  if (a.type === 'create') {
    await engineRun(s, run, deps, 'staging', [a.address], 'destroy', true);
  } else if (a.type === 'freeze') {
    await hostScript(deps, await pgTarget(deps, 'source', a.host, run), UNFREEZE, 'unfreeze');
  } else if (a.type === 'data') {
    await undoData(a, run, deps);
  } else if (a.type === 'switch') {
    run.switched_at = null;
  }
}

/**
 * One engine run for a step: in the migration's state (creating the target, or undoing that) or in the workspace
 * state (destroying the source). An earlier attempt cut off by a kill is resumed first, then the rest planned.
 */
async function engineRun(
  s: MigrationStep,
  run: MigrationRun,
  deps: MigrationDeps,
  where: 'staging' | 'workspace',
  targets: string[],
  operation: 'apply' | 'destroy',
  undo = false,
): Promise<unknown> {
  const store = where === 'staging' ? deps.staging : deps.store;
  // The migration's state holds only what is created for the target (kept resources stay where they are).
  const side =
    where === 'staging'
      ? { ...deps.target, desired: migrationSets(deps.source.desired, deps.target.desired).staged }
      : deps.source;
  const engineDeps = {
    store,
    provider: side.provider,
    retry: deps.retry,
    ...(deps.output ? { output: deps.output } : {}),
  };
  const desired = new Map(side.desired.map((d) => [d.address, d]));
  const r = run.steps[s.n]!;
  const key = undo ? 'undo_run' : 'inner_run';
  const prior = r[key];
  if (prior) {
    const rec = await store.getRun(prior);
    if (rec && (effectiveStatus(rec) === 'interrupted' || rec.status === 'rollback_failed')) {
      const res = await executePlan(
        engineDeps,
        rec.plan,
        desired,
        {
          parallelism: 1,
          rollback: rec.options.rollback,
          kind: rec.kind,
        },
        { run: rec, tasks: await store.tasks(prior) },
      );
      if (res.status !== 'succeeded') throw engineFailure(res);
    }
  }
  const plan = await makePlan(
    { store, provider: side.provider },
    {
      desired: side.desired,
      warnings: [],
      config: null,
      operation,
      refresh: where === 'staging',
      targets,
    },
  );
  const changes = plan.changes.filter((c) => c.action !== 'noop' || c.gone);
  if (changes.length === 0) return { changes: 0 };
  const runId = newRunId();
  r[key] = runId;
  deps.runs.save(run);
  const res = await executePlan(engineDeps, plan, desired, {
    parallelism: 1,
    // A failed create leaves nothing behind; the source's destroy keeps what it did (it is retried).
    rollback: operation === 'apply',
    kind: operation,
    runId,
  });
  if (res.status !== 'succeeded') throw engineFailure(res);
  return { run: runId, changes: changes.map((c) => `${c.action} ${c.address}`) };
}

function engineFailure(r: RunResult): StratumError {
  const e = new StratumError(
    r.failed.length > 0 && r.failed.every((f) => f.code === 'unavailable') ? 'unavailable' : 'failure',
    r.failed.map((f) => `${f.address}: ${f.error}`).join('; ') || `run ${r.run_id} ${r.status}`,
    { details: { run: r.run_id, status: r.status } },
  );
  return e;
}

// ---------- PostgreSQL data ----------

/** A data service as the data steps reach it: its host, and what its scripts need (binaries, socket, URL, dump path). */
interface DataTarget {
  host: HostTarget;
  env: Record<string, string>;
}

/** A data service's taskserv on one side: its host, install root, version and variables (definition < config). */
async function serviceOn(deps: MigrationDeps, service: string, side: 'source' | 'target', host: string) {
  const desired = side === 'source' ? deps.source.desired : deps.target.desired;
  const ts = desired.find((r) => r.kind === 'taskserv' && r.attrs.service === service && r.attrs.host === host);
  if (!ts) throw new StratumError('failure', `no ${service} taskserv on ${host} in the ${side} config`);
  const def = await deps.definition(service);
  const h = deps.host(host, ts.attrs.ssh as Attrs);
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(def.variables)) vars[k] = String(v);
  for (const [k, v] of Object.entries((ts.attrs.config ?? {}) as Attrs)) {
    if (['string', 'number', 'boolean'].includes(typeof v)) vars[k] = String(v);
  }
  return { host: h, root: installRoot(h), version: String(ts.attrs.version ?? def.version), vars };
}

async function pgTarget(deps: MigrationDeps, side: 'source' | 'target', host: string, run: MigrationRun) {
  const { host: h, root, version, vars } = await serviceOn(deps, 'postgresql', side, host);
  return {
    host: h,
    env: {
      PGBIN: `/usr/lib/postgresql/${version}/bin`,
      PGSOCK: `${root}/run/postgresql`,
      PGPORT: vars.port ?? '5432',
      RUN_AS: vars.run_as ?? 'postgres',
      DUMP: `${root}/var/backups/prov-migrate-${run.id}.sql`,
    },
  } satisfies DataTarget;
}

// Constant scripts: every value comes in through the environment, never spliced into the text.
const AS_OWNER = 'as_owner() { if [ "$(id -un)" = "$RUN_AS" ]; then "$@"; else sudo -n -u "$RUN_AS" "$@"; fi; }\n';
const PSQL = 'as_owner "$PGBIN/psql" -h "$PGSOCK" -p "$PGPORT"';
const FREEZE = `${PSQL} -d postgres -qAt -v ON_ERROR_STOP=1 -c "ALTER SYSTEM SET default_transaction_read_only = on" -c "SELECT pg_reload_conf()" >/dev/null`;
const UNFREEZE = `${PSQL} -d postgres -qAt -v ON_ERROR_STOP=1 -c "ALTER SYSTEM RESET default_transaction_read_only" -c "SELECT pg_reload_conf()" >/dev/null`;
const DUMP = `mkdir -p "$(dirname "$DUMP")" && umask 077 && as_owner "$PGBIN/pg_dumpall" -h "$PGSOCK" -p "$PGPORT" --clean --if-exists > "$DUMP.part" && mv "$DUMP.part" "$DUMP"`;
// pg_dumpall --clean drops and creates every role, the restoring one too, which PostgreSQL refuses: those two
// lines are left out. Restoring twice gives the same result (a resumed step restores again).
// No pipe: sh has no pipefail, and a psql that fails at the end of one would not fail the step.
const RESTORE = `me=$(${PSQL} -d postgres -Atc "select quote_ident(current_user)") || exit 1
grep -vxF -e "DROP ROLE IF EXISTS $me;" -e "CREATE ROLE $me;" "$DUMP" > "$DUMP.load" || exit 1
${PSQL} -v ON_ERROR_STOP=1 -q -f "$DUMP.load" postgres >/dev/null; rc=$?
rm -f "$DUMP.load"
exit $rc`;
/**
 * Per table of every database: rows, and the sums of two 64-bit halves of each row's md5 (the same rows in any
 * order give the same sums; nothing is aggregated into one value, so no table is too big for it).
 */
const TABLE_SUMS = `select current_database(), format('%I.%I', n.nspname, c.relname),
  (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text,
  (xpath('/row/h/text()', query_to_xml(format('select coalesce(sum((''x'' || left(md5(t::text), 16))::bit(64)::bigint::numeric), 0) || '':'' || coalesce(sum((''x'' || right(md5(t::text), 16))::bit(64)::bigint::numeric), 0) as h from %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
order by 1, 2`;
// Each database first as a line "db|<name>" (one without tables still shows), then its tables. The list is read
// before the loop: a psql failing at the head of a pipe would end the script with 0 and no output.
const SUMS = `dbs=$(${PSQL} -d postgres -v ON_ERROR_STOP=1 -Atc "select datname from pg_database where datallowconn and not datistemplate order by 1") || exit 1
[ -n "$dbs" ] || { echo "no databases listed" >&2; exit 1; }
while IFS= read -r db; do
  printf 'db|%s\\n' "$db"
  ${PSQL} -d "$db" -At -F '|' -v ON_ERROR_STOP=1 -c "$SUMS_SQL" </dev/null || exit 1
done <<EOF
$dbs
EOF`;

async function hostScript(
  deps: MigrationDeps,
  t: DataTarget,
  script: string,
  name: string,
  env: Record<string, string> = {},
) {
  const r = await deps.exec.run(
    t.host,
    { name: `migrate-${name}`, script: AS_OWNER + script, env: { ...t.env, ...env }, timeoutS: 3600 },
    deps.output,
  );
  if (r.exitCode !== 0)
    throw new HostError(
      t.host.name,
      'command',
      `${name} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`,
    );
  return r.stdout;
}

async function moveData(a: { service: string; from: string; to: string }, run: MigrationRun, deps: MigrationDeps) {
  const src = await pgTarget(deps, 'source', a.from, run);
  const dst = await pgTarget(deps, 'target', a.to, run);
  await hostScript(deps, src, DUMP, 'dump');
  const bytes = await carry(deps, src, dst, dst.env.DUMP!);
  await hostScript(deps, dst, RESTORE, 'restore');
  return { bytes, from: a.from, to: a.to };
}

/**
 * Brings the source's dump to the target through this machine (a 0600 file here, removed at once; 0600 there),
 * streamed file to file whatever its size, or, with `shape`, turned into what the target loads (read whole: an etcd
 * range answer). Returns the dump's size.
 */
async function carry(
  deps: MigrationDeps,
  src: DataTarget,
  dst: DataTarget,
  remote: string,
  shape?: (dump: Buffer) => Buffer | string,
): Promise<number> {
  if (!deps.exec.download) throw new StratumError('failure', 'this executor cannot copy files from a host');
  const dir = mkdtempSync(join(tmpdir(), 'prov-migrate-'));
  try {
    const local = join(dir, 'dump');
    await deps.exec.download(src.host, src.env.DUMP!, local);
    await hostScript(deps, dst, 'mkdir -p "$(dirname "$DUMP")"', 'prepare');
    if (!shape && deps.exec.uploadFile) await deps.exec.uploadFile(dst.host, local, remote, 0o600);
    else await deps.exec.upload(dst.host, (shape ?? ((b) => b))(readFileSync(local)), remote, 0o600);
    return statSync(local).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function verifyData(a: { service: string; from: string; to: string }, run: MigrationRun, deps: MigrationDeps) {
  const src = await pgTarget(deps, 'source', a.from, run);
  const dst = await pgTarget(deps, 'target', a.to, run);
  const sums = async (t: DataTarget) =>
    (await hostScript(deps, t, SUMS, 'checksums', { SUMS_SQL: TABLE_SUMS })).split('\n').filter(Boolean);
  const [before, after] = await Promise.all([sums(src), sums(dst)]);
  const dbs = (lines: string[]) => lines.filter((l) => l.startsWith('db|')).length;
  // A check that read nothing proves nothing: the source is destroyed after this step.
  for (const [side, lines] of [
    [a.from, before],
    [a.to, after],
  ] as const)
    if (dbs(lines) === 0)
      throw new StratumError('failure', `the data check on ${side} listed no databases: nothing could be compared`);
  const missing = before.filter((l) => !after.includes(l));
  const extra = after.filter((l) => !before.includes(l));
  if (missing.length || extra.length) {
    const [db, table, rows] = (missing[0] ?? extra[0])!.split('|');
    const which = db === 'db' ? `database ${table}` : `${db}.${table}`;
    throw new StratumError(
      'failure',
      `the data on ${a.to} differs from ${a.from}: ${missing.length} table(s) or database(s) missing or different on ${a.to}, ${extra.length} only on ${a.to}; first ${which}${rows ? ` (${missing.length ? 'source' : 'target'} ${rows} rows)` : ''}`,
    );
  }
  const tables = before.filter((l) => !l.startsWith('db|'));
  await removeDumps(deps, [src, dst]);
  const rows = tables.reduce((n, l) => n + Number(l.split('|')[2] ?? 0), 0);
  return { tables: tables.length, rows };
}

/** Removes a migration's dump files from the hosts (every table and the roles' password hashes are in them). */
async function removeDumps(deps: MigrationDeps, on: DataTarget[], bestEffort = false) {
  for (const t of on) {
    try {
      await hostScript(deps, t, 'rm -f "$DUMP" "$DUMP.part" "$DUMP.puts" "$DUMP.load"', 'cleanup');
    } catch (e) {
      if (!bestEffort) throw e;
    }
  }
}

// ---------- etcd data ----------

/** An etcd taskserv as the data steps reach it: its host and its client URL (on that host). */
async function etcdTarget(deps: MigrationDeps, side: 'source' | 'target', host: string, run: MigrationRun) {
  const { host: h, root, vars } = await serviceOn(deps, 'etcd', side, host);
  return {
    host: h,
    env: {
      ETCD_URL: `http://${vars.advertise_address ?? '127.0.0.1'}:${vars.client_port ?? '2379'}`,
      DUMP: `${root}/var/backups/prov-migrate-${run.id}.etcd.json`,
    },
  } satisfies DataTarget;
}

// Every key: from "\0" to "\0" (base64 AA==) is the whole keyspace in etcd's range API.
const ETCD_RANGE = `curl -fsS -X POST "$ETCD_URL/v3/kv/range" -d '{"key":"AA==","range_end":"AA=="}'`;
const ETCD_DUMP = `mkdir -p "$(dirname "$DUMP")" && umask 077 && ${ETCD_RANGE} > "$DUMP.part" && mv "$DUMP.part" "$DUMP"`;
// One put per line of the uploaded file; each line goes to curl on its stdin, never through the shell's parser.
const ETCD_LOAD = `while IFS= read -r line; do
  printf '%s' "$line" | curl -fsS -X POST --data-binary @- "$ETCD_URL/v3/kv/put" >/dev/null || exit 1
done < "$DUMP.puts"`;

/** The keys of an etcd range answer, base64 as the API gives them, and each one's lease ('0': none). */
function etcdKeys(text: string, host: string): { key: string; value: string; lease: string }[] {
  try {
    const doc = JSON.parse(text) as { kvs?: { key: string; value?: string; lease?: string | number }[] };
    return (doc.kvs ?? []).map((k) => ({ key: k.key, value: k.value ?? '', lease: String(k.lease ?? '0') }));
  } catch {
    throw new StratumError('failure', `${host}: etcd answered something that is not a range result`);
  }
}

/**
 * A key under a lease expires with it (a leader key, a registration): copied without it, it would never expire.
 * Those are left for their owners to write again on the target.
 */
const leased = (k: { lease: string }) => k.lease !== '0' && k.lease !== '';
const keyName = (k: { key: string }) => JSON.stringify(Buffer.from(k.key, 'base64').toString('utf8'));

async function moveEtcd(a: { service: string; from: string; to: string }, run: MigrationRun, deps: MigrationDeps) {
  const src = await etcdTarget(deps, 'source', a.from, run);
  const dst = await etcdTarget(deps, 'target', a.to, run);
  await hostScript(deps, src, ETCD_DUMP, 'dump');
  let keys = 0;
  let skipped: string[] = [];
  await carry(deps, src, dst, `${dst.env.DUMP!}.puts`, (dump) => {
    const kvs = etcdKeys(dump.toString('utf8'), a.from);
    const kept = kvs.filter((k) => !leased(k));
    skipped = kvs.filter(leased).map(keyName);
    keys = kept.length;
    return kept.map((k) => `${JSON.stringify({ key: k.key, value: k.value })}\n`).join('');
  });
  await hostScript(deps, dst, ETCD_LOAD, 'restore');
  if (skipped.length) {
    const warning = `${a.from} → ${a.to}: ${skipped.length} etcd key(s) under a lease not copied (they would never expire on the target; their owners write them again): ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', ...' : ''}`;
    run.warnings = [...(run.warnings ?? []).filter((w) => !w.startsWith(`${a.from} → ${a.to}: `)), warning];
  }
  return { keys, leased_skipped: skipped.length, from: a.from, to: a.to };
}

async function verifyEtcd(a: { service: string; from: string; to: string }, run: MigrationRun, deps: MigrationDeps) {
  const src = await etcdTarget(deps, 'source', a.from, run);
  const dst = await etcdTarget(deps, 'target', a.to, run);
  const digest = async (t: DataTarget, host: string) => {
    const kvs = etcdKeys(await hostScript(deps, t, ETCD_RANGE, 'checksums'), host).filter((k) => !leased(k));
    const lines = kvs.map((k) => `${k.key} ${k.value}`).sort();
    return { keys: kvs.length, sha256: createHash('sha256').update(lines.join('\n')).digest('hex') };
  };
  const [before, after] = await Promise.all([digest(src, a.from), digest(dst, a.to)]);
  if (before.keys !== after.keys || before.sha256 !== after.sha256) {
    throw new StratumError(
      'failure',
      `the etcd keys on ${a.to} differ from ${a.from}: ${after.keys} key(s) against ${before.keys} (or different values)`,
    );
  }
  await removeDumps(deps, [src, dst]);
  return before;
}

/** A data step undone: its dumps leave both hosts (the target may be unreachable: that does not stop the undo). */
async function undoData(a: { service: string; from: string; to: string }, run: MigrationRun, deps: MigrationDeps) {
  const at = a.service === 'etcd' ? etcdTarget : pgTarget;
  for (const [side, host] of [
    ['source', a.from],
    ['target', a.to],
  ] as const) {
    const t = await at(deps, side, host, run).catch(() => null);
    if (t) await removeDumps(deps, [t], true);
  }
}
