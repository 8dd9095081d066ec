import * as Flags from '@oclif/core/flags';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../../cli/base.js';

export default class StateList extends ProvCommand<typeof StateList> {
  static override summary = 'List the resources in state';
  static override flags = {
    provider: Flags.string({ description: 'only this provider', options: ['aws', 'upcloud', 'local'] }),
  };
  static override aliases = ['state:ls'];
  static override examples = ['<%= config.bin %> state list', '<%= config.bin %> state list --provider aws --json'];

  async run() {
    const store = await this.openStore();
    try {
      const all = (await store.list()).filter((r) => !this.flags.provider || r.provider === this.flags.provider);
      const meta = await store.meta();
      if (!this.jsonEnabled()) {
        if (all.length === 0) this.log('state is empty');
        else
          this.log(
            renderTable(
              all.map((r) => ({
                address: r.address,
                provider: r.provider,
                id: r.outputs.id ?? '',
                updated: r.updated_at.replace('T', ' ').slice(0, 19),
              })),
            ),
          );
      }
      return {
        serial: meta.serial,
        lineage: meta.lineage,
        resources: all.map((r) => ({
          address: r.address,
          kind: r.kind,
          provider: r.provider,
          id: r.outputs.id ?? null,
          updated_at: r.updated_at,
        })),
      };
    } finally {
      await store.close();
    }
  }
}
