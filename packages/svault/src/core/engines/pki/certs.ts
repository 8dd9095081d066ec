import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { invalid } from '../../errors.js';
import { type KeyPair, type KeyType, pkiCrypto, type SigningKey, signingAlgorithm } from './keys.js';

/** Certificates, CSRs and CRLs, built with @peculiar/x509 (signing goes through keys.ts's provider). */

export interface SubjectFields {
  common_name: string;
  ou?: string[];
  organization?: string[];
  country?: string[];
  locality?: string[];
  province?: string[];
  street_address?: string[];
  postal_code?: string[];
}

/** Each value as an explicit string type: x509 would read a leading '#' as hex otherwise. */
export function subjectName(s: SubjectFields): x509.Name {
  const rdns: Record<string, Array<{ utf8String?: string; printableString?: string }>>[] = [];
  const add = (type: string, values: string[] | undefined, printable = false) => {
    for (const v of values ?? [])
      if (v) rdns.push({ [type]: [printable ? { printableString: v } : { utf8String: v }] });
  };
  add('2.5.4.6', s.country, true);
  add('2.5.4.8', s.province);
  add('2.5.4.7', s.locality);
  add('2.5.4.9', s.street_address);
  add('2.5.4.17', s.postal_code);
  add('2.5.4.10', s.organization);
  add('2.5.4.11', s.ou);
  if (s.common_name) add('2.5.4.3', [s.common_name]);
  return new x509.Name(rdns as unknown as x509.JsonName);
}

/** The CA that signs: its certificate, its key, and how it signs. */
export interface Signer {
  cert: x509.X509Certificate;
  key: SigningKey;
  type: KeyType;
  bits: number;
}

export interface CertRequest {
  subject: x509.Name;
  /** SubjectPublicKeyInfo of the certified key, DER. */
  spki: Uint8Array;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate; pathLength -1 means unlimited. */
  ca?: { pathLength: number };
  keyUsage: number;
  extKeyUsage: string[];
  dns: string[];
  ips: string[];
  /** config/urls: the issuer's certificate (AIA), OCSP responders (AIA) and CRL distribution points. */
  urls?: CertUrls;
}

export interface CertUrls {
  issuing_certificates: string[];
  crl_distribution_points: string[];
  ocsp_servers: string[];
}

/** Signed by `signer`, or self-signed by `self` (a root). */
export async function buildCertificate(
  req: CertRequest,
  by: { signer: Signer } | { self: KeyPair },
): Promise<x509.X509Certificate> {
  const publicKey = new x509.PublicKey(req.spki);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(
      req.ca !== undefined,
      req.ca && req.ca.pathLength >= 0 ? req.ca.pathLength : undefined,
      true,
    ),
    new x509.KeyUsagesExtension(req.keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, pkiCrypto),
  ];
  if (req.extKeyUsage.length) extensions.push(new x509.ExtendedKeyUsageExtension(req.extKeyUsage, false));
  if ('signer' in by) {
    const ski = by.signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId, false));
  }
  const names = [
    ...req.dns.map((value) => ({ type: 'dns' as const, value })),
    ...req.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const urls = req.urls;
  if (urls && (urls.issuing_certificates.length || urls.ocsp_servers.length)) {
    extensions.push(
      new x509.AuthorityInfoAccessExtension({ caIssuers: urls.issuing_certificates, ocsp: urls.ocsp_servers }, false),
    );
  }
  if (urls?.crl_distribution_points.length) {
    extensions.push(new x509.CRLDistributionPointsExtension(urls.crl_distribution_points, false));
  }
  const signer =
    'signer' in by
      ? {
          key: by.signer.key,
          alg: signingAlgorithm(by.signer.type, by.signer.bits),
          issuer: by.signer.cert.subjectName,
        }
      : { key: by.self.signingKey, alg: signingAlgorithm(by.self.type, by.self.bits), issuer: req.subject };
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: req.serial,
      subject: req.subject,
      issuer: signer.issuer,
      notBefore: req.notBefore,
      notAfter: req.notAfter,
      publicKey: req.spki,
      signingKey: signer.key,
      signingAlgorithm: signer.alg,
      extensions,
    },
    pkiCrypto,
  );
}

export async function buildCsr(subject: x509.Name, pair: KeyPair): Promise<x509.Pkcs10CertificateRequest> {
  return x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: subject,
      keys: { privateKey: pair.signingKey, publicKey: pair.publicKey },
      signingAlgorithm: signingAlgorithm(pair.type, pair.bits),
    },
    pkiCrypto,
  );
}

/** A CSR from PEM (or base64 DER), its signature checked: the requester holds the key. */
export async function parseCsr(text: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(text.trim());
  } catch {
    throw invalid('certificate request could not be parsed');
  }
  let ok = false;
  try {
    ok = await csr.verify(pkiCrypto);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid('the certificate request signature does not verify');
  return csr;
}

export interface RevokedEntry {
  serial: string;
  /** Unix seconds. */
  revocation_time: number;
  /** Key id (hex) of the CA that issued the certificate. */
  issuer?: string;
}

export async function buildCrl(
  signer: Signer,
  entries: RevokedEntry[],
  crlNumber: number,
  thisUpdate: Date,
  nextUpdate: Date,
): Promise<x509.X509Crl> {
  const extensions: x509.Extension[] = [new x509.Extension('2.5.29.20', false, derInteger(crlNumber))];
  const ski = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId, false));
  return x509.X509CrlGenerator.create(
    {
      issuer: signer.cert.subjectName,
      thisUpdate,
      nextUpdate,
      entries: entries.map((e) => ({
        serialNumber: e.serial,
        revocationDate: new Date(e.revocation_time * 1000),
      })),
      signingKey: signer.key,
      signingAlgorithm: signingAlgorithm(signer.type, signer.bits),
      extensions,
    },
    pkiCrypto,
  );
}

/** A non-negative DER INTEGER (the CRL number). */
function derInteger(n: number): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return Uint8Array.from([0x02, bytes.length, ...bytes]);
}

/** 20 random bytes, first one in 1..0x7f: a positive serial that keeps its length in DER. */
export function newSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(20));
  b[0] = (b[0] as number) & 0x7f || 1;
  return Buffer.from(b).toString('hex');
}

/** "39:dd:2e:…" as Vault prints serials. */
export const colonSerial = (hex: string) => (hex.toLowerCase().match(/../g) ?? []).join(':');

/** A serial as users write it (colons, hyphens, any case) → lowercase hex; undefined when malformed. */
export function normalizeSerial(input: string): string | undefined {
  const hex = input.trim().toLowerCase().replace(/[:-]/g, '');
  if (!/^[0-9a-f]+$/.test(hex)) return undefined;
  return hex.length % 2 ? `0${hex}` : hex;
}

export const CERT_LABEL = 'CERTIFICATE';
/** OpenSSL reads only this label for CRLs (x509 writes "CRL"). */
export const CRL_LABEL = 'X509 CRL';

export const pemOf = (der: ArrayBuffer, label = CERT_LABEL) => x509.PemConverter.encode(der, label);
