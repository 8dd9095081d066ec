/** The interface every interactive backend implements; runtime.ts creates them. */
import type { Caller } from './agent/run.js';
import type { Draft } from './ai.js';
import type { FormContext } from './context.js';
import type { Answers } from './engine.js';

export const BACKEND_TYPES = ['cli', 'tui', 'web', 'ai', 'agent'] as const;
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

/** The ai backend: what to draft from, through which model, and how the drafts are accepted. */
export interface AiOptions {
  describe: string;
  caller: Caller;
  /** The agent backend: an agent of the user's drafts the answers instead of the built-in prompt. */
  draft?: (given: Answers | undefined) => Promise<Draft>;
  /** Accept valid drafts without review (CI); invalid ones are exit 3. */
  yes: boolean;
  /** Drafts refused by the form are sent back this many times. */
  repairs?: number;
  /** The backend the drafts are reviewed and edited in, on a terminal. */
  review?: 'tui' | 'cli';
  onDraft?: (d: Draft) => void;
}

export interface BackendOptions {
  /** Answers shown as the starting values (from --answers), instead of the defaults. */
  initial?: Answers;
  /** The tui opens on its review screen with `initial` as the answers (the ai backend's drafts to check). */
  reviewFirst?: boolean;
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Prompts and screens go here (stderr by default: stdout carries the result). */
  output?: NodeJS.WritableStream;
  web?: Partial<WebOptions>;
  ai?: AiOptions;
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
