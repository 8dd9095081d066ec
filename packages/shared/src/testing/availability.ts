import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { StratumError } from '../errors.js';

export type ServerName =
  | 'postgres'
  | 'nats'
  | 'etcd'
  | 'sshd'
  | 'chromium'
  | 'tmux'
  | 'prometheus'
  | 'node_exporter'
  | 'patroni';

/** The Debian package that provides each server (CI images are Debian 12). */
export const INSTALL_HINTS: Record<ServerName, string> = {
  postgres: 'apt-get install -y postgresql',
  nats: 'apt-get install -y nats-server',
  etcd: 'apt-get install -y etcd-server',
  sshd: 'apt-get install -y openssh-server',
  chromium: 'apt-get install -y chromium',
  tmux: 'apt-get install -y tmux',
  prometheus: 'apt-get install -y prometheus',
  node_exporter: 'apt-get install -y prometheus-node-exporter',
  patroni: 'apt-get install -y patroni',
};

/** The user sshd tests log in as when the tests run as root. */
export const SSH_TEST_USER = 'stratumtest';

export interface Availability {
  available: boolean;
  /** Why not: the missing binary or privilege. */
  reason?: string;
  /** What to run to fix it. */
  hint?: string;
}

/** CI is on when the CI variable has any non-empty value (GitHub, GitLab, Woodpecker, ... all set it). */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First executable named `name` in `dirs`, then on PATH; absolute paths are checked as they are. */
export function findExecutable(name: string, dirs: string[] = []): string | undefined {
  if (name.startsWith('/')) return isExecutable(name) ? name : undefined;
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, ...path]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Directory holding initdb and postgres: /usr/lib/postgresql/<highest version>/bin (Debian keeps them off PATH),
 * else the real directory of an initdb found on PATH.
 */
export function findPostgresBinDir(): string | undefined {
  const has = (dir: string) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'));
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {}
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (has(dir)) return dir;
  }
  const initdb = findExecutable('initdb');
  if (!initdb) return undefined;
  const dir = dirname(realpathSync(initdb));
  return has(dir) ? dir : undefined;
}

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up through NSS (getent), falling back to /etc/passwd. */
export function lookupUser(name: string): SystemUser | undefined {
  let line: string | undefined;
  const res = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (res.status === 0) line = res.stdout.trim().split('\n')[0];
  else if (res.error) {
    try {
      line = readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${name}:`));
    } catch {}
  }
  const f = line?.split(':');
  if (!f || f.length < 7) return undefined;
  return { name, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
}

export function currentUser(): SystemUser {
  const u = userInfo();
  return { name: u.username, uid: u.uid, gid: u.gid, home: u.homedir };
}

/** Where the chromium binary is: Debian's /usr/bin/chromium, else chromium/chromium-browser on PATH. */
export function findChromium(): string | undefined {
  return findExecutable('/usr/bin/chromium') ?? findExecutable('chromium') ?? findExecutable('chromium-browser');
}

/** Debian's prometheus is /usr/bin/prometheus; a release tarball's is `prometheus` on PATH. */
export function findPrometheus(): string | undefined {
  return findExecutable('prometheus');
}

/** Debian names the exporter prometheus-node-exporter; the upstream release calls it node_exporter. */
export function findNodeExporter(): string | undefined {
  return findExecutable('prometheus-node-exporter') ?? findExecutable('node_exporter');
}

function canResolve(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

const missing = (name: ServerName, reason: string, hint = INSTALL_HINTS[name]): Availability => ({
  available: false,
  reason,
  hint,
});

/**
 * Whether a throwaway `name` server can run here, checked synchronously (binaries and privileges only).
 * Privilege rules: as root, postgres runs as the `postgres` system user (initdb refuses root) and sshd logs in
 * as a dedicated `stratumtest` user it creates with useradd; as any other user, both run as that user.
 */
export function serverAvailability(name: ServerName): Availability {
  switch (name) {
    case 'postgres': {
      const dir = findPostgresBinDir();
      if (!dir) return missing(name, 'PostgreSQL server binaries (initdb, postgres) not found');
      if (isRoot() && !lookupUser('postgres')) {
        return missing(
          name,
          'running as root, where initdb/postgres refuse to run, and there is no `postgres` system user to run them as',
          `${INSTALL_HINTS.postgres} (creates the postgres user), or run the tests as a non-root user`,
        );
      }
      return { available: true };
    }
    case 'nats':
      return findExecutable('nats-server') ? { available: true } : missing(name, 'nats-server not found');
    case 'etcd':
      return findExecutable('etcd') ? { available: true } : missing(name, 'etcd not found');
    case 'sshd': {
      if (!findExecutable('/usr/sbin/sshd') && !findExecutable('sshd', ['/usr/sbin'])) {
        return missing(name, 'sshd not found');
      }
      if (!findExecutable('ssh-keygen')) return missing(name, 'ssh-keygen not found');
      if (isRoot() && !lookupUser(SSH_TEST_USER) && !findExecutable('useradd', ['/usr/sbin'])) {
        return missing(name, `running as root without a \`${SSH_TEST_USER}\` user and without useradd to create it`);
      }
      return { available: true };
    }
    case 'tmux':
      return findExecutable('tmux') ? { available: true } : missing(name, 'tmux not found');
    case 'prometheus':
      return findPrometheus() ? { available: true } : missing(name, 'prometheus not found');
    case 'node_exporter':
      return findNodeExporter()
        ? { available: true }
        : missing(name, 'node_exporter (prometheus-node-exporter) not found');
    case 'patroni':
      return findExecutable('patroni') ? { available: true } : missing(name, 'patroni not found');
    case 'chromium':
      if (!findChromium()) return missing(name, 'chromium not found');
      if (!canResolve('playwright-core')) {
        return missing(name, 'the playwright-core package is not installed', 'npm install -D playwright-core');
      }
      return { available: true };
  }
}

/** Throws the error a CI run should show when a server cannot run here; no-op when it can. */
export function assertAvailable(name: ServerName): void {
  const a = serverAvailability(name);
  if (a.available) return;
  throw new StratumError('unavailable', `cannot start ${name}: ${a.reason} (install: ${a.hint})`, {
    hint: a.hint,
    details: { server: name },
  });
}

const warned = new Set<ServerName>();

/**
 * For `describe.skipIf(skipUnless('postgres'))`: true (skip) when the server cannot run here, after one warning
 * line with the install hint. Under CI it never skips, so the suite runs and fails naming what is missing.
 */
export function skipUnless(name: ServerName): boolean {
  const a = serverAvailability(name);
  if (a.available || isCI()) return false;
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`[skip] ${name} tests: ${a.reason}; install with: ${a.hint}`);
  }
  return true;
}
