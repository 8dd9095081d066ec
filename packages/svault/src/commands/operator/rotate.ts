import { ClientCommand } from '../../cli/base.js';

export default class OperatorRotate extends ClientCommand<typeof OperatorRotate> {
  static override summary = 'Add a keyring term: new writes use a new barrier key';
  static override description = 'Entries written before keep their term and stay readable; nothing is rewritten.';
  static override examples = ['<%= config.bin %> operator rotate'];

  async run() {
    const c = this.client();
    await c.rotate();
    const ks = (await c.keyStatus())?.data as { term: number; install_time: string };
    if (!this.jsonEnabled()) this.log(`Rotated: key term ${ks.term}, installed ${ks.install_time}`);
    return ks;
  }
}
