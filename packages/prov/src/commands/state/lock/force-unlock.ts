import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../../cli/base.js';
import { confirm } from '../../../cli/flow.js';
import { describeLock, isStale } from '../../../core/state.js';

export default class ForceUnlock extends ProvCommand<typeof ForceUnlock> {
  static override summary = 'Release a stuck state lock';
  static override description =
    'Shows the owner and age of the lock before releasing it. Only for a lock whose holder is gone: releasing a live run’s lock lets two runs change the same resources. With PostgreSQL state the holder’s session is terminated.';
  static override args = {
    'lock-id': Args.string({ description: 'lock id, as shown by lock status or the refused command', required: true }),
  };
  static override flags = {
    yes: Flags.boolean({ description: 'release without asking', char: 'y', aliases: ['auto-approve'] }),
  };
  static override aliases = ['state:force-unlock'];
  static override examples = ['<%= config.bin %> state lock force-unlock 6f1d2c4e --yes'];

  async run() {
    const store = await this.openStore();
    try {
      const l = await store.lockStatus();
      if (l && l.id === this.args['lock-id'] && !this.flags.yes) {
        if (this.jsonEnabled()) throw new StratumError('usage', 'force-unlock needs --yes with --json');
        this.log(`Lock ${l.id}: ${describeLock(l)}${isStale(l) ? ' (holder is gone)' : ' (holder is still running!)'}`);
        if (!(await confirm('Release it?', '--yes'))) throw new StratumError('failure', 'cancelled: the lock is kept');
      }
      const released = await store.forceUnlock(this.args['lock-id']);
      if (!this.jsonEnabled()) this.log(`Released lock ${released.id} held by ${describeLock(released)}.`);
      return { released };
    } finally {
      await store.close();
    }
  }
}
