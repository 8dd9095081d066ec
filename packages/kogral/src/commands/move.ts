import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { KogralCommand } from '../cli/base.js';
import { NODE_TYPES, type NodeType, typeDir } from '../core/model.js';

/** `decisions`, `decisions/` or `decision` → decision. */
const asType = (s: string): NodeType | undefined =>
  NODE_TYPES.find((t) => s.replace(/\/+$/, '') === typeDir(t) || s.replace(/\/+$/, '') === t);

export default class Move extends KogralCommand<typeof Move> {
  static override summary = 'Rename a node or move it to another type, links kept working';
  static override description =
    "The id stays, so relations keep pointing at the node; [[wikilinks]] that named its old title are rewritten in the nodes that have them. A target ending in '/' or naming a type folder (decisions/, notes/) moves the node there; anything else is the new title.";
  static override args = {
    id: Args.string({ description: 'node id (or title or alias)', required: true }),
    target: Args.string({ description: 'new title, or a type folder (decisions/, notes/, ...)' }),
  };
  static override flags = {
    title: Flags.string({ description: 'new title', helpValue: '<title>' }),
    type: Flags.string({ description: 'move to this type', options: [...NODE_TYPES] }),
  };
  static override examples = [
    '<%= config.bin %> move nginx-502-1a2b3c "Nginx 502 and 504 troubleshooting"',
    '<%= config.bin %> move use-cilium-3f2a1b decisions/',
  ];

  async run() {
    let title = this.flags.title;
    let type = this.flags.type as NodeType | undefined;
    const t = this.args.target;
    if (t !== undefined) {
      const asT = asType(t);
      if (asT && !t.includes(' ')) {
        if (type) throw usageError(`the target '${t}' is a type folder and --type is given: pass one`);
        type = asT;
      } else if (t.endsWith('/')) {
        throw usageError(`'${t}' is not a type folder`, { hint: `use one of ${NODE_TYPES.map(typeDir).join('/, ')}/` });
      } else {
        if (title !== undefined) throw usageError('pass the new title as the argument or --title, not both');
        title = t;
      }
    }
    const app = await this.app();
    const r = await app.kg.move(this.args.id, { ...(title !== undefined ? { title } : {}), ...(type ? { type } : {}) });
    this.log(`moved ${r.from.type} '${r.from.title}' to ${r.node.type} '${r.node.title}' (${this.rel(r.path)})`);
    if (r.relinked.length > 0) this.log(`links updated in: ${r.relinked.map((x) => x.id).join(', ')}`);
    return {
      id: r.node.id,
      type: r.node.type,
      title: r.node.title,
      path: r.path,
      from: r.from,
      relinked: r.relinked,
    };
  }
}
