import * as Flags from '@oclif/core/flags';
import { VaporaCommand } from '../../cli/base.js';
import { roleFlag } from '../../cli/flags.js';
import { PROVIDERS } from '../../core/model.js';

export default class AgentAdd extends VaporaCommand<typeof AgentAdd> {
  static override summary = 'Register an agent with a role and an LLM provider (or a command)';
  static override description =
    "An agent has one of the twelve roles; it decides which tasks it is assigned and which budget it spends. Without --provider/--model it takes the role's default route. An exec agent runs a command template ({{payload.x}}, {{task.id}}), without a shell.";
  static override aliases = ['agent:register'];
  static override flags = {
    role: roleFlag('role', true),
    name: Flags.string({ description: 'agent id (default: generated from the role)', helpValue: '<id>' }),
    provider: Flags.string({ description: "LLM provider (default: the role's)", options: [...PROVIDERS] }),
    model: Flags.string({ description: "model (default: the role's)" }),
    command: Flags.string({ description: 'command template for the exec provider', helpValue: '<template>' }),
    capacity: Flags.integer({ description: 'tasks at the same time', default: 1, min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> agent add --role devops --provider anthropic --model claude-sonnet-4-6',
    "<%= config.bin %> agent add --role monitor --provider exec --command 'scripts/check.sh {{payload.host}}'",
  ];

  async run() {
    const service = await this.api();
    const f = this.flags;
    const a = await service.addAgent({
      role: f.role,
      ...(f.name ? { id: f.name } : {}),
      ...(f.provider ? { provider: f.provider } : {}),
      ...(f.model ? { model: f.model } : {}),
      ...(f.command ? { command: f.command } : {}),
      capacity: f.capacity,
    });
    this.log(
      `agent ${a.id} (${a.role}, ${a.provider}${a.provider === 'exec' ? ` '${a.model}'` : ` ${a.model}`}) registered`,
    );
    for (const w of a.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    return a;
  }
}
