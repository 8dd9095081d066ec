import * as Args from '@oclif/core/args';
import { approve, autoApproveFlag, ProvCommand } from '../../cli/base.js';
import { lockState } from '../../core/engine.js';

export default class StateMv extends ProvCommand<typeof StateMv> {
  static override summary = 'Rename a resource in state (after renaming it in the config)';
  static override args = {
    from: Args.string({ description: 'current address', required: true }),
    to: Args.string({ description: 'new address', required: true }),
  };
  static override flags = { 'auto-approve': autoApproveFlag };
  static override examples = ['<%= config.bin %> state mv server.web-1 server.web-01 -y'];

  async run() {
    await approve(
      `Rename ${this.args.from} to ${this.args.to} in state?`,
      this.flags['auto-approve'],
      this.jsonEnabled(),
    );
    const store = await this.openStore();
    try {
      const lock = await lockState(store, 'state mv', null);
      try {
        const serial = await store.move(this.args.from, this.args.to);
        if (!this.jsonEnabled()) this.log(`Moved ${this.args.from} to ${this.args.to} (serial ${serial}).`);
        return { from: this.args.from, to: this.args.to, serial };
      } finally {
        await lock.release();
      }
    } finally {
      await store.close();
    }
  }
}
