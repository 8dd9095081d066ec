/**
 * A small pool of worker threads with resource limits. Each job gets a time limit; a worker that times
 * out, runs out of memory or dies is terminated and replaced, so a hanging or exploding evaluator cannot
 * hang or crash the runner. Jobs that need their own working directory run in a forked process instead.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { FromWorker, Job, Outcome, ToWorker } from './protocol.js';

export interface PoolOptions {
  /** The worker script (dist/conformance/worker.js). */
  workerFile: string;
  /** URL of the evaluator module the worker imports (dist/index.js). */
  entry: string;
  timeoutMs: number;
  memoryLimitMb: number;
  stackSizeMb: number;
  /** Replace a worker after this many jobs (bounds leaks between tests). */
  recycleAfter: number;
}

/** The environment of workers: without NICKEL_IMPORT_PATH, so only the test's own import paths apply. */
function workerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NICKEL_IMPORT_PATH;
  return env;
}

function describeWorkerError(err: unknown, opts: PoolOptions): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return `out of memory (limit ${opts.memoryLimitMb} MB)`;
  const msg = err instanceof Error ? err.message : String(err);
  return `worker crashed: ${msg}`;
}

/** A worker thread that has loaded the evaluator. */
class Lane {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private jobs = 0;
  private seq = 0;

  constructor(private readonly opts: PoolOptions) {}

  private start(): Promise<void> {
    const worker = new Worker(this.opts.workerFile, {
      workerData: { entry: this.opts.entry },
      env: workerEnv(),
      resourceLimits: {
        maxOldGenerationSizeMb: this.opts.memoryLimitMb,
        maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(this.opts.memoryLimitMb / 8))),
        stackSizeMb: this.opts.stackSizeMb,
      },
      // Capture the worker's output (std.trace, debug logs) instead of mixing it into the runner's.
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    // Errors while idle must not reach the runner as unhandled 'error' events; a dead worker is replaced.
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.ready = undefined;
      }
    });
    this.worker = worker;
    this.jobs = 0;
    return new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== 'ready') return;
        cleanup();
        resolve();
      };
      const onError = (e: unknown) => {
        cleanup();
        reject(new Error(describeWorkerError(e, this.opts)));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`worker exited with code ${code} while starting`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  async kill(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate().catch(() => undefined);
  }

  async run(job: Job): Promise<Outcome> {
    if (!this.worker || !this.ready || this.jobs >= this.opts.recycleAfter) {
      await this.kill();
      this.ready = this.start();
    }
    // Starting a worker and loading the evaluator is not part of a test's time, but is limited too.
    let startTimer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.ready,
        new Promise<never>((_, reject) => {
          startTimer = setTimeout(
            () => reject(new Error(`worker not ready after ${this.opts.timeoutMs} ms`)),
            this.opts.timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      await this.kill();
      return { status: 'crash', message: e instanceof Error ? e.message : String(e) };
    } finally {
      clearTimeout(startTimer);
    }
    const worker = this.worker;
    if (!worker) return { status: 'crash', message: 'worker unavailable' };
    this.jobs++;
    const id = ++this.seq;
    const outcome = await new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        resolve({ status: 'crash', message: `timeout after ${this.opts.timeoutMs} ms` });
      }, this.opts.timeoutMs);
      const onMessage = (m: FromWorker) => {
        if (m.type === 'result' && m.id === id) {
          cleanup();
          resolve(m.outcome);
        }
      };
      const onError = (e: unknown) => {
        cleanup();
        resolve({ status: 'crash', message: describeWorkerError(e, this.opts) });
      };
      const onExit = (code: number) => {
        cleanup();
        resolve({ status: 'crash', message: `worker exited with code ${code}` });
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ type: 'run', id, job } satisfies ToWorker);
    });
    if (outcome.status === 'crash') await this.kill();
    return outcome;
  }
}

/** Runs one job in a forked Node process with its own working directory. */
function runForked(job: Job, cwd: string, opts: PoolOptions): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let child: ChildProcess;
    try {
      child = fork(opts.workerFile, [], {
        cwd,
        env: workerEnv({ NICKEL_CONFORMANCE_ENTRY: opts.entry }),
        execArgv: [`--max-old-space-size=${opts.memoryLimitMb}`],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
    } catch (e) {
      resolve({ status: 'crash', message: `cannot fork: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    child.stdout?.resume();
    child.stderr?.resume();
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(o);
    };
    // Process start-up and module load count too: allow twice the time limit.
    const timer = setTimeout(
      () => finish({ status: 'crash', message: `timeout after ${opts.timeoutMs} ms` }),
      opts.timeoutMs * 2,
    );
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') child.send({ type: 'run', id: 1, job } satisfies ToWorker);
      else if (m.type === 'result') finish(m.outcome);
    });
    child.on('error', (e) => finish({ status: 'crash', message: `child process error: ${e.message}` }));
    child.on('exit', (code, signal) =>
      finish({ status: 'crash', message: `child process exited (${signal ?? `code ${code}`}) before answering` }),
    );
  });
}

export class WorkerPool {
  private readonly lanes: Lane[];
  private readonly idle: Lane[];
  private readonly waiting: Array<(lane: Lane) => void> = [];

  constructor(
    size: number,
    private readonly opts: PoolOptions,
  ) {
    this.lanes = Array.from({ length: Math.max(1, size) }, () => new Lane(opts));
    this.idle = [...this.lanes];
  }

  private acquire(): Promise<Lane> {
    const lane = this.idle.pop();
    if (lane) return Promise.resolve(lane);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(lane: Lane): void {
    const next = this.waiting.shift();
    if (next) next(lane);
    else this.idle.push(lane);
  }

  /** Runs a job; `cwd` runs it in a forked process (it still takes one slot of the pool). */
  async run(job: Job, cwd?: string): Promise<Outcome> {
    const lane = await this.acquire();
    try {
      return cwd === undefined ? await lane.run(job) : await runForked(job, cwd, this.opts);
    } finally {
      this.release(lane);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.kill()));
  }
}
