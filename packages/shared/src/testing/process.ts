import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from '../fs.js';

/** Default readiness deadline: servers start in a few seconds here, 30 s leaves room for a loaded CI box. */
export const READY_TIMEOUT_MS = 30_000;
const LOG_LINES_KEPT = 200;

/** Thrown when a server cannot be started; the message ends with the last lines of its log. */
export class ServerStartError extends Error {
  readonly log: string;
  constructor(message: string, log: string) {
    super(log ? `${message}\nLast log lines:\n${log}` : message);
    this.name = 'ServerStartError';
    this.log = log;
  }
}

export interface SpawnServerOptions {
  /** Short name used in errors, e.g. 'postgres'. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (requires root): initdb and postgres refuse to run as root. */
  uid?: number;
  gid?: number;
  /** First signal stop() sends; SIGKILL follows after the timeout. */
  stopSignal?: NodeJS.Signals;
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  /** How long to wait after the first signal before SIGKILL. */
  timeoutMs?: number;
}

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set once the process has exited. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  readonly spawnError: Error | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<void>;
  /** The last `lines` lines of stdout+stderr. */
  logTail(lines?: number): string;
  /** Signal, wait, SIGKILL after the timeout, then kill descendants that outlived it. Idempotent. */
  stop(opts?: StopOptions): Promise<void>;
}

// Every live server, so a worker that exits without stop() does not leave daemons behind.
const live = new Set<ServerProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
  });
}

export function spawnServer(opts: SpawnServerOptions): ServerProcess {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    uid: opts.uid,
    gid: opts.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
  };
  // setEncoding keeps a UTF-8 character split across chunks intact.
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);

  let spawnError: Error | undefined;
  let exitInfo: ServerProcess['exit'];
  let stopping: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      // Also emitted when a kill fails; only a child without a pid (ENOENT, EACCES) will never 'exit'.
      if (child.pid !== undefined) return collect(`(${opts.name}: ${err.message})\n`);
      spawnError = err;
      exitInfo ??= { code: null, signal: null };
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve();
    });
  });

  const proc: ServerProcess = {
    name: opts.name,
    child,
    pid: child.pid ?? -1,
    get exit() {
      return exitInfo;
    },
    get spawnError() {
      return spawnError;
    },
    exited,
    logTail(n = 20) {
      const all = partial ? [...lines, partial] : lines;
      return all.slice(-n).join('\n');
    },
    stop(stopOpts = {}) {
      stopping ??= stopProcess(proc, stopOpts.signal ?? opts.stopSignal ?? 'SIGTERM', stopOpts.timeoutMs ?? 10_000);
      return stopping;
    },
  };
  if (child.pid !== undefined) {
    live.add(proc);
    installExitHook();
    void exited.then(() => live.delete(proc));
  }
  return proc;
}

async function stopProcess(proc: ServerProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (proc.exit || proc.pid < 0) return;
  // Snapshot the tree first: once the parent is gone its children are re-parented and hard to find.
  const descendants = listDescendants(proc.pid);
  proc.child.kill(signal);
  if (!(await exitsWithin(proc, timeoutMs))) {
    proc.child.kill('SIGKILL');
    await exitsWithin(proc, 5_000);
  }
  for (const d of descendants) {
    if (startTimeOf(d.pid) === d.start) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {}
    }
  }
}

async function exitsWithin(proc: ServerProcess, ms: number): Promise<boolean> {
  const timer = sleep(ms, false, { ref: false });
  return Promise.race([proc.exited.then(() => true), timer]);
}

interface ProcEntry {
  pid: number;
  start: string;
}

function readStat(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19] ?? '' };
  } catch {
    return undefined;
  }
}

function startTimeOf(pid: number): string | undefined {
  return readStat(pid)?.start;
}

function childrenMap(): Map<number, ProcEntry[]> {
  const children = new Map<number, ProcEntry[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push({ pid: Number(name), start: stat.start });
    children.set(stat.ppid, list);
  }
  return children;
}

/** Direct children of pid (Linux /proc; empty elsewhere). */
export function listChildren(pid: number): number[] {
  return (childrenMap().get(pid) ?? []).map((c) => c.pid);
}

/** The command line of a process as its argv (Linux /proc), or [] when unknown. */
export function processArgs(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** All descendants of pid (Linux /proc; empty elsewhere), with start times to avoid killing a reused pid. */
export function listDescendants(pid: number): ProcEntry[] {
  const children = childrenMap();
  const out: ProcEntry[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const c of children.get(next) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** True while a process with this pid exists (and is not a zombie). */
export const isProcessAlive = processAlive;

export interface WaitReadyOptions {
  /** What is being waited for, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `check` until it resolves (ready) or the deadline passes; fails at once if the process exits.
 * `check` throws (or rejects) while the server is not ready; its last error is reported.
 */
export async function waitUntilReady(
  proc: ServerProcess,
  check: () => Promise<void>,
  opts: WaitReadyOptions,
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried yet';
  while (true) {
    if (proc.exit) throw exitedEarly(proc);
    try {
      const ok = await Promise.race([check().then(() => true), proc.exited.then(() => false)]);
      if (ok) return;
      throw exitedEarly(proc);
    } catch (err) {
      if (err instanceof ServerStartError) throw err;
      last = describeError(err);
    }
    if (Date.now() >= deadline) {
      throw new ServerStartError(
        `${proc.name} was not ready within ${timeoutMs} ms (${opts.what}; last attempt: ${last})`,
        proc.logTail(),
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** fetch() says only "fetch failed": the useful part (ECONNREFUSED, ...) is in the cause. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${err.message} (${detail})` : err.message;
}

function exitedEarly(proc: ServerProcess): ServerStartError {
  if (proc.spawnError) return new ServerStartError(`${proc.name} could not be started: ${proc.spawnError.message}`, '');
  const how = proc.exit?.signal ? `signal ${proc.exit.signal}` : `code ${proc.exit?.code ?? 'unknown'}`;
  return new ServerStartError(`${proc.name} exited (${how}) before it was ready`, proc.logTail());
}

/** True when a start failure looks like a lost race for the chosen port. */
export function isPortClash(err: unknown): boolean {
  return err instanceof Error && /address already in use|EADDRINUSE/i.test(err.message);
}

/** Runs `attempt` again (fresh ports, fresh dir) when another process took the chosen port first. */
export async function retryOnPortClash<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !isPortClash(err)) throw err;
    }
  }
}

/** What every throwaway server adds to the details its start returns. */
export interface TempServer {
  /** The temp dir of its data and config. Removed by stop(). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * The life all throwaway servers share: each attempt gets a fresh temp dir and is retried when the
 * free port it picked was taken meanwhile; `start` spawns the server (with the `spawn` it is given)
 * and waits until it is ready. On failure the process is stopped and the dir removed; stop() does
 * the same, once.
 */
export function startInTempDir<T extends object>(
  prefix: string,
  start: (dir: string, spawn: (opts: SpawnServerOptions) => ServerProcess) => Promise<T>,
  owner?: { uid: number; gid: number },
): Promise<T & TempServer> {
  return retryOnPortClash(async () => {
    const dir = await makeTempDir(prefix, owner);
    let proc: ServerProcess | undefined;
    try {
      const details = await start(dir, (o) => {
        proc = spawnServer(o);
        return proc;
      });
      const p = proc;
      if (!p) throw new Error(`${prefix}: the start function spawned no server`);
      const stop = once(async () => {
        await p.stop();
        await removeDir(dir);
      });
      return { ...details, dir, pid: p.pid, stop };
    } catch (err) {
      await (proc as ServerProcess | undefined)?.stop();
      await removeDir(dir);
      throw err;
    }
  });
}

/** A fresh private directory under os.tmpdir(), optionally handed to another user. */
export async function makeTempDir(prefix: string, owner?: { uid: number; gid: number }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `stratum-test-${prefix}-`));
  if (owner) await chown(dir, owner.uid, owner.gid);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await stopProcessesUnder(dir);
  await rm(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
}

/**
 * Processes that run from a throwaway server's dir or name it on their command line: what was started
 * through the server and detached from it (a PostgreSQL that prov installed on a test sshd host, whose
 * pg_ctl daemonizes it). They would outlive the server and keep writing into the dir being removed.
 */
async function stopProcessesUnder(dir: string): Promise<void> {
  // The dir itself or a path below it, as a whole argument or inside one (--user-data-dir=<dir>).
  const names = (text: string) => {
    for (let i = text.indexOf(dir); i >= 0; i = text.indexOf(dir, i + 1)) {
      const next = text[i + dir.length];
      if (next === undefined || next === '/') return true;
    }
    return false;
  };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return; // no /proc: nothing to look at
  }
  // Each process with its start time: a pid that ends meanwhile and is reused is never signalled.
  const found = new Map<number, string>();
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!names(cwd) && !cmdline.split('\0').some(names)) continue;
      const started = startTime(pid);
      if (started) found.set(pid, started);
    } catch {}
  }
  const signal = (sig: NodeJS.Signals) => {
    for (const [pid, started] of found) {
      if (startTime(pid) !== started) {
        found.delete(pid); // gone (or another process now has its pid)
        continue;
      }
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  if (found.size === 0) return;
  signal('SIGTERM');
  for (let i = 0; i < 50 && [...found.keys()].some((pid) => processAlive(pid)); i++) await sleep(100);
  signal('SIGKILL');
}

/** A process's start time (field 22 of /proc/<pid>/stat), undefined when it is gone or a zombie. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** process.env without the variables a server would read as configuration (PG*, ETCD_*, ...). */
export function cleanEnv(dropPrefixes: string[], extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!dropPrefixes.some((p) => k.startsWith(p))) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs a command to completion and returns its output; rejects with the output when it fails. */
export function runCommand(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.once('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        const tail = out.trim().split('\n').slice(-20).join('\n');
        reject(new Error(`${command} ${args.join(' ')} failed (${how})${tail ? `:\n${tail}` : ''}`));
      }
    });
  });
}

/** Wraps an async function so that later calls share the first call's promise (stop() is idempotent). */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn();
    return running;
  };
}
