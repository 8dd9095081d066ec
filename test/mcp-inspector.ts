import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { binPath, type Tool } from './run-bin.js';

const run = promisify(execFile);

/** The MCP Inspector CLI (a devDependency): an MCP client we did not write, driving a tool's stdio server. */
export const INSPECTOR = join(
  import.meta.dirname,
  '..',
  'node_modules',
  '@modelcontextprotocol',
  'inspector-cli',
  'build',
  'cli.js',
);

export type InspectorResult = Record<string, unknown> & {
  isError?: boolean;
  content?: { text: string }[];
  structuredContent?: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: tools/list and tool results are checked field by field
  [k: string]: any;
};

/**
 * A function that runs one inspector call against `<tool> <serverArgs>` started from `<dir>/client` (the
 * inspector checks for ../package.json relative to its working directory, so `dir` gets one), with `serverEnv`
 * passed to the server (`-e K=V`); its JSON answer is parsed.
 */
export function inspector(
  tool: Tool,
  serverArgs: string[],
  o: { dir: string; env: NodeJS.ProcessEnv; serverEnv?: Record<string, string> },
): (...args: string[]) => Promise<InspectorResult> {
  if (!existsSync(INSPECTOR)) throw new Error(`${INSPECTOR} is missing: npm ci installs it`);
  writeFileSync(join(o.dir, 'package.json'), '{}\n');
  const work = join(o.dir, 'client');
  mkdirSync(work, { recursive: true });
  const vars = Object.entries(o.serverEnv ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  return async (...args: string[]) => {
    const r = await run(
      process.execPath,
      [INSPECTOR, '--cli', ...vars, process.execPath, binPath(tool), ...serverArgs, ...args],
      {
        cwd: work,
        env: { ...process.env, ...o.env },
      },
    );
    return JSON.parse(r.stdout) as InspectorResult;
  };
}
