import { Args, Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Issue a certificate and its private key from a role',
  spec: 'SV12',
  args: {
    role: Args.string({ description: 'role name', required: true }),
  },
  flags: {
    'common-name': Flags.string({ description: 'subject common name, e.g. api.example.com', required: true }),
    'alt-names': Flags.string({
      description: 'DNS subject alternative names, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    'ip-sans': Flags.string({
      description: 'IP subject alternative names, comma-separated',
      multiple: true,
      multipleNonGreedy: true,
      delimiter: ',',
    }),
    ttl: Flags.string({ description: 'validity, up to the role max TTL', helpValue: '<duration>' }),
    out: Flags.string({
      description: 'write <prefix>.pem, <prefix>-key.pem and <prefix>-ca.pem instead of printing',
      helpValue: '<prefix>',
    }),
  },
  examples: [
    '<%= config.bin %> pki issue web --common-name api.example.com --ttl 72h',
    '<%= config.bin %> pki issue web --common-name api.example.com --out certs/api',
  ],
});
