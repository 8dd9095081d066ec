import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as Args from '@oclif/core/args';
import { notFoundError, StratumError } from '@stratumiops/shared/errors';
import { TypedialogCommand } from '../../cli/base.js';
import { contractProblemAt } from '../../core/agent/contract.js';
import { type Agent, loadAgent } from '../../core/agent/parse.js';

export default class AgentValidate extends TypedialogCommand<typeof AgentValidate> {
  static override summary = 'Check agent files: frontmatter, sections, variables, output schema';
  static override description =
    'Reports every problem at once, each with its line: frontmatter keys and values (name, version, provider, ' +
    'model, temperature, max_tokens, role), unknown or repeated sections, a missing ## User Prompt, template ' +
    'syntax, variables used in a prompt but not declared under ## Template Variables (and declared but unused), ' +
    'and the ## Output Validation block: format, the schema notation, a nickel:// contract that is missing or ' +
    'does not evaluate. Give several files, or a folder for every .agent.mdx below it. Exit 3 when anything is ' +
    'wrong, 4 when a path does not exist or a folder holds no agent.';
  static override strict = false;
  static override args = {
    agent: Args.string({ description: 'agent files (.agent.mdx) or folders of them', required: true }),
  };
  static override examples = [
    '<%= config.bin %> agent validate examples/agents/code_reviewer.agent.mdx',
    '<%= config.bin %> agent validate agents/    # every .agent.mdx below agents/',
  ];

  async run() {
    const paths = this.positionals;
    const files = paths.flatMap(agentFiles);
    // One file: its document, or its problems as the error (exit 3).
    const [only] = paths;
    if (paths.length === 1 && only !== undefined && files[0] === only) return this.report(await check(only));

    const results: Record<string, unknown>[] = [];
    const failed: StratumError[] = [];
    for (const file of files) {
      try {
        results.push(this.report(await check(file)));
      } catch (e) {
        if (!(e instanceof StratumError) || e.code !== 'validation') throw e;
        failed.push(e);
        results.push({ file, valid: false, issues: e.details?.issues ?? [{ message: e.message }] });
      }
    }
    if (failed.length === 0) return { agents: results, valid: true };
    const title = `${failed.length} of ${files.length} agents ${failed.length === 1 ? 'is' : 'are'} invalid`;
    throw new StratumError('validation', title, {
      details: { agents: results },
      display: [
        `typedialog: ${title}`,
        ...failed.flatMap((e) =>
          (e.display ?? e.message).split('\n').map((l) => `  ${l.replace(/^typedialog: /, '')}`),
        ),
      ].join('\n'),
    });
  }

  /** Prints the ok line of a valid agent (as data for --json). */
  private report(r: { file: string; agent: Agent }): Record<string, unknown> {
    const { file, agent } = r;
    const o = agent.output;
    const what =
      o.format === 'json' ? (o.schema ? 'json (schema)' : o.contract ? `json (${o.contract})` : 'json') : o.format;
    this.log(
      `ok    ${file}: ${agent.name} ${agent.version}, ${agent.provider}:${agent.model}, ` +
        `${agent.variables.length} variable${agent.variables.length === 1 ? '' : 's'}, output ${what}`,
    );
    return {
      file,
      name: agent.name,
      version: agent.version,
      provider: agent.provider,
      model: agent.model,
      role: agent.role,
      maxTokens: agent.maxTokens,
      ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
      variables: agent.variables.map((v) => ({ name: v.name, description: v.description, optional: v.optional })),
      output: {
        format: o.format,
        ...(o.jsonSchema ? { schema: o.jsonSchema } : {}),
        ...(o.contract ? { contract: o.contract } : {}),
        maxRepairs: o.maxRepairs,
      },
      valid: true,
    };
  }
}

/** Parses the agent and evaluates its contract: a valid agent, or a StratumError (exit 3) with every problem. */
async function check(file: string): Promise<{ file: string; agent: Agent }> {
  const agent = loadAgent(file);
  if (agent.output.contractPath) {
    const problem = await contractProblemAt(agent.output.contractPath, agent.dir);
    if (problem) {
      throw new StratumError('validation', `the contract ${agent.output.contract} does not evaluate`, {
        display: `typedialog: ${file}: the contract ${agent.output.contract} does not evaluate\n${problem}`,
      });
    }
  }
  return { file, agent };
}

/** A file as given; a folder as every .agent.mdx below it (dot folders and node_modules left out), sorted. */
function agentFiles(path: string): string[] {
  if (!existsSync(path) || !statSync(path).isDirectory()) return [path];
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(join(dir, e.name));
      else if (e.isFile() && e.name.endsWith('.agent.mdx')) found.push(join(dir, e.name));
    }
  };
  walk(path);
  if (found.length === 0) throw notFoundError(`no .agent.mdx files in ${path}`);
  return found;
}
