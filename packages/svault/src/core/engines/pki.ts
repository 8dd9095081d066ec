import { randomUUID } from 'node:crypto';
import 'reflect-metadata';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import type { LogicalStore } from '../barrier.js';
import { invalid } from '../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../fields.js';
import type { Backend, BackendFactory, HandlerResult, MountEntry, PathDef } from '../logical.js';
import { KeyedMutex } from '../storage.js';
import { SYSTEM_MAX_TTL } from '../tokens.js';
import {
  buildCertificate,
  buildCrl,
  buildCsr,
  type CertUrls,
  CRL_LABEL,
  colonSerial,
  newSerial,
  normalizeSerial,
  parseCsr,
  pemOf,
  type RevokedEntry,
  type Signer,
  type SubjectFields,
  subjectName,
} from './pki/certs.js';
import {
  generateKeyPair,
  importSigningKey,
  isKeyType,
  type KeyPair,
  type KeyType,
  keyTypeOf,
  normalizeKeyBits,
  type PrivateKeyFormat,
  renderPrivateKey,
  spkiOfPkcs8,
} from './pki/keys.js';
import {
  buildRole,
  extKeyUsageOids,
  keyUsageFlags,
  nameAllowed,
  ROLE_DEFAULTS,
  ROLE_FIELDS,
  type Role,
} from './pki/roles.js';
import { parseCertificates, verifyChain } from './pki/verify.js';

/**
 * The PKI secrets engine, at Vault's paths: a root or intermediate CA per mount, roles, issue
 * and sign, revoke and CRL. Beyond Vault: ML-DSA-65 CAs and certificates (RFC 9881 OIDs).
 * Layout in the mount's barrier view (the CA's private key never leaves it):
 *   ca               the CA: certificate, issuers above it, key type, PKCS#8 private key
 *   pending          an intermediate's key waiting for its signed certificate
 *   roles/<name>     roles
 *   certs/<hex>      issued certificates by serial
 *   issuers/<id>     the issuers other than the default one
 *   revoked/<hex>    revocation times
 *   crls/<issuer id> each issuer's current CRL (DER) and its number, rebuilt when it revokes
 *   crl              the default issuer's CRL as stored before CRLs were per issuer (its number carries on)
 */

interface CaRecord {
  certificate: string;
  /** The issuers above this CA, nearest first (empty for a root). */
  chain: string[];
  key_type: KeyType;
  key_bits: number;
  /** PKCS#8 DER, base64. */
  private_key: string;
  /** The issuers API's handle on this CA (assigned at install; older records get one on first use). */
  issuer_id?: string;
  issuer_name?: string;
}

interface PendingKey {
  key_type: KeyType;
  key_bits: number;
  private_key: string;
}

interface CrlRecord {
  der: string;
  number: number;
  /** Unix seconds after which the CRL is rebuilt on read. */
  next_update: number;
}

const CRL_LIFETIME_SECS = 72 * 3600;

function isHttpUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ldap:') && url.host !== '';
  } catch {
    return false;
  }
}
const SAN_OID = '2.5.29.17';
const FORMATS = ['pem', 'der', 'pem_bundle'] as const;
type Format = (typeof FORMATS)[number];

const enc = new TextEncoder();
const dec = new TextDecoder();
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const unix = (d: Date) => Math.floor(d.getTime() / 1000);

const noCa = () =>
  invalid(
    'no CA is configured on this mount: generate one with root/generate/internal, or install a signed intermediate with intermediate/set-signed',
  );

/**
 * Vault's raw responses (ca, crl...): the HTTP layer sends the body as is, with this content type.
 * The body travels base64 (as Vault's does through JSON), so audit devices HMAC it like any string.
 */
function raw(contentType: string, body: Uint8Array | string | undefined): HandlerResult {
  const bytes = typeof body === 'string' ? enc.encode(body) : (body ?? new Uint8Array());
  return {
    data: {
      http_content_type: contentType,
      http_raw_body: b64(bytes),
      http_status_code: bytes.length ? 200 : 204,
    },
  };
}

const SUBJECT_FIELDS = {
  common_name: fString('The subject common name'),
  alt_names: fStringList('DNS subject alternative names'),
  ip_sans: fStringList('IP subject alternative names'),
  exclude_cn_from_sans: fBool('Do not repeat the common name as a subject alternative name'),
  ttl: fDuration('Lifetime requested'),
  format: fString('pem (default), der or pem_bundle'),
  private_key_format: fString('der (default: PKCS#1/SEC1 in PEM) or pkcs8'),
  ou: fStringList('Subject OU values'),
  organization: fStringList('Subject O values'),
  country: fStringList('Subject C values'),
  locality: fStringList('Subject L values'),
  province: fStringList('Subject ST values'),
  street_address: fStringList('Subject street address values'),
  postal_code: fStringList('Subject postal code values'),
};
const CA_FIELDS = {
  ...SUBJECT_FIELDS,
  key_type: fString('rsa (default), ec, ed25519 or ml-dsa-65'),
  key_bits: fInt('Key size: RSA bits, or the EC curve size'),
  max_path_length: fInt('How many intermediate CAs may follow (-1: no limit)'),
  issuer_name: fString('A name for the new issuer, unique on the mount'),
};

export class PkiBackend implements Backend {
  readonly type = 'pki';
  readonly paths: PathDef[];
  readonly unauthenticated = [
    /^cert\/[^/]+(\/raw(\/pem)?)?$/,
    /^ca(\/pem)?$/,
    /^ca_chain$/,
    /^crl(\/pem)?$/,
    /^issuer\/[^/]+\/(json|der|pem)$/,
    /^issuer\/[^/]+\/crl(\/(der|pem))?$/,
  ];
  /** Serializes changes of the CA, and of the revocation list with its CRL. */
  private readonly locks = new KeyedMutex();
  /** The imported issuer keys, by certificate serial: importing one costs more than signing. */
  private readonly signers = new Map<string, Signer>();
  /** What tidy is doing or last did (Vault keeps it in memory; the last finished one is also stored). */
  private tidyState: Record<string, unknown> | undefined;
  /** The tidy running in the background, if any: one at a time, and close() waits for it. */
  private tidyRun: Promise<void> | undefined;

  constructor(
    readonly entry: MountEntry,
    private readonly store: LogicalStore,
  ) {
    const role = (r: { params: Record<string, string> }) => r.params.role as string;
    this.paths = [
      {
        pattern: /^root\/generate\/(?<type>internal|exported)$/,
        summary: 'Generate a self-signed root CA (exported: the private key is returned, once)',
        fields: CA_FIELDS,
        operations: {
          update: (r, f) => this.generateRoot(r.params.type === 'exported', f),
          create: (r, f) => this.generateRoot(r.params.type === 'exported', f),
        },
      },
      {
        pattern: /^root\/rotate\/(?<type>internal|exported)$/,
        summary:
          'Generate a new root as another issuer of the mount (named "next" unless named or taken); the default issuer stays until root/replace',
        fields: CA_FIELDS,
        operations: {
          update: (r, f) => this.rotateRoot(r.params.type === 'exported', f),
          create: (r, f) => this.rotateRoot(r.params.type === 'exported', f),
        },
      },
      {
        pattern: /^root\/replace$/,
        summary: 'Make another issuer the default (by reference; "next" when none is given)',
        fields: { default: fString() },
        operations: {
          update: (_r, f) => this.setDefaultIssuer({ default: (f.default as string | undefined) || 'next' }),
          create: (_r, f) => this.setDefaultIssuer({ default: (f.default as string | undefined) || 'next' }),
        },
      },
      {
        pattern: /^root$/,
        summary: "Delete the mount's CA (certificates issued so far stay readable)",
        operations: { delete: () => this.deleteCa() },
      },
      {
        pattern: /^root\/sign-intermediate$/,
        summary: "Sign an intermediate CA's CSR with this CA",
        fields: { ...CA_FIELDS, csr: fString(), use_csr_values: fBool() },
        operations: { update: (_r, f) => this.signIntermediate(f), create: (_r, f) => this.signIntermediate(f) },
      },
      {
        pattern: /^intermediate\/generate\/(?<type>internal|exported)$/,
        summary: "Generate an intermediate CA's key and CSR",
        fields: CA_FIELDS,
        operations: {
          update: (r, f) => this.generateIntermediate(r.params.type === 'exported', f),
          create: (r, f) => this.generateIntermediate(r.params.type === 'exported', f),
        },
      },
      {
        pattern: /^intermediate\/set-signed$/,
        summary: "Install the intermediate's signed certificate (with its issuers after it)",
        fields: { certificate: fString() },
        operations: { update: (_r, f) => this.setSigned(f), create: (_r, f) => this.setSigned(f) },
      },
      {
        pattern: /^roles\/?$/,
        summary: 'List roles',
        operations: { list: () => this.listKeys('roles/') },
      },
      {
        pattern: /^roles\/(?<name>[^/]+)$/,
        summary: 'Create, read, update or delete a role',
        fields: ROLE_FIELDS,
        existence: async (p) => (await this.store.get(`roles/${p.name}`)) !== undefined,
        operations: {
          read: async (r) => {
            const found = await this.role(r.params.name as string);
            return found ? { data: { ...found } } : null;
          },
          create: (r, f) => this.writeRole(r.params.name as string, f, false),
          update: (r, f) => this.writeRole(r.params.name as string, f, false),
          patch: (r, f) => this.writeRole(r.params.name as string, f, true),
          delete: async (r) => {
            await this.store.delete(`roles/${r.params.name}`);
            return undefined;
          },
        },
      },
      {
        pattern: /^(?:issuer\/(?<ref>[^/]+)\/)?issue\/(?<role>[^/]+)$/,
        summary: 'Issue a certificate and its private key from a role (by the default issuer, or the one named)',
        fields: SUBJECT_FIELDS,
        operations: {
          update: (r, f) => this.issue(role(r), f, r.params.ref),
          create: (r, f) => this.issue(role(r), f, r.params.ref),
        },
      },
      {
        pattern: /^(?:issuer\/(?<ref>[^/]+)\/)?sign\/(?<role>[^/]+)$/,
        summary: 'Sign a CSR with a role (by the default issuer, or the one named)',
        fields: { ...SUBJECT_FIELDS, csr: fString() },
        operations: {
          update: (r, f) => this.sign(role(r), f, r.params.ref),
          create: (r, f) => this.sign(role(r), f, r.params.ref),
        },
      },
      {
        pattern: /^revoke$/,
        summary: 'Revoke a certificate by serial number; the CRL is rebuilt',
        fields: { serial_number: fString() },
        operations: { update: (_r, f) => this.revoke(f), create: (_r, f) => this.revoke(f) },
      },
      {
        pattern: /^certs\/?$/,
        summary: 'List the serial numbers of stored certificates',
        operations: {
          list: async () => {
            const keys = await this.store.list('certs/');
            return keys.length ? { data: { keys: keys.map(colonSerial) } } : null;
          },
        },
      },
      {
        pattern: /^cert\/ca$/,
        summary: 'The CA certificate (PEM, in JSON)',
        operations: { read: async () => this.caJson() },
      },
      {
        pattern: /^cert\/ca_chain$/,
        summary: 'The CA chain (PEM, in JSON)',
        operations: { read: async () => this.caChainJson() },
      },
      {
        pattern: /^cert\/crl$/,
        summary: 'The CRL (PEM, in JSON)',
        operations: {
          read: async () => {
            const der = await this.crlDer();
            return { data: { certificate: der ? pemOf(der, CRL_LABEL) : '', revocation_time: 0 } };
          },
        },
      },
      {
        pattern: /^cert\/(?<serial>[0-9A-Fa-f:-]+)\/raw(?<pem>\/pem)?$/,
        summary: 'A certificate by serial, DER (or PEM with /pem)',
        operations: {
          read: async (r) => {
            const pem = await this.certPem(r.params.serial as string);
            if (pem === undefined) return null;
            return r.params.pem
              ? raw('application/pem-certificate-chain', pem)
              : raw('application/pkix-cert', new Uint8Array(new x509.X509Certificate(pem).rawData));
          },
        },
      },
      {
        pattern: /^cert\/(?<serial>[0-9A-Fa-f:-]+)$/,
        summary: 'A certificate by serial (PEM, in JSON) and its revocation time',
        operations: { read: (r) => this.certJson(r.params.serial as string) },
      },
      {
        pattern: /^ca(?<pem>\/pem)?$/,
        summary: 'The CA certificate: DER, or PEM with /pem',
        operations: {
          read: async (r) => {
            const ca = await this.ca();
            if (r.params.pem) return raw('application/pem-certificate-chain', ca?.certificate.trim());
            return raw(
              'application/pkix-cert',
              ca ? new Uint8Array(new x509.X509Certificate(ca.certificate).rawData) : undefined,
            );
          },
        },
      },
      {
        pattern: /^ca_chain$/,
        summary: 'The CA chain, PEM, issuing CA first',
        operations: {
          read: async () => {
            const ca = await this.ca();
            // Vault labels this PEM body application/pkix-cert; clients expect that.
            return raw('application/pkix-cert', ca ? chainOf(ca).join('\n') : undefined);
          },
        },
      },
      {
        pattern: /^crl(?<pem>\/pem)?$/,
        summary: 'The CRL: DER, or PEM with /pem',
        operations: {
          read: async (r) => {
            const der = await this.crlDer();
            if (r.params.pem) return raw('application/x-pem-file', der ? pemOf(der, CRL_LABEL) : undefined);
            return raw('application/pkix-crl', der ? new Uint8Array(der) : undefined);
          },
        },
      },
      {
        pattern: /^issuers\/?$/,
        summary: "List the mount's issuers (its CA)",
        operations: { list: () => this.listIssuers() },
      },
      {
        pattern: /^issuer\/(?<ref>[^/]+)\/crl(?:\/(?<fmt>der|pem))?$/,
        summary: "An issuer's CRL: PEM in JSON, or DER or PEM as is",
        operations: { read: (r) => this.issuerCrl(r.params.ref as string, r.params.fmt) },
      },
      {
        pattern: /^issuer\/(?<ref>[^/]+)(?:\/(?<fmt>json|der|pem))?$/,
        summary: "An issuer by id, name or 'default': its certificate and chain; rename it",
        fields: { issuer_name: fString() },
        operations: {
          read: (r) => this.readIssuer(r.params.ref as string, r.params.fmt),
          update: (r, f) => this.renameIssuer(r.params.ref as string, f),
          create: (r, f) => this.renameIssuer(r.params.ref as string, f),
          delete: (r) => this.deleteIssuer(r.params.ref as string),
        },
      },
      {
        pattern: /^config\/issuers$/,
        summary: 'The default issuer',
        fields: { default: fString(), default_follows_latest_issuer: fBool() },
        operations: {
          read: async () => {
            const ca = await this.issuer();
            return { data: { default: ca?.issuer_id ?? '', default_follows_latest_issuer: false } };
          },
          update: (_r, f) => this.setDefaultIssuer(f),
          create: (_r, f) => this.setDefaultIssuer(f),
        },
      },
      {
        pattern: /^config\/urls$/,
        summary: 'URLs put into issued certificates: issuing certificate and OCSP (AIA), CRL distribution points',
        fields: {
          issuing_certificates: fStringList(),
          crl_distribution_points: fStringList(),
          ocsp_servers: fStringList(),
          enable_templating: fBool(),
        },
        operations: {
          read: async () => ({ data: { ...(await this.urls()), enable_templating: false } }),
          create: (_r, f) => this.writeUrls(f),
          update: (_r, f) => this.writeUrls(f),
        },
      },
      {
        pattern: /^tidy$/,
        summary:
          'Start removing expired certificates (and their revocation entries) older than safety_buffer, in the background (202); tidy-status reports it',
        fields: { tidy_cert_store: fBool(), tidy_revoked_certs: fBool(), safety_buffer: fDuration() },
        operations: { create: (_r, f) => this.tidy(f), update: (_r, f) => this.tidy(f) },
      },
      {
        pattern: /^tidy-status$/,
        summary: 'What the running tidy is doing, or what the last one did',
        operations: {
          read: async () => ({
            data: this.tidyState ??
              (await this.getJson<Record<string, unknown>>('tidy-status')) ?? { state: 'Inactive' },
          }),
        },
      },
      {
        pattern: /^crl\/rotate$/,
        summary: "Rebuild every issuer's CRL now",
        operations: {
          read: async () => {
            if (!(await this.ca())) throw noCa();
            await this.locks.run('crl', () => this.rebuildAllCrls());
            return { data: { success: true } };
          },
        },
      },
    ];
  }

  // --- storage ---

  private async getJson<T>(key: string): Promise<T | undefined> {
    const v = await this.store.get(key);
    return v ? (JSON.parse(dec.decode(v)) as T) : undefined;
  }

  private putJson(key: string, value: unknown): Promise<void> {
    return this.store.put(key, enc.encode(JSON.stringify(value)));
  }

  private async listKeys(prefix: string): Promise<HandlerResult> {
    const keys = await this.store.list(prefix);
    return keys.length ? { data: { keys } } : null;
  }

  private urlsCache: CertUrls | undefined;

  /** config/urls (empty lists when never written); kept in memory once read. */
  private async urls(): Promise<CertUrls> {
    this.urlsCache ??= (await this.getJson<CertUrls>('config/urls')) ?? {
      issuing_certificates: [],
      crl_distribution_points: [],
      ocsp_servers: [],
    };
    return this.urlsCache;
  }

  private async writeUrls(f: Record<string, unknown>): Promise<HandlerResult> {
    const next = { ...(await this.urls()) };
    const labels = {
      issuing_certificates: 'Authority Information Access (AIA) parameter issuing_certificates',
      crl_distribution_points: 'CRL distribution points',
      ocsp_servers: 'Authority Information Access (AIA) parameter ocsp_servers',
    };
    for (const k of ['issuing_certificates', 'crl_distribution_points', 'ocsp_servers'] as const) {
      const v = f[k] as string[] | undefined;
      if (v === undefined) continue;
      const bad = v.find((u) => !isHttpUrl(u));
      if (bad !== undefined) throw invalid(`invalid URL found in ${labels[k]}: ${bad}`);
      next[k] = v;
    }
    if (f.enable_templating === true) throw invalid('enable_templating is not supported: give the URLs in full');
    await this.putJson('config/urls', next);
    this.urlsCache = next;
    return undefined;
  }

  /**
   * Starts removing issued certificates that expired more than `safety_buffer` ago, and their
   * revocation entries (a CRL need not list what no one can use any more), as Vault does: in the
   * background, answering 202 at once; tidy-status reports progress and the outcome.
   */
  private async tidy(f: Record<string, unknown>): Promise<HandlerResult> {
    const certStore = f.tidy_cert_store === true;
    const revoked = f.tidy_revoked_certs === true;
    const buffer = (f.safety_buffer as number | undefined) ?? 72 * 3600;
    if (buffer < 1) throw invalid('safety_buffer must be greater than zero');
    if (this.tidyRun) return { warnings: ['Tidy operation already in progress.'] };
    if (!certStore && !revoked) {
      return {
        status: 202,
        warnings: [
          'Manual tidy requested but no tidy operations were set. Enable at least one tidy operation to be run (tidy_cert_store, tidy_revoked_certs).',
        ],
      };
    }
    const status: Record<string, unknown> = {
      safety_buffer: buffer,
      tidy_cert_store: certStore,
      tidy_revoked_certs: revoked,
      state: 'Running',
      error: null,
      time_started: new Date().toISOString(),
      time_finished: null,
      message: '',
      cert_store_deleted_count: 0,
      revoked_cert_deleted_count: 0,
    };
    this.tidyState = status;
    this.tidyRun = this.runTidy(status, certStore, revoked, Date.now() - buffer * 1000)
      .then(
        () => Object.assign(status, { state: 'Finished', message: '' }),
        (e: unknown) => Object.assign(status, { state: 'Error', error: e instanceof Error ? e.message : String(e) }),
      )
      .then(async () => {
        status.time_finished = new Date().toISOString();
        await this.putJson('tidy-status', status).catch(() => {});
      })
      .finally(() => {
        this.tidyRun = undefined;
      });
    return {
      status: 202,
      warnings: [
        "Tidy operation successfully started. Any information from the operation will be printed to svault's server logs.",
      ],
    };
  }

  private async runTidy(status: Record<string, unknown>, certStore: boolean, revoked: boolean, cutoff: number) {
    await this.locks.run('crl', async () => {
      const serials = await this.store.list('certs/');
      let n = 0;
      for (const serial of serials) {
        status.message = `Tidying certificate store: checking entry ${++n} of ${serials.length}`;
        const stored = await this.getJson<{ certificate: string }>(`certs/${serial}`);
        let expired = true;
        try {
          expired = !stored || new x509.X509Certificate(stored.certificate).notAfter.getTime() < cutoff;
        } catch {
          expired = true; // unreadable: nothing could use it
        }
        if (!expired) continue;
        const isRevoked = (await this.store.get(`revoked/${serial}`)) !== undefined;
        if (revoked && isRevoked) {
          await this.store.delete(`revoked/${serial}`);
          (status.revoked_cert_deleted_count as number)++;
        }
        if (certStore && (!isRevoked || revoked)) {
          await this.store.delete(`certs/${serial}`);
          (status.cert_store_deleted_count as number)++;
        }
      }
      if ((status.revoked_cert_deleted_count as number) > 0) await this.rebuildAllCrls();
    });
  }

  async close(): Promise<void> {
    await this.tidyRun;
  }

  /** The CA with its issuer id (given one now if it was installed before issuers had ids). */
  private async issuer(): Promise<CaRecord | undefined> {
    const ca = await this.ca();
    if (!ca || ca.issuer_id) return ca;
    return this.locks.run('ca', async () => {
      const again = await this.ca();
      if (!again || again.issuer_id) return again;
      const withId = { ...again, issuer_id: randomUUID() };
      await this.putJson('ca', withId);
      return withId;
    });
  }

  /** Issuers other than the default one (which is the mount's CA record). */
  private async otherIssuers(): Promise<CaRecord[]> {
    const out: CaRecord[] = [];
    for (const id of await this.store.list('issuers/')) {
      const rec = await this.getJson<CaRecord>(`issuers/${id}`);
      if (rec) out.push(rec);
    }
    return out;
  }

  /** The issuer a reference names: 'default', an issuer id or an issuer name. */
  private async resolveIssuer(ref: string): Promise<CaRecord> {
    const ca = await this.issuer();
    const all = ca ? [ca, ...(await this.otherIssuers())] : [];
    const found =
      ref === 'default' ? ca : all.find((i) => i.issuer_id === ref || (i.issuer_name && i.issuer_name === ref));
    if (!found) throw invalid(`unable to resolve issuer id for reference: ${ref}`);
    return found;
  }

  private async checkIssuerName(name: string): Promise<void> {
    if (name === 'default') throw invalid('reserved keyword "default" can not be used as issuer name');
    if (!/^[A-Za-z0-9_-]{0,128}$/.test(name)) throw invalid('issuer name contained invalid characters');
    const ca = await this.issuer();
    const all = ca ? [ca, ...(await this.otherIssuers())] : [];
    if (name && all.some((i) => i.issuer_name === name)) throw invalid('issuer name already in use');
  }

  private async listIssuers(): Promise<HandlerResult> {
    const ca = await this.issuer();
    if (!ca?.issuer_id) return null;
    const all = [ca, ...(await this.otherIssuers())];
    const key_info: Record<string, unknown> = {};
    for (const i of all) key_info[i.issuer_id as string] = { issuer_name: i.issuer_name ?? '', is_default: i === ca };
    return { data: { keys: all.map((i) => i.issuer_id), key_info } };
  }

  private async readIssuer(ref: string, fmt: string | undefined): Promise<HandlerResult> {
    const ca = await this.resolveIssuer(ref);
    if (fmt === 'pem') return raw('application/pem-certificate-chain', ca.certificate);
    if (fmt === 'der')
      return raw('application/pkix-cert', new Uint8Array(new x509.X509Certificate(ca.certificate).rawData));
    return {
      data: {
        issuer_id: ca.issuer_id,
        issuer_name: ca.issuer_name ?? '',
        key_id: '',
        certificate: ca.certificate,
        ca_chain: chainOf(ca),
        leaf_not_after_behavior: 'err',
        manual_chain: null,
        usage: 'read-only,issuing-certificates,crl-signing',
        revocation_signature_algorithm: '',
      },
    };
  }

  private async renameIssuer(ref: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const name = (f.issuer_name as string | undefined) ?? '';
    return this.locks.run('ca', async () => {
      const target = await this.resolveIssuer(ref);
      if (name !== (target.issuer_name ?? '')) await this.checkIssuerName(name);
      const next = { ...target, issuer_name: name || undefined };
      const isDefault = target.issuer_id === (await this.issuer())?.issuer_id;
      await this.putJson(isDefault ? 'ca' : `issuers/${target.issuer_id}`, next);
      return this.readIssuer(target.issuer_id as string, undefined);
    });
  }

  /**
   * Makes another issuer the default: it becomes the mount's CA record (issue, sign, ca, crl use it)
   * and the old default joins the other issuers. Each keeps its own CRL.
   */
  private async setDefaultIssuer(f: Record<string, unknown>): Promise<HandlerResult> {
    if (f.default_follows_latest_issuer === true) {
      throw invalid('default_follows_latest_issuer is not supported: set the default issuer explicitly');
    }
    return this.locks.run('ca', async () => {
      const chosen = await this.resolveIssuer((f.default as string | undefined) ?? '');
      const current = (await this.issuer()) as CaRecord;
      if (chosen.issuer_id !== current.issuer_id) {
        await this.putJson(`issuers/${current.issuer_id}`, current);
        await this.putJson('ca', chosen);
        await this.store.delete(`issuers/${chosen.issuer_id}`);
        this.signers.clear();
      }
      return { data: { default: chosen.issuer_id, default_follows_latest_issuer: false } };
    });
  }

  private async deleteIssuer(ref: string): Promise<HandlerResult> {
    return this.locks.run('ca', async () => {
      const target = await this.resolveIssuer(ref);
      if (target.issuer_id === (await this.issuer())?.issuer_id) {
        throw invalid('cannot delete the default issuer: make another issuer the default first (config/issuers)');
      }
      await this.store.delete(`issuers/${target.issuer_id}`);
      await this.store.delete(`crls/${target.issuer_id}`);
      return undefined;
    });
  }

  private ca(): Promise<CaRecord | undefined> {
    return this.getJson<CaRecord>('ca');
  }

  private role(name: string): Promise<Role | undefined> {
    return this.getJson<Role>(`roles/${name}`);
  }

  private async signer(ca: CaRecord): Promise<Signer> {
    const cert = new x509.X509Certificate(ca.certificate);
    const cached = this.signers.get(cert.serialNumber);
    if (cached) return cached;
    const key = await importSigningKey(ca.key_type, ca.key_bits, unb64(ca.private_key));
    const signer: Signer = { cert, key, type: ca.key_type, bits: ca.key_bits };
    this.signers.set(cert.serialNumber, signer);
    return signer;
  }

  // --- CAs ---

  private async generateRoot(exported: boolean, f: Record<string, unknown>): Promise<HandlerResult> {
    const format = formatOf(f);
    const keyFormat = keyFormatOf(f);
    const subject = subjectOf(f);
    const { type, bits } = keyOf(f);
    const sans = sansOf(f, subject.common_name);
    const warnings: string[] = [];
    const ttl = this.caTtl(f.ttl as number | undefined, warnings);
    return this.locks.run('ca', async () => {
      // With a CA in place, a new root becomes another issuer of the mount (Vault's multi-issuer PKI).
      const existing = await this.ca();
      if (!existing && (await this.store.get('pending'))) {
        throw invalid(
          'an intermediate key is pending on this mount: install its certificate with intermediate/set-signed, or delete it (DELETE <mount>/root)',
        );
      }
      if (existing && f.issuer_name !== undefined) await this.checkIssuerName(f.issuer_name as string);
      const pair = await generateKeyPair(type, bits);
      const notBefore = new Date(Date.now() - 30_000);
      const cert = await buildCertificate(
        {
          subject: subjectName(subject),
          spki: pair.spki,
          serial: newSerial(),
          notBefore,
          notAfter: new Date(Date.now() + ttl * 1000),
          ca: { pathLength: (f.max_path_length as number | undefined) ?? -1 },
          keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          extKeyUsage: [],
          ...sans,
          urls: await this.urls(),
        },
        { self: pair },
      );
      const record: CaRecord = {
        certificate: cert.toString('pem'),
        chain: [],
        key_type: type,
        key_bits: bits,
        private_key: b64(pair.pkcs8),
        issuer_id: randomUUID(),
        ...(typeof f.issuer_name === 'string' && f.issuer_name ? { issuer_name: f.issuer_name } : {}),
      };
      if (existing) {
        await this.putJson(`issuers/${record.issuer_id}`, record);
        await this.putJson(`certs/${cert.serialNumber}`, { certificate: record.certificate });
        await this.locks.run('crl', () => this.rebuildCrl(record));
      } else {
        await this.installCa(record, cert);
      }
      const data: Record<string, unknown> = {
        issuer_id: record.issuer_id,
        issuer_name: record.issuer_name ?? '',
        certificate: renderCert(record.certificate, format),
        issuing_ca: renderCert(record.certificate, format),
        serial_number: colonSerial(cert.serialNumber),
        expiration: unix(cert.notAfter),
        key_type: type,
      };
      if (exported) Object.assign(data, this.privateKeyData(pair, keyFormat, format));
      return { data, ...(warnings.length ? { warnings } : {}) };
    });
  }

  /** root/rotate: a new root beside the current default, named "next" unless named or that name is taken. */
  private async rotateRoot(exported: boolean, f: Record<string, unknown>): Promise<HandlerResult> {
    if (f.issuer_name || !(await this.ca())) return this.generateRoot(exported, f);
    const taken = await this.resolveIssuer('next').then(
      () => true,
      () => false,
    );
    return this.generateRoot(exported, taken ? f : { ...f, issuer_name: 'next' });
  }

  /** Stores a new CA (and its own certificate), then its first, empty CRL. */
  private async installCa(record: CaRecord, cert: x509.X509Certificate): Promise<void> {
    await this.putJson('ca', { ...record, issuer_id: record.issuer_id ?? randomUUID() });
    await this.putJson(`certs/${cert.serialNumber}`, { certificate: record.certificate });
    await this.locks.run('crl', () => this.rebuildCrl());
  }

  private async deleteCa(): Promise<HandlerResult> {
    return this.locks.run('ca', async () => {
      const ca = await this.ca();
      await this.store.delete('pending');
      await this.store.delete('ca');
      await this.store.delete('crl');
      if (ca?.issuer_id) await this.store.delete(`crls/${ca.issuer_id}`);
      this.signers.clear();
      return undefined;
    });
  }

  private async generateIntermediate(exported: boolean, f: Record<string, unknown>): Promise<HandlerResult> {
    const format = formatOf(f);
    const keyFormat = keyFormatOf(f);
    const subject = subjectOf(f);
    const { type, bits } = keyOf(f);
    return this.locks.run('ca', async () => {
      if (await this.ca()) throw caExists();
      const pair = await generateKeyPair(type, bits);
      const csr = await buildCsr(subjectName(subject), pair);
      const pending: PendingKey = { key_type: type, key_bits: bits, private_key: b64(pair.pkcs8) };
      await this.putJson('pending', pending);
      const data: Record<string, unknown> = {
        csr: format === 'der' ? b64(new Uint8Array(csr.rawData)) : csr.toString('pem'),
        key_type: type,
      };
      if (exported) Object.assign(data, this.privateKeyData(pair, keyFormat, format));
      return { data };
    });
  }

  private async signIntermediate(f: Record<string, unknown>): Promise<HandlerResult> {
    const format = formatOf(f);
    if (!f.csr) throw invalid('the "csr" field is required');
    const ca = await this.ca();
    if (!ca) throw noCa();
    const csr = await parseCsr(f.csr as string);
    const csrKey = keyTypeOf(csr.publicKey);
    if (!csrKey) throw invalid('the CSR has a key type this engine does not sign (rsa, ec, ed25519 or ml-dsa-65)');
    const csrCn = csr.subjectName.getField('CN')[0] ?? '';
    const subject = subjectOf({ common_name: csrCn, ...dropEmpty(f) });
    if (f.use_csr_values === true) subject.common_name = csrCn || subject.common_name;
    const sans = sansOf(f, subject.common_name);
    const warnings: string[] = [];
    const signer = await this.signer(ca);
    const notAfter = this.clampToCa(
      new Date(Date.now() + this.caTtl(f.ttl as number | undefined, warnings) * 1000),
      signer,
      warnings,
    );
    const parentPath = signer.cert.getExtension(x509.BasicConstraintsExtension)?.pathLength;
    if (parentPath === 0) throw invalid('this CA has max_path_length 0: it cannot sign intermediate CAs');
    const requested = (f.max_path_length as number | undefined) ?? -1;
    const pathLength =
      parentPath === undefined ? requested : requested < 0 || requested >= parentPath ? parentPath - 1 : requested;
    const cert = await buildCertificate(
      {
        subject: subjectName(subject),
        spki: new Uint8Array(csr.publicKey.rawData),
        serial: newSerial(),
        notBefore: new Date(Date.now() - 30_000),
        notAfter,
        ca: { pathLength },
        keyUsage: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        extKeyUsage: [],
        ...sans,
        urls: await this.urls(),
      },
      { signer },
    );
    const pem = cert.toString('pem');
    await this.putJson(`certs/${cert.serialNumber}`, { certificate: pem });
    return {
      data: {
        certificate: renderCert(pem, format),
        issuing_ca: renderCert(ca.certificate, format),
        ca_chain: [pem, ...chainOf(ca)].map((c) => renderCert(c, format)),
        serial_number: colonSerial(cert.serialNumber),
        expiration: unix(cert.notAfter),
      },
      ...(warnings.length ? { warnings } : {}),
    };
  }

  private async setSigned(f: Record<string, unknown>): Promise<HandlerResult> {
    if (!f.certificate) throw invalid('the "certificate" field is required');
    let certs: x509.X509Certificate[];
    try {
      certs = parseCertificates(f.certificate as string);
    } catch {
      throw invalid('the certificate could not be parsed');
    }
    const cert = certs[0];
    if (!cert) throw invalid('no PEM certificate found in the "certificate" field');
    return this.locks.run('ca', async () => {
      if (await this.ca()) throw caExists();
      const pending = await this.getJson<PendingKey>('pending');
      if (!pending) throw invalid('no pending intermediate key on this mount: run intermediate/generate first');
      const expected = spkiOfPkcs8(pending.key_type, unb64(pending.private_key));
      if (!Buffer.from(cert.publicKey.rawData).equals(Buffer.from(expected))) {
        throw invalid("the certificate's public key does not match this mount's pending intermediate key");
      }
      if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca)
        throw invalid('the certificate is not a CA certificate');
      const issuers = certs.slice(1);
      const top = issuers.at(-1);
      if (top) {
        const check = await verifyChain(certs, [top]);
        if (!check.valid) throw invalid(`the issuers given after the certificate do not verify it: ${check.reason}`);
      }
      const record: CaRecord = {
        certificate: cert.toString('pem'),
        chain: issuers.map((c) => c.toString('pem')),
        key_type: pending.key_type,
        key_bits: pending.key_bits,
        private_key: pending.private_key,
      };
      await this.installCa(record, cert);
      await this.store.delete('pending');
      return {
        data: { imported_issuers: [colonSerial(cert.serialNumber)], serial_number: colonSerial(cert.serialNumber) },
      };
    });
  }

  /** A CA's lifetime: as asked (default: the mount's maximum), within a mount max_lease_ttl set explicitly. */
  private caTtl(requested: number | undefined, warnings: string[]): number {
    const mountMax = this.entry.config.max_lease_ttl;
    const ttl = requested || mountMax || SYSTEM_MAX_TTL;
    if (mountMax > 0 && ttl > mountMax) {
      warnings.push(`TTL "${ttl}s" is longer than the mount's max_lease_ttl "${mountMax}s", so the maximum is used`);
      return mountMax;
    }
    return ttl;
  }

  /** Never past the CA's own notAfter (Vault shortens the certificate and warns). */
  private clampToCa(notAfter: Date, signer: Signer, warnings: string[]): Date {
    if (notAfter <= signer.cert.notAfter) return notAfter;
    warnings.push(
      `the requested validity ends after the CA's (${signer.cert.notAfter.toISOString()}); the certificate ends with the CA instead`,
    );
    return signer.cert.notAfter;
  }

  // --- roles ---

  private async writeRole(name: string, f: Record<string, unknown>, patch: boolean): Promise<HandlerResult> {
    const base = patch ? await this.role(name) : ROLE_DEFAULTS;
    if (!base) return null;
    const role = buildRole(base, f);
    await this.putJson(`roles/${name}`, role);
    // As Vault: the reference is resolved at use, so a name may come later; say so now. (Unlike
    // Vault, a role written before the mount has any CA gets no warning: that order is the usual setup.)
    const ref = role.issuer_ref ?? 'default';
    if (ref === 'default') return undefined;
    const resolves = await this.resolveIssuer(ref).then(
      () => true,
      () => false,
    );
    if (resolves) return undefined;
    return { warnings: [`Issuing Certificate was set to ${ref} but no issuing certificate currently has that name`] };
  }

  // --- issue and sign ---

  private async issue(roleName: string, f: Record<string, unknown>, issuerRef?: string): Promise<HandlerResult> {
    const format = formatOf(f);
    const keyFormat = keyFormatOf(f);
    const { role, ca, signer } = await this.issuing(roleName, issuerRef);
    if (role.key_type === 'any')
      throw invalid('role key type "any" not allowed for issuing certificates, only signing');
    checkFamily(role.key_type, ca.key_type);
    const names = this.checkedNames(role, f, (f.common_name as string | undefined) ?? '', null);
    const warnings: string[] = [];
    const notAfter = this.leafNotAfter(role, f.ttl as number | undefined, signer, warnings);
    const pair = await generateKeyPair(role.key_type, role.key_bits);
    const issued = await this.issueCert(role, names, pair.spki, notAfter, signer, ca, format);
    Object.assign(issued.data, this.privateKeyData(pair, keyFormat, format));
    if (format === 'pem_bundle') {
      issued.data.certificate = [issued.data.private_key, issued.data.certificate].join('\n');
    }
    return { data: issued.data, ...(warnings.length ? { warnings } : {}) };
  }

  private async sign(roleName: string, f: Record<string, unknown>, issuerRef?: string): Promise<HandlerResult> {
    const format = formatOf(f);
    if (!f.csr) throw invalid('the "csr" field is required');
    const { role, ca, signer } = await this.issuing(roleName, issuerRef);
    const csr = await parseCsr(f.csr as string);
    const csrKey = keyTypeOf(csr.publicKey);
    if (!csrKey) throw invalid('the CSR has a key type this engine does not sign (rsa, ec, ed25519 or ml-dsa-65)');
    if (role.key_type !== 'any') {
      if (csrKey.type !== role.key_type)
        throw invalid(`role requires keys of type ${role.key_type}, the CSR has ${csrKey.type}`);
      if (csrKey.type === 'rsa' && csrKey.bits < role.key_bits) {
        throw invalid(
          `role requires a minimum of a ${role.key_bits}-bit key, but the CSR's key is ${csrKey.bits} bits`,
        );
      }
      if (csrKey.type === 'ec' && csrKey.bits !== role.key_bits) {
        throw invalid(`role requires an ec key of ${role.key_bits} bits, but the CSR's key is ${csrKey.bits} bits`);
      }
    }
    checkFamily(csrKey.type, ca.key_type);
    const csrCn = csr.subjectName.getField('CN')[0] ?? '';
    const cn = role.use_csr_common_name && csrCn ? csrCn : ((f.common_name as string | undefined) ?? '');
    const names = this.checkedNames(role, f, cn, role.use_csr_sans ? csr : null);
    const warnings: string[] = [];
    const notAfter = this.leafNotAfter(role, f.ttl as number | undefined, signer, warnings);
    const issued = await this.issueCert(
      role,
      names,
      new Uint8Array(csr.publicKey.rawData),
      notAfter,
      signer,
      ca,
      format,
    );
    return { data: issued.data, ...(warnings.length ? { warnings } : {}) };
  }

  private async issuing(roleName: string, issuerRef?: string) {
    const role = await this.role(roleName);
    if (!role) throw invalid(`unknown role: ${roleName}`);
    // The path's issuer wins over the role's issuer_ref; both resolve now, so names and 'default' follow changes.
    const ref = issuerRef ?? role.issuer_ref ?? 'default';
    const ca = ref === 'default' ? await this.ca() : await this.resolveIssuer(ref);
    if (!ca) throw noCa();
    return { role, ca, signer: await this.signer(ca) };
  }

  /** The certificate's names, each allowed by the role; the first refused one is the error. */
  private checkedNames(
    role: Role,
    f: Record<string, unknown>,
    commonName: string,
    csr: x509.Pkcs10CertificateRequest | null,
  ): { subject: SubjectFields; dns: string[]; ips: string[] } {
    if (!commonName && role.require_cn) {
      throw invalid(
        'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true',
      );
    }
    let altNames = (f.alt_names as string[] | undefined) ?? [];
    let ips = (f.ip_sans as string[] | undefined) ?? [];
    if (csr) {
      const ext = csr.getExtension(SAN_OID);
      const san = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : null;
      altNames = san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? [];
      ips = san?.names.items.filter((n) => n.type === 'ip').map((n) => n.value) ?? [];
    }
    if (commonName && !nameAllowed(role, commonName))
      throw invalid(`common name ${commonName} not allowed by this role`);
    for (const n of altNames) {
      if (!nameAllowed(role, n)) throw invalid(`subject alternate name ${n} not allowed by this role`);
    }
    for (const ip of ips) if (!isIP(ip)) throw invalid(`the value "${ip}" is not a valid IP address`);
    if (ips.length && !role.allow_ip_sans) {
      throw invalid(`IP Subject Alternative Names are not allowed in this role, but was provided ${ips.join(', ')}`);
    }
    const dns = [...new Set([...(commonName && f.exclude_cn_from_sans !== true ? [commonName] : []), ...altNames])];
    return {
      subject: {
        common_name: commonName,
        ou: role.ou,
        organization: role.organization,
        country: role.country,
        locality: role.locality,
        province: role.province,
        street_address: role.street_address,
        postal_code: role.postal_code,
      },
      dns,
      ips,
    };
  }

  /** ttl, else the role's, else the mount's default; never past max_ttl nor the CA (both warn). */
  private leafNotAfter(role: Role, requested: number | undefined, signer: Signer, warnings: string[]): Date {
    const maxTtl = role.max_ttl || this.entry.config.max_lease_ttl || SYSTEM_MAX_TTL;
    let ttl = requested || role.ttl || this.entry.config.default_lease_ttl || SYSTEM_MAX_TTL;
    if (ttl > maxTtl) {
      warnings.push(`TTL "${ttl}s" is longer than permitted maxTTL "${maxTtl}s", so maxTTL is being used`);
      ttl = maxTtl;
    }
    return this.clampToCa(new Date(Date.now() + ttl * 1000), signer, warnings);
  }

  private async issueCert(
    role: Role,
    names: { subject: SubjectFields; dns: string[]; ips: string[] },
    spki: Uint8Array,
    notAfter: Date,
    signer: Signer,
    ca: CaRecord,
    format: Format,
  ): Promise<{ data: Record<string, unknown> }> {
    const cert = await buildCertificate(
      {
        subject: subjectName(names.subject),
        spki,
        serial: newSerial(),
        notBefore: new Date(Date.now() - role.not_before_duration * 1000),
        notAfter,
        keyUsage: keyUsageFlags(role),
        extKeyUsage: extKeyUsageOids(role),
        dns: names.dns,
        ips: names.ips,
        urls: await this.urls(),
      },
      { signer },
    );
    const pem = cert.toString('pem');
    if (!role.no_store) await this.putJson(`certs/${cert.serialNumber}`, { certificate: pem });
    return {
      data: {
        certificate: renderCert(pem, format),
        issuing_ca: renderCert(ca.certificate, format),
        ca_chain: chainOf(ca).map((c) => renderCert(c, format)),
        serial_number: colonSerial(cert.serialNumber),
        expiration: unix(cert.notAfter),
      },
    };
  }

  private privateKeyData(pair: KeyPair, keyFormat: PrivateKeyFormat, format: Format) {
    return { private_key: renderPrivateKey(pair, keyFormat, format !== 'der'), private_key_type: pair.type };
  }

  // --- revocation ---

  private async revoke(f: Record<string, unknown>): Promise<HandlerResult> {
    const given = (f.serial_number as string | undefined) ?? '';
    if (!given) throw invalid('the "serial_number" field is required');
    const serial = normalizeSerial(given);
    if (!serial) throw invalid(`"${given}" is not a serial number (hex, colon- or hyphen-separated)`);
    const ca = await this.issuer();
    if (!ca) throw noCa();
    const issuers = [ca, ...(await this.otherIssuers())];
    if (issuers.some((i) => new x509.X509Certificate(i.certificate).serialNumber === serial))
      throw invalid('adding CA to CRL is not allowed');
    const stored = await this.getJson<{ certificate: string }>(`certs/${serial}`);
    if (!stored) throw invalid(`certificate with serial ${colonSerial(serial)} not found`);
    return this.locks.run('crl', async () => {
      let entry = await this.getJson<RevokedEntry>(`revoked/${serial}`);
      if (!entry) {
        const issuer = authorityKeyId(new x509.X509Certificate(stored.certificate));
        entry = { serial, revocation_time: unix(new Date()), ...(issuer ? { issuer } : {}) };
        await this.putJson(`revoked/${serial}`, entry);
        // The CRL of the issuer that signed it (the default's when that is unknown).
        await this.rebuildCrl(issuers.find((i) => issuer && subjectKeyId(i) === issuer) ?? ca);
      }
      return {
        data: {
          revocation_time: entry.revocation_time,
          revocation_time_rfc3339: new Date(entry.revocation_time * 1000).toISOString(),
          state: 'revoked',
        },
      };
    });
  }

  /** An issuer's CRL: the revocations of the certificates it signed. Runs under the 'crl' lock. */
  private async rebuildCrl(issuer?: CaRecord): Promise<void> {
    const ca = issuer ?? (await this.issuer());
    if (!ca?.issuer_id) return;
    const isDefault = ca.issuer_id === (await this.ca())?.issuer_id;
    const signer = await this.signer(ca);
    const ownKeyId = subjectKeyId(ca);
    const entries: RevokedEntry[] = [];
    for (const key of await this.store.list('revoked/')) {
      const e = await this.getJson<RevokedEntry>(`revoked/${key}`);
      // Only this issuer's certificates (an entry without an issuer is the default's, as before issuers).
      if (e && (e.issuer ? e.issuer === ownKeyId : isDefault)) entries.push(e);
    }
    const previous =
      (await this.getJson<CrlRecord>(`crls/${ca.issuer_id}`)) ??
      (isDefault ? await this.getJson<CrlRecord>('crl') : undefined);
    const now = new Date();
    const nextUpdate = new Date(now.getTime() + CRL_LIFETIME_SECS * 1000);
    const number = (previous?.number ?? 0) + 1;
    const crl = await buildCrl(signer, entries, number, now, nextUpdate);
    await this.putJson(`crls/${ca.issuer_id}`, {
      der: b64(new Uint8Array(crl.rawData)),
      number,
      next_update: unix(nextUpdate),
    });
  }

  /** Runs under the 'crl' lock. */
  private async rebuildAllCrls(): Promise<void> {
    const ca = await this.issuer();
    if (!ca) return;
    for (const i of [ca, ...(await this.otherIssuers())]) await this.rebuildCrl(i);
  }

  /** An issuer's current CRL (rebuilt when it is past its nextUpdate); the default's, or undefined without a CA. */
  private async crlDer(issuer?: CaRecord): Promise<ArrayBuffer | undefined> {
    const ca = issuer ?? (await this.issuer());
    if (!ca?.issuer_id) return undefined;
    const key = `crls/${ca.issuer_id}`;
    let rec = await this.getJson<CrlRecord>(key);
    if (!rec || rec.next_update <= unix(new Date())) {
      await this.locks.run('crl', () => this.rebuildCrl(ca));
      rec = await this.getJson<CrlRecord>(key);
    }
    return rec ? unb64(rec.der).slice().buffer : undefined;
  }

  private async issuerCrl(ref: string, fmt: string | undefined): Promise<HandlerResult> {
    const der = await this.crlDer(await this.resolveIssuer(ref));
    if (fmt === 'der') return raw('application/pkix-crl', der ? new Uint8Array(der) : undefined);
    const pem = der ? pemOf(der, CRL_LABEL) : '';
    if (fmt === 'pem') return raw('application/x-pem-file', pem || undefined);
    return { data: { crl: pem } };
  }

  // --- fetching ---

  private async caJson(): Promise<HandlerResult> {
    const ca = await this.ca();
    return { data: { certificate: ca?.certificate.trim() ?? '', revocation_time: 0, revocation_time_rfc3339: '' } };
  }

  private async caChainJson(): Promise<HandlerResult> {
    const ca = await this.ca();
    const chain = ca ? chainOf(ca).join('\n') : '';
    return { data: { certificate: chain, ca_chain: chain, revocation_time: 0, revocation_time_rfc3339: '' } };
  }

  private async certPem(serialText: string): Promise<string | undefined> {
    const serial = normalizeSerial(serialText);
    if (!serial) return undefined;
    return (await this.getJson<{ certificate: string }>(`certs/${serial}`))?.certificate;
  }

  private async certJson(serialText: string): Promise<HandlerResult> {
    const pem = await this.certPem(serialText);
    if (pem === undefined) return null;
    const revoked = await this.getJson<RevokedEntry>(`revoked/${normalizeSerial(serialText)}`);
    return {
      data: {
        certificate: pem.trim(),
        revocation_time: revoked?.revocation_time ?? 0,
        revocation_time_rfc3339: revoked ? new Date(revoked.revocation_time * 1000).toISOString() : '',
      },
    };
  }
}

/** An issuer's own key id, as certificates it signs carry it in their authority key id. */
const subjectKeyId = (ca: CaRecord) =>
  new x509.X509Certificate(ca.certificate).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;

/** The key id of the CA that signed `cert` (svault sets it on everything it signs). */
const authorityKeyId = (cert: x509.X509Certificate) => cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;

const caExists = () =>
  invalid("a CA is already configured on this mount: delete it first (DELETE <mount>/root) or mount another 'pki'");

/** The CA's certificate and the issuers above it, PEM, nearest first. */
const chainOf = (ca: CaRecord) => [ca.certificate, ...ca.chain].map((c) => c.trim());

function renderCert(pem: string, format: Format): string {
  if (format !== 'der') return pem.trim();
  return b64(new Uint8Array(new x509.X509Certificate(pem).rawData));
}

function formatOf(f: Record<string, unknown>): Format {
  const v = (f.format as string | undefined) ?? 'pem';
  if (!(FORMATS as readonly string[]).includes(v)) throw invalid(`unknown format "${v}" (pem, der or pem_bundle)`);
  return v as Format;
}

function keyFormatOf(f: Record<string, unknown>): PrivateKeyFormat {
  const v = (f.private_key_format as string | undefined) ?? 'der';
  if (v !== 'der' && v !== 'pem' && v !== 'pkcs8') throw invalid(`unknown private_key_format "${v}" (der or pkcs8)`);
  return v === 'pkcs8' ? 'pkcs8' : 'der';
}

function keyOf(f: Record<string, unknown>): { type: KeyType; bits: number } {
  const type = (f.key_type as string | undefined) ?? 'rsa';
  if (!isKeyType(type)) throw invalid(`unknown key_type "${type}" (rsa, ec, ed25519 or ml-dsa-65)`);
  return { type, bits: normalizeKeyBits(type, (f.key_bits as number | undefined) ?? 0) };
}

const dropEmpty = (f: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== ''));

function subjectOf(f: Record<string, unknown>): SubjectFields {
  const cn = (f.common_name as string | undefined) ?? '';
  if (!cn) throw invalid('the common_name field is required');
  const list = (k: string) => (f[k] as string[] | undefined) ?? [];
  return {
    common_name: cn,
    ou: list('ou'),
    organization: list('organization'),
    country: list('country'),
    locality: list('locality'),
    province: list('province'),
    street_address: list('street_address'),
    postal_code: list('postal_code'),
  };
}

/** A CA's SANs: alt_names and ip_sans, and the common name when it is a host name. */
function sansOf(f: Record<string, unknown>, commonName: string): { dns: string[]; ips: string[] } {
  const ips = (f.ip_sans as string[] | undefined) ?? [];
  for (const ip of ips) if (!isIP(ip)) throw invalid(`the value "${ip}" is not a valid IP address`);
  const cnIsHost = /^[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(commonName);
  const dns = [
    ...(cnIsHost && f.exclude_cn_from_sans !== true ? [commonName] : []),
    ...((f.alt_names as string[] | undefined) ?? []),
  ];
  return { dns: [...new Set(dns)], ips };
}

/** ML-DSA-65 certificates come only from an ML-DSA-65 CA, and classical ones only from a classical CA. */
function checkFamily(leaf: KeyType, ca: KeyType): void {
  const pq = (t: KeyType) => t === 'ml-dsa-65';
  if (pq(leaf) && !pq(ca)) {
    throw invalid(
      `key type ml-dsa-65 needs an ML-DSA-65 CA, and this mount's CA key is ${ca}: mount another pki with an ML-DSA-65 root`,
    );
  }
  if (!pq(leaf) && pq(ca)) {
    throw invalid(
      `this mount's CA is ML-DSA-65: it issues only ml-dsa-65 certificates, not ${leaf} (classical clients could not verify the chain)`,
    );
  }
}

export const pkiFactory: BackendFactory = ({ entry, store }) => new PkiBackend(entry, store);
