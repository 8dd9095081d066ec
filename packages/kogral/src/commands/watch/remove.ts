import { readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import { notFoundError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { KogralCommand } from '../../cli/base.js';

import { removeSourceBlocks } from '../../core/sources-config.js';

export default class WatchRemove extends KogralCommand<typeof WatchRemove> {
  static override summary = 'Stop watching a folder (its files are left as they are)';
  static override args = { folder: Args.string({ description: 'the folder, or its name', required: true }) };
  static override examples = ['<%= config.bin %> watch remove docs/runbooks'];

  async run() {
    const app = await this.app();
    const arg = this.args.folder;
    const real = (p: string) => {
      try {
        return realpathSync(p);
      } catch {
        return resolve(p);
      }
    };
    const want = real(resolve(arg));
    const file = join(app.dir, 'config.toml');
    const r = await app.store.lock(() => {
      const res = removeSourceBlocks(
        readFileSync(file, 'utf8'),
        (v) =>
          v.name === arg || v.path === arg || (v.path !== undefined && real(resolve(app.projectRoot, v.path)) === want),
      );
      if (res.removed > 0) writeFileAtomic(file, res.text);
      return res;
    });
    if (r.removed === 0)
      throw notFoundError(`'${arg}' is not a watched folder`, { hint: "see them with 'kogral watch list'" });
    this.log(`stopped watching ${arg}; its files were not touched`);
    return { removed: r.removed };
  }
}
