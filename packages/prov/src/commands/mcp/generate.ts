import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { conflictError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../cli/base.js';
import { generateConfig, validateText } from '../../core/assist.js';
import { writeAtomic } from '../../core/workspace.js';

export default class McpGenerate extends ProvCommand<typeof McpGenerate> {
  static override summary = 'Generate a Nickel config from a description';
  static override description =
    "The configured model ([llm] provider and model in prov.toml, or PROV_LLM_PROVIDER / PROV_LLM_MODEL, and the provider's API key) drafts a config; each draft is checked as prov validate checks a file and a rejected one goes back to the model with its errors, at most --max-rounds drafts. Only a config that validated is printed or written (-o, atomically); otherwise exit 3 naming the last problems, and nothing is written. The generate_config tool of prov mcp serve.";
  static override args = {
    description: Args.string({ description: 'what to build', required: true }),
  };
  static override flags = {
    provider: Flags.string({ description: 'provider', options: ['aws', 'upcloud', 'local'] }),
    'resource-type': Flags.string({
      description: 'kind of resource',
      options: ['server', 'network', 'cluster', 'database'],
    }),
    'max-rounds': Flags.integer({
      description: 'drafts the model may make (default: llm.max_rounds)',
      min: 1,
      max: 10,
    }),
    out: Flags.string({ description: 'write the config to this file', char: 'o', helpValue: '<file>' }),
    force: Flags.boolean({ description: 'replace the --out file if it exists' }),
  };
  static override examples = [
    '<%= config.bin %> mcp generate "Create a 3-node K8s cluster with Cilium on UpCloud" -o cluster.ncl',
  ];

  async run() {
    const out = this.flags.out ? resolve(this.flags.out) : undefined;
    if (out && existsSync(out) && !this.flags.force) {
      throw conflictError(`${this.flags.out} exists`, { hint: 'pass --force to replace it, or another -o file' });
    }
    const b = await this.assistBackend();
    const drafter = b.drafter();
    const deps = await b.validation();
    const r = await generateConfig(
      {
        description: this.args.description,
        provider: this.flags.provider,
        resource_type: this.flags['resource-type'],
        maxRounds: this.flags['max-rounds'] ?? b.maxRounds,
      },
      drafter,
      (text) => validateText(deps, text),
    );
    if (out) writeAtomic(out, r.config);
    if (!this.jsonEnabled()) {
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      if (out) this.log(`wrote ${this.flags.out} (valid after ${r.rounds} draft${r.rounds === 1 ? '' : 's'})`);
      else process.stdout.write(r.config);
    }
    return { ...r, ...(out ? { file: this.flags.out } : {}) };
  }
}
