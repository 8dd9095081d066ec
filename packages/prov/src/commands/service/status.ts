import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../../cli/base.js';
import { runTaskserv } from '../../core/taskserv.js';
import { Runtime } from '../../runtime.js';

export default class ServiceStatus extends ProvCommand<typeof ServiceStatus> {
  static override summary = 'Show whether a service is installed and running on each host';
  static override description =
    'Without --servers, the hosts state records the service on. Asks each host (status step of the definition).';
  static override args = { service: Args.string({ description: 'service name', required: true }) };
  static override flags = {
    servers: Flags.string({
      description: 'hosts, comma-separated',
      delimiter: ',',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name,...>',
    }),
    file: Flags.string({ char: 'f', description: 'Nickel config with the hosts (default: prov.ncl when present)' }),
  };
  static override examples = [
    '<%= config.bin %> service status etcd',
    '<%= config.bin %> service status postgresql --servers db-1 --json',
  ];

  async run() {
    const cfg = this.flags.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    const store = await this.openStore();
    try {
      const recorded = (await store.list()).filter(
        (r) => r.kind === 'taskserv' && r.attrs.service === this.args.service,
      );
      const names = this.flags.servers ?? recorded.map((r) => String(r.attrs.host));
      const def = await runtime.definition(this.args.service);
      const targets = await runtime.targets(names);
      const exec = await runtime.executor();
      const rows = await Promise.all(
        targets.map(async (h) => {
          const rec = recorded.find((r) => r.attrs.host === h.name);
          try {
            const rep = await runTaskserv('status', {
              exec,
              host: h,
              def,
              config: (rec?.attrs.config ?? {}) as Record<string, unknown>,
            });
            return {
              host: h.name,
              status: rep.status ?? 'unknown',
              in_state: Boolean(rec),
              version: (rec?.attrs.version as string) ?? def.version,
            };
          } catch (e) {
            return { host: h.name, status: 'unreachable', in_state: Boolean(rec), error: (e as Error).message };
          }
        }),
      );
      if (!this.jsonEnabled())
        this.log(rows.length ? renderTable(rows) : `${this.args.service} is not recorded on any host; pass --servers`);
      return { service: this.args.service, hosts: rows };
    } finally {
      await runtime.close();
      await store.close();
    }
  }
}
