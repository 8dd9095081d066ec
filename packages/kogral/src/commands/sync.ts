import { join } from 'node:path';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { resolveSecret } from '@stratumiops/svault/client/secret-ref';
import { gitSync } from '../adapters/git-sync.js';
import { pgSync, redactUrl } from '../adapters/pg-sync.js';
import { KogralCommand } from '../cli/base.js';
import type { SyncConflict } from '../core/conflicts.js';
import type { App } from '../runtime.js';

export default class Sync extends KogralCommand<typeof Sync> {
  static override summary = 'Share the graph with the team, both ways: through a PostgreSQL server or the git remote';
  static override description =
    "With --url (or [sync] url in .kogral/config.toml) through a team PostgreSQL: kogral creates and migrates its tables, pulls only what changed since this clone's last sync and pushes only what changed here; writers take turns, and work goes on offline (the next sync catches up). The password comes from KOGRAL_SYNC_PASSWORD (or PGPASSWORD), or from the reference in [sync] password (svault://secret/data/<path>#<field>, read through svault; or env://VAR), never from the config file itself. Without a URL, through the repository's git remote: commits the graph folder's changes, fetches, rebases (merging when that conflicts) and pushes, retrying when another writer pushed first. Either way a node changed on both sides keeps your version in place and theirs in .kogral/conflicts/ (nothing is dropped), deletions travel too, and only the graph folder is shared (not watched folders). See conflicts with 'kogral conflicts', settle them with 'kogral resolve'.";
  static override flags = {
    git: Flags.boolean({ description: "through the repository's git remote (the default without [sync] url)" }),
    remote: Flags.string({ description: 'git remote (default: [sync] remote, origin)', helpValue: '<name>' }),
    url: Flags.string({
      description: 'team PostgreSQL (default: [sync] url); the password from KOGRAL_SYNC_PASSWORD',
      helpValue: '<postgresql://user@host/db>',
    }),
    graph: Flags.string({
      description: "the graph's name on the server (default: [sync] graph, the config's name, 'default')",
      helpValue: '<name>',
    }),
    'dry-run': Flags.boolean({ description: 'fetch and show what would come in and go out; change nothing' }),
  };
  static override examples = [
    '<%= config.bin %> sync',
    '<%= config.bin %> sync --git --remote team',
    '<%= config.bin %> sync --dry-run',
    'KOGRAL_SYNC_PASSWORD=... <%= config.bin %> sync --url postgresql://sre@db.internal/kogral',
  ];

  async run() {
    const url = this.flags.url ?? this.config_.sync.url;
    if (url && this.flags.git) throw usageError('pass --git or --url, not both');
    const app = await this.app();
    if (url && !this.flags.git) return this.viaPostgres(app, url);
    if (this.flags.graph) throw usageError('--graph goes with --url (PostgreSQL)');
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
    this.reportConflicts(r.conflicts);
    return { via: 'git', ...r };
  }

  private async viaPostgres(app: App, url: string) {
    if (this.flags.remote) throw usageError('--remote goes with --git');
    if (!/^postgres(ql)?:\/\//.test(url))
      throw usageError(`'${url}' is not a PostgreSQL URL`, { hint: 'postgresql://user@host:5432/db' });
    const graph = this.flags.graph || this.config_.sync.graph || this.config_.name || 'default';
    const ref = this.config_.sync.password;
    const password = process.env.KOGRAL_SYNC_PASSWORD ?? (ref ? await resolveSecret(ref) : undefined);
    const r = await app.store.lock(async () => {
      const res = await pgSync(app.store, {
        url,
        graph,
        ...(password ? { password } : {}),
        ...(app.kg.opts.author ? { author: app.kg.opts.author } : {}),
        dryRun: this.flags['dry-run'],
      });
      if (res.dryRun) return res;
      // What came in: into the search index, and a commit when git.auto_commit is on.
      const abs = (rel: string) => join(app.store.dir, rel);
      const theirs = res.conflicts.flatMap((c) => (c.theirs ? [c.theirs] : []));
      const written = [...res.pulled, ...theirs].map(abs);
      const removed = res.removed.map(abs);
      if (written.length + removed.length > 0)
        await app.kg.commitPaths([...written, ...removed], `kogral sync: ${graph} from ${redactUrl(url)}`, removed);
      return res;
    });
    const verb = r.dryRun ? 'would ' : '';
    this.log(
      `${redactUrl(url)} graph '${graph}': ${verb}pull ${r.pulled.length}, ${verb}remove ${r.removed.length}, ${verb}push ${r.pushed.length} file(s)`,
    );
    if (r.skipped.length > 0)
      this.warnLine(`not synced (not readable as nodes, or a duplicate id): ${r.skipped.join(', ')}`);
    this.reportConflicts(r.conflicts);
    return { via: 'postgresql', ...r };
  }

  private reportConflicts(conflicts: SyncConflict[]): void {
    if (conflicts.length === 0) return;
    this.warnLine(`${conflicts.length} conflict(s), both versions kept:`);
    for (const c of conflicts)
      this.warnLine(
        `  ${c.path}: ${c.kind.replace('_', ' ')}${c.theirs ? ` (theirs in ${c.theirs})` : ' (the changed version kept)'}`,
      );
    this.warnLine("resolve with 'kogral resolve <id> --keep mine|theirs|merged'");
  }
}
