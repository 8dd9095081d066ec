import * as Args from '@oclif/core/args';
import { KogralCommand } from '../cli/base.js';
import { RELATION_TYPES } from '../core/model.js';

export default class Unlink extends KogralCommand<typeof Unlink> {
  static override summary = 'Remove a relation between two nodes';
  static override description =
    'Removing a supersedes relation gives the target back its earlier status when nothing else supersedes it.';
  static override args = {
    from: Args.string({ description: 'source node', required: true }),
    to: Args.string({ description: 'target node', required: true }),
    relation: Args.string({
      description: `only this relation (default: all of them): ${RELATION_TYPES.join(', ')}`,
      options: [...RELATION_TYPES],
    }),
  };
  static override examples = ['<%= config.bin %> unlink sidecar-pattern-1a2b3c use-cilium-3f2a1b implements'];

  async run() {
    const app = await this.app();
    const r = await app.kg.unlink(this.args.from, this.args.to, this.args.relation);
    for (const x of r.removed) this.log(`removed ${r.node.id} -[${x.type}]-> ${x.target}`);
    for (const a of r.also) this.log(`  ${a.node.id} is now ${a.node.status}`);
    return {
      from: r.node.id,
      removed: r.removed,
      also: r.also.map((a) => ({ id: a.node.id, status: a.node.status })),
    };
  }
}
