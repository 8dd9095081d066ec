// The scenarios' harness: the timeline, the children a run starts (CLIs as a user runs them, servers it
// stops at the end, also on failure and Ctrl-C), polling, and what a scenario needs on this machine.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const EXAMPLES = join(ROOT, 'examples', 'scenarios');
export const bin = (tool) => join(ROOT, 'packages', tool, 'bin', 'run.js');

// What a scenario needs. A `cmd` piece is built when its --help answers; a `bin` piece is a server
// binary on this machine.
export const cmd = (tool, ...args) => ({ kind: 'cmd', tool, args, label: `${tool} ${args.join(' ')}` });
const serverBin = (label, candidates, pkg) => ({ kind: 'bin', label, candidates, pkg });

export const PG = serverBin('postgresql', ['/usr/lib/postgresql/*/bin/postgres', 'postgres'], 'postgresql');
export const SSHD = serverBin('sshd hosts', ['/usr/sbin/sshd', 'sshd'], 'openssh-server');
export const NATS = serverBin('nats-server', ['nats-server', '/usr/sbin/nats-server'], 'nats-server');
export const ETCD = serverBin('etcd', ['etcd'], 'etcd-server');
export const CHROMIUM = serverBin('chromium', ['chromium', 'chromium-browser'], 'chromium');
export const PATRONI = serverBin('patroni', ['patroni'], 'patroni');

export function onPath(name) {
  if (name.includes('*')) {
    const r = spawnSync('sh', ['-c', `ls ${name} 2>/dev/null | head -1`], { encoding: 'utf8' });
    return r.stdout.trim() || null;
  }
  if (name.startsWith('/')) return existsSync(name) ? name : null;
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

export class Broken extends Error {}

export function makeRun(dir, json) {
  const t0 = Date.now();
  const steps = [];
  const servers = [];
  /** CLI commands started by `cli` and not finished yet. */
  const running = new Set();
  const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const base = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(SVAULT|VAPORA|KOGRAL|PROV|TYPEDIALOG)_/.test(k)),
    ),
    XDG_CONFIG_HOME: join(dir, 'xdg', 'config'),
    XDG_DATA_HOME: join(dir, 'xdg', 'data'),
    XDG_STATE_HOME: join(dir, 'xdg', 'state'),
    NO_COLOR: '1',
  };
  let current = null;
  // Passwords and tokens this run made: never written to commands.log (a child's output may echo them).
  const secrets = new Set();
  const secretFiles = [];
  const redact = (text) => {
    let out = text;
    for (const s of secrets) out = out.replaceAll(s, '[redacted]');
    return out;
  };

  const run = {
    dir,
    interrupted: null,
    steps,
    servers,
    env: base,
    say,
    /** One timeline step: `fn` returns the detail line, or throws (Broken or any error) to break the run. */
    async step(tool, title, fn) {
      if (run.interrupted) throw new Broken(`interrupted by ${run.interrupted}`);
      current = { n: steps.length + 1, tool, title };
      const started = Date.now();
      let detail;
      let ok = true;
      try {
        detail = await fn();
      } catch (e) {
        ok = false;
        detail = e instanceof Error ? e.message : String(e);
      }
      if (run.interrupted) throw new Broken(`interrupted by ${run.interrupted}`);
      const entry = { n: current.n, step: title, tool, ok, detail, elapsed_ms: Date.now() - started };
      steps.push(entry);
      const at = `${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(6);
      say(`${at}  ${String(entry.n).padStart(2)}. ${tool.padEnd(7)} ${ok ? 'ok  ' : 'FAIL'} ${title}: ${detail}`);
      if (!ok) throw new Broken(`step ${entry.n} (${tool}: ${title}) broke its promise: ${detail}`);
      return entry;
    },
    /** A binary run as a user would: argv, cwd, env; --json output parsed (`expectExit: 'any'` takes any exit). */
    cli(tool, args, { cwd = dir, env = {}, expectExit = 0, parse = true } = {}) {
      // Once interrupted, nothing new starts (a polling step would otherwise outlive the stop).
      if (run.interrupted) return Promise.reject(new Broken(`interrupted by ${run.interrupted}`));
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin(tool), ...args], {
          cwd,
          env: { ...base, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        running.add(child);
        // Gone when it exits, even if something it started keeps its output open (then 'close' comes late).
        child.on('exit', () => running.delete(child));
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('error', (e) => {
          running.delete(child);
          fail(e);
        });
        child.on('close', (code) => {
          running.delete(child);
          const shown = `${tool} ${args.join(' ')}`;
          appendFileSync(
            join(dir, 'commands.log'),
            redact(`$ ${shown}\n# exit ${code}\n${out}${err ? `# stderr\n${err}` : ''}\n`),
          );
          if (expectExit !== 'any' && code !== expectExit) {
            const why = (err.trim().split('\n').pop() ?? '') || out.trim().slice(0, 200);
            return fail(new Broken(`\`${shown}\` exited ${code}, expected ${expectExit}: ${why}`));
          }
          if (!parse) return done(out);
          try {
            done(JSON.parse(out));
          } catch {
            fail(new Broken(`\`${shown}\` printed no JSON document: ${out.slice(0, 200)}`));
          }
        });
      });
    },
    /** A server started in the background; `ready` reads its output until it says where it listens. */
    server(label, tool, args, { cwd = dir, env = {}, ready, timeoutMs = 30_000 }) {
      if (run.interrupted) return Promise.reject(new Broken(`interrupted by ${run.interrupted}`));
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin(tool), ...args], {
          cwd,
          env: { ...base, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const rec = { name: label, tool, pid: child.pid, child, stopped: false };
        servers.push(rec);
        let out = '';
        const log = join(dir, `${label}.log`);
        const timer = setTimeout(
          () => fail(new Broken(`${label} did not start in ${timeoutMs / 1000}s: ${out.slice(-300)}`)),
          timeoutMs,
        );
        const onData = (d) => {
          out += d;
          appendFileSync(log, d);
          const m = ready(out);
          if (m) {
            clearTimeout(timer);
            done({ ...m, pid: child.pid });
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code, sig) => {
          rec.stopped = true;
          clearTimeout(timer);
          fail(new Broken(`${label} exited (${code ?? sig}) before it was ready: ${out.slice(-300)}`));
        });
      });
    },
    /** Stops one server this run started (see stopChild), e.g. to restart it with a new config. */
    async stopServer(pid) {
      const s = servers.find((x) => x.pid === pid);
      if (!s || s.stopping) return;
      s.stopping = true;
      await stopChild(s.child);
      s.stopped = true;
    },
    /** Something started outside `server` (a test sshd, a database): stopped with the servers, in reverse. */
    resource(name, pid, stop) {
      servers.push({ name, tool: 'harness', pid, stop, stopped: false });
    },
    async stopServers() {
      // Commands still running (an interrupted step) end first: nothing the run started outlives it.
      for (let round = 0; running.size > 0 && round < 5; round++)
        await Promise.all([...running].map((c) => stopChild(c)));
      for (const s of [...servers].reverse()) {
        if (s.stopping) continue;
        s.stopping = true;
        if (s.stop) {
          await s.stop().catch((e) => say(`        -- stopping ${s.name} failed: ${e.message}`));
          s.stopped = true;
          say(`        -- stopped ${s.name} (pid ${s.pid})`);
          continue;
        }
        if (s.child.exitCode !== null || s.child.signalCode !== null) {
          s.stopped = true;
          continue;
        }
        await stopChild(s.child);
        s.stopped = true;
        say(`        -- stopped ${s.name} (pid ${s.pid})`);
      }
    },
    current: () => current,
    /** Registers a secret: redacted from commands.log from now on. */
    secret(value) {
      if (value) secrets.add(value);
      return value;
    },
    /**
     * A secret handed to a CLI as `key=@file` (never on a command line, where `ps` shows it): the file is
     * 0600 in the run's folder; returns its path.
     */
    secretFile(name, value) {
      run.secret(value);
      const file = join(dir, `.${name}.secret`);
      writeFileSync(file, value, { mode: 0o600 });
      secretFiles.push(file);
      return file;
    },
    /** At the end of a run (also a failed or interrupted one): the secret files go. */
    removeSecretFiles() {
      for (const f of secretFiles.splice(0)) rmSync(f, { force: true });
    },
  };
  return run;
}

/**
 * SIGTERM, then SIGKILL after 15 s: longer than a server's own graceful shutdown (vapora's is 10 s), so
 * that it ends what it started itself (its agents' commands) instead of being killed before it can.
 */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(killer);
}

/** Polls `fn` until it returns something truthy; a Broken with `what` after `ms` (long: a loaded machine is slow, a quick success ends it early). */
export async function until(what, fn, ms = 90_000, every = 200) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Broken(`timed out waiting for ${what}`);
}

export function expect(cond, why) {
  if (!cond) throw new Broken(why);
}

/** The folder of the newest PostgreSQL server binaries on this machine (Debian's layout). */
export const PG_BIN = () => onPath('/usr/lib/postgresql/*/bin/postgres')?.replace(/\/postgres$/, '');

/** `--json` before a `--` (after it, the flag would go to the remote command). */
/** One argument for a POSIX shell line, quoted (what a generated script or `prov exec --` pastes). */
export const shq = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

export const withJson = (args) => {
  const at = args.indexOf('--');
  return at < 0 ? [...args, '--json'] : [...args.slice(0, at), '--json', ...args.slice(at)];
};
