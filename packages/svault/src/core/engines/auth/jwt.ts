import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { LogicalStore } from '../../barrier.js';
import { invalid, VaultError } from '../../errors.js';
import { fInt, fMap, fString, fStringList, fStringMap, isPlainObject } from '../../fields.js';
import type { Backend, BackendFactory, HandlerResult, PathDef, RoutedRequest } from '../../logical.js';
import { KeyedMutex } from '../../storage.js';
import {
  applyTokenFields,
  defaultTokenParams,
  loginSpec,
  type TokenParams,
  tokenFields,
  tokenParamsView,
} from './tokenutil.js';

interface JwtConfig {
  jwt_validation_pubkeys: string[];
  /** Where the CI system publishes its keys (a JWK set); instead of jwt_validation_pubkeys. */
  jwks_url?: string;
  bound_issuer: string;
  jwt_supported_algs: string[];
  default_role: string;
}

interface JwtRole extends TokenParams {
  role_type: 'jwt';
  bound_audiences: string[];
  bound_subject: string;
  bound_claims: Record<string, string | string[]>;
  bound_claims_type: 'string' | 'glob';
  claim_mappings: Record<string, string>;
  user_claim: string;
  /** Seconds; -1 turns a check's leeway off, 0 takes the default. */
  clock_skew_leeway: number;
  expiration_leeway: number;
  not_before_leeway: number;
}

const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const DEFAULT_CLOCK_SKEW = 60;
const DEFAULT_EXP_LEEWAY = 150;
const DEFAULT_NBF_LEEWAY = 150;
const NAME = '(?<name>\\w(?:[\\w.@-]*\\w)?)';
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * JWT login, as Vault's jwt auth method in its `jwt` role type: a CI system (GitHub Actions,
 * GitLab CI) presents a JWT it signed; the signature is checked with the configured public keys
 * (`jwt_validation_pubkeys`), then issuer, audience, subject, bound claims and times (with
 * leeway), and the role's token is issued with metadata from `claim_mappings`.
 */
export class JwtBackend implements Backend {
  readonly type = 'jwt';
  readonly paths: PathDef[];
  readonly unauthenticated = [/^login$/];
  private readonly locks = new KeyedMutex();
  /** The configured keys, parsed once per configuration. */
  private keys: { pems: string; keys: KeyObject[] } | undefined;
  /** The JWK set from jwks_url, with when it was fetched. */
  private jwks: { url: string; at: number; keys: Jwk[] } | undefined;

  constructor(private readonly store: LogicalStore) {
    const name = (r: RoutedRequest) => (r.params.name as string).toLowerCase();
    this.paths = [
      {
        pattern: /^config$/,
        summary: 'The public keys JWTs are checked with, the bound issuer, the allowed algorithms',
        fields: {
          jwt_validation_pubkeys: fStringList(),
          bound_issuer: fString(),
          jwt_supported_algs: fStringList(),
          default_role: fString(),
          jwks_url: fString(),
          oidc_discovery_url: fString(),
        },
        operations: {
          read: async () => {
            const c = await this.config();
            return c ? { data: { ...c, jwks_url: c.jwks_url ?? '', oidc_discovery_url: '' } } : null;
          },
          update: (_r, f) => this.writeConfig(f),
          create: (_r, f) => this.writeConfig(f),
        },
      },
      {
        pattern: /^role\/?$/,
        summary: 'List the roles',
        operations: {
          list: async () => {
            const keys = (await this.store.list('role/')).filter((k) => !k.endsWith('/'));
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      {
        pattern: new RegExp(`^role/${NAME}$`),
        summary:
          'Create, read, update or delete a role: bound audiences, subject and claims, user claim, token settings',
        fields: {
          role_type: fString(),
          bound_audiences: fStringList(),
          bound_subject: fString(),
          bound_claims: fMap(),
          bound_claims_type: fString(),
          claim_mappings: fStringMap(),
          user_claim: fString(),
          clock_skew_leeway: fInt(),
          expiration_leeway: fInt(),
          not_before_leeway: fInt(),
          ...tokenFields,
        },
        existence: async (p) => (await this.role((p.name as string).toLowerCase())) !== undefined,
        operations: {
          read: async (r) => {
            const x = await this.role(name(r));
            return x ? { data: tokenParamsView(x) } : null;
          },
          create: (r, f) => this.writeRole(name(r), f),
          update: (r, f) => this.writeRole(name(r), f),
          delete: async (r) => {
            await this.store.delete(`role/${name(r)}`);
            return undefined;
          },
        },
      },
      {
        pattern: /^login$/,
        summary: 'Log in with a signed JWT and a role',
        fields: { role: fString(), jwt: fString() },
        operations: { update: (_r, f) => this.login(f), create: (_r, f) => this.login(f) },
      },
    ];
  }

  private async config(): Promise<JwtConfig | undefined> {
    const raw = await this.store.get('config');
    return raw ? (JSON.parse(dec.decode(raw)) as JwtConfig) : undefined;
  }

  private async role(name: string): Promise<JwtRole | undefined> {
    const raw = await this.store.get(`role/${name}`);
    return raw ? (JSON.parse(dec.decode(raw)) as JwtRole) : undefined;
  }

  private async writeConfig(f: Record<string, unknown>): Promise<HandlerResult> {
    if (f.oidc_discovery_url)
      throw invalid('oidc_discovery_url is not supported: use jwks_url or jwt_validation_pubkeys');
    const pems = (f.jwt_validation_pubkeys as string[] | undefined) ?? [];
    const jwksUrl = (f.jwks_url as string | undefined) ?? '';
    if ((pems.length === 0) === (jwksUrl === '')) {
      throw invalid("exactly one of 'jwt_validation_pubkeys', 'jwks_url' or 'oidc_discovery_url' must be set");
    }
    if (jwksUrl) {
      if (!/^https?:\/\/[^/]/.test(jwksUrl)) throw invalid(`invalid jwks_url "${jwksUrl}": expected an http(s) URL`);
      try {
        await fetchJwks(jwksUrl);
      } catch (e) {
        throw invalid(`error checking jwks URL: ${(e as Error).message}`);
      }
    } else parseKeys(pems);
    const algs = (f.jwt_supported_algs as string[] | undefined) ?? [];
    for (const a of algs)
      if (!ALGS.includes(a)) throw invalid(`unsupported signing algorithm "${a}" (use ${ALGS.join(', ')})`);
    const config: JwtConfig = {
      jwt_validation_pubkeys: pems,
      ...(jwksUrl ? { jwks_url: jwksUrl } : {}),
      bound_issuer: (f.bound_issuer as string | undefined) ?? '',
      jwt_supported_algs: algs,
      default_role: ((f.default_role as string | undefined) ?? '').toLowerCase(),
    };
    await this.store.put('config', enc.encode(JSON.stringify(config)));
    this.keys = undefined;
    this.jwks = undefined;
    return undefined;
  }

  private writeRole(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const cur = await this.role(name);
      const base: JwtRole = cur ?? {
        ...defaultTokenParams(),
        role_type: 'jwt',
        bound_audiences: [],
        bound_subject: '',
        bound_claims: {},
        bound_claims_type: 'string',
        claim_mappings: {},
        user_claim: '',
        clock_skew_leeway: 0,
        expiration_leeway: 0,
        not_before_leeway: 0,
      };
      const next: JwtRole = { ...base, ...applyTokenFields(base, f) };
      if (f.role_type !== undefined && f.role_type !== 'jwt') {
        throw invalid(`invalid 'role_type': "${f.role_type}" (only "jwt" roles: no OIDC browser flow here)`);
      }
      if (f.bound_audiences !== undefined) next.bound_audiences = f.bound_audiences as string[];
      if (f.bound_subject !== undefined) next.bound_subject = f.bound_subject as string;
      if (f.user_claim !== undefined) next.user_claim = f.user_claim as string;
      if (f.claim_mappings !== undefined) next.claim_mappings = f.claim_mappings as Record<string, string>;
      if (f.bound_claims_type !== undefined) {
        if (f.bound_claims_type !== 'string' && f.bound_claims_type !== 'glob') {
          throw invalid(`invalid 'bound_claims_type': "${f.bound_claims_type}" (use "string" or "glob")`);
        }
        next.bound_claims_type = f.bound_claims_type;
      }
      if (f.bound_claims !== undefined) {
        const claims: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(f.bound_claims as Record<string, unknown>)) {
          if (typeof v === 'string') claims[k] = v;
          else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) claims[k] = v as string[];
          else throw invalid(`bound claim "${k}" must be a string or a list of strings`);
        }
        next.bound_claims = claims;
      }
      for (const k of ['clock_skew_leeway', 'expiration_leeway', 'not_before_leeway'] as const) {
        if (f[k] === undefined) continue;
        const v = f[k] as number;
        if (v < -1) throw invalid(`'${k}' must be -1 (off), 0 (default) or a number of seconds`);
        next[k] = v;
      }
      if (!next.user_claim) throw invalid('a user claim must be defined on the role');
      if (
        next.bound_audiences.length === 0 &&
        next.bound_subject === '' &&
        Object.keys(next.bound_claims).length === 0 &&
        next.token_bound_cidrs.length === 0
      ) {
        throw invalid('must have at least one bound constraint when creating/updating a role');
      }
      await this.store.put(`role/${name}`, enc.encode(JSON.stringify(next)));
      return undefined;
    });
  }

  /** The keys of the JWK set that may have signed a token with `kid` (all of them without one). */
  private async jwksKeys(url: string, kid: string | undefined, refresh: boolean): Promise<KeyObject[]> {
    const fresh = this.jwks?.url === url && Date.now() - this.jwks.at < JWKS_MAX_AGE_MS;
    const recent = this.jwks?.url === url && Date.now() - this.jwks.at < JWKS_MIN_REFETCH_MS;
    if (!fresh || (refresh && !recent)) {
      try {
        this.jwks = { url, at: Date.now(), keys: await fetchJwks(url) };
      } catch (e) {
        throw new VaultError('internal', `error fetching the JWK set from jwks_url: ${(e as Error).message}`);
      }
    }
    const keys = this.jwks?.keys ?? [];
    return keys.filter((k) => kid === undefined || k.kid === undefined || k.kid === kid).map((k) => k.key);
  }

  private publicKeys(config: JwtConfig): KeyObject[] {
    const pems = config.jwt_validation_pubkeys.join('\n');
    if (this.keys?.pems !== pems) this.keys = { pems, keys: parseKeys(config.jwt_validation_pubkeys) };
    return this.keys.keys;
  }

  private async login(f: Record<string, unknown>): Promise<HandlerResult> {
    const config = await this.config();
    if (!config) throw invalid('could not load configuration');
    const roleName = ((f.role as string | undefined) || config.default_role).toLowerCase();
    if (!roleName) throw invalid('missing role');
    const role = await this.role(roleName);
    if (!role) throw invalid(`role "${roleName}" could not be found`);
    const token = typeof f.jwt === 'string' ? f.jwt : '';
    if (!token) throw invalid('missing token');

    const jwt = decodeJwt(token, config.jwt_supported_algs);
    let verified = config.jwks_url
      ? verifySignature(jwt, await this.jwksKeys(config.jwks_url, jwt.kid, false))
      : verifySignature(jwt, this.publicKeys(config));
    // A key the cached set does not have (the CI system rotated): fetch the set again, once.
    if (!verified && config.jwks_url)
      verified = verifySignature(jwt, await this.jwksKeys(config.jwks_url, jwt.kid, true));
    if (!verified) throw invalid('error validating token: no known key successfully validated the token signature');
    const claims = jwt.claims;
    checkTimes(claims, role);
    if (config.bound_issuer && claims.iss !== config.bound_issuer) throw invalid('invalid issuer (iss) claim');
    const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (role.bound_audiences.length > 0) {
      if (!aud.some((a) => role.bound_audiences.includes(String(a)))) {
        throw invalid('invalid audience (aud) claim: audience claim does not match any expected audience');
      }
    } else if (aud.length > 0) {
      throw invalid('audience claim found in JWT but no audiences bound to the role');
    }
    if (role.bound_subject && claims.sub !== role.bound_subject)
      throw invalid('sub claim does not match bound subject');
    for (const [claim, allowed] of Object.entries(role.bound_claims)) {
      const values = claimValues(claims, claim);
      const want = Array.isArray(allowed) ? allowed : [allowed];
      const ok = values.some((v) => want.some((w) => (role.bound_claims_type === 'glob' ? globMatch(w, v) : w === v)));
      if (!ok) throw invalid(`claim "${claim}" does not match any associated bound claim values`);
    }
    const user = claimValues(claims, role.user_claim)[0];
    if (user === undefined) throw invalid(`claim "${role.user_claim}" not found in token`);
    const metadata: Record<string, string> = { role: roleName };
    for (const [claim, key] of Object.entries(role.claim_mappings)) {
      const v = claimValues(claims, claim);
      if (v.length > 0) metadata[key] = v.join(',');
    }
    return { login: loginSpec(role, { metadata, displayName: `jwt-${user}`, aliasName: user }) };
  }
}

/** PEM public keys (SPKI or PKCS#1 RSA), each checked. */
function parseKeys(pems: string[]): KeyObject[] {
  return pems.map((pem, i) => {
    try {
      const k = createPublicKey(pem);
      if (!['rsa', 'rsa-pss', 'ec', 'ed25519'].includes(k.asymmetricKeyType ?? '')) {
        throw new Error(`unsupported key type ${k.asymmetricKeyType}`);
      }
      return k;
    } catch (e) {
      throw invalid(`error parsing public key ${i + 1}: ${(e as Error).message}`);
    }
  });
}

const b64url = (s: string) => Buffer.from(s, 'base64url');

interface DecodedJwt {
  alg: string;
  kid: string | undefined;
  claims: Record<string, unknown>;
  data: Buffer;
  sig: Buffer;
}

/** A JWT's parts, with an allowed algorithm; anything else is a 400. The signature is not checked yet. */
function decodeJwt(token: string, allowedAlgs: string[]): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw invalid('error validating token: malformed JWT (expected three base64url parts)');
  }
  let header: Record<string, unknown>;
  let claims: unknown;
  try {
    header = JSON.parse(b64url(parts[0] as string).toString('utf8'));
    claims = JSON.parse(b64url(parts[1] as string).toString('utf8'));
  } catch {
    throw invalid('error validating token: malformed JWT (header or claims are not JSON)');
  }
  if (!isPlainObject(header) || !isPlainObject(claims)) throw invalid('error validating token: malformed JWT');
  const alg = String(header.alg);
  if (!ALGS.includes(alg) || (allowedAlgs.length > 0 && !allowedAlgs.includes(alg))) {
    throw invalid(`error validating token: unsupported signing algorithm "${alg}"`);
  }
  return {
    alg,
    kid: typeof header.kid === 'string' ? header.kid : undefined,
    claims,
    data: Buffer.from(`${parts[0]}.${parts[1]}`),
    sig: b64url(parts[2] as string),
  };
}

function verifySignature(jwt: DecodedJwt, keys: KeyObject[]): boolean {
  return keys.some((k) => verifyWith(jwt.alg, k, jwt.data, jwt.sig));
}

interface Jwk {
  kid: string | undefined;
  key: KeyObject;
}

const JWKS_MAX_AGE_MS = 5 * 60_000;
/** An unknown kid fetches the set again, at most this often (a flood of made-up kids costs the issuer little). */
const JWKS_MIN_REFETCH_MS = 1000;
const JWKS_MAX_BYTES = 1024 * 1024;

/** The signing keys of a JWK set (RSA, EC, OKP); others (symmetric, encryption-only) are skipped. */
async function fetchJwks(url: string): Promise<Jwk[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const text = await res.text();
  if (text.length > JWKS_MAX_BYTES) throw new Error(`${url} answered more than ${JWKS_MAX_BYTES} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${url} did not answer JSON`);
  }
  const list = isPlainObject(doc) && Array.isArray(doc.keys) ? (doc.keys as unknown[]) : undefined;
  if (!list) throw new Error(`${url} did not answer a JWK set ({"keys": [...]})`);
  const out: Jwk[] = [];
  for (const k of list) {
    if (
      !isPlainObject(k) ||
      !['RSA', 'EC', 'OKP'].includes(String(k.kty)) ||
      (k.use !== undefined && k.use !== 'sig')
    ) {
      continue;
    }
    try {
      const key = createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' });
      out.push({ kid: typeof k.kid === 'string' ? k.kid : undefined, key });
    } catch {
      // A key node cannot read is not one that signed anything we can check.
    }
  }
  if (out.length === 0) throw new Error(`${url} has no usable signing keys`);
  return out;
}

function verifyWith(alg: string, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  const type = key.asymmetricKeyType;
  const hash = `sha${alg.slice(2)}`;
  try {
    if (alg === 'EdDSA') return type === 'ed25519' && verify(null, data, key, sig);
    if (alg.startsWith('ES')) {
      const curve = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }[alg];
      if (type !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== curve) return false;
      return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    }
    if (type !== 'rsa' && type !== 'rsa-pss') return false;
    if (alg.startsWith('PS')) {
      return verify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        sig,
      );
    }
    return type === 'rsa' && verify(hash, data, key, sig);
  } catch {
    return false;
  }
}

/** exp, nbf and iat against now, with the role's leeways (-1: none, 0: the default). */
function checkTimes(claims: Record<string, unknown>, role: JwtRole): void {
  const leeway = (v: number, dflt: number) => (v === -1 ? 0 : v || dflt);
  const skew = leeway(role.clock_skew_leeway, DEFAULT_CLOCK_SKEW);
  const now = Date.now() / 1000;
  const num = (name: string): number | undefined => {
    const v = claims[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`invalid ${name} claim: not a number`);
    return v;
  };
  const exp = num('exp');
  if (exp === undefined) throw invalid('invalid expiration time (exp) claim: the token has none');
  if (now > exp + leeway(role.expiration_leeway, DEFAULT_EXP_LEEWAY) + skew) {
    throw invalid('invalid expiration time (exp) claim: token is expired');
  }
  const nbf = num('nbf');
  if (nbf !== undefined && now < nbf - leeway(role.not_before_leeway, DEFAULT_NBF_LEEWAY) - skew) {
    throw invalid('invalid not before (nbf) claim: token not yet valid');
  }
  const iat = num('iat');
  if (iat !== undefined && now < iat - skew) throw invalid('invalid issued at (iat) claim: token issued in the future');
}

/** A claim's values as strings: a top-level name, or a JSON pointer ("/a/b") into nested claims. */
function claimValues(claims: Record<string, unknown>, name: string): string[] {
  let v: unknown = claims;
  if (name.startsWith('/')) {
    for (const seg of name.slice(1).split('/')) {
      const key = seg.replaceAll('~1', '/').replaceAll('~0', '~');
      v = isPlainObject(v) && Object.hasOwn(v, key) ? v[key] : undefined;
    }
  } else v = Object.hasOwn(claims, name) ? claims[name] : undefined;
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.filter((x) => ['string', 'number', 'boolean'].includes(typeof x)).map(String);
}

/** `*` matches any run of characters (Vault's bound_claims_type "glob"). */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

export const jwtFactory: BackendFactory = ({ store }) => new JwtBackend(store);
