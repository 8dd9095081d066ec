import { Args } from '@oclif/core';
import { StratumError } from '@stratumiops/shared/errors';
import { TypedialogCommand } from '../../base.js';
import { contractProblemAt } from '../../core/agent/contract.js';
import { loadAgent } from '../../core/agent/parse.js';

export default class AgentValidate extends TypedialogCommand<typeof AgentValidate> {
  static override summary = 'Check an agent file: frontmatter, sections, variables, output schema';
  static override description =
    'Reports every problem at once, each with its line: frontmatter keys and values (name, version, provider, ' +
    'model, temperature, max_tokens, role), unknown or repeated sections, a missing ## User Prompt, template ' +
    'syntax, variables used in a prompt but not declared under ## Template Variables (and declared but unused), ' +
    'and the ## Output Validation block: format, the schema notation, a nickel:// contract that is missing or ' +
    'does not evaluate. Exit 3 when anything is wrong.';
  static override args = { agent: Args.string({ description: 'agent file (.agent.mdx)', required: true }) };
  static override examples = ['<%= config.bin %> agent validate examples/agents/code_reviewer.agent.mdx'];

  async run() {
    const agent = loadAgent(this.args.agent);
    if (agent.output.contractPath) {
      const problem = await contractProblemAt(agent.output.contractPath, agent.dir);
      if (problem) {
        throw new StratumError('validation', `the contract ${agent.output.contract} does not evaluate`, {
          display: `typedialog: ${this.args.agent}: the contract ${agent.output.contract} does not evaluate\n${problem}`,
        });
      }
    }
    const o = agent.output;
    const what =
      o.format === 'json' ? (o.schema ? 'json (schema)' : o.contract ? `json (${o.contract})` : 'json') : o.format;
    this.log(
      `ok    ${this.args.agent}: ${agent.name} ${agent.version}, ${agent.provider}:${agent.model}, ` +
        `${agent.variables.length} variable${agent.variables.length === 1 ? '' : 's'}, output ${what}`,
    );
    return {
      file: this.args.agent,
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
