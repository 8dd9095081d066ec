import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { assertInteractive } from '@stratumiops/shared/output';
import { ClientCommand } from '../../cli/base.js';

async function promptHidden(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  process.stderr.write(question);
  out._writeToOutput = () => {};
  return new Promise((resolve) =>
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer.trim());
    }),
  );
}

export default class OperatorUnseal extends ClientCommand<typeof OperatorUnseal> {
  static override startsDaemon = true;
  static override summary = 'Submit an unseal key share (progress k of K)';
  static override args = {
    key: Args.string({ description: 'an unseal key share (prefer the prompt: arguments land in shell history)' }),
  };
  static override flags = {
    share: Flags.string({
      description: 'an unseal key share; prompted for (hidden) when omitted',
      helpValue: '<share>',
    }),
    reset: Flags.boolean({ description: 'discard the shares submitted so far' }),
  };
  static override examples = ['<%= config.bin %> operator unseal', '<%= config.bin %> operator unseal --reset'];

  async run() {
    let key = this.flags.share ?? this.args.key;
    if (!key && !this.flags.reset) {
      assertInteractive('the unseal key', '--share');
      key = await promptHidden('Unseal Key (will be hidden): ');
    }
    const st = await this.client().unseal(key, this.flags.reset);
    if (!this.jsonEnabled()) {
      if (!st.sealed) this.log('Unsealed.');
      else this.log(`Sealed: unseal progress ${st.progress}/${st.t}`);
    }
    return st;
  }
}
