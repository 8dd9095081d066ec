import { StratumError } from '@stratumiops/shared/errors';
import { type ClientTls, httpCall, type RawResponse } from './transport.js';

export type { ClientTls } from './transport.js';

/**
 * A typed client for svault's (and Vault's) HTTP API. Other tools read secrets through it;
 * the CLI uses it for every command that talks to a server. Errors are StratumErrors with
 * the exit code of ARCHITECTURE.md: 5 sealed or denied, 4 not found, 6 CAS conflict,
 * 3 invalid input, 7 server unavailable.
 */
export interface ClientOptions {
  /** http(s)://host:port */
  addr: string;
  token?: string;
  timeoutMs?: number;
  tls?: ClientTls;
  /**
   * Talk to a local daemon over this unix socket instead of `addr` (a function is called before
   * the first request: it may start the daemon).
   */
  socket?: string | (() => Promise<string>);
}

export interface VaultResponse<D = Record<string, unknown>> {
  request_id?: string;
  lease_id?: string;
  renewable?: boolean;
  lease_duration?: number;
  data: D | null;
  warnings?: string[] | null;
  auth?: Record<string, unknown> | null;
  [k: string]: unknown;
}

export interface KvReadData {
  data: Record<string, unknown> | null;
  metadata: { version: number; created_time: string; deletion_time: string; destroyed: boolean; [k: string]: unknown };
}

export const DEFAULT_ADDR = 'http://127.0.0.1:8200';

export class SvaultClient {
  readonly addr: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly tls: ClientTls | undefined;
  private socket: string | (() => Promise<string>) | undefined;

  constructor(opts: ClientOptions) {
    this.addr = (opts.addr || DEFAULT_ADDR).replace(/\/+$/, '');
    this.token = opts.token || undefined;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.tls = opts.tls;
    this.socket = opts.socket;
  }

  /** Where requests go, for messages: the URL, or the daemon's socket. */
  get where(): string {
    return typeof this.socket === 'string' ? `the local daemon (${this.socket})` : this.addr;
  }

  /** One API call; `path` is relative to /v1. Returns the parsed body, or undefined for 204. */
  async request<T = VaultResponse>(
    method: string,
    path: string,
    opts: { body?: unknown; query?: Record<string, string | number | undefined>; auth?: boolean } = {},
  ): Promise<T | undefined> {
    if (typeof this.socket === 'function') this.socket = await this.socket();
    const url = new URL(`${this.addr}/v1/${path.split('/').map(encodeURIComponent).join('/')}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    if (opts.auth !== false && this.token) headers['X-Vault-Token'] = this.token;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: RawResponse;
    try {
      let target = url;
      // A standby answers 307 with the active node's address: follow it (same method and body) twice at most.
      for (let hop = 0; ; hop++) {
        res = await httpCall({
          method,
          url: target,
          headers,
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          timeoutMs: this.timeoutMs,
          ...(this.socket && hop === 0 ? { socketPath: this.socket } : {}),
          ...(this.tls ? { tls: this.tls } : {}),
        });
        if (!(res.status === 307 || res.status === 308) || !res.location || hop === 2) break;
        target = new URL(res.location, target);
      }
    } catch (e) {
      throw new StratumError('unavailable', `cannot reach svault at ${this.where}: ${causeOf(e)}`, {
        hint: this.socket
          ? "see 'svault daemon status' and 'svault daemon logs'"
          : "start it with 'svault server' or set SVAULT_ADDR",
      });
    }
    const text = res.text;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.status >= 400) throw errorFor(res.status, body, path);
    return body as T | undefined;
  }

  // --- sys ---
  sealStatus() {
    return this.request<SealStatusBody>('GET', 'sys/seal-status', { auth: false }) as Promise<SealStatusBody>;
  }
  init(shares: number, threshold: number) {
    return this.request<{ keys: string[]; keys_base64: string[]; root_token: string }>('PUT', 'sys/init', {
      body: { secret_shares: shares, secret_threshold: threshold },
      auth: false,
    }) as Promise<{ keys: string[]; keys_base64: string[]; root_token: string }>;
  }
  unseal(key: string | undefined, reset = false) {
    return this.request<SealStatusBody>('PUT', 'sys/unseal', {
      body: reset ? { reset: true } : { key },
      auth: false,
    }) as Promise<SealStatusBody>;
  }
  async seal(): Promise<void> {
    await this.request('PUT', 'sys/seal');
  }
  async rotate(): Promise<void> {
    await this.request('POST', 'sys/rotate');
  }
  keyStatus() {
    return this.request('GET', 'sys/key-status');
  }

  // --- generic logical paths ---
  read(path: string, query?: Record<string, string | number | undefined>) {
    return this.request('GET', path, query ? { query } : {});
  }
  write(path: string, data: Record<string, unknown>) {
    return this.request('POST', path, { body: data });
  }
  async delete(path: string): Promise<void> {
    await this.request('DELETE', path);
  }
  async list(path: string): Promise<string[]> {
    const r = await this.request('GET', path.endsWith('/') ? path : `${path}/`, { query: { list: 'true' } });
    return ((r?.data as { keys?: string[] } | null)?.keys ?? []) as string[];
  }

  // --- KV v2 ---
  async kvGet(mount: string, path: string, version?: number): Promise<VaultResponse<KvReadData>> {
    return (await this.request<VaultResponse<KvReadData>>('GET', `${mount}/data/${path}`, {
      query: { version },
    })) as VaultResponse<KvReadData>;
  }
  kvPut(mount: string, path: string, data: Record<string, unknown>, cas?: number) {
    return this.request('POST', `${mount}/data/${path}`, {
      body: { data, ...(cas !== undefined ? { options: { cas } } : {}) },
    }) as Promise<VaultResponse>;
  }
  kvPatch(mount: string, path: string, data: Record<string, unknown>, cas?: number) {
    return this.request('PATCH', `${mount}/data/${path}`, {
      body: { data, ...(cas !== undefined ? { options: { cas } } : {}) },
    }) as Promise<VaultResponse>;
  }
  async kvDelete(mount: string, path: string, versions?: number[]): Promise<void> {
    if (versions?.length) await this.request('POST', `${mount}/delete/${path}`, { body: { versions } });
    else await this.request('DELETE', `${mount}/data/${path}`);
  }
  async kvUndelete(mount: string, path: string, versions: number[]): Promise<void> {
    await this.request('POST', `${mount}/undelete/${path}`, { body: { versions } });
  }
  async kvDestroy(mount: string, path: string, versions: number[]): Promise<void> {
    await this.request('PUT', `${mount}/destroy/${path}`, { body: { versions } });
  }
  kvList(mount: string, path: string) {
    return this.list(`${mount}/metadata/${path}`);
  }
  kvMetadataGet(mount: string, path: string) {
    return this.request('GET', `${mount}/metadata/${path}`) as Promise<VaultResponse>;
  }
  async kvMetadataPut(mount: string, path: string, fields: Record<string, unknown>): Promise<void> {
    await this.request('POST', `${mount}/metadata/${path}`, { body: fields });
  }
  async kvMetadataDelete(mount: string, path: string): Promise<void> {
    await this.request('DELETE', `${mount}/metadata/${path}`);
  }

  // --- policies (Cedar) ---
  async policyList(): Promise<string[]> {
    return this.list('sys/policies/acl');
  }
  async policyRead(name: string): Promise<{ name: string; policy: string }> {
    const r = await this.request('GET', `sys/policies/acl/${name}`);
    return (r?.data ?? { name, policy: '' }) as { name: string; policy: string };
  }
  async policyWrite(name: string, policy: string): Promise<void> {
    await this.request('PUT', `sys/policies/acl/${name}`, { body: { policy } });
  }
  async policyDelete(name: string): Promise<void> {
    await this.request('DELETE', `sys/policies/acl/${name}`);
  }
  /** Capabilities of the token in use (or of the token with `accessor`) on `path`. */
  async capabilities(path: string, accessor?: string): Promise<string[]> {
    const r = await this.request('POST', accessor ? 'sys/capabilities-accessor' : 'sys/capabilities-self', {
      body: { paths: [path], ...(accessor ? { accessor } : {}) },
    });
    return ((r?.data as Record<string, unknown> | null)?.[path] ?? []) as string[];
  }

  // --- audit devices ---
  async auditList(): Promise<Record<string, Record<string, unknown>>> {
    const r = await this.request('GET', 'sys/audit');
    return (r?.data ?? {}) as Record<string, Record<string, unknown>>;
  }
  async auditEnable(path: string, type: string, options: Record<string, string>, description = ''): Promise<void> {
    await this.request('PUT', `sys/audit/${path.replace(/\/+$/, '')}`, { body: { type, options, description } });
  }
  async auditDisable(path: string): Promise<void> {
    await this.request('DELETE', `sys/audit/${path.replace(/\/+$/, '')}`);
  }
  async auditHash(path: string, input: string): Promise<string> {
    const r = await this.request('POST', `sys/audit-hash/${path.replace(/\/+$/, '')}`, { body: { input } });
    return ((r?.data ?? {}) as { hash?: string }).hash ?? '';
  }

  // --- tokens ---
  tokenCreate(opts: Record<string, unknown>, orphan = false) {
    return this.request('POST', orphan ? 'auth/token/create-orphan' : 'auth/token/create', {
      body: opts,
    }) as Promise<VaultResponse>;
  }
  tokenLookup(token?: string, accessor = false) {
    if (!token) return this.request('GET', 'auth/token/lookup-self') as Promise<VaultResponse>;
    return this.request('POST', accessor ? 'auth/token/lookup-accessor' : 'auth/token/lookup', {
      body: accessor ? { accessor: token } : { token },
    }) as Promise<VaultResponse>;
  }
  async tokenRevoke(token: string | undefined, opts: { accessor?: boolean; orphan?: boolean } = {}): Promise<void> {
    if (!token) await this.request('POST', 'auth/token/revoke-self');
    else if (opts.accessor) await this.request('POST', 'auth/token/revoke-accessor', { body: { accessor: token } });
    else
      await this.request('POST', opts.orphan ? 'auth/token/revoke-orphan' : 'auth/token/revoke', { body: { token } });
  }
  tokenRenew(token?: string, increment?: string) {
    const body = { ...(increment ? { increment } : {}), ...(token ? { token } : {}) };
    return this.request('POST', token ? 'auth/token/renew' : 'auth/token/renew-self', {
      body,
    }) as Promise<VaultResponse>;
  }
}

export interface SealStatusBody {
  type: string;
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  version: string;
  storage_type?: string;
  cluster_name?: string;
  cluster_id?: string;
}

function causeOf(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err?.code === 'ETIMEDOUT') return 'timed out';
  if (err?.code && /^(ECONN|ENOENT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND)/.test(err.code)) return err.code;
  return err?.message ?? String(e);
}

/** Maps Vault's status codes onto exit codes; messages come from the server's `errors`. */
export function errorFor(status: number, body: unknown, path: string): StratumError {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const msgs = Array.isArray(errors) ? errors.map(String).filter(Boolean) : [];
  const msg = msgs.join('; ');
  if (status === 503) {
    return new StratumError('denied', msg || 'Vault is sealed', { hint: "unseal it with 'svault operator unseal'" });
  }
  if (status === 403) {
    return new StratumError('denied', msg || 'permission denied', {
      hint: 'check SVAULT_TOKEN: it may be missing, expired, revoked, or lack a policy for this path',
    });
  }
  if (status === 404) {
    const deleted = (body as { data?: { metadata?: { destroyed?: boolean; deletion_time?: string } } } | undefined)
      ?.data?.metadata;
    if (deleted) {
      return new StratumError('notFound', `${path}: this version was ${deleted.destroyed ? 'destroyed' : 'deleted'}`, {
        hint: deleted.destroyed ? undefined : "restore it with 'svault kv undelete'",
      });
    }
    return new StratumError('notFound', msg || `no value found at ${path}`);
  }
  if (status === 400 && /check-and-set/.test(msg) && /did not match/.test(msg)) {
    return new StratumError('conflict', msg, { hint: "read the current version with 'svault kv metadata get'" });
  }
  if (status === 400 || status === 405 || status === 413)
    return new StratumError('validation', msg || `invalid request (${status})`);
  return new StratumError('failure', msg || `server error ${status}`);
}
