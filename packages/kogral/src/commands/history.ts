import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import { fileHistory, isGitRepo } from '../adapters/git.js';
import { KogralCommand } from '../cli/base.js';
import { NODE_TYPES } from '../core/model.js';

export default class History extends KogralCommand<typeof History> {
  static override summary = "Show a node's versions from git";
  static override description = 'Works for deleted nodes too, by id. Needs the graph to be in a git repository.';
  static override args = { id: Args.string({ description: 'node id (or title)', required: true }) };
  static override flags = {
    limit: Flags.integer({ description: 'at most this many versions', min: 1 }),
    diff: Flags.boolean({ description: 'show what changed in each version' }),
  };
  static override examples = [
    '<%= config.bin %> history use-cilium-3f2a1b',
    '<%= config.bin %> history use-cilium-3f2a1b --diff --limit 3',
  ];

  async run() {
    const app = await this.app();
    if (!(await isGitRepo(app.dir)))
      throw new StratumError('failure', `${this.rel(app.dir)} is not in a git repository: there is no history`, {
        hint: "run 'git init' and set git.auto_commit = true in .kogral/config.toml (or 'kogral init --git')",
      });
    let path: string | undefined;
    let id = this.args.id;
    try {
      const s = app.kg.get(this.args.id);
      path = s.path;
      id = s.node.id;
    } catch (e) {
      // A deleted node: its file is gone, its history is not.
      for (const t of NODE_TYPES) {
        const p = app.store.fileFor(t, this.args.id);
        if (existsSync(p)) throw e;
        const v = await fileHistory(app.dir, p, { limit: 1 });
        if (v && v.length > 0) {
          path = p;
          break;
        }
      }
      if (!path) throw e;
    }
    const versions =
      (await fileHistory(app.dir, path, {
        ...(this.flags.limit ? { limit: this.flags.limit } : {}),
        diff: this.flags.diff,
      })) ?? [];
    if (versions.length === 0) this.log(`${id} has no commits yet (is git.auto_commit on?)`);
    else if (this.flags.diff)
      for (const v of versions)
        this.log(`${v.commit.slice(0, 10)} ${v.date} ${v.author}: ${v.message}\n${v.diff ?? ''}\n`);
    else
      this.log(
        renderTable(
          versions.map((v) => ({ commit: v.commit.slice(0, 10), date: v.date, author: v.author, message: v.message })),
        ),
      );
    return { id, path, versions };
  }
}
