import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError, notFoundError, usageError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { KogralCommand } from '../../cli/base.js';

import { NODE_TYPES } from '../../core/model.js';
import { within } from '../../core/sources.js';
import { addSourceBlock } from '../../core/sources-config.js';

export default class WatchAdd extends KogralCommand<typeof WatchAdd> {
  static override summary = 'Index a markdown folder where it lives, and keep following it';
  static override description =
    "The folder's files are searched, shown and linked like nodes, but never written: their frontmatter is kept in the index only. Every command sees changes at once (the index compares the files first); `kogral serve` watches the folder. Saved as [[sources]] in .kogral/config.toml.";
  static override args = { folder: Args.string({ description: 'the folder, e.g. docs/runbooks', required: true }) };
  static override flags = {
    type: Flags.string({ description: 'node type of its files (default: note)', options: [...NODE_TYPES] }),
    name: Flags.string({ description: "its name in results (default: the folder's name)", helpValue: '<name>' }),
  };
  static override examples = [
    '<%= config.bin %> watch add docs/runbooks',
    '<%= config.bin %> watch add docs/postmortems --type execution --name postmortems',
  ];

  async run() {
    const app = await this.app();
    const abs = resolve(this.args.folder);
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      throw notFoundError(`no folder ${abs}`);
    }
    if (!statSync(real).isDirectory()) throw usageError(`${abs} is not a folder`);
    const graph = realpathSync(app.dir);
    if (within(real, graph) || within(graph, real))
      throw usageError(
        `${abs} holds the graph folder (or is inside it): watch a folder beside .kogral/, not around it`,
      );
    const name = this.flags.name ?? basename(real);
    if (!/^[\w.-]+$/.test(name)) throw usageError(`'${name}' is not a usable name`, { hint: 'letters, digits, . _ -' });
    for (const s of app.store.sources) {
      if (within(s.dir, real) || within(real, s.dir))
        throw conflictError(`${abs} overlaps the watched folder ${s.dir}`);
      if (s.name === name)
        throw conflictError(`a watched folder is already called '${name}' (${s.dir})`, { hint: 'pass --name' });
    }
    const rel = relative(app.projectRoot, abs);
    const path = rel.startsWith('..') || isAbsolute(rel) ? abs : rel.split(sep).join('/');
    const type = this.flags.type ?? 'note';
    const file = join(app.dir, 'config.toml');
    await app.store.lock(() => {
      writeFileAtomic(file, addSourceBlock(readFileSync(file, 'utf8'), { path, type, name }));
    });
    app.store.sources.push({ dir: real, type: type as (typeof NODE_TYPES)[number], name });
    const stats = (await app.index()).refresh();
    const files = app.store.listFiles().filter((f) => within(real, f.path)).length;
    this.log(`watching ${path} as '${name}' (${type}): ${files} markdown files indexed, none written`);
    if (stats.problems.length > 0) this.reportProblems(stats.problems.filter((p) => within(real, p.path)));
    return { path, dir: real, name, type, files };
  }
}
