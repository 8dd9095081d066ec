import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Revoke a token and all its children',
  spec: 'SV5',
  args: {
    token: Args.string({ description: 'token, or accessor with --accessor' }),
  },
  flags: {
    accessor: Flags.boolean({ description: 'the argument is an accessor' }),
    self: Flags.boolean({ description: 'revoke the token in use' }),
    orphan: Flags.boolean({ description: 'revoke only this token; its children become orphans' }),
  },
  examples: [
    '<%= config.bin %> token revoke --accessor 8609694a-cdbc-db9b-d345-e782dbb562ed',
    '<%= config.bin %> token revoke --self',
  ],
});
