import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand } from '../../cli/base.js';

export default class PolicyWrite extends ClientCommand<typeof PolicyWrite> {
  static override summary = 'Create or replace a policy (Cedar, or Vault HCL/JSON)';
  static override description = [
    'The file holds either Cedar statements over principal (Svault::Token), action (Svault::Action::"read",',
    '"create", "update", "delete", "list", "sudo") and resource (Svault::Path), or a Vault ACL policy in',
    'HCL or JSON (path "secret/data/*" { capabilities = ["read"] }), as Vault has it. A policy applies to',
    'the tokens that carry its name; a request is allowed when one of their policies allows it and none',
    "denies it. A policy that does not parse is refused with the parser's message (exit 3) and nothing",
    'changes. See examples/svault/ for policies to start from.',
  ].join(' ');
  static override args = {
    name: Args.string({ description: 'policy name', required: true }),
    file: Args.string({ description: 'policy file (.cedar, .hcl or .json), or - for stdin', required: true }),
  };
  static override examples = [
    '<%= config.bin %> policy write app-read policies/app-read.cedar',
    '<%= config.bin %> policy write ops - < ops.cedar',
    '<%= config.bin %> policy write ci-deploy ci-deploy.hcl',
  ];

  async run() {
    let text: string;
    try {
      text = readFileSync(this.args.file === '-' ? 0 : this.args.file, 'utf8');
    } catch (e) {
      throw usageError(`cannot read ${this.args.file}: ${(e as Error).message}`);
    }
    await this.client().policyWrite(this.args.name, text);
    if (!this.jsonEnabled()) this.log(`Success! Uploaded policy: ${this.args.name}`);
    return { name: this.args.name.toLowerCase() };
  }
}
