/**
 * Running an agent: render its prompts with the variables, call the model through a `Caller` (the LLM layer lives
 * in adapters/), check the output (JSON extracted, then the schema, then the Nickel contract), and when it is
 * invalid send it back with the problems, at most `maxRepairs` times. The result is valid or an exit 3.
 */
import { StratumError } from '@stratumiops/shared/errors';
import nunjucks from 'nunjucks';
import { contractProblems } from './contract.js';
import type { Agent } from './parse.js';
import { extractJson, schemaProblems } from './schema.js';
import type { Vars } from './vars.js';

export interface Message {
  role: 'user' | 'assistant';
  content: string;
}

export interface AgentRequest {
  system: string;
  messages: Message[];
  maxTokens: number;
  temperature?: number | undefined;
  /** Ask the provider for JSON (format: json). */
  json: boolean;
  onDelta?: ((text: string) => void) | undefined;
}

export interface AgentReply {
  text: string;
  /** `provider:model` that answered (the served model). */
  target: string;
  inputTokens: number;
  outputTokens: number;
  costMicrocents: number;
}

/** One model call; the adapter routes it, budgets it and records its cost. */
export interface Caller {
  call(req: AgentRequest): Promise<AgentReply>;
}

export interface Prompts {
  system: string;
  user: string;
}

/** The prompts as sent: variables filled in; for JSON output the system prompt ends with the schema to follow. */
export function renderPrompts(agent: Agent, vars: Vars): Prompts {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  const render = (text: string, label: string) => {
    try {
      return env.renderString(text, vars).trim();
    } catch (e) {
      throw new StratumError('validation', `${agent.name}: ${label} does not render: ${(e as Error).message}`);
    }
  };
  let system = agent.system ? render(agent.system, 'the system prompt') : '';
  const user = render(agent.user, 'the user prompt');
  const rule = outputRule(agent);
  if (rule) system = system ? `${system}\n\n${rule}` : rule;
  return { system, user };
}

function outputRule(agent: Agent): string | undefined {
  const o = agent.output;
  if (o.format !== 'json') return undefined;
  const base = 'Answer with a single JSON value only: no prose before or after it, no code fences.';
  if (!o.jsonSchema) return base;
  return `${base} It must match this JSON Schema:\n${JSON.stringify(o.jsonSchema)}`;
}

export type Checked = { ok: true; value: unknown } | { ok: false; problems: string[] };

/** The output checked as the agent declares: JSON found, the schema, then the contract. */
export async function checkOutput(agent: Agent, text: string): Promise<Checked> {
  const o = agent.output;
  if (o.format !== 'json') return { ok: true, value: text };
  const found = extractJson(text);
  if (!found.ok) return { ok: false, problems: [found.problem] };
  let value = found.value;
  if (o.zod) {
    const r = schemaProblems(o.zod, value);
    if (!r.ok) return r;
    value = r.value;
  }
  if (o.contractPath) {
    const problems = await contractProblems(value, o.contractPath, agent.dir);
    if (problems.length > 0) return { ok: false, problems };
  }
  return { ok: true, value };
}

export function repairPrompt(agent: Agent, problems: string[]): string {
  const lines = [
    'Your answer does not match the required output:',
    ...problems.map((p) => `- ${p}`),
    '',
    'Answer again with the corrected JSON value only, no prose and no code fences.',
  ];
  if (agent.output.jsonSchema) lines.push('The JSON Schema:', JSON.stringify(agent.output.jsonSchema));
  return lines.join('\n');
}

export interface AgentResult {
  /** The validated output: the parsed JSON value, or the text for format text/markdown. */
  output: unknown;
  /** The model's last answer as text. */
  text: string;
  calls: AgentReply[];
  repairs: number;
}

export async function runAgent(
  agent: Agent,
  prompts: Prompts,
  caller: Caller,
  opts: { onDelta?: (text: string) => void; maxRepairs?: number } = {},
): Promise<AgentResult> {
  const maxRepairs = opts.maxRepairs ?? agent.output.maxRepairs;
  const messages: Message[] = [{ role: 'user', content: prompts.user }];
  const calls: AgentReply[] = [];
  let problems: string[] = [];
  for (let attempt = 0; attempt <= maxRepairs; attempt++) {
    const reply = await caller.call({
      system: prompts.system,
      messages: [...messages],
      maxTokens: agent.maxTokens,
      temperature: agent.temperature,
      json: agent.output.format === 'json',
      onDelta: opts.onDelta,
    });
    calls.push(reply);
    const checked = await checkOutput(agent, reply.text);
    if (checked.ok) return { output: checked.value, text: reply.text, calls, repairs: attempt };
    problems = checked.problems;
    messages.push({ role: 'assistant', content: reply.text }, { role: 'user', content: repairPrompt(agent, problems) });
  }
  const last = calls.at(-1)?.text ?? '';
  const n = calls.length;
  const title = `the output of ${agent.name} is still invalid after ${n} call${n === 1 ? '' : 's'} (${maxRepairs} repair${maxRepairs === 1 ? '' : 's'})`;
  throw new StratumError('validation', `${title}: ${problems.join('; ')}`, {
    hint: 'make the prompt clearer about the output, raise max_repairs under ## Output Validation, or try another model',
    details: {
      problems,
      calls: calls.map((c) => ({ target: c.target, costMicrocents: c.costMicrocents })),
      output: last.length > 2000 ? `${last.slice(0, 2000)}…` : last,
    },
    display: [`typedialog: ${title}`, ...problems.map((p) => `  - ${p}`)].join('\n'),
  });
}
