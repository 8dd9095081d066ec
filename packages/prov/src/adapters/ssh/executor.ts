import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import {
  type Executor,
  type Facts,
  HostError,
  type HostTarget,
  type OutputSink,
  type Step,
  type StepResult,
  shq,
} from '../../core/executor.js';
import { redact } from '../../core/sensitive.js';
import { fingerprint, type KnownHosts } from './known-hosts.js';

export interface SshExecutorOptions {
  knownHosts: KnownHosts;
  connectTimeoutMs?: number;
  /** Used when a host names no key file. */
  defaultKey?: Buffer;
  /** Resolves a secret reference (sudo passwords). */
  resolveSecret?(ref: string): Promise<string>;
  /** Channels per connection; sshd's MaxSessions defaults to 10 (notes §2.2). */
  maxChannels?: number;
}

const SENTINEL = '__PROV_';

interface Pending {
  n: number;
  marker: string;
  out: string;
  err: string;
  outEmitted: number;
  errEmitted: number;
  rc: number | null;
  errDone: boolean;
  onOutput: OutputSink | undefined;
  resolve(r: { exitCode: number; stdout: string; stderr: string }): void;
  reject(e: Error): void;
}

/**
 * One persistent `sh` per host: each step is written to its stdin as `sh -c '<script>' </dev/null` followed by
 * printf sentinels carrying the exit code, on stdout and stderr. No new session per step (that costs
 * 100–150 ms server-side), each step still gets its own process, exit code, output and timeout, and a step
 * with a syntax error or an `exit` cannot break the shell that carries the next one.
 */
class PersistentShell {
  private readonly token = randomBytes(8).toString('hex');
  private seq = 0;
  private current: Pending | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  closed = false;

  constructor(
    private readonly host: string,
    private readonly channel: ClientChannel,
    private readonly secrets: () => string[],
  ) {
    channel.on('data', (d: Buffer) => this.onData('out', d.toString('utf8')));
    channel.stderr.on('data', (d: Buffer) => this.onData('err', d.toString('utf8')));
    channel.on('close', () => {
      this.closed = true;
      // The connection dropped mid-step (a host rebooting, a network cut): retried like a failed connection,
      // on a new connection (steps are idempotent: their checks skip what is done).
      this.current?.reject(
        new HostError(this.host, 'protocol', 'the connection closed in the middle of a step', { retryable: true }),
      );
      this.current = undefined;
    });
  }

  /** Steps on one shell run one after another. */
  exec(command: string, onOutput: OutputSink | undefined, guardMs: number) {
    const run = () => this.execNow(command, onOutput, guardMs);
    const p = this.tail.then(run, run);
    this.tail = p.catch(() => {});
    return p;
  }

  private execNow(command: string, onOutput: OutputSink | undefined, guardMs: number) {
    if (this.closed) return Promise.reject(new HostError(this.host, 'protocol', 'the remote shell is closed'));
    const n = ++this.seq;
    const marker = `${SENTINEL}${this.token}_${n}`;
    return new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.current = undefined;
        this.closed = true;
        this.channel.destroy();
        reject(new HostError(this.host, 'timeout', `step did not finish within ${Math.round(guardMs / 1000)} s`));
      }, guardMs);
      this.current = {
        n,
        marker,
        out: '',
        err: '',
        outEmitted: 0,
        errEmitted: 0,
        rc: null,
        errDone: false,
        onOutput,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.channel.write(
        `${command}\n__r=$?; printf '\\n%s:%s\\n' '${marker}' "$__r"; printf '\\n%s\\n' '${marker}' >&2\n`,
      );
    });
  }

  private onData(which: 'out' | 'err', text: string) {
    const c = this.current;
    if (!c) return;
    if (which === 'out') c.out += text;
    else c.err += text;
    const buf = which === 'out' ? c.out : c.err;
    const at = buf.indexOf(`\n${c.marker}`);
    if (at >= 0) {
      if (which === 'out') {
        const m = new RegExp(`^\\n${c.marker}:(\\d+)\\n`).exec(buf.slice(at));
        if (!m) return; // the exit code has not fully arrived yet
        c.rc = Number(m[1]);
        c.out = buf.slice(0, at);
      } else {
        if (!buf.slice(at + 1 + c.marker.length).startsWith('\n')) return;
        c.errDone = true;
        c.err = buf.slice(0, at);
      }
      this.emit(c, which, true);
      if (c.rc !== null && c.errDone) {
        this.current = undefined;
        c.resolve({ exitCode: c.rc, stdout: c.out, stderr: c.err });
      }
      return;
    }
    this.emit(c, which, false);
  }

  /** Streams complete lines; a line whose newline ends the buffer waits (it may precede a sentinel). */
  private emit(c: Pending, which: 'out' | 'err', final: boolean) {
    if (!c.onOutput) return;
    const buf = which === 'out' ? c.out : c.err;
    const from = which === 'out' ? c.outEmitted : c.errEmitted;
    const upto = final ? buf.length : buf.lastIndexOf('\n', buf.length - 2) + 1;
    if (upto <= from) return;
    const chunk = buf.slice(from, upto);
    if (which === 'out') c.outEmitted = upto;
    else c.errEmitted = upto;
    const lines = chunk.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const secrets = this.secrets();
    for (const l of lines) c.onOutput(this.host, which === 'out' ? 'stdout' : 'stderr', redact(l, secrets));
  }
}

interface Conn {
  client: Client;
  shell?: PersistentShell;
  shellOpening?: Promise<PersistentShell>;
  sftp?: Promise<SFTPWrapper>;
  channels: number;
  waiters: (() => void)[];
  dead: boolean;
}

export class SshExecutor implements Executor {
  private readonly conns = new Map<string, Promise<Conn>>();
  private readonly secretValues = new Set<string>();
  private readonly factsCache = new Map<string, Facts>();

  constructor(private readonly opts: SshExecutorOptions) {}

  private key(h: HostTarget) {
    return `${h.user}@${h.address}:${h.port}`;
  }

  private connection(h: HostTarget): Promise<Conn> {
    const k = this.key(h);
    const existing = this.conns.get(k);
    if (existing) {
      return existing.then(
        (c) => (c.dead ? this.reconnect(h) : c),
        () => this.reconnect(h),
      );
    }
    return this.reconnect(h);
  }

  private reconnect(h: HostTarget): Promise<Conn> {
    const p = this.connect(h);
    this.conns.set(this.key(h), p);
    return p;
  }

  private connect(h: HostTarget): Promise<Conn> {
    let privateKey: Buffer | undefined;
    try {
      privateKey = h.keyPath ? readFileSync(h.keyPath.replace(/^~(?=\/)/, homedir())) : this.opts.defaultKey;
    } catch (e) {
      return Promise.reject(
        new HostError(h.name, 'auth', `cannot read the key file ${h.keyPath}: ${(e as Error).message}`, {
          retryable: false,
        }),
      );
    }
    const kh = this.opts.knownHosts;
    let keyProblem: HostError | undefined;
    return new Promise<Conn>((resolve, reject) => {
      const client = new Client();
      const conn: Conn = { client, channels: 0, waiters: [], dead: false };
      let ready = false;
      client.on('ready', () => {
        ready = true;
        // ssh2 never turns Nagle off itself: ~44 ms → ~3 ms per command on a warm connection (notes §2.2).
        client.setNoDelay(true);
        resolve(conn);
      });
      client.on('error', (e: Error & { level?: string; code?: string }) => {
        conn.dead = true;
        if (!ready) reject(keyProblem ?? this.connectError(h, e));
      });
      client.on('close', () => {
        conn.dead = true;
        if (!ready)
          reject(
            keyProblem ??
              new HostError(h.name, 'unreachable', `connection to ${h.address}:${h.port} closed during the handshake`),
          );
      });
      client.connect({
        host: h.address,
        port: h.port,
        username: h.user,
        ...(privateKey ? { privateKey } : { agent: process.env.SSH_AUTH_SOCK }),
        readyTimeout: this.opts.connectTimeoutMs ?? 10_000,
        keepaliveInterval: 15_000,
        hostVerifier: (blob: Buffer) => {
          if (kh.policy === 'off') return true;
          const r = kh.check(h.address, h.port, blob);
          if (r === 'ok') return true;
          if (r === 'unknown' && kh.policy === 'accept-new') {
            kh.add(h.address, h.port, blob);
            return true;
          }
          keyProblem =
            r === 'unknown'
              ? new HostError(
                  h.name,
                  'host-key-unknown',
                  `unknown host key ${fingerprint(blob)} for ${h.address}:${h.port}`,
                  {
                    hint: 'check the fingerprint, then pass --accept-new-host-keys (or prov provider test --accept-new-host-keys)',
                  },
                )
              : new HostError(
                  h.name,
                  'host-key-mismatch',
                  `host key mismatch for ${h.address}:${h.port}: got ${fingerprint(blob)}, known ${kh.expected(h.address, h.port).join(', ')}`,
                  {
                    hint: 'the host was reinstalled or someone is intercepting: fix the known_hosts entry only if you know why',
                  },
                );
          return false;
        },
      });
    });
  }

  private connectError(h: HostTarget, e: Error & { level?: string; code?: string }): HostError {
    const where = `${h.address}:${h.port}`;
    if (e.level === 'client-authentication') {
      return new HostError(
        h.name,
        'auth',
        `authentication failed for ${h.user}@${where} (wrong key, or the key is not authorized)`,
        {
          hint: 'check key_path for this host and the authorized_keys on it',
        },
      );
    }
    if (e.level === 'client-timeout' || e.code === 'ETIMEDOUT') {
      return new HostError(h.name, 'timeout', `timed out connecting to ${where}`);
    }
    if (e.code === 'ECONNREFUSED')
      return new HostError(h.name, 'refused', `connection refused by ${where} (is sshd running?)`);
    if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
      return new HostError(h.name, 'unreachable', `cannot resolve ${h.address}`, { retryable: false });
    }
    if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH')
      return new HostError(h.name, 'unreachable', `${where} is unreachable`);
    return new HostError(h.name, 'unreachable', `cannot connect to ${where}: ${e.message}`);
  }

  private async acquireChannel(c: Conn) {
    const max = this.opts.maxChannels ?? 8;
    while (c.channels >= max) await new Promise<void>((r) => c.waiters.push(r));
    c.channels++;
  }

  private releaseChannel(c: Conn) {
    c.channels--;
    c.waiters.shift()?.();
  }

  private async shell(h: HostTarget): Promise<PersistentShell> {
    const c = await this.connection(h);
    if (c.shell && !c.shell.closed) return c.shell;
    if (c.shellOpening) return c.shellOpening;
    c.shellOpening = (async () => {
      await this.acquireChannel(c);
      try {
        const channel = await new Promise<ClientChannel>((resolve, reject) =>
          c.client.exec('exec /bin/sh', (err, ch) => (err ? reject(err) : resolve(ch))),
        );
        channel.on('close', () => this.releaseChannel(c));
        const sh = new PersistentShell(h.name, channel, () => [...this.secretValues]);
        c.shell = sh;
        return sh;
      } catch (e) {
        this.releaseChannel(c);
        throw new HostError(h.name, 'protocol', `cannot open a session: ${(e as Error).message}`, { retryable: true });
      } finally {
        c.shellOpening = undefined;
      }
    })();
    return c.shellOpening;
  }

  async run(h: HostTarget, step: Step, onOutput?: OutputSink): Promise<StepResult> {
    const started = performance.now();
    const command = await this.command(h, step);
    const sh = await this.shell(h);
    const guardMs = step.timeoutS ? step.timeoutS * 1000 + 10_000 : 3_600_000;
    const r = await sh.exec(command, onOutput, guardMs);
    const secrets = [...this.secretValues];
    const result: StepResult = {
      host: h.name,
      step: step.name,
      exitCode: r.exitCode,
      stdout: redact(r.stdout, secrets),
      stderr: redact(r.stderr, secrets),
      durationMs: Math.round(performance.now() - started),
      timedOut: Boolean(step.timeoutS) && (r.exitCode === 124 || r.exitCode === 137),
    };
    return result;
  }

  /** The line written to the shell: env prelude, optional timeout and sudo, the script quoted for `sh -c`. */
  private async command(h: HostTarget, step: Step): Promise<string> {
    const env = Object.entries(step.env ?? {})
      .map(([k, v]) => `export ${k}=${shq(v)}\n`)
      .join('');
    const shell = step.shell === 'bash' ? 'bash' : 'sh';
    let cmd = `${shell} -c ${shq(env + step.script)}`;
    if (step.timeoutS) cmd = `timeout -k 5 ${step.timeoutS} ${cmd}`;
    const needsSudo = step.sudo && h.user !== 'root';
    if (needsSudo && !h.sudo) {
      throw new HostError(h.name, 'sudo', `step ${step.name} needs root and sudo is off for this host`, {
        hint: `log in as root, or set sudo = true for ${h.name} in hosts`,
      });
    }
    if (needsSudo && h.sudoPassword) {
      if (!this.opts.resolveSecret)
        throw new HostError(h.name, 'sudo', 'a sudo password is set but no secret resolver');
      const pw = await this.opts.resolveSecret(h.sudoPassword);
      this.secretValues.add(pw);
      return `printf '%s\\n' ${shq(pw)} | sudo -S -p '' -- ${cmd}`;
    }
    if (needsSudo) return `sudo -n -- ${cmd} </dev/null`;
    return `${cmd} </dev/null`;
  }

  /** The host's sftp session, opened once per connection. */
  private async sftp(h: HostTarget): Promise<SFTPWrapper> {
    const c = await this.connection(h);
    if (!c.sftp) {
      c.sftp = (async () => {
        await this.acquireChannel(c);
        return new Promise<SFTPWrapper>((resolve, reject) =>
          c.client.sftp((err, s) => {
            if (err) {
              this.releaseChannel(c);
              c.sftp = undefined;
              reject(new HostError(h.name, 'protocol', `sftp unavailable: ${err.message}`));
            } else {
              s.on('close', () => {
                this.releaseChannel(c);
                c.sftp = undefined;
              });
              resolve(s);
            }
          }),
        );
      })();
    }
    return c.sftp;
  }

  async upload(h: HostTarget, content: Buffer | string, remotePath: string, mode = 0o644): Promise<void> {
    const sftp = await this.sftp(h);
    const tmp = `${remotePath}.prov-${randomBytes(4).toString('hex')}`;
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(tmp, content, { mode }, (err) => (err ? reject(err) : resolve())),
    ).catch((e: Error) => {
      throw new HostError(h.name, 'command', `upload to ${remotePath} failed: ${e.message}`);
    });
    await new Promise<void>((resolve, reject) =>
      sftp.ext_openssh_rename(tmp, remotePath, (err) => (err ? reject(err) : resolve())),
    ).catch((e: Error) => {
      throw new HostError(h.name, 'command', `upload to ${remotePath} failed: ${e.message}`);
    });
  }

  async uploadFile(h: HostTarget, localPath: string, remotePath: string, mode = 0o600): Promise<void> {
    const sftp = await this.sftp(h);
    const tmp = `${remotePath}.prov-${randomBytes(4).toString('hex')}`;
    await new Promise<void>((resolve, reject) =>
      sftp.fastPut(localPath, tmp, { mode }, (err) => (err ? reject(err) : resolve())),
    )
      .then(
        () =>
          new Promise<void>((resolve, reject) =>
            sftp.ext_openssh_rename(tmp, remotePath, (err) => (err ? reject(err) : resolve())),
          ),
      )
      .catch((e: Error) => {
        throw new HostError(h.name, 'command', `upload to ${remotePath} failed: ${e.message}`);
      });
  }

  /**
   * Copies a remote file to a local path over sftp (binary-safe, streamed). The copy is its owner's only (0600),
   * an existing file included: what comes back is backups and dumps, the data itself.
   */
  async download(h: HostTarget, remotePath: string, localPath: string): Promise<void> {
    const sftp = await this.sftp(h);
    await new Promise<void>((resolve, reject) =>
      sftp.fastGet(remotePath, localPath, { mode: 0o600 }, (err) => (err ? reject(err) : resolve())),
    ).catch((e: Error) => {
      throw new HostError(h.name, 'command', `download of ${remotePath} failed: ${e.message}`);
    });
    chmodSync(localPath, 0o600);
  }

  async secret(ref: string): Promise<string> {
    if (!this.opts.resolveSecret)
      throw new HostError('-', 'protocol', `no secret resolver for ${ref.replace(/#.*/, '')}`);
    const v = await this.opts.resolveSecret(ref);
    this.secretValues.add(v);
    return v;
  }

  redact(values: string[]): void {
    for (const v of values) if (v) this.secretValues.add(v);
  }

  async facts(h: HostTarget): Promise<Facts> {
    const k = this.key(h);
    const cached = this.factsCache.get(k);
    if (cached) return cached;
    const r = await this.run(h, {
      name: 'facts',
      script:
        'ID=unknown; VERSION_ID=; uname -s; uname -m; hostname; id -un; if [ -r /etc/os-release ]; then . /etc/os-release; fi; echo "$ID"; echo "$VERSION_ID"',
    });
    if (r.exitCode !== 0)
      throw new HostError(h.name, 'command', `gathering facts failed: ${r.stderr.trim()}`, { result: r });
    const [os = '', arch = '', hostname = '', user = '', id = '', version = ''] = r.stdout.split('\n');
    const facts = { os: os.toLowerCase(), arch, hostname, user, os_family: id, os_version: version };
    this.factsCache.set(k, facts);
    return facts;
  }

  async close(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map((p) =>
        p.then(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.dead) return resolve();
              c.client.once('close', () => resolve());
              c.client.end();
              setTimeout(resolve, 1000).unref();
            }),
          () => {},
        ),
      ),
    );
  }
}
