import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const tools = ['svault', 'kogral', 'prov', 'typedialog', 'vapora'] as const;
export type Tool = (typeof tools)[number];

export const binPath = (tool: Tool) => join(import.meta.dirname, '..', 'packages', tool, 'bin', 'run.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A sandbox for one test: its own working dir, HOME, XDG dirs and data dirs. */
export function sandbox(): { cwd: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), 'stratum-cli-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    NO_COLOR: '1',
  };
  return { cwd: root, env };
}

/** Runs a binary as a user would (a child process), never through a shell; `input` is piped to stdin. */
export function runBin(
  tool: Tool,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string | Buffer } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath(tool), ...args], {
      cwd: opts.cwd,
      env: opts.env ?? sandbox().env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
