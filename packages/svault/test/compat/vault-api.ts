/**
 * A minimal Vault HTTP API client written only from Vault's public API documentation
 * (developer.hashicorp.com/vault/api-docs: "HTTP API" overview, sys/init, sys/unseal,
 * sys/seal-status, sys/seal, sys/health, sys/mounts, secret/kv/kv-v2, secret/kv/kv-v1,
 * auth/token). Raw fetch; it shares no code with svault on purpose, so the compatibility tests
 * check svault against the documentation rather than against itself.
 *
 * Documented conventions used here:
 * - every path is under /v1/; the token goes in X-Vault-Token;
 * - request and response bodies are JSON; errors are {"errors": ["..."]} with status >= 400;
 * - listing is the LIST verb (or GET with ?list=true); an empty list is a 404;
 * - 204 means no body.
 */
export class VaultApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly body: unknown,
  ) {
    super(`Vault API ${status}: ${errors.join('; ')}`);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field against the docs
export type Json = any;

export class VaultApi {
  token: string | undefined;

  constructor(readonly address: string) {}

  /** Raw call: status and parsed body, never throws on HTTP errors. */
  async raw(method: string, path: string, body?: unknown, token = this.token): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = {};
    if (token) headers['X-Vault-Token'] = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.address}/v1/${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** A call that must succeed (2xx); the parsed body, undefined for 204. */
  async call(method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.raw(method, path, body);
    if (r.status >= 400) throw new VaultApiError(r.status, r.body?.errors ?? [], r.body);
    return r.body;
  }

  // sys/init, sys/unseal, sys/seal-status, sys/seal, sys/health
  initStatus() {
    return this.call('GET', 'sys/init');
  }
  init(secretShares: number, secretThreshold: number) {
    return this.call('PUT', 'sys/init', { secret_shares: secretShares, secret_threshold: secretThreshold });
  }
  unseal(key: string) {
    return this.call('PUT', 'sys/unseal', { key });
  }
  unsealReset() {
    return this.call('PUT', 'sys/unseal', { reset: true });
  }
  sealStatus() {
    return this.call('GET', 'sys/seal-status');
  }
  seal() {
    return this.call('PUT', 'sys/seal');
  }
  /** Health answers with a status per state, so the status is the result. */
  async health(query = ''): Promise<{ status: number; body: Json }> {
    return this.raw('GET', `sys/health${query}`);
  }

  // sys/mounts
  mounts() {
    return this.call('GET', 'sys/mounts');
  }
  enableSecretsEngine(path: string, type: string, options?: Record<string, string>) {
    return this.call('POST', `sys/mounts/${path}`, { type, ...(options ? { options } : {}) });
  }
  disableSecretsEngine(path: string) {
    return this.call('DELETE', `sys/mounts/${path}`);
  }

  // KV version 2 (mount-relative paths: data/, metadata/, delete/, undelete/, destroy/)
  kv2Write(mount: string, path: string, data: Record<string, unknown>, cas?: number) {
    return this.call('POST', `${mount}/data/${path}`, { data, ...(cas === undefined ? {} : { options: { cas } }) });
  }
  kv2Read(mount: string, path: string, version?: number) {
    return this.call('GET', `${mount}/data/${path}${version ? `?version=${version}` : ''}`);
  }
  kv2List(mount: string, path: string) {
    return this.call('LIST', `${mount}/metadata/${path}`);
  }
  kv2ReadMetadata(mount: string, path: string) {
    return this.call('GET', `${mount}/metadata/${path}`);
  }
  kv2WriteMetadata(mount: string, path: string, body: Record<string, unknown>) {
    return this.call('POST', `${mount}/metadata/${path}`, body);
  }
  kv2DeleteLatest(mount: string, path: string) {
    return this.call('DELETE', `${mount}/data/${path}`);
  }
  kv2DeleteVersions(mount: string, path: string, versions: number[]) {
    return this.call('POST', `${mount}/delete/${path}`, { versions });
  }
  kv2Undelete(mount: string, path: string, versions: number[]) {
    return this.call('POST', `${mount}/undelete/${path}`, { versions });
  }
  kv2Destroy(mount: string, path: string, versions: number[]) {
    return this.call('PUT', `${mount}/destroy/${path}`, { versions });
  }
  kv2DeleteMetadata(mount: string, path: string) {
    return this.call('DELETE', `${mount}/metadata/${path}`);
  }

  // KV version 1
  kv1Write(mount: string, path: string, data: Record<string, unknown>) {
    return this.call('POST', `${mount}/${path}`, data);
  }
  kv1Read(mount: string, path: string) {
    return this.call('GET', `${mount}/${path}`);
  }
  kv1List(mount: string, path: string) {
    return this.call('GET', `${mount}/${path}?list=true`);
  }

  // auth/token
  tokenCreate(body: Record<string, unknown> = {}) {
    return this.call('POST', 'auth/token/create', body);
  }
  tokenCreateOrphan(body: Record<string, unknown> = {}) {
    return this.call('POST', 'auth/token/create-orphan', body);
  }
  tokenLookupSelf() {
    return this.call('GET', 'auth/token/lookup-self');
  }
  tokenLookup(token: string) {
    return this.call('POST', 'auth/token/lookup', { token });
  }
  tokenLookupAccessor(accessor: string) {
    return this.call('POST', 'auth/token/lookup-accessor', { accessor });
  }
  tokenRenewSelf(increment?: string) {
    return this.call('POST', 'auth/token/renew-self', increment ? { increment } : {});
  }
  tokenRevoke(token: string) {
    return this.call('POST', 'auth/token/revoke', { token });
  }
  tokenRevokeSelf() {
    return this.call('POST', 'auth/token/revoke-self');
  }
  tokenRevokeAccessor(accessor: string) {
    return this.call('POST', 'auth/token/revoke-accessor', { accessor });
  }
}
