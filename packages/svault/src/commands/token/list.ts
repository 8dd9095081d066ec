import { ClientCommand } from '../../cli/base.js';

export default class TokenList extends ClientCommand<typeof TokenList> {
  static override summary = 'List the accessors of live tokens';
  static override description =
    'Like `vault list auth/token/accessors`: needs sudo on that path (root does). An accessor looks a token up or revokes it without revealing it.';
  static override examples = [
    '<%= config.bin %> token list',
    '<%= config.bin %> token list --json',
    '<%= config.bin %> token lookup --accessor <accessor>',
  ];

  async run() {
    const keys = await this.client().list('auth/token/accessors');
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
