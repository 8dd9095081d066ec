import { deniedError, ExitCode, StratumError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Action, Caller, Kind, PolicySet } from '../core/auth.js';
import { LlmError } from '../core/llm/types.js';
import { parse } from '../core/parse.js';
import { parseSince } from '../core/periods.js';
import type { VaporaService } from '../core/service.js';
import { BOARD_PATHS, registerBoard } from './board.js';

const STATUS: Record<number, number> = {
  [ExitCode.usage]: 400,
  [ExitCode.validation]: 400,
  [ExitCode.notFound]: 404,
  [ExitCode.denied]: 403,
  [ExitCode.conflict]: 409,
  [ExitCode.unavailable]: 503,
  [ExitCode.failure]: 500,
};

const assignBody = z.strictObject({
  agent_id: z.string().min(1).optional(),
  role: z.string().optional(),
  dry_run: z.boolean().default(false),
});
const swarmAssignBody = assignBody.extend({ task_id: z.string().min(1) });
const routeBody = z.strictObject({
  task_type: z.string().min(1),
  role: z.string().min(1),
  prompt: z.string().max(1_000_000).optional(),
  max_tokens: z.number().int().positive().max(1_000_000).optional(),
  /** Send the prompt through the router (a real, budgeted LLM call); otherwise a dry run. */
  send: z.boolean().default(false),
});
const costsQuery = z.strictObject({
  by: z.string().optional(),
  since: z.string().optional(),
  role: z.string().optional(),
  provider: z.string().optional(),
});

function sendError(reply: FastifyReply, e: unknown) {
  if (e instanceof StratumError) {
    return reply.code(STATUS[e.exitCode] ?? 500).send({
      error: {
        code: e.code,
        message: e.message,
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e.details ? { details: e.details } : {}),
      },
    });
  }
  if (e instanceof LlmError) {
    const attempts = (e as LlmError & { attempts?: unknown }).attempts;
    return reply
      .code(502)
      .send({ error: { code: e.kind, message: e.message, ...(attempts ? { details: { attempts } } : {}) } });
  }
  const fe = e as { statusCode?: number; message?: string; code?: string };
  if (fe?.statusCode && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send({ error: { code: 'usage', message: fe.message ?? 'bad request' } });
  }
  return reply.code(500).send({ error: { code: 'failure', message: (e as Error)?.message ?? 'internal error' } });
}

export interface ApiOptions {
  svc: VaporaService;
  policy: PolicySet;
  /** /metrics answers without a token (loopback bind, or metrics_public). */
  metricsOpen: boolean;
  /** Admins may define exec agents (commands run on this host) over the API. */
  allowExecAgents: boolean;
}

interface Access {
  action: Action;
  kind: Kind;
}

const PUBLIC = new Set(['/health', ...BOARD_PATHS]);
const callers = new WeakMap<FastifyRequest, Caller>();

/** The caller of a request that passed authentication (every route but /health, and /metrics when open). */
export function callerOf(req: FastifyRequest): Caller {
  const c = callers.get(req);
  if (!c) throw deniedError('not authenticated');
  return c;
}

/**
 * Every request but /health needs `Authorization: Bearer <token>` (401 otherwise, before the body is read); each
 * route declares what it does (action) to what (kind), and the Cedar policies decide (403). Project scoping is
 * applied by the service (404 outside the token's projects).
 */
export function registerRoutes(app: FastifyInstance, o: ApiOptions): void {
  const { svc, policy } = o;
  app.setErrorHandler((e, _req, reply) => sendError(reply, e));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'notFound', message: `no route ${req.method} ${req.url}` } }),
  );

  const authorize = async (req: FastifyRequest, a: Access) => {
    const d = await policy.authorize(callerOf(req), a.action, a.kind);
    if (d.error) throw deniedError(`every request is denied: ${d.error}`, { hint: 'fix the policy file' });
    if (!d.allowed) {
      const c = callerOf(req);
      throw deniedError(`token '${c.name}' (${c.role}) may not ${a.action} ${a.kind}`, {
        hint: 'use a token with a wider role, or change policies.cedar',
      });
    }
  };

  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url ?? '';
    if (PUBLIC.has(url) || (url === '/metrics' && o.metricsOpen)) return;
    const h = req.headers.authorization;
    const bearer = h?.startsWith('Bearer ') ? h.slice(7) : undefined;
    const caller = bearer ? await svc.authenticate(bearer) : undefined;
    if (!caller) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="vapora"')
        .send({
          error: {
            code: 'denied',
            message: bearer ? 'invalid, expired or revoked token' : 'missing token',
            hint: "send 'Authorization: Bearer <token>' (vapora token create; vapora init wrote one to .vapora/token)",
          },
        });
    }
    callers.set(req, caller);
    const access = (req.routeOptions.config as { access?: Access } | undefined)?.access;
    if (access) await authorize(req, access);
    else if (url === '/metrics') await authorize(req, { action: 'read', kind: 'metrics' });
  });

  const body = (b: unknown) => (b === undefined || b === null ? {} : b);
  const A = (action: Action, kind: Kind) => ({ config: { access: { action, kind } } });
  type P = { Params: { id: string } };
  type Q = { Querystring: Record<string, string> };

  // The daemon has its own /health already.
  if (!app.hasRoute({ method: 'GET', url: '/health' }))
    app.get('/health', async () => ({ status: 'ok', bus: svc.bus?.kind ?? 'none', storage: svc.store.backend }));

  // Projects
  app.get('/projects', A('read', 'project'), async (req) => ({ projects: await svc.listProjects(callerOf(req)) }));
  app.post('/projects', A('write', 'project'), async (req, reply) =>
    reply.code(201).send(await svc.createProject(body(req.body), callerOf(req))),
  );
  app.get<P>('/projects/:id', A('read', 'project'), async (req) => svc.getProject(req.params.id, callerOf(req)));
  app.put<P>('/projects/:id', A('write', 'project'), async (req) =>
    svc.updateProject(req.params.id, body(req.body), callerOf(req)),
  );
  app.delete<P>('/projects/:id', A('write', 'project'), async (req) => svc.deleteProject(req.params.id, callerOf(req)));

  // Tasks
  app.get<Q>('/tasks', A('read', 'task'), async (req) => ({
    tasks: await svc.listTasks(
      { status: req.query.status, project: req.query.project, role: req.query.role, agent: req.query.agent },
      callerOf(req),
    ),
  }));
  app.post('/tasks', A('write', 'task'), async (req, reply) =>
    reply.code(201).send(await svc.createTask(body(req.body), callerOf(req))),
  );
  app.get<P>('/tasks/:id', A('read', 'task'), async (req) => svc.taskDetail(req.params.id, callerOf(req)));
  app.put<P>('/tasks/:id', A('write', 'task'), async (req) =>
    svc.updateTask(req.params.id, body(req.body), callerOf(req)),
  );
  app.delete<P>('/tasks/:id', A('write', 'task'), async (req) => svc.deleteTask(req.params.id, callerOf(req)));
  app.post<P>('/tasks/:id/assign', A('assign', 'task'), async (req) => {
    const b = parse(assignBody, body(req.body), 'assign request');
    return svc.assign(req.params.id, { agentId: b.agent_id, role: b.role, dryRun: b.dry_run }, callerOf(req));
  });

  // Agents
  app.get<Q>('/agents', A('read', 'agent'), async (req) => ({
    agents: await svc.listAgents({ role: req.query.role, status: req.query.status }),
  }));
  app.post('/agents', A('manage', 'agent'), async (req, reply) => {
    const b = body(req.body) as { provider?: unknown; command?: unknown };
    if ((b.provider === 'exec' || b.command !== undefined) && !o.allowExecAgents) {
      throw deniedError('exec agents (commands run on the server) cannot be defined over the API', {
        hint: 'define them with vapora agent add on the server, or set [server] allow_exec_agents_over_api = true',
      });
    }
    return reply.code(201).send(await svc.addAgent(b));
  });
  app.get<P>('/agents/:id', A('read', 'agent'), async (req) => svc.getAgent(req.params.id));
  app.get<P>('/agents/:id/health', A('read', 'agent'), async (req) => svc.agentHealth(req.params.id));
  // /agents/:role/expertise: a role name or an agent id.
  app.get<P>('/agents/:id/expertise', A('read', 'agent'), async (req) => ({
    expertise: await svc.expertise(req.params.id),
  }));
  app.get('/expertise', A('read', 'agent'), async () => ({ expertise: await svc.expertise() }));
  app.post<P>('/agents/:id/heartbeat', A('manage', 'agent'), async (req) =>
    svc.heartbeat(req.params.id, body(req.body)),
  );

  // LLM router
  app.post('/llm/route', A('read', 'llm'), async (req) => {
    const b = parse(routeBody, body(req.body), 'route request');
    if (!b.send) return svc.route(b.task_type, b.role, { maxTokens: b.max_tokens, prompt: b.prompt });
    await authorize(req, { action: 'call', kind: 'llm' });
    if (!b.prompt) throw validationError('send: true needs a prompt');
    return svc.callLlm(b.task_type, b.role, { prompt: b.prompt, maxTokens: b.max_tokens });
  });
  app.get('/llm/budget', A('read', 'budget'), async () => ({ budgets: await svc.budgets() }));
  app.get<{ Params: { role: string } }>('/llm/budget/:role', A('read', 'budget'), async (req) => {
    const [b] = await svc.budgets(req.params.role);
    return b;
  });
  app.put<{ Params: { role: string } }>('/llm/budget/:role', A('manage', 'budget'), async (req) =>
    svc.setBudget(req.params.role, body(req.body)),
  );
  app.get<Q>('/llm/costs', A('read', 'cost'), async (req) => {
    const q = parse(costsQuery, req.query, 'query');
    return { by: q.by ?? 'provider', costs: await svc.costs({ ...q, since: parseSince(q.since) }) };
  });
  app.get('/llm/costs/unsettled', A('read', 'cost'), async () => ({ unsettled: await svc.unsettledCosts() }));
  app.post<P>('/llm/costs/:id/reconcile', A('manage', 'cost'), async (req) =>
    svc.reconcileCost(req.params.id, body(req.body)),
  );

  // Swarm
  app.post('/swarm/assign', A('assign', 'task'), async (req) => {
    const b = parse(swarmAssignBody, body(req.body), 'assign request');
    return svc.assign(b.task_id, { agentId: b.agent_id, role: b.role, dryRun: b.dry_run }, callerOf(req));
  });
  app.get('/swarm/status', A('read', 'swarm'), async () => svc.swarmStatus());

  // Pipelines: definitions on the server (.vapora/pipelines), runs in the store.
  type N = { Params: { name: string } };
  app.get('/pipelines', A('read', 'task'), async (req) => svc.listPipelines(callerOf(req)));
  app.get<N>('/pipelines/:name', A('read', 'task'), async (req) => svc.showPipeline(req.params.name));
  app.post<N>('/pipelines/:name/runs', A('write', 'task'), async (req, reply) =>
    reply.code(201).send(await svc.startPipeline(req.params.name, body(req.body), callerOf(req))),
  );
  // Alerts start the pipelines whose triggers match (raising one needs what starting a run needs).
  app.post('/alerts', A('write', 'task'), async (req, reply) =>
    reply.code(201).send(await svc.raiseAlert(body(req.body), callerOf(req))),
  );
  app.get<P>('/runs/:id', A('read', 'task'), async (req) => svc.pipelineStatus(req.params.id, callerOf(req)));
  app.post<P>('/runs/:id/cancel', A('write', 'task'), async (req) => svc.cancelRun(req.params.id, callerOf(req)));
  app.post<P>('/runs/:id/resume', A('write', 'task'), async (req) => svc.resumeRun(req.params.id, callerOf(req)));

  // Approvals: `ref` is an approval id, a task id, or `<run>/<step>`.
  app.get<Q>('/approvals', A('read', 'task'), async (req) => ({
    approvals: await svc.listApprovals({ all: req.query.all === 'true' }, callerOf(req)),
  }));
  app.post<{ Params: { ref: string } }>('/approvals/:ref/approve', A('approve', 'task'), async (req) =>
    svc.approve(req.params.ref, body(req.body), callerOf(req)),
  );
  app.post<{ Params: { ref: string } }>('/approvals/:ref/reject', A('approve', 'task'), async (req) =>
    svc.reject(req.params.ref, body(req.body), callerOf(req)),
  );

  // The Kanban board (the page is public; its data is not).
  registerBoard(app, { svc, policy, callerOf });

  // API tokens
  app.get('/tokens', A('manage', 'token'), async () => ({ tokens: await svc.listTokens() }));
  app.post('/tokens', A('manage', 'token'), async (req, reply) =>
    reply.code(201).send(await svc.createToken(body(req.body))),
  );
  app.delete<P>('/tokens/:id', A('manage', 'token'), async (req) => svc.revokeToken(req.params.id));
}
