import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, show } from '../../cli/base.js';
import { mountFlag } from './encrypt.js';

export default class TransitDatakey extends ClientCommand<typeof TransitDatakey> {
  static override summary = 'Generate a data key, returned encrypted under a named key';
  static override description =
    'Encrypt bulk data locally with the data key, keep only its ciphertext, and decrypt that with ' +
    "'transit decrypt' when the data is needed again.";
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    type: Args.string({
      description: 'plaintext: the data key and its ciphertext; wrapped: the ciphertext only',
      options: ['plaintext', 'wrapped'],
      default: 'plaintext',
    }),
  };
  static override flags = {
    bits: Flags.string({ description: 'data key length in bits', options: ['128', '256', '512'], default: '256' }),
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit datakey payments',
    '<%= config.bin %> transit datakey payments wrapped --bits 512',
  ];

  async run() {
    const r = await this.client().write(`${this.flags.mount}/datakey/${this.args.type}/${this.args.key}`, {
      bits: Number(this.flags.bits),
    });
    if (!this.jsonEnabled())
      this.table(Object.fromEntries(Object.entries(r?.data ?? {}).map(([k, v]) => [k, show(v)])));
    return r;
  }
}
