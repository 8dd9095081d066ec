import { KogralCommand } from '../cli/base.js';
import { listConflicts } from '../core/conflicts.js';

export default class Conflicts extends KogralCommand<typeof Conflicts> {
  static override summary = 'List sync conflicts: nodes changed on both sides, both versions kept';
  static override examples = ['<%= config.bin %> conflicts'];

  async run() {
    const app = await this.app();
    const list = listConflicts(app.store);
    if (list.length === 0) this.log('no conflicts');
    for (const c of list)
      this.log(
        `${c.id}\tfrom ${c.who} at ${c.when}\t${this.rel(c.path)}${c.of ? `\t(mine: ${c.of})` : '\t(deleted here)'}`,
      );
    return { conflicts: list };
  }
}
