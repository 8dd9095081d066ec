/**
 * The tui in a real terminal: the binary runs inside a private tmux server (its own socket, 80×20), keys are sent
 * with send-keys and the screen is read with capture-pane.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { fakeLlm } from './fake-llm.js';
import { bin, cluster, repo, tmp } from './helpers.js';

const hasTmux = !skipUnless('tmux'); // under CI a missing tmux fails instead of skipping

const socket = `td-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

/** Waits until the screen shows `text`; `joined` reads lines the terminal wrapped as one. */
async function screenShows(session: string, text: string | RegExp, joined = false): Promise<string> {
  let screen = '';
  // Patient (up to ~40 s): on a loaded machine the binary can take seconds to start and to redraw.
  for (let i = 0; i < 800; i++) {
    screen = tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', session);
    if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) return screen;
    await tick();
  }
  throw new Error(`the screen never showed ${text}:\n${screen}`);
}

function run(session: string, args: string[], cwd?: string): void {
  const home = tmp('typedialog-tmux-home-');
  const env = `env -u CI HOME=${home} XDG_CONFIG_HOME=${home}/c XDG_DATA_HOME=${home}/d TERM=xterm-256color`;
  const cmd = `${cwd ? `cd '${cwd}' && ` : ''}${env} ${process.execPath} ${bin} ${args.map((a) => `'${a}'`).join(' ')}; sleep 30`;
  tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '20', cmd);
}

describe.skipIf(!hasTmux)('tui in a real terminal (tmux)', { timeout: 180_000 }, () => {
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });

  it('edits with several backspaces at once, ←/→ and Ctrl+U; the review of a long form scrolls in 20 rows', async () => {
    const dir = tmp();
    const form = join(dir, 'k.toml');
    writeFileSync(
      form,
      '[form]\nid = "k"\ntitle = "Keys"\n[[sections]]\nid = "s"\n[[sections.fields]]\nid = "name"\ntype = "text"\nlabel = "Name"\n',
    );
    const out = join(dir, 'out.json');
    run('keys', ['run', form, '--backend', 'tui', '--out', out]);
    await screenShows('keys', 'Name');
    tmux('send-keys', '-t', 'keys', '-l', 'abcdef');
    await screenShows('keys', '› abcdef');
    tmux('send-keys', '-t', 'keys', 'BSpace', 'BSpace', 'BSpace');
    await screenShows('keys', /› abc\s*$/m);
    tmux('send-keys', '-t', 'keys', 'Left', 'Left', 'X');
    await screenShows('keys', '› aXbc');
    tmux('send-keys', '-t', 'keys', 'C-u');
    await screenShows('keys', /^›\s*$/m);
    tmux('send-keys', '-t', 'keys', '-l', 'grace');
    await screenShows('keys', '› grace');
    tmux('send-keys', '-t', 'keys', 'Enter');
    await screenShows('keys', 'Submit');
    tmux('send-keys', '-t', 'keys', 'Enter');
    for (let i = 0; i < 600 && !existsSync(out); i++) await tick();
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ name: 'grace' });

    const out2 = join(dir, 'cluster.json');
    run('review', ['run', cluster, '--backend', 'tui', '--out', out2]);
    await screenShows('review', 'Cluster name');
    // One Enter per question, each after the screen moved on: an Enter queued ahead would submit the review.
    for (let i = 0; i < 40; i++) {
      const screen = tmux('capture-pane', '-p', '-t', 'review');
      if (screen.includes('Submit')) break;
      const n = /question (\d+) of/.exec(screen)?.[1] ?? '0';
      tmux('send-keys', '-t', 'review', 'Enter');
      await screenShows('review', new RegExp(`question (?!${n} of)\\d+ of|Submit`));
    }
    const bottom = await screenShows('review', /↑ \d+ more/);
    expect(bottom).toContain('Submit');
    tmux('send-keys', '-t', 'review', 'Down');
    const top = await screenShows('review', /❯ Cluster name: demo/);
    expect(top).toMatch(/↓ \d+ more/);
    tmux('send-keys', '-t', 'review', 'Up', 'Enter');
    for (let i = 0; i < 600 && !existsSync(out2); i++) await tick();
    expect(JSON.parse(readFileSync(out2, 'utf8'))).toMatchObject({ name: 'demo', provider: 'aws' });
  });

  it('agent run on a terminal streams the answer as it arrives (Anthropic SSE), then prints the validated output', async () => {
    const answer = JSON.stringify({ issues: [], summary: 'looks fine' });
    const server = await fakeLlm(() => ({ text: answer }));
    try {
      const dir = tmp();
      writeFileSync(join(dir, 'typedialog.toml'), `[providers.anthropic]\nbase_url = "${server.url}"\n`);
      const agent = join(repo, 'examples', 'agents', 'code_reviewer.agent.mdx');
      run('stream', ['agent', 'run', agent, '--var', 'language=ts', '--var', 'code=let a = 1'], dir);
      const screen = await screenShows('stream', /recorded in[\s\S]*"summary": "looks fine"/);
      expect(screen).toContain(answer); // the model's compact text, as it streamed in
      expect(server.requests[0]?.body.stream).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('agent run on a terminal streams the OpenAI Chat Completions answer (SSE chunks, usage chunk, [DONE])', async () => {
    const answer = JSON.stringify({ issues: [], summary: 'nothing to flag' });
    const server = await fakeLlm(() => ({ text: answer, input: 321, output: 54 }));
    try {
      const dir = tmp();
      writeFileSync(join(dir, 'typedialog.toml'), `[providers.openai]\nbase_url = "${server.url}/v1"\n`);
      const agent = join(repo, 'examples', 'agents', 'code_reviewer.agent.mdx');
      const args = ['agent', 'run', agent, '--model', 'openai:gpt-4o-mini', '--var', 'language=ts', '--var', 'code=x'];
      run('stream-openai', args, dir);
      // The cost line (stderr) comes before the pretty-printed output (stdout): wait for both.
      const screen = await screenShows('stream-openai', /recorded in[\s\S]*"summary": "nothing to flag"/, true);
      // The model's own compact text, as it streamed in, then the validated output pretty-printed.
      expect(screen).toContain(answer);
      expect(screen).toContain('"summary": "nothing to flag"');
      // The usage arrives only in the stream's last chunk: the tokens shown come from it.
      expect(screen).toMatch(/code_reviewer: openai:gpt-4o-mini-2024-07-18, 1 call, 321 tokens in \/ 54 out/);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]?.path).toBe('/v1/chat/completions');
      expect(server.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    } finally {
      await server.close();
    }
  });

  it('a text agent on a terminal streams its answer to stdout once (no second copy after the stream)', async () => {
    const prose = 'Tides follow the moon. Twice a day the sea comes in and goes out again.';
    const server = await fakeLlm(() => ({ text: prose }));
    try {
      const dir = tmp();
      writeFileSync(join(dir, 'typedialog.toml'), `[providers.openai]\nbase_url = "${server.url}/v1"\n`);
      writeFileSync(
        join(dir, 'tides.agent.mdx'),
        '---\nname: tides\nversion: "1"\nprovider: openai\nmodel: gpt-4o-mini\n---\n\n## User Prompt\n\nExplain tides.\n',
      );
      run('text', ['agent', 'run', 'tides.agent.mdx'], dir);
      const screen = await screenShows('text', /recorded in/, true);
      expect(screen.split(prose)).toHaveLength(2);
      expect(server.requests[0]?.body.stream).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('run --backend ai on a terminal: the drafts open on the review screen, a refused one is fixed there, then submitted', async () => {
    const draft = {
      name: 'Staging Cluster!',
      provider: 'aws',
      region: 'eu-west-1',
      environment: 'staging',
      worker_count: 3,
    };
    const server = await fakeLlm(() => ({ text: JSON.stringify(draft) }));
    try {
      const dir = tmp();
      writeFileSync(
        join(dir, 'typedialog.toml'),
        `[providers.openai]\nbase_url = "${server.url}"\n\n[ai]\nmodel = "openai:gpt-4o-mini"\nrepairs = 0\n`,
      );
      const out = join(dir, 'cluster.json');
      run('ai-review', ['run', cluster, '--backend', 'ai', '--describe', '3-node staging in eu-west', '-o', out], dir);
      const first = await screenShows('ai-review', 'Review the drafted answers');
      // The cursor waits on the draft the form refused, with the reason under it.
      expect(first).toMatch(/❯ Cluster name: Staging Cluster!/);
      expect(first).toContain('✖ use lowercase letters, digits and dashes (2-42 characters)');
      expect(first).toContain('One answer needs fixing');
      tmux('send-keys', '-t', 'ai-review', 'Enter');
      await screenShows('ai-review', '› Staging Cluster!');
      tmux('send-keys', '-t', 'ai-review', 'C-u');
      tmux('send-keys', '-t', 'ai-review', '-l', 'staging');
      tmux('send-keys', '-t', 'ai-review', 'Enter');
      const fixed = await screenShows('ai-review', /❯ Submit/);
      expect(fixed).not.toContain('✖');
      tmux('send-keys', '-t', 'ai-review', 'Up');
      await screenShows('ai-review', /❯ .*: /);
      tmux('send-keys', '-t', 'ai-review', 'Down', 'Enter');
      for (let i = 0; i < 600 && !existsSync(out); i++) await tick();
      expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({
        ...draft,
        name: 'staging',
        control_plane_count: 3,
        vpc_cidr: '10.0.0.0/16',
      });
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
