import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { KogralCommand, readCapped } from '../cli/base.js';
import { type Keep, resolveConflict } from '../core/conflicts.js';

export default class Resolve extends KogralCommand<typeof Resolve> {
  static override summary = 'Settle a sync conflict: keep mine, theirs, or a merged version';
  static override description =
    'mine keeps the node file as it is; theirs puts the other version in its place; merged writes --file (a whole node file with the same id, checked before anything changes). The conflict files then go; the next sync shares the result.';
  static override args = { id: Args.string({ description: 'the node id', required: true }) };
  static override flags = {
    keep: Flags.string({ description: 'which version to keep', options: ['mine', 'theirs', 'merged'], required: true }),
    file: Flags.string({ description: 'with --keep merged: the merged node file', helpValue: '<file>' }),
    from: Flags.string({
      description: 'with --keep theirs: which conflict file, when there are several',
      helpValue: '<file>',
    }),
  };
  static override examples = [
    '<%= config.bin %> resolve pg-pool-1a2b3c --keep theirs',
    '<%= config.bin %> resolve pg-pool-1a2b3c --keep merged --file merged.md',
  ];

  async run() {
    const app = await this.app();
    const merged = this.flags.file === undefined ? undefined : readCapped(this.flags.file, app.store.maxBytes);
    const r = await app.store.lock(async () => {
      const res = resolveConflict(app.store, this.args.id, this.flags.keep as Keep, {
        ...(merged !== undefined ? { merged } : {}),
        ...(this.flags.from ? { from: this.flags.from } : {}),
      });
      await app.kg.commitPaths([res.path, ...res.removed], `kogral: resolve ${res.id} (kept ${res.keep})`, res.removed);
      return res;
    });
    this.log(`resolved ${r.id}: kept ${r.keep} (${this.rel(r.path)})`);
    return r;
  }
}
