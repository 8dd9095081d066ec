import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertAvailable,
  currentUser,
  findExecutable,
  isRoot,
  lookupUser,
  SSH_TEST_USER,
  type SystemUser,
} from './availability.js';
import { getFreePort, LOOPBACK, probeTcp } from './ports.js';
import { READY_TIMEOUT_MS, runCommand, startInTempDir, waitUntilReady } from './process.js';

export interface SshdServer {
  host: string;
  port: number;
  /** Who the key logs in as: `stratumtest` when the tests run as root, else the current user. */
  username: string;
  /** OpenSSH-format ed25519 private key (no passphrase), as ssh2's `privateKey` expects. */
  privateKey: Buffer;
  privateKeyPath: string;
  /** The server's public host key line (`ssh-ed25519 AAAA... comment`), for pinning. */
  hostKey: string;
  /** The raw host key blob: compare with the Buffer ssh2 passes to `hostVerifier`. */
  hostKeyBlob: Buffer;
  /** A directory owned by `username` inside the temp dir, for sftp/exec tests. */
  workDir: string;
  /** The temp dir (keys, config, pid file). Removed by stop(). */
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface SshdOptions {
  readyTimeoutMs?: number;
  /** A loopback address to listen on (127.0.0.x), so that several hosts look distinct; default 127.0.0.1. */
  host?: string;
}

/**
 * A throwaway OpenSSH server on a free loopback port with a temp host key and a temp client key
 * (prov-iac notes §2.3). Only `username` may log in, and only with that key.
 */
export async function startSshd(opts: SshdOptions = {}): Promise<SshdServer> {
  assertAvailable('sshd');
  const sshd = findExecutable('/usr/sbin/sshd') ?? findExecutable('sshd', ['/usr/sbin'])!;
  const keygen = findExecutable('ssh-keygen')!;
  const root = isRoot();
  const user = root ? await ensureTestUser() : currentUser();
  const host = opts.host ?? LOOPBACK;
  if (root) {
    // Privilege separation needs it; without systemd nothing creates it ("Missing privilege separation directory").
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  }
  return startInTempDir('sshd', async (dir, spawn) => {
    // sshd opens AuthorizedKeysFile as the logging-in user, who must be able to traverse the dir.
    await chmod(dir, 0o711);
    const hostKeyPath = join(dir, 'host_ed25519');
    const privateKeyPath = join(dir, 'client_ed25519');
    await Promise.all([
      runCommand(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'stratum-test-host', '-f', hostKeyPath]),
      runCommand(keygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'stratum-test-client', '-f', privateKeyPath]),
    ]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, await readFile(`${privateKeyPath}.pub`), { mode: 0o644 });
    await chmod(authorizedKeys, 0o644);
    const workDir = join(dir, 'work');
    await mkdir(workDir, { mode: 0o755 });
    if (root) await chown(workDir, user.uid, user.gid);

    const port = await getFreePort(host);
    const config = join(dir, 'sshd_config');
    await writeFile(config, sshdConfig({ dir, host, port, hostKeyPath, authorizedKeys, user: user.name }));
    // Absolute path: sshd re-execs itself and refuses otherwise. -D -e: foreground, log to stderr.
    const p = spawn({ name: 'sshd', command: sshd, args: ['-D', '-e', '-f', config], cwd: dir });
    await waitUntilReady(p, () => probeSsh(host, port), {
      what: `SSH banner on ${host}:${port}`,
      timeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
    });
    const hostKey = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim();
    return {
      host,
      port,
      username: user.name,
      privateKey: await readFile(privateKeyPath),
      privateKeyPath,
      hostKey,
      hostKeyBlob: Buffer.from(hostKey.split(' ')[1] ?? '', 'base64'),
      workDir,
    };
  });
}

function sshdConfig(c: {
  dir: string;
  host: string;
  port: number;
  hostKeyPath: string;
  authorizedKeys: string;
  user: string;
}): string {
  return [
    `Port ${c.port}`,
    `ListenAddress ${c.host}`,
    `HostKey ${c.hostKeyPath}`,
    `PidFile ${join(c.dir, 'sshd.pid')}`,
    // One authorized_keys for every account: AllowUsers keeps the key from opening any other account.
    `AuthorizedKeysFile ${c.authorizedKeys}`,
    `AllowUsers ${c.user}`,
    'PermitRootLogin no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The temp dir is not owned the way StrictModes wants.
    'StrictModes no',
    'Subsystem sftp internal-sftp',
    // Default 10 sessions per connection is too few for the executor's parallel channels (notes §2.2).
    'MaxSessions 64',
    'MaxStartups 100:30:200',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** The server speaks first: `SSH-2.0-OpenSSH_...`. */
function probeSsh(host: string, port: number): Promise<void> {
  return probeTcp(port, {
    host,
    accept: (buf) => {
      const text = buf.toString('latin1');
      if (text.startsWith('SSH-')) return text.includes('\n');
      return text.length > 255 ? 'no SSH banner' : false;
    },
  });
}

/**
 * Root only: the dedicated login user, created on first use. A fresh useradd account is locked ('!'), and with
 * `UsePAM no` sshd rejects locked accounts even for key logins, so set the password field to '*' (no password).
 */
async function ensureTestUser(): Promise<SystemUser> {
  if (!lookupUser(SSH_TEST_USER)) {
    const useradd = findExecutable('useradd', ['/usr/sbin', '/sbin'])!;
    try {
      await runCommand(useradd, ['-m', '-s', '/bin/bash', SSH_TEST_USER]);
    } catch (err) {
      if (!lookupUser(SSH_TEST_USER)) throw err; // else another worker created it first
    }
  }
  const shadow = spawnSync('getent', ['shadow', SSH_TEST_USER], { encoding: 'utf8' });
  const password = shadow.status === 0 ? shadow.stdout.split(':')[1] : undefined;
  if (password !== '*') {
    const usermod = findExecutable('usermod', ['/usr/sbin', '/sbin'])!;
    await runCommand(usermod, ['-p', '*', SSH_TEST_USER]);
  }
  const user = lookupUser(SSH_TEST_USER);
  if (!user) throw new Error(`user ${SSH_TEST_USER} still missing after useradd`);
  return user;
}
