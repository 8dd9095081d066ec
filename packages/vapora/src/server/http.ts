import { ExitCode, StratumError, validationError } from '@stratumiops/shared/errors';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { LlmError } from '../core/llm/types.js';
import { microToCents } from '../core/model.js';
import { parseSince } from '../core/periods.js';
import { parse, type VaporaService } from '../core/service.js';

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
    return reply.code(502).send({ error: { code: e.kind, message: e.message } });
  }
  const fe = e as { statusCode?: number; message?: string; code?: string };
  if (fe?.statusCode && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send({ error: { code: 'usage', message: fe.message ?? 'bad request' } });
  }
  return reply.code(500).send({ error: { code: 'failure', message: (e as Error)?.message ?? 'internal error' } });
}

/** The seed's routes (vapora-backend api/mod.rs), every body validated with zod. */
export function registerRoutes(app: FastifyInstance, svc: VaporaService): void {
  app.setErrorHandler((e, _req, reply) => sendError(reply, e));
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'notFound', message: `no route ${req.method} ${req.url}` } }),
  );
  const body = (b: unknown) => (b === undefined || b === null ? {} : b);

  // Projects
  app.get('/projects', async () => ({ projects: await svc.listProjects() }));
  app.post('/projects', async (req, reply) => reply.code(201).send(await svc.createProject(body(req.body))));
  app.get<{ Params: { id: string } }>('/projects/:id', async (req) => svc.getProject(req.params.id));
  app.put<{ Params: { id: string } }>('/projects/:id', async (req) => svc.updateProject(req.params.id, body(req.body)));
  app.delete<{ Params: { id: string } }>('/projects/:id', async (req) => svc.deleteProject(req.params.id));

  // Tasks
  app.get<{ Querystring: Record<string, string> }>('/tasks', async (req) => ({
    tasks: await svc.listTasks({
      status: req.query.status,
      project: req.query.project,
      role: req.query.role,
      agent: req.query.agent,
    }),
  }));
  app.post('/tasks', async (req, reply) => reply.code(201).send(await svc.createTask(body(req.body))));
  app.get<{ Params: { id: string } }>('/tasks/:id', async (req) => svc.taskDetail(req.params.id));
  app.put<{ Params: { id: string } }>('/tasks/:id', async (req) => svc.updateTask(req.params.id, body(req.body)));
  app.delete<{ Params: { id: string } }>('/tasks/:id', async (req) => svc.deleteTask(req.params.id));
  app.post<{ Params: { id: string } }>('/tasks/:id/assign', async (req) => {
    const b = parse(assignBody, body(req.body), 'assign request');
    return svc.assign(req.params.id, { agentId: b.agent_id, role: b.role, dryRun: b.dry_run });
  });

  // Agents
  app.get<{ Querystring: Record<string, string> }>('/agents', async (req) => ({
    agents: await svc.listAgents({ role: req.query.role, status: req.query.status }),
  }));
  app.post('/agents', async (req, reply) => reply.code(201).send(await svc.addAgent(body(req.body))));
  app.get<{ Params: { id: string } }>('/agents/:id/health', async (req) => svc.agentHealth(req.params.id));
  // The seed's /agents/:role/expertise: a role name or an agent id.
  app.get<{ Params: { id: string } }>('/agents/:id/expertise', async (req) => ({
    expertise: await svc.expertise(req.params.id),
  }));
  app.post<{ Params: { id: string } }>('/agents/:id/heartbeat', async (req) =>
    svc.heartbeat(req.params.id, body(req.body)),
  );

  // LLM router
  app.post('/llm/route', async (req) => {
    const b = parse(routeBody, body(req.body), 'route request');
    if (!b.send) return svc.route(b.task_type, b.role, { maxTokens: b.max_tokens, prompt: b.prompt });
    if (!b.prompt) throw validationError('send: true needs a prompt');
    const role = parse(z.enum((await import('../core/roles.js')).ROLES), b.role, 'role');
    const r = await svc.router.call(
      { role, taskType: b.task_type },
      { messages: [{ role: 'user', content: b.prompt }], ...(b.max_tokens ? { maxTokens: b.max_tokens } : {}) },
    );
    for (const f of r.fallbacks) svc.metrics.fallback(role, f.to.split(':')[0] ?? '', f.reason);
    svc.metrics.llmUsage(
      role,
      r.target.provider,
      microToCents(r.costMicrocents),
      r.usage.inputTokens,
      r.usage.outputTokens,
    );
    return {
      text: r.text,
      provider: r.target.provider,
      model: r.model,
      usage: r.usage,
      cost_cents: microToCents(r.costMicrocents),
      attempts: r.attempts,
      fallbacks: r.fallbacks,
      decision: r.decision,
    };
  });
  app.get<{ Params: { role: string } }>('/llm/budget/:role', async (req) => {
    const [b] = await svc.budgets(req.params.role);
    return b;
  });
  app.put<{ Params: { role: string } }>('/llm/budget/:role', async (req) =>
    svc.setBudget(req.params.role, body(req.body)),
  );
  app.get<{ Querystring: Record<string, string> }>('/llm/costs', async (req) => {
    const q = parse(costsQuery, req.query, 'query');
    return { by: q.by ?? 'provider', costs: await svc.costs({ ...q, since: parseSince(q.since) }) };
  });

  // Swarm
  app.post('/swarm/assign', async (req) => {
    const b = parse(swarmAssignBody, body(req.body), 'assign request');
    return svc.assign(b.task_id, { agentId: b.agent_id, role: b.role, dryRun: b.dry_run });
  });
  app.get('/swarm/status', async () => svc.swarmStatus());
}
