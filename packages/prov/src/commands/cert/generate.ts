import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { issueCert, readVaultSettings, vaultClient } from '../../adapters/vault.js';
import { CertCommand, installFlags } from '../../cli/certs.js';
import { writeAtomic } from '../../core/workspace.js';

export default class CertGenerate extends CertCommand<typeof CertGenerate> {
  static override summary = 'Issue certificates from svault PKI and install them on servers over SSH';
  static override description =
    `Issues one certificate per server from a PKI role of svault (through its client: SVAULT_ADDR, SVAULT_TOKEN; RSA, EC, Ed25519 or ML-DSA-65 as the role says), installs cert.pem, key.pem (0600) and ca.pem on the server, runs --reload, and checks that the installed files are byte for byte the ones issued, the key's mode and --health, one server at a time: the first that fails gets its previous files back and the rest are left alone.

State records each certificate's serial and expiry (never the key); prov plan warns about those expiring soon and prov cert rotate reissues them. With --out instead of --servers, the files are written to a local folder.`;
  static override flags = {
    domain: Flags.string({ description: 'common name, e.g. api.example.com', required: true, helpValue: '<name>' }),
    engine: Flags.string({
      description: 'svault PKI mount (default: from prov vault init, else pki)',
      helpValue: '<mount>',
    }),
    role: Flags.string({
      description: 'PKI role to issue from (default: from prov vault init --role)',
      helpValue: '<role>',
    }),
    ttl: Flags.string({ description: 'validity, e.g. 720h (default: the role’s)', helpValue: '<duration>' }),
    'alt-names': Flags.string({ description: 'more DNS names, comma-separated', helpValue: '<names>' }),
    servers: Flags.string({ description: 'servers to install on, comma-separated', helpValue: '<names>' }),
    cluster: Flags.string({ description: 'name the group, for prov cert rotate --cluster', helpValue: '<name>' }),
    out: Flags.string({ description: 'write the files to this local folder instead', helpValue: '<dir>' }),
    ...installFlags,
  };
  static override examples = [
    '<%= config.bin %> cert generate --domain api.example.com --role web --servers web-1,web-2 --reload "systemctl reload nginx"',
    '<%= config.bin %> cert generate --domain db.internal --role pg --servers db-1,db-2 --cluster pg-prod --owner postgres',
    '<%= config.bin %> cert generate --domain api.example.com --role web --out ./tls',
  ];

  async run() {
    const f = this.flags;
    if (!f.servers && !f.out)
      throw usageError('where should the certificate go?', { hint: 'pass --servers a,b or --out DIR' });
    const client = await vaultClient();
    const saved = readVaultSettings();
    const pki = f.engine ?? saved.pki ?? 'pki';
    const role = f.role ?? saved.role;
    if (!role)
      throw usageError('which PKI role?', { hint: 'pass --role NAME, or save one with prov vault init --role NAME' });
    const altNames =
      f['alt-names']
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean) ?? [];
    const issue = () => issueCert(client, pki, role, f.domain, { ...(f.ttl ? { ttl: f.ttl } : {}), altNames });
    if (f.out) {
      const cert = await issue();
      mkdirSync(f.out, { recursive: true, mode: 0o700 });
      writeAtomic(join(f.out, 'key.pem'), cert.privateKey, 0o600);
      chmodSync(join(f.out, 'key.pem'), 0o600);
      writeAtomic(join(f.out, 'cert.pem'), cert.certificate);
      writeAtomic(join(f.out, 'ca.pem'), cert.issuingCa);
      const doc = {
        domain: f.domain,
        serial: cert.serial,
        not_after: cert.notAfter,
        key_type: cert.keyType,
        out: f.out,
      };
      if (!this.jsonEnabled())
        this.log(`Issued ${f.domain} serial ${cert.serial}, expires ${cert.notAfter}: ${f.out}/{cert,key,ca}.pem`);
      return doc;
    }
    const names = (f.servers as string)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return this.deploy({
      operation: 'cert generate',
      targets: names.map((host) => ({
        host,
        install: {
          domain: f.domain,
          ...(f.dir ? { dir: f.dir } : {}),
          ...(f.owner ? { owner: f.owner } : {}),
          ...(f.reload ? { reload: f.reload } : {}),
          ...(f.health ? { health: f.health } : {}),
        },
        issue,
        record: {
          domain: f.domain,
          ...(f.cluster ? { group: f.cluster } : {}),
          pki,
          role,
          ...(f.ttl ? { ttl: f.ttl } : {}),
          ...(altNames.length ? { alt_names: altNames } : {}),
          ...(f.owner ? { owner: f.owner } : {}),
          ...(f.reload ? { reload: f.reload } : {}),
          ...(f.health ? { health: f.health } : {}),
        },
      })),
      file: f.file,
    });
  }
}
