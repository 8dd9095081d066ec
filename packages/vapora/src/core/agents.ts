import { notFoundError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { confidence, RECENT_MS, weightedSuccess } from './assignment.js';
import type { Heartbeat } from './bus.js';
import { parseCommandTemplate } from './exec-template.js';
import { shortId } from './ids.js';
import { AGENT_STATUSES, type Agent, agentInput, heartbeatInput, type ProviderName, roleSchema } from './model.js';
import { parse } from './parse.js';
import { ROLES } from './roles.js';
import { type LlmRouter, type Route, roleDefaultRoute } from './router.js';
import type { AgentStore, AssignmentStore, TaskStore } from './store.js';

/** The agent's own route: its provider/model, pinned for exec commands. */
export function agentRoute(a: Pick<Agent, 'id' | 'role' | 'provider' | 'model'>): Route {
  if (a.provider === 'exec') {
    return { source: `agent ${a.id}`, primary: { provider: 'exec', model: a.model }, fallback: [], pinned: true };
  }
  return {
    source: `agent ${a.id}`,
    primary: { provider: a.provider, model: a.model },
    fallback: roleDefaultRoute(a.role).fallback,
  };
}

/** Agents: registration (a priced model or a safe command), heartbeats and staleness, health, expertise. */
export class Agents {
  constructor(
    private readonly store: AgentStore & Pick<TaskStore, 'tasksOfAgent'> & AssignmentStore,
    private readonly router: LlmRouter,
    private readonly now: () => number,
    readonly heartbeatTimeoutMs: number,
  ) {}

  /** Registers an agent; `warnings` names what will stop it from working here (a missing API key). */
  async addAgent(input: unknown): Promise<Agent & { warnings?: string[] }> {
    const a = parse(agentInput, input, 'agent');
    const provider: ProviderName = a.provider ?? (a.command ? 'exec' : roleDefaultRoute(a.role).primary.provider);
    let model = provider === 'exec' ? (a.command ?? a.model) : a.model;
    if (!model) {
      const def = roleDefaultRoute(a.role).primary;
      if (def.provider !== provider) {
        throw validationError(`--model is needed for a ${provider} agent (the ${a.role} default is ${def.provider})`);
      }
      model = def.model;
    }
    // Split once, here: a template that would let task data become code is refused before it is stored.
    if (provider === 'exec') parseCommandTemplate(model as string);
    if (provider !== 'exec' && !this.router.o.prices.get(provider, model)) {
      throw validationError(`model '${model}' of ${provider} has no price entry`, {
        hint: 'add [[prices]] to vapora.toml (input = 0, output = 0 for a local model): unpriced models are refused',
      });
    }
    const now = this.now();
    const agent: Agent = {
      id: a.id ?? shortId(a.role, 4),
      role: a.role,
      provider,
      model: model as string,
      status: 'ready',
      load: 0,
      capacity: a.capacity,
      // Registration counts as a first heartbeat: the agent is eligible until heartbeat_timeout passes.
      lastHeartbeat: now,
      createdAt: now,
    };
    await this.store.createAgent(agent);
    // A worker on another machine may have the key: say it, do not refuse.
    const problem = this.router.o.credentialProblem?.(provider);
    return problem
      ? { ...agent, warnings: [`${problem} (needed on the machine that runs this agent's tasks)`] }
      : agent;
  }

  async getAgent(id: string): Promise<Agent> {
    const a = await this.store.getAgent(id);
    if (!a) throw notFoundError(`no agent '${id}'`, { hint: "see 'vapora agent list'" });
    return a;
  }

  isStale(a: Agent, now = this.now()): boolean {
    return a.lastHeartbeat === null || now - a.lastHeartbeat > this.heartbeatTimeoutMs;
  }

  async listAgents(f: { role?: string; status?: string } = {}): Promise<(Agent & { stale: boolean })[]> {
    const filter = parse(
      z.object({ role: roleSchema.optional(), status: z.enum(AGENT_STATUSES).optional() }),
      f,
      'filter',
    );
    const agents = await this.store.listAgents(filter);
    const now = this.now();
    return agents.map((a) => ({ ...a, stale: this.isStale(a, now) }));
  }

  async agentHealth(id: string) {
    const a = await this.getAgent(id);
    const now = this.now();
    const stale = this.isStale(a, now);
    const [doing, executions] = await Promise.all([
      this.store.tasksOfAgent(id, 'doing'),
      this.store.listExecutions({ agentId: id, limit: 1000 }),
    ]);
    const tried = executions.filter((e) => e.outcome !== 'refused');
    const ok = tried.filter((e) => e.outcome === 'success').length;
    return {
      agent: a,
      healthy: a.status !== 'offline' && !stale,
      stale,
      heartbeat_age_s: a.lastHeartbeat === null ? null : Math.round((now - a.lastHeartbeat) / 1000),
      heartbeat_timeout_s: Math.round(this.heartbeatTimeoutMs / 1000),
      current_tasks: doing.map((t) => t.id),
      executions: {
        total: tried.length,
        success: ok,
        refused_by_budget: executions.length - tried.length,
        success_rate: tried.length ? ok / tried.length : null,
      },
    };
  }

  async heartbeat(id: string, input: unknown): Promise<Agent> {
    const h = parse(heartbeatInput, input, 'heartbeat');
    await this.getAgent(id);
    const out = await this.store.updateAgent(id, {
      status: h.status,
      ...(h.load !== undefined ? { load: h.load } : {}),
      lastHeartbeat: this.now(),
    });
    return out as Agent;
  }

  /** A heartbeat from the bus: unknown agents are ignored (a worker registers through the store first). */
  async applyHeartbeat(h: Heartbeat): Promise<void> {
    const a = await this.store.getAgent(h.agent_id);
    if (!a) return;
    await this.store.updateAgent(h.agent_id, { status: h.status, load: h.current_load, lastHeartbeat: this.now() });
  }

  /** Expertise profiles of a role or of one agent, per task type. */
  async expertise(roleOrAgent?: string) {
    const stats = await this.store.allExecutionStats(this.now() - RECENT_MS);
    const isRole = roleOrAgent !== undefined && (ROLES as readonly string[]).includes(roleOrAgent);
    if (roleOrAgent !== undefined && !isRole) await this.getAgent(roleOrAgent);
    return stats
      .filter((s) => roleOrAgent === undefined || (isRole ? s.role === roleOrAgent : s.agentId === roleOrAgent))
      .map((s) => {
        const n = s.nRecent + s.nOld;
        return {
          agent_id: s.agentId,
          role: s.role,
          task_type: s.taskType,
          executions: n,
          recent: s.nRecent,
          success_rate: n ? (s.sRecent + s.sOld) / n : 0,
          expertise: weightedSuccess(s) ?? 0,
          confidence: confidence(n),
        };
      });
  }
}
