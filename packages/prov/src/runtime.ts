import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import type { AwsKeys } from './adapters/aws.js';
import { hostTarget, LocalProvider } from './adapters/local.js';
import type { SshExecutor } from './adapters/ssh/executor.js';
import type { UpcloudCredentials } from './adapters/upcloud.js';
import type { HostConfig, InfraConfig } from './core/desired.js';
import { hostAttrs } from './core/desired.js';
import { type HostTarget, parseHostSpec } from './core/executor.js';
import { engineFor, type NickelSettings, nickelFailure } from './core/nickel.js';
import type { RetryPolicy } from './core/orchestrator.js';
import type { Provider } from './core/provider.js';
import { definitionDirs, findDefinition, parseDefinition, type TaskservDefinition } from './core/taskserv.js';
import { ProvidersFile, readProviders } from './core/workspace.js';

export interface RuntimeSettings {
  cwd: string;
  nickel: NickelSettings;
  importPaths: string[];
  apply: {
    parallelism: number;
    retries: number;
    backoff_initial_ms: number;
    backoff_factor: number;
    backoff_max_ms: number;
  };
  ssh: {
    host_key_checking: 'strict' | 'accept-new' | 'off';
    known_hosts: string;
    key: string;
    connect_timeout_s: number;
  };
  taskservs: { dirs: string[] };
  aws: { poll_ms: number };
  upcloud: { poll_ms: number };
}

export function retryPolicy(s: RuntimeSettings['apply']): RetryPolicy {
  return { retries: s.retries, initialMs: s.backoff_initial_ms, factor: s.backoff_factor, maxMs: s.backoff_max_ms };
}

/** How long a failed credentials read is given again to every caller before svault is asked again. */
const CREDENTIALS_RETRY_MS = 30_000;

/**
 * Credentials kept in svault are read when first needed (before a run changes anything, or at the first API
 * call), not when the provider is made: a plan from recorded state does not ask svault. A failed read is kept
 * for a while, so that a refresh of many resources fails at once instead of asking svault again for each; a
 * long-running server asks again after that (svault may be unsealed or reachable by then).
 */
function whenNeeded<T>(read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= read().catch((e) => {
      setTimeout(() => {
        value = undefined;
      }, CREDENTIALS_RETRY_MS).unref();
      throw e;
    });
    return value;
  };
}

/**
 * UpCloud credentials: an API token or an API-enabled account, from the environment (the names UpCloud's own
 * tools read) or from an svault path holding `token`, or `username` and `password`.
 */
async function upcloudCredentials(from: string): Promise<UpcloudCredentials> {
  if (from.startsWith('svault://')) {
    const { resolveSecret } = await import('@stratumiops/svault/client/secret-ref');
    const base = from.replace(/#.*$/, '');
    const token = await resolveSecret(`${base}#token`).catch(() => undefined);
    if (token) return { token };
    return { username: await resolveSecret(`${base}#username`), password: await resolveSecret(`${base}#password`) };
  }
  const env = process.env;
  if (env.UPCLOUD_TOKEN) return { token: env.UPCLOUD_TOKEN };
  if (env.UPCLOUD_USERNAME && env.UPCLOUD_PASSWORD)
    return { username: env.UPCLOUD_USERNAME, password: env.UPCLOUD_PASSWORD };
  throw new StratumError('denied', 'no UpCloud credentials', {
    hint: 'set UPCLOUD_TOKEN, or UPCLOUD_USERNAME and UPCLOUD_PASSWORD (an API-enabled account), or prov provider add upcloud --from-vault svault://secret/data/upcloud',
  });
}

/** Providers, the SSH executor and taskserv definitions, built lazily: a plan that needs no SSH opens none. */
export class Runtime {
  private exec?: Promise<SshExecutor>;
  private readonly providers = new Map<string, Promise<Provider>>();
  private readonly defs = new Map<string, Promise<TaskservDefinition>>();

  constructor(
    readonly s: RuntimeSettings,
    readonly infra?: InfraConfig,
  ) {}

  executor(): Promise<SshExecutor> {
    this.exec ??= (async () => {
      const [{ SshExecutor }, { KnownHosts }, { resolveSecret }] = await Promise.all([
        import('./adapters/ssh/executor.js'),
        import('./adapters/ssh/known-hosts.js'),
        import('@stratumiops/svault/client/secret-ref'),
      ]);
      const home = process.env.HOME ? [`${process.env.HOME}/.ssh/known_hosts`] : [];
      const knownHosts = new KnownHosts(
        resolve(this.s.cwd, this.s.ssh.known_hosts),
        this.s.ssh.host_key_checking,
        home,
      );
      const keyFile = this.s.ssh.key || readProviders(this.s.cwd).local?.key;
      return new SshExecutor({
        knownHosts,
        connectTimeoutMs: this.s.ssh.connect_timeout_s * 1000,
        ...(keyFile ? { defaultKey: readFileSync(resolve(this.s.cwd, keyFile)) } : {}),
        resolveSecret: (ref) => resolveSecret(ref),
      });
    })();
    return this.exec;
  }

  definition(name: string): Promise<TaskservDefinition> {
    let d = this.defs.get(name);
    if (!d) {
      d = (async () => {
        const file = findDefinition(name, definitionDirs(this.s.taskservs.dirs.map((x) => resolve(this.s.cwd, x))));
        const engine = await engineFor(this.s.nickel);
        let text: string;
        try {
          text = await engine.exportFile(file, { format: 'json', importPaths: this.s.importPaths });
        } catch (e) {
          throw nickelFailure(e);
        }
        return parseDefinition(JSON.parse(text), file);
      })();
      this.defs.set(name, d);
    }
    return d;
  }

  provider = (name: string): Promise<Provider> => {
    let p = this.providers.get(name);
    if (!p) {
      p = this.makeProvider(name);
      this.providers.set(name, p);
    }
    return p;
  };

  private async makeProvider(name: string): Promise<Provider> {
    if (name === 'local') {
      let exec: import('./core/executor.js').Executor = await this.executor();
      if (this.infra?.servers?.some((s) => s.provider === 'lxd')) {
        // Taskservs on the config's LXD containers run through LXD exec.
        const { LxdExecutor, routeLxd } = await import('./adapters/lxd.js');
        exec = routeLxd(exec, new LxdExecutor((await this.lxdSettings()).socket));
      }
      return new LocalProvider(exec, (n) => this.definition(n));
    }
    if (name === 'aws') {
      const settings = readProviders(this.s.cwd).aws ?? { credentials: 'env', ssh_keys: [] };
      const region = settings.region ?? this.infra?.region ?? process.env.AWS_REGION ?? 'us-east-1';
      const endpoint = process.env.PROV_AWS_ENDPOINT ?? settings.endpoint;
      const { AwsProvider } = await import('./adapters/aws.js');
      const ref = settings.credentials.replace(/#.*$/, '');
      let credentials: (() => Promise<AwsKeys>) | undefined;
      if (ref.startsWith('svault://')) {
        // (A malformed reference was refused when providers.json was read.)
        const { resolveSecret } = await import('@stratumiops/svault/client/secret-ref');
        credentials = whenNeeded(async () => ({
          accessKeyId: await resolveSecret(`${ref}#access_key`),
          secretAccessKey: await resolveSecret(`${ref}#secret_key`),
        }));
      }
      return new AwsProvider({
        region,
        ...(endpoint ? { endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        pollMs: this.s.aws.poll_ms,
      });
    }
    if (name === 'upcloud') {
      const settings = readProviders(this.s.cwd).upcloud ?? { credentials: 'env', ssh_keys: [] };
      const endpoint = process.env.PROV_UPCLOUD_ENDPOINT ?? settings.endpoint;
      const zone = settings.zone ?? this.infra?.region;
      const { UpcloudProvider } = await import('./adapters/upcloud.js');
      return new UpcloudProvider({
        credentials: whenNeeded(() => upcloudCredentials(settings.credentials)),
        ...(endpoint ? { endpoint } : {}),
        ...(zone ? { zone } : {}),
        sshKeys: settings.ssh_keys.map((f) => readFileSync(resolve(this.s.cwd, f), 'utf8').trim()),
        pollMs: this.s.upcloud.poll_ms,
      });
    }
    if (name === 'lxd') {
      const { LxdProvider } = await import('./adapters/lxd.js');
      return new LxdProvider(await this.lxdSettings());
    }
    throw new StratumError('usage', `provider ${name} is not available yet`, {
      hint: 'implemented: local, aws, upcloud, lxd',
    });
  }

  private async lxdSettings() {
    return readProviders(this.s.cwd).lxd ?? ProvidersFile.shape.lxd.unwrap().parse({});
  }

  /** Every known host: the config's hosts, registered hosts files, hosts added on the command line. */
  async hosts(): Promise<Record<string, HostConfig>> {
    const out: Record<string, HostConfig> = {};
    const local = readProviders(this.s.cwd).local;
    for (const [name, spec] of Object.entries(local?.hosts ?? {})) {
      const h = parseHostSpec(spec, { user: 'root', port: 22 });
      out[name] = { address: h.address, port: h.port, user: h.user };
    }
    if (local?.hosts_files.length) {
      const engine = await engineFor(this.s.nickel);
      for (const f of local.hosts_files) {
        try {
          const text = await engine.exportFile(resolve(this.s.cwd, f), {
            format: 'json',
            importPaths: this.s.importPaths,
          });
          Object.assign(out, JSON.parse(text) as Record<string, HostConfig>);
        } catch (e) {
          throw nickelFailure(e);
        }
      }
    }
    Object.assign(out, this.infra?.hosts ?? {});
    return out;
  }

  /** Host names (or user@host:port) → SSH targets. */
  async targets(names: string[]): Promise<HostTarget[]> {
    const known = await this.hosts();
    return names.map((n) => {
      const h = known[n];
      if (h) return hostTarget(n, hostAttrs(h));
      if (/[@:.]/.test(n)) {
        const spec = parseHostSpec(n, { user: process.env.USER ?? 'root', port: 22 });
        return { name: n, address: spec.address, port: spec.port, user: spec.user, sudo: false, labels: {} };
      }
      throw usageError(`unknown host ${n}`, {
        hint: `known: ${Object.keys(known).sort().join(', ') || 'none'}; or pass user@address:port`,
      });
    });
  }

  async close() {
    for (const p of this.providers.values()) await (await p.catch(() => undefined))?.close();
    if (this.exec) await (await this.exec).close();
  }
}
