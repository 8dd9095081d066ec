import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

const os = `spec.os = { family = 'ubuntu, version = "24.04" }`;
const CURRENT = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'aws,
  region = "us-east-1",
  servers = [
    { name = "db-1", provider = 'aws, plan = "t3.medium", ${os} },
    { name = "web-1", provider = 'aws, plan = "t3.small", ${os} },
    { name = "cache-1", provider = 'aws, plan = "t3.micro", ${os} },
  ],
  hosts = { db-1 = { address = "192.0.2.10" }, web-1 = { address = "192.0.2.11" } },
  taskservs = [{ name = 'postgresql, hosts = ["db-1"] }],
} | Infrastructure
`;
const TARGET = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'upcloud,
  region = "de-fra1",
  servers = [
    { name = "db-1", provider = 'upcloud, plan = "2xCPU-4GB", ${os} },
    { name = "web-1", provider = 'upcloud, plan = "1xCPU-2GB", ${os} },
    { name = "web-2", provider = 'upcloud, plan = "1xCPU-2GB", ${os} },
  ],
  hosts = { db-1 = { address = "198.51.100.10" }, web-1 = { address = "198.51.100.11" }, web-2 = { address = "198.51.100.12" } },
  taskservs = [{ name = 'postgresql, hosts = ["db-1"], config.password = "svault://secret/data/db#password" }],
} | Infrastructure
`;

interface Step {
  n: number;
  phase: string;
  title: string;
  commands: string[];
  undo: { title: string; commands: string[] };
  irreversible?: boolean;
}

function ws() {
  const sb = sandbox();
  writeFileSync(join(sb.cwd, 'aws.ncl'), CURRENT);
  writeFileSync(join(sb.cwd, 'upcloud.ncl'), TARGET);
  return sb;
}
const prov = (sb: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) =>
  runBin('prov', args, { cwd: sb.cwd, env: sb.env, timeoutMs: 60_000 });

describe('prov migrate plan', () => {
  it('orders an aws → upcloud move: create beside, freeze, move and verify data, switch, destroy last; every step with its undo', async () => {
    const sb = ws();
    const r = await prov(sb, ['migrate', 'plan', 'aws.ncl', 'upcloud.ncl', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      summary: Record<string, number>;
      steps: Step[];
      cost: Record<string, { before: string; after: string }>;
    };
    expect(plan.summary).toEqual({ create: 1, move: 2, keep: 0, destroy: 1, data: 1 });
    const phases = plan.steps.map((s) => s.phase);
    // Phases never go back: prepare < create < data < secrets < switch < destroy < record.
    const order = ['prepare', 'create', 'data', 'certs', 'secrets', 'switch', 'destroy', 'record'];
    expect(phases.map((p) => order.indexOf(p))).toEqual([...phases.map((p) => order.indexOf(p))].sort((a, b) => a - b));
    expect(phases.every((p) => order.includes(p))).toBe(true);
    expect(plan.steps.map((s) => s.n)).toEqual(plan.steps.map((_, i) => i + 1));
    const titles = plan.steps.map((s) => s.title);
    const at = (re: RegExp) => titles.findIndex((t) => re.test(t));
    // The target is created beside the source (in the migration's own state): nothing is renamed.
    expect(at(/^Rename/)).toBe(-1);
    expect(at(/^Create server db-1 \(upcloud de-fra1 2xCPU-4GB/)).toBeGreaterThan(0);
    expect(at(/^Install taskserv postgresql on db-1/)).toBeGreaterThan(at(/^Create server db-1/));
    expect(at(/^Freeze writes on db-1 \(aws\.ncl\)/)).toBeGreaterThan(at(/^Install taskserv postgresql/));
    const data = plan.steps[at(/^Move PostgreSQL databases/)] as Step;
    expect(data.title).toBe('Move PostgreSQL databases (dump and restore) from db-1 (aws.ncl) to db-1 (upcloud.ncl)');
    expect(data.commands[0]).toMatch(/^db-1: pg_dumpall/);
    expect(data.commands.some((c) => /^db-1: psql .*prov-migrate-<id>\.sql/.test(c))).toBe(true);
    expect(at(/^Verify the moved data/)).toBe(at(/^Move PostgreSQL/) + 1);
    expect(at(/^Check the 1 svault reference/)).toBeGreaterThan(at(/^Verify the moved data/));
    expect(plan.steps[at(/^Check the 1 svault/)]?.commands[0]).toMatch(
      /prov vault read secret\/data\/db --field password/,
    );
    expect(at(/^Switch/)).toBeGreaterThan(at(/^Move PostgreSQL/));
    const destroys = plan.steps.filter((s) => s.phase === 'destroy');
    expect(destroys.map((s) => s.commands[0])).toEqual([
      'prov destroy --target server.db-1 -y (aws.ncl)',
      'prov destroy --target server.web-1 -y (aws.ncl)',
      'prov destroy --target server.cache-1 -y (aws.ncl)',
    ]);
    expect(destroys.every((s) => s.irreversible && s.undo.commands.length > 0)).toBe(true);
    expect(destroys[0]?.undo.title).toMatch(/restore its data/);
    expect(destroys[2]?.undo.title).toBe('Recreate cache-1 from aws.ncl');
    expect(plan.steps.at(-1)?.title).toMatch(
      /^Record the target in state: 4 resource\(s\) enter, 4 left with the source/,
    );
    for (const s of plan.steps) expect(s.undo.title.length).toBeGreaterThan(0);
    // Create steps undo by destroying exactly what they made.
    const create = plan.steps[at(/^Create server web-2/)] as Step;
    expect(create.undo.commands).toEqual(["prov destroy --target server.web-2 -y (in the migration's state)"]);
    // Cost before and after, in each provider's currency.
    expect(plan.cost.USD?.after).toBe('0');
    expect(Number(plan.cost.EUR?.after)).toBeGreaterThan(0);

    const text = await prov(sb, ['migrate', 'plan', 'aws.ncl', 'upcloud.ncl', '-o', 'migration.json']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/ 1\. \[prepare\] Check both configurations/);
    expect(text.stdout).toMatch(/undo: Destroy the new server web-2/);
    expect(text.stdout).toMatch(/\(irreversible once done\)/);
    expect(text.stdout).toMatch(/Migration: 1 to create, 2 to move, 1 data move\(s\), 1 to destroy, 0 unchanged/);
    expect(text.stdout).toMatch(/Monthly cost \(USD\): 65\.14 → 0\.00 \(-65\.14\)/);
    expect(text.stdout).toMatch(/Saved the plan to migration\.json/);
  });

  it('says when there is nothing to migrate, and refuses an invalid config', async () => {
    const sb = ws();
    const same = await prov(sb, ['migrate', 'plan', 'aws.ncl', 'aws.ncl']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/No migration needed/);
    writeFileSync(join(sb.cwd, 'bad.ncl'), '{ provider = 42 } | (import "infrastructure.ncl")');
    expect((await prov(sb, ['migrate', 'plan', 'aws.ncl', 'bad.ncl'])).code).toBe(3);
    expect((await prov(sb, ['migrate', 'plan', 'aws.ncl'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'plan', 'aws.ncl', 'missing.ncl'])).code).toBe(4);
  });

  it('migrate apply: a dry run from a saved plan changes nothing; bad input is refused with its exit code', async () => {
    const sb = ws();
    expect((await prov(sb, ['migrate', 'plan', 'aws.ncl', 'upcloud.ncl', '-o', 'migration.json'])).code).toBe(0);
    const dry = await prov(sb, ['migrate', 'apply', 'migration.json', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const doc = JSON.parse(dry.stdout) as { dry_run: boolean; plan: { steps: Step[] } };
    expect(doc.dry_run).toBe(true);
    expect(doc.plan.steps.at(-1)?.title).toMatch(/^Record the target in state/);
    expect((await prov(sb, ['migrate', 'status', '--json'])).stdout).toContain('"migrations": []');

    // The configs changed since the plan was saved: refused.
    writeFileSync(join(sb.cwd, 'upcloud.ncl'), TARGET.replace('"2xCPU-4GB"', '"4xCPU-8GB"'));
    const stale = await prov(sb, ['migrate', 'apply', 'migration.json', '-y']);
    expect(stale.code).toBe(6);
    expect(stale.stderr).toMatch(/changed since the migration plan was made/);
    // Approval cannot be asked with --json.
    expect((await prov(sb, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '--json'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'apply'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'apply', 'aws.ncl'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'apply', 'migration.json', 'aws.ncl'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'apply', 'aws.ncl', 'missing.ncl', '-y'])).code).toBe(4);
    expect((await prov(sb, ['migrate', 'status', 'm20261207-000000-abcdef'])).code).toBe(4);
    expect((await prov(sb, ['migrate', 'status', '../etc'])).code).toBe(2);
    expect((await prov(sb, ['migrate', 'resume', 'm20261207-000000-abcdef'])).code).toBe(4);
    // Source not applied: the check step refuses before anything is created.
    writeFileSync(join(sb.cwd, 'upcloud.ncl'), TARGET);
    const r = await prov(sb, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y', '--json']);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout).error;
    expect(err.details.status).toBe('rolled_back');
    expect(err.message).toMatch(/the source is not what state records: server\.db-1, /);
    expect(JSON.parse((await prov(sb, ['state', 'list', '--json'])).stdout).resources).toEqual([]);
  });
});

describe('prov migrate: unfinished and unreadable journals', () => {
  it('a migration that did not finish blocks apply and another migration; a corrupt journal does not hide the rest', async () => {
    const sb = ws();
    const dry = await prov(sb, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = (JSON.parse(dry.stdout) as { plan: unknown }).plan;
    // What a killed migration leaves in the workspace (its lock, with the state in PostgreSQL, died with it).
    const id = 'm20261207-101500-a1b2c3';
    mkdirSync(join(sb.cwd, '.prov', 'migrations', id), { recursive: true });
    const journal = {
      format: 'prov-migration-run/1',
      id,
      from: 'aws.ncl',
      to: 'upcloud.ncl',
      status: 'running',
      hostname: 'elsewhere',
      pid: 1,
      started_at: '2026-12-07T10:15:00.000Z',
      finished_at: null,
      plan,
      steps: {},
      done: [],
      switched_at: null,
      error: null,
    };
    writeFileSync(join(sb.cwd, '.prov', 'migrations', id, 'run.json'), JSON.stringify(journal));
    const apply = await prov(sb, ['apply', 'aws.ncl', '-y']);
    expect(apply.code, apply.stderr).toBe(6);
    expect(apply.stderr).toContain(`migration ${id} did not finish`);
    expect(apply.stderr).toContain(`prov migrate resume ${id}`);
    const again = await prov(sb, ['migrate', 'apply', 'aws.ncl', 'upcloud.ncl', '-y']);
    expect(again.code, again.stderr).toBe(6);
    expect(again.stderr).toContain(`prov migrate resume ${id}`);

    // A corrupt journal is listed as unreadable; the others still show.
    mkdirSync(join(sb.cwd, '.prov', 'migrations', 'm20261207-000000-bad000'), { recursive: true });
    writeFileSync(join(sb.cwd, '.prov', 'migrations', 'm20261207-000000-bad000', 'run.json'), '{"id": ');
    const st = await prov(sb, ['migrate', 'status', '--json']);
    expect(st.code, st.stderr).toBe(0);
    const list = (JSON.parse(st.stdout) as { migrations: { id: string; status: string }[] }).migrations;
    expect(list.map((m) => [m.id, m.status])).toEqual([
      [id, 'running'],
      ['m20261207-000000-bad000', 'unreadable'],
    ]);

    // Once it is over (here: rolled back), apply runs again.
    writeFileSync(
      join(sb.cwd, '.prov', 'migrations', id, 'run.json'),
      JSON.stringify({ ...journal, status: 'rolled_back' }),
    );
    rmSync(join(sb.cwd, '.prov', 'migrations', 'm20261207-000000-bad000'), { recursive: true });
    const ok = await prov(sb, ['apply', 'aws.ncl', '-y']);
    expect(ok.stderr).not.toContain('did not finish');
  });
});
