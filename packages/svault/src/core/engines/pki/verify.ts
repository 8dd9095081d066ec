import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { colonSerial } from './certs.js';
import { pkiCrypto } from './keys.js';

/**
 * svault's own chain verifier: what `openssl verify` checks (signatures, validity dates, CA
 * flag and key usage of issuers, path length, names chaining), for classical and ML-DSA-65
 * certificates alike, which OpenSSL 3.0 cannot read.
 */

export interface ChainLink {
  subject: string;
  issuer: string;
  serial_number: string;
  signature_algorithm: string;
  not_after: string;
}

export type ChainResult = { valid: true; chain: ChainLink[] } | { valid: false; reason: string; chain: ChainLink[] };

const MAX_DEPTH = 10;

/** Every CERTIFICATE block of a PEM text (other blocks, such as keys, are skipped). */
export function parseCertificates(text: string): x509.X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new x509.X509Certificate(b));
}

const sameBytes = (a: ArrayBuffer, b: ArrayBuffer) => Buffer.from(a).equals(Buffer.from(b));

function link(c: x509.X509Certificate): ChainLink {
  return {
    subject: c.subject,
    issuer: c.issuer,
    serial_number: colonSerial(c.serialNumber),
    signature_algorithm: (c.signatureAlgorithm as { name?: string }).name ?? 'unknown',
    not_after: c.notAfter.toISOString(),
  };
}

/**
 * Verifies `certs[0]` (the leaf) up to one of `anchors`, using `certs[1..]` as intermediates.
 * The first problem found is the reason.
 */
export async function verifyChain(
  certs: x509.X509Certificate[],
  anchors: x509.X509Certificate[],
  now = new Date(),
): Promise<ChainResult> {
  const leaf = certs[0];
  if (!leaf) return { valid: false, reason: 'no certificate to verify', chain: [] };
  if (anchors.length === 0) return { valid: false, reason: 'no trusted CA certificate given', chain: [] };
  const pool = [...anchors, ...certs.slice(1)];
  const chain: ChainLink[] = [];
  const fail = (reason: string): ChainResult => ({ valid: false, reason, chain });
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    chain.push(link(current));
    if (now < current.notBefore) return fail(`${current.subject}: not valid before ${current.notBefore.toISOString()}`);
    if (now > current.notAfter) return fail(`${current.subject}: expired on ${current.notAfter.toISOString()}`);
    if (anchors.some((a) => sameBytes(a.rawData, current.rawData))) return { valid: true, chain };
    const named = pool.filter(
      (c) => sameBytes(c.subjectName.toArrayBuffer(), current.issuerName.toArrayBuffer()) && c !== current,
    );
    if (named.length === 0)
      return fail(`${current.subject}: issuer "${current.issuer}" is not among the CA certificates`);
    let issuer: x509.X509Certificate | undefined;
    for (const candidate of named) {
      if (await signedBy(current, candidate)) {
        issuer = candidate;
        break;
      }
    }
    if (!issuer) return fail(`${current.subject}: signature does not verify with the key of "${current.issuer}"`);
    const problem = caProblem(issuer, depth);
    if (problem) return fail(`${issuer.subject}: ${problem}`);
    current = issuer;
  }
  return fail(`chain longer than ${MAX_DEPTH} certificates`);
}

async function signedBy(cert: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  try {
    return await cert.verify({ publicKey: issuer.publicKey, signatureOnly: true }, pkiCrypto);
  } catch {
    return false;
  }
}

/** Why `issuer` may not sign certificates with `below` CA certificates under it, if it may not. */
function caProblem(issuer: x509.X509Certificate, below: number): string | undefined {
  const bc = issuer.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) return 'not a CA certificate (basicConstraints CA:FALSE or missing)';
  const ku = issuer.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.keyCertSign)) return 'key usage does not allow signing certificates';
  // `below` counts the certificates under the issuer, of which all but the leaf are CAs.
  if (bc.pathLength !== undefined && below - 1 > bc.pathLength) return `path length ${bc.pathLength} exceeded`;
  return undefined;
}
