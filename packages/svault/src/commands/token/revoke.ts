import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand } from '../../cli/base.js';

export default class TokenRevoke extends ClientCommand<typeof TokenRevoke> {
  static override summary = 'Revoke a token and all its children';
  static override args = { token: Args.string({ description: 'token, or accessor with --accessor' }) };
  static override flags = {
    accessor: Flags.boolean({ description: 'the argument is an accessor' }),
    self: Flags.boolean({ description: 'revoke the token in use' }),
    orphan: Flags.boolean({ description: 'revoke only this token; its children become orphans' }),
  };
  static override examples = [
    '<%= config.bin %> token revoke --accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
    '<%= config.bin %> token revoke --self',
  ];

  async run() {
    const { token } = this.args;
    if (!token && !this.flags.self)
      throw usageError('which token?', { hint: 'pass a token, --accessor <accessor>, or --self' });
    if (token && this.flags.self) throw usageError('--self takes no token argument');
    await this.client().tokenRevoke(this.flags.self ? undefined : token, {
      accessor: this.flags.accessor,
      orphan: this.flags.orphan,
    });
    if (!this.jsonEnabled()) this.log('Success! Revoked token (if it existed)');
    return { revoked: true };
  }
}
