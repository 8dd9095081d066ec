import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { KogralCommand } from '../cli/base.js';

export default class Delete extends KogralCommand<typeof Delete> {
  static override summary = 'Delete a node, reporting (or with --force removing) links left dangling';
  static override description =
    'Nodes that link to the deleted one are listed. With --force their relations to it are removed and their [[wikilinks]] to it become plain text.';
  static override args = { id: Args.string({ description: 'node id (or title)', required: true }) };
  static override flags = {
    force: Flags.boolean({ description: 'also remove the links other nodes have to it', char: 'f' }),
  };
  static override examples = [
    '<%= config.bin %> delete old-runbook-1a2b3c',
    '<%= config.bin %> delete old-runbook-1a2b3c --force',
  ];

  async run() {
    const app = await this.app();
    const r = await app.kg.remove(this.args.id, this.flags.force);
    this.log(`deleted ${r.node.type} ${r.node.id} (${this.rel(r.path)})`);
    if (r.dangling.length > 0) {
      if (this.flags.force)
        this.log(`removed links to it from: ${[...new Set(r.dangling.map((d) => d.from))].join(', ')}`);
      else {
        const from = [...new Set(r.dangling.map((d) => d.from))];
        this.warnLine(
          `links to ${r.node.id} are now dangling in: ${from.join(', ')} (run with --force to remove them)`,
        );
      }
    }
    return { id: r.node.id, type: r.node.type, path: r.path, dangling: r.dangling };
  }
}
