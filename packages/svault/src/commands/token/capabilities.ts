import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class TokenCapabilities extends ClientCommand<typeof TokenCapabilities> {
  static override summary = 'Show the actions a token may take on a path';
  static override description =
    'Prints the Cedar actions allowed on the path (read, create, update, delete, list, sudo), ' +
    "'root' for a root token, or 'deny'.";
  static override args = { path: Args.string({ description: 'path, e.g. secret/data/db', required: true }) };
  static override flags = {
    accessor: Flags.string({ description: 'check the token with this accessor (default: the token in use)' }),
  };
  static override examples = [
    '<%= config.bin %> token capabilities secret/data/db',
    '<%= config.bin %> token capabilities secret/data/db --accessor hmHYw0pdrGV5mH2UQhWCZcW9',
  ];

  async run() {
    const path = this.args.path.replace(/^\/+/, '');
    const capabilities = await this.client().capabilities(path, this.flags.accessor);
    if (!this.jsonEnabled()) this.log(capabilities.join(', '));
    return { path, capabilities };
  }
}
