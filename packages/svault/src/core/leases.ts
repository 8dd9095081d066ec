import { createHash } from 'node:crypto';
import type { LogicalStore } from './barrier.js';
import { invalid, VaultError } from './errors.js';
import type { Backend, LeaseInfo, LeaseSecret, MountEntry } from './logical.js';
import { randomBase62, SYSTEM_MAX_TTL } from './tokens.js';

/**
 * Vault's expiration manager for dynamic secrets. Every lease is stored in the barrier
 * (`sys/expire/<sha256(lease id)>`) before the secret is returned, so a crash never forgets one;
 * the active node revokes each through its engine when it expires. A revocation that fails is
 * kept, retried with exponential backoff, and reported: it is never dropped.
 */
export interface LeaseEntry {
  lease_id: string;
  path: string;
  mount_uuid: string;
  internal: Record<string, unknown>;
  issue_time: string;
  expire_time: string;
  last_renewal_time: string | null;
  /** After this, renewals stop extending. */
  max_expire_time: string;
  renewable: boolean;
  /** Failed revocations so far and the last error, while it is being retried. */
  revoke_attempts?: number;
  revoke_error?: string;
  next_attempt_time?: string;
}

export interface LeaseMount {
  entry: MountEntry;
  backend: Backend;
}

export interface LeaseManagerOptions {
  store: LogicalStore;
  /** The mounted engine for a mount uuid (undefined when it was disabled). */
  mountByUuid: (uuid: string) => LeaseMount | undefined;
  warn: (message: string) => void;
  /** Clock and retry schedule, for tests. */
  now?: () => number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const keyOf = (id: string) => createHash('sha256').update(id).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();
/** setTimeout's limit is 2^31-1 ms; longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LeaseManager {
  private readonly leases = new Map<string, LeaseEntry>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private sweeping = false;
  /** Lease ids being revoked now (an explicit revoke and the timer never race on one lease). */
  private readonly revoking = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  private constructor(private readonly opts: LeaseManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.retryBaseMs = opts.retryBaseMs ?? 1000;
    this.retryMaxMs = opts.retryMaxMs ?? 5 * 60_000;
  }

  /** Loads every stored lease (after unseal). Call `start` on the active node to revoke expired ones. */
  static async open(opts: LeaseManagerOptions): Promise<LeaseManager> {
    const m = new LeaseManager(opts);
    for (const k of await opts.store.list('')) {
      const raw = await opts.store.get(k);
      if (!raw) continue;
      const e = JSON.parse(dec.decode(raw)) as LeaseEntry;
      m.leases.set(e.lease_id, e);
    }
    return m;
  }

  /** Begins revoking on time; leases that expired while the vault was down go first. */
  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get size(): number {
    return this.leases.size;
  }

  /** Records a new lease for `secret` returned at `path`; returns what the envelope shows. */
  async register(
    path: string,
    mount: MountEntry,
    secret: LeaseSecret,
  ): Promise<{ id: string; duration: number; renewable: boolean }> {
    const now = this.now();
    const maxTtl = this.maxTtl(mount, secret.maxTtl);
    const ttl = Math.min(secret.ttl > 0 ? secret.ttl : this.defaultTtl(mount), maxTtl);
    const id = `${path.replace(/\/+$/, '')}/${randomBase62(24)}`;
    const e: LeaseEntry = {
      lease_id: id,
      path,
      mount_uuid: mount.uuid,
      internal: secret.internal,
      issue_time: iso(now),
      expire_time: iso(now + ttl * 1000),
      last_renewal_time: null,
      max_expire_time: iso(now + maxTtl * 1000),
      renewable: secret.renewable,
    };
    await this.save(e);
    this.schedule();
    return { id, duration: ttl, renewable: e.renewable };
  }

  lookup(id: string): LeaseEntry {
    const e = this.leases.get(id);
    if (!e) throw invalid('invalid lease');
    return e;
  }

  /** Lease ids under a prefix, one level as Vault lists them (sub-paths end with '/'). */
  list(prefix: string): string[] {
    const p = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const out = new Set<string>();
    for (const id of this.leases.keys()) {
      if (!id.startsWith(p)) continue;
      const rest = id.slice(p.length);
      const i = rest.indexOf('/');
      out.add(i < 0 ? rest : rest.slice(0, i + 1));
    }
    return [...out].sort();
  }

  /** Extends a lease by `increment` seconds (0: its original TTL), never past its max. */
  async renew(id: string, increment: number): Promise<{ id: string; duration: number; renewable: boolean }> {
    const e = this.lookup(id);
    const now = this.now();
    if (e.revoke_attempts || this.revoking.has(id)) throw invalid('lease is being revoked');
    if (Date.parse(e.expire_time) <= now) throw invalid('lease expired');
    if (!e.renewable) throw invalid('lease is not renewable');
    const mount = this.opts.mountByUuid(e.mount_uuid);
    if (!mount) throw invalid('lease is not renewable: its secrets engine is disabled');
    const original = (Date.parse(e.expire_time) - Date.parse(e.last_renewal_time ?? e.issue_time)) / 1000;
    const wanted = increment > 0 ? increment : Math.round(original);
    const expire = Math.min(now + wanted * 1000, Date.parse(e.max_expire_time));
    await mount.backend.renewLease?.(this.info(e), new Date(expire));
    // Revoked while the engine was extending it: saving now would bring a revoked lease back.
    if (!this.leases.has(id) || this.revoking.has(id)) throw invalid('lease is being revoked');
    const next: LeaseEntry = { ...e, expire_time: iso(expire), last_renewal_time: iso(now) };
    await this.save(next);
    this.schedule();
    const duration = Math.max(0, Math.round((expire - now) / 1000));
    return { id, duration, renewable: expire < Date.parse(e.max_expire_time) };
  }

  /** Revokes now (an unknown id is already revoked, as in Vault). A failure keeps the lease for retry and is reported. */
  async revoke(id: string): Promise<void> {
    await this.revokeOne(id, true);
  }

  /**
   * Revokes the lease with this exact id, or every lease under `prefix/` (so `creds/app` never takes
   * `creds/app2`'s); `force` drops those the engine fails to revoke. Returns how many went.
   */
  async revokePrefix(prefix: string, force = false): Promise<number> {
    const p = prefix.replace(/^\/+/, '');
    if (this.leases.has(p)) return this.revokeAll([p], force);
    const under = p.endsWith('/') ? p : `${p}/`;
    return this.revokeAll(
      [...this.leases.keys()].filter((id) => id.startsWith(under)),
      force,
    );
  }

  /** Leases of a mount that is being disabled: revoked first, as Vault does; any failure keeps the mount. */
  async revokeMount(mount: MountEntry): Promise<void> {
    const ids = [...this.leases.values()].filter((e) => e.mount_uuid === mount.uuid).map((e) => e.lease_id);
    await this.revokeAll(ids, false);
  }

  /** Tries every one, then reports the failures together (they stay, retried with backoff). */
  private async revokeAll(ids: string[], force: boolean): Promise<number> {
    const errors: string[] = [];
    for (const id of ids) {
      try {
        await this.revokeOne(id, true);
      } catch (e) {
        if (force) await this.forget(id);
        else errors.push(`${id}: ${(e as Error).message}`);
      }
    }
    if (errors.length) {
      throw new VaultError(
        'internal',
        `failed to revoke ${errors.length} of ${ids.length} leases (kept and retried): ${errors.join('; ')}`,
      );
    }
    return ids.length;
  }

  /** Leases whose revocation keeps failing, for status and tests. */
  pending(): LeaseEntry[] {
    return [...this.leases.values()].filter((e) => (e.revoke_attempts ?? 0) > 0);
  }

  private info(e: LeaseEntry): LeaseInfo {
    return {
      id: e.lease_id,
      path: e.path,
      internal: e.internal,
      issueTime: new Date(e.issue_time),
      expireTime: new Date(e.expire_time),
    };
  }

  private revokeOne(id: string, explicit: boolean): Promise<void> {
    const running = this.revoking.get(id);
    if (running) return running;
    const p = this.doRevoke(id, explicit).finally(() => this.revoking.delete(id));
    this.revoking.set(id, p);
    return p;
  }

  private async doRevoke(id: string, explicit: boolean): Promise<void> {
    const e = this.leases.get(id);
    if (!e) return;
    const mount = this.opts.mountByUuid(e.mount_uuid);
    try {
      // A lease whose mount is gone has nothing left to revoke it with.
      if (mount?.backend.revokeLease) await mount.backend.revokeLease(this.info(e));
    } catch (err) {
      const attempts = (e.revoke_attempts ?? 0) + 1;
      const wait = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
      const msg = (err as Error).message;
      await this.save({
        ...e,
        revoke_attempts: attempts,
        revoke_error: msg,
        next_attempt_time: iso(this.now() + wait),
      });
      this.opts.warn(`lease ${id}: revocation failed (attempt ${attempts}, retrying in ${wait / 1000}s): ${msg}`);
      this.schedule();
      if (explicit) throw new VaultError('internal', `failed to revoke lease ${id}: ${msg} (kept; retried)`);
      return;
    }
    await this.forget(id);
  }

  private async forget(id: string): Promise<void> {
    await this.opts.store.delete(keyOf(id));
    this.leases.delete(id);
  }

  private async save(e: LeaseEntry): Promise<void> {
    await this.opts.store.put(keyOf(e.lease_id), enc.encode(JSON.stringify(e)));
    this.leases.set(e.lease_id, e);
  }

  private due(e: LeaseEntry): number {
    return Date.parse(e.next_attempt_time ?? e.expire_time);
  }

  /** One timer, for the earliest deadline; none while a sweep runs (it reschedules when done). */
  private schedule(): void {
    if (!this.running || this.sweeping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.leases.values()) next = Math.min(next, this.due(e));
    if (next === Number.POSITIVE_INFINITY) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.now()));
    this.timer = setTimeout(() => void this.expireDue(), wait);
    this.timer.unref();
  }

  /** Revokes what is due, one at a time (a restart with many expired leases is no storm). */
  private async expireDue(): Promise<void> {
    this.timer = undefined;
    this.sweeping = true;
    try {
      const now = this.now();
      const due = [...this.leases.values()].filter((e) => this.due(e) <= now).map((e) => e.lease_id);
      for (const id of due) {
        if (!this.running) return;
        await this.revokeOne(id, false).catch((e) => this.opts.warn(`lease ${id}: ${(e as Error).message}`));
      }
    } finally {
      this.sweeping = false;
      this.schedule();
    }
  }

  private defaultTtl(mount: MountEntry): number {
    return mount.config.default_lease_ttl || this.maxTtl(mount);
  }

  private maxTtl(mount: MountEntry, secretMax = 0): number {
    const mountMax = mount.config.max_lease_ttl || SYSTEM_MAX_TTL;
    return secretMax > 0 ? Math.min(secretMax, mountMax) : mountMax;
  }
}
