import { PassThrough } from 'node:stream';

/** Ctrl-C (or Esc) at a prompt: nothing is written. */
export class PromptCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'PromptCancelled';
  }
}

/**
 * Asks each question on the terminal, one line each, none left empty. Prompts are written to
 * stderr so that stdout keeps only the command's result (and `--json` stays one document).
 */
export async function askLines(labels: string[]): Promise<string[]> {
  const { input } = await import('@inquirer/prompts');
  const answers: string[] = [];
  for (const label of labels) {
    // A prompt ends its output stream when done: each gets its own, piped without ending stderr.
    const output = new PassThrough();
    output.pipe(process.stderr, { end: false });
    try {
      const text = await input(
        { message: label, validate: (v) => v.trim() !== '' || `${label} cannot be empty` },
        { input: process.stdin, output },
      );
      answers.push(text.trim());
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new PromptCancelled();
      throw e;
    } finally {
      output.unpipe(process.stderr);
    }
  }
  return answers;
}
