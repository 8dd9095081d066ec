import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Executor, HostError, type HostTarget, type Step, type StepResult } from '../src/core/executor.js';
import {
  executeWorkflow,
  expandWorkflow,
  newWorkflowRun,
  rollbackWorkflow,
  type WorkflowContext,
  type WorkflowDef,
  type WorkflowDeps,
  WorkflowRuns,
} from '../src/core/workflow.js';

/**
 * An in-memory fleet behind prov's executor interface: a step named `ID` applies ID on its host, one named
 * `ID:undo` removes it, every call is logged in `calls` in the order made (`run ID`, `undo ID`), and a test
 * scripts what goes wrong with `fail(name, ...outcomes)`: an exit code the script ends with, or an error the
 * connection throws, used on the next calls in turn.
 */
class MemoryHosts implements Executor {
  readonly applied = new Set<string>();
  readonly calls: string[] = [];
  private readonly failures = new Map<string, (number | Error)[]>();

  fail(name: string, ...outcomes: (number | Error)[]): this {
    this.failures.set(name, [...(this.failures.get(name) ?? []), ...outcomes]);
    return this;
  }

  async run(host: HostTarget, step: Step): Promise<StepResult> {
    const undo = step.name.endsWith(':undo');
    const id = undo ? step.name.slice(0, -':undo'.length) : step.name;
    this.calls.push(`${undo ? 'undo' : 'run'} ${id}`);
    const next = this.failures.get(step.name)?.shift();
    if (next instanceof Error) throw next;
    const exitCode = next ?? 0;
    if (exitCode === 0) {
      if (undo) this.applied.delete(id);
      else this.applied.add(id);
    }
    const stderr = exitCode ? `${id} broke` : '';
    return { host: host.name, step: step.name, exitCode, stdout: '', stderr, durationMs: 0, timedOut: false };
  }

  async upload() {}
  async facts() {
    return { os: 'linux', os_family: 'debian', os_version: '12', arch: 'x86_64', hostname: 'h1', user: 'root' };
  }
  async close() {}
}

type StepDef = WorkflowDef['steps'][number];
const step = (id: string, extra: Partial<StepDef> = {}): StepDef => ({
  id,
  description: '',
  kind: 'exec',
  on: 'all',
  run: `echo ${id}`,
  undo: `echo undo ${id}`,
  service: '',
  version: '',
  config: {},
  per_host: {},
  retries: 0,
  delay_s: 0,
  timeout_s: 60,
  depends_on: [],
  ...extra,
});
/** Each step depends on the one before it. */
const chain = (...steps: StepDef[]): WorkflowDef => ({
  name: 'chain',
  description: '',
  steps: steps.map((s, i) => (i > 0 ? { ...s, depends_on: [steps[i - 1]!.id] } : s)),
});

const ctx: WorkflowContext = {
  cluster: { name: '', kind: '', template: '', settings: {} },
  hosts: [{ host: 'h1', address: '10.0.0.1', index: 0 }],
  params: {},
};

function harness() {
  const runs = new WorkflowRuns(mkdtempSync(join(tmpdir(), 'prov-wf-')));
  const hosts = new MemoryHosts();
  const deps: WorkflowDeps = {
    exec: hosts,
    targets: { h1: { name: 'h1', address: '10.0.0.1', port: 22, user: 'root', sudo: false, labels: {} } },
    definition: async (n) => {
      throw new Error(`no taskserv ${n} here`);
    },
    retry: { retries: 2, initialMs: 0, factor: 2, maxMs: 0 },
    sleep: async () => {},
  };
  const start = (def: WorkflowDef) => {
    const run = newWorkflowRun(def, 'chain.ncl', ctx, expandWorkflow(def, ctx), { parallelism: 1, rollback: true });
    runs.save(run);
    return run;
  };
  /** The run's timeline events of one type, as journalled. */
  const journalled = (id: string, type: string) =>
    runs
      .get(id)
      .timeline.filter((e) => e.type === type)
      .map((e) => e.id);
  return { runs, hosts, deps, start, journalled };
}

describe('workflow rollback goes through the orchestrator', () => {
  it('a step failing after its retries undoes the completed steps in reverse, retrying an undo whose host dropped', async () => {
    const { runs, hosts, deps, start, journalled } = harness();
    hosts.fail('c@h1', 1, 1, 1);
    hosts.fail('b@h1:undo', new HostError('h1', 'unreachable', 'connection reset', { retryable: true }));
    const run = start(chain(step('a'), step('b'), step('c', { retries: 2 }), step('d')));

    const out = await executeWorkflow(runs, run, deps);

    expect(hosts.calls).toEqual([
      'run a@h1',
      'run b@h1',
      'run c@h1',
      'run c@h1',
      'run c@h1',
      'undo b@h1',
      'undo b@h1',
      'undo a@h1',
    ]);
    expect([...hosts.applied]).toEqual([]);
    const saved = runs.get(run.id);
    expect(out.status).toBe('rolled_back');
    expect(saved.status).toBe('rolled_back');
    expect(saved.failed).toEqual([{ id: 'c@h1', error: expect.stringContaining('step c exited 1') }]);
    expect(saved.rolled_back).toEqual(['b@h1', 'a@h1']);
    expect(saved.done).toEqual([]);
    expect(journalled(run.id, 'rolled-back')).toEqual(['b@h1', 'a@h1']);
  });

  it('an explicit rollback of a finished run undoes its steps in reverse; steps without an undo are left as they are', async () => {
    const { runs, hosts, deps, start, journalled } = harness();
    const run = start(chain(step('a'), step('check', { kind: 'health', run: 'true', undo: '' }), step('b'), step('c')));
    expect((await executeWorkflow(runs, run, deps)).status).toBe('succeeded');
    expect([...hosts.applied].sort()).toEqual(['a@h1', 'b@h1', 'c@h1', 'check@h1']);
    hosts.calls.length = 0;
    hosts.fail('b@h1:undo', new HostError('h1', 'unreachable', 'connection reset', { retryable: true }));

    // As `prov workflow rollback` does it: from the journal, in a later process.
    const out = await rollbackWorkflow(runs, runs.get(run.id), deps);

    // The dropped host is retried with the orchestrator's backoff, and the retry is journalled.
    expect(hosts.calls).toEqual(['undo c@h1', 'undo b@h1', 'undo b@h1', 'undo a@h1']);
    expect(journalled(run.id, 'retry')).toEqual(['b@h1']);
    expect([...hosts.applied]).toEqual(['check@h1']);
    const saved = runs.get(run.id);
    expect(out.status).toBe('rolled_back');
    expect(saved.status).toBe('rolled_back');
    expect(saved.failed).toEqual([]);
    expect(saved.rolled_back).toEqual(['c@h1', 'b@h1', 'a@h1']);
    expect(saved.done.map((d) => d.id)).toEqual(['check@h1']);
    expect(journalled(run.id, 'rolled-back')).toEqual(['c@h1', 'b@h1', 'a@h1']);
  });

  it('an undo that keeps failing leaves the run rollback_failed with that step still done, and the rest undone', async () => {
    const { runs, hosts, deps, start } = harness();
    const run = start(chain(step('a'), step('b'), step('c')));
    await executeWorkflow(runs, run, deps);
    hosts.calls.length = 0;
    hosts.fail('b@h1:undo', 1);

    const out = await rollbackWorkflow(runs, runs.get(run.id), deps);

    expect(hosts.calls).toEqual(['undo c@h1', 'undo b@h1', 'undo a@h1']);
    expect([...hosts.applied]).toEqual(['b@h1']);
    expect(out.status).toBe('rollback_failed');
    const saved = runs.get(run.id);
    expect(saved.done.map((d) => d.id)).toEqual(['b@h1']);
    expect(saved.timeline.find((e) => e.type === 'rollback-failed')).toMatchObject({
      id: 'b@h1',
      error: expect.stringContaining('step b (undo) exited 1'),
    });
  });
});
