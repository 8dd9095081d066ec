import { StratumError } from '@stratumiops/shared/errors';
import type { OutputSink } from './executor.js';
import type { Attrs, DesiredResource, ResourceRecord } from './types.js';

export interface ProviderContext {
  /** Streamed command output, with the host it came from. */
  output?: OutputSink;
  log?(line: string): void;
  /** When a create fails halfway, undo what it did (on unless --no-rollback, which keeps it for inspection). */
  cleanupOnFailure?: boolean;
}

export interface ProviderCheck {
  target: string;
  ok: boolean;
  detail: string;
}

/**
 * The one narrow interface every provider implements (Terraform's model): per resource kind, read the real
 * object, create, update in place, delete. Create and delete must be safe to repeat (resume re-runs a task
 * that was interrupted mid-call): create adopts an object it finds already tagged with the same address.
 */
export interface Provider {
  readonly name: string;
  readonly kinds: readonly string[];
  /** Attribute paths that cannot change in place for a kind: changing one plans a replacement. */
  replaceOn(kind: string): string[];
  /** The observed attributes (same vocabulary as desired attrs), or null when the object is gone. */
  read(rec: ResourceRecord): Promise<Attrs | null>;
  /** Creates the object; returns its outputs (ids, addresses, facts). */
  create(res: DesiredResource, ctx: ProviderContext): Promise<Attrs>;
  update(res: DesiredResource, prev: ResourceRecord, ctx: ProviderContext): Promise<Attrs>;
  delete(rec: ResourceRecord, ctx: ProviderContext): Promise<void>;
  test(): Promise<ProviderCheck[]>;
  /** Reads what the provider needs before any change (credentials): called before a run starts. */
  prepare?(): Promise<void>;
  close(): Promise<void>;
}

/** A provider failure; transient ones (throttling, 5xx, connection trouble) are retryable. */
export class ProviderError extends StratumError {
  readonly retryable: boolean;
  constructor(
    message: string,
    opts: {
      retryable?: boolean;
      hint?: string;
      details?: Record<string, unknown>;
      code?: 'failure' | 'unavailable' | 'denied' | 'conflict';
    } = {},
  ) {
    super(opts.code ?? 'failure', message, {
      ...(opts.hint ? { hint: opts.hint } : {}),
      ...(opts.details ? { details: opts.details } : {}),
    });
    this.retryable = opts.retryable ?? false;
  }
}

export type ProviderRegistry = Map<string, Provider>;
