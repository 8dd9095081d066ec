import { paint, progress } from '@stratumiops/shared/output';
import type { EngineEvent, RunResult } from '../core/engine.js';
import type { OutputSink } from '../core/executor.js';

const PAST: Record<string, string> = {
  create: 'created',
  update: 'updated',
  replace: 'replaced',
  delete: 'deleted',
  start: 'started',
  stop: 'stopped',
};

/**
 * Progress of a run on stderr. On a TTY (without CI set): a live bar, plus every event with --verbose.
 * Otherwise (CI logs): one line per task start and end, `[12.3s] taskserv.etcd.node-2: created (4.1s)`,
 * elapsed since the run started and, at the end, the task's own time. Nothing with --json.
 */
export function applyProgress(total: number, opts: { verbose: boolean; json: boolean }) {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const bar = tty && !opts.json ? progress('starting', total) : undefined;
  const t0 = performance.now();
  const started = new Map<string, number>();
  let done = 0;
  let failed = 0;
  const running = new Set<string>();
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const line = (s: string, took?: number) => {
    if (opts.json) return;
    if (bar) {
      bar.update(
        done,
        `${running.size} running, ${failed} failed${running.size ? `: ${[...running].slice(0, 3).join(', ')}` : ''}`,
      );
      if (opts.verbose) process.stderr.write(`${s}\n`);
      return;
    }
    const now = performance.now();
    process.stderr.write(`[${secs(now - t0)}] ${s}${took !== undefined ? ` (${secs(now - took)})` : ''}\n`);
  };
  return {
    onEvent(e: EngineEvent) {
      switch (e.type) {
        case 'start':
          running.add(e.address);
          started.set(e.address, performance.now());
          line(`${e.address}: ${e.action}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}...`);
          break;
        case 'retry':
          line(`${e.address}: ${e.error} — retrying in ${e.waitMs} ms`);
          break;
        case 'done':
          running.delete(e.address);
          done++;
          line(`${e.address}: ${PAST[e.action] ?? `${e.action} complete`}`, started.get(e.address));
          break;
        case 'failed':
          running.delete(e.address);
          failed++;
          line(`! ${e.address}: ${e.action} failed: ${e.error}`, started.get(e.address));
          break;
        case 'rollback-start':
          started.set(e.address, performance.now());
          line(`${e.address}: rolling back ${e.action}...`);
          break;
        case 'rolled-back':
          line(`${e.address}: rolled back`, started.get(e.address));
          break;
        case 'rollback-failed':
          line(`! ${e.address}: rollback failed: ${e.error}`, started.get(e.address));
          break;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

/** Host-prefixed lines: `web-01 | ...` (stderr lines marked). */
export function hostPrinter(out: NodeJS.WriteStream = process.stdout): OutputSink {
  return (host, stream, text) => {
    out.write(`${paint(host, 'cyan', out)} ${stream === 'stderr' ? '!' : '|'} ${text}\n`);
  };
}

export function runReport(r: RunResult): string {
  const lines: string[] = [];
  for (const f of r.failed) lines.push(`Error: ${f.address}: ${f.error}${f.hint ? `\n  hint: ${f.hint}` : ''}`);
  for (const f of r.rollback_failed) lines.push(`Rollback error: ${f.address}: ${f.error}`);
  if (r.rolled_back.length) lines.push(`Rolled back: ${r.rolled_back.join(', ')}`);
  if (r.skipped.length) lines.push(`Not started: ${r.skipped.join(', ')}`);
  lines.push(`Run: ${r.run_id} (${r.status})`);
  return lines.join('\n');
}
