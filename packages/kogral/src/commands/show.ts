import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { paint } from '@stratumiops/shared/output';
import { KogralCommand } from '../cli/base.js';
import { nodeObject } from '../core/exporters.js';

export default class Show extends KogralCommand<typeof Show> {
  static override summary = 'Show a node: frontmatter, body, relations and backlinks';
  static override args = { id: Args.string({ description: 'node id, title or alias', required: true }) };
  static override flags = { raw: Flags.boolean({ description: 'print the markdown file as it is' }) };
  static override examples = [
    '<%= config.bin %> show choose-cilium-over-calico-for-cni-3f2a1b',
    '<%= config.bin %> show "Nginx 502 troubleshooting" --json',
  ];

  async run() {
    const app = await this.app();
    // From the index when it can be used: a large graph is not read file by file to show one node.
    const g = await app.lookup();
    const s = app.kg.get(this.args.id, g);
    const n = s.node;
    // Another file with the same id is not shown (the first by path is the node, everywhere): say so.
    const duplicates = g.problems.filter((p) => p.message.startsWith(`duplicate id '${n.id}'`));
    this.reportProblems(duplicates);
    const out = g.outgoing(n);
    const back = g.backlinks(n.id);
    const title = (id: string) => g.title(id);
    if (this.flags.raw && !this.jsonEnabled()) {
      process.stdout.write(readFileSync(s.path, 'utf8'));
      return { path: s.path };
    }
    this.log(paint(n.title, 'bold'));
    this.log(`${n.id}  ${n.type}  ${n.status}${n.tags.length ? `  #${n.tags.join(' #')}` : ''}`);
    const extra = [
      `created ${n.created}`,
      n.updated !== n.created ? `updated ${n.updated}` : '',
      n.author ? `by ${n.author}` : '',
      n.source ? `source ${n.source_root ? `${n.source_root}/` : ''}${n.source}` : '',
    ].filter(Boolean);
    this.log(paint(`${extra.join(', ')}  (${this.rel(s.path)})`, 'dim'));
    if (out.length > 0) {
      this.log('\nrelations:');
      for (const e of out)
        this.log(
          `  -> ${e.type.padEnd(11)} ${e.missing ? `${e.missing} (missing)` : `${e.to} (${title(e.to)})`}${e.weight !== 1 ? ` weight ${e.weight}` : ''}${e.via === 'wikilink' ? ' [[link]]' : ''}`,
        );
    }
    if (back.length > 0) {
      this.log('\nbacklinks:');
      for (const e of back)
        this.log(`  <- ${e.type.padEnd(11)} ${e.from} (${title(e.from)})${e.via === 'wikilink' ? ' [[link]]' : ''}`);
    }
    this.log(`\n${n.body.trimEnd()}`);
    return {
      ...nodeObject(n),
      path: s.path,
      links: out,
      backlinks: back,
      ...(duplicates.length ? { problems: duplicates } : {}),
    };
  }
}
