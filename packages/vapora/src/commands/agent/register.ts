import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { roleFlag } from '../../flags.js';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Register an agent with a role and an LLM provider',
  spec: 'VP1',
  description:
    'An agent has one of the twelve roles; it decides which tasks it is assigned and which budget it spends.',
  flags: {
    role: roleFlag('role', true),
    name: Flags.string({ description: 'agent id (default: generated from the role)' }),
    provider: Flags.string({
      description: "LLM provider (default: the role's)",
      options: ['anthropic', 'openai', 'gemini', 'ollama', 'exec'],
    }),
    model: Flags.string({ description: "model (default: the role's)" }),
  },
  examples: [
    '<%= config.bin %> agent register --role security',
    '<%= config.bin %> agent register --role monitor --provider gemini --model gemini-2.0-flash',
  ],
});
