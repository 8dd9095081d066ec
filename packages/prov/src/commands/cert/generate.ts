import { Flags } from '@oclif/core';
import { planned } from '@stratumiops/shared/cli/command';
import { tool } from '../../tool.js';

export default planned(tool, {
  summary: 'Issue a certificate from svault PKI',
  spec: 'PV12',
  flags: {
    domain: Flags.string({ description: 'common name, e.g. example.com', required: true }),
    engine: Flags.string({ description: 'svault PKI mount', default: 'pki' }),
    role: Flags.string({ description: 'PKI role (default: from config)' }),
    ttl: Flags.string({ description: 'validity, e.g. 720h', helpValue: '<duration>' }),
    out: Flags.string({ description: 'folder to write the certificate and key to', helpValue: '<dir>' }),
  },
  examples: ['<%= config.bin %> cert generate --domain example.com --engine pki'],
});
