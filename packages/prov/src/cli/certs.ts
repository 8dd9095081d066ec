import { existsSync } from 'node:fs';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { type InstallOptions, type IssuedCert, type RolloutTarget, recordCerts, rollOut } from '../core/certs.js';
import { Runtime } from '../runtime.js';
import { acceptNewHostKeysFlag, ProvCommand } from './base.js';

export const installFlags = {
  dir: Flags.string({
    description: 'folder on the hosts (default: <root>/etc/prov/certs/<domain>)',
    helpValue: '<path>',
  }),
  owner: Flags.string({ description: 'owner of the files on the hosts (the service user)', helpValue: '<user>' }),
  reload: Flags.string({
    description: 'command run on each host after installing, in the certificate folder, e.g. "systemctl reload nginx"',
    helpValue: '<command>',
  }),
  health: Flags.string({
    description: 'command that must exit 0 on each host (in the certificate folder) before the next one is done',
    helpValue: '<command>',
  }),
  file: Flags.string({
    char: 'f',
    description: 'Nickel config with the hosts (default: prov.ncl)',
    helpValue: '<file>',
  }),
  'accept-new-host-keys': acceptNewHostKeysFlag,
};

export interface Deployment {
  operation: string;
  targets: { host: string; install: InstallOptions; issue(): Promise<IssuedCert>; record: RolloutTarget['record'] }[];
  file: string | undefined;
}

/** cert generate and cert rotate: hosts from the config, one at a time, recorded in state. */
export abstract class CertCommand<T extends typeof Command> extends ProvCommand<T> {
  protected async deploy(d: Deployment) {
    const cfg = d.file ?? (existsSync('prov.ncl') ? 'prov.ncl' : undefined);
    const loaded = cfg ? await this.loadInfra(cfg) : undefined;
    const runtime = new Runtime(this.runtimeSettings(), loaded?.infra);
    const store = await this.openStore();
    // Under the state lock: two rotations (or a rotation and an apply) never touch the hosts at once.
    let lock: Awaited<ReturnType<typeof store.lock>> | undefined;
    try {
      lock = await store.lock({ operation: d.operation });
      const hosts = await runtime.targets(d.targets.map((t) => t.host));
      const exec = await runtime.executor();
      const result = await rollOut(
        exec,
        d.targets.map((t, i) => ({ ...t, host: hosts[i] as (typeof hosts)[number] })),
        this.jsonEnabled() ? undefined : (host, what) => this.log(`[${host}] ${what}`),
      );
      const error = result.failed ? `${result.failed.host}: ${result.failed.error}` : undefined;
      const runId = await recordCerts(store, d.operation, result.installed, error);
      const doc = {
        run: runId,
        installed: result.installed,
        ...(result.failed ? { failed: result.failed } : {}),
        skipped: result.skipped,
      };
      if (result.failed) {
        throw new StratumError(
          'failure',
          `${d.operation} stopped at ${result.failed.host}: ${result.failed.error}${result.failed.restored ? ' (its previous certificate is back)' : ''}`,
          {
            details: doc,
            hint: result.skipped.length
              ? `not touched: ${result.skipped.join(', ')}; fix the host, then run the command again`
              : 'fix the host, then run the command again',
          },
        );
      }
      if (!this.jsonEnabled())
        this.log(`\n${result.installed.length} certificate(s) installed and recorded in state (run ${runId}).`);
      return doc;
    } finally {
      await lock?.release();
      await runtime.close();
      await store.close();
    }
  }
}
