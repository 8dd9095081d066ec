import { existsSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { renderTable } from '@stratumiops/shared/output';
import type { LocalProvider } from '../../adapters/local.js';
import { ProvCommand } from '../../cli/base.js';
import { Runtime } from '../../runtime.js';

export default class ProviderTest extends ProvCommand<typeof ProviderTest> {
  static override summary = "Check a provider's credentials and connectivity";
  static override description =
    'aws, upcloud: one read-only API call. lxd: its API and the image alias. local: connects to every known host and gathers facts (OS, arch). Exit 7 when any check fails.';
  static override args = {
    name: Args.string({
      description: 'provider: aws, upcloud, local or lxd',
      options: ['aws', 'upcloud', 'local', 'lxd'],
      required: true,
    }),
  };
  static override flags = {
    'accept-new-host-keys': Flags.boolean({
      description: 'local: record host keys seen for the first time (trust on first use)',
    }),
    file: Flags.string({
      char: 'f',
      description: 'Nickel config whose hosts to test (default: prov.ncl when present)',
    }),
  };
  static override examples = [
    '<%= config.bin %> provider test aws',
    '<%= config.bin %> provider test upcloud',
    '<%= config.bin %> provider test local --accept-new-host-keys',
  ];

  async run() {
    const cfg = this.flags.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const s = this.runtimeSettings();
    if (this.flags['accept-new-host-keys']) s.ssh.host_key_checking = 'accept-new';
    const runtime = new Runtime(s, loaded?.infra);
    try {
      let checks: { target: string; ok: boolean; detail: string }[];
      if (this.args.name === 'local') {
        const p = (await runtime.provider('local')) as InstanceType<typeof LocalProvider>;
        checks = await p.testHosts(await runtime.targets(Object.keys(await runtime.hosts())));
        if (checks.length === 0)
          checks = [{ target: 'local', ok: false, detail: 'no hosts: prov provider add local --hosts hosts.ncl' }];
      } else checks = await (await runtime.provider(this.args.name)).test();
      if (!this.jsonEnabled())
        this.log(
          renderTable(checks.map((c) => ({ target: c.target, result: c.ok ? 'ok' : 'FAILED', detail: c.detail }))),
        );
      const failed = checks.filter((c) => !c.ok);
      if (failed.length) {
        throw new StratumError(
          'unavailable',
          `${failed.length} of ${checks.length} check(s) failed: ${failed.map((f) => f.target).join(', ')}`,
          {
            details: { checks },
            ...(this.jsonEnabled() ? {} : { display: `prov: ${failed.length} of ${checks.length} check(s) failed` }),
          },
        );
      }
      return { checks };
    } finally {
      await runtime.close();
    }
  }
}
