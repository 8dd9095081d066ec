import type { Executor, HostTarget, OutputSink, Step, StepResult } from './executor.js';

export interface HostRun {
  host: string;
  ok: boolean;
  steps: StepResult[];
  /** Connection or protocol trouble (the host never ran everything). */
  error?: string;
  kind?: string;
  hint?: string;
  durationMs: number;
}

/**
 * Runs the same steps on many hosts, up to `parallelism` hosts at once: on each host the steps go one after
 * another through its persistent shell; a host stops at its first failing step, the others go on.
 */
export async function runOnHosts(
  exec: Executor,
  hosts: HostTarget[],
  steps: Step[],
  opts: { parallelism: number; onOutput?: OutputSink; continueOnError?: boolean },
): Promise<HostRun[]> {
  const out: HostRun[] = new Array(hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      const h = hosts[i]!;
      const t0 = performance.now();
      const run: HostRun = { host: h.name, ok: true, steps: [], durationMs: 0 };
      try {
        for (const s of steps) {
          const r = await exec.run(h, s, opts.onOutput);
          run.steps.push(r);
          if (r.exitCode !== 0) {
            run.ok = false;
            if (!opts.continueOnError) break;
          }
        }
      } catch (e) {
        run.ok = false;
        run.error = (e as Error).message;
        run.kind = (e as { kind?: string }).kind;
        const hint = (e as { hint?: string }).hint;
        if (hint) run.hint = hint;
      }
      run.durationMs = Math.round(performance.now() - t0);
      out[i] = run;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.parallelism, hosts.length)) }, worker));
  return out;
}

/** A script file as steps: one step per non-empty line that is not a comment; `\` continues a line. */
export function scriptSteps(text: string, base: Omit<Step, 'name' | 'script'> = {}): Step[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const steps: Step[] = [];
  lines.forEach((l, i) => {
    const t = l.trim();
    if (!t || t.startsWith('#')) return;
    steps.push({ ...base, name: `line ${i + 1}: ${t.slice(0, 40)}`, script: t });
  });
  return steps;
}
