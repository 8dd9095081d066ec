import { ExitCode, type ExitCodeName, StratumError, unavailableError } from '@stratumiops/shared/errors';
import type { VaporaService } from '../core/service.js';

/**
 * What the CLI (and other tools) do with vapora, wherever it runs: the local service over this machine's store,
 * or `VaporaClient` against a remote `vapora serve`. Both return the same JSON shapes, so `--json` output does not
 * depend on where the work happened.
 */
export type VaporaApi = Pick<
  VaporaService,
  | 'createProject'
  | 'listProjects'
  | 'createTask'
  | 'listTasks'
  | 'taskDetail'
  | 'updateTask'
  | 'assign'
  | 'addAgent'
  | 'listAgents'
  | 'getAgent'
  | 'agentHealth'
  | 'heartbeat'
  | 'expertise'
  | 'route'
  | 'callLlm'
  | 'budgets'
  | 'setBudget'
  | 'costs'
  | 'unsettledCosts'
  | 'reconcileCost'
  | 'swarmStatus'
  | 'listPipelines'
  | 'showPipeline'
  | 'startPipeline'
  | 'pipelineStatus'
  | 'cancelRun'
  | 'resumeRun'
  | 'raiseAlert'
  | 'listApprovals'
  | 'approve'
  | 'reject'
  | 'createToken'
  | 'listTokens'
  | 'revokeToken'
>;

type R<K extends keyof VaporaApi> = Awaited<ReturnType<VaporaApi[K]>>;

const BY_STATUS: Record<number, ExitCodeName> = {
  400: 'validation',
  401: 'denied',
  403: 'denied',
  404: 'notFound',
  409: 'conflict',
  503: 'unavailable',
};

const enc = encodeURIComponent;

function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The REST API over fetch, with a bearer token; errors come back as the server's StratumErrors (same exit codes). */
export class VaporaClient implements VaporaApi {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    private readonly o: { timeoutMs?: number } = {},
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 600_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw unavailableError(`cannot reach vapora at ${this.base}: ${cause}`, {
        hint: 'is vapora serve running there? check VAPORA_URL',
      });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw unavailableError(`${method} ${this.base}${path} answered ${res.status} with a body that is not JSON`);
    }
    if (res.ok) return json as T;
    const err = (json as { error?: { code?: string; message?: string; hint?: string; details?: unknown } })?.error;
    const code: ExitCodeName =
      err?.code && err.code in ExitCode ? (err.code as ExitCodeName) : (BY_STATUS[res.status] ?? 'failure');
    throw new StratumError(code, err?.message ?? `${method} ${path}: HTTP ${res.status}`, {
      ...(err?.hint
        ? { hint: err.hint }
        : res.status === 401
          ? { hint: 'set VAPORA_TOKEN to a token of that server (vapora token create there)' }
          : {}),
      ...(err?.details ? { details: err.details as Record<string, unknown> } : {}),
    });
  }

  createProject(input: unknown): Promise<R<'createProject'>> {
    return this.request('POST', '/projects', input);
  }
  async listProjects(): Promise<R<'listProjects'>> {
    return (await this.request<{ projects: R<'listProjects'> }>('GET', '/projects')).projects;
  }
  createTask(input: unknown): Promise<R<'createTask'>> {
    return this.request('POST', '/tasks', input);
  }
  async listTasks(f: { status?: string; project?: string; role?: string; agent?: string } = {}) {
    return (await this.request<{ tasks: R<'listTasks'> }>('GET', `/tasks${query(f)}`)).tasks;
  }
  taskDetail(id: string): Promise<R<'taskDetail'>> {
    return this.request('GET', `/tasks/${enc(id)}`);
  }
  updateTask(id: string, input: unknown): Promise<R<'updateTask'>> {
    return this.request('PUT', `/tasks/${enc(id)}`, input);
  }
  assign(
    id: string,
    o: { agentId?: string | undefined; role?: string | undefined; dryRun?: boolean | undefined } = {},
  ): Promise<R<'assign'>> {
    return this.request('POST', `/tasks/${enc(id)}/assign`, {
      ...(o.agentId ? { agent_id: o.agentId } : {}),
      ...(o.role ? { role: o.role } : {}),
      dry_run: o.dryRun === true,
    });
  }
  addAgent(input: unknown): Promise<R<'addAgent'>> {
    return this.request('POST', '/agents', input);
  }
  async listAgents(f: { role?: string; status?: string } = {}) {
    return (await this.request<{ agents: R<'listAgents'> }>('GET', `/agents${query(f)}`)).agents;
  }
  getAgent(id: string): Promise<R<'getAgent'>> {
    return this.request('GET', `/agents/${enc(id)}`);
  }
  agentHealth(id: string): Promise<R<'agentHealth'>> {
    return this.request('GET', `/agents/${enc(id)}/health`);
  }
  heartbeat(id: string, input: unknown): Promise<R<'heartbeat'>> {
    return this.request('POST', `/agents/${enc(id)}/heartbeat`, input);
  }
  async expertise(roleOrAgent?: string): Promise<R<'expertise'>> {
    const path = roleOrAgent ? `/agents/${enc(roleOrAgent)}/expertise` : '/expertise';
    return (await this.request<{ expertise: R<'expertise'> }>('GET', path)).expertise;
  }
  route(taskType: string, role: string, o: { maxTokens?: number; prompt?: string } = {}): Promise<R<'route'>> {
    return this.request('POST', '/llm/route', {
      task_type: taskType,
      role,
      ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
      ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}),
    });
  }
  callLlm(taskType: string, role: string, o: { prompt: string; maxTokens?: number | undefined }) {
    return this.request<R<'callLlm'>>('POST', '/llm/route', {
      task_type: taskType,
      role,
      prompt: o.prompt,
      ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}),
      send: true,
    });
  }
  async budgets(role?: string): Promise<R<'budgets'>> {
    if (role) return [await this.request('GET', `/llm/budget/${enc(role)}`)];
    return (await this.request<{ budgets: R<'budgets'> }>('GET', '/llm/budget')).budgets;
  }
  setBudget(role: string, input: unknown): Promise<R<'setBudget'>> {
    return this.request('PUT', `/llm/budget/${enc(role)}`, input);
  }
  async costs(o: { by?: string; since?: number; role?: string; provider?: string } = {}): Promise<R<'costs'>> {
    const since = o.since === undefined ? undefined : new Date(o.since).toISOString();
    const q = query({ by: o.by, since, role: o.role, provider: o.provider });
    return (await this.request<{ costs: R<'costs'> }>('GET', `/llm/costs${q}`)).costs;
  }
  async unsettledCosts(): Promise<R<'unsettledCosts'>> {
    return (await this.request<{ unsettled: R<'unsettledCosts'> }>('GET', '/llm/costs/unsettled')).unsettled;
  }
  reconcileCost(id: string, input: unknown): Promise<R<'reconcileCost'>> {
    return this.request('POST', `/llm/costs/${enc(id)}/reconcile`, input);
  }
  swarmStatus(): Promise<R<'swarmStatus'>> {
    return this.request('GET', '/swarm/status');
  }
  listPipelines(): Promise<R<'listPipelines'>> {
    return this.request('GET', '/pipelines');
  }
  showPipeline(name: string): Promise<R<'showPipeline'>> {
    return this.request('GET', `/pipelines/${enc(name)}`);
  }
  startPipeline(name: string, input: unknown): Promise<R<'startPipeline'>> {
    return this.request('POST', `/pipelines/${enc(name)}/runs`, input);
  }
  pipelineStatus(id: string): Promise<R<'pipelineStatus'>> {
    return this.request('GET', `/runs/${enc(id)}`);
  }
  cancelRun(id: string): Promise<R<'cancelRun'>> {
    return this.request('POST', `/runs/${enc(id)}/cancel`);
  }
  resumeRun(id: string): Promise<R<'resumeRun'>> {
    return this.request('POST', `/runs/${enc(id)}/resume`);
  }
  raiseAlert(input: unknown): Promise<R<'raiseAlert'>> {
    return this.request('POST', '/alerts', input);
  }
  async listApprovals(o: { all?: boolean } = {}): Promise<R<'listApprovals'>> {
    const q = o.all ? '?all=true' : '';
    return (await this.request<{ approvals: R<'listApprovals'> }>('GET', `/approvals${q}`)).approvals;
  }
  approve(ref: string, input: unknown): Promise<R<'approve'>> {
    return this.request('POST', `/approvals/${enc(ref)}/approve`, input);
  }
  reject(ref: string, input: unknown): Promise<R<'reject'>> {
    return this.request('POST', `/approvals/${enc(ref)}/reject`, input);
  }
  createToken(input: unknown): Promise<R<'createToken'>> {
    return this.request('POST', '/tokens', input);
  }
  async listTokens(): Promise<R<'listTokens'>> {
    return (await this.request<{ tokens: R<'listTokens'> }>('GET', '/tokens')).tokens;
  }
  revokeToken(id: string): Promise<R<'revokeToken'>> {
    return this.request('DELETE', `/tokens/${enc(id)}`);
  }
}
