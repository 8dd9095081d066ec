import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from '@oclif/core/command';
import { StratumCommand } from '@stratumiops/shared/cli/command';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { readStdinSync, renderTable } from '@stratumiops/shared/output';
import type { VaporaApi } from '../client/index.js';
import type { Runtime } from '../runtime.js';
import { tool, type VaporaConfig } from '../tool.js';

/**
 * Commands work on this machine's store (SQLite, or PostgreSQL when configured; drivers load on demand), or with
 * `url` / VAPORA_URL set, on a remote `vapora serve` through the typed client (token: VAPORA_TOKEN).
 */
export abstract class VaporaCommand<T extends typeof Command> extends StratumCommand<T> {
  static override tool = tool;
  private rt: Runtime | undefined;

  protected get cfg(): VaporaConfig {
    return this.settings.values as VaporaConfig;
  }

  /** Where the work happens: the remote server when a URL is configured, else this machine's store. */
  protected async api(o: { bus?: boolean } = {}): Promise<VaporaApi> {
    if (!this.cfg.url) return (await this.runtime(o)).service;
    const { VaporaClient } = await import('../client/index.js');
    return new VaporaClient(this.cfg.url, this.cfg.token || this.projectToken());
  }

  /** The token `vapora init` wrote beside vapora.toml (for a server started from the same project). */
  protected projectToken(): string {
    const file = this.settings.files.project;
    if (!file) return '';
    try {
      return readFileSync(join(dirname(file), 'token'), 'utf8').trim();
    } catch {
      return '';
    }
  }

  /** This machine's store, bus and router (commands that cannot work remotely: serve, worker). */
  protected async runtime(o: { bus?: boolean } = {}): Promise<Runtime> {
    if (this.rt) return this.rt;
    if (this.cfg.url) {
      throw usageError(`'${this.id}' works on this machine's store, not on a remote server (url = ${this.cfg.url})`, {
        hint: 'unset VAPORA_URL / url, or run it where vapora serve runs',
      });
    }
    const { openRuntime } = await import('../runtime.js');
    this.rt = await openRuntime({
      config: this.cfg,
      projectFile: this.settings.files.project,
      ...(o.bus ? { bus: true } : {}),
    });
    return this.rt;
  }

  override async finally(err: Error | undefined): Promise<unknown> {
    await this.rt?.close().catch(() => {});
    return super.finally(err);
  }

  protected table(rows: Record<string, unknown>[], columns?: string[], empty = '(none)'): void {
    this.log(rows.length ? renderTable(rows, columns) : empty);
  }
}

/** A JSON object from `--payload`: inline JSON, `@file`, or `-` for stdin. */
export function readPayload(arg: string | undefined, stdin: () => string = readStdinSync): Record<string, unknown> {
  if (arg === undefined) return {};
  let text = arg;
  let from = 'payload';
  if (arg === '-') {
    text = stdin();
    from = 'payload from stdin';
  } else if (arg.startsWith('@')) {
    try {
      text = readFileSync(arg.slice(1), 'utf8');
    } catch (e) {
      throw usageError(`cannot read ${arg.slice(1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    from = `payload file ${arg.slice(1)}`;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw validationError(`${from} is not valid JSON: ${(e as Error).message}`, { hint: 'pass a JSON object' });
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw validationError(`${from} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Cents for people: `12.35`, small amounts with two significant digits (`0.0042`); '-' for none. */
export const centsOf = (c: number | null): string =>
  c === null ? '-' : c !== 0 && Math.abs(c) < 0.01 ? c.toPrecision(2) : c.toFixed(2);
/** The same from micro-cents. */
export const cents = (micro: number | null): string => (micro === null ? '-' : centsOf(micro / 1_000_000));
export const pct = (r: number): string => (Number.isFinite(r) ? `${Math.round(r * 100)}%` : '∞');
export const ago = (ms: number | null, now = Date.now()): string =>
  ms === null ? 'never' : `${Math.max(0, Math.round((now - ms) / 1000))}s ago`;
