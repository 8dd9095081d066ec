import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../../tool.js';

export default planned(tool, {
  summary: 'Create or update a role: allowed domains, TTL, key type',
  spec: 'SV12',
  args: {
    name: Args.string({ description: 'role name', required: true }),
  },
  flags: {
    'allowed-domains': Flags.string({
      description: 'domains certificates may name, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    'allow-subdomains': Flags.boolean({ description: 'also allow subdomains of the allowed domains' }),
    'allow-ip-sans': Flags.boolean({ description: 'allow IP subject alternative names' }),
    ttl: Flags.string({ description: 'default validity, e.g. 720h', helpValue: '<duration>' }),
    'max-ttl': Flags.string({ description: 'longest validity a request may ask for', helpValue: '<duration>' }),
    'key-type': Flags.string({
      description: 'key type of issued certificates',
      options: ['rsa', 'ec', 'ed25519', 'ml-dsa-65', 'any'],
      default: 'ec',
    }),
    'key-bits': Flags.integer({ description: 'key size (rsa: 2048-4096, ec: 256 or 384)' }),
  },
  examples: [
    '<%= config.bin %> pki role write web --allowed-domains example.com --allow-subdomains --max-ttl 720h',
    '<%= config.bin %> pki role write pq-web --allowed-domains example.com --key-type ml-dsa-65',
  ],
});
