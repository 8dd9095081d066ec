/**
 * High availability, as Vault does it over a shared storage: every node is unsealed, one holds
 * the lock and is active, the others are standbys that answer health checks and point clients at
 * the active node. The lock expires unless its holder renews it, so a node that dies (kill -9,
 * lost network) is replaced once its lock runs out; a holder that cannot renew in time steps down
 * on its own before anyone else can take over, so two nodes are never active at once.
 */

/** The lock record a storage backend keeps (PostgreSQL: a row; etcd: a key on a lease). */
export interface HaLockBackend {
  /**
   * Takes the lock for `ttlMs` when it is free or expired (or extends it when `id` holds it);
   * true when `id` holds it now. `value` is what others read as the holder (its api_addr).
   */
  acquire(id: string, value: string, ttlMs: number): Promise<boolean>;
  /** Extends the lock while `id` holds it; false when it is gone or someone else holds it. */
  renew(id: string, ttlMs: number): Promise<boolean>;
  /** Gives it up if `id` holds it. */
  release(id: string): Promise<void>;
  /** The current holder, undefined when nobody holds it. */
  holder(): Promise<{ id: string; value: string } | undefined>;
}

/** A storage that can hold the HA lock (`ha_enabled = true`). */
export interface HaStorage {
  readonly ha?: HaLockBackend | undefined;
}

/** What the coordinator needs of the vault. */
export interface HaVault {
  readonly sealed: boolean;
  readonly standby: boolean;
  setStandby(standby: boolean): Promise<void>;
}

export interface HaStatus {
  enabled: boolean;
  /** This node is the active one. */
  isSelf: boolean;
  /** The active node's api_addr ('' when none is known). */
  leaderAddress: string;
  /** When this node became active (ISO time), or Go's zero time as Vault shows it. */
  activeTime: string;
}

export interface HaOptions {
  lock: HaLockBackend;
  vault: HaVault;
  /** This node's identity in the lock (unique per process). */
  id: string;
  /** The address clients should use for this node (redirects point there); may be set later. */
  apiAddr: string;
  /**
   * Storage caching, which only the active node may do (others write meanwhile): turned off
   * before the node is a standby, and on (empty) right before it becomes active.
   */
  setCaching?: (on: boolean) => void;
  log?: { info(msg: string): void; warn(msg: string): void };
  /** Lock lifetime (default 10 s): a dead active node is replaced within about this long. */
  ttlMs?: number;
  /** How often the holder renews (default 2 s). */
  renewMs?: number;
  /** How often a standby tries to take over (default 1 s). */
  retryMs?: number;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The active/standby loop of one node. */
export class HaCoordinator {
  apiAddr: string;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  /** This node holds the lock, as far as it can tell right now. */
  private held = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopped = false;
  private leader: { id: string; value: string } | undefined;
  private activeSince: string | undefined;

  constructor(private readonly opts: HaOptions) {
    this.apiAddr = opts.apiAddr;
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.renewMs = opts.renewMs ?? 2_000;
    this.retryMs = opts.retryMs ?? 1_000;
    if (this.renewMs * 2 >= this.ttlMs) throw new Error('HA lock renewal must be well within its TTL');
  }

  /** Starts as a standby (the vault is still sealed) and keeps trying to become active. */
  async start(): Promise<void> {
    await this.standby();
    this.schedule(0);
  }

  status(): HaStatus {
    const isSelf = this.held && !this.opts.vault.standby;
    // A holder at this node's own address is a dead predecessor whose lock has not run out yet:
    // pointing clients there would send them in a circle.
    const other = this.leader && this.leader.value !== this.apiAddr ? this.leader.value : '';
    return {
      enabled: true,
      isSelf,
      leaderAddress: isSelf ? this.apiAddr : other,
      activeTime: isSelf ? (this.activeSince ?? ZERO_TIME) : ZERO_TIME,
    };
  }

  /** Steps down and releases the lock, so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    await this.ticking;
    await this.stepDown('shutting down');
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.tickTimer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((e) => this.opts.log?.warn(`HA: ${(e as Error).message}`))
        .finally(() => this.schedule(this.retryMs));
    }, ms);
    this.tickTimer.unref();
  }

  private async tick(): Promise<void> {
    const { vault } = this.opts;
    if (vault.sealed) {
      // A sealed node is no active node: let a standby take over, and come back as a standby.
      if (this.held) await this.stepDown('sealed');
      else if (!vault.standby) await this.standby();
      return;
    }
    if (this.held) return;
    if (!vault.standby) await this.standby();
    const sentAt = Date.now();
    if (!(await this.opts.lock.acquire(this.opts.id, this.apiAddr, this.ttlMs))) {
      this.leader = await this.opts.lock.holder();
      return;
    }
    this.hold(sentAt);
    this.opts.setCaching?.(true);
    try {
      await vault.setStandby(false);
    } catch (e) {
      // setStandby resealed the vault; the next tick gives the lock up.
      this.opts.log?.warn(`HA: could not become active: ${(e as Error).message}`);
      return;
    }
    if (!this.held) return; // lost while loading
    this.activeSince = new Date().toISOString();
    this.leader = { id: this.opts.id, value: this.apiAddr };
    this.opts.log?.info(`HA: this node is active (${this.apiAddr || 'no api_addr'})`);
  }

  /** The lock is ours since `sentAt`: renew it regularly, step down when that stops working. */
  private hold(sentAt: number): void {
    this.held = true;
    this.extend(sentAt);
    this.renewTimer = setInterval(() => void this.renew(), this.renewMs);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.renewing) return; // a renewal hanging (partition): the deadline decides
    this.renewing = true;
    const sentAt = Date.now();
    let ok: boolean;
    try {
      ok = await this.opts.lock.renew(this.opts.id, this.ttlMs);
    } catch (e) {
      // Maybe a blip: the deadline decides.
      this.opts.log?.warn(`HA: renewing the lock failed: ${(e as Error).message}`);
      return;
    } finally {
      this.renewing = false;
    }
    if (!this.held) return;
    if (ok) this.extend(sentAt);
    else this.lost('another node holds the lock');
  }

  /**
   * The storage counts the lock's lifetime from when it got the request, at or after `sentAt`;
   * stepping down a second before `sentAt + ttl` leaves room for clock drift.
   */
  private extend(sentAt: number): void {
    const deadline = sentAt + this.ttlMs - 1000;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.lost('the lock could not be renewed in time'), deadline - Date.now());
    this.deadlineTimer.unref();
  }

  /** Standby at once (no await before the switch), then whatever cleanup. */
  private lost(why: string): void {
    if (!this.held) return;
    this.forget();
    this.opts.log?.warn(`HA: lost the lock (${why}); this node is now a standby`);
    void this.standby().catch((e) => this.opts.log?.warn(`HA: ${(e as Error).message}`));
  }

  /** Synchronous up to the switch: no request is served as active after this is called. */
  private standby(): Promise<void> {
    this.opts.setCaching?.(false);
    return this.opts.vault.setStandby(true);
  }

  private async stepDown(why: string): Promise<void> {
    const wasHeld = this.held;
    this.forget();
    await this.standby();
    if (!wasHeld) return;
    this.opts.log?.info(`HA: stepping down (${why})`);
    await this.opts.lock.release(this.opts.id).catch((e) => {
      this.opts.log?.warn(`HA: releasing the lock failed (it expires by itself): ${(e as Error).message}`);
    });
  }

  private forget(): void {
    this.held = false;
    this.activeSince = undefined;
    this.leader = undefined;
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.renewTimer = undefined;
    this.deadlineTimer = undefined;
  }
}
