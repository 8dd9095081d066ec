import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../tool.js';

export default planned(tool, {
  summary: 'Check a config against a compliance framework',
  spec: 'PV10',
  description: 'Each finding has a rule id and a fix.',
  args: {
    config: Args.string({ description: 'Nickel config file, e.g. cluster.ncl', required: true }),
  },
  flags: {
    framework: Flags.string({ description: 'framework', options: ['soc2', 'hipaa', 'gdpr', 'pci'], required: true }),
  },
  examples: ['<%= config.bin %> compliance cluster.ncl --framework soc2'],
});
