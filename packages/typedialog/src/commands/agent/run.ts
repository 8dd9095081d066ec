import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { formatCents } from '@stratumiops/vapora/client/llm';
import { openLlm, RouterCaller } from '../../adapters/llm.js';
import { answersFlag, TypedialogCommand, webFlags } from '../../cli/base.js';
import { loadAgent } from '../../core/agent/parse.js';
import { renderPrompts, runAgent } from '../../core/agent/run.js';
import { parseVarFlags, resolveVars, type Vars } from '../../core/agent/vars.js';
import { loadAnswers } from '../../core/answers.js';
import type { TypedialogConfig } from '../../tool.js';

export default class AgentRun extends TypedialogCommand<typeof AgentRun> {
  static override summary = 'Run an MDX agent: fill its variables, call the LLM, validate the output';
  static override description =
    'Variables come from --var (KEY=@file reads a file), an answers file, or a form asked with any backend; a missing ' +
    "or undeclared one is an error before any call. The call goes through vapora's LLM layer: providers, keys and " +
    'prices from the nearest .vapora/vapora.toml (then its routing rules and budgets apply and the cost is recorded ' +
    'in its store) or from typedialog.toml ([providers.<name>] base_url, api_key_env; [[prices]]; costs go to ' +
    "costs.jsonl in typedialog's data dir). With format: json the answer must match the declared schema (and " +
    'contract): an invalid one is sent back with the problems up to max_repairs times (default 1), then exit 3.';
  static override args = {
    agent: Args.string({ description: 'agent file (.agent.mdx)', required: true }),
  };
  static override flags = {
    var: Flags.string({
      description: 'variable KEY=VALUE; KEY=@file reads the file (repeatable; wins over --form and --answers)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<key=value>',
    }),
    form: Flags.string({ description: 'ask for the variables with this form (TOML)', helpValue: '<file>' }),
    backend: Flags.string({
      description: 'with --form: how to ask (tui on a terminal, cli otherwise)',
      options: ['cli', 'tui', 'web'],
    }),
    answers: answersFlag,
    model: Flags.string({
      description: "use this model instead of the frontmatter's (provider:model to change the provider too)",
      helpValue: '<model>',
    }),
    'dry-run': Flags.boolean({
      description: 'show the rendered prompts, the model, and the budget state; call nothing',
    }),
    output: Flags.string({
      description: 'write the result to this file (atomically) instead of stdout',
      char: 'o',
      helpValue: '<file>',
    }),
    ...webFlags,
  };
  static override examples = [
    '<%= config.bin %> agent run examples/agents/code_reviewer.agent.mdx --var language=ts --var code=@src/x.ts',
    '<%= config.bin %> agent run agents/code_reviewer.agent.mdx --form forms/review.toml --backend cli',
    '<%= config.bin %> agent run agents/code_reviewer.agent.mdx --answers vars.yaml --dry-run',
    '<%= config.bin %> agent run agents/code_reviewer.agent.mdx --var code=@x.ts --var language=ts --json > review.json',
  ];

  async run() {
    const agent = loadAgent(this.args.agent);
    if (this.flags.model) {
      const m = /^(anthropic|openai|gemini|ollama):(.+)$/.exec(this.flags.model);
      if (m) {
        agent.provider = m[1] as typeof agent.provider;
        agent.model = m[2] as string;
      } else agent.model = this.flags.model;
    }
    if (this.flags.backend && !this.flags.form) {
      throw usageError('--backend asks a form: pass --form FORM too', { hint: 'or give the variables with --var' });
    }
    // Every source of variables is read before anything is asked or called.
    const fromFlags = parseVarFlags(this.flags.var ?? []);
    let given: Vars = {};
    let source = '--var';
    if (this.flags.form) {
      const form = this.loadForm(this.flags.form);
      const ctx = this.context(form, undefined);
      const got = await this.collect(ctx, {
        ...(this.flags.backend ? { backend: this.flags.backend } : {}),
        ...(this.flags.answers ? { answers: this.flags.answers } : {}),
        web: { host: this.flags.host, port: this.flags.port, open: this.flags.open, timeoutSec: this.flags.timeout },
      });
      const declared = new Set(agent.variables.map((v) => v.name));
      const unused = Object.keys(got.values).filter((k) => !declared.has(k));
      if (unused.length > 0) this.note(`answers the agent does not use: ${unused.join(', ')}`);
      given = Object.fromEntries(Object.entries(got.values).filter(([k]) => declared.has(k)));
      source = `--form ${this.flags.form}`;
    } else if (this.flags.answers) {
      given = loadAnswers(this.flags.answers);
      source = `--answers ${this.flags.answers}`;
    }
    const vars = resolveVars(agent, { ...given, ...fromFlags }, Object.keys(given).length > 0 ? source : '--var');
    const prompts = renderPrompts(agent, vars);

    const session = await openLlm({
      values: this.settings.values as unknown as TypedialogConfig,
      file: this.settings.files.project,
    });
    try {
      const caller = new RouterCaller(session, {
        name: agent.name,
        role: agent.role,
        provider: agent.provider,
        model: agent.model,
        taskType: `typedialog:agent:${agent.name}`,
      });
      if (this.flags['dry-run']) {
        const d = await caller.plan({
          system: prompts.system,
          messages: [{ role: 'user', content: prompts.user }],
          maxTokens: agent.maxTokens,
        });
        const first = d.candidates[0];
        const limit = (p: typeof d.budget.month) =>
          p.limit === null ? 'unlimited' : `${formatCents(p.spent + p.reserved)} of ${formatCents(p.limit)}`;
        const doc = {
          dryRun: true,
          agent: agent.name,
          version: agent.version,
          file: this.args.agent,
          route: d.route.source,
          target: first ? `${first.target.provider}:${first.target.model}` : null,
          maxTokens: d.maxOutputTokens,
          ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
          budget: {
            role: d.role,
            state: d.state,
            reason: d.reason,
            ...(d.blocked ? { blocked: d.blocked } : {}),
            month: { limit: d.budget.month.limit, spent: d.budget.month.spent, reserved: d.budget.month.reserved },
            week: { limit: d.budget.week.limit, spent: d.budget.week.spent, reserved: d.budget.week.reserved },
          },
          estimateMicrocents: first?.estimate ?? null,
          maxCalls: agent.output.format === 'json' ? agent.output.maxRepairs + 1 : 1,
          skipped: d.skipped.map((s) => ({ target: `${s.target.provider}:${s.target.model}`, reason: s.reason })),
          settings: session.file ?? 'defaults',
          costs: session.costs,
          variables: vars,
          system: prompts.system,
          user: prompts.user,
        };
        if (!this.jsonEnabled()) {
          const lines = [
            `agent     ${agent.name} ${agent.version} (${this.args.agent})`,
            `model     ${doc.target ?? 'none'} (${d.route.source}), max_tokens ${d.maxOutputTokens}` +
              (agent.temperature !== undefined ? `, temperature ${agent.temperature}` : ''),
            `budget    ${d.role}: ${d.state}; month ${limit(d.budget.month)}, week ${limit(d.budget.week)} (${d.reason})`,
            ...(d.blocked ? [`blocked   ${d.reason}`] : []),
            ...d.skipped.map((s) => `skipped   ${s.target.provider}:${s.target.model}: ${s.reason}`),
            `estimate  at most ${first ? formatCents(first.estimate) : '?'} per call, ${doc.maxCalls} call${doc.maxCalls === 1 ? '' : 's'} at most`,
            `settings  ${session.source === 'vapora' ? `${session.file} (vapora)` : (session.file ?? 'defaults (no typedialog.toml)')}`,
            '',
            '--- system prompt ---',
            prompts.system || '(none)',
            '--- user prompt ---',
            prompts.user,
          ];
          this.log(lines.join('\n'));
        }
        return doc;
      }

      const stream = process.stdout.isTTY === true && !this.jsonEnabled() && !this.flags.output;
      const onDelta = stream
        ? agent.output.format === 'json'
          ? (t: string) => process.stderr.write(t)
          : (t: string) => process.stdout.write(t)
        : undefined;
      const result = await runAgent(agent, prompts, caller, onDelta ? { onDelta } : {});
      const cost = result.calls.reduce((n, c) => n + c.costMicrocents, 0);
      const tokensIn = result.calls.reduce((n, c) => n + c.inputTokens, 0);
      const tokensOut = result.calls.reduce((n, c) => n + c.outputTokens, 0);
      const n = result.calls.length;
      if (!this.jsonEnabled()) {
        process.stderr.write(
          `${stream && agent.output.format === 'json' ? '\n' : ''}typedialog: ${agent.name}: ${result.calls.at(-1)?.target}, ` +
            `${n} call${n === 1 ? '' : 's'}${result.repairs > 0 ? ` (${result.repairs} repair${result.repairs === 1 ? '' : 's'})` : ''}, ` +
            `${tokensIn} tokens in / ${tokensOut} out, ${formatCents(cost)} (recorded in ${session.costs})\n`,
        );
      }
      const text =
        agent.output.format === 'json' ? `${JSON.stringify(result.output, null, 2)}\n` : `${String(result.output)}\n`;
      if (this.flags.output) {
        writeFileAtomic(this.flags.output, text);
        if (!this.jsonEnabled()) process.stderr.write(`typedialog: wrote ${this.flags.output}\n`);
      } else if (!this.jsonEnabled() && !(stream && agent.output.format !== 'json')) process.stdout.write(text);
      else if (stream) process.stdout.write('\n');
      return agent.output.format === 'json' ? result.output : { text: result.output };
    } finally {
      await session.close();
    }
  }
}
