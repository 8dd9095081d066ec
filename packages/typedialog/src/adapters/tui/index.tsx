/**
 * The tui backend: the ink app on stderr (stdout carries the result). It needs a terminal; without
 * one, or when stdin closes while it runs, it fails at once with exit 2 instead of waiting for keys.
 */
import { render } from 'ink';
import { type Backend, type BackendOptions, CancelledError } from '../../core/backend.js';
import { checkAnswers, type FormContext } from '../../core/context.js';
import type { Answers } from '../../core/engine.js';
import { notInteractive } from '../cli.js';
import { FormApp } from './app.js';

export class TuiBackend implements Backend {
  readonly name = 'tui' as const;

  async execute(ctx: FormContext, opts: BackendOptions = {}): Promise<Answers> {
    const stdin = (opts.input ?? process.stdin) as NodeJS.ReadStream;
    const stdout = (opts.output ?? process.stderr) as NodeJS.WriteStream;
    if (!stdin.isTTY) {
      throw notInteractive('the tui backend needs an interactive terminal (stdin is not one)');
    }
    return new Promise<Answers>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        stdin.off('end', closed);
        stdin.off('close', closed);
        app.unmount();
        fn();
      };
      const closed = () => finish(() => reject(notInteractive('stdin closed before the form was submitted')));
      const app = render(
        <FormApp
          ctx={ctx}
          initial={opts.initial ?? {}}
          reviewFirst={opts.reviewFirst === true}
          check={(values) => checkAnswers(ctx, values)}
          onDone={(values) => finish(() => resolve(values))}
          onCancel={() => finish(() => reject(new CancelledError()))}
        />,
        { stdin, stdout, exitOnCtrlC: false, patchConsole: false },
      );
      stdin.once('end', closed);
      stdin.once('close', closed);
    });
  }
}
