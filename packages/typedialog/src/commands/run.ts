import { existsSync, statSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { answersFlag, defaultsFlag, formatFlag, localeFlag, TypedialogCommand, webFlags } from '../cli/base.js';
import { emitResult } from '../cli/result.js';
import { parseVarFlags, resolveVars } from '../core/agent/vars.js';
import { type Draft, draftFromOutput } from '../core/ai.js';
import type { FormContext } from '../core/context.js';
import type { Answers } from '../core/engine.js';
import { readText } from '../core/files.js';
import type { OutputFormat } from '../core/form.js';
import type { TypedialogConfig } from '../tool.js';

export default class Run extends TypedialogCommand<typeof Run> {
  static override summary = 'Fill in a form with one of the backends';
  static override description =
    'The same form file drives every backend: tui on a terminal, cli otherwise (one answer per line of stdin). ' +
    'With --answers or --defaults (and no --backend) nothing is asked: every answer is checked and exit 3 lists ' +
    'each failing field. Off a terminal with nothing on stdin: exit 2, naming --answers and --defaults. The result ' +
    'goes to stdout (prompts go to stderr) or to --out.';
  static override args = { form: Args.string({ description: 'form file (TOML)', required: true }) };
  static override flags = {
    backend: Flags.string({
      description:
        'how to ask: tui (on a terminal), cli, web, ai (an LLM drafts the answers from --describe) or agent (the ' +
        'JSON output of --agent drafts them)',
      options: ['cli', 'tui', 'web', 'ai', 'agent', 'prov-gen'],
    }),
    describe: Flags.string({
      description: 'ai: what to fill the form for, in your words (@file reads a file)',
      helpValue: '<text>',
      helpGroup: 'AI',
    }),
    yes: Flags.boolean({
      description: 'ai: accept valid drafts without review (CI); invalid drafts are exit 3',
      helpGroup: 'AI',
    }),
    review: Flags.string({
      description: 'ai: review and edit the drafts in this backend (on a terminal)',
      options: ['tui', 'cli'],
      default: 'tui',
      helpGroup: 'AI',
    }),
    model: Flags.string({
      description: 'ai: the model, as provider:model (default: [ai] model in typedialog.toml)',
      helpValue: '<provider:model>',
      helpGroup: 'AI',
    }),
    agent: Flags.string({
      description: 'agent: the agent (.agent.mdx, format: json) whose output answers the form',
      helpValue: '<file>',
      helpGroup: 'AI',
    }),
    var: Flags.string({
      description: "agent: the agent's variable KEY=VALUE (KEY=@file reads a file; repeatable)",
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
      helpGroup: 'AI',
    }),
    answers: answersFlag,
    defaults: defaultsFlag,
    out: Flags.string({
      description: 'write the result to this file (atomically; owner-only when it holds a password)',
      char: 'o',
      aliases: ['output'],
      helpValue: '<file>',
    }),
    format: formatFlag,
    locale: localeFlag,
    ...webFlags,
  };
  static override examples = [
    '<%= config.bin %> run examples/forms/employee_onboarding.toml',
    '<%= config.bin %> run onboarding.toml --backend web --port 0 --open',
    '<%= config.bin %> run onboarding.toml --answers answers.yaml --out result.json',
    '<%= config.bin %> run onboarding.toml --defaults --format nickel',
    'printf "Ada\\nada@example.com\\n..." | <%= config.bin %> run onboarding.toml --backend cli',
    '<%= config.bin %> run examples/forms/cluster.toml --backend ai --describe "3-node staging cluster in eu-west with postgres"',
    '<%= config.bin %> run cluster.toml --backend ai --describe @request.txt --yes --format nickel',
  ];

  async run() {
    const form = this.loadForm(this.args.form);
    const ctx = this.context(form, this.flags.locale);
    const backend = this.flags.backend;
    const ai = backend === 'ai' || backend === 'agent';
    if (!ai) {
      for (const f of ['describe', 'yes', 'model'] as const) {
        if (this.flags[f]) throw usageError(`--${f} is for the ai and agent backends`, { hint: 'add --backend ai' });
      }
    }
    if (backend !== 'agent' && (this.flags.agent || this.flags.var)) {
      throw usageError(`--${this.flags.agent ? 'agent' : 'var'} is for the agent backend`, {
        hint: 'add --backend agent',
      });
    }
    const session =
      backend === 'ai' ? await this.aiSession() : backend === 'agent' ? await this.agentSession(ctx) : undefined;
    let got: Awaited<ReturnType<typeof this.collect>>;
    try {
      got = await this.collect(ctx, {
        ...(this.flags.backend ? { backend: this.flags.backend } : {}),
        ...(this.flags.answers ? { answers: this.flags.answers } : {}),
        defaults: this.flags.defaults,
        web: { host: this.flags.host, port: this.flags.port, open: this.flags.open, timeoutSec: this.flags.timeout },
        ...(session ? { ai: session.options } : {}),
      });
    } finally {
      await session?.close();
    }
    return emitResult(this, ctx, got.values, {
      format: (this.flags.format ?? form.output.format) as OutputFormat,
      out: this.flags.out,
      via: got.via,
      ignored: got.ignored,
    });
  }

  /** The agent backend: the agent's JSON output (checked by its own schema, with its repairs) drafts the answers. */
  private async agentSession(ctx: FormContext) {
    if (!this.flags.agent)
      throw usageError('the agent backend drafts answers with an agent: pass --agent FILE.agent.mdx');
    // The agent parser and renderer (nunjucks) and the LLM layer load only for the ai and agent backends.
    const { loadAgent } = await import('../core/agent/parse.js');
    const { renderPrompts, runAgent } = await import('../core/agent/run.js');
    const agent = loadAgent(this.flags.agent);
    if (agent.output.format !== 'json') {
      throw usageError(`${this.flags.agent} answers ${agent.output.format}: the agent backend needs format: json`, {
        hint: 'set format: json (and a schema of the form fields) under ## Output Validation',
      });
    }
    if (this.flags.model) {
      const m = /^(anthropic|openai|gemini|ollama):(.+)$/.exec(this.flags.model);
      if (m) agent.provider = m[1] as typeof agent.provider;
      agent.model = m ? (m[2] as string) : this.flags.model;
    }
    const prompts = renderPrompts(agent, resolveVars(agent, parseVarFlags(this.flags.var ?? [])));
    const cfg = this.settings.values as unknown as TypedialogConfig;
    const { openLlm, RouterCaller } = await import('../adapters/llm.js');
    const session = await openLlm({ values: cfg, file: this.settings.files.project });
    const caller = new RouterCaller(session, {
      name: agent.name,
      role: agent.role,
      provider: agent.provider,
      model: agent.model,
      taskType: `typedialog:agent:${agent.name}`,
    });
    const base = await this.draftReporter(session.costs, 'agent');
    return {
      close: () => session.close(),
      options: {
        describe: '',
        caller,
        yes: this.flags.yes,
        review: this.flags.review as 'tui' | 'cli',
        draft: async (given: Answers | undefined) => {
          const r = await runAgent(agent, prompts, caller);
          return draftFromOutput(ctx, r.output, r.calls, given);
        },
        onDraft: base,
      },
    };
  }

  /** What is printed about a draft: how many answers, by which model, at what cost. */
  private async draftReporter(costs: string, who: string) {
    const { formatCents } = await import('@stratumiops/vapora/client/llm');
    const json = this.jsonEnabled();
    return (d: Draft) => {
      if (json) return;
      const cost = d.calls.reduce((n, c) => n + c.costMicrocents, 0);
      const n = d.calls.length;
      const lines = [
        `typedialog: ${who} drafted ${Object.keys(d.answers).length} answers with ${d.calls.at(-1)?.target} ` +
          `(${n} call${n === 1 ? '' : 's'}, ${formatCents(cost)}, recorded in ${costs})` +
          (d.errors.length > 0 ? `; ${d.errors.length} refused by the form` : ''),
      ];
      if (d.unreadable) lines.push(`typedialog: ${who}: ${d.unreadable}: no answer was drafted`);
      if (d.dropped.length > 0) {
        lines.push(
          `typedialog: ${who} answers left out (not fields of the form, or passwords): ${d.dropped.join(', ')}`,
        );
      }
      process.stderr.write(`${lines.join('\n')}\n`);
    };
  }

  /** The ai backend's model call, and what it prints about each draft. */
  private async aiSession() {
    const describe = this.flags.describe;
    if (!describe?.trim()) {
      throw usageError('the ai backend drafts answers from a description: pass --describe TEXT (or --describe @file)');
    }
    let text = describe;
    if (describe.startsWith('@')) {
      const path = describe.slice(1);
      if (!existsSync(path)) throw new StratumError('notFound', `--describe ${describe}: file ${path} does not exist`);
      if (!statSync(path).isFile()) throw usageError(`--describe ${describe}: ${path} is a folder: name a file`);
      const read = readText(path);
      if (read === undefined || !read.trim()) {
        throw usageError(`--describe ${describe}: ${path} ${read === undefined ? 'is not UTF-8 text' : 'is empty'}`, {
          hint: 'describe what to fill the form for, in words',
        });
      }
      text = read;
    }
    const cfg = this.settings.values as unknown as TypedialogConfig;
    const model = this.flags.model ?? cfg.ai.model;
    const m = /^(anthropic|openai|gemini|ollama):(.+)$/.exec(model);
    if (!m) throw usageError(`--model ${model}: expected provider:model, e.g. openai:gpt-4o-mini`);
    const { openLlm, RouterCaller } = await import('../adapters/llm.js');
    const session = await openLlm({ values: cfg, file: this.settings.files.project });
    const caller = new RouterCaller(session, {
      name: 'ai',
      role: cfg.ai.role,
      provider: m[1] as 'anthropic',
      model: m[2] as string,
      taskType: `typedialog:ai:${this.args.form}`,
    });
    return {
      close: () => session.close(),
      options: {
        describe: text,
        caller,
        yes: this.flags.yes,
        repairs: cfg.ai.repairs,
        review: this.flags.review as 'tui' | 'cli',
        onDraft: await this.draftReporter(session.costs, 'ai'),
      },
    };
  }
}
