import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';
import { batchFlag, mountFlag, printBatch, transitBody } from './encrypt.js';

export const hashFlag = Flags.string({
  description: 'hash for ecdsa keys and HMACs (ed25519 and ml-dsa-65 sign the data itself)',
  options: ['sha2-224', 'sha2-256', 'sha2-384', 'sha2-512', 'sha3-256', 'sha3-384', 'sha3-512'],
});

export default class TransitSign extends ClientCommand<typeof TransitSign> {
  static override summary = 'Sign data with a named signing key';
  static override description =
    'Data comes as input=<base64> (as Vault takes it), as one raw argument, or on stdin. Prints the vault:vN: signature.';
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({ description: 'input=<base64>, or raw data' }),
  };
  static override flags = {
    'hash-algorithm': hashFlag,
    'marshaling-algorithm': Flags.string({ description: 'ecdsa signature encoding', options: ['asn1', 'jws'] }),
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': batchFlag,
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit sign signer input=$(base64 -w0 release.txt)',
    '<%= config.bin %> transit sign signer < release.tar.gz',
  ];

  async run() {
    const f = this.flags;
    const body = await transitBody(
      this.rest(1),
      ['input', 'context', 'key_version'],
      { field: 'input', encode: true },
      f['batch-input'],
    );
    if (f['hash-algorithm']) body.hash_algorithm = f['hash-algorithm'];
    if (f['marshaling-algorithm']) body.marshaling_algorithm = f['marshaling-algorithm'];
    if (f['key-version'] !== undefined) body.key_version = f['key-version'];
    const r = await this.client().write(`${f.mount}/sign/${this.args.key}`, body);
    if (body.batch_input) printBatch(this, r, 'signature');
    else if (!this.jsonEnabled()) this.log(String(r?.data?.signature));
    return r;
  }
}
