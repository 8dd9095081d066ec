import * as Flags from '@oclif/core/flags';
import { KogralCommand } from '../cli/base.js';

export default class Reindex extends KogralCommand<typeof Reindex> {
  static override summary = 'Rebuild the search index from the markdown files';
  static override description =
    '.kogral/index.db is a cache: searches update it from file mtimes and hashes, and this rebuilds it from scratch. Deleting it is always safe. Files that are not valid nodes are listed with path:line.';
  static override flags = {
    incremental: Flags.boolean({ description: 'only index what changed since the last run' }),
    vectors: Flags.boolean({ description: 'also compute the embeddings --semantic uses (cached by content)' }),
  };
  static override examples = ['<%= config.bin %> reindex', '<%= config.bin %> reindex --incremental --json'];

  async run() {
    const app = await this.app();
    const swept = app.store.sweepTemporary();
    for (const f of swept) this.warnLine(`removed ${this.rel(f)}, left by a writer that died mid-write`);
    const index = await app.index(false);
    const s = this.flags.incremental ? index.refresh() : index.rebuild();
    this.reportProblems(s.problems);
    const indexed = index.count();
    this.log(
      `indexed ${indexed} node(s) from ${s.files} file(s) in ${Math.round(s.ms)} ms` +
        ` (${s.added} added, ${s.updated} updated, ${s.removed} removed${s.problems.length ? `, ${s.problems.length} unreadable` : ''})`,
    );
    let vectors: { model: string; vectors: number; ms: number } | undefined;
    if (this.flags.vectors) {
      const t0 = performance.now();
      vectors = { ...(await app.embedAll()), ms: Math.round(performance.now() - t0) };
      this.log(`embedded ${vectors.vectors} node(s) with ${vectors.model} in ${vectors.ms} ms`);
    }
    return { ...s, indexed, ms: Math.round(s.ms), index: index.file, swept, ...(vectors ? { vectors } : {}) };
  }
}
