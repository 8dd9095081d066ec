import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { chmod } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { conflictError, notFoundError, StratumError, unavailableError } from './errors.js';
import { processAlive } from './fs.js';
import { createHttpServer, installGracefulShutdown } from './http.js';
import { createLogger, type LogFormat, type Logger, type LogLevel } from './log.js';

/** A daemon that finds another one running exits with this (the conflict exit code). */
const ALREADY_RUNNING = 6;

/** Where a tool keeps its data: `<TOOL>_DATA_DIR`, else `$XDG_DATA_HOME/stratumiops/<tool>`. */
export function dataDir(tool: string, env: NodeJS.ProcessEnv = process.env): string {
  const override = env[`${tool.toUpperCase()}_DATA_DIR`];
  if (override) return override;
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'stratumiops', tool);
}

export interface DaemonPaths {
  dir: string;
  pid: string;
  socket: string;
  log: string;
}

export function daemonPaths(tool: string, env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  const dir = join(dataDir(tool, env), 'run');
  return { dir, pid: join(dir, `${tool}d.pid`), socket: join(dir, `${tool}d.sock`), log: join(dir, `${tool}d.log`) };
}

const alive = processAlive;

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface DaemonResponse {
  status: number;
  body: unknown;
}

/** One HTTP request to a daemon over its unix socket. */
export function socketRequest(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<DaemonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`daemon did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export interface DaemonStatus {
  running: boolean;
  pid?: number;
  socket: string;
  log: string;
  /** Files were left by a daemon that is gone. */
  stale: boolean;
  health?: Record<string, unknown>;
}

export async function daemonStatus(tool: string, env: NodeJS.ProcessEnv = process.env): Promise<DaemonStatus> {
  const p = daemonPaths(tool, env);
  const pid = readPid(p.pid);
  const base = { socket: p.socket, log: p.log };
  if (pid === undefined || !alive(pid)) {
    return { ...base, running: false, stale: pid !== undefined || existsSync(p.socket) };
  }
  try {
    const res = await socketRequest(p.socket, 'GET', '/health', undefined, 2000);
    return { ...base, running: res.status === 200, pid, stale: false, health: res.body as Record<string, unknown> };
  } catch {
    // The process is there but does not answer: starting up, hung, or the pid was reused.
    return { ...base, running: false, pid, stale: false };
  }
}

function removeStale(p: DaemonPaths): void {
  unlinkQuiet(p.pid);
  unlinkQuiet(p.socket);
}

export interface StartOptions {
  tool: string;
  /** The daemon's entry module (a file that calls `serveDaemon`); undefined for a tool without a daemon. */
  entry: string | undefined;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts the tool's daemon detached and waits until it answers on its socket. */
export async function startDaemon(opts: StartOptions): Promise<{ pid: number; socket: string }> {
  if (!opts.entry) throw new StratumError('usage', `${opts.tool} has no daemon`);
  const env = opts.env ?? process.env;
  const p = daemonPaths(opts.tool, env);
  const status = await daemonStatus(opts.tool, env);
  if (status.running || (status.pid !== undefined && alive(status.pid))) {
    throw conflictError(`${opts.tool} daemon is already running (pid ${status.pid})`, {
      hint: `'${opts.tool} daemon stop' first`,
    });
  }
  // Stale files are the daemon's to clean, under its lock: a client removing them could race a starting daemon.
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const logFd = openSync(p.log, 'a', 0o600);
  const child = spawn(process.execPath, [opts.entry, ...(opts.args ?? [])], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: { ...env },
  });
  closeSync(logFd);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? 1;
  });
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if (exited !== null) break;
    const s = await daemonStatus(opts.tool, env);
    if (s.running && s.pid === child.pid) return { pid: child.pid as number, socket: p.socket };
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited === null) child.kill('SIGKILL');
  if (exited === ALREADY_RUNNING) {
    // Another start won the race: report that daemon.
    const winner = await waitRunning(opts.tool, env, 5000);
    if (winner)
      throw conflictError(`${opts.tool} daemon is already running (pid ${winner})`, { details: { pid: winner } });
  }
  throw unavailableError(`${opts.tool} daemon did not start: ${lastLines(p.log, 3).join(' | ') || 'no output'}`, {
    hint: `see '${opts.tool} daemon logs'`,
  });
}

async function waitRunning(tool: string, env: NodeJS.ProcessEnv, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const s = await daemonStatus(tool, env);
    if (s.running) return s.pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/**
 * The daemon's address, starting it first if it is not running (what commands that need it call).
 * Safe when several commands do this at once: one daemon wins, all get its socket.
 */
export async function ensureDaemon(opts: StartOptions): Promise<{ pid: number; socket: string }> {
  const env = opts.env ?? process.env;
  const s = await daemonStatus(opts.tool, env);
  if (s.running && s.pid) return { pid: s.pid, socket: s.socket };
  try {
    return await startDaemon(opts);
  } catch (e) {
    const pid = (e as { details?: { pid?: number } }).details?.pid;
    if (e instanceof StratumError && e.code === 'conflict' && pid) {
      return { pid, socket: daemonPaths(opts.tool, env).socket };
    }
    throw e;
  }
}

/** Stops the daemon (SIGTERM, then SIGKILL after `timeoutMs`) and removes its files. */
export async function stopDaemon(
  tool: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 10_000,
): Promise<{ pid: number; forced: boolean }> {
  const p = daemonPaths(tool, env);
  const pid = readPid(p.pid);
  if (pid === undefined || !alive(pid)) throw notFoundError(`${tool} daemon is not running`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const forced = alive(pid);
  if (forced) {
    process.kill(pid, 'SIGKILL');
    if (readPid(p.pid) === pid) removeStale(p); // it had no chance to clean up after itself
  }
  return { pid, forced };
}

export function lastLines(file: string, n: number): string[] {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const len = Math.min(size, 64 * 1024 * Math.max(1, Math.ceil(n / 500)));
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    closeSync(fd);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } catch {
    return [];
  }
}

/**
 * The pid file is the daemon's lock: created exclusively. A stale one (its process is gone) is removed
 * under a short-lived cleanup lock, so that two daemons starting at once never delete each other's.
 */
function takePidFile(p: DaemonPaths, tool: string): number {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      return openSync(p.pid, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = readPid(p.pid);
    if (other !== undefined && alive(other)) {
      process.stderr.write(`${tool} daemon is already running (pid ${other})\n`);
      process.exit(ALREADY_RUNNING);
    }
    withCleanupLock(p, () => {
      const pid = readPid(p.pid);
      // An empty pid file is a daemon between creating and writing it, unless it is old.
      const emptyAndOld = pid === undefined && ageMs(p.pid) > 2000;
      if ((pid !== undefined && !alive(pid)) || emptyAndOld) removeStale(p);
    });
    sleepSync(20);
  }
  throw new Error(`could not take ${p.pid}`);
}

function withCleanupLock(p: DaemonPaths, fn: () => void): void {
  const lock = `${p.pid}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch {
    if (ageMs(lock) > 5000) unlinkQuiet(lock); // left by a process that died holding it
    return;
  }
  try {
    fn();
  } finally {
    closeSync(fd);
    unlinkQuiet(lock);
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function unlinkQuiet(file: string): void {
  try {
    unlinkSync(file);
  } catch {}
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface ServeOptions {
  tool: string;
  version: string;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Adds the tool's routes; /health and /metrics are always there. */
  register?: (app: import('fastify').FastifyInstance) => Promise<void> | void;
  onClose?: () => Promise<void> | void;
}

/**
 * The daemon side: takes the pid file as a lock (a second instance exits 6), serves
 * HTTP on a 0600 unix socket, and removes both files when it stops.
 */
export async function serveDaemon(opts: ServeOptions): Promise<void> {
  const env = opts.env ?? process.env;
  const p = daemonPaths(opts.tool, env);
  const prefix = opts.tool.toUpperCase();
  // The log file is read by people (`daemon logs`): info and text unless configured otherwise.
  const logger =
    opts.logger ??
    createLogger({
      name: `${opts.tool}d`,
      level: (env[`${prefix}_LOG_LEVEL`] as LogLevel) || 'info',
      format: (env[`${prefix}_LOG_FORMAT`] as LogFormat) || 'text',
      stream: process.stdout,
    });
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  const fd = takePidFile(p, opts.tool);
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  if (existsSync(p.socket)) unlinkSync(p.socket);

  const started = Date.now();
  const { app } = await createHttpServer({ name: opts.tool, logger });
  app.get('/health', async () => ({
    status: 'ok',
    tool: opts.tool,
    version: opts.version,
    pid: process.pid,
    uptime_s: Math.round((Date.now() - started) / 1000),
  }));
  await opts.register?.(app);
  const cleanup = () => {
    for (const f of [p.socket, p.pid]) {
      try {
        if (f !== p.pid || readPid(p.pid) === process.pid) unlinkSync(f);
      } catch {}
    }
  };
  installGracefulShutdown(app, {
    logger,
    onClose: async () => {
      await opts.onClose?.();
      cleanup();
    },
  });
  process.once('exit', cleanup);
  await app.listen({ path: p.socket });
  await chmod(p.socket, 0o600);
  logger.info({ socket: p.socket, pid: process.pid, version: opts.version }, 'daemon listening');
}
