import * as Args from '@oclif/core/args';
import { VaporaCommand } from '../../cli/base.js';

export default class TokenRevoke extends VaporaCommand<typeof TokenRevoke> {
  static override summary = 'Revoke an API token (its next request answers 401)';
  static override args = { id: Args.string({ description: 'token id (see vapora token list)', required: true }) };
  static override examples = ['<%= config.bin %> token revoke 4k9x2m1pq7za'];

  async run() {
    const t = await (await this.api()).revokeToken(this.args.id);
    this.log(`token ${t.id} (${t.name}) revoked`);
    return t;
  }
}
