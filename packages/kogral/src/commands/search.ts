import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { paint, useColor } from '@stratumiops/shared/output';
import { KogralCommand, splitList, tagFlag, typeFlag } from '../cli/base.js';
import type { NodeType } from '../core/model.js';
import { markSnippet } from '../core/search/types.js';

/** Snippet matches as bold on a terminal, **markdown bold** elsewhere. */
export function highlight(s: string | undefined, color: boolean): string {
  return markSnippet(s, (t) => (color ? paint(t, 'bold') : `**${t}**`));
}

export default class Search extends KogralCommand<typeof Search> {
  static override summary = 'Search nodes by text, or by meaning with --semantic';
  static override description =
    'Text search ranks by BM25 (title and tags above the body) with highlighted snippets. --semantic fuses BM25, BM25 on the query expanded with ops synonyms, title/alias matches, embedding similarity (offline n-gram embedder by default) and linked nodes by reciprocal rank. Any text is a valid query: cert-manager, C++ and OR are just words.';
  static override args = { query: Args.string({ description: 'what to look for', required: true }) };
  static override flags = {
    semantic: Flags.boolean({ description: 'rank by meaning as well as by words' }),
    type: typeFlag(),
    tag: tagFlag(),
    status: Flags.string({ description: 'only this status' }),
    limit: Flags.integer({ description: 'at most this many results', default: 10, min: 1, max: 1000 }),
  };
  static override examples = [
    '<%= config.bin %> search "postgres connection leak" --type execution --limit 5 --json',
    '<%= config.bin %> search --semantic "database ran out of connections"',
  ];

  async run() {
    const app = await this.app();
    const engine = await app.engine(this.flags.semantic);
    const r = await engine.search(this.args.query, {
      limit: this.flags.limit,
      semantic: this.flags.semantic,
      ...(this.flags.type ? { type: this.flags.type as NodeType } : {}),
      tags: splitList(this.flags.tag),
      ...(this.flags.status ? { status: this.flags.status } : {}),
    });
    // Of two files with one id the first by path is the node (as in list and show); the others are reported.
    const problems = (await app.index(false)).duplicateProblems();
    this.reportProblems(problems);
    const color = useColor();
    if (r.hits.length === 0) this.log('no matches');
    r.hits.forEach((h, i) => {
      this.log(`${i + 1}. ${paint(h.title, 'bold')}  ${paint(`${h.id} · ${h.type} · ${h.status}`, 'dim')}`);
      if (h.source) this.log(`   ${paint(`source: ${h.source_root ? `${h.source_root}/` : ''}${h.source}`, 'dim')}`);
      const sn = highlight(h.snippet, color).replace(/\s+/g, ' ').trim();
      if (sn) this.log(`   ${sn}`);
    });
    return {
      query: r.query,
      mode: r.mode,
      count: r.hits.length,
      hits: r.hits.map((h) => ({ ...h, snippet: highlight(h.snippet, false) })),
      ...(r.expanded ? { expanded: r.expanded } : {}),
      ...(problems.length ? { problems } : {}),
      ms: Math.round(r.ms * 10) / 10,
    };
  }
}
