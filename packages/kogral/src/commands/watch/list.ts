import { KogralCommand } from '../../cli/base.js';
import { within } from '../../core/sources.js';

export default class WatchList extends KogralCommand<typeof WatchList> {
  static override summary = 'List the watched folders';
  static override examples = ['<%= config.bin %> watch list'];

  async run() {
    const app = await this.app();
    const files = app.store.listPaths();
    const out = app.store.sources.map((s) => ({
      name: s.name,
      dir: s.dir,
      type: s.type,
      files: files.filter((f) => within(s.dir, f.path)).length,
    }));
    if (out.length === 0) this.log("no watched folders (add one with 'kogral watch add <folder>')");
    for (const s of out) this.log(`${s.name}\t${s.type}\t${s.files} files\t${this.rel(s.dir)}`);
    return { sources: out };
  }
}
