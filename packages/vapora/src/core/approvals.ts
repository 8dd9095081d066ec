import { conflictError, deniedError, notFoundError } from '@stratumiops/shared/errors';
import type { Caller } from './auth.js';
import type { ApprovalEvent, Bus } from './bus.js';
import { uuid } from './ids.js';
import type { Approval, ApprovalKind } from './model.js';
import type { Role } from './roles.js';
import type { ApprovalStore } from './store.js';

export interface ApprovalSettings {
  /** Roles whose work waits for approval before it runs. */
  roles: readonly Role[];
  /** Roles whose pipeline steps can block a run. */
  canBlock: readonly Role[];
  /** 0 = requests never expire. */
  timeoutMs: number;
}

export const DEFAULT_APPROVALS: ApprovalSettings = {
  roles: ['devops', 'security'],
  canBlock: ['security'],
  timeoutMs: 0,
};

/** What happens when a request is decided: the task runs (or fails), the pipeline step goes on (or the run fails). */
export type DecisionHandler = (a: Approval, outcome: 'approved' | 'rejected', by: string) => Promise<void>;

/**
 * The approval desk: requests are stored (who asked, when, what for), published on `vapora.approvals.request`,
 * decided once (compare-and-set on `pending`) by someone other than the requester, published on
 * `vapora.approvals.response`, and expire into a rejection when nobody decides in time. Who may decide at all is
 * the API's Cedar decision (`approve` on `task`), made before this is called.
 */
export class ApprovalDesk {
  private readonly handlers = new Map<ApprovalKind, DecisionHandler>();

  constructor(
    private readonly store: ApprovalStore,
    readonly settings: ApprovalSettings,
    private readonly o: { bus?: () => Bus | undefined; now: () => number },
  ) {}

  needsApproval(role: Role | null | undefined): boolean {
    return role !== null && role !== undefined && this.settings.roles.includes(role);
  }

  canBlock(role: Role): boolean {
    return this.settings.canBlock.includes(role);
  }

  on(kind: ApprovalKind, h: DecisionHandler): void {
    this.handlers.set(kind, h);
  }

  async request(r: {
    kind: ApprovalKind;
    role: Role;
    action: string;
    taskId?: string | null;
    runId?: string | null;
    stepId?: string | null;
    details?: Record<string, unknown>;
    requestedBy?: string | null;
  }): Promise<Approval> {
    const now = this.o.now();
    const a: Approval = {
      id: `ap-${uuid().slice(0, 8)}`,
      kind: r.kind,
      taskId: r.taskId ?? null,
      runId: r.runId ?? null,
      stepId: r.stepId ?? null,
      role: r.role,
      action: r.action,
      details: r.details ?? {},
      status: 'pending',
      requestedBy: r.requestedBy ?? null,
      requestedAt: now,
      expiresAt: this.settings.timeoutMs > 0 ? now + this.settings.timeoutMs : null,
      decidedBy: null,
      decidedAt: null,
      reason: null,
    };
    await this.store.createApproval(a);
    await this.publish(a);
    return a;
  }

  list(status?: Approval['status']): Promise<Approval[]> {
    return this.store.listApprovals(status ? { status } : {});
  }

  /** An approval id, or the task (or `run/step`) it is for: its pending request. */
  async find(ref: string): Promise<Approval> {
    const byId = await this.store.getApproval(ref);
    if (byId) return byId;
    const [runId, stepId] = ref.includes('/') ? ref.split('/', 2) : [undefined, undefined];
    const pending = await this.store.listApprovals(
      runId ? { status: 'pending', runId } : { status: 'pending', taskId: ref },
    );
    const match = pending.filter((a) => !stepId || a.stepId === stepId);
    if (match.length === 0)
      throw notFoundError(`nothing waits for approval under '${ref}'`, { hint: "see 'vapora approvals'" });
    if (match.length > 1)
      throw conflictError(`'${ref}' has ${match.length} pending approvals; name one by id`, {
        details: { ids: match.map((a) => a.id) },
      });
    return match[0] as Approval;
  }

  /** Approves or rejects a pending request once; the requester may not decide their own. */
  async decide(
    ref: string,
    outcome: 'approved' | 'rejected',
    reason: string | null,
    caller?: Caller,
  ): Promise<Approval> {
    const a = await this.find(ref);
    if (a.status !== 'pending') throw conflictError(`approval ${a.id} is already ${a.status}`);
    if (caller && a.requestedBy === caller.tokenId) {
      throw deniedError(`token '${caller.name}' asked for approval ${a.id} and cannot decide it`, {
        hint: 'another operator decides',
      });
    }
    const by = caller ? `${caller.name} (${caller.role})` : 'local';
    const decided = await this.store.decideApproval(a.id, {
      status: outcome,
      decidedBy: by,
      reason,
      now: this.o.now(),
    });
    if (!decided) throw conflictError(`approval ${a.id} was decided meanwhile`);
    await this.publish(decided);
    await this.handlers.get(decided.kind)?.(decided, outcome, by);
    return decided;
  }

  /** Requests nobody decided in time are rejected as timed out. */
  async expire(): Promise<Approval[]> {
    const now = this.o.now();
    const out: Approval[] = [];
    for (const a of await this.store.listApprovals({ status: 'pending' })) {
      if (a.expiresAt === null || a.expiresAt > now) continue;
      const d = await this.store.decideApproval(a.id, {
        status: 'expired',
        decidedBy: null,
        reason: 'timed out',
        now,
      });
      if (!d) continue;
      await this.publish(d);
      await this.handlers.get(d.kind)?.(d, 'rejected', 'timeout');
      out.push(d);
    }
    return out;
  }

  private async publish(a: Approval): Promise<void> {
    const e: ApprovalEvent = {
      id: a.id,
      kind: a.kind,
      status: a.status,
      role: a.role,
      action: a.action,
      task_id: a.taskId,
      run_id: a.runId,
      step_id: a.stepId,
      requested_by: a.requestedBy,
      decided_by: a.decidedBy,
      reason: a.reason,
      at: a.decidedAt ?? a.requestedAt,
    };
    await this.o
      .bus?.()
      ?.publishApproval(e)
      .catch(() => {});
  }
}
