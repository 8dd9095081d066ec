import { request } from 'node:http';
import type { Executor, Facts, HostTarget, OutputSink, Step, StepResult } from '../core/executor.js';
import type { Provider, ProviderCheck, ProviderContext } from '../core/provider.js';
import { ProviderError } from '../core/provider.js';
import type { Attrs, DesiredResource, ResourceRecord } from '../core/types.js';

/** Where Debian's lxd (5.0) listens; the snap's is /var/snap/lxd/common/lxd/unix.socket. */
export const DEFAULT_LXD_SOCKET = '/var/lib/lxd/unix.socket';

export interface LxdSettings {
  socket: string;
  /** Image alias servers are created from (lxc image list). */
  image: string;
  /** For images without an init system: the command the container runs as PID 1 (raw.lxc lxc.init.cmd). */
  init_cmd?: string;
  /** Storage pool and profiles of new containers. */
  profiles: string[];
}

interface LxdResponse {
  type: 'sync' | 'async' | 'error';
  status_code?: number;
  error_code?: number;
  error?: string;
  operation?: string;
  metadata?: unknown;
}

/** LXD's REST API on its unix socket: one JSON request, async operations waited for. */
export class LxdClient {
  constructor(readonly socket: string) {}

  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: LxdResponse }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socket,
          method,
          path,
          headers: { Host: 'lxd', ...(data ? { 'Content-Type': 'application/json' } : {}) },
          timeout: 120_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
          });
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as LxdResponse });
            } catch {
              reject(new ProviderError(`LXD answered ${method} ${path} with ${res.statusCode} and no JSON`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e: NodeJS.ErrnoException) =>
        reject(
          new ProviderError(`cannot reach LXD at ${this.socket}: ${e.code ?? e.message}`, {
            code: e.code === 'EACCES' ? 'denied' : 'unavailable',
            retryable: e.code !== 'EACCES' && e.code !== 'ENOENT',
            hint:
              e.code === 'EACCES'
                ? 'add your user to the lxd group (or run as root)'
                : 'is lxd running? (lxd init; the socket is set with prov provider add lxd --socket)',
          }),
        ),
      );
      if (data) req.write(data);
      req.end();
    });
  }

  /** Writes a file into an instance (LXD's files API), owned by root with `mode`. */
  push(instance: string, path: string, content: Buffer | string, mode: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const body = typeof content === 'string' ? Buffer.from(content) : content;
      const req = request(
        {
          socketPath: this.socket,
          method: 'POST',
          path: `/1.0/instances/${encodeURIComponent(instance)}/files?path=${encodeURIComponent(path)}`,
          headers: {
            Host: 'lxd',
            'Content-Type': 'application/octet-stream',
            'Content-Length': body.length,
            'X-LXD-type': 'file',
            'X-LXD-uid': '0',
            'X-LXD-gid': '0',
            'X-LXD-mode': `0${(mode & 0o7777).toString(8)}`,
            'X-LXD-write': 'overwrite',
          },
        },
        (res) => {
          let t = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            t += c;
          });
          res.on('end', () =>
            (res.statusCode ?? 500) < 300
              ? resolve()
              : reject(new ProviderError(`LXD file push to ${instance}:${path} failed: ${t.slice(0, 200)}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A plain-text resource (an exec's recorded output). */
  text(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socket, path, headers: { Host: 'lxd' } }, (res) => {
        let t = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          t += c;
        });
        res.on('end', () => resolve(t));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A call that must succeed; an async one is waited for until its operation ends. */
  async must(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await this.call(method, path, body);
    if (r.body.type === 'error' || r.status >= 400)
      throw new ProviderError(`LXD ${method} ${path}: ${r.body.error || `status ${r.status}`}`, {
        retryable: r.status >= 500,
      });
    if (r.body.type !== 'async' || !r.body.operation) return r.body.metadata;
    const op = await this.call('GET', `${r.body.operation}/wait?timeout=120`);
    const meta = op.body.metadata as { status?: string; err?: string } | undefined;
    if (op.body.type === 'error' || meta?.status !== 'Success')
      throw new ProviderError(
        `LXD ${method} ${path}: ${meta?.err || op.body.error || meta?.status || 'operation failed'}`,
      );
    return meta;
  }
}

/** `c2-m4` (the prov-gen LXD plans): 2 CPUs, 4 GiB. */
function limits(res: DesiredResource | ResourceRecord): Record<string, string> {
  const a = res.attrs as { plan?: string; spec?: { cpu?: number; memory_gb?: number } };
  const m = /^c(\d+)-m(\d+)$/.exec(a.plan ?? '');
  const cpu = m ? Number(m[1]) : a.spec?.cpu;
  const mem = m ? Number(m[2]) : a.spec?.memory_gb;
  return {
    ...(cpu ? { 'limits.cpu': String(cpu) } : {}),
    ...(mem ? { 'limits.memory': `${Math.round(mem * 1024)}MiB` } : {}),
  };
}

/** Servers as LXD containers: created from an image, started, stopped and deleted over LXD's REST API. */
export class LxdProvider implements Provider {
  readonly name = 'lxd';
  readonly kinds = ['server'] as const;
  private readonly client: LxdClient;

  constructor(private readonly s: LxdSettings) {
    this.client = new LxdClient(s.socket);
  }

  replaceOn(): string[] {
    return ['spec.os', 'spec.disk_gb'];
  }

  private path(name: string) {
    return `/1.0/instances/${encodeURIComponent(name)}`;
  }

  async read(rec: ResourceRecord): Promise<Attrs | null> {
    const r = await this.client.call('GET', this.path(rec.name));
    if (r.status === 404) return null;
    if (r.body.type === 'error') throw new ProviderError(`LXD GET ${rec.name}: ${r.body.error}`, { retryable: true });
    const meta = r.body.metadata as { status?: string; config?: Record<string, string> };
    // Only what prov manages: a stopped container is drift (started again by apply).
    return { ...rec.attrs, running: meta.status === 'Running' };
  }

  async create(res: DesiredResource, _ctx: ProviderContext): Promise<Attrs> {
    const existing = await this.client.call('GET', this.path(res.name));
    if (existing.status === 200) {
      const cfg = (existing.body.metadata as { config?: Record<string, string> }).config ?? {};
      // Adopt only our own (a resumed create); anything else with that name is a conflict.
      if (cfg['user.prov.address'] !== res.address)
        throw new ProviderError(`an LXD instance ${res.name} exists and was not made by prov for ${res.address}`, {
          code: 'conflict',
          hint: 'rename the server or remove that instance (lxc delete)',
        });
    } else {
      await this.client.must('POST', '/1.0/instances', {
        name: res.name,
        type: 'container',
        profiles: this.s.profiles,
        source: { type: 'image', alias: this.s.image },
        config: {
          'user.prov.address': res.address,
          ...limits(res),
          ...(this.s.init_cmd ? { 'raw.lxc': `lxc.init.cmd = ${this.s.init_cmd}` } : {}),
        },
      });
    }
    await this.start(res.name);
    return { instance: res.name, socket: this.s.socket };
  }

  private async start(name: string) {
    const r = await this.client.call('GET', `${this.path(name)}/state`);
    if ((r.body.metadata as { status?: string } | undefined)?.status === 'Running') return;
    await this.client.must('PUT', `${this.path(name)}/state`, { action: 'start', timeout: 30 });
  }

  async update(res: DesiredResource, prev: ResourceRecord, _ctx: ProviderContext): Promise<Attrs> {
    await this.client.must('PATCH', this.path(res.name), { config: limits(res) });
    await this.start(res.name);
    return prev.outputs;
  }

  async delete(rec: ResourceRecord): Promise<void> {
    const r = await this.client.call('GET', `${this.path(rec.name)}/state`);
    if (r.status === 404) return;
    if ((r.body.metadata as { status?: string } | undefined)?.status === 'Running')
      await this.client.must('PUT', `${this.path(rec.name)}/state`, { action: 'stop', force: true, timeout: 30 });
    await this.client.must('DELETE', this.path(rec.name));
  }

  /** Runs a command in a container (LXD exec): the exit code and output. */
  exec(name: string, command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return execIn(this.client, name, command, {});
  }

  async test(): Promise<ProviderCheck[]> {
    try {
      const meta = (await this.client.must('GET', '/1.0')) as {
        api_status?: string;
        environment?: { server_version?: string; driver?: string };
      };
      const alias = await this.client.call('GET', `/1.0/images/aliases/${encodeURIComponent(this.s.image)}`);
      return [
        {
          target: this.s.socket,
          ok: true,
          detail: `LXD ${meta.environment?.server_version ?? '?'} (${meta.environment?.driver ?? '?'}), API ${meta.api_status ?? '?'}`,
        },
        {
          target: `image ${this.s.image}`,
          ok: alias.status === 200,
          detail:
            alias.status === 200 ? 'found' : 'no such image alias: lxc image list; prov provider add lxd --image ALIAS',
        },
      ];
    } catch (e) {
      return [{ target: this.s.socket, ok: false, detail: (e as Error).message }];
    }
  }

  async close(): Promise<void> {}
}

async function execIn(
  client: LxdClient,
  instance: string,
  command: string[],
  environment: Record<string, string>,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let meta: { metadata?: { return?: number; output?: Record<string, string> } };
  try {
    meta = (await client.must('POST', `/1.0/instances/${encodeURIComponent(instance)}/exec`, {
      command,
      environment,
      'record-output': true,
      'wait-for-websocket': false,
      interactive: false,
    })) as typeof meta;
  } catch (e) {
    // LXD turns an exit code of 127 (126) into a failed operation: give it back as that exit code.
    const m = /: (Command not found|Permission denied)$/.exec((e as Error).message);
    if (!m) throw e;
    const code = m[1] === 'Command not found' ? 127 : 126;
    return {
      exitCode: code,
      stdout: '',
      stderr: `exit ${code}: ${m[1]?.toLowerCase()} (LXD keeps no output of such a run)\n`,
    };
  }
  const out = meta.metadata?.output ?? {};
  const log = (p?: string) => (p ? client.text(p) : Promise.resolve(''));
  return { exitCode: meta.metadata?.return ?? -1, stdout: await log(out['1']), stderr: await log(out['2']) };
}

/** A taskserv's host that is an LXD container of this config: its steps go through LXD exec, not SSH. */
export const isLxdTarget = (h: HostTarget) => h.labels.transport === 'lxd';

/**
 * Steps in LXD containers: each one `sh -c` through LXD exec (as root, so sudo is moot), files through
 * LXD's files API. Output is recorded by LXD and handed on line by line when the step ends.
 */
export class LxdExecutor implements Executor {
  private readonly client: LxdClient;
  private readonly factsCache = new Map<string, Facts>();

  constructor(socket: string) {
    this.client = new LxdClient(socket);
  }

  async run(h: HostTarget, step: Step, onOutput?: OutputSink): Promise<StepResult> {
    const t0 = performance.now();
    let argv = [step.shell === 'bash' ? 'bash' : 'sh', '-c', step.script];
    if (step.timeoutS) argv = ['timeout', '-k', '5', String(step.timeoutS), ...argv];
    // LXD gives an exec only the environment it is handed: the usual PATH and HOME first.
    const env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      ...(step.env ?? {}),
    };
    const r = await execIn(this.client, h.name, argv, env);
    if (onOutput) {
      for (const [stream, text] of [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
      ] as const)
        for (const line of text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1))
          onOutput(h.name, stream, line);
    }
    return {
      host: h.name,
      step: step.name,
      exitCode: r.exitCode,
      stdout: r.stdout,
      stderr: r.stderr,
      durationMs: Math.round(performance.now() - t0),
      timedOut: Boolean(step.timeoutS) && (r.exitCode === 124 || r.exitCode === 137),
    };
  }

  upload(h: HostTarget, content: Buffer | string, remotePath: string, mode = 0o644): Promise<void> {
    return this.client.push(h.name, remotePath, content, mode);
  }

  async facts(h: HostTarget): Promise<Facts> {
    const cached = this.factsCache.get(h.name);
    if (cached) return cached;
    const r = await this.run(h, {
      name: 'facts',
      script:
        'ID=unknown; VERSION_ID=; uname -s; uname -m; uname -n; echo root; if [ -r /etc/os-release ]; then . /etc/os-release; fi; echo "$ID"; echo "$VERSION_ID"',
    });
    if (r.exitCode !== 0) throw new ProviderError(`${h.name}: gathering facts failed: ${r.stderr.trim()}`);
    const [os = '', arch = '', hostname = '', user = '', id = '', version = ''] = r.stdout.split('\n');
    const facts = { os: os.toLowerCase(), arch, hostname, user, os_family: id, os_version: version };
    this.factsCache.set(h.name, facts);
    return facts;
  }

  async close(): Promise<void> {}
}

/** One executor for a config with both kinds of hosts: LXD containers through LXD, the rest through `ssh`. */
export function routeLxd(ssh: Executor, lxd: LxdExecutor): Executor {
  const pick = (h: HostTarget) => (isLxdTarget(h) ? lxd : ssh);
  return {
    run: (h, step, onOutput) => pick(h).run(h, step, onOutput),
    upload: (h, content, path, mode) => pick(h).upload(h, content, path, mode),
    facts: (h) => pick(h).facts(h),
    ...(ssh.download ? { download: (h: HostTarget, r: string, l: string) => ssh.download!(h, r, l) } : {}),
    ...(ssh.uploadFile
      ? { uploadFile: (h: HostTarget, l: string, r: string, m?: number) => ssh.uploadFile!(h, l, r, m) }
      : {}),
    ...(ssh.secret ? { secret: (ref: string) => ssh.secret!(ref) } : {}),
    ...(ssh.redact ? { redact: (v: string[]) => ssh.redact!(v) } : {}),
    close: () => ssh.close(),
  };
}
