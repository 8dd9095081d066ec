import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

/** A sandboxed graph and a `kogral` that logs its debug lines as JSON. */
async function graph() {
  const { cwd, env } = sandbox();
  const kg = (args: string[]) => runBin('kogral', args, { cwd, env, timeoutMs: 60_000 });
  const search = async (q: string) => {
    const r = await kg(['search', q, '--json', '--log-level', 'debug', '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const logs = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; full?: boolean; updated?: number });
    const hits = (JSON.parse(r.stdout) as { hits: { id: string }[] }).hits.map((h) => h.id);
    return { hits, logs, msgs: logs.map((l) => l.msg) };
  };
  expect((await kg(['init'])).code).toBe(0);
  return { cwd, env, kg, search };
}

const started: { kg: (a: string[]) => Promise<{ code: number | null }> }[] = [];
afterEach(async () => {
  // Stop every daemon a test started (each sandbox has its own).
  for (const g of started.splice(0)) await g.kg(['daemon', 'stop']);
});

describe('kogral search and the daemon that vouches for the index', { timeout: 180_000 }, () => {
  it('with the daemon running, a search does not check every file, and still sees hand edits and deletions', async () => {
    const g = await graph();
    const add = await g.kg(['add', 'note', 'Wombat care', '--body', 'wombat burrows', '--json']);
    const id = (JSON.parse(add.stdout) as { id: string }).id;
    expect((await g.kg(['daemon', 'start'])).code).toBe(0);
    started.push(g);

    const first = await g.search('wombat');
    expect(first.hits).toEqual([id]);
    expect(first.msgs).toContain('index vouched by the daemon');
    expect(first.msgs).not.toContain('index refreshed'); // no stat of every file in the command

    const file = join(g.cwd, '.kogral', 'notes', `${id}.md`);
    appendFileSync(file, '\nechidna spines\n');
    const edited = await g.search('echidna');
    expect(edited.hits).toEqual([id]);
    expect(edited.logs.find((l) => l.msg === 'index vouched by the daemon')).toMatchObject({ full: false, updated: 1 });
    expect(edited.msgs).not.toContain('index refreshed');

    rmSync(file);
    expect((await g.search('wombat')).hits).toEqual([]);

    // A deleted index (a cache) is rebuilt, never answered from the daemon's stale copy.
    await g.kg(['add', 'note', 'Quokka', '--body', 'quokka smiles']);
    for (const f of readdirSync(join(g.cwd, '.kogral')).filter((f) => f.startsWith('index.db')))
      rmSync(join(g.cwd, '.kogral', f));
    const rebuilt = await g.search('quokka');
    expect(rebuilt.hits).toHaveLength(1);
    expect(rebuilt.logs.find((l) => l.msg === 'index vouched by the daemon')).toMatchObject({ full: true });

    // Without the daemon: today's check, same answers.
    expect((await g.kg(['daemon', 'stop'])).code).toBe(0);
    started.pop();
    appendFileSync(
      join(g.cwd, '.kogral', 'notes', readdirSync(join(g.cwd, '.kogral', 'notes'))[0] as string),
      '\nnumbat\n',
    );
    const alone = await g.search('numbat');
    expect(alone.hits).toHaveLength(1);
    expect(alone.msgs).toContain('index refreshed');
    expect(alone.msgs).not.toContain('index vouched by the daemon');
  });

  it('daemon = "start" starts it on demand; daemon = "off" never asks', async () => {
    const g = await graph();
    await g.kg(['add', 'note', 'Bilby', '--body', 'bilby ears']);
    const config = join(g.cwd, '.kogral', 'config.toml');
    writeFileSync(config, `daemon = "start"\n${readFileSync(config, 'utf8')}`); // a top-level key: before the tables
    started.push(g);
    const r = await g.search('bilby');
    expect(r.hits).toHaveLength(1);
    expect(r.msgs).toContain('index vouched by the daemon');
    expect((await g.kg(['daemon', 'status'])).code).toBe(0);

    const off = await runBin('kogral', ['search', 'bilby', '--log-level', 'debug', '--log-format', 'json'], {
      cwd: g.cwd,
      env: { ...g.env, KOGRAL_DAEMON: 'off' },
    });
    expect(off.stderr).toContain('"index refreshed"');
    expect(off.stderr).not.toContain('vouched');
  });
});
