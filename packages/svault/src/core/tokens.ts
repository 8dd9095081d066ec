import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import type { LogicalStore } from './barrier.js';
import { deriveKey, hmacSha256 } from './crypto.js';
import { invalid } from './errors.js';
import type { AuthInfo } from './logical.js';
import { VersionedCache } from './versioned-cache.js';

/**
 * The token store. Tokens are never stored: entries live under the HMAC of the token
 * (key derived from the keyring), so a copy of storage plus the unseal keys still does not
 * yield a usable token. Lookups hash first and compare the stored hash in constant time.
 *
 *   id/<hash>                  the entry
 *   accessor/<hmac(accessor)>  → the token hash (revoke or look up by accessor)
 *   parent/<hash>/<childHash>  children, for revoking a tree
 *
 * Batch tokens (`hvb.`) are not stored at all: the token is its entry, sealed with a key derived
 * from the keyring (AES-256-GCM). They have no accessor, cannot be renewed, revoked or used to
 * create tokens, and stop working at their TTL or when their parent goes.
 */
export interface TokenEntry {
  hash: string;
  accessor: string;
  parent: string;
  policies: string[];
  meta: Record<string, string> | null;
  display_name: string;
  path: string;
  /** Unix seconds (Vault's field). */
  creation_time: number;
  /** Epoch ms of creation: the max TTLs count from here. */
  created_ms: number;
  creation_ttl: number;
  explicit_max_ttl: number;
  /** Epoch milliseconds; null never expires (root). */
  expire_time: number | null;
  /** Epoch ms of the last renewal. */
  issue_time: number;
  num_uses: number;
  orphan: boolean;
  renewable: boolean;
  period: number;
  /** The token works only from these addresses (logins with token_bound_cidrs). */
  bound_cidrs?: string[];
  /** The login that issued it: Vault policies' templated paths name it. */
  alias?: { mount_accessor: string; name: string };
  /** Absent: a service token. */
  type?: 'batch';
}

export interface CreateTokenOptions {
  policies?: string[];
  meta?: Record<string, string> | null;
  displayName?: string;
  ttl?: number;
  explicitMaxTtl?: number;
  period?: number;
  numUses?: number;
  renewable?: boolean;
  noDefaultPolicy?: boolean;
  /** Parent's hash; '' for an orphan. */
  parent: string;
  path: string;
  /** A caller-chosen token string (root only). */
  id?: string;
  /** The display name as is (auth method logins: "userpass-alice"), instead of "token-<displayName>". */
  rawDisplayName?: string;
  boundCidrs?: string[];
  alias?: { mount_accessor: string; name: string };
  type?: 'service' | 'batch';
}

/** Vault's system max_lease_ttl default: 768h. */
export const SYSTEM_MAX_TTL = 768 * 3600;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const enc = new TextEncoder();
const dec = new TextDecoder();

export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += BASE62[b % 62];
    }
  }
  return out;
}

const ENTRY_CACHE_MAX = 50_000;
/** Longest batch token accepted (they carry their policies and metadata). */
const MAX_BATCH_TOKEN = 4096;
const BATCH_PREFIX = 'hvb.';

export const isBatchToken = (token: string) => token.startsWith(BATCH_PREFIX);

export class TokenStore {
  /**
   * Decoded entries by hash: every request looks up its token and the chain above it. Entries hold
   * no token (only hashes, policies, times), and this store is their only writer.
   */
  private readonly entries = new VersionedCache<string, TokenEntry | null>({ maxEntries: ENTRY_CACHE_MAX });
  private readonly loadEntry = async (hash: string): Promise<TokenEntry | null> => {
    const raw = await this.store.get(`id/${hash}`);
    if (!raw) return null;
    const e = JSON.parse(dec.decode(raw)) as TokenEntry;
    // The storage key is the hash already; checking the copy inside catches a swapped file.
    if (!timingSafeEqual(Buffer.from(e.hash, 'hex'), Buffer.from(hash, 'hex'))) return null;
    return Object.freeze(e);
  };

  private readonly batchKey: Uint8Array;
  /** Opened batch tokens (their sealed entry never changes). */
  private readonly batches = new Map<string, TokenEntry | null>();

  constructor(
    private readonly store: LogicalStore,
    private readonly hashKey: Uint8Array,
  ) {
    this.batchKey = deriveKey(hashKey, 'svault batch tokens');
  }

  /** Called for each token removed (revoked, expired), before its entry goes: its cubbyhole is emptied. */
  onRemove: ((hash: string) => Promise<void>) | undefined;

  /** Token → its hash, for the tokens in use (every request hashes its token). */
  private readonly hashes = new Map<string, string>();

  hash(token: string): string {
    let h = this.hashes.get(token);
    if (h === undefined) {
      h = Buffer.from(hmacSha256(this.hashKey, `token:${token}`)).toString('hex');
      if (this.hashes.size >= 10_000) this.hashes.clear();
      this.hashes.set(token, h);
    }
    return h;
  }

  private accessorKey(accessor: string): string {
    return `accessor/${Buffer.from(hmacSha256(this.hashKey, `accessor:${accessor}`)).toString('hex')}`;
  }

  private async getEntry(hash: string): Promise<TokenEntry | undefined> {
    const hit = this.entries.get(hash);
    if (hit) return hit;
    // Unknown hashes are not remembered: random tokens must not fill the cache.
    return (await this.entries.read(hash, this.loadEntry, (e) => e !== null)) ?? undefined;
  }

  private async putEntry(e: TokenEntry): Promise<void> {
    await this.entries.write([e.hash], async () => {
      await this.store.put(`id/${e.hash}`, enc.encode(JSON.stringify(e)));
      this.entries.set(e.hash, Object.freeze({ ...e }));
    });
  }

  async create(opts: CreateTokenOptions): Promise<{ token: string; entry: TokenEntry }> {
    if (opts.type === 'batch') return this.createBatch(opts);
    const token = opts.id ?? `hvs.${randomBase62(32)}`;
    const hash = this.hash(token);
    if (opts.id && (await this.getEntry(hash))) throw invalid('cannot create a token with a duplicate ID');
    const entry: TokenEntry = { hash, ...newEntry(opts, randomBase62(24)) };
    await this.putEntry(entry);
    await this.store.put(this.accessorKey(entry.accessor), enc.encode(hash));
    if (entry.parent) await this.store.put(`parent/${entry.parent}/${hash}`, enc.encode(''));
    return { token, entry };
  }

  private createBatch(opts: CreateTokenOptions): { token: string; entry: TokenEntry } {
    if (opts.id) throw invalid('batch tokens cannot have a custom ID');
    if (opts.period) throw invalid('batch tokens cannot be periodic');
    if (opts.numUses) throw invalid('batch tokens cannot have a use limit');
    const sealed = newEntry({ ...opts, renewable: false }, '');
    if (sealed.policies.includes('root')) throw invalid('batch tokens cannot be root tokens');
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.batchKey, nonce);
    const body = Buffer.concat([nonce, c.update(JSON.stringify(sealed)), c.final(), c.getAuthTag()]);
    const token = `${BATCH_PREFIX}${body.toString('base64url')}`;
    if (token.length > MAX_BATCH_TOKEN) throw invalid('too many policies or too much metadata for a batch token');
    return { token, entry: { ...sealed, hash: this.hash(token) } };
  }

  /** A batch token's entry when it opens with this vault's key (cached), else undefined. */
  private openBatch(token: string): TokenEntry | undefined {
    const hit = this.batches.get(token);
    if (hit !== undefined) return hit ?? undefined;
    let entry: TokenEntry | null = null;
    try {
      const body = Buffer.from(token.slice(BATCH_PREFIX.length), 'base64url');
      if (body.length > 12 + 16) {
        const d = createDecipheriv('aes-256-gcm', this.batchKey, body.subarray(0, 12));
        d.setAuthTag(body.subarray(body.length - 16));
        const plain = Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()]);
        entry = Object.freeze({ ...(JSON.parse(plain.toString('utf8')) as TokenEntry), hash: this.hash(token) });
      }
    } catch {
      entry = null;
    }
    // Only tokens this vault sealed are remembered: random strings must not fill the cache.
    if (entry) {
      if (this.batches.size >= 10_000) this.batches.clear();
      this.batches.set(token, entry);
    }
    return entry ?? undefined;
  }

  /**
   * The entry of a live token, or undefined. A token is dead when it, or any token above
   * it, is missing or expired: a child never outlives its parent. Dead trees are revoked.
   */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    if (!token) return undefined;
    if (isBatchToken(token)) {
      if (token.length > MAX_BATCH_TOKEN) return undefined;
      const e = this.openBatch(token);
      if (!e || (e.expire_time !== null && Date.now() >= e.expire_time)) return undefined;
      if (e.parent && !(await this.lookupByHash(e.parent))) return undefined;
      return e;
    }
    if (token.length > 512) return undefined;
    return this.lookupByHash(this.hash(token));
  }

  async lookupByHash(hash: string): Promise<TokenEntry | undefined> {
    const entry = await this.getEntry(hash);
    if (!entry) return undefined;
    let cur: TokenEntry | undefined = entry;
    for (let depth = 0; cur && depth < 64; depth++) {
      if (cur.expire_time !== null && Date.now() >= cur.expire_time) {
        await this.revokeTree(cur.hash);
        return undefined;
      }
      if (!cur.parent) return entry;
      cur = await this.getEntry(cur.parent);
    }
    // The parent is gone (revoked while this child was being created, or storage damage).
    await this.revokeTree(hash);
    return undefined;
  }

  async hashByAccessor(accessor: string): Promise<string | undefined> {
    const raw = await this.store.get(this.accessorKey(accessor));
    return raw ? dec.decode(raw) : undefined;
  }

  /** Counts one use of a limited-use token; revokes it after the last. */
  async use(entry: TokenEntry): Promise<void> {
    if (entry.num_uses <= 0) return;
    if (entry.num_uses === 1) {
      await this.revokeTree(entry.hash);
      return;
    }
    await this.putEntry({ ...entry, num_uses: entry.num_uses - 1 });
  }

  async renew(entry: TokenEntry, increment?: number): Promise<TokenEntry> {
    if (entry.type === 'batch') throw invalid('batch tokens cannot be renewed');
    if (entry.expire_time === null) return entry;
    if (!entry.renewable) throw invalid('lease is not renewable');
    const nowMs = Date.now();
    // A periodic token renews to its period whatever the increment, with no max but an explicit one.
    const ttl = entry.period || increment || entry.creation_ttl;
    // Neither the explicit max nor the system max count from the renewal: both from creation.
    const created = entry.created_ms;
    const limits = entry.period > 0 ? [] : [created + SYSTEM_MAX_TTL * 1000];
    if (entry.explicit_max_ttl > 0) limits.push(created + entry.explicit_max_ttl * 1000);
    const maxExpire = limits.length > 0 ? Math.min(...limits) : Number.POSITIVE_INFINITY;
    if (nowMs >= maxExpire) throw invalid('past the max TTL, cannot renew');
    const next = { ...entry, expire_time: Math.min(nowMs + ttl * 1000, maxExpire), issue_time: nowMs };
    await this.putEntry(next);
    return next;
  }

  /** Revokes the token and every descendant, leaves first. */
  async revokeTree(hash: string): Promise<void> {
    for (const child of await this.store.list(`parent/${hash}/`)) {
      if (!child.endsWith('/')) await this.revokeTree(child);
    }
    await this.removeOne(hash);
  }

  /** Revokes only this token; its children become orphans. */
  async revokeOrphan(hash: string): Promise<void> {
    for (const child of await this.store.list(`parent/${hash}/`)) {
      const e = await this.getEntry(child);
      if (e) await this.putEntry({ ...e, parent: '', orphan: true });
      await this.store.delete(`parent/${hash}/${child}`);
    }
    await this.removeOne(hash);
  }

  private async removeOne(hash: string): Promise<void> {
    const e = await this.getEntry(hash);
    // Entry last: while it exists, a retry finds the accessor and parent links to clean up.
    if (e) {
      await this.store.delete(this.accessorKey(e.accessor));
      if (e.parent) await this.store.delete(`parent/${e.parent}/${hash}`);
      await this.onRemove?.(hash);
    }
    await this.entries.write([hash], () => this.store.delete(`id/${hash}`));
  }

  /** Revokes every token created through a path under `prefix` (an auth mount being disabled). */
  async revokeByPathPrefix(prefix: string): Promise<number> {
    let n = 0;
    for (const h of await this.store.list('id/')) {
      const e = await this.getEntry(h);
      if (e?.path.startsWith(prefix)) {
        await this.revokeTree(h);
        n++;
      }
    }
    return n;
  }

  /** Accessors of every token (root only): hashes are listed, entries give the accessors. */
  async accessors(): Promise<string[]> {
    const out: string[] = [];
    for (const h of await this.store.list('id/')) {
      const e = await this.getEntry(h);
      if (e) out.push(e.accessor);
    }
    return out.sort();
  }

  /** Revokes every expired token (and its tree); returns how many roots were revoked. */
  async tidy(): Promise<number> {
    let n = 0;
    for (const h of await this.store.list('id/')) {
      const e = await this.getEntry(h);
      if (e && e.expire_time !== null && Date.now() >= e.expire_time) {
        await this.revokeTree(h);
        n++;
      }
    }
    return n;
  }
}

/**
 * A token's entry (without its hash) as `opts` asks: policies with default, the TTL within the
 * system max and the explicit max (a root token without a TTL never expires), a batch token marked.
 */
function newEntry(opts: CreateTokenOptions, accessor: string): Omit<TokenEntry, 'hash'> {
  const policies = normalizePolicies(opts.policies ?? [], !opts.noDefaultPolicy);
  const isRoot = policies.includes('root');
  let ttl = opts.period || opts.ttl || 0;
  const explicitMax = opts.explicitMaxTtl ?? 0;
  if (!isRoot || ttl > 0 || explicitMax > 0) {
    if (ttl === 0) ttl = SYSTEM_MAX_TTL;
    ttl = Math.min(ttl, SYSTEM_MAX_TTL);
    if (explicitMax > 0) ttl = Math.min(ttl, explicitMax);
  }
  const nowMs = Date.now();
  return {
    accessor,
    parent: opts.parent,
    policies,
    meta: opts.meta && Object.keys(opts.meta).length > 0 ? opts.meta : null,
    display_name: opts.rawDisplayName ?? (opts.displayName ? `token-${opts.displayName}` : 'token'),
    path: opts.path,
    creation_time: Math.floor(nowMs / 1000),
    created_ms: nowMs,
    creation_ttl: ttl,
    explicit_max_ttl: explicitMax,
    expire_time: ttl > 0 ? nowMs + ttl * 1000 : null,
    issue_time: nowMs,
    num_uses: opts.numUses ?? 0,
    orphan: opts.parent === '',
    renewable: ttl > 0 && (opts.renewable ?? true),
    period: opts.period ?? 0,
    ...(opts.type === 'batch' ? { type: 'batch' as const } : {}),
    ...(opts.boundCidrs?.length ? { bound_cidrs: opts.boundCidrs } : {}),
    ...(opts.alias ? { alias: opts.alias } : {}),
  };
}

export function normalizePolicies(policies: string[], addDefault: boolean): string[] {
  const set = new Set(policies.map((p) => p.trim().toLowerCase()).filter(Boolean));
  if (set.has('root')) return ['root'];
  if (addDefault) set.add('default');
  return [...set].sort();
}

export function ttlLeft(e: TokenEntry): number {
  return e.expire_time === null ? 0 : Math.max(0, Math.ceil((e.expire_time - Date.now()) / 1000));
}

export function authInfo(token: string, e: TokenEntry): AuthInfo {
  return {
    client_token: token,
    accessor: e.accessor,
    policies: e.policies,
    token_policies: e.policies,
    metadata: e.meta,
    lease_duration: ttlLeft(e),
    renewable: e.renewable,
    entity_id: '',
    token_type: e.type ?? 'service',
    orphan: e.orphan,
    mfa_requirement: null,
    num_uses: e.num_uses,
  };
}

/** The `data` of token lookups, in Vault's shape. `id` only when the caller has the token. */
export function lookupData(e: TokenEntry, token?: string): Record<string, unknown> {
  return {
    accessor: e.accessor,
    creation_time: e.creation_time,
    creation_ttl: e.creation_ttl,
    display_name: e.display_name,
    entity_id: '',
    expire_time: e.expire_time === null ? null : new Date(e.expire_time).toISOString(),
    explicit_max_ttl: e.explicit_max_ttl,
    id: token ?? '',
    issue_time: new Date(e.issue_time).toISOString(),
    meta: e.meta,
    num_uses: e.num_uses,
    orphan: e.orphan,
    path: e.path,
    policies: e.policies,
    renewable: e.renewable,
    ttl: ttlLeft(e),
    type: e.type ?? 'service',
    ...(e.period > 0 ? { period: e.period } : {}),
    ...(e.bound_cidrs ? { bound_cidrs: e.bound_cidrs } : {}),
  };
}
