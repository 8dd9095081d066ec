import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { invalid } from '../../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../../fields.js';
import { isKeyType, type KeyType, normalizeKeyBits } from './keys.js';

/** A PKI role, as Vault's: which names a certificate may carry, its key, its lifetime and usages. */
export interface Role {
  allowed_domains: string[];
  allow_subdomains: boolean;
  allow_bare_domains: boolean;
  allow_localhost: boolean;
  allow_any_name: boolean;
  allow_glob_domains: boolean;
  allow_wildcard_certificates: boolean;
  allow_ip_sans: boolean;
  enforce_hostnames: boolean;
  server_flag: boolean;
  client_flag: boolean;
  code_signing_flag: boolean;
  email_protection_flag: boolean;
  key_type: KeyType | 'any';
  key_bits: number;
  key_usage: string[];
  ext_key_usage: string[];
  /** Seconds; 0: the mount's default. */
  ttl: number;
  /** Seconds; 0: the mount's maximum. */
  max_ttl: number;
  /** Seconds a certificate's notBefore is set back, for clock skew. */
  not_before_duration: number;
  ou: string[];
  organization: string[];
  country: string[];
  locality: string[];
  province: string[];
  street_address: string[];
  postal_code: string[];
  require_cn: boolean;
  use_csr_common_name: boolean;
  use_csr_sans: boolean;
  no_store: boolean;
  /** The issuer certificates come from: 'default', an issuer id or name (resolved at use); the path's issuer wins. */
  issuer_ref: string;
}

export const ROLE_DEFAULTS: Role = {
  allowed_domains: [],
  allow_subdomains: false,
  allow_bare_domains: false,
  allow_localhost: true,
  allow_any_name: false,
  allow_glob_domains: false,
  allow_wildcard_certificates: true,
  allow_ip_sans: true,
  enforce_hostnames: true,
  server_flag: true,
  client_flag: true,
  code_signing_flag: false,
  email_protection_flag: false,
  key_type: 'rsa',
  key_bits: 2048,
  key_usage: ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'],
  ext_key_usage: [],
  ttl: 0,
  max_ttl: 0,
  not_before_duration: 30,
  ou: [],
  organization: [],
  country: [],
  locality: [],
  province: [],
  street_address: [],
  postal_code: [],
  require_cn: true,
  use_csr_common_name: true,
  use_csr_sans: true,
  no_store: false,
  issuer_ref: 'default',
};

const BOOLEANS = Object.keys(ROLE_DEFAULTS).filter(
  (k) => typeof ROLE_DEFAULTS[k as keyof Role] === 'boolean',
) as (keyof Role)[];
const LISTS = Object.keys(ROLE_DEFAULTS).filter((k) => Array.isArray(ROLE_DEFAULTS[k as keyof Role])) as (keyof Role)[];

/** What each role field means (path help). */
const ROLE_HELP: Record<keyof Role, string> = {
  allowed_domains:
    'Domains certificates may be issued for (with allow_subdomains, allow_bare_domains, allow_glob_domains)',
  allow_subdomains: 'Names below allowed_domains are allowed',
  allow_bare_domains: 'The allowed_domains themselves are allowed',
  allow_localhost: '"localhost" is allowed',
  allow_any_name: 'Any name is allowed',
  allow_glob_domains: 'allowed_domains may contain globs ("*")',
  allow_wildcard_certificates: 'Wildcard names ("*.example.com") are allowed',
  allow_ip_sans: 'IP addresses are allowed as subject alternative names',
  enforce_hostnames: 'Names must be valid host names',
  server_flag: 'Certificates are for TLS servers (serverAuth)',
  client_flag: 'Certificates are for TLS clients (clientAuth)',
  code_signing_flag: 'Certificates may sign code (codeSigning)',
  email_protection_flag: 'Certificates may protect email (emailProtection)',
  key_type: 'Key type: rsa, ec, ed25519, ml-dsa-65, or any (sign only)',
  key_bits: 'Key size: RSA bits, or the EC curve size (256, 384, 521)',
  key_usage: 'Key usages (DigitalSignature, KeyEncipherment...)',
  ext_key_usage: 'Extra extended key usages (ServerAuth, ClientAuth...)',
  ttl: "Certificate lifetime when the request gives none (default: the mount's)",
  max_ttl: "Longest certificate lifetime (default: the mount's maximum)",
  not_before_duration: "How far notBefore is set back, for clients' clock skew",
  ou: 'Subject OU values',
  organization: 'Subject O values',
  country: 'Subject C values',
  locality: 'Subject L values',
  province: 'Subject ST values',
  street_address: 'Subject street address values',
  postal_code: 'Subject postal code values',
  require_cn: 'A common name is required',
  use_csr_common_name: 'sign: take the common name from the CSR',
  use_csr_sans: 'sign: take the subject alternative names from the CSR',
  no_store: 'Issued certificates are not stored (cannot be listed or revoked by serial)',
  issuer_ref: "The issuer certificates come from: 'default', an issuer id or name (the path's issuer wins)",
};

export const ROLE_FIELDS = {
  ...Object.fromEntries(BOOLEANS.map((k) => [k, fBool(ROLE_HELP[k])])),
  ...Object.fromEntries(LISTS.map((k) => [k, fStringList(ROLE_HELP[k])])),
  key_type: fString(ROLE_HELP.key_type),
  key_bits: fInt(ROLE_HELP.key_bits),
  issuer_ref: fString(ROLE_HELP.issuer_ref),
  ttl: fDuration(ROLE_HELP.ttl),
  max_ttl: fDuration(ROLE_HELP.max_ttl),
  not_before_duration: fDuration(ROLE_HELP.not_before_duration),
};

const KEY_USAGES: Record<string, number> = {
  digitalsignature: x509.KeyUsageFlags.digitalSignature,
  contentcommitment: x509.KeyUsageFlags.nonRepudiation,
  keyencipherment: x509.KeyUsageFlags.keyEncipherment,
  dataencipherment: x509.KeyUsageFlags.dataEncipherment,
  keyagreement: x509.KeyUsageFlags.keyAgreement,
  certsign: x509.KeyUsageFlags.keyCertSign,
  crlsign: x509.KeyUsageFlags.cRLSign,
  encipheronly: x509.KeyUsageFlags.encipherOnly,
  decipheronly: x509.KeyUsageFlags.decipherOnly,
};

const EXT_KEY_USAGES: Record<string, string> = {
  serverauth: x509.ExtendedKeyUsage.serverAuth,
  clientauth: x509.ExtendedKeyUsage.clientAuth,
  codesigning: x509.ExtendedKeyUsage.codeSigning,
  emailprotection: x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  ocspsigning: x509.ExtendedKeyUsage.ocspSigning,
};

/** Vault accepts "DigitalSignature", "digitalsignature" or "KeyUsageDigitalSignature". */
const usageKey = (s: string) => s.toLowerCase().replace(/^(extkeyusage|keyusage)/, '');

/** A role from a write: defaults (or the stored role, for PATCH) overlaid with the given fields, checked. */
export function buildRole(base: Role, f: Record<string, unknown>): Role {
  const role = { ...base } as Record<string, unknown>;
  for (const k of Object.keys(ROLE_DEFAULTS)) if (f[k] !== undefined) role[k] = f[k];
  const r = role as unknown as Role;
  const type = String(r.key_type);
  if (type !== 'any' && !isKeyType(type)) {
    throw invalid(`unknown key_type "${type}" (rsa, ec, ed25519, ml-dsa-65 or any)`);
  }
  if (type === 'any') r.key_bits = 0;
  // A new key type without key_bits takes that type's default size.
  else r.key_bits = normalizeKeyBits(type, f.key_bits === undefined && f.key_type !== undefined ? 0 : r.key_bits);
  if (r.max_ttl > 0 && r.ttl > r.max_ttl) throw invalid('"ttl" value must be less than "max_ttl" value');
  for (const u of r.key_usage) if (KEY_USAGES[usageKey(u)] === undefined) throw invalid(`unknown key_usage "${u}"`);
  for (const u of r.ext_key_usage) {
    if (EXT_KEY_USAGES[usageKey(u)] === undefined) throw invalid(`unknown ext_key_usage "${u}"`);
  }
  r.allowed_domains = r.allowed_domains.map((d) => d.toLowerCase());
  if (!r.issuer_ref) r.issuer_ref = 'default';
  return r;
}

export function keyUsageFlags(role: Role): number {
  return role.key_usage.reduce((acc, u) => acc | (KEY_USAGES[usageKey(u)] ?? 0), 0);
}

export function extKeyUsageOids(role: Role): string[] {
  const oids = role.ext_key_usage.map((u) => EXT_KEY_USAGES[usageKey(u)] as string);
  if (role.server_flag) oids.push(x509.ExtendedKeyUsage.serverAuth);
  if (role.client_flag) oids.push(x509.ExtendedKeyUsage.clientAuth);
  if (role.code_signing_flag) oids.push(x509.ExtendedKeyUsage.codeSigning);
  if (role.email_protection_flag) oids.push(x509.ExtendedKeyUsage.emailProtection);
  return [...new Set(oids)];
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function isHostname(name: string, wildcardOk: boolean): boolean {
  if (name.length > 253) return false;
  const labels = name.split('.');
  if (wildcardOk && labels[0] === '*' && labels.length > 1) labels.shift();
  return labels.every((l) => LABEL.test(l));
}

/** `*` matches any run of characters within the name, as Vault's glob domains. */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRe).join('.*')}$`);
  return re.test(name);
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the role lets a certificate name this host (common name or DNS SAN). */
export function nameAllowed(role: Role, raw: string): boolean {
  const name = raw.toLowerCase();
  if (role.enforce_hostnames && !isHostname(name, role.allow_wildcard_certificates)) return false;
  if (!role.allow_wildcard_certificates && name.includes('*')) return false;
  if (role.allow_any_name) return true;
  if (role.allow_localhost && (name === 'localhost' || name === 'localdomain')) return true;
  return role.allowed_domains.some(
    (d) =>
      (role.allow_bare_domains && name === d) ||
      (role.allow_subdomains && name.endsWith(`.${d}`) && name.length > d.length + 1) ||
      (role.allow_glob_domains && d.includes('*') && globMatch(d, name)),
  );
}
