import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { mcpClient } from './helpers.js';

function graph() {
  const { cwd, env } = sandbox();
  const kg = (args: string[]) => runBin('kogral', args, { cwd, env, timeoutMs: 30_000 });
  const json = async (args: string[]) => {
    const r = await kg([...args, '--json']);
    if (r.code !== 0) throw new Error(`kogral ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return { cwd, env, kg, json };
}

describe('kogral edit / move / delete from the CLI', { timeout: 120_000 }, () => {
  it('edits, renames with links rewritten, deletes; bad input exits non-zero and changes nothing', async () => {
    const { cwd, kg, json } = graph();
    await json(['init']);
    const exe = await json([
      'add',
      'execution',
      'PG pool exhaustion',
      '--root-cause',
      'unknown',
      '--resolution',
      'restarted',
    ]);
    const note = await json(['add', 'note', 'Runbook', '--body', 'See [[PG pool exhaustion]].']);
    const file = exe.path as string;
    const before = readFileSync(file, 'utf8');

    // Usage errors: exit 2, file untouched.
    expect((await kg(['edit', exe.id])).code).toBe(2);
    expect((await kg(['edit', exe.id, '--append', '--prepend', '--body', 'x'])).code).toBe(2);
    expect((await kg(['edit', exe.id, '--append'])).code).toBe(2);
    expect((await kg(['edit', exe.id, '--find', 'x'])).code).toBe(2);
    // Not found: exit 4; ambiguous find: exit 6.
    const miss = await kg(['edit', exe.id, '--replace-section', 'Timeline', '--body', 'x']);
    expect(miss.code).toBe(4);
    expect(miss.stderr).toMatch(/no section 'Timeline'.*Root Cause/s);
    expect((await kg(['edit', 'no-such-id', '--append', '--body', 'x'])).code).toBe(4);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const sec = await json(['edit', exe.id, '--replace-section', 'Root Cause', '--body', 'A connection leak.']);
    expect(sec).toMatchObject({ id: exe.id, operation: 'replace_section', changed: true });
    writeFileSync(join(cwd, 'more.md'), 'PgBouncer added.\n');
    await json(['edit', exe.id, '--append', '--body-file', 'more.md']);
    await json(['edit', exe.id, '--prepend', '--body', '> SEV2']);
    await json(['edit', exe.id, '--find', 'restarted', '--replace', 'raised max_connections']);
    const shown = await json(['show', exe.id]);
    expect(shown.body).toMatch(/^# PG pool exhaustion\n\n> SEV2\n/);
    expect(shown.body).toMatch(/## Root Cause\n\nA connection leak\.\n/i);
    expect(shown.body).toContain('raised max_connections');
    expect(shown.body).toMatch(/PgBouncer added\.\n$/);
    const found = await json(['search', 'connection leak', '--no-semantic']).catch(() =>
      json(['search', 'connection leak']),
    );
    expect(JSON.stringify(found)).toContain(exe.id);

    // A body file over the limit is refused before reading it all (here: /dev/zero).
    const zero = await kg(['edit', exe.id, '--append', '--body-file', '/dev/zero']);
    expect(zero.code).toBe(3);
    expect(zero.stderr).toMatch(/over the .* limit/);

    const mv = await json(['move', exe.id, 'PostgreSQL pool exhaustion']);
    expect(mv).toMatchObject({
      id: exe.id,
      title: 'PostgreSQL pool exhaustion',
      relinked: [{ id: note.id, links: 1 }],
    });
    expect((await json(['show', note.id])).body).toContain('[[PostgreSQL pool exhaustion]]');
    const mv2 = await json(['move', note.id, 'guidelines/']);
    expect(mv2).toMatchObject({ type: 'guideline' });
    expect((await kg(['move', note.id, 'notes', '--type', 'note'])).code).toBe(2);
    expect((await kg(['move', note.id])).code).toBe(2);

    const del = await kg(['delete', exe.id]);
    expect(del.code).toBe(0);
    expect(del.stderr).toContain('dangling');
    expect((await kg(['show', exe.id])).code).toBe(4);
  });
});

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

describe('edit_node / move_node / delete_node over MCP (SDK client)', { timeout: 120_000 }, () => {
  it('edits, moves with links kept, deletes; bad calls are tool errors and change nothing', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    const client = await mcpClient(cwd, env);
    try {
      const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
      const id = async (r: Promise<unknown>) =>
        ((await r) as { structuredContent: { id: string } }).structuredContent.id;
      const t = await id(
        call('add_note', { title: 'Cert rotation', content: '## Steps\n\nold steps\n\n## Notes\n\nn' }),
      );
      const l = await id(call('add_note', { title: 'Linker', content: 'See [[Cert rotation#Steps]].' }));
      const got = await call('get_node', { id: t });
      const updated = (got.structuredContent as { updated: string }).updated;
      const before = text(await call('get_node', { id: t }));

      for (const bad of [
        { id: t, operation: 'find_replace', content: 'x' },
        { id: t, operation: 'find_replace', content: 'x', find_text: 'absent' },
        { id: t, operation: 'replace_section', content: 'x' },
        { id: t, operation: 'replace_section', content: 'x', section: 'Nope' },
        { id: t, operation: 'append', content: 'x', section: 'Steps' },
        { id: t, operation: 'append', content: '   ' },
        { id: 'missing', operation: 'append', content: 'x' },
      ]) {
        const r = await call('edit_node', bad);
        expect(r.isError, JSON.stringify(bad)).toBe(true);
      }
      expect(text(await call('get_node', { id: t }))).toBe(before);

      const e = await call('edit_node', {
        id: t,
        operation: 'replace_section',
        section: 'Steps',
        content: '1. cert-manager renew\n2. reload',
        if_updated: updated,
      });
      expect(e.isError).toBeFalsy();
      expect(e.structuredContent).toMatchObject({ id: t, changed: true });
      // The same if_updated again is stale now: refused.
      const stale = await call('edit_node', { id: t, operation: 'append', content: 'x', if_updated: updated });
      expect(stale.isError).toBe(true);
      expect(text(stale)).toMatch(/changed since/);
      await call('edit_node', { id: t, operation: 'append', content: 'Appended.' });
      const s = await call('search', { query: 'cert-manager renew', semantic: false });
      expect((s.structuredContent as { hits: { id: string }[] }).hits[0]?.id).toBe(t);

      const m = await call('move_node', { id: t, new_title: 'TLS certificate rotation' });
      expect(m.structuredContent).toMatchObject({ id: t, relinked: [{ id: l }] });
      const linker = await call('get_node', { id: l });
      expect(text(linker)).toContain('[[TLS certificate rotation#Steps]]');
      expect(linker.structuredContent).toMatchObject({ links: [{ to: t, via: 'wikilink' }] });
      expect((await call('move_node', { id: t })).isError).toBe(true);
      expect((await call('move_node', { id: t, new_title: 'Linker' })).isError).toBe(true);

      const d = await call('delete_node', { id: t, force: true });
      expect(d.structuredContent).toMatchObject({ id: t, dangling: [{ from: l, removed: true }] });
      expect(text(await call('get_node', { id: l }))).toContain('See TLS certificate rotation.');
      expect((await call('get_node', { id: t })).isError).toBe(true);
      const ls = await runBin('kogral', ['list', '--json'], { cwd, env });
      expect(JSON.parse(ls.stdout).nodes ?? JSON.parse(ls.stdout)).not.toContain(t);
    } finally {
      await client.close();
    }
  });
});
