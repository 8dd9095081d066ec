import { hostname } from 'node:os';
import { processAlive } from '@stratumiops/shared/fs';
import { uuid } from './ids.js';
import { type Budget, type CostRecord, centsToMicro, type OnExceeded } from './model.js';
import { type PeriodKeys, periodKeys } from './periods.js';
import type { Role } from './roles.js';
import type { BudgetStore, ReservationMeta, Spend, SpendRow } from './store.js';

const defaultOwner = (): OwnerIdentity => ({
  id: `${hostname()}:${process.pid}:${uuid().slice(0, 8)}`,
  host: hostname(),
  pid: process.pid,
});

/**
 * Budgets per role, monthly and weekly, built so that LiteLLM's known failures cannot happen here:
 * - the estimate (every input token + every allowed output token) is reserved atomically before a call and
 *   settled with the real usage after (released on error): concurrent calls cannot overspend;
 * - spend is keyed by calendar period (`2026-11`, `2026-W47`) in a configurable time zone: no reset job;
 * - money is integer micro-cents; every cost record carries the price-table version and the served model;
 * - one alert per threshold crossing per period, id `budget:<role>:<period>:<level>`.
 */
export type BudgetState = 'normal' | 'near_threshold' | 'exceeded';
export const NEAR = 0.8;

const RANK: Record<BudgetState, number> = { normal: 0, near_threshold: 1, exceeded: 2 };

export interface PeriodStatus {
  period: 'month' | 'week';
  key: string;
  /** micro-cents; null = unlimited */
  limit: number | null;
  spent: number;
  reserved: number;
  /** Part of `spent` charged in full for calls whose process died, awaiting `vapora costs reconcile`. */
  unsettled: number;
  /** (spent + reserved) / limit; 0 when unlimited. */
  ratio: number;
  state: BudgetState;
  /** limit − spent − reserved (never below 0); null when unlimited. */
  remaining: number | null;
}

export interface BudgetStatus {
  role: Role;
  /** The worse of the two periods. */
  state: BudgetState;
  ratio: number;
  onExceeded: OnExceeded;
  month: PeriodStatus;
  week: PeriodStatus;
}

export interface RoleLimits {
  month: number | null;
  week: number | null;
  onExceeded: OnExceeded;
  /** Where the limits came from. */
  source: 'store' | 'config' | 'none';
}

/** `[budgets.<role>]` in vapora.toml (cents), overridden by `vapora budget set` (stored). */
export interface BudgetDefaults {
  monthly?: number | undefined;
  weekly?: number | undefined;
  on_exceeded?: OnExceeded | undefined;
}

export interface BudgetSettings {
  timezone: string;
  defaults: Partial<Record<Role, BudgetDefaults>>;
  onExceeded: OnExceeded;
  /** A reservation older than this is treated as orphaned (longer than any call may take). */
  reservationTtlMs: number;
  /** A process holding reservations heartbeats this often… */
  ownerHeartbeatMs?: number | undefined;
  /** …and is taken for dead when silent this long: its reservations are charged in full, as unsettled. */
  ownerTtlMs?: number | undefined;
}

/** Who holds reservations: this process. */
export interface OwnerIdentity {
  id: string;
  host: string;
  pid: number;
}

export interface BudgetAlert {
  /** `budget:<role>:<period>:<level>`: the dedup id (Nats-Msg-Id too). */
  id: string;
  severity: 'warning' | 'critical';
  source: 'budget';
  message: string;
  metadata: { role: Role; period: string; level: 'near_threshold' | 'exceeded'; ratio: number; limit_cents: number };
}

export function stateOf(used: number, limit: number | null): { ratio: number; state: BudgetState } {
  if (limit === null) return { ratio: 0, state: 'normal' };
  if (limit <= 0) return { ratio: used > 0 ? Number.POSITIVE_INFINITY : 1, state: 'exceeded' };
  const ratio = used / limit;
  return { ratio, state: ratio >= 1 ? 'exceeded' : ratio >= NEAR ? 'near_threshold' : 'normal' };
}

export function periodStatus(which: 'month' | 'week', row: SpendRow, limit: number | null): PeriodStatus {
  const { ratio, state } = stateOf(row.spent + row.reserved, limit);
  return {
    period: which,
    key: row.period,
    limit,
    spent: row.spent,
    reserved: row.reserved,
    unsettled: row.unsettled,
    ratio,
    state,
    remaining: limit === null ? null : Math.max(0, limit - row.spent - row.reserved),
  };
}

export function statusOf(role: Role, spend: Spend, limits: RoleLimits): BudgetStatus {
  const month = periodStatus('month', spend.month, limits.month);
  const week = periodStatus('week', spend.week, limits.week);
  const worst =
    RANK[week.state] > RANK[month.state] || (week.state === month.state && week.ratio > month.ratio) ? week : month;
  return { role, state: worst.state, ratio: worst.ratio, onExceeded: limits.onExceeded, month, week };
}

/** Smallest room left across the limited periods (null: unlimited). */
export const remaining = (s: BudgetStatus): number | null =>
  s.month.remaining === null
    ? s.week.remaining
    : s.week.remaining === null
      ? s.month.remaining
      : Math.min(s.month.remaining, s.week.remaining);

/** Why `amount` does not fit: the first limited period (the week first) where spent + reserved + amount > limit. */
export interface NoRoom {
  period: 'month' | 'week';
  limit: number;
  spent: number;
  reserved: number;
}

/**
 * The one fit rule of every reservation: it is checked by the store inside the reserving transaction (so
 * concurrent calls cannot both pass) and by dry runs on a snapshot (so they decide as a real call would).
 */
export function noRoom(
  spend: { week: Pick<SpendRow, 'spent' | 'reserved'>; month: Pick<SpendRow, 'spent' | 'reserved'> },
  limits: { month: number | null; week: number | null },
  amount: number,
): NoRoom | undefined {
  if (amount <= 0) return undefined;
  for (const period of ['week', 'month'] as const) {
    const limit = limits[period];
    const { spent, reserved } = spend[period];
    if (limit !== null && spent + reserved + amount > limit) return { period, limit, spent, reserved };
  }
  return undefined;
}

export type Reservation =
  | { ok: true; id: string; keys: PeriodKeys; amount: number }
  | { ok: false; period: 'month' | 'week'; limit: number; spent: number; reserved: number };

/** The part of a ledger the router uses: another implementation (a file, a remote service) can stand in. */
export type LedgerPort = Pick<BudgetLedger, 'status' | 'keys' | 'reserve' | 'settle' | 'release'>;

export class BudgetLedger {
  private readonly now: () => number;
  private readonly live = new Set<string>();
  private beat: NodeJS.Timeout | undefined;
  private lastBeat = 0;

  constructor(
    readonly store: BudgetStore,
    readonly settings: BudgetSettings,
    private readonly opts: {
      now?: () => number;
      onAlert?: (a: BudgetAlert) => Promise<void> | void;
      owner?: OwnerIdentity;
      /** Tests: is this pid alive on this host? */
      isAlive?: (pid: number) => boolean;
    } = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  get owner(): OwnerIdentity {
    this.opts.owner ??= defaultOwner();
    return this.opts.owner;
  }

  private get heartbeatMs(): number {
    return this.settings.ownerHeartbeatMs ?? 15_000;
  }

  private get ownerTtlMs(): number {
    return this.settings.ownerTtlMs ?? 60_000;
  }

  keys(at = this.now()): PeriodKeys {
    return periodKeys(at, this.settings.timezone);
  }

  /** Stored limits win over the config file's. */
  async limits(role: Role): Promise<RoleLimits> {
    const b: Budget | undefined = await this.store.getBudget(role);
    const d = this.settings.defaults[role];
    const fromCfg = (c: number | undefined) => (c === undefined ? null : centsToMicro(c));
    if (b) {
      return {
        month: b.monthlyMicrocents,
        week: b.weeklyMicrocents,
        onExceeded: b.onExceeded ?? d?.on_exceeded ?? this.settings.onExceeded,
        source: 'store',
      };
    }
    return {
      month: fromCfg(d?.monthly),
      week: fromCfg(d?.weekly),
      onExceeded: d?.on_exceeded ?? this.settings.onExceeded,
      source: d ? 'config' : 'none',
    };
  }

  async status(role: Role, at = this.now()): Promise<BudgetStatus> {
    const [limits, spend] = await Promise.all([this.limits(role), this.store.spend(role, this.keys(at))]);
    return statusOf(role, spend, limits);
  }

  /** This process says it is alive, so the reservations it holds are not taken for orphans. */
  private async heartbeat(): Promise<void> {
    this.lastBeat = this.now();
    await this.store.heartbeatOwner({ ...this.owner, lastSeen: this.lastBeat });
  }

  private async ensureHeartbeat(): Promise<void> {
    if (this.now() - this.lastBeat > this.heartbeatMs / 2) await this.heartbeat();
    if (!this.beat) {
      this.beat = setInterval(() => {
        if (this.live.size === 0) return this.stopHeartbeat();
        void this.heartbeat().catch(() => {});
      }, this.heartbeatMs);
      this.beat.unref();
    }
  }

  private stopHeartbeat(): void {
    if (this.beat) clearInterval(this.beat);
    this.beat = undefined;
  }

  async reserve(role: Role, amount: number, limits?: RoleLimits, meta?: ReservationMeta): Promise<Reservation> {
    await this.ensureHeartbeat();
    const now = this.now();
    const keys = this.keys(now);
    const l = limits ?? (await this.limits(role));
    const id = uuid();
    this.live.add(id);
    const r = await this.store
      .reserve({
        id,
        role,
        keys,
        amount,
        limits: { month: l.month, week: l.week },
        fits: noRoom,
        now,
        ttlMs: this.settings.reservationTtlMs,
        owner: this.owner.id,
        ownerStaleBefore: now - this.ownerTtlMs,
        meta,
      })
      .catch((e) => {
        this.live.delete(id);
        throw e;
      });
    if (!r.ok) {
      this.live.delete(id);
      return r;
    }
    return { ok: true, id, keys, amount };
  }

  /**
   * Charges the reservations of dead processes in full, as `unsettled` cost records: those past their deadline,
   * those whose process stopped heartbeating, and (at once) those of processes on this host that no longer exist.
   */
  async reapOrphans(): Promise<CostRecord[]> {
    const now = this.now();
    const alive = this.opts.isAlive ?? processAlive;
    const dead = (await this.store.listOwners())
      .filter((o) => o.id !== this.owner.id && o.host === this.owner.host && !alive(o.pid))
      .map((o) => o.id);
    const charged = await this.store.settleOrphans({ now, ownerStaleBefore: now - this.ownerTtlMs, deadOwners: dead });
    for (const c of charged) await this.checkAlerts(c.role, await this.store.spend(c.role, this.keys(now)));
    return charged;
  }

  /** A person enters the provider's figure for an unsettled charge. */
  async reconcile(costId: string, actualMicrocents: number): Promise<CostRecord | undefined> {
    return this.store.reconcileCost(costId, actualMicrocents, this.now());
  }

  /** Stops heartbeating and forgets this process (its reservations, if any are left, become orphans). */
  async close(): Promise<void> {
    this.stopHeartbeat();
    if (this.lastBeat && this.live.size === 0) await this.store.removeOwner(this.owner.id).catch(() => {});
  }

  /** Settles a reservation (or records a cost without one) and raises the alerts this spend crossed. */
  async settle(reservationId: string | null, cost: CostRecord): Promise<Spend> {
    const spend = await this.store.settle(reservationId, cost);
    if (reservationId) this.live.delete(reservationId);
    if (cost.costMicrocents > 0) await this.checkAlerts(cost.role, spend);
    return spend;
  }

  release(reservationId: string): Promise<boolean> {
    this.live.delete(reservationId);
    return this.store.release(reservationId);
  }

  /** Alerts are about money spent (settled), not held: a released reservation never raises one. */
  private async checkAlerts(role: Role, spend: Spend): Promise<void> {
    const limits = await this.limits(role);
    for (const which of ['month', 'week'] as const) {
      const limit = limits[which];
      if (limit === null) continue;
      const row = spend[which];
      const { ratio, state } = stateOf(row.spent, limit);
      const levels =
        state === 'exceeded'
          ? (['near_threshold', 'exceeded'] as const)
          : state === 'near_threshold'
            ? (['near_threshold'] as const)
            : [];
      for (const level of levels) {
        const id = `budget:${role}:${row.period}:${level}`;
        const fresh = await this.store.insertAlert({ id, role, period: row.period, level, ratio, now: this.now() });
        if (!fresh) continue;
        const pct = Number.isFinite(ratio) ? `${Math.round(ratio * 100)}%` : 'over a zero limit';
        await this.opts.onAlert?.({
          id,
          severity: level === 'exceeded' ? 'critical' : 'warning',
          source: 'budget',
          message: `${role} has spent ${pct} of its ${which === 'month' ? 'monthly' : 'weekly'} budget (${row.period})`,
          metadata: { role, period: row.period, level, ratio, limit_cents: limit / 1_000_000 },
        });
      }
    }
  }
}
