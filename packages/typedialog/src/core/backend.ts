/** The interface every interactive backend implements; adapters/factory.ts creates them. */
import type { FormContext } from './context.js';
import type { Answers } from './engine.js';

export const BACKEND_TYPES = ['cli', 'tui', 'web'] as const;
export type BackendType = (typeof BACKEND_TYPES)[number];

export interface WebOptions {
  host: string;
  port: number;
  open: boolean;
  /** Give up after this many seconds without a valid submit (0: wait for ever). */
  timeoutSec: number;
  /** Told the page's address once the server listens. */
  onListening?: (url: string) => void;
}

export interface BackendOptions {
  /** Answers shown as the starting values (from --answers), instead of the defaults. */
  initial?: Answers;
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Prompts and screens go here (stderr by default: stdout carries the result). */
  output?: NodeJS.WritableStream;
  web?: Partial<WebOptions>;
}

export interface Backend {
  readonly name: BackendType;
  /** Asks the form and resolves with answers that passed `checkAnswers` (engine and contract). */
  execute(ctx: FormContext, opts?: BackendOptions): Promise<Answers>;
}

/** Ctrl+C or Esc out of a prompt. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
