import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';
import { batchFlag, batchStatus, mountFlag, printBatch, transitBody } from './encrypt.js';

export default class TransitRewrap extends ClientCommand<typeof TransitRewrap> {
  static override summary = "Re-encrypt a ciphertext under the key's latest version";
  static override description =
    "The plaintext never leaves the vault: use it after 'transit key rotate' to move data to the new version.";
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({ description: 'ciphertext=vault:vN:..., context=..., or the ciphertext' }),
  };
  static override flags = {
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': batchFlag,
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit rewrap payments ciphertext=vault:v1:8SDd3WHDOjf7mq69CyCq...',
    '<%= config.bin %> transit rewrap payments --batch-input old.json',
  ];

  async run() {
    const body = await transitBody(
      this.rest(1),
      ['ciphertext', 'context', 'associated_data', 'key_version'],
      { field: 'ciphertext', encode: false },
      this.flags['batch-input'],
    );
    if (this.flags['key-version'] !== undefined) body.key_version = this.flags['key-version'];
    if (body.batch_input) Object.assign(body, batchStatus);
    const r = await this.client().write(`${this.flags.mount}/rewrap/${this.args.key}`, body);
    if (body.batch_input) printBatch(this, r, 'ciphertext');
    else if (!this.jsonEnabled()) this.log(String(r?.data?.ciphertext));
    return r;
  }
}
