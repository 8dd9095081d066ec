import { resolve } from 'node:path';
import type { Command } from '@oclif/core/command';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import type { ClusterRecord } from '../core/cluster.js';
import { ClusterStore } from '../core/cluster.js';
import { backupCluster, clusterStatus, pgMembers } from '../core/cluster-pg.js';
import { lockState } from '../core/engine.js';
import type { HostTarget } from '../core/executor.js';
import { engineFor } from '../core/nickel.js';
import {
  evaluateWorkflow,
  expandWorkflow,
  findWorkflow,
  newWorkflowRun,
  type TimelineEvent,
  type WorkflowContext,
  type WorkflowDeps,
  type WorkflowRun,
  workflowDirs,
} from '../core/workflow.js';
import { type Runtime, retryPolicy } from '../runtime.js';
import { ClusterCommand } from './cluster.js';

/** What to run and where: `prov workflow run` and the MCP tool execute_workflow ask the same. */
export interface WorkflowRequest {
  workflow: string;
  cluster?: string | undefined;
  servers?: string[] | undefined;
  params: Record<string, unknown>;
  parallelism?: number;
  rollback?: boolean;
}

/** Where a workflow runs: a cluster's members, or hosts named on the command line. */
export interface WorkflowPlace {
  ctx: WorkflowContext;
  targets: Record<string, HostTarget>;
  cluster?: ClusterRecord;
}

export abstract class WorkflowCommand<T extends typeof Command> extends ClusterCommand<T> {
  protected workflowDirs(): string[] {
    const v = this.settings.values as { clusters: { workflow_dirs: string[] } };
    return workflowDirs(v.clusters.workflow_dirs.map((d) => resolve(d)));
  }

  protected async place(
    runtime: Runtime,
    opts: { cluster?: string; servers?: string[]; params: Record<string, unknown> },
  ): Promise<WorkflowPlace> {
    if (opts.cluster && opts.servers) throw usageError('give --cluster or --servers, not both');
    if (opts.cluster) {
      const rec = await ClusterStore.forWorkspace(() => this.openStore()).get(opts.cluster);
      const names = [...new Set(rec.spec.services.map((s) => s.host))];
      const list = await runtime.targets(names);
      const members = rec.spec.members.filter((m) => names.includes(m.host));
      return {
        cluster: rec,
        targets: Object.fromEntries(list.map((t) => [t.name, t])),
        ctx: {
          cluster: { name: rec.name, kind: rec.spec.kind, template: rec.template, settings: rec.settings },
          hosts: members,
          params: opts.params,
        },
      };
    }
    if (!opts.servers?.length)
      throw usageError('where should it run?', { hint: 'pass --cluster NAME or --servers a,b' });
    const list = await runtime.targets(opts.servers);
    return {
      targets: Object.fromEntries(list.map((t) => [t.name, t])),
      ctx: {
        cluster: { name: '', kind: 'generic', template: '', settings: {} },
        hosts: list.map((t, index) => ({ host: t.name, address: t.address, index })),
        params: opts.params,
      },
    };
  }

  /** A run ready to start: the workflow found, evaluated for its place and expanded into tasks (nothing run yet). */
  protected async prepareWorkflow(runtime: Runtime, req: WorkflowRequest) {
    const wf = findWorkflow(req.workflow, this.workflowDirs());
    const place = await this.place(runtime, {
      ...(req.cluster ? { cluster: req.cluster } : {}),
      ...(req.servers ? { servers: req.servers } : {}),
      params: req.params,
    });
    const def = await evaluateWorkflow(await engineFor(this.nickel), wf.path, place.ctx, this.importPaths([]));
    const needsLeader = def.steps.some((s) => s.on === 'leader');
    const tasks = expandWorkflow(def, place.ctx, needsLeader ? await this.leaderOf(runtime, place) : undefined);
    const run = newWorkflowRun(def, wf.path, place.ctx, tasks, {
      parallelism: req.parallelism ?? 10,
      rollback: req.rollback ?? true,
    });
    return { def, place, tasks, run };
  }

  /**
   * Runs a workflow run's steps under the state lock, as apply does: an apply (or another workflow) started
   * meanwhile fails at once naming this run's owner and pid. `takeover`: resume and rollback of a run may take
   * the stale lock that run left when prov died (kill -9).
   */
  protected async underStateLock<T>(
    runId: string,
    operation: string,
    fn: () => Promise<T>,
    takeover = false,
  ): Promise<T> {
    const store = await this.openStore();
    try {
      const lock = await lockState(store, operation, runId, takeover ? runId : undefined);
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    } finally {
      await store.close();
    }
  }

  /** The PostgreSQL leader, for steps that run `on = "leader"`. */
  protected async leaderOf(runtime: Runtime, place: WorkflowPlace): Promise<string | undefined> {
    if (place.cluster?.spec.kind !== 'postgresql-ha') return undefined;
    const s = await clusterStatus(
      await runtime.executor(),
      place.cluster.name,
      pgMembers(place.cluster, place.targets),
    );
    return s.leader ?? undefined;
  }

  protected async deps(runtime: Runtime, place: WorkflowPlace, signal?: AbortSignal): Promise<WorkflowDeps> {
    const exec = await runtime.executor();
    const rec = place.cluster;
    const json = this.jsonEnabled();
    return {
      exec,
      targets: place.targets,
      definition: (n) => runtime.definition(n),
      retry: retryPolicy(runtime.s.apply),
      ...(signal ? { signal } : {}),
      ...(rec?.spec.kind === 'postgresql-ha'
        ? {
            backup: async (output: string, keep?: number) =>
              (
                await backupCluster(exec, rec, pgMembers(rec, place.targets), resolve(output), {
                  ...(keep ? { keep } : {}),
                })
              ).dir,
          }
        : {}),
      onEvent: (e) => {
        if (!json) process.stderr.write(`${timelineLine(e)}\n`);
      },
    };
  }

  /** The command's result: a failed run becomes exit 1 (the run id and what to do in the hint). */
  protected finishRun(run: WorkflowRun) {
    if (!this.jsonEnabled()) this.log(`Workflow ${run.workflow} run ${run.id}: ${run.status.replace('_', ' ')}`);
    if (run.status === 'succeeded' || (run.status === 'rolled_back' && run.failed.length === 0)) return run;
    throw new StratumError(
      'failure',
      `workflow ${run.workflow} ${run.status.replace('_', ' ')}: ${run.failed.map((f) => `${f.id}: ${f.error}`).join('; ') || 'stopped'}`,
      {
        details: run as unknown as Record<string, unknown>,
        hint:
          run.status === 'interrupted' || run.status === 'rollback_failed'
            ? `prov workflow resume ${run.id}`
            : `prov workflow status ${run.id}`,
      },
    );
  }

  /** Ctrl-C stops starting steps; running ones finish and the run can be resumed. */
  protected interruptible(): { signal: AbortSignal; done(): void } {
    const abort = new AbortController();
    const onSigint = () => {
      process.stderr.write('\nInterrupted: waiting for running steps, then stopping (prov workflow resume later).\n');
      abort.abort();
    };
    process.on('SIGINT', onSigint);
    return { signal: abort.signal, done: () => process.off('SIGINT', onSigint) };
  }
}

export function timelineLine(e: TimelineEvent): string {
  const what: Record<string, string> = {
    start: 'started',
    done: 'done',
    failed: 'FAILED',
    retry: 'retrying',
    'rollback-start': 'undoing',
    'rolled-back': 'undone',
    'rollback-failed': 'UNDO FAILED',
    'run-start': 'run started',
    'run-end': `run ${e.status ?? 'ended'}`,
    resume: 'run resumed',
  };
  return `[${e.at.slice(11, 19)}] ${e.id ? `${e.id}: ` : ''}${what[e.type] ?? e.type}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}${e.error ? `: ${e.error}` : ''}`;
}

export function runTable(run: WorkflowRun): string {
  const done = new Set(run.done.map((d) => d.id));
  const undone = new Set(run.rolled_back);
  const failed = new Map(run.failed.map((f) => [f.id, f.error]));
  return renderTable(
    run.tasks.map((t) => ({
      step: t.id,
      kind: t.kind,
      status: failed.has(t.id) ? 'failed' : undone.has(t.id) ? 'rolled back' : done.has(t.id) ? 'done' : 'pending',
    })),
  );
}
