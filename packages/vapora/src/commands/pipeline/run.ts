import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Run a pipeline: steps by role, each passing its output on',
  spec: 'VP7',
  description: 'A failed step runs the rollback steps; Security steps can block the pipeline.',
  args: {
    pipeline: Args.string({ description: 'pipeline file (instead of --steps)' }),
  },
  flags: {
    steps: Flags.string({
      description: 'roles in order, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
      helpValue: '<role,...>',
    }),
    project: Flags.string({ description: 'project id or name', char: 'p', helpValue: '<project>' }),
    input: Flags.string({ description: 'input of the first step, or - for stdin' }),
  },
  examples: [
    '<%= config.bin %> pipeline run --steps architect,developer,code-reviewer,tester --input "Add rate limiting to the API"',
    '<%= config.bin %> pipeline run pipelines/release.toml --project web-shop',
  ],
});
