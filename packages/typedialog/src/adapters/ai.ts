/**
 * The ai backend: the model drafts the answers (core/ai.ts), then on a terminal a person reviews and edits them in
 * the tui (or cli) backend before submitting; with --yes (CI) valid drafts are accepted and invalid ones are exit 3.
 */
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { draftAnswers } from '../core/ai.js';
import type { Backend, BackendOptions } from '../core/backend.js';
import { type FormContext, invalidAnswers } from '../core/context.js';
import type { Answers } from '../core/engine.js';

export class AiBackend implements Backend {
  /** `reviewer` makes the backend the drafts are reviewed in (tui or cli). */
  constructor(
    readonly name: 'ai' | 'agent',
    private readonly reviewer: (type: 'tui' | 'cli') => Promise<Backend>,
  ) {}

  async execute(ctx: FormContext, opts: BackendOptions = {}): Promise<Answers> {
    const ai = opts.ai;
    if (!ai) {
      throw usageError(
        this.name === 'ai'
          ? 'the ai backend drafts answers from a description: pass --describe TEXT (or @file)'
          : 'the agent backend drafts answers with an agent: pass --agent FILE.agent.mdx',
      );
    }
    const input = opts.input ?? process.stdin;
    // Checked before the model is called: nothing is spent on drafts nobody can review.
    if (!ai.yes && (!input.isTTY || process.env.CI)) {
      throw usageError(`the ${this.name} backend shows its drafts for review on a terminal, and this is not one`, {
        hint: 'pass --yes to accept valid drafts without review (invalid ones are then exit 3)',
      });
    }
    const draft = ai.draft
      ? await ai.draft(opts.initial)
      : await draftAnswers(ctx, ai.describe, ai.caller, {
          ...(opts.initial ? { given: opts.initial } : {}),
          ...(ai.repairs !== undefined ? { repairs: ai.repairs } : {}),
        });
    ai.onDraft?.(draft);
    if (ai.yes && draft.unreadable) {
      // Taking the defaults for a draft would pass a form the model never filled in.
      const n = draft.calls.length;
      throw new StratumError(
        'validation',
        `the ${this.name} draft cannot be used after ${n} call${n === 1 ? '' : 's'}: ${draft.unreadable}`,
        { hint: 'run it on a terminal to review it, or try another --model' },
      );
    }
    if (ai.yes) {
      if (draft.errors.length > 0) throw invalidAnswers(ctx, draft.errors, `the ${this.name} draft`);
      return draft.values;
    }
    const review = await this.reviewer(ai.review ?? 'tui');
    const { ai: _ai, ...rest } = opts;
    // The checked (normalised) values where the check took them, the model's own where it refused them.
    return review.execute(ctx, { ...rest, initial: { ...draft.answers, ...draft.values }, reviewFirst: true });
  }
}
