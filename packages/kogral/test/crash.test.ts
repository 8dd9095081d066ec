import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isProblem, serializeNode } from '../src/core/markdown.js';
import { tempGraph } from './helpers.js';

/** The writer kogral uses (shared/fs), as built. */
const sharedFs = pathToFileURL(join(import.meta.dirname, '..', '..', 'shared', 'dist', 'fs.js')).href;

describe('a crash in the middle of a write', { timeout: 60_000 }, () => {
  it('leaves the old file or the new one, never a mix; leftovers are ignored', async () => {
    const g = tempGraph();
    const base = await g.kg.add({ type: 'note', title: 'Big', fields: { body: 'start' } });
    const versions = ['A', 'B'].map((v) => serializeNode({ ...base.node, body: `${v.repeat(4 * 1024 * 1024)}\n` }));
    // A writer that alternates two 4 MB versions of the node as fast as it can, killed at random.
    const script = `
      const { writeFileAtomic } = await import(${JSON.stringify(sharedFs)});
      const { readFileSync } = await import('node:fs');
      const [a, b] = JSON.parse(readFileSync(0, 'utf8'));
      process.stdout.write('go\\n');
      for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(base.path)}, i % 2 ? b : a);`;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      child.stdin.end(JSON.stringify(versions));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const now = readFileSync(base.path, 'utf8');
      expect(versions.includes(now) || now === serializeNode(base.node), `round ${round}: ${now.length} bytes`).toBe(
        true,
      );
    }
    const read = g.store.read(base.path, 'note');
    expect(isProblem(read)).toBe(false);
    const { nodes, problems } = g.store.loadAll(); // temporary files of killed writers are not nodes
    expect([nodes.length, problems]).toEqual([1, []]);
    const left = readdirSync(join(g.dir, 'notes')).filter((f) => f.endsWith('.tmp'));
    expect(g.store.sweepTemporary()).toHaveLength(left.length);
    expect(readdirSync(join(g.dir, 'notes')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
