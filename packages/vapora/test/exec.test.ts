import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ExecProvider } from '../src/adapters/llm/exec.js';
import { commandEnv, envName, parseCommandTemplate, renderCommand, splitWords } from '../src/core/exec-template.js';
import type { ChatResponse } from '../src/core/llm/types.js';
import { llmFailure } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vapora-exec-'));
const marker = join(dir, 'INJECTED');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => rmSync(marker, { force: true }));

/** Values that a shell would turn into a second command creating the marker file. */
const hostile = [
  `a; touch ${marker}`,
  `a && touch ${marker}`,
  `a | touch ${marker}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `a\ntouch ${marker}`,
  `'; touch ${marker}; '`,
  `"; touch ${marker}; "`,
  `$HOME $(touch ${marker}) \${PATH}`,
  `* ? [a] ~ {a,b} > ${marker}`,
];

const vars = (payload: Record<string, unknown>) => ({
  payload,
  task: { id: 'tsk-1', type: 'check', title: 'Check it', description: 'd', priority: 'high' },
  agent: { id: 'ops-1', role: 'ops' },
});

function run(model: string, payload: Record<string, unknown>, env?: NodeJS.ProcessEnv): Promise<ChatResponse> {
  return new ExecProvider({ cwd: dir, env, timeoutMs: 30_000 }).chat({
    model,
    messages: [{ role: 'user', content: 'the prompt' }],
    maxTokens: 0,
    vars: vars(payload),
  });
}

function refusal(template: string): StratumError {
  try {
    parseCommandTemplate(template);
  } catch (e) {
    expect(e).toBeInstanceOf(StratumError);
    expect((e as StratumError).code).toBe('validation');
    return e as StratumError;
  }
  throw new Error(`expected '${template}' to be refused`);
}

const ARGV_JSON = `node -e 'console.log(JSON.stringify(process.argv.slice(1)))' --`;

describe('exec: values are argv entries, never shell text', () => {
  it('the reported defect: sh -c "echo {{payload.host}}" is refused and creates nothing', async () => {
    const e = await llmFailure(run('/bin/sh -c "echo {{payload.host}}"', { host: `a; touch ${marker}` }));
    expect(e.kind).toBe('invalid_request');
    expect(e.message).toContain('$VAPORA_PAYLOAD_HOST');
    expect(existsSync(marker)).toBe(false);
  });

  it.each(hostile)('printf gets %j as one literal argument', async (value) => {
    const r = await run(`printf '%s\\n' {{payload.host}}`, { host: value });
    expect(r.exitCode).toBe(0);
    expect(r.text).toBe(`${value}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('a program receives each value as exactly one argument, also next to literal text', async () => {
    const payload = { a: hostile[0], b: hostile[5], c: '', d: 'it\'s "quoted"' };
    const r = await run(`${ARGV_JSON} {{payload.a}} x{{payload.b}}y {{payload.c}} --d={{payload.d}}`, payload);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.text)).toEqual([payload.a, `x${payload.b}y`, '', `--d=${payload.d}`]);
    expect(existsSync(marker)).toBe(false);
  });

  it.each(hostile)('a shell template reads %j from $VAPORA_PAYLOAD_HOST, uninterpreted', async (value) => {
    const r = await run(`sh -c 'printf "%s\\n" "$VAPORA_PAYLOAD_HOST"'`, { host: value });
    expect(r.exitCode).toBe(0);
    expect(r.text).toBe(`${value}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('a shell template sees the task, agent, prompt and payload (strings as-is, others as JSON)', async () => {
    const r = await run(
      `bash -c 'printf "%s|" "$VAPORA_TASK_ID" "$VAPORA_TASK_TYPE" "$VAPORA_TASK_TITLE" "$VAPORA_TASK_PRIORITY" "$VAPORA_AGENT_ID" "$VAPORA_AGENT_ROLE" "$VAPORA_PROMPT" "$VAPORA_PAYLOAD_N" "$VAPORA_PAYLOAD_OBJ" "$VAPORA_PAYLOAD"'`,
      { n: 3, obj: { k: [1] } },
    );
    expect(r.exitCode).toBe(0);
    expect(r.text.split('|')).toEqual([
      'tsk-1',
      'check',
      'Check it',
      'high',
      'ops-1',
      'ops',
      'the prompt',
      '3',
      '{"k":[1]}',
      '{"n":3,"obj":{"k":[1]}}',
      '',
    ]);
  });

  it('stdin still gets the vars as JSON; a non-zero exit is finishReason error', async () => {
    const r = await run(`node -e 'process.stdout.write(require("fs").readFileSync(0, "utf8")); process.exit(4)'`, {
      host: hostile[3],
    });
    expect([r.finishReason, r.exitCode]).toEqual(['error', 4]);
    expect(JSON.parse(r.text)).toMatchObject({ prompt: 'the prompt', payload: { host: hostile[3] } });
  });

  it('the command inherits the environment minus the API token and provider keys', async () => {
    const base = {
      PATH: process.env.PATH,
      KEEP_ME: 'yes',
      VAPORA_TOKEN: 't',
      ANTHROPIC_API_KEY: 'a',
      OPENAI_API_KEY: 'o',
      GEMINI_API_KEY: 'g',
      GOOGLE_API_KEY: 'gg',
      VAPORA_PAYLOAD_STALE: 'from the parent',
    };
    const r = await run(`${ARGV_JSON}`, {}, base);
    expect(r.exitCode).toBe(0);
    const probe = await run(`node -e 'console.log(JSON.stringify(process.env))'`, { host: 'h' }, base);
    const env = JSON.parse(probe.text) as Record<string, string>;
    expect(env.KEEP_ME).toBe('yes');
    expect(env.VAPORA_PAYLOAD_HOST).toBe('h');
    for (const k of ['VAPORA_TOKEN', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY']) {
      expect(env[k]).toBeUndefined();
    }
    expect(env.VAPORA_PAYLOAD_STALE).toBeUndefined();
  });

  it('by default the base environment is process.env, secrets removed', async () => {
    const saved = process.env.VAPORA_TOKEN;
    process.env.VAPORA_TOKEN = 'secret-token';
    try {
      const probe = await run(`node -e 'console.log(JSON.stringify(process.env))'`, {});
      const env = JSON.parse(probe.text) as Record<string, string>;
      expect(env.VAPORA_TOKEN).toBeUndefined();
      expect(env.PATH).toBe(process.env.PATH);
    } finally {
      if (saved === undefined) delete process.env.VAPORA_TOKEN;
      else process.env.VAPORA_TOKEN = saved;
    }
  });
});

describe('exec: argument injection', () => {
  const evil = join(dir, 'evil.cjs');
  writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');`);

  it.each([`--require=${evil}`, '-rf', '--option', '-'])(
    'a whole-word value %j that would be an option is refused',
    async (value) => {
      const e = await llmFailure(run(`node -e 'console.log(process.argv.length)' {{payload.x}}`, { x: value }));
      expect(e.kind).toBe('invalid_request');
      expect(e.message).toContain('{{payload.x}}');
      expect(e.message).toMatch(/starts with '-'.*put -- before it.*--host=\{\{payload\.x\}\}/);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it('after a -- word it is data, passed literally', async () => {
    const r = await run(`${ARGV_JSON} {{payload.x}} {{payload.y}}`, { x: `--require=${evil}`, y: '-rf' });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.text)).toEqual([`--require=${evil}`, '-rf']);
    expect(existsSync(marker)).toBe(false);
  });

  it('a literal prefix (--host={{…}}) or a value option (jq --arg name {{…}}) makes it data too', () => {
    const t = parseCommandTemplate('tool --host={{payload.h}} x{{payload.h}}');
    expect(renderCommand(t, vars({ h: '-x' }))).toEqual(['tool', '--host=-x', 'x-x']);
    const jq = parseCommandTemplate(`jq -n --arg h {{payload.h}} '$h'`);
    expect(renderCommand(jq, vars({ h: '--from-file' }))).toEqual(['jq', '-n', '--arg', 'h', '--from-file', '$h']);
  });

  it('a -- before the program does not protect the program’s own options', () => {
    const t = parseCommandTemplate('sudo -- rm {{payload.f}}');
    expect(() => renderCommand(t, vars({ f: '-rf' }))).toThrow(/starts with '-'/);
  });
});

describe('exec: NUL bytes and missing values', () => {
  it('a value with NUL is an error (invalid_request), not a crash, in argv and in the environment', async () => {
    const e1 = await llmFailure(run(`printf '%s' {{payload.x}}`, { x: 'a\0b' }));
    expect([e1.kind, e1.message]).toEqual(['invalid_request', expect.stringMatching(/\{\{payload\.x\}\}.*NUL/)]);
    const e2 = await llmFailure(run(`printf ok`, { other: 'a\0b' }));
    expect([e2.kind, e2.message]).toEqual(['invalid_request', expect.stringMatching(/VAPORA_PAYLOAD_OTHER.*NUL/)]);
    expect(() => commandEnv({ prompt: 'p\0' })).toThrow(StratumError);
  });

  it('a missing variable is an error, never an empty string', async () => {
    const e = await llmFailure(run('printf %s {{payload.host}}', {}));
    expect(e.message).toMatch(/'payload.host' is missing/);
  });
});

describe('parseCommandTemplate', () => {
  it('splits once, keeps placeholders in their words, lists them', () => {
    expect(
      parseCommandTemplate(`scripts/check.sh --host={{payload.host}} "a b" '{{ task.id }}' {{payload.host}}`),
    ).toEqual({
      argv: ['scripts/check.sh', '--host={{payload.host}}', 'a b', '{{ task.id }}', '{{payload.host}}'],
      placeholders: ['payload.host', 'task.id'],
      dashSafe: [],
    });
    expect(splitWords(`a\\ b "c\\"d" ''`)).toEqual(['a b', 'c"d', '']);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    [`echo "unclosed`, /unclosed "/],
    [`echo 'unclosed`, /unclosed '/],
  ])('refuses %j', (t, msg) => {
    expect(refusal(t).message).toMatch(msg);
  });

  it.each([
    ['sh -c "echo {{payload.host}}"', "'sh -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`bash -c 'ping -c1 {{payload.host}}'`, "'bash -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`bash -euo pipefail -c 'x {{payload.host}}'`, "'bash -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`bash -c 'echo "$1"' _ {{payload.host}}`, "'bash -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`/usr/bin/env bash -c 'x {{payload.host}}'`, "'bash -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`env -i PATH=/bin /bin/dash -c 'x {{task.id}}'`, "'dash -c'", '"$VAPORA_TASK_ID"'],
    [`sudo sh -c 'x {{payload.host}}'`, "'sh -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`sudo -u deploy timeout 10 nice -n 5 zsh -c 'x {{prompt}}'`, "'zsh -c'", '"$VAPORA_PROMPT"'],
    [`busybox sh -c 'x {{payload.host}}'`, "'sh -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`docker exec web sh -c 'x {{payload.host}}'`, "'sh -c'", '"$VAPORA_PAYLOAD_HOST"'],
    [`find . -name '*.log' -exec sh -c 'gzip {{payload.x}}' \\;`, "'sh -c'", '"$VAPORA_PAYLOAD_X"'],
    [`xargs -a list.txt bash -c 'x {{payload.x}}'`, "'bash -c'", '"$VAPORA_PAYLOAD_X"'],
    [`su -c 'systemctl restart {{payload.svc}}' root`, "'su'", '"$VAPORA_PAYLOAD_SVC"'],
    [`sh -c 'echo {{payload.db.host}}'`, "'sh -c'", '"$VAPORA_PAYLOAD_DB" (it holds payload.db as JSON)'],
  ])('refuses shell code %s and names the variable to use', (t, by, env) => {
    const m = refusal(t).message;
    expect(m).toContain(`run by ${by}`);
    expect(m).toContain(`refer to ${env}`);
    expect(m).toMatch(/data would become code|for safety values are not handed to inline shell code/);
  });

  it.each([
    [`python3 -c "print('{{payload.host}}')"`, /code run by 'python3 -c'.*os\.environ\["VAPORA_PAYLOAD_HOST"\]/],
    [`/usr/bin/python3.12 -Sc 'x{{payload.host}}'`, /'python3\.12 -c'/],
    [`node -e "console.log('{{payload.host}}')"`, /code run by 'node -e'.*process\.env\.VAPORA_PAYLOAD_HOST/],
    [`node --eval={{payload.host}}`, /'node --eval'/],
    [`node -p {{payload.host}}`, /'node -p'/],
    [`perl -lne 'print if /{{payload.re}}/' f`, /'perl -e'.*\$ENV\{VAPORA_PAYLOAD_RE\}/],
    [`ruby -e 'puts "{{payload.x}}"'`, /'ruby -e'.*ENV\["VAPORA_PAYLOAD_X"\]/],
    [`php -r 'echo "{{payload.x}}";'`, /'php -r'.*getenv/],
    [`pwsh -NoProfile -Command "Get-Item {{payload.x}}"`, /PowerShell code.*\$env:VAPORA_PAYLOAD_X/],
    [`lua -e 'print("{{payload.x}}")'`, /'lua -e'/],
    [`awk '/{{payload.re}}/ {print}' log`, /program text of 'awk'.*ENVIRON\["VAPORA_PAYLOAD_RE"\]/],
    [`gawk -F: -e 'BEGIN{print "{{payload.x}}"}'`, /program text of 'gawk -e'/],
    [`sed 's/x/{{payload.y}}/' f`, /script of 'sed'/],
    [`jq '.{{payload.k}}' f.json`, /filter of 'jq'.*--arg v/],
    [`ssh admin@db-1 systemctl status {{payload.svc}}`, /remote command of 'ssh'/],
    [`eval echo {{payload.x}}`, /shell code run by 'eval'/],
    [`tar -xf a.tar --to-command={{payload.x}}`, /'--to-command' option of 'tar'/],
    [`psql -c "select '{{payload.x}}'"`, /'-c' option of 'psql'/],
  ])('refuses code %s', (t, msg) => {
    const m = refusal(t).message;
    expect(m).toMatch(msg);
    expect(m).toContain('data would become code');
  });

  it.each([
    ['{{payload.cmd}} --version', ''],
    ['scripts/{{payload.name}}.sh', ''],
    ['sudo {{payload.cmd}}', "(after 'sudo')"],
    ['/usr/bin/env {{payload.cmd}} x', "(after 'env')"],
    ['timeout 5 {{payload.cmd}}', "(after 'timeout')"],
    ['bash {{payload.script}}', "(after 'bash')"],
    ['python3 -m {{payload.mod}}', "(after 'python3')"],
    ['find . -exec {{payload.cmd}} {} +', "(after 'find -exec')"],
  ])('refuses a placeholder in the program position: %s', (t, via) => {
    const m = refusal(t).message;
    expect(m).toContain('in the program position');
    expect(m).toContain('data must never choose the program');
    expect(m).toContain(via);
  });

  it.each(['sh', 'bash -s', 'python3', 'node -', 'xargs rm'])(
    'refuses %j: it would read code or arguments from stdin, which carries the task vars',
    (t) => {
      expect(refusal(t).message).toMatch(/stdin/);
    },
  );

  it.each([
    ['timeout {{payload.secs}} cmd', "options of 'timeout'"],
    ['sudo -u {{payload.user}} cmd', "options of 'sudo'"],
    ['node --require {{payload.mod}} app.js', "options of 'node'"],
    ['bash -o {{payload.opt}} script.sh', "options of 'bash'"],
    ['ssh -o ProxyCommand={{payload.x}} host uptime', "options of 'ssh': data there could set ProxyCommand"],
    ['ssh -F {{payload.cfg}} host uptime', "options of 'ssh'"],
  ])('refuses a placeholder among the options that decide what runs: %s', (t, where) => {
    expect(refusal(t).message).toContain(where);
  });

  it.each([
    `printf '%s\\n' {{payload.host}}`,
    `${ARGV_JSON} {{payload.x}}`,
    `node -e 'console.log(process.argv[1])' {{payload.x}}`,
    `python3 -c 'import sys; print(sys.argv[1])' {{payload.x}}`,
    `perl -Mstrict -e 'print @ARGV' -- {{payload.x}}`,
    `sh -c 'echo "$VAPORA_PAYLOAD_HOST"'`,
    `sudo -u deploy -- env LANG=C HOST={{payload.host}} nice -n 5 scripts/check.sh --host={{payload.host}}`,
    `ssh -p {{payload.port}} {{payload.host}} uptime`,
    `awk -v host={{payload.host}} '$1 == host' /etc/hosts`,
    `jq -r --arg h {{payload.h}} '.[$h]' data.json`,
    `sed -e 's/a/b/' {{payload.file}}`,
    `tar -C {{payload.dir}} -xf a.tar`,
    `find {{payload.dir}} -name '*.log' -exec gzip -- {} +`,
    `pwsh -File check.ps1 {{payload.host}}`,
  ])('accepts %s', (t) => {
    expect(() => parseCommandTemplate(t)).not.toThrow();
  });
});

describe('commandEnv', () => {
  it('maps paths to names and builds the run environment', () => {
    expect(envName('payload.host')).toBe('VAPORA_PAYLOAD_HOST');
    expect(envName('payload.db-host.x')).toBe('VAPORA_PAYLOAD_DB_HOST_X');
    const env = commandEnv({
      prompt: 'p',
      ...vars({ host: 'h', 'dash-key': 'd', n: 1.5, ok: true, nil: null, obj: { a: [1] } }),
    });
    expect(env).toEqual({
      VAPORA_PAYLOAD: '{"host":"h","dash-key":"d","n":1.5,"ok":true,"nil":null,"obj":{"a":[1]}}',
      VAPORA_PAYLOAD_HOST: 'h',
      VAPORA_PAYLOAD_DASH_KEY: 'd',
      VAPORA_PAYLOAD_N: '1.5',
      VAPORA_PAYLOAD_OK: 'true',
      VAPORA_PAYLOAD_NIL: 'null',
      VAPORA_PAYLOAD_OBJ: '{"a":[1]}',
      VAPORA_TASK_ID: 'tsk-1',
      VAPORA_TASK_TYPE: 'check',
      VAPORA_TASK_TITLE: 'Check it',
      VAPORA_TASK_DESCRIPTION: 'd',
      VAPORA_TASK_PRIORITY: 'high',
      VAPORA_AGENT_ID: 'ops-1',
      VAPORA_AGENT_ROLE: 'ops',
      VAPORA_PROMPT: 'p',
    });
  });

  it('leaves out a value too large for the environment and says so', () => {
    const env = commandEnv({ payload: { big: 'x'.repeat(200_000), small: 's' } });
    expect(env.VAPORA_PAYLOAD_BIG).toBeUndefined();
    expect(env.VAPORA_PAYLOAD).toBeUndefined();
    expect(env.VAPORA_PAYLOAD_SMALL).toBe('s');
    expect(env.VAPORA_OMITTED).toBe('VAPORA_PAYLOAD,VAPORA_PAYLOAD_BIG');
  });
});

describe('exec: agent commands do not outlive vapora', () => {
  it('a process that exits while an agent command runs takes the command and what it started with it', async () => {
    // A real process (what `vapora serve` or `vapora worker` is) starts an agent command that starts a
    // grandchild and waits; the process then exits (a shutdown timeout does process.exit) mid-command.
    const pids = join(dir, 'agent-pids');
    const exec = new URL('../dist/adapters/llm/exec.js', import.meta.url).href;
    const script = `
      const { ExecProvider } = await import(${JSON.stringify(exec)});
      const p = new ExecProvider({ timeoutMs: 60_000 });
      p.chat({ model: ${JSON.stringify(`sh -c 'sleep 60 & echo $$ $! > ${pids}; wait'`)}, messages: [], maxTokens: 0, vars: {} }).catch(() => {});
      const { existsSync } = await import('node:fs');
      while (!existsSync(${JSON.stringify(pids)})) await new Promise((r) => setTimeout(r, 20));
      process.exit(1);
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(1);
    const [shell, sleeper] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    // Alive and not a zombie waiting for its parent to reap it.
    const alive = (pid: number) => {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return false;
      }
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    };
    for (let i = 0; i < 100 && (alive(shell!) || alive(sleeper!)); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive(shell!), 'the agent command').toBe(false);
    expect(alive(sleeper!), 'what it started').toBe(false);
  });
});
