import * as Args from '@oclif/core/args';
import { notFoundError, usageError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../cli/base.js';
import { lockState } from '../../core/engine.js';
import { maskSensitive } from '../../core/sensitive.js';
import { configFile } from '../../core/workspace.js';
import { Runtime } from '../../runtime.js';

export default class StateImport extends ProvCommand<typeof StateImport> {
  static override summary = 'Record an existing resource in state';
  static override description =
    'The address must exist in the config (its attributes are taken from there); the provider is asked whether the object with that id exists before anything is recorded.';
  static override args = {
    address: Args.string({ description: 'address in the config, e.g. server.web-01', required: true }),
    id: Args.string({ description: 'provider id, e.g. i-0abc123def456 (for local: the host name)', required: true }),
    config: Args.string({ description: 'Nickel config (default: prov.ncl)' }),
  };
  static override examples = ['<%= config.bin %> state import server.web-01 i-0abc123def456'];

  async run() {
    const loaded = await this.loadInfra(configFile(this.args.config));
    const d = loaded.desired.resources.find((r) => r.address === this.args.address);
    if (!d)
      throw usageError(`${this.args.address} is not in the config`, {
        hint: 'add it to the config first, then import',
      });
    const store = await this.openStore();
    const runtime = new Runtime(this.runtimeSettings(), loaded.infra);
    try {
      const lock = await lockState(store, 'state import', null);
      try {
        if (await store.get(d.address)) throw usageError(`${d.address} is already in state`);
        const { attrs, sensitive } = maskSensitive(d.attrs);
        const rec = {
          address: d.address,
          kind: d.kind,
          name: d.name,
          provider: d.provider,
          attrs,
          outputs: { id: this.args.id },
          deps: d.deps,
          sensitive,
          updated_at: new Date().toISOString(),
        };
        const seen = await (await runtime.provider(d.provider)).read(rec);
        if (seen === null) throw notFoundError(`${d.provider} has no object ${this.args.id} for ${d.address}`);
        const serial = await store.put(rec);
        if (!this.jsonEnabled())
          this.log(`Imported ${d.address} (${this.args.id}); run prov plan to see any difference from the config.`);
        return { imported: d.address, id: this.args.id, serial };
      } finally {
        await lock.release();
      }
    } finally {
      await runtime.close();
      await store.close();
    }
  }
}
