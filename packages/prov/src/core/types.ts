/** Shared shapes of prov's domain: resources, state records, runs, tasks and locks. */

export type Attrs = Record<string, unknown>;

/** A resource the configuration asks for, as derived from the Nickel export. */
export interface DesiredResource {
  /** `kind.name`, e.g. `server.web-01`, `subnet.private-a`, `taskserv.etcd.db-1`. */
  address: string;
  kind: string;
  name: string;
  provider: string;
  attrs: Attrs;
  /** Addresses this resource needs first (explicit depends_on plus references). */
  deps: string[];
}

/** One resource as recorded in state: what was applied plus what the provider returned. */
export interface ResourceRecord {
  address: string;
  kind: string;
  name: string;
  provider: string;
  attrs: Attrs;
  /** Provider-computed values: ids, addresses, facts. */
  outputs: Attrs;
  deps: string[];
  /** Attribute keys whose values are stored only as a hash. */
  sensitive: string[];
  updated_at: string;
}

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'noop';

export interface AttrChange {
  path: string;
  before: unknown;
  after: unknown;
  /** True when this attribute cannot change in place. */
  forcesReplace?: boolean;
  /** The real resource differs from what state recorded (found on refresh). */
  drift?: boolean;
}

export interface PlannedChange {
  address: string;
  kind: string;
  provider: string;
  action: Action;
  changes: AttrChange[];
  /** Drift found on refresh (real vs recorded), for display. */
  drift: AttrChange[];
  /** The real object is gone although state has it. */
  gone?: boolean;
  before: ResourceRecord | null;
  after: DesiredResource | null;
  deps: string[];
}

export interface PlanDoc {
  format: 'prov-plan/1';
  created_at: string;
  /** The config file and the hash of its export: applying a saved plan re-exports and compares. */
  config: { path: string; sha256: string } | null;
  operation: 'apply' | 'destroy';
  /** State serial and lineage the plan was computed against: apply refuses if they moved. */
  state: { serial: number; lineage: string };
  refreshed: boolean;
  targets: string[];
  changes: PlannedChange[];
  summary: { add: number; change: number; destroy: number; replace: number; unchanged: number };
  warnings: string[];
}

export type RunKind = 'apply' | 'destroy' | 'service';
export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'rolled_back'
  | 'rollback_failed'
  | 'abandoned'
  | 'interrupted';

export interface RunRecord {
  id: string;
  kind: RunKind;
  status: RunStatus;
  who: string;
  host: string;
  pid: number;
  started_at: string;
  finished_at: string | null;
  plan: PlanDoc;
  options: { parallelism: number; rollback: boolean };
  error: string | null;
  summary: Attrs | null;
}

export type TaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'rolled_back' | 'rollback_failed' | 'skipped';

export interface TaskRecord {
  run_id: string;
  address: string;
  action: Action;
  status: TaskStatus;
  attempts: number;
  /** State before the task (for rollback) and after it. */
  before: ResourceRecord | null;
  after: ResourceRecord | null;
  error: string | null;
  seq: number;
  updated_at: string;
}

export interface LockInfo {
  id: string;
  owner: string;
  pid: number;
  host: string;
  operation: string;
  run_id: string | null;
  created_at: string;
}

export interface LockHandle {
  info: LockInfo;
  release(): Promise<void>;
}

/** Resource-level change recorded in the same transaction as a task's checkpoint. */
export type StateChange = { put: ResourceRecord } | { remove: string } | null;
