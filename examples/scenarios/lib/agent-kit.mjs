// What every scenario's exec agent shares: the task vapora hands it (role as argv[2], $VAPORA_TASK_TYPE,
// $VAPORA_PAYLOAD), the scenario's context file ($SCENARIO_CONTEXT, 0600: where things are), the tools'
// binaries run with --json, an application's PostgreSQL login, kogral over MCP, and the one-JSON-line
// answer (the step's output) or a one-line error and exit 1. Every call is logged to the context's
// `calls` file, so a scenario can check what ran (and what did not).
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { bin, withJson } from './harness.mjs';

export { kogralTool, pgLogin as login } from './team.mjs';

export const role = process.argv[2];
export const type = process.env.VAPORA_TASK_TYPE;
export const payload = JSON.parse(process.env.VAPORA_PAYLOAD || '{}');
export const ctx = JSON.parse(readFileSync(process.env.SCENARIO_CONTEXT, 'utf8'));
appendFileSync(ctx.calls, `${role} ${type} ${JSON.stringify(payload)}\n`);

/** A tool's binary with --json; resolves to { code, json, stderr } (never throws on a non-zero exit). */
export function cli(tool, args, { cwd, env = {} } = {}) {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin(tool), ...withJson(args)],
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        let json = null;
        try {
          json = JSON.parse(stdout);
        } catch {}
        done({ code: err ? (err.code ?? 1) : 0, json, stderr: String(stderr) });
      },
    );
  });
}

/** The message of a failed `cli` run: its JSON error, else stderr's last line. */
export const failure = (r) => r.json?.error?.message ?? r.stderr.trim().split('\n').pop();

/** Runs the agent for this task's type and prints its answer. */
export function serve(agents) {
  const agent = agents[type];
  if (!agent) {
    process.stderr.write(`unknown task type ${type}\n`);
    process.exit(1);
  }
  agent().then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (e) => {
      process.stderr.write(`${role} ${type}: ${e.message}\n`);
      process.exit(1);
    },
  );
}
