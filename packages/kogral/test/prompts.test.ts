import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';

/** `script` (util-linux) gives the binary a real pseudo-terminal: what a user at a terminal sees. */
const haveScript = !spawnSync('script', ['--version']).error;
if (!haveScript) {
  if (process.env.CI) throw new Error('script (util-linux) is required for the terminal prompt tests under CI');
  console.warn('skipping the terminal prompt tests: install util-linux (script)');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const plain = (s: string) => stripVTControlCharacters(s);
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/** Runs kogral on a pseudo-terminal; `answer` waits for a prompt on screen, then types a line. */
function onTerminal(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const cmd = [process.execPath, binPath('kogral'), ...args].map(quote).join(' ');
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-q', '-e', '-f', '-c', cmd, '/dev/null'], {
    cwd,
    env,
  });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  let seen = 0;
  /** Waits (generously: the machine may be busy) until new output matches. */
  const see = async (re: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const m = re.exec(plain(screen).slice(seen));
      if (m) {
        seen += m.index + m[0].length;
        return;
      }
      await sleep(50);
    }
    throw new Error(`never saw ${re} on the terminal:\n${plain(screen)}`);
  };
  return {
    see,
    answer: async (prompt: RegExp, text: string) => {
      await see(prompt);
      child.stdin.write(`${text}\r`);
    },
    press: (keys: string) => child.stdin.write(keys),
    exit: async () => {
      const code = await exited;
      child.stdin.end();
      return { code, screen: plain(screen) };
    },
  };
}

async function newGraph() {
  const { cwd, env } = sandbox();
  expect((await runBin('kogral', ['init'], { cwd, env })).code).toBe(0);
  return { cwd, env, graph: join(cwd, '.kogral') };
}

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe.skipIf(!haveScript)('kogral add on a terminal', { timeout: 120_000 }, () => {
  it('asks for every missing field, refuses an empty answer, and writes the node', async () => {
    const { cwd, env, graph } = await newGraph();
    const t = onTerminal(['add', 'decision', '--json', '--tag', 'cni'], cwd, env);
    await t.answer(/Title/, 'Choose Cilium for CNI');
    await t.answer(/Context/, '');
    await t.see(/cannot be empty/);
    t.press('Need eBPF networking\r');
    await t.answer(/Decision \(/, 'Use Cilium');
    await t.answer(/Consequences/, 'Kernel 5.10 or newer');
    const { code, screen } = await t.exit();
    expect(code).toBe(0);
    const [file] = files(join(graph, 'decisions'));
    expect(file).toMatch(/^choose-cilium-for-cni-.+\.md$/);
    const text = readFileSync(join(graph, 'decisions', file as string), 'utf8');
    expect(text).toContain('title: Choose Cilium for CNI');
    expect(text).toContain('tags: [cni]');
    for (const s of ['Need eBPF networking', 'Use Cilium', 'Kernel 5.10 or newer']) expect(text).toContain(s);
    // The prompts go to stderr; the JSON result is still one document.
    const json = JSON.parse(screen.slice(screen.indexOf('{'), screen.lastIndexOf('}') + 1));
    expect(json.id).toBe((file as string).replace(/\.md$/, ''));
  });

  it('asks only for what the flags left out', async () => {
    const { cwd, env, graph } = await newGraph();
    const t = onTerminal(['add', 'execution', 'Disk full on db-1', '--root-cause', 'WAL not archived'], cwd, env);
    await t.answer(/Resolution/, 'Archived and pruned the WAL');
    const { code, screen } = await t.exit();
    expect(code).toBe(0);
    expect(screen).not.toMatch(/Title|Root cause \(/);
    const [file] = files(join(graph, 'executions'));
    const text = readFileSync(join(graph, 'executions', file as string), 'utf8');
    expect(text).toContain('WAL not archived');
    expect(text).toContain('Archived and pruned the WAL');
  });

  it('Ctrl-C at a prompt writes nothing (exit 130)', async () => {
    const { cwd, env, graph } = await newGraph();
    const t = onTerminal(['add', 'note'], cwd, env);
    await t.answer(/Title/, 'Half typed');
    await t.see(/Text/);
    t.press('\u0003');
    const { code, screen } = await t.exit();
    expect(code).toBe(130);
    expect(screen).toContain('cancelled, nothing written');
    expect(files(join(graph, 'notes'))).toEqual([]);
  });

  it('never asks under CI, even on a terminal: exit 2 naming the flags', async () => {
    const { cwd, env, graph } = await newGraph();
    const t = onTerminal(['add', 'decision', 'Under CI', '--context', 'x'], cwd, { ...env, CI: '1' });
    const { code, screen } = await t.exit();
    expect(code).toBe(2);
    expect(screen).toMatch(/'kogral add decision' needs --decision and --consequences/);
    expect(files(join(graph, 'decisions'))).toEqual([]);
  });
});

describe('kogral add off a terminal', () => {
  it('never waits for input: exit 2 naming every missing value, nothing written', async () => {
    const { cwd, env, graph } = await newGraph();
    const r = await runBin('kogral', ['add', 'decision'], { cwd, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'kogral add decision' needs a title, --context, --decision and --consequences/);
    expect(r.stderr).toMatch(/pass a title, --context/);
    const p = await runBin('kogral', ['add', 'pattern', 'Sidecar', '--problem', 'logs in files', '--json'], {
      cwd,
      env,
    });
    expect(p.code).toBe(2);
    expect(JSON.parse(p.stdout).error.message).toMatch(/needs --solution$/);
    expect(files(join(graph, 'decisions'))).toEqual([]);
    expect(files(join(graph, 'patterns'))).toEqual([]);
  });
});
