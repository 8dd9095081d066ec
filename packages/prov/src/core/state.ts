import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { conflictError } from '@stratumiops/shared/errors';
import type { LockHandle, LockInfo, ResourceRecord, RunRecord, RunStatus, StateChange, TaskRecord } from './types.js';

/**
 * Where prov records what it manages. One row per resource (never the whole document rewritten per
 * change), a serial bumped by every change, a lineage fixed at creation, runs with their tasks (the
 * checkpoints), and one lock. Every state change is one transaction.
 */
export interface StateStore {
  readonly location: string;
  readonly backend: 'sqlite' | 'postgres';
  meta(): Promise<{ serial: number; lineage: string }>;
  list(): Promise<ResourceRecord[]>;
  get(address: string): Promise<ResourceRecord | undefined>;
  /** Upsert one resource; returns the new serial. */
  put(rec: ResourceRecord): Promise<number>;
  remove(address: string): Promise<number>;
  move(from: string, to: string): Promise<number>;

  /** Take the lock or throw a conflict naming its owner. `takeover` may claim a stale lock. */
  lock(req: LockRequest): Promise<LockHandle>;
  lockStatus(): Promise<LockInfo | undefined>;
  forceUnlock(id: string): Promise<LockInfo>;

  createRun(run: RunRecord): Promise<void>;
  finishRun(
    id: string,
    status: RunStatus,
    patch?: { error?: string | null; summary?: Record<string, unknown> },
  ): Promise<void>;
  setRunStatus(id: string, status: RunStatus): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(limit?: number): Promise<RunRecord[]>;
  /** Runs left `running` (by a crash) or `interrupted`. */
  unfinishedRuns(): Promise<RunRecord[]>;
  tasks(runId: string): Promise<TaskRecord[]>;
  /** Cluster records (what `prov cluster` made: template, parameters, spec), by name. */
  clusters(): Promise<{ name: string; record: Record<string, unknown> }[]>;
  /** Upsert a cluster record; like a resource change it bumps the serial. */
  putCluster(name: string, record: Record<string, unknown>): Promise<number>;
  removeCluster(name: string): Promise<number>;
  /** Record a task's progress and, atomically with it, the resource change it made. Returns the serial. */
  checkpoint(task: TaskRecord, change: StateChange): Promise<number>;
  close(): Promise<void>;
}

export interface LockRequest {
  operation: string;
  runId?: string | null;
  /** Called with an existing lock; returning true takes it over (used by resume for its own stale lock). */
  takeover?: (existing: LockInfo, stale: boolean) => boolean;
}

export function newLockInfo(req: LockRequest): LockInfo {
  return {
    id: randomBytes(4).toString('hex'),
    owner: whoami(),
    pid: process.pid,
    host: hostname(),
    operation: req.operation,
    run_id: req.runId ?? null,
    created_at: new Date().toISOString(),
  };
}

export function whoami(): string {
  try {
    return process.env.PROV_USER || userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** A lock is stale when its holder ran on this host and that pid no longer exists. */
export function isStale(l: LockInfo): boolean {
  if (l.host !== hostname()) return false;
  try {
    process.kill(l.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // A killed process nobody has reaped yet (a zombie) still answers kill(pid, 0).
  try {
    const stat = readFileSync(`/proc/${l.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export function ageOf(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

export function describeLock(l: LockInfo): string {
  return `${l.owner}@${l.host} pid ${l.pid} (${l.operation}${l.run_id ? ` run ${l.run_id}` : ''}, ${ageOf(l.created_at)} ago)`;
}

export function lockConflict(l: LockInfo, location: string) {
  const stale = isStale(l);
  return conflictError(`state is locked by ${describeLock(l)}${stale ? '; that process is gone (stale lock)' : ''}`, {
    hint: stale
      ? `if no prov run is active: prov state lock force-unlock ${l.id}${l.run_id ? `, or prov resume ${l.run_id}` : ''}`
      : `wait for it to finish, or if it is stuck: prov state lock force-unlock ${l.id}`,
    details: { lock: l, stale, state: location },
  });
}

export function newRunId(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}
