import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { applyImport, planImport } from '../src/core/importers/plan.js';
import { tempGraph } from './helpers.js';

const UUID = '6502a1b2-0c3d-4e5f-8a9b-0c1d2e3f4a5b';

/** A small Logseq graph with org pages next to markdown ones. */
function logseqGraph(): string {
  const root = mkdtempSync(join(tmpdir(), 'kogral-logseq-org-'));
  const files: Record<string, string> = {
    'logseq/config.edn': '{:preferred-format :org}\n',
    'pages/Etcd backups.org': [
      '#+title: Etcd Backups',
      '#+alias: etcd snapshots',
      '#+filetags: :etcd:backup:',
      ':PROPERTIES:',
      ':owner: [[Platform team]]',
      ':END:',
      '',
      '* Take a snapshot every hour',
      '** With etcdctl',
      ':PROPERTIES:',
      `:id: ${UUID}`,
      ':END:',
      '#+BEGIN_SRC sh',
      'etcdctl snapshot save /backup/etcd.db',
      '#+END_SRC',
      '* Restore drills',
      '#+BEGIN_QUOTE',
      'An untested backup is no backup.',
      '#+END_QUOTE',
      'See [[https://etcd.io/docs][the etcd docs]] and [[Disaster recovery][DR runbook]].',
      '',
    ].join('\n'),
    'pages/Disaster recovery.md': `- Start from ((${UUID}))\n- Then check [[Etcd Backups]]\n`,
    'journals/2026_01_22.org': '* Ran the restore drill #drill\n',
    'pages/diagram.png': 'not a page',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

describe('Logseq org-mode pages', () => {
  it('are imported like markdown pages: properties, outline, code, quotes, links and block references', async () => {
    const g = tempGraph();
    const plan = planImport(g.kg, logseqGraph(), { from: 'logseq' });
    expect(plan.skipped).toEqual([]);
    expect(plan.ignored).toContain('pages/diagram.png');
    await applyImport(g.kg, plan);
    const graph = g.kg.graph();
    const page = graph.resolve('Etcd Backups')?.node;
    expect(page).toMatchObject({
      type: 'note',
      title: 'Etcd Backups',
      aliases: ['etcd snapshots'],
      tags: ['etcd', 'backup'],
      source: 'pages/Etcd backups.org',
      metadata: { source_format: 'org', properties: { owner: '[[Platform team]]' } },
    });
    expect(page?.body).toBe(
      [
        '- Take a snapshot every hour',
        '  - With etcdctl',
        `    id:: ${UUID}`,
        '    ```sh',
        '    etcdctl snapshot save /backup/etcd.db',
        '    ```',
        '- Restore drills',
        '  > An untested backup is no backup.',
        '  See [the etcd docs](https://etcd.io/docs) and [[Disaster recovery|DR runbook]].',
        '',
      ].join('\n'),
    );
    // Found by its alias; its [[link]] and the markdown page's ((block ref)) are edges both ways.
    expect(graph.resolve('etcd snapshots')?.node.id).toBe(page?.id);
    const dr = graph.resolve('Disaster recovery')?.node;
    expect(dr && graph.outgoing(dr).map((e) => e.to)).toContain(page?.id);
    expect(graph.backlinks(page?.id as string).map((e) => e.from)).toContain(dr?.id);
    expect(graph.resolve('2026-01-22')?.node).toMatchObject({ type: 'journal', tags: ['drill'] });
  });

  it('are counted in the import summary, never skipped silently', async () => {
    const { cwd, env } = sandbox();
    expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
    const r = await runBin('kogral', ['import', logseqGraph(), '--json'], { cwd, env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ format: 'logseq', created: 3, skipped: 0 });
    expect(out.nodes.map((n: { source: string }) => n.source).sort()).toEqual([
      'journals/2026_01_22.org',
      'pages/Disaster recovery.md',
      'pages/Etcd backups.org',
    ]);
  });
});
