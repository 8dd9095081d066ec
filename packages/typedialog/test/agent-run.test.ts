import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { parseAgent } from '../src/core/agent/parse.js';
import { renderPrompts, runAgent } from '../src/core/agent/run.js';
import { parseVarFlags, resolveVars } from '../src/core/agent/vars.js';
import { fakeLlm, llmProjects, type Reply, scripted, wire } from './fake-llm.js';
import { forms, repo, tmp, typedialog } from './helpers.js';

const reviewer = join(repo, 'examples', 'agents', 'code_reviewer.agent.mdx');
const reviewForm = join(forms, 'code_review.toml');

const VALID = JSON.stringify({
  issues: [{ severity: 'critical', line: 1, message: 'eval of user input', suggestion: 'parse it instead' }],
  summary: 'one critical issue',
});
const INVALID = JSON.stringify({ issues: [{ severity: 'fatal', line: '1', message: 'eval' }], summary: 'x' });

function agentWith(output: string, extra = '') {
  return parseAgent(`---
name: t
version: "1"
provider: openai
model: gpt-4o-mini
${extra}---

## Template Variables

- \`{{topic}}\`: what about
- \`{{tone}}\`: (optional) how

## User Prompt

Write about {{topic}}{% if tone %} in a {{tone}} tone{% endif %}.

## Output Validation

${output}
`);
}

describe('variables', () => {
  it('--var KEY=VALUE, KEY=@file (last newline dropped), KEY=@@literal; every malformed flag at once', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'x.ts'), 'const a = 1;\n');
    expect(parseVarFlags(['a=1', 'code=@x.ts', 'at=@@home', 'e='], dir)).toEqual({
      a: '1',
      code: 'const a = 1;',
      at: '@home',
      e: '',
    });
    writeFileSync(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]));
    mkdirSync(join(dir, 'src'));
    try {
      parseVarFlags(['novalue', 'f=@missing.ts', 'g=@', 'img=@logo.png', 'd=@src'], dir);
      expect.unreachable();
    } catch (e) {
      expect((e as StratumError).code).toBe('usage');
      expect((e as StratumError).details).toEqual({
        problems: [
          '--var novalue: expected KEY=VALUE (or KEY=@file)',
          '--var f=@missing.ts: file missing.ts does not exist',
          '--var g=@: name the file to read after the @',
          '--var img=@logo.png: logo.png is not UTF-8 text (a binary file?): a variable is text in a prompt',
          '--var d=@src: src is a folder: name a file',
        ],
      });
    }
  });

  it('missing and undeclared variables are reported together; optional ones default to empty', () => {
    const agent = agentWith('format: text');
    expect(resolveVars(agent, { topic: 'tides' })).toEqual({ topic: 'tides', tone: '' });
    try {
      resolveVars(agent, { colour: 'red' });
      expect.unreachable();
    } catch (e) {
      expect((e as StratumError).details).toMatchObject({
        problems: [
          "'colour' is not a variable of t (it declares: topic, tone)",
          "'topic' is missing (what about): pass --var topic=…",
        ],
      });
    }
  });

  it('renders the prompts; format json adds the schema to the system prompt', () => {
    const agent = agentWith('format: json\nschema: "{ title: string }"');
    const p = renderPrompts(agent, { topic: 'tides', tone: 'calm' });
    expect(p.user).toBe('Write about tides in a calm tone.');
    expect(p.system).toBe(
      'Answer with a single JSON value only: no prose before or after it, no code fences. It must match this JSON Schema:\n' +
        '{"type":"object","properties":{"title":{"type":"string"}},"required":["title"],"additionalProperties":false}',
    );
  });
});

describe('runAgent: validation and repair', () => {
  const schema = 'format: json\nschema: |\n  { "title": string, "tags": ["a | b"] }';

  it('valid on the first try: one call, the parsed value', async () => {
    const agent = agentWith(schema);
    const caller = scripted(['```json\n{"title": "T", "tags": ["a"], "extra": 1}\n```']);
    const r = await runAgent(agent, renderPrompts(agent, { topic: 'x', tone: '' }), caller);
    expect(r).toMatchObject({ output: { title: 'T', tags: ['a'] }, repairs: 0 });
    expect(caller.requests).toHaveLength(1);
    expect(caller.requests[0]?.json).toBe(true);
  });

  it('invalid, then repaired: the answer and the problems are sent back', async () => {
    const agent = agentWith(schema);
    const caller = scripted(['{"title": 3, "tags": ["c"]}', '{"title": "T", "tags": ["b"]}']);
    const r = await runAgent(agent, renderPrompts(agent, { topic: 'x', tone: '' }), caller);
    expect(r).toMatchObject({ output: { title: 'T', tags: ['b'] }, repairs: 1 });
    const second = caller.requests[1]?.messages ?? [];
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second[1]?.content).toBe('{"title": 3, "tags": ["c"]}');
    expect(second[2]?.content).toContain('- title: expected string, got number 3');
    expect(second[2]?.content).toContain('- tags[0]: expected "a" or "b", got string "c"');
  });

  it('never valid: exit 3 naming the last problems, after 1 + max_repairs calls', async () => {
    const agent = agentWith(`${schema}\nmax_repairs: 2`);
    const caller = scripted(['not json at all', '{"title": 1}', '{"tags": []}']);
    const err = await runAgent(agent, renderPrompts(agent, { topic: 'x', tone: '' }), caller).catch((e) => e);
    expect(err).toBeInstanceOf(StratumError);
    expect(err.code).toBe('validation');
    expect(err.message).toBe('the output of t is still invalid after 3 calls (2 repairs): title: is missing');
    expect(caller.requests).toHaveLength(3);
  });

  it('format text passes through untouched, and a Nickel contract is checked after the schema', async () => {
    const text = agentWith('format: text');
    const r = await runAgent(text, renderPrompts(text, { topic: 'x', tone: '' }), scripted(['Just prose.']));
    expect(r.output).toBe('Just prose.');

    const dir = tmp();
    writeFileSync(join(dir, 'c.ncl'), '{ title | String | std.string.NonEmpty, .. }');
    const src = `---\nname: c\nversion: "1"\nprovider: openai\nmodel: gpt-4o-mini\n---\n\n## User Prompt\n\nGo.\n\n## Output Validation\n\nformat: json\nschema: "{ title: string }"\ncontract: nickel://c.ncl\n`;
    writeFileSync(join(dir, 'c.agent.mdx'), src);
    const agent = parseAgent(src, join(dir, 'c.agent.mdx'));
    const caller = scripted(['{"title": ""}', '{"title": "ok"}']);
    const r2 = await runAgent(agent, renderPrompts(agent, {}), caller);
    expect(r2.output).toEqual({ title: 'ok' });
    expect(caller.requests[1]?.messages[2]?.content).toMatch(/- title: /);
  });
});

describe('typedialog agent run (the real binary, against local servers speaking the providers’ wire formats)', () => {
  // A project dir whose typedialog.toml points both providers at the fake server.
  const llm = llmProjects(
    (url) =>
      `[providers.anthropic]\nbase_url = "${url}"\napi_key_env = "TEST_ANTHROPIC_KEY"\n\n` +
      `[providers.openai]\nbase_url = "${url}/v1"\n\n[llm]\nbackoff_ms = 0\n`,
  );
  async function project(script: (n: number) => Reply) {
    const p = await llm.project(script);
    writeFileSync(join(p.dir, 'x.ts'), 'const out = eval(input);\n');
    const env = { ...p.env, TEST_ANTHROPIC_KEY: 'sk-ant-test-123' };
    return { dir: p.dir, env, costs: join(p.data, 'costs.jsonl'), srv: p.srv };
  }
  const costsOf = (file: string) =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('Anthropic Messages: valid on the first try; the request is the real wire format; the cost is recorded', async () => {
    const p = await project(() => ({ text: VALID, input: 200, output: 60 }));
    const r = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=@x.ts'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(VALID));
    expect(r.stderr).toMatch(
      /^typedialog: code_reviewer: anthropic:claude-sonnet-4-6, 1 call, 200 tokens in \/ 60 out, 0\.15¢ \(recorded in .*costs\.jsonl\)\n$/,
    );
    expect(p.srv.requests).toHaveLength(1);
    const req = p.srv.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe('sk-ant-test-123');
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.body).toMatchObject({ model: 'claude-sonnet-4-6', max_tokens: 4096, temperature: 0.3 });
    expect(req.body.system).toMatch(/^You are an expert code reviewer/);
    expect(req.body.messages).toEqual([
      { role: 'user', content: expect.stringContaining('```ts\nconst out = eval(input);\n```') },
    ]);
    expect(costsOf(p.costs)).toMatchObject([
      {
        role: 'code-reviewer',
        taskType: 'typedialog:agent:code_reviewer',
        provider: 'anthropic',
        model: 'claude-sonnet-4-6',
        inputTokens: 200,
        outputTokens: 60,
        costMicrocents: 150_000,
        outcome: 'ok',
      },
    ]);
  });

  it('--model: another model of the same provider, or provider:model; an unpriced model is refused before any call', async () => {
    // The third call is served by claude-9 itself (a reply names the model that served it; the cost follows it).
    const p = await project((n) => ({ text: VALID, ...(n === 2 ? { model: 'claude-9' } : {}) }));
    const args = ['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x', '--json'];
    const r = await typedialog([...args, '--model', 'openai:gpt-4o-mini'], { cwd: p.dir, env: p.env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(VALID));
    expect(p.srv.requests[0]?.path).toBe('/v1/chat/completions');
    expect(p.srv.requests[0]?.body.model).toBe('gpt-4o-mini');
    const h = await typedialog([...args, '--model', 'claude-haiku-4-5'], { cwd: p.dir, env: p.env });
    expect(h.code, h.stderr).toBe(0);
    expect(p.srv.requests[1]?.body.model).toBe('claude-haiku-4-5');
    const u = await typedialog(
      ['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x', '--model', 'claude-9'],
      {
        cwd: p.dir,
        env: p.env,
      },
    );
    expect(u.code).toBe(5);
    expect(u.stderr).toContain('no target of the route has a price entry');
    expect(u.stderr).toContain('add a [[prices]] entry for anthropic:claude-9 to typedialog.toml');
    expect(p.srv.requests).toHaveLength(2);
    // Priced in typedialog.toml, as in vapora.toml: callable, and the cost follows that price.
    appendFileSync(
      join(p.dir, 'typedialog.toml'),
      '\n[[prices]]\nprovider = "anthropic"\nmodel = "claude-9"\ninput = 10\noutput = 20\n',
    );
    const priced = await typedialog(
      ['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x', '--model', 'claude-9'],
      { cwd: p.dir, env: p.env },
    );
    expect(priced.code, priced.stderr).toBe(0);
    expect(p.srv.requests[2]?.body.model).toBe('claude-9');
    // 120 tokens in at $10/M and 40 out at $20/M: $0.002, 0.2¢.
    expect(costsOf(p.costs).at(-1)).toMatchObject({ model: 'claude-9', costMicrocents: 200_000 });
  });

  it('an OpenAI agent: json mode asked, invalid then repaired, both calls recorded', async () => {
    const p = await project((n) => ({ text: n === 0 ? INVALID : VALID }));
    const agent = join(p.dir, 'r.agent.mdx');
    writeFileSync(
      agent,
      readFileSync(reviewer, 'utf8').replace(
        'provider: anthropic\nmodel: claude-sonnet-4-6',
        'provider: openai\nmodel: gpt-4o-mini',
      ),
    );
    const r = await typedialog(['agent', 'run', agent, '--var', 'language=ts', '--var', 'code=x', '--json'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(VALID));
    expect(p.srv.requests.map((q) => q.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    const second = p.srv.requests[1]!.body;
    expect(second.response_format).toEqual({ type: 'json_object' });
    const msgs = second.messages as { role: string; content: string }[];
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(msgs[3]?.content).toContain(
      '- issues[0].severity: expected "critical" or "warning" or "info", got string "fatal"',
    );
    expect(msgs[3]?.content).toContain('- issues[0].line: expected number, got string "1"');
    expect(msgs[3]?.content).toContain('- issues[0].suggestion: is missing');
    expect(costsOf(p.costs).map((c) => [c.provider, c.outcome])).toEqual([
      ['openai', 'ok'],
      ['openai', 'ok'],
    ]);
  });

  it('never valid: exit 3 naming the last errors, nothing on stdout, every call recorded', async () => {
    const p = await project(() => ({ text: INVALID }));
    const out = join(p.dir, 'review.json');
    const r = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x', '-o', out], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('typedialog: the output of code_reviewer is still invalid after 2 calls (1 repair)');
    expect(r.stderr).toContain(
      '  - issues[0].severity: expected "critical" or "warning" or "info", got string "fatal"',
    );
    expect(p.srv.requests).toHaveLength(2);
    expect(existsSync(out)).toBe(false);
    expect(costsOf(p.costs)).toHaveLength(2);
  });

  it('--dry-run: the rendered prompts, the model and the budget state, and no call', async () => {
    const p = await project(() => ({ text: VALID }));
    const r = await typedialog(['agent', 'run', reviewer, '--var', 'language=go', '--var', 'code=x', '--dry-run'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'model     anthropic:claude-sonnet-4-6 (agent code_reviewer), max_tokens 4096, temperature 0.3',
    );
    expect(r.stdout).toContain('budget    code-reviewer: normal; month unlimited, week unlimited');
    expect(r.stdout).toContain('--- user prompt ---\nReview this go code:\n\n```go\nx\n```');
    const j = await typedialog(
      ['agent', 'run', reviewer, '--var', 'language=go', '--var', 'code=x', '--dry-run', '--json'],
      {
        cwd: p.dir,
        env: p.env,
      },
    );
    expect(JSON.parse(j.stdout)).toMatchObject({
      dryRun: true,
      target: 'anthropic:claude-sonnet-4-6',
      budget: { role: 'code-reviewer', state: 'normal' },
      maxCalls: 2,
      variables: { language: 'go', code: 'x', guidelines: '' },
    });
    expect(p.srv.requests).toHaveLength(0);
    expect(existsSync(p.costs)).toBe(false);
  });

  it('a missing or undeclared variable is exit 2 before any call; no API key for the real API is exit 5 before any call', async () => {
    const p = await project(() => ({ text: VALID }));
    const r = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'colour=red'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "  - variable 'colour' is not a variable of code_reviewer (it declares: language, code, guidelines)",
    );
    expect(r.stderr).toContain("  - variable 'code' is missing (Code to review): pass --var code=…");
    const home = tmp();
    const nokey = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x'], {
      cwd: home,
      env: { TYPEDIALOG_DATA_DIR: join(home, 'data') },
    });
    expect(nokey.code).toBe(5);
    expect(nokey.stderr).toContain('no API key for anthropic: set ANTHROPIC_API_KEY');
    expect(p.srv.requests).toHaveLength(0);
  });

  it('variables from a form: an answers file, or piped answers through the cli backend', async () => {
    const p = await project(() => ({ text: VALID }));
    writeFileSync(join(p.dir, 'vars.yaml'), 'language: rust\ncode: "fn main() {}"\n');
    const a = await typedialog(['agent', 'run', reviewer, '--form', reviewForm, '--answers', 'vars.yaml', '--json'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(a.code, a.stderr).toBe(0);
    const m1 = (p.srv.requests[0]!.body.messages as { content: string }[])[0]?.content;
    expect(m1).toContain('```rust\nfn main() {}\n```');
    const b = await typedialog(['agent', 'run', reviewer, '--form', reviewForm, '--backend', 'cli'], {
      cwd: p.dir,
      env: p.env,
      input: 'Python\nprint(1)\nPEP 8\n',
    });
    expect(b.code, b.stderr).toBe(0);
    const m2 = (p.srv.requests[1]!.body.messages as { content: string }[])[0]?.content;
    expect(m2).toContain('```python\nprint(1)\n```\n\nProject guidelines:\n\nPEP 8');
  });

  it('with a .vapora/vapora.toml: its providers and budgets apply and the cost lands in its store', async () => {
    const server = await llm.serve(() => ({ text: VALID, input: 1000, output: 200 }));
    const dir = tmp();
    mkdirSync(join(dir, '.vapora'));
    const vapora = (budget: string) =>
      writeFileSync(
        join(dir, '.vapora', 'vapora.toml'),
        `[providers.anthropic]\nbase_url = "${server.url}"\n\n[routing]\nbackoff_ms = 0\n${budget}`,
      );
    vapora('');
    const env = { TYPEDIALOG_DATA_DIR: join(dir, 'td'), VAPORA_DATA_DIR: join(dir, 'vd') };
    const r = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x'], {
      cwd: dir,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/0\.60¢ \(recorded in vapora's store .*vapora\.db\)/);
    expect(existsSync(join(dir, '.vapora', 'vapora.db'))).toBe(true);
    expect(existsSync(join(dir, 'td', 'costs.jsonl'))).toBe(false);

    vapora('\n[budgets.code-reviewer]\nmonthly = 0\non_exceeded = "block"\n');
    const blocked = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x'], {
      cwd: dir,
      env,
    });
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toContain('code-reviewer cannot call an LLM: budget exceeded');
    const dry = await typedialog(['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x', '--dry-run'], {
      cwd: dir,
      env,
    });
    expect(dry.stdout).toMatch(/budget {4}code-reviewer: exceeded; month 0\.60¢ of 0\.00¢/);
    expect(dry.stdout).toContain(`settings  ${join(dir, '.vapora', 'vapora.toml')} (vapora)`);
    expect(server.requests).toHaveLength(1);
  });
});

describe('typedialog agent run with a vapora routing rule', () => {
  it('a [[routing.rules]] entry matching typedialog:agent:<name> wins over the frontmatter; vapora costs shows the call', async () => {
    const server = await fakeLlm(() => ({ text: VALID, input: 300, output: 100 }));
    try {
      const dir = tmp();
      mkdirSync(join(dir, '.vapora'));
      writeFileSync(
        join(dir, '.vapora', 'vapora.toml'),
        `[providers.openai]\nbase_url = "${server.url}/v1"\n\n[routing]\nbackoff_ms = 0\n\n` +
          '[[routing.rules]]\npattern = "^typedialog:agent:code_"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n',
      );
      const env = { VAPORA_DATA_DIR: join(dir, 'vd'), TYPEDIALOG_DATA_DIR: join(dir, 'td') };
      const args = ['agent', 'run', reviewer, '--var', 'language=ts', '--var', 'code=x'];
      const dry = await typedialog([...args, '--dry-run'], { cwd: dir, env });
      expect(dry.stdout).toContain('model     openai:gpt-4o-mini (rule 1 /^typedialog:agent:code_/)');
      expect(server.requests).toHaveLength(0);
      const r = await typedialog(args, { cwd: dir, env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(VALID));
      expect(server.requests.map((q) => [q.path, q.body.model])).toEqual([['/v1/chat/completions', 'gpt-4o-mini']]);
      const costs = await runBin('vapora', ['costs', '--by', 'task-type', '--json'], {
        cwd: dir,
        env: { ...sandbox().env, ...env },
      });
      expect(costs.code, costs.stderr).toBe(0);
      expect(JSON.parse(costs.stdout).costs).toEqual([
        expect.objectContaining({
          key: 'typedialog:agent:code_reviewer',
          calls: 1,
          input_tokens: 300,
          output_tokens: 100,
        }),
      ]);
    } finally {
      await server.close();
    }
  });
});

// The wire helpers are part of the fake server's contract: keep them exercised.
it('wire shapes', () => {
  expect(wire.anthropic('x').content).toEqual([{ type: 'text', text: 'x' }]);
  expect(wire.openai('x').choices[0]?.message.content).toBe('x');
});
