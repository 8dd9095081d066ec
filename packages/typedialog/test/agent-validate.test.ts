import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StratumError } from '@stratumiops/shared/errors';
import { describe, expect, it } from 'vitest';
import { type AgentIssue, parseAgent } from '../src/core/agent/parse.js';
import {
  extractJson,
  parseSchema,
  SchemaSyntaxError,
  schemaProblems,
  toJsonSchema,
  toZod,
} from '../src/core/agent/schema.js';
import { repo, tmp, typedialog } from './helpers.js';

const reviewer = join(repo, 'examples', 'agents', 'code_reviewer.agent.mdx');

const GOOD = `---
name: summarizer
version: "1.0"
provider: openai
model: gpt-4o-mini
---

## User Prompt

Summarise {{text}}.

## Template Variables

- \`{{text}}\`: the text
`;

function issuesOf(text: string): AgentIssue[] {
  try {
    parseAgent(text, 'a.agent.mdx');
  } catch (e) {
    if (e instanceof StratumError) return (e.details as { issues: AgentIssue[] }).issues;
    throw e;
  }
  throw new Error('expected the agent to be refused');
}

describe('the compact schema notation', () => {
  it('reads the compact schema: objects, arrays, enums in quotes, bare types', () => {
    const node = parseSchema(`{
      "issues": [{ "severity": "critical | warning | info", "line": number, "message": string }],
      "summary": string,
    }`);
    const schema = toZod(node);
    const ok = { issues: [{ severity: 'warning', line: 3, message: 'm' }], summary: 's' };
    expect(schemaProblems(schema, ok)).toEqual({ ok: true, value: ok });
    const bad = schemaProblems(schema, { issues: [{ severity: 'fatal', line: '3' }] });
    expect(bad).toEqual({
      ok: false,
      problems: [
        'issues[0].severity: expected "critical" or "warning" or "info", got string "fatal"',
        'issues[0].line: expected number, got string "3"',
        'issues[0].message: is missing',
        'summary: is missing',
      ],
    });
    expect(toJsonSchema(node)).toMatchObject({
      type: 'object',
      required: ['issues', 'summary'],
      properties: {
        issues: { type: 'array', items: { properties: { severity: { enum: ['critical', 'warning', 'info'] } } } },
      },
    });
  });

  it('optional keys, bare keys, unions with null, integer, comments; extra keys are dropped', () => {
    const schema = toZod(parseSchema('{ name: string, age?: integer, "tag"?: string | null // comment\n }'));
    expect(schemaProblems(schema, { name: 'a', tag: null, extra: 1 })).toEqual({
      ok: true,
      value: { name: 'a', tag: null },
    });
    expect(schemaProblems(schema, { name: 'a', age: 1.5 })).toEqual({
      ok: false,
      problems: ['age: expected an integer, got number 1.5'],
    });
  });

  it('syntax errors carry their line and column', () => {
    const err = (s: string) => {
      try {
        parseSchema(s);
      } catch (e) {
        if (e instanceof SchemaSyntaxError) return `${e.line}:${e.column} ${e.message}`;
        throw e;
      }
      return 'parsed';
    };
    expect(err('{\n  "a": strin\n}')).toMatch(/^2:8 unknown type 'strin'/);
    expect(err('{ "a": string')).toBe("1:14 expected ',' or '}', found the end");
    expect(err('{ "a" string }')).toBe("1:7 expected ':', found 'string'");
    expect(err('{ "a": [] }')).toMatch(/needs its item type/);
    expect(err('{ "a": string, "a": number }')).toMatch(/key 'a' appears twice/);
    expect(err('')).toMatch(/empty/);
  });

  it('finds the JSON in an answer: bare, fenced, or inside prose', () => {
    expect(extractJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(extractJson('Here you go:\n```json\n{"a": 2}\n```\nThanks')).toEqual({ ok: true, value: { a: 2 } });
    expect(extractJson('The result is {"a": 3}.')).toEqual({ ok: true, value: { a: 3 } });
    expect(extractJson('no json here')).toEqual({ ok: false, problem: 'the answer contains no JSON object' });
    expect(extractJson('{"a": }')).toMatchObject({ ok: false, problem: expect.stringMatching(/not valid JSON/) });
  });
});

describe('parseAgent', () => {
  it('parses the agent format: frontmatter, the four sections, variables, output schema', () => {
    const a = parseAgent(GOOD, 'a.agent.mdx');
    expect(a).toMatchObject({
      name: 'summarizer',
      version: '1.0',
      provider: 'openai',
      model: 'gpt-4o-mini',
      maxTokens: 1024,
      role: 'developer',
      user: 'Summarise {{text}}.',
      variables: [{ name: 'text', description: 'the text', optional: false, line: 14 }],
      output: { format: 'text', maxRepairs: 1 },
    });
    expect(a.userLine).toBe(10);
  });

  it('accepts the provider name "claude" as anthropic, and headings inside code blocks are prompt text', () => {
    const text = GOOD.replace('provider: openai', 'provider: claude').replace(
      'Summarise {{text}}.',
      'Summarise {{text}}.\n\n```md\n## Not a section\n```',
    );
    const a = parseAgent(text);
    expect(a.provider).toBe('anthropic');
    expect(a.user).toContain('## Not a section');
  });

  it('reports every problem at once, each with its line', () => {
    const text = `---
name: 9bad
version: 1.0
provider: claud
model: x
temperature: 3
colour: red
---

## System Prompt

Hello {{who}}

## Template Variables

- \`{{code}}\`: code
- \`{{unused}}\`: never used
- nonsense here

## Extra

## User Prompt

Review {{ code }} {% if x %}

## Output Validation

format: json
schema: |
  {
    "a": strin,
  }
max_repair: 2
`;
    expect(issuesOf(text).map((i) => `${i.line}: ${i.message}`)).toEqual([
      "2: frontmatter: 'name' must start with a letter and use letters, digits, _ and -",
      '3: frontmatter: \'version\' must be a string, not 1 (quote it: version: "1.0")',
      "4: frontmatter: unknown provider 'claud' (expected one of anthropic, openai, gemini, ollama)",
      "6: frontmatter: 'temperature' must be at most 2",
      "7: frontmatter: unknown key 'colour' (expected name, version, description, provider, model, temperature, max_tokens, role)",
      '12: variable \'who\' is used but not declared: add "- `{{who}}`: description" to ## Template Variables',
      "17: variable 'unused' is declared but no prompt uses it",
      '18: expected a variable as "- `{{name}}`: description"',
      "20: unknown section '## Extra' (expected System Prompt, Template Variables, User Prompt, Output Validation)",
      '24: User Prompt: template syntax: parseIf: expected elif, else, or endif, got end of file',
      '24: variable \'x\' is used but not declared: add "- `{{x}}`: description" to ## Template Variables',
      '31: Output Validation: schema: unknown type \'strin\' (expected string, number, integer, boolean, null, any, object, "a | b", {…} or [...]) (column 8)',
      "33: Output Validation: unknown key 'max_repair' (expected format, schema, contract, max_repairs)",
    ]);
  });

  it('missing frontmatter keys, no user prompt, a schema without format json, an unclosed code block', () => {
    const text = '---\nname: a\n---\n\n## System Prompt\n\nHi\n\n## Output Validation\n\nschema: "string"\n';
    expect(issuesOf(text).map((i) => `${i.line}: ${i.message}`)).toEqual([
      "1: frontmatter: 'version' is missing",
      "1: frontmatter: 'provider' is missing",
      "1: frontmatter: 'model' is missing",
      '11: Output Validation: a schema or contract needs format: json',
      "0: no '## User Prompt' section: it is the message sent to the model",
    ]);
    expect(issuesOf(`${GOOD}\n\`\`\`\nopen\n`)).toContainEqual({
      line: 16,
      message: 'the code block opened here (```) is never closed',
    });
    expect(issuesOf('just text')[0]).toEqual({
      line: 1,
      message: "the file must start with YAML frontmatter between '---' lines (name, version, provider, model, ...)",
    });
  });

  it('a contract must be nickel:// and exist', () => {
    const dir = tmp();
    const file = join(dir, 'x.agent.mdx');
    const text = `${GOOD}\n## Output Validation\n\nformat: json\ncontract: nickel://missing.ncl\n`;
    writeFileSync(file, text);
    expect(issuesOf(text.replace('a.agent.mdx', file))).toHaveLength(1);
    try {
      parseAgent(text, file);
    } catch (e) {
      expect((e as StratumError).details).toMatchObject({
        issues: [{ line: 19, message: `Output Validation: contract file missing.ncl not found (relative to ${dir})` }],
      });
    }
    expect(issuesOf(text.replace('nickel://missing.ncl', 'missing.ncl'))).toEqual([
      { line: 19, message: 'Output Validation: expected contract: nickel://path/to/contract.ncl' },
    ]);
  });
});

describe('typedialog agent validate (the real binary)', () => {
  it('accepts the example agent', async () => {
    const r = await typedialog(['agent', 'validate', reviewer]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^ok {4}.*code_reviewer 1\.0, anthropic:claude-sonnet-4-6, 3 variables, output json \(schema\)\n$/,
    );
    const j = await typedialog(['agent', 'validate', reviewer, '--json']);
    const doc = JSON.parse(j.stdout);
    expect(doc).toMatchObject({
      name: 'code_reviewer',
      role: 'code-reviewer',
      variables: [{ name: 'language' }, { name: 'code' }, { name: 'guidelines', optional: true }],
      output: { format: 'json', maxRepairs: 1, schema: { type: 'object', required: ['issues', 'summary'] } },
      valid: true,
    });
  });

  it('exit 3 listing every problem with file:line; --json puts them under details; a missing file is exit 4', async () => {
    const dir = tmp();
    const file = join(dir, 'bad.agent.mdx');
    writeFileSync(file, GOOD.replace('{{text}}.', '{{text}} {{tone}}.').replace('model: gpt-4o-mini\n', ''));
    const r = await typedialog(['agent', 'validate', file]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}:1: frontmatter: 'model' is missing`);
    expect(r.stderr).toContain(`${file}:9: variable 'tone' is used but not declared`);
    const j = await typedialog(['agent', 'validate', file, '--json']);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout).error.details.issues).toHaveLength(2);
    const missing = await typedialog(['agent', 'validate', join(dir, 'nope.agent.mdx')]);
    expect(missing.code).toBe(4);
  });

  it('several files and folders (every .agent.mdx below a folder): a line each, exit 3 naming the wrong ones', async () => {
    const examples = await typedialog(['agent', 'validate', join(repo, 'examples', 'agents')]);
    expect(examples.code, examples.stderr).toBe(0);
    expect(examples.stdout.match(/^ok {4}/gm)).toHaveLength(2);
    expect(examples.stdout).toContain('cluster_drafter.agent.mdx: cluster_drafter');

    const dir = tmp();
    mkdirSync(join(dir, 'team'));
    writeFileSync(join(dir, 'good.agent.mdx'), GOOD);
    writeFileSync(join(dir, 'team', 'bad.agent.mdx'), GOOD.replace('model: gpt-4o-mini\n', ''));
    writeFileSync(join(dir, 'notes.md'), '# not an agent\n');
    const r = await typedialog(['agent', 'validate', dir, reviewer]);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`ok    ${join(dir, 'good.agent.mdx')}: summarizer 1.0`);
    expect(r.stdout).toContain(`ok    ${reviewer}: code_reviewer 1.0`);
    expect(r.stderr).toContain('typedialog: 1 of 3 agents is invalid');
    expect(r.stderr).toContain(`  ${join(dir, 'team', 'bad.agent.mdx')}:1: frontmatter: 'model' is missing`);
    expect(r.stderr).not.toContain('notes.md');
    const j = await typedialog(['agent', 'validate', dir, '--json']);
    expect(j.code).toBe(3);
    expect(JSON.parse(j.stdout).error.details.agents).toMatchObject([
      { file: join(dir, 'good.agent.mdx'), valid: true, name: 'summarizer' },
      { file: join(dir, 'team', 'bad.agent.mdx'), valid: false, issues: [{ line: 1 }] },
    ]);
    const empty = tmp();
    const none = await typedialog(['agent', 'validate', empty]);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain(`no .agent.mdx files in ${empty}`);
  });
});
