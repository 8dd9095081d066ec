import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../../cli/base.js';
import { mountFlag } from '../encrypt.js';
import { keyRows } from './read.js';

export default class TransitKeyConfig extends ClientCommand<typeof TransitKeyConfig> {
  static override summary = "Set a key's version limits and its deletion and export permissions";
  static override aliases = ['transit:keys:config'];
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'key name', required: true }),
    fields: Args.string({
      description: 'KEY=VALUE request fields, several allowed (as Vault takes them)',
    }),
  };
  static override flags = {
    'min-decryption-version': Flags.integer({ description: 'oldest version that may still decrypt or verify', min: 1 }),
    'min-encryption-version': Flags.integer({
      description: 'oldest version that may encrypt or sign (0: any)',
      min: 0,
    }),
    'deletion-allowed': Flags.boolean({ description: "allow 'transit key delete'", allowNo: true }),
    exportable: Flags.boolean({ description: 'allow exporting the key material (cannot be undone)' }),
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit key config payments --min-decryption-version 3',
    '<%= config.bin %> transit key config old-key --deletion-allowed',
    '<%= config.bin %> transit key config payments min_encryption_version=3',
  ];

  async run() {
    const f = this.flags;
    const body = {
      ...parsePairs(this.rest(1)),
      ...(f['min-decryption-version'] !== undefined ? { min_decryption_version: f['min-decryption-version'] } : {}),
      ...(f['min-encryption-version'] !== undefined ? { min_encryption_version: f['min-encryption-version'] } : {}),
      ...(f['deletion-allowed'] !== undefined ? { deletion_allowed: f['deletion-allowed'] } : {}),
      ...(f.exportable ? { exportable: true } : {}),
    };
    if (Object.keys(body).length === 0) {
      throw usageError('nothing to change', {
        hint: 'pass --min-decryption-version, --deletion-allowed, ... or KEY=VALUE pairs',
      });
    }
    const r = await this.client().write(`${f.mount}/keys/${this.args.name}/config`, body);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      this.table(keyRows(r?.data ?? {}));
    }
    return r;
  }
}
