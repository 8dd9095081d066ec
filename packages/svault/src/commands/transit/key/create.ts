import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs } from '../../../cli/base.js';
import { KEY_TYPES } from '../../../core/engines/transit/keys.js';
import { mountFlag } from '../encrypt.js';
import { keyRows } from './read.js';

export default class TransitKeyCreate extends ClientCommand<typeof TransitKeyCreate> {
  static override summary = 'Create a named encryption or signing key';
  static override description =
    'ml-kem-768 keys encrypt with a hybrid post-quantum KEM (ML-KEM-768 + X25519); ml-dsa-65 keys sign with ML-DSA-65. ' +
    'Extra KEY=VALUE pairs go into the request as Vault takes them (e.g. key_size=64 for hmac keys).';
  static override aliases = ['transit:keys:create'];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'key name', required: true }),
    fields: Args.string({ description: 'KEY=VALUE request fields, several allowed' }),
  };
  static override flags = {
    type: Flags.string({
      description: 'key type',
      options: [...KEY_TYPES],
    }),
    exportable: Flags.boolean({ description: 'allow the key material to be exported (cannot be undone)' }),
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit key create payments -type=aes256-gcm96',
    '<%= config.bin %> transit key create signer --type ml-dsa-65',
    '<%= config.bin %> transit key create vault-kek --type ml-kem-768',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    if (this.flags.type) body.type = this.flags.type;
    if (this.flags.exportable) body.exportable = true;
    const r = await this.client().write(`${this.flags.mount}/keys/${this.args.name}`, body);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      this.table(keyRows(r?.data ?? {}));
    }
    return r;
  }
}
