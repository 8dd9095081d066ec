import { ProvCommand } from '../../../cli/base.js';
import { ageOf, isStale } from '../../../core/state.js';

export default class LockStatus extends ProvCommand<typeof LockStatus> {
  static override summary = 'Show who holds the state lock, since when, and whether the holder is still alive';
  static override examples = ['<%= config.bin %> state lock status --json'];

  async run() {
    const store = await this.openStore();
    try {
      const l = await store.lockStatus();
      if (!l) {
        if (!this.jsonEnabled()) this.log(`unlocked (${store.location})`);
        return { locked: false, state: store.location };
      }
      const stale = isStale(l);
      if (!this.jsonEnabled()) {
        this.log(
          `locked: id ${l.id}, by ${l.owner}@${l.host} pid ${l.pid}, ${l.operation}${l.run_id ? ` (run ${l.run_id})` : ''}, ${ageOf(l.created_at)} ago${stale ? ' — STALE: that process is gone' : ''}`,
        );
      }
      return { locked: true, stale, age: ageOf(l.created_at), lock: l, state: store.location };
    } finally {
      await store.close();
    }
  }
}
