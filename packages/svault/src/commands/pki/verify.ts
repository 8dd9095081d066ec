import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { ClientCommand } from '../../cli/base.js';
import { parseCertificates, verifyChain } from '../../core/engines/pki/verify.js';
import { readInput } from './issue.js';

export default class PkiVerify extends ClientCommand<typeof PkiVerify> {
  static override summary = 'Verify a certificate chain, ML-DSA-65 certificates included';
  static override description =
    'Checks every signature up to a trusted CA, validity dates, the CA flag and key usage of each issuer, path lengths and names. Classical chains also verify with `openssl verify`; ML-DSA-65 ones (RFC 9881 OIDs) need OpenSSL >= 3.5, or this command. Put intermediates after the certificate in its file. Exit 3 with the reason when the chain does not verify.';
  static override args = {
    certificate: Args.string({
      description: 'certificate file (PEM, intermediates after it), or - for stdin',
      required: true,
    }),
  };
  static override flags = {
    ca: Flags.string({
      description: "trusted CA certificates (PEM); default: the vault mount's CA chain",
      helpValue: '<file>',
    }),
    mount: Flags.string({
      description: 'the PKI mount whose chain to trust without --ca',
      default: 'pki',
      helpValue: '<path>',
    }),
  };
  static override examples = [
    '<%= config.bin %> pki verify api.pem --ca ca.pem',
    '<%= config.bin %> pki verify pq-leaf.pem --mount pki_pq',
  ];

  async run() {
    const certs = certificatesOf(readInput(this.args.certificate, 'certificate'), this.args.certificate);
    const anchorsText = this.flags.ca
      ? readInput(this.flags.ca, 'CA certificates')
      : (((await this.client().read(`${this.flags.mount}/cert/ca_chain`))?.data as { certificate?: string } | null)
          ?.certificate ?? '');
    const anchors = certificatesOf(anchorsText, this.flags.ca ?? `${this.flags.mount}/cert/ca_chain`);
    const result = await verifyChain(certs, anchors);
    if (!result.valid) throw validationError(`the certificate does not verify: ${result.reason}`);
    if (!this.jsonEnabled()) {
      this.log(`OK: ${result.chain.map((l) => `${l.subject} (${l.signature_algorithm})`).join(' <- ')}`);
    }
    return result;
  }
}

function certificatesOf(text: string, source: string) {
  let certs: ReturnType<typeof parseCertificates>;
  try {
    certs = parseCertificates(text);
  } catch (e) {
    throw usageError(`${source}: not a PEM certificate (${(e as Error).message})`);
  }
  if (certs.length === 0) throw usageError(`${source}: no PEM certificate found`);
  return certs;
}
