import { setTimeout as delay } from 'node:timers/promises';
import { type Provider, type ProviderCheck, type ProviderContext, ProviderError } from '../core/provider.js';
import type { Attrs, DesiredResource, ResourceRecord } from '../core/types.js';

export const UPCLOUD_API = 'https://api.upcloud.com/1.3';

export type UpcloudCredentials = { token: string } | { username: string; password: string };

export interface UpcloudSettings {
  /** API base including the version, e.g. https://api.upcloud.com/1.3 (or a local compatible server). */
  endpoint?: string;
  /** The credentials, or how to read them: called before a run changes anything and on the first API call. */
  credentials: UpcloudCredentials | (() => Promise<UpcloudCredentials>);
  /** Zone for servers that name none, e.g. fi-hel1. */
  zone?: string;
  /** Public SSH keys given to the servers' login user (cloud-init templates need one). */
  sshKeys?: string[];
  /** How often to poll a server until it reaches a state (ms). */
  pollMs?: number;
}

/** Server details as the API returns them (1.3): numbers as strings, lists wrapped in singular keys. */
interface UcServer {
  uuid: string;
  title: string;
  hostname?: string;
  zone: string;
  plan: string;
  core_number: string;
  memory_amount: string;
  state: string;
  labels?: { label: { key: string; value: string }[] };
  ip_addresses?: { ip_address: { access: string; address: string; family: string }[] };
  storage_devices?: { storage_device: { storage: string; storage_size: number; boot_disk?: string }[] };
}

interface UcStorage {
  uuid: string;
  title: string;
  type: string;
}

/** The label prov finds its servers by (labels are key/value pairs; keys allow letters, digits, - and _). */
const ADDRESS_LABEL = 'prov_address';

/** Public templates by OS family: their titles as UpCloud lists them ("Ubuntu Server 24.04 LTS (Noble Numbat)"). */
const TEMPLATES: Record<string, (version: string) => RegExp> = {
  ubuntu: (v) => new RegExp(`^Ubuntu Server ${v.replaceAll('.', '\\.')}\\b`),
  debian: (v) => new RegExp(`^Debian GNU/Linux ${v.split('.')[0]}\\b`),
  rocky: (v) => new RegExp(`^Rocky Linux ${v.split('.')[0]}\\b`),
};

/** Failures worth another attempt: throttling, a server busy in maintenance, the API having trouble. */
const RETRYABLE_STATUS = new Set([409, 429, 500, 502, 503, 504]);

const labelsOf = (s: UcServer): Record<string, string> =>
  Object.fromEntries((s.labels?.label ?? []).map((l) => [l.key, l.value]));

const labelList = (labels: Record<string, string>) => ({
  label: Object.entries(labels).map(([key, value]) => ({ key, value })),
});

function userTags(s: UcServer): Record<string, string> {
  return Object.fromEntries(Object.entries(labelsOf(s)).filter(([k]) => !k.startsWith('prov_')));
}

const bootDisk = (s: UcServer) =>
  s.storage_devices?.storage_device.find((d) => d.boot_disk === '1') ?? s.storage_devices?.storage_device[0];

function address(s: UcServer, access: string): string | null {
  return s.ip_addresses?.ip_address.find((a) => a.access === access && a.family === 'IPv4')?.address ?? null;
}

/**
 * UpCloud through its REST API (JSON over fetch): servers with their boot storage. A server is found again by its
 * `prov_address` label, so a create interrupted after the API accepted it adopts the server instead of making a
 * second one. Plan, cores, memory and disk size change in place (stop, modify, start); OS, zone and networking
 * force a replacement. Deleting stops the server first (the API refuses otherwise) and removes its storage.
 */
export class UpcloudProvider implements Provider {
  readonly name = 'upcloud';
  readonly kinds = ['server'] as const;
  private readonly base: string;

  constructor(private readonly s: UpcloudSettings) {
    this.base = (s.endpoint ?? UPCLOUD_API).replace(/\/+$/, '');
  }

  async prepare(): Promise<void> {
    await this.auth();
  }

  private async auth(): Promise<string> {
    const c = typeof this.s.credentials === 'function' ? await this.s.credentials() : this.s.credentials;
    return 'token' in c
      ? `Bearer ${c.token}`
      : `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  replaceOn(_kind: string): string[] {
    return ['spec.os', 'zone', 'networking', 'encrypted'];
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const what = `${method} ${path.replace(/\?.*/, '')}`;
    const authorization = await this.auth();
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      throw new ProviderError(`upcloud ${what}: cannot reach ${this.base} (${cause})`, {
        retryable: true,
        code: 'unavailable',
      });
    }
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : {}) as T;
    let code = `HTTP_${res.status}`;
    let message = res.statusText;
    try {
      const err = (JSON.parse(text) as { error?: { error_code?: string; error_message?: string } }).error;
      code = err?.error_code ?? code;
      message = err?.error_message ?? message;
    } catch {
      // Not JSON (a proxy's error page): keep the HTTP status.
    }
    throw new ProviderError(`upcloud ${what}: ${code}: ${message}`, {
      retryable: RETRYABLE_STATUS.has(res.status),
      code: res.status === 401 || res.status === 403 ? 'denied' : 'failure',
      details: { upcloud_error: code, http_status: res.status },
      ...(res.status === 401
        ? { hint: 'check UPCLOUD_USERNAME/UPCLOUD_PASSWORD (an API-enabled account) or UPCLOUD_TOKEN' }
        : {}),
    });
  }

  private isNotFound(e: unknown) {
    return e instanceof ProviderError && e.details?.http_status === 404;
  }

  private async server(uuid: string): Promise<UcServer | null> {
    try {
      return (await this.call<{ server: UcServer }>('GET', `/server/${encodeURIComponent(uuid)}`)).server;
    } catch (e) {
      if (this.isNotFound(e)) return null;
      throw e;
    }
  }

  private async byAddress(addr: string): Promise<UcServer | null> {
    const q = new URLSearchParams({ label: `${ADDRESS_LABEL}=${addr}` });
    const r = await this.call<{ servers: { server: UcServer[] } }>('GET', `/server/?${q}`);
    const found = r.servers.server.find((x) => labelsOf(x)[ADDRESS_LABEL] === addr);
    return found ? this.server(found.uuid) : null;
  }

  /** Polls until the server is in one of `states` (null: until it is gone). */
  private async waitFor(uuid: string, states: string[] | null, what: string): Promise<UcServer | null> {
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const s = await this.server(uuid);
      if (states === null ? s === null : s !== null && states.includes(s.state)) return s;
      if (s === null) throw new ProviderError(`upcloud server ${uuid} disappeared while waiting for it to be ${what}`);
      if (s?.state === 'error') throw new ProviderError(`upcloud server ${uuid} went into the error state`);
      if (Date.now() > deadline)
        throw new ProviderError(`upcloud server ${uuid} did not become ${what} within 10 min`, { retryable: true });
      await delay(this.s.pollMs ?? 2000);
    }
  }

  private async template(spec: Attrs): Promise<UcStorage> {
    const os = (spec.os ?? {}) as Attrs;
    const family = String(os.family ?? 'ubuntu');
    const version = String(os.version ?? '');
    const pattern = TEMPLATES[family]?.(version);
    if (!pattern)
      throw new ProviderError(`UpCloud has no public ${family} template`, { hint: 'use ubuntu, debian or rocky' });
    const r = await this.call<{ storages: { storage: UcStorage[] } }>('GET', '/storage/template');
    const t = r.storages.storage.find((x) => pattern.test(x.title));
    if (!t) throw new ProviderError(`no UpCloud template for ${family} ${version} (looked for ${pattern.source})`);
    return t;
  }

  private zone(res: DesiredResource): string {
    const z = res.attrs.zone ?? this.s.zone;
    if (!z)
      throw new ProviderError(`${res.address}: no UpCloud zone`, {
        hint: 'set region (e.g. fi-hel1) in the config, zone on the server, or prov provider add upcloud --zone',
      });
    return String(z);
  }

  /** Plan name, or a custom plan from cores and memory (MB) when the config names none. */
  private sizing(a: Attrs): Attrs {
    if (a.plan) return { plan: String(a.plan) };
    const spec = (a.spec ?? {}) as Attrs;
    return {
      plan: 'custom',
      core_number: String(spec.cpu ?? 2),
      memory_amount: String(Math.round(Number(spec.memory_gb ?? 4) * 1024)),
    };
  }

  private outputs(s: UcServer): Attrs {
    return {
      id: s.uuid,
      zone: s.zone,
      plan: s.plan,
      storage: bootDisk(s)?.storage ?? null,
      public_ip: address(s, 'public'),
      private_ip: address(s, 'utility') ?? address(s, 'private'),
    };
  }

  async read(rec: ResourceRecord): Promise<Attrs | null> {
    const s = await this.server(String(rec.outputs.id ?? ''));
    if (!s) return null;
    const disk = bootDisk(s);
    // Report what the config pins: a plan name, or cores and memory of a custom plan.
    const spec: Attrs = rec.attrs.plan ? {} : { cpu: Number(s.core_number), memory_gb: Number(s.memory_amount) / 1024 };
    if (disk) spec.disk_gb = Number(disk.storage_size);
    return { ...(rec.attrs.plan ? { plan: s.plan } : {}), spec, tags: userTags(s) };
  }

  async create(res: DesiredResource, ctx: ProviderContext): Promise<Attrs> {
    if (res.kind !== 'server') throw new ProviderError(`the upcloud provider has no resource kind ${res.kind}`);
    const a = res.attrs;
    let s = await this.byAddress(res.address);
    if (!s) {
      const spec = (a.spec ?? {}) as Attrs;
      const zone = this.zone(res);
      const template = await this.template(spec);
      const net = (a.networking ?? {}) as Attrs;
      const interfaces = [
        { type: 'utility', ip_addresses: { ip_address: [{ family: 'IPv4' }] } },
        ...(net.public_ip ? [{ type: 'public', ip_addresses: { ip_address: [{ family: 'IPv4' }] } }] : []),
      ];
      const body = {
        server: {
          zone,
          title: res.name,
          hostname: res.name,
          ...this.sizing(a),
          metadata: 'yes',
          storage_devices: {
            storage_device: [
              {
                action: 'clone',
                storage: template.uuid,
                title: `${res.name}-disk1`,
                size: Number(spec.disk_gb ?? 50),
                tier: 'maxiops',
                // security.encryption_at_rest: UpCloud's encrypted storage (a Boolean "yes"/"no" in its API).
                ...(a.encrypted === true ? { encrypted: 'yes' } : {}),
              },
            ],
          },
          networking: { interfaces: { interface: interfaces } },
          ...(this.s.sshKeys?.length
            ? { login_user: { username: 'root', create_password: 'no', ssh_keys: { ssh_key: this.s.sshKeys } } }
            : { password_delivery: 'none' }),
          labels: labelList({ ...((a.tags ?? {}) as Record<string, string>), [ADDRESS_LABEL]: res.address }),
        },
      };
      s = (await this.call<{ server: UcServer }>('POST', '/server', body)).server;
    } else if (s.state === 'stopped') {
      // Adopting a server found by its label (a retried create): it must run like a new one.
      await this.call('POST', `/server/${s.uuid}/start`, { server: {} });
    }
    try {
      const started = await this.waitFor(s.uuid, ['started'], 'started');
      return this.outputs(started!);
    } catch (e) {
      // A server that never came up is not worth keeping unless the user asked to inspect failures.
      if (ctx.cleanupOnFailure) await this.remove(s.uuid).catch(() => {});
      throw e;
    }
  }

  async update(res: DesiredResource, prev: ResourceRecord, _ctx: ProviderContext): Promise<Attrs> {
    const uuid = String(prev.outputs.id);
    const current = await this.server(uuid);
    if (!current)
      throw new ProviderError(`upcloud server ${uuid} (${res.address}) is gone`, { hint: 'run prov plan again' });
    const labels = { ...((res.attrs.tags ?? {}) as Record<string, string>), [ADDRESS_LABEL]: res.address };
    const want = this.sizing(res.attrs);
    const sizeChanged =
      want.plan !== current.plan ||
      (want.plan === 'custom' &&
        (want.core_number !== current.core_number || want.memory_amount !== current.memory_amount));
    const disk = bootDisk(current);
    const wantDisk = Number(((res.attrs.spec ?? {}) as Attrs).disk_gb ?? 50);
    if (disk && wantDisk < Number(disk.storage_size)) {
      throw new ProviderError(`${res.address}: UpCloud cannot shrink a disk (${disk.storage_size} → ${wantDisk} GB)`, {
        hint: 'keep the size, or replace the server (change spec.os or remove and re-add it)',
      });
    }
    const diskChanged = disk !== undefined && wantDisk > Number(disk.storage_size);
    if (!sizeChanged && !diskChanged) {
      await this.call('PUT', `/server/${uuid}`, { server: { labels: labelList(labels) } });
      return this.outputs((await this.waitFor(uuid, ['started', 'stopped'], 'ready'))!);
    }
    // Plan and storage size only change on a stopped server.
    const wasRunning = current.state !== 'stopped';
    if (wasRunning) await this.stop(uuid);
    await this.call('PUT', `/server/${uuid}`, { server: { ...want, labels: labelList(labels) } });
    if (diskChanged) await this.call('PUT', `/storage/${disk.storage}`, { storage: { size: wantDisk } });
    await this.waitFor(uuid, ['stopped'], 'stopped');
    if (wasRunning) await this.call('POST', `/server/${uuid}/start`, { server: {} });
    return this.outputs((await this.waitFor(uuid, [wasRunning ? 'started' : 'stopped'], 'started'))!);
  }

  private async stop(uuid: string) {
    // A server in maintenance (starting, cloning) cannot be stopped yet.
    const s = await this.waitFor(uuid, ['started', 'stopped'], 'ready to stop');
    if (s?.state === 'started')
      await this.call('POST', `/server/${uuid}/stop`, { stop_server: { stop_type: 'hard', timeout: '60' } });
    await this.waitFor(uuid, ['stopped'], 'stopped');
  }

  /** Stops, then deletes the server with its storage; a server already gone is fine. */
  private async remove(uuid: string) {
    if ((await this.server(uuid)) === null) return;
    await this.stop(uuid);
    await this.call('DELETE', `/server/${uuid}/?storages=1`).catch((e) => {
      if (!this.isNotFound(e)) throw e;
    });
    await this.waitFor(uuid, null, 'deleted');
  }

  async delete(rec: ResourceRecord, _ctx: ProviderContext): Promise<void> {
    await this.remove(String(rec.outputs.id ?? ''));
  }

  async test(): Promise<ProviderCheck[]> {
    const target = `upcloud ${this.base}`;
    await this.auth(); // no credentials: that error itself, with its hint, rather than a failed check
    try {
      const r = await this.call<{ account: { username: string; credits: number } }>('GET', '/account');
      return [{ target, ok: true, detail: `account ${r.account.username}, credits ${r.account.credits}` }];
    } catch (e) {
      return [{ target, ok: false, detail: (e as Error).message }];
    }
  }

  async close() {}
}
