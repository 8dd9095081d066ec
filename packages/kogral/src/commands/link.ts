import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';
import { RELATION_TYPES } from '../core/model.js';

export default class Link extends KogralCommand<typeof Link> {
  static override summary = 'Add a relation between two nodes';
  static override description =
    'supersedes marks the target superseded (and records superseded_by on it). Linking again changes the weight.';
  static override args = {
    from: Args.string({ description: 'source node (id, title or alias)', required: true }),
    to: Args.string({ description: 'target node (id, title or alias)', required: true }),
    relation: Args.string({
      description: `relation: ${RELATION_TYPES.join(', ')} (default: relates_to)`,
      options: [...RELATION_TYPES],
      default: 'relates_to',
    }),
  };
  static override flags = {
    weight: Flags.string({ description: 'relation weight, 0 to 1 (default: 1)', helpValue: '<0..1>' }),
  };
  static override examples = [
    '<%= config.bin %> link use-cilium-3f2a1b use-calico-9c8d7e supersedes',
    '<%= config.bin %> link sidecar-pattern-1a2b3c use-cilium-3f2a1b implements --weight 0.5',
  ];

  async run() {
    const weight = this.flags.weight === undefined ? 1 : Number(this.flags.weight);
    if (this.flags.weight !== undefined && (!Number.isFinite(weight) || weight < 0 || weight > 1))
      throw usageError(`--weight must be a number from 0 to 1, not '${this.flags.weight}'`);
    const app = await this.app();
    const r = await app.kg.link(this.args.from, this.args.to, this.args.relation, weight);
    this.log(`${r.node.id} -[${r.relation.type}]-> ${r.relation.target}${weight !== 1 ? ` (weight ${weight})` : ''}`);
    for (const a of r.also) this.log(`  ${a.node.id} is now ${a.node.status}`);
    return {
      from: r.node.id,
      to: r.relation.target,
      relation: r.relation.type,
      weight,
      also: r.also.map((a) => ({ id: a.node.id, status: a.node.status })),
    };
  }
}
