import * as Args from '@oclif/core/args';
import { notFoundError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../cli/base.js';

export default class StateShow extends ProvCommand<typeof StateShow> {
  static override summary = "Show a resource's recorded attributes";
  static override description = 'Sensitive values are stored and shown only as a hash.';
  static override args = {
    address: Args.string({ description: 'resource address, e.g. server.web-01', required: true }),
  };
  static override examples = ['<%= config.bin %> state show server.web-01'];

  async run() {
    const store = await this.openStore();
    try {
      const r = await store.get(this.args.address);
      if (!r) throw notFoundError(`no resource ${this.args.address} in state`, { hint: 'see prov state list' });
      if (!this.jsonEnabled()) {
        this.log(`# ${r.address} (${r.provider}), updated ${r.updated_at}`);
        if (r.deps.length) this.log(`depends on: ${r.deps.join(', ')}`);
        this.log(`attributes: ${JSON.stringify(r.attrs, null, 2)}`);
        this.log(`outputs: ${JSON.stringify(r.outputs, null, 2)}`);
        if (r.sensitive.length) this.log(`sensitive: ${r.sensitive.join(', ')}`);
      }
      return r;
    } finally {
      await store.close();
    }
  }
}
