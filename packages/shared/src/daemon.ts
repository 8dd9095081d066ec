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
import { conflictError, notFoundError, unavailableError } from './errors.js';
import { createHttpServer, installGracefulShutdown } from './http.js';
import type { Logger } from './log.js';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed daemon whose parent never reaps it (no init in containers) stays a zombie: dead.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

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
  for (const f of [p.pid, p.socket]) {
    try {
      unlinkSync(f);
    } catch {}
  }
}

export interface StartOptions {
  tool: string;
  /** The daemon's entry module (a file that calls `serveDaemon`). */
  entry: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts the tool's daemon detached and waits until it answers on its socket. */
export async function startDaemon(opts: StartOptions): Promise<{ pid: number; socket: string }> {
  const env = opts.env ?? process.env;
  const p = daemonPaths(opts.tool, env);
  const status = await daemonStatus(opts.tool, env);
  if (status.running || (status.pid !== undefined && alive(status.pid))) {
    throw conflictError(`${opts.tool} daemon is already running (pid ${status.pid})`, {
      hint: `'${opts.tool} daemon stop' first`,
    });
  }
  if (status.stale) removeStale(p);
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
  throw unavailableError(`${opts.tool} daemon did not start: ${lastLines(p.log, 3).join(' | ') || 'no output'}`, {
    hint: `see '${opts.tool} daemon logs'`,
  });
}

/** Stops the daemon (SIGTERM, then SIGKILL after `timeoutMs`) and removes its files. */
export async function stopDaemon(
  tool: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 10_000,
): Promise<{ pid: number; forced: boolean }> {
  const p = daemonPaths(tool, env);
  const pid = readPid(p.pid);
  if (pid === undefined || !alive(pid)) {
    removeStale(p);
    throw notFoundError(`${tool} daemon is not running`);
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const forced = alive(pid);
  if (forced) process.kill(pid, 'SIGKILL');
  removeStale(p);
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
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  let fd: number;
  for (;;) {
    try {
      fd = openSync(p.pid, 'wx', 0o600);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const other = readPid(p.pid);
      if (other !== undefined && alive(other)) {
        process.stderr.write(`${opts.tool} daemon is already running (pid ${other})\n`);
        process.exit(6);
      }
      removeStale(p);
    }
  }
  writeSync(fd, `${process.pid}\n`);
  closeSync(fd);
  if (existsSync(p.socket)) unlinkSync(p.socket);

  const started = Date.now();
  const { app } = await createHttpServer({ name: opts.tool, ...(opts.logger ? { logger: opts.logger } : {}) });
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
    ...(opts.logger ? { logger: opts.logger } : {}),
    onClose: async () => {
      await opts.onClose?.();
      cleanup();
    },
  });
  process.once('exit', cleanup);
  await app.listen({ path: p.socket });
  await chmod(p.socket, 0o600);
  opts.logger?.info({ socket: p.socket, pid: process.pid }, 'daemon listening');
}
