import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Initialize the vault: split a new root key into unseal key shares',
  spec: 'SV1',
  description:
    "Generates a 256-bit root key, splits it with Shamir's secret sharing into --shares keys of which any --threshold unseal the vault, and prints the keys and a root token once. Refuses to run on a vault that is already initialized.",
  flags: {
    shares: Flags.integer({ description: 'number of unseal key shares', default: 5, min: 1 }),
    threshold: Flags.integer({ description: 'shares needed to unseal', default: 3, min: 1 }),
  },
  examples: [
    '<%= config.bin %> operator init --shares 5 --threshold 3',
    '<%= config.bin %> operator init --shares 1 --threshold 1 --json',
  ],
});
