import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { byCodeUnits } from '@stratumiops/shared/order';
import { issueCert, vaultClient } from '../../adapters/vault.js';
import { CertCommand, installFlags } from '../../cli/certs.js';
import { certInventory, expiringCerts } from '../../core/certs.js';

export default class CertRotate extends CertCommand<typeof CertRotate> {
  static override summary = 'Reissue and redeploy certificates, one server at a time, health-gated';
  static override description =
    'Takes the certificates state recorded for a cluster (the name given to prov cert generate --cluster) or a domain, issues a new one for each server from the same PKI role, installs it, reloads and waits for the checks (serial, key, mode, the recorded --health command) before the next server. The first server that fails gets its previous certificate back and the rotation stops: the others keep theirs. --within N only rotates those expiring in fewer than N days.';
  static override flags = {
    cluster: Flags.string({ description: 'rotate the certificates of this group', helpValue: '<name>' }),
    domain: Flags.string({ description: 'rotate the certificates of this domain', helpValue: '<name>' }),
    servers: Flags.string({ description: 'only on these servers (comma-separated)', helpValue: '<names>' }),
    within: Flags.integer({ description: 'only certificates expiring in fewer than this many days', min: 1 }),
    ttl: Flags.string({
      description: 'validity of the new certificates (default: as recorded)',
      helpValue: '<duration>',
    }),
    health: installFlags.health,
    file: installFlags.file,
    'accept-new-host-keys': installFlags['accept-new-host-keys'],
  };
  static override examples = [
    '<%= config.bin %> cert rotate --cluster pg-prod',
    '<%= config.bin %> cert rotate --domain api.example.com --within 30',
  ];

  async run() {
    const f = this.flags;
    if (!f.cluster && !f.domain)
      throw usageError('which certificates?', { hint: 'pass --cluster NAME or --domain NAME' });
    const store = await this.openStore();
    let records: Awaited<ReturnType<typeof certInventory>>;
    try {
      records = await certInventory(store);
    } finally {
      await store.close();
    }
    const only = f.servers?.split(',').map((s) => s.trim());
    let chosen = records.filter(
      (r) =>
        (!f.cluster || r.group === f.cluster) &&
        (!f.domain || r.domain === f.domain) &&
        (!only || only.includes(r.host)),
    );
    if (chosen.length === 0)
      throw new StratumError(
        'notFound',
        `no certificates recorded for ${f.cluster ? `cluster ${f.cluster}` : `domain ${f.domain}`}`,
        {
          hint: 'prov cert generate --cluster NAME ... records them',
        },
      );
    if (f.within !== undefined) {
      const due = new Set(expiringCerts(chosen, f.within).map((c) => `${c.domain}\0${c.host}`));
      chosen = chosen.filter((c) => due.has(`${c.domain}\0${c.host}`));
      if (chosen.length === 0) {
        if (!this.jsonEnabled()) this.log(`Nothing expires within ${f.within} days.`);
        return { run: null, installed: [], skipped: [] };
      }
    }
    chosen.sort((a, b) => byCodeUnits(a.host, b.host) || byCodeUnits(a.domain, b.domain));
    const client = await vaultClient();
    return this.deploy({
      operation: 'cert rotate',
      file: f.file,
      targets: chosen.map((r) => {
        const ttl = f.ttl ?? r.ttl;
        const health = f.health ?? r.health;
        return {
          host: r.host,
          install: {
            domain: r.domain,
            dir: r.dir,
            ...(r.owner ? { owner: r.owner } : {}),
            ...(r.reload ? { reload: r.reload } : {}),
            ...(health ? { health } : {}),
          },
          issue: () =>
            issueCert(client, r.pki, r.role, r.domain, {
              ...(ttl ? { ttl } : {}),
              ...(r.alt_names ? { altNames: r.alt_names } : {}),
            }),
          record: {
            domain: r.domain,
            ...(r.group ? { group: r.group } : {}),
            pki: r.pki,
            role: r.role,
            ...(ttl ? { ttl } : {}),
            ...(r.alt_names ? { alt_names: r.alt_names } : {}),
            ...(r.owner ? { owner: r.owner } : {}),
            ...(r.reload ? { reload: r.reload } : {}),
            ...(health ? { health } : {}),
          },
        };
      }),
    });
  }
}
