import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';
import { batchFlag, batchStatus, mountFlag, printBatch, transitBody } from './encrypt.js';

export default class TransitDecrypt extends ClientCommand<typeof TransitDecrypt> {
  static override summary = 'Decrypt a vault:vN: ciphertext';
  static override description =
    "Prints the plaintext as it was encrypted (raw bytes; --json gives Vault's base64 `plaintext`). " +
    'The ciphertext comes as ciphertext=..., as one argument, or on stdin.';
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({
      description: 'ciphertext=vault:vN:..., context=..., associated_data=..., or the ciphertext',
    }),
  };
  static override flags = { 'batch-input': batchFlag, mount: mountFlag };
  static override examples = [
    '<%= config.bin %> transit decrypt payments ciphertext=vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w==',
    '<%= config.bin %> transit decrypt payments --batch-input ciphertexts.json --json',
  ];

  async run() {
    const body = await transitBody(
      this.rest(1),
      ['ciphertext', 'context', 'associated_data'],
      { field: 'ciphertext', encode: false },
      this.flags['batch-input'],
    );
    if (body.batch_input) Object.assign(body, batchStatus);
    const r = await this.client().write(`${this.flags.mount}/decrypt/${this.args.key}`, body);
    if (body.batch_input) printBatch(this, r, 'plaintext');
    else if (!this.jsonEnabled()) {
      // The bytes as they were (pipes stay binary-safe); a newline only for a person at a terminal.
      process.stdout.write(Buffer.from(String(r?.data?.plaintext ?? ''), 'base64'));
      if (process.stdout.isTTY) process.stdout.write('\n');
    }
    return r;
  }
}
