import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Submit an unseal key share (progress k of K)',
  spec: 'SV2',
  flags: {
    share: Flags.string({
      description: 'an unseal key share; prompted for (hidden) when omitted',
      helpValue: '<share>',
    }),
    reset: Flags.boolean({ description: 'discard the shares submitted so far' }),
  },
  examples: ['<%= config.bin %> operator unseal', '<%= config.bin %> operator unseal --reset'],
});
