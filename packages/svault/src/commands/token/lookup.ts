import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, show } from '../../cli/base.js';

export default class TokenLookup extends ClientCommand<typeof TokenLookup> {
  static override summary = "Show a token's policies, TTL and metadata (default: the token in use)";
  static override args = { token: Args.string({ description: 'token, or accessor with --accessor' }) };
  static override flags = { accessor: Flags.boolean({ description: 'the argument is an accessor' }) };
  static override examples = [
    '<%= config.bin %> token lookup',
    '<%= config.bin %> token lookup --accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
  ];

  async run() {
    const r = await this.client().tokenLookup(this.args.token, this.flags.accessor);
    const d = { ...((r.data ?? {}) as Record<string, unknown>) };
    // Never echo a token the user did not type into this command.
    if (d.id && !this.args.token) d.id = '';
    if (!this.jsonEnabled()) this.table(Object.fromEntries(Object.entries(d).map(([k, v]) => [k, show(v)])));
    return { ...r, data: d };
  }
}
