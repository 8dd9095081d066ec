import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class OperatorInit extends ClientCommand<typeof OperatorInit> {
  static override startsDaemon = true;
  static override summary = 'Initialize the vault: split a new root key into unseal key shares';
  static override description =
    "Generates a 256-bit root key, splits it with Shamir's secret sharing into --shares keys of which any --threshold unseal the vault, and prints the keys and a root token once. Refuses to run on a vault that is already initialized.";
  static override flags = {
    shares: Flags.integer({ description: 'number of unseal key shares', default: 5, min: 1, max: 255 }),
    threshold: Flags.integer({ description: 'shares needed to unseal', default: 3, min: 1, max: 255 }),
  };
  static override examples = [
    '<%= config.bin %> operator init --shares 5 --threshold 3',
    '<%= config.bin %> operator init --shares 1 --threshold 1 --json',
  ];

  async run() {
    const r = await this.client().init(this.flags.shares, this.flags.threshold);
    if (!this.jsonEnabled()) {
      r.keys_base64.forEach((k, i) => {
        this.log(`Unseal Key ${i + 1}: ${k}`);
      });
      this.log(`\nInitial Root Token: ${r.root_token}\n`);
      this.log(
        `The vault is sealed. Unseal it with ${this.flags.threshold} of these ${this.flags.shares} keys ('svault operator unseal').\nThey are shown only now: store them apart from each other.`,
      );
    }
    return r;
  }
}
