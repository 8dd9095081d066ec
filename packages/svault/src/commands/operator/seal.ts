import { ClientCommand } from '../../cli/base.js';

export default class OperatorSeal extends ClientCommand<typeof OperatorSeal> {
  static override summary = 'Seal the vault: forget the root key until it is unsealed again';
  static override description =
    'While sealed, every secret path answers 503 (exit code 5 from the CLI). Needs a root token.';
  static override examples = ['<%= config.bin %> operator seal'];

  async run() {
    await this.client().seal();
    if (!this.jsonEnabled()) this.log('Sealed.');
    return { sealed: true };
  }
}
