import * as Args from '@oclif/core/args';
import { ClientCommand } from '../cli/base.js';

export default class PathHelp extends ClientCommand<typeof PathHelp> {
  static override summary = 'Show what an API path does: its operations and fields, with their types and meanings';
  static override description =
    "Like `vault path-help`: the server renders it from the path's declaration, the same one that checks the fields `svault read|write|list|delete` send (a field of the wrong type is refused; one the path does not declare is ignored, with a warning).";
  static override args = {
    path: Args.string({ description: 'path, e.g. secret/data/myapp or pki/roles/web', required: true }),
  };
  static override examples = [
    '<%= config.bin %> path-help pki/roles/web',
    '<%= config.bin %> path-help secret/data/myapp',
    '<%= config.bin %> path-help transit/encrypt/payments --json',
  ];

  async run() {
    const path = this.args.path.replace(/^\/+/, '');
    const r = await this.client().request<{ help: string }>('GET', path, { query: { help: 1 } });
    if (!this.jsonEnabled()) this.log(r?.help ?? '');
    return { path, help: r?.help ?? '' };
  }
}
