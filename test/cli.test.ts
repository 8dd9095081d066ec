import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHelp } from '../packages/shared/src/cli/help.js';
import type { HelpIndex } from '../packages/shared/src/cli/help-index.js';
import { resolve } from '../packages/shared/src/cli/help-index.js';
import { runBin, sandbox, tools } from './run-bin.js';

const index = (tool: string): HelpIndex =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'packages', tool, 'help-index.json'), 'utf8'));

describe.each(tools)('%s binary', (tool) => {
  it('prints its version', async () => {
    const r = await runBin(tool, ['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${tool}/\\d+\\.\\d+\\.\\d+ linux-\\w+ node-v\\d+`));
  });

  it('prints a command tree with topics, config and autocomplete', async () => {
    const r = await runBin(tool, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('USAGE');
    expect(r.stdout).toMatch(/COMMANDS[\s\S]*config/);
    expect(r.stdout).toContain('autocomplete');
    const topics = Object.keys(index(tool).topics).filter((t) => !t.includes(':'));
    expect(topics.length).toBeGreaterThan(0);
    for (const t of topics) expect(r.stdout).toContain(t);
  });

  it('renders help for every declared command and topic', () => {
    const idx = index(tool);
    for (const c of Object.values(idx.commands)) {
      const text = renderHelp(idx, { kind: 'command', command: c, words: 1 });
      expect(text, c.id).toContain(`$ ${tool} ${c.id.replaceAll(':', ' ')}`);
      expect(c.summary, `${tool} ${c.id} has a summary`).toBeTruthy();
    }
    for (const t of Object.keys(idx.topics)) {
      const r = resolve(idx, t.split(':'));
      expect(r.kind, t).toBe('topic');
      expect(renderHelp(idx, r), t).toContain('COMMANDS');
    }
  });

  it('rejects an unknown command with exit 2 and one line, suggesting the closest', async () => {
    const r = await runBin(tool, ['confg']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`'confg' is not a ${tool} command`);
    expect(r.stderr).toContain(`did you mean '${tool} config'`);
  });

  it('rejects an unknown word after a topic instead of showing the topic', async () => {
    // A command of a topic with its last two letters swapped: daemon stop -> daemon stpo.
    const ids = Object.keys(index(tool).commands);
    const id = ids.find((c) => c === 'daemon:stop') ?? (ids.find((c) => c.split(':').length === 2) as string);
    const [topic, word] = id.split(':') as [string, string];
    const typo = `${word.slice(0, -2)}${word.slice(-1)}${word.slice(-2, -1)}`;
    const r = await runBin(tool, [topic, typo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`'${topic} ${typo}' is not a ${tool} command (did you mean '${tool} ${topic} ${word}'?`);
  });

  it('rejects an unknown flag with exit 2 and one line naming it', async () => {
    const r = await runBin(tool, ['config', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--frobnicate');
    expect(r.stderr).toContain(`${tool} config --help`);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
  });

  it('gives a JSON error document on stdout with --json', async () => {
    const r = await runBin(tool, ['nope', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.error).toMatchObject({ code: 'usage', exitCode: 2 });
    expect(doc.error.message).toContain("'nope'");
  });
});

describe('configuration', () => {
  const projectFile = { svault: 'svault.toml', kogral: '.kogral/config.toml', prov: 'prov.toml' } as const;

  it.each(Object.entries(projectFile))(
    '%s: a malformed project file gives exit 2 with file:line:col and writes nothing',
    async (tool, file) => {
      const { cwd, env } = sandbox();
      mkdirSync(join(cwd, file, '..'), { recursive: true });
      writeFileSync(join(cwd, file), '[log]\nlevel = "debug"\nthis is not toml\n');
      const before = readdirSync(cwd, { recursive: true }).sort();
      const r = await runBin(tool as 'svault', ['config'], { cwd, env });
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`malformed config file .*${file.replace('.', '\\.')}:3:\\d+`));
      expect(readdirSync(cwd, { recursive: true }).sort()).toEqual(before);
    },
  );

  it('a value of the wrong type gives exit 3 naming the key and the file', async () => {
    const { cwd, env } = sandbox();
    writeFileSync(join(cwd, 'svault.toml'), '[log]\nlevel = "loud"\n');
    const r = await runBin('svault', ['config'], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("'log.level'");
    expect(r.stderr).toContain(join(cwd, 'svault.toml'));
  });

  it('shows one setting when given its key', async () => {
    const r = await runBin('kogral', ['config', 'log.level', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).settings).toEqual([{ key: 'log.level', value: 'warn', source: 'default' }]);
  });

  it('an unknown key gives exit 3 (typos are not silently ignored)', async () => {
    const { cwd, env } = sandbox();
    writeFileSync(join(cwd, 'svault.toml'), 'adress = "http://127.0.0.1:8200"\n');
    const r = await runBin('svault', ['config'], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("unknown setting 'adress'");
  });

  it('layers defaults < user file < project file < environment < flags, and says where each came from', async () => {
    const { cwd, env } = sandbox();
    mkdirSync(join(env.XDG_CONFIG_HOME as string, 'stratumiops'), { recursive: true });
    writeFileSync(
      join(env.XDG_CONFIG_HOME as string, 'stratumiops', 'svault.toml'),
      'addr = "https://user.example:8200"\n[log]\nformat = "json"\n[storage.filesystem]\npath = "/user/path"\n',
    );
    mkdirSync(join(cwd, 'sub', 'dir'), { recursive: true });
    writeFileSync(join(cwd, 'svault.toml'), 'addr = "https://project.example:8200"\n[storage]\nbackend = "etcd"\n');
    const r = await runBin('svault', ['config', '--json', '--log-level', 'error'], {
      cwd: join(cwd, 'sub', 'dir'), // the project file is found upwards
      env: { ...env, SVAULT_ADDR: 'https://env.example:8200', SVAULT_TOKEN: 's.supersecret' },
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    const by = Object.fromEntries(doc.settings.map((s: { key: string }) => [s.key, s]));
    expect(by.addr).toEqual({ key: 'addr', value: 'https://env.example:8200', source: 'env SVAULT_ADDR' });
    expect(by['storage.backend'].source).toBe(`project ${join(cwd, 'svault.toml')}`);
    expect(by['storage.filesystem.path'].value).toBe('/user/path');
    expect(by['log.format'].source).toMatch(/^user /);
    expect(by['log.level']).toMatchObject({ value: 'error', source: 'flag --log-level' });
    expect(by.token.value).toBe('********');
    expect(r.stdout).not.toContain('supersecret');
  });
});

describe('shell completion', () => {
  it('prints a bash setup script that knows the commands', async () => {
    const { cwd, env } = sandbox();
    const r = await runBin('svault', ['autocomplete', 'script', 'bash'], { cwd, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('svault autocomplete setup');
    const refresh = await runBin('svault', ['autocomplete', '--refresh-cache'], { cwd, env });
    expect(refresh.code, refresh.stderr).toBe(0);
    const fn = readFileSync(join(cwd, '.cache', 'svault', 'autocomplete', 'functions', 'bash', 'svault.bash'), 'utf8');
    expect(fn).toContain('operator:unseal');
  });
});

describe('logging', () => {
  it('writes JSON log lines to stderr only, at the level asked for, keeping stdout for output', async () => {
    const r = await runBin('prov', ['config', '--json', '--log-level', 'debug', '--log-format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('settings');
    const line = JSON.parse(r.stderr.trim().split('\n')[0] as string);
    expect(line).toMatchObject({ name: 'prov', level: 20, msg: 'config loaded', command: 'config' });
  });

  it('is quiet at the default level (warn)', async () => {
    const r = await runBin('prov', ['config']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('takes the level from the environment too', async () => {
    const { env } = sandbox();
    const r = await runBin('kogral', ['config'], { env: { ...env, KOGRAL_LOG_LEVEL: 'debug' } });
    expect(r.stderr).toMatch(/DEBUG kogral: config loaded/);
  });
});

describe('a missing argument', () => {
  it('is exit 2 and one readable line: which argument, what it is, where to look', async () => {
    const r = await runBin('svault', ['transit', 'key', 'create']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "svault: Missing 1 required arg: name (key name) (see 'svault transit key create --help')",
    );
  });
});

describe('single-dash long flags, as Vault spells them', () => {
  it("are the command's long flags: `-json`, `-log-level=debug`; other words are left alone", async () => {
    const dashed = await runBin('prov', ['config', '-json', '-log-level=debug', '-log-format', 'json']);
    expect(dashed.code, dashed.stderr).toBe(0);
    expect(JSON.parse(dashed.stdout)).toHaveProperty('settings');
    expect(JSON.parse(dashed.stderr.trim().split('\n')[0] as string)).toMatchObject({ level: 20 });
    const unknown = await runBin('prov', ['config', '-frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('-frobnicate');
  });
});
