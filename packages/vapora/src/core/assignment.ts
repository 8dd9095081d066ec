import type { Agent } from './model.js';
import type { Role } from './roles.js';
import type { ExecStats } from './store.js';

/**
 * Learning-based assignment:
 *
 *   score = 0.3·(1 − load) + 0.5·expertise + 0.2·confidence
 *
 * - load is the agent's utilisation, 0 (idle) … 1 (full); (1 − load) makes an idle agent score higher.
 * - expertise is the success rate for the task type with executions of the last 7 days weighted 3×:
 *     (3·s_recent + s_old) / (3·n_recent + n_old)
 *   taken from the agent's own history; an agent with none for this type gets its role's (all agents of the role
 *   pooled), and with no history anywhere the neutral 0.5.
 * - confidence = n / (n + 5), n = the agent's own executions of this type: 0 with no history, 0.17 after one,
 *   0.5 after five, 0.8 after twenty, 0.95 after a hundred. It is what keeps a lucky 1-for-1 agent
 *   (0.5·1 + 0.2·0.17 = 0.53) below a 95-for-100 one (0.5·0.95 + 0.2·0.95 = 0.66) at equal load.
 *
 * Offline agents, agents whose last heartbeat is older than the timeout, and full agents (load ≥ 1) are never
 * chosen; they are listed with the reason. Ties (scores equal to 1e-9) go to the lower load, then the smaller id:
 * the same inputs always give the same choice.
 */
export const WEIGHTS = { load: 0.3, expertise: 0.5, confidence: 0.2 } as const;
export const RECENT_MS = 7 * 24 * 3600 * 1000;
export const RECENT_WEIGHT = 3;
export const CONFIDENCE_K = 5;
export const NEUTRAL_EXPERTISE = 0.5;

export interface Counts {
  nRecent: number;
  sRecent: number;
  nOld: number;
  sOld: number;
}

export function weightedSuccess(c: Counts): number | undefined {
  const den = RECENT_WEIGHT * c.nRecent + c.nOld;
  return den > 0 ? (RECENT_WEIGHT * c.sRecent + c.sOld) / den : undefined;
}

export const confidence = (n: number): number => (n > 0 ? n / (n + CONFIDENCE_K) : 0);

export const score = (load: number, expertise: number, conf: number): number =>
  WEIGHTS.load * (1 - load) + WEIGHTS.expertise * expertise + WEIGHTS.confidence * conf;

export interface Candidate {
  agentId: string;
  role: Role;
  eligible: boolean;
  /** Why not, when not eligible. */
  reason?: string;
  score: number;
  load: number;
  expertise: number;
  expertiseFrom: 'agent' | 'role' | 'none';
  confidence: number;
  samples: number;
  /** `0.3×(1−0.20) + 0.5×0.950 + 0.2×0.952 = 0.905` */
  explain: string;
}

export interface RankOptions {
  /** Only agents of this role (null/undefined: any role). */
  role?: Role | null | undefined;
  now: number;
  heartbeatTimeoutMs: number;
}

export interface Ranking {
  chosen: Candidate | undefined;
  /** Eligible ones best first, then the excluded ones. */
  candidates: Candidate[];
}

const EPS = 1e-9;

/** a before b? (the deterministic order) */
function better(a: { score: number; load: number; agentId: string }, b: typeof a): boolean {
  if (a.score > b.score + EPS) return true;
  if (b.score > a.score + EPS) return false;
  if (a.load !== b.load) return a.load < b.load;
  return a.agentId < b.agentId;
}

function exclusion(a: Agent, o: RankOptions): string | undefined {
  if (a.status === 'offline') return 'offline';
  if (a.lastHeartbeat === null) return 'no heartbeat yet';
  const age = o.now - a.lastHeartbeat;
  if (age > o.heartbeatTimeoutMs) return `stale heartbeat (${Math.round(age / 1000)} s ago)`;
  if (a.load >= 1) return 'full (load 1.0)';
  return undefined;
}

function pool(stats: Iterable<ExecStats>): Map<Role, Counts> {
  const out = new Map<Role, Counts>();
  for (const s of stats) {
    const c = out.get(s.role) ?? { nRecent: 0, sRecent: 0, nOld: 0, sOld: 0 };
    c.nRecent += s.nRecent;
    c.sRecent += s.sRecent;
    c.nOld += s.nOld;
    c.sOld += s.sOld;
    out.set(s.role, c);
  }
  return out;
}

function evaluate(a: Agent, own: ExecStats | undefined, byRole: Map<Role, Counts>) {
  const load = Math.min(1, Math.max(0, a.load));
  const samples = own ? own.nRecent + own.nOld : 0;
  let expertise = own ? weightedSuccess(own) : undefined;
  let from: Candidate['expertiseFrom'] = 'agent';
  if (expertise === undefined) {
    const r = byRole.get(a.role);
    expertise = r ? weightedSuccess(r) : undefined;
    from = expertise === undefined ? 'none' : 'role';
  }
  const e = expertise ?? NEUTRAL_EXPERTISE;
  const conf = confidence(samples);
  return { load, samples, expertise: e, from, conf, score: score(load, e, conf) };
}

/** Ranks every agent for a task of one type, with the arithmetic of each score (for `assign` to show). */
export function rankAgents(agents: Agent[], stats: ExecStats[], o: RankOptions): Ranking {
  const own = new Map(stats.map((s) => [s.agentId, s]));
  const byRole = pool(stats);
  const eligible: { c: Candidate; score: number; load: number; agentId: string }[] = [];
  const excluded: Candidate[] = [];
  for (const a of agents) {
    if (o.role && a.role !== o.role) continue;
    const v = evaluate(a, own.get(a.id), byRole);
    const why = exclusion(a, o);
    const c: Candidate = {
      agentId: a.id,
      role: a.role,
      eligible: why === undefined,
      ...(why ? { reason: why } : {}),
      score: round(v.score),
      load: round(v.load),
      expertise: round(v.expertise),
      expertiseFrom: v.from,
      confidence: round(v.conf),
      samples: v.samples,
      explain: `0.3×(1−${v.load.toFixed(2)}) + 0.5×${v.expertise.toFixed(3)} + 0.2×${v.conf.toFixed(3)} = ${v.score.toFixed(3)}`,
    };
    if (why) excluded.push(c);
    else eligible.push({ c, score: v.score, load: v.load, agentId: a.id });
  }
  eligible.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  excluded.sort((a, b) => (a.agentId < b.agentId ? -1 : 1));
  return { chosen: eligible[0]?.c, candidates: [...eligible.map((e) => e.c), ...excluded] };
}

/**
 * The same choice as rankAgents without building explanations: one pass, no sort (the benchmark's path, and
 * the coordinator's when it only needs the winner). `own` maps agent id → its stats for the task type.
 */
export function pickAgent(
  agents: Agent[],
  own: Map<string, ExecStats>,
  o: RankOptions,
): { agentId: string; score: number } | undefined {
  let byRole: Map<Role, Counts> | undefined;
  let bestId: string | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestLoad = 0;
  const oldest = o.now - o.heartbeatTimeoutMs;
  for (const a of agents) {
    if (o.role && a.role !== o.role) continue;
    if (a.status === 'offline' || a.lastHeartbeat === null || a.lastHeartbeat < oldest || a.load >= 1) continue;
    const load = a.load < 0 ? 0 : a.load;
    const s = own.get(a.id);
    const n = s ? s.nRecent + s.nOld : 0;
    let e: number | undefined;
    if (s) {
      const den = RECENT_WEIGHT * s.nRecent + s.nOld;
      if (den > 0) e = (RECENT_WEIGHT * s.sRecent + s.sOld) / den;
    }
    if (e === undefined) {
      byRole ??= pool(own.values());
      const r = byRole.get(a.role);
      e = (r && weightedSuccess(r)) ?? NEUTRAL_EXPERTISE;
    }
    const sc =
      WEIGHTS.load * (1 - load) + WEIGHTS.expertise * e + WEIGHTS.confidence * (n > 0 ? n / (n + CONFIDENCE_K) : 0);
    if (
      bestId === undefined ||
      sc > bestScore + EPS ||
      (sc >= bestScore - EPS && (load < bestLoad || (load === bestLoad && a.id < bestId)))
    ) {
      bestId = a.id;
      bestScore = sc;
      bestLoad = load;
    }
  }
  return bestId === undefined ? undefined : { agentId: bestId, score: round(bestScore) };
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
