import { conflictError, notFoundError, validationError } from '@stratumiops/shared/errors';
import * as z from '@stratumiops/shared/zod';
import { type Caller, inScope } from './auth.js';
import { shortId } from './ids.js';
import { type Execution, microToCents, roleSchema, TASK_STATUSES, type Task, taskInput, taskPatch } from './model.js';
import { parse } from './parse.js';
import type { Projects } from './projects.js';
import type { AgentStore, AssignmentStore, BudgetStore, TaskStore } from './store.js';

/** Tasks on the board: create, read, move by hand, delete. Assignment (into `doing`) is the swarm's. */
export class Tasks {
  constructor(
    private readonly store: TaskStore &
      AgentStore &
      Pick<AssignmentStore, 'listExecutions'> &
      Pick<BudgetStore, 'listCosts'>,
    private readonly projects: Projects,
    private readonly now: () => number,
  ) {}

  async createTask(input: unknown, caller?: Caller): Promise<Task> {
    const t = parse(taskInput, input, 'task');
    if (!t.project && caller && caller.projects !== null)
      throw validationError('this token is scoped to projects: the task needs a project', { hint: 'pass project' });
    const project = t.project ? await this.projects.getProject(t.project, caller) : undefined;
    const now = this.now();
    const task: Task = {
      id: shortId('t'),
      projectId: project?.id ?? null,
      title: t.title,
      description: t.description,
      type: t.type,
      role: t.role ?? null,
      priority: t.priority,
      status: 'todo',
      payload: t.payload,
      result: null,
      error: null,
      agentId: null,
      assignmentId: null,
      attempt: 0,
      dispatchedAt: null,
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    await this.store.createTask(task);
    return task;
  }

  async getTask(id: string, caller?: Caller): Promise<Task> {
    const t = await this.store.getTask(id);
    if (!t || !inScope(caller, t.projectId)) throw notFoundError(`no task '${id}'`, { hint: "see 'vapora task list'" });
    return t;
  }

  async taskDetail(
    id: string,
    caller?: Caller,
  ): Promise<{ task: Task; executions: Execution[]; costs: { calls: number; cost_cents: number; tokens: number } }> {
    const task = await this.getTask(id, caller);
    const [executions, costs] = await Promise.all([
      this.store.listExecutions({ taskId: id }),
      this.store.listCosts({ taskId: id }),
    ]);
    return {
      task,
      executions,
      costs: {
        calls: costs.length,
        cost_cents: microToCents(costs.reduce((s, c) => s + c.costMicrocents, 0)),
        tokens: costs.reduce((s, c) => s + c.inputTokens + c.outputTokens, 0),
      },
    };
  }

  async listTasks(
    f: { status?: string; project?: string; role?: string; agent?: string } = {},
    caller?: Caller,
  ): Promise<Task[]> {
    const filter = parse(
      z.object({ status: z.enum(TASK_STATUSES).optional(), role: roleSchema.optional() }),
      { status: f.status, role: f.role },
      'filter',
    );
    const project = f.project ? await this.projects.getProject(f.project, caller) : undefined;
    const tasks = await this.store.listTasks({
      status: filter.status,
      role: filter.role ?? undefined,
      projectId: project?.id,
      agentId: f.agent,
    });
    return tasks.filter((t) => inScope(caller, t.projectId));
  }

  async updateTask(id: string, input: unknown, caller?: Caller): Promise<Task> {
    const patch = parse(taskPatch, input, 'task update');
    const task = await this.getTask(id, caller);
    if (patch.status === 'doing' && task.status !== 'doing') {
      throw validationError("a task enters 'doing' by being assigned", { hint: `vapora task assign ${id}` });
    }
    const leavingDoing = patch.status !== undefined && patch.status !== 'doing' && task.status === 'doing';
    const out = await this.store.updateTask(
      id,
      {
        ...patch,
        role: patch.role === undefined ? undefined : patch.role,
        // Moving a task out of `doing` by hand retires its assignment: a late result is ignored.
        ...(leavingDoing ? { assignmentId: null, finishedAt: this.now() } : {}),
        updatedAt: this.now(),
      },
      { status: [task.status] },
    );
    if (!out) throw conflictError(`task '${id}' changed meanwhile; try again`);
    if (leavingDoing && task.agentId) await this.lowerLoad(task.agentId);
    return out;
  }

  private async lowerLoad(agentId: string): Promise<void> {
    const a = await this.store.getAgent(agentId);
    if (a) await this.store.updateAgent(agentId, { load: Math.max(0, a.load - 1 / Math.max(1, a.capacity)) });
  }

  async deleteTask(id: string, caller?: Caller): Promise<Task> {
    const t = await this.getTask(id, caller);
    await this.store.deleteTask(id);
    return t;
  }
}
