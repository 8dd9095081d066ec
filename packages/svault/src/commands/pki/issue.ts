import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { ClientCommand, parsePairs } from '../../cli/base.js';

/** A PEM input given as a file, or `-` for stdin. */
export function readInput(source: string, what: string): string {
  try {
    return readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (e) {
    throw usageError(`cannot read the ${what} from ${source === '-' ? 'stdin' : source}: ${(e as Error).message}`);
  }
}

export interface IssuedData {
  certificate: string;
  issuing_ca: string;
  ca_chain?: string[];
  private_key?: string;
  serial_number: string;
  expiration: number;
}

export const fileFlags = {
  'cert-file': Flags.string({ description: 'write the certificate here instead of printing it', helpValue: '<file>' }),
  'chain-file': Flags.string({ description: 'write the CA chain here (issuing CA first)', helpValue: '<file>' }),
};

/**
 * Writes what the flags ask for, each file whole or not at all (temp file + rename); the private
 * key is created 0600. Returns the files written.
 */
export function writeIssued(data: IssuedData, files: { cert?: string; key?: string; chain?: string }): string[] {
  const out: Array<[string | undefined, string | undefined, number]> = [
    [files.cert, data.certificate, 0o644],
    [files.chain, (data.ca_chain ?? [data.issuing_ca]).join('\n'), 0o644],
    [files.key, data.private_key, 0o600],
  ];
  const written: string[] = [];
  for (const [path, text, mode] of out) {
    if (!path || text === undefined) continue;
    writeFileAtomic(path, `${text.trim()}\n`, mode);
    written.push(path);
  }
  return written;
}

export function summary(data: IssuedData): string {
  return `serial ${data.serial_number}, expires ${new Date(data.expiration * 1000).toISOString()}`;
}

export default class PkiIssue extends ClientCommand<typeof PkiIssue> {
  static override summary = 'Issue a certificate and its private key from a role';
  static override description =
    "Fields as Vault's issue: common_name, alt_names, ip_sans, ttl (up to the role's max_ttl), format, private_key_format. Prints the certificate, the CA chain and the private key, or writes them to files (the key with mode 0600).";
  static override strict = false;
  static override args = {
    role: Args.string({ description: 'role name', required: true }),
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed' }),
  };
  static override flags = {
    ...fileFlags,
    'key-file': Flags.string({ description: 'write the private key here (mode 0600)', helpValue: '<file>' }),
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki issue web common_name=api.example.com',
    '<%= config.bin %> pki issue web common_name=api.example.com ttl=24h --cert-file api.pem --key-file api-key.pem --chain-file ca.pem',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    const r = await this.client().write(`${this.flags.mount}/issue/${this.args.role}`, body);
    const data = r?.data as unknown as IssuedData;
    const files = { cert: this.flags['cert-file'], key: this.flags['key-file'], chain: this.flags['chain-file'] };
    const written = writeIssued(data, files);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      if (!files.cert) this.log(data.certificate);
      if (!files.chain) this.log((data.ca_chain ?? []).join('\n'));
      if (!files.key && data.private_key) this.log(data.private_key);
      process.stderr.write(`Issued ${summary(data)}${written.length ? `; wrote ${written.join(', ')}` : ''}\n`);
    }
    return r;
  }
}
