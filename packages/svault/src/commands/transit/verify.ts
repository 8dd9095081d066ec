import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';
import { batchFlag, mountFlag, printBatch, transitBody } from './encrypt.js';
import { hashFlag } from './sign.js';

export default class TransitVerify extends ClientCommand<typeof TransitVerify> {
  static override summary = 'Verify a signature or an HMAC made with a named key';
  static override description =
    'Prints "valid" and exits 0, or prints "invalid" and exits 1. The data comes as input=<base64>, as one raw ' +
    'argument, or on stdin; the signature as signature=... (or --signature), an HMAC as hmac=....';
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({
      description: 'input=<base64>, signature=vault:vN:..., hmac=vault:vN:..., or raw data',
    }),
  };
  static override flags = {
    signature: Flags.string({ description: 'the vault:vN: signature to check' }),
    hmac: Flags.string({ description: 'the vault:vN: HMAC to check, instead of a signature' }),
    'hash-algorithm': hashFlag,
    'marshaling-algorithm': Flags.string({ description: 'ecdsa signature encoding', options: ['asn1', 'jws'] }),
    'batch-input': batchFlag,
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit verify signer input=$(base64 -w0 release.txt) signature=vault:v1:MEUCIQ...',
    '<%= config.bin %> transit verify signer "release v1.2.0" --signature vault:v1:MEUCIQ...',
  ];

  async run() {
    const f = this.flags;
    const body = await transitBody(
      this.rest(1),
      ['input', 'context', 'signature', 'hmac'],
      { field: 'input', encode: true },
      f['batch-input'],
    );
    if (f.signature) body.signature = f.signature;
    if (f.hmac) body.hmac = f.hmac;
    if (f['hash-algorithm']) body.hash_algorithm = f['hash-algorithm'];
    if (f['marshaling-algorithm']) body.marshaling_algorithm = f['marshaling-algorithm'];
    const r = await this.client().write(`${f.mount}/verify/${this.args.key}`, body);
    if (body.batch_input) {
      printBatch(this, r, 'valid');
      return r;
    }
    const valid = r?.data?.valid === true;
    if (this.jsonEnabled()) {
      if (!valid) this.logJson(r);
    } else this.log(valid ? 'valid' : 'invalid');
    if (!valid) this.exit(1);
    return r;
  }
}
