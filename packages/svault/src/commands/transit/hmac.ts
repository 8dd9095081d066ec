import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';
import { batchFlag, mountFlag, printBatch, transitBody } from './encrypt.js';
import { hashFlag } from './sign.js';

export default class TransitHmac extends ClientCommand<typeof TransitHmac> {
  static override summary = 'Compute an HMAC of data with a named key';
  static override description =
    "Data comes as input=<base64>, as one raw argument, or on stdin. Check it with 'transit verify KEY ... hmac=...'.";
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({ description: 'input=<base64>, or raw data' }),
  };
  static override flags = {
    algorithm: hashFlag,
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': batchFlag,
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit hmac payments "order-1234"',
    '<%= config.bin %> transit hmac payments --algorithm sha2-512 < file',
  ];

  async run() {
    const f = this.flags;
    const body = await transitBody(
      this.rest(1),
      ['input', 'key_version'],
      { field: 'input', encode: true },
      f['batch-input'],
    );
    if (f.algorithm) body.algorithm = f.algorithm;
    if (f['key-version'] !== undefined) body.key_version = f['key-version'];
    const r = await this.client().write(`${f.mount}/hmac/${this.args.key}`, body);
    if (body.batch_input) printBatch(this, r, 'hmac');
    else if (!this.jsonEnabled()) this.log(String(r?.data?.hmac));
    return r;
  }
}
