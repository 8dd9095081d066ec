import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { vaultClient, writeVaultSettings } from '../../adapters/vault.js';
import { ProvCommand } from '../../cli/base.js';

export default class VaultInit extends ProvCommand<typeof VaultInit> {
  static override summary = 'Connect prov to SecretumVault (svault) and check it is ready';
  static override description =
    "Checks that svault answers, is unsealed and accepts SVAULT_TOKEN, that the KV mount exists (creates a KV v2 mount with --create) and whether the PKI mount for certificates is there, then records the address and mounts in .prov/vault.json (never the token). Secrets and certificates then go through svault's client: prov vault store|read, prov cert generate|rotate, svault:// references in configs.";
  static override flags = {
    addr: Flags.string({ description: 'svault address (default: SVAULT_ADDR)', helpValue: '<url>' }),
    mount: Flags.string({ description: 'KV mount for prov secrets', default: 'secret' }),
    pki: Flags.string({ description: 'PKI mount for certificates', default: 'pki' }),
    role: Flags.string({ description: 'PKI role prov cert issues from by default', helpValue: '<role>' }),
    create: Flags.boolean({ description: 'create the KV mount (kv version 2) when it is missing' }),
  };
  static override examples = [
    '<%= config.bin %> vault init',
    '<%= config.bin %> vault init --addr https://vault.internal:8200 --mount kv --create',
  ];

  async run() {
    const client = await vaultClient(this.flags.addr);
    const seal = await client.sealStatus();
    if (seal.sealed)
      throw new StratumError('denied', `svault at ${client.addr} is sealed`, {
        hint: 'unseal it: svault operator unseal',
      });
    const self = await client.read('auth/token/lookup-self');
    const mounts = ((await client.read('sys/mounts'))?.data ?? {}) as Record<
      string,
      { type?: string; options?: { version?: string } | null }
    >;
    const kv = mounts[`${this.flags.mount}/`];
    let created = false;
    if (!kv) {
      if (!this.flags.create)
        throw new StratumError('notFound', `svault has no mount ${this.flags.mount}/`, {
          hint: `create it: prov vault init --mount ${this.flags.mount} --create (or svault secrets enable -path=${this.flags.mount} kv-v2)`,
        });
      await client.write(`sys/mounts/${this.flags.mount}`, { type: 'kv', options: { version: '2' } });
      created = true;
    } else if (kv.type !== 'kv' || (kv.options?.version ?? '1') !== '2') {
      throw new StratumError(
        'validation',
        `${this.flags.mount}/ is a ${kv.type} mount${kv.type === 'kv' ? ' (version 1)' : ''}, not KV version 2`,
        {
          hint: 'give another mount with --mount',
        },
      );
    }
    const pki = mounts[`${this.flags.pki}/`];
    const settings = {
      addr: client.addr,
      mount: this.flags.mount,
      pki: this.flags.pki,
      ...(this.flags.role ? { role: this.flags.role } : {}),
    };
    writeVaultSettings(settings);
    const policies = ((self?.data as { policies?: string[] } | null)?.policies ?? []) as string[];
    const doc = {
      ...settings,
      sealed: false,
      kv: { mount: this.flags.mount, created },
      pki: { mount: this.flags.pki, present: pki?.type === 'pki' },
      token_policies: policies,
      saved: '.prov/vault.json',
    };
    if (!this.jsonEnabled()) {
      this.log(`svault ${client.addr}: unsealed, token accepted (policies: ${policies.join(', ') || 'none'})`);
      this.log(`KV v2 mount ${this.flags.mount}/${created ? ' created' : ' ready'}`);
      this.log(
        pki?.type === 'pki'
          ? `PKI mount ${this.flags.pki}/ ready for prov cert generate`
          : `no PKI mount ${this.flags.pki}/ (prov cert needs one: svault secrets enable pki)`,
      );
      this.log('Saved to .prov/vault.json (the token stays in SVAULT_TOKEN).');
    }
    return doc;
  }
}
