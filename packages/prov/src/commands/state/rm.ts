import * as Args from '@oclif/core/args';
import { approve, autoApproveFlag, ProvCommand } from '../../cli/base.js';
import { lockState } from '../../core/engine.js';

export default class StateRm extends ProvCommand<typeof StateRm> {
  static override summary = 'Forget a resource (the real object is left alone)';
  static override args = { address: Args.string({ description: 'resource address', required: true }) };
  static override flags = { 'auto-approve': autoApproveFlag };
  static override examples = ['<%= config.bin %> state rm server.web-01 -y'];

  async run() {
    await approve(
      `Forget ${this.args.address}? The real object stays, and prov will plan to create it again.`,
      this.flags['auto-approve'],
      this.jsonEnabled(),
    );
    const store = await this.openStore();
    try {
      const lock = await lockState(store, 'state rm', null);
      try {
        const serial = await store.remove(this.args.address);
        if (!this.jsonEnabled()) this.log(`Removed ${this.args.address} from state (serial ${serial}).`);
        return { removed: this.args.address, serial };
      } finally {
        await lock.release();
      }
    } finally {
      await store.close();
    }
  }
}
