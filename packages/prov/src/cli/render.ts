import { paint, progress } from '@stratumiops/shared/output';
import type { EngineEvent, RunResult } from '../core/engine.js';
import type { OutputSink } from '../core/executor.js';

/** Live progress on a TTY (done/running/failed); plain event lines on stderr otherwise when verbose. */
export function applyProgress(total: number, verbose: boolean) {
  const bar = progress('starting', total);
  let done = 0;
  let failed = 0;
  const running = new Set<string>();
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const line = (s: string) => {
    if (tty)
      bar.update(
        done,
        `${running.size} running, ${failed} failed${running.size ? `: ${[...running].slice(0, 3).join(', ')}` : ''}`,
      );
    if (verbose || (!tty && s.startsWith('!'))) process.stderr.write(`${s}\n`);
  };
  return {
    onEvent(e: EngineEvent) {
      switch (e.type) {
        case 'start':
          running.add(e.address);
          line(`  ${e.address}: ${e.action}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}...`);
          break;
        case 'retry':
          line(`  ${e.address}: ${e.error} — retrying in ${e.waitMs} ms`);
          break;
        case 'done':
          running.delete(e.address);
          done++;
          line(`  ${e.address}: ${e.action} complete`);
          break;
        case 'failed':
          running.delete(e.address);
          failed++;
          line(`! ${e.address}: ${e.action} failed: ${e.error}`);
          break;
        case 'rollback-start':
          line(`  ${e.address}: rolling back ${e.action}...`);
          break;
        case 'rolled-back':
          line(`  ${e.address}: rolled back`);
          break;
        case 'rollback-failed':
          line(`! ${e.address}: rollback failed: ${e.error}`);
          break;
      }
    },
    stop() {
      bar.stop();
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
  for (const f of r.failed) lines.push(`Error: ${f.address}: ${f.error}`);
  for (const f of r.rollback_failed) lines.push(`Rollback error: ${f.address}: ${f.error}`);
  if (r.rolled_back.length) lines.push(`Rolled back: ${r.rolled_back.join(', ')}`);
  if (r.skipped.length) lines.push(`Not started: ${r.skipped.join(', ')}`);
  lines.push(`Run: ${r.run_id} (${r.status})`);
  return lines.join('\n');
}
