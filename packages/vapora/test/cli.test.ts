import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

describe('vapora CLI', { timeout: 120_000 }, () => {
  // each step is a whole Node process
  it('init → agents → project → task → scored assign → list/show, all with --json', async () => {
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    const init = await v('init', '--json');
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ storage: 'sqlite', store: join(cwd, '.vapora', 'vapora.db') });
    expect((await v('init')).code).toBe(6); // exists: conflict
    expect(
      (
        await v(
          'agent',
          'add',
          '--role',
          'devops',
          '--provider',
          'anthropic',
          '--model',
          'claude-sonnet-4-6',
          '--name',
          'dev-1',
        )
      ).code,
    ).toBe(0);
    expect((await v('agent', 'add', '--role', 'devops', '--name', 'dev-2')).code).toBe(0);
    const exec = await v(
      'agent',
      'add',
      '--role',
      'monitor',
      '--provider',
      'exec',
      '--command',
      'scripts/check.sh {{payload.host}}',
      '--json',
    );
    expect(JSON.parse(exec.stdout)).toMatchObject({ provider: 'exec', model: 'scripts/check.sh {{payload.host}}' });
    expect((await v('project', 'create', 'infra')).code).toBe(0);
    writeFileSync(join(cwd, 'task.json'), JSON.stringify({ manifests_path: 'k8s/', cluster: 'prod' }));
    const created = await v(
      'task',
      'create',
      '--project',
      'infra',
      '--type',
      'manifest_validation',
      '--title',
      'Validate K8s manifests',
      '--role',
      'devops',
      '--payload',
      '@task.json',
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const task = JSON.parse(created.stdout);
    expect(task).toMatchObject({ status: 'todo', payload: { cluster: 'prod' } });
    const assign = await v('task', 'assign', task.id, '--json');
    expect(assign.code, assign.stderr).toBe(0);
    const a = JSON.parse(assign.stdout);
    expect(a.chosen).toMatchObject({ agentId: 'dev-1', score: 0.55 }); // a tie: the smaller id
    expect(a.candidates.map((c: { agentId: string }) => c.agentId)).toEqual(['dev-1', 'dev-2']);
    expect(a.dispatched).toBe(false);
    // DevOps work waits for a person first.
    expect([a.task.status, a.approval.kind, a.approval.role]).toEqual(['awaiting_approval', 'run', 'devops']);
    const waiting = JSON.parse((await v('approvals', '--json')).stdout).approvals;
    expect(waiting.map((x: { taskId: string }) => x.taskId)).toEqual([task.id]);
    expect((await v('approve', 't-nope')).code).toBe(4);
    const approved = await v('approve', task.id, '--reason', 'change window ok', '--json');
    expect([approved.code, JSON.parse(approved.stdout).status]).toEqual([0, 'approved']);
    expect((await v('approve', task.id)).code).toBe(4); // nothing waits any more
    const human = await v('task', 'assign', task.id);
    expect(human.code).toBe(6);
    expect(human.stderr).toMatch(/is doing \(agent dev-1\)/);
    const list = JSON.parse((await v('task', 'list', '--status', 'doing', '--json')).stdout);
    expect(list.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    const show = await v('task', 'show', task.id);
    expect(show.stdout).toContain('status doing');
    const health = await v('agent', 'health', 'dev-1', '--json');
    expect([health.code, JSON.parse(health.stdout).current_tasks]).toEqual([0, [task.id]]);
  });

  it('route --dry-run, budget set/show, costs', async () => {
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    await v('init');
    const set = await v('budget', 'set', 'security', '--monthly', '5000', '--weekly', '1500', '--json');
    expect(JSON.parse(set.stdout)).toMatchObject({
      role: 'security',
      state: 'normal',
      month: { limit_cents: 5000 },
    });
    const show = JSON.parse((await v('budget', 'show', '--json')).stdout);
    expect(show.budgets.map((b: { role: string }) => b.role)).toEqual(['security']);
    const route = await v('route', '--type', 'security_scan', '--role', 'security', '--dry-run');
    expect(route.code, route.stderr).toBe(0);
    expect(route.stdout).toContain('security_scan as security: role default → anthropic:claude-opus-4-5');
    expect(route.stdout).toMatch(/budget normal \(0%\)/);
    expect(JSON.parse((await v('costs', '--by', 'role', '--json')).stdout)).toEqual({ by: 'role', costs: [] });
  });

  it('an exec agent that would paste task data into shell code is refused when it is defined', async () => {
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    await v('init');
    for (const command of [
      '/bin/sh -c "echo {{payload.host}}"',
      'bash -c "ping -c1 {{payload.host}}"',
      'python3 -c \'print("{{payload.host}}")\'',
      '{{payload.tool}} --version',
    ]) {
      const r = await v('agent', 'add', '--role', 'monitor', '--provider', 'exec', '--command', command);
      expect([command, r.code]).toEqual([command, 3]);
    }
    const r = await v(
      'agent',
      'add',
      '--role',
      'monitor',
      '--provider',
      'exec',
      '--command',
      'sh -c "echo {{payload.host}}"',
    );
    expect(r.stderr).toMatch(/data would become code.*"\$VAPORA_PAYLOAD_HOST"/);
    expect(JSON.parse((await v('agent', 'list', '--json')).stdout).agents).toEqual([]);
    const ok = await v(
      'agent',
      'add',
      '--role',
      'monitor',
      '--provider',
      'exec',
      '--command',
      'sh -c \'ping -c1 "$VAPORA_PAYLOAD_HOST"\'',
    );
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('bad input: clear errors and exit codes, nothing written', async () => {
    const { cwd, env } = sandbox();
    const v = (...args: string[]) => runBin('vapora', args, { cwd, env });
    await v('init');
    const role = await v('agent', 'add', '--role', 'wizard');
    expect(role.code).toBe(2);
    const payload = await v('task', 'create', '--type', 'deploy', '--title', 'x', '--payload', '{"host": ');
    expect([payload.code, payload.stderr]).toEqual([3, expect.stringMatching(/payload is not valid JSON/)]);
    const array = await v('task', 'create', '--type', 'deploy', '--title', 'x', '--payload', '[1]');
    expect([array.code, array.stderr]).toEqual([3, expect.stringMatching(/must be a JSON object/)]);
    expect((await v('task', 'show', 't-nope')).code).toBe(4);
    expect(JSON.parse((await v('task', 'list', '--json')).stdout).tasks).toEqual([]);
    appendFileSync(
      join(cwd, '.vapora', 'vapora.toml'),
      '\n[[routing.rules]]\npattern = "([a-z"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n',
    );
    const regex = await v('route', '--type', 'x', '--role', 'developer', '--json');
    expect(regex.code).toBe(3);
    expect(JSON.parse(regex.stdout).error.message).toMatch(/routing rule 1 \('\(\[a-z'\): invalid regular expression/);
    expect(readFileSync(join(cwd, '.vapora', 'vapora.toml'), 'utf8')).toContain('[[routing.rules]]');
    const unknownKey = await v('budget', 'show');
    expect(unknownKey.code).toBe(3); // the broken rule is refused by every command that routes or budgets
  });
});
