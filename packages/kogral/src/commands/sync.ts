import { Flags } from '@oclif/core';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';

export default class Sync extends KogralCommand<typeof Sync> {
  static override summary = 'Share the graph with the team through its git remote, both ways';
  static override description =
    "Commits the graph folder's changes, fetches, rebases onto the remote (merging when that conflicts) and pushes, retrying when another writer pushed first. A file changed on both sides keeps your version in place and theirs in .kogral/conflicts/: nothing is dropped. See them with 'kogral conflicts', settle them with 'kogral resolve'. Deletions travel as git deletions. Only files under the graph folder are committed.";
  static override flags = {
    git: Flags.boolean({ description: "through the repository's git remote (the default without [sync] url)" }),
    remote: Flags.string({ description: 'git remote (default: [sync] remote, origin)', helpValue: '<name>' }),
    url: Flags.string({ description: 'team PostgreSQL URL (planned)', helpValue: '<url>' }),
    'dry-run': Flags.boolean({ description: 'fetch and show what would come in and go out; change nothing' }),
  };
  static override examples = [
    '<%= config.bin %> sync',
    '<%= config.bin %> sync --git --remote team',
    '<%= config.bin %> sync --dry-run',
  ];

  async run() {
    const url = this.flags.url ?? this.config_.sync.url;
    if (url && this.flags.git) throw usageError('pass --git or --url, not both');
    if (url && !this.flags.git)
      throw new StratumError('failure', 'sync through PostgreSQL is not implemented yet (planned as KG11 in SPEC.md)', {
        hint: "share the graph through git meanwhile: 'kogral sync --git' (remove [sync] url)",
      });
    const app = await this.app();
    const { gitSync } = await import('../adapters/git-sync.js');
    const r = await app.store.lock(() =>
      gitSync(app.store, {
        remote: this.flags.remote ?? this.config_.sync.remote,
        ...(app.kg.opts.author ? { author: app.kg.opts.author } : {}),
        dryRun: this.flags['dry-run'],
      }),
    );
    if (!r.dryRun) await app.index().catch(() => undefined);
    const verb = r.dryRun ? 'would ' : '';
    this.log(
      `${r.remote}/${r.branch}: ${verb}pull ${r.pulled.length} file(s), ${verb}push ${r.pushed} commit(s)${r.committed ? ' (local changes committed)' : ''}`,
    );
    if (r.conflicts.length > 0) {
      this.warnLine(`${r.conflicts.length} conflict(s), both versions kept:`);
      for (const c of r.conflicts)
        this.warnLine(
          `  ${c.path}: ${c.kind.replace('_', ' ')}${c.theirs ? ` (theirs in ${c.theirs})` : ' (the changed version kept)'}`,
        );
      this.warnLine("resolve with 'kogral resolve <id> --keep mine|theirs|merged'");
    }
    return r;
  }
}
