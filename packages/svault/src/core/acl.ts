import { randomUUID } from 'node:crypto';
import type * as CedarNs from '@cedar-policy/cedar-wasm/nodejs';
import type { LogicalStore } from './barrier.js';
import { invalid } from './errors.js';
import {
  type AclVerdict,
  looksLikeVaultPolicy,
  type PathRule,
  parseVaultPolicy,
  renderRules,
  type TemplateInput,
  VaultAcl,
} from './vault-acl.js';
import { VersionedCache } from './versioned-cache.js';
import { RESPONSE_WRAPPING_POLICY, RESPONSE_WRAPPING_POLICY_NAME } from './wrapping.js';

/**
 * Authorization with Cedar and with Vault's own ACL language (HCL or JSON, see vault-acl.ts), each
 * policy in either. Deny by default; root bypasses (the caller checks that). A request is allowed
 * when some policy of the token allows it and none denies it (a Cedar `forbid`, a Vault `deny`
 * capability or a denied parameter), whichever language each is written in.
 *
 * - Principal: `Svault::Token::"<accessor>"` (the accessor, never the token), with attributes
 *   `id` (= the entity id), `accessor`, `token_type` ("service" or "batch"), `display_name`,
 *   `policies` (a set) and `metadata` (a record), and one parent `Svault::Policy::"<name>"` per
 *   attached policy. A batch token has no accessor: its id is `batch-<32 hex>`, from the token's
 *   keyed hash (stable for that token, distinct between tokens, never the token), and its
 *   `accessor` attribute is "" (so a policy on `Svault::Token::""` matches no token).
 * - Action: `Svault::Action::"read" | "create" | "update" | "delete" | "list" | "sudo"`.
 * - Resource: `Svault::Path::"secret/data/myapp/db"` with attributes `path`, `mount`
 *   ("secret/"), `mount_type`, `rel` (the path within the mount), `segments` (a set) and
 *   `segment` (a record by position: `resource.segment["2"]`); each
 *   path is `in` its folders ("secret/data/myapp/", "secret/data/", "secret/"), so
 *   `resource in Svault::Path::"secret/data/myapp/"` means everything under that folder.
 * - Context: `remote_address` (may be "").
 *
 * Policies are Cedar documents stored by name through the barrier. As in Vault, a named policy
 * applies only to tokens that carry it: each statement gets the extra condition
 * `principal in Svault::Policy::"<name>"` before the whole set is parsed, once, into Cedar's
 * cache (`preparsePolicySet`); it is parsed again only when a policy changes.
 */
type Cedar = typeof CedarNs;
type PolicyJson = CedarNs.PolicyJson;
type EntityJson = CedarNs.EntityJson;

export const ACL_ACTIONS = ['read', 'create', 'update', 'delete', 'list', 'sudo'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];
const ENTITY_TYPES = new Set(['Svault::Token', 'Svault::Policy', 'Svault::Path', 'Svault::Action']);

export const DEFAULT_POLICY = `// Built in, with the meaning of Vault's "default" policy: every token may look up,
// renew and revoke itself, and check its own capabilities. Nothing else.
// It can be replaced ('svault policy write default FILE') but not deleted.
permit (
  principal,
  action in [Svault::Action::"read", Svault::Action::"update"],
  resource == Svault::Path::"auth/token/lookup-self"
);
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"auth/token/renew-self");
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"auth/token/revoke-self");
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"sys/capabilities-self");
// Response wrapping: wrap data, look up and unwrap a wrapping token.
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"sys/wrapping/wrap");
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"sys/wrapping/lookup");
permit (principal, action == Svault::Action::"update", resource == Svault::Path::"sys/wrapping/unwrap");
// The token's own cubbyhole.
permit (
  principal,
  action in [Svault::Action::"read", Svault::Action::"create", Svault::Action::"update", Svault::Action::"delete", Svault::Action::"list"],
  resource in Svault::Path::"cubbyhole/"
);
`;
const ROOT_POLICY = '// Built in: the root policy allows everything. It cannot be changed or deleted.\n';

let cedarModule: Cedar | undefined;
/** Cedar's wasm build for Node (the package root needs a bundler); loaded on first use. */
export async function loadCedar(): Promise<Cedar> {
  cedarModule ??= (await import('@cedar-policy/cedar-wasm/nodejs')) as Cedar;
  return cedarModule;
}

/** A token's Cedar entity id: its accessor, or for a batch token (which has none) one from its keyed hash. */
export function principalId(p: Pick<AclPrincipal, 'accessor' | 'tokenHash'>): string {
  if (p.accessor) return p.accessor;
  return p.tokenHash ? `batch-${p.tokenHash.slice(0, 32)}` : '';
}

export interface AclPrincipal {
  /** '' for batch tokens (they have none): `tokenHash` then tells tokens apart. */
  accessor: string;
  tokenHash?: string;
  displayName: string;
  policies: string[];
  metadata: Record<string, string> | null;
  /** The login that issued the token: Vault policies' templated paths use it. */
  alias?: TemplateInput['alias'];
}

/** What the request carries beyond its path, for Vault policies' parameter and wrapping rules. */
export interface AclRequestExtras {
  data?: Record<string, unknown>;
  /** A PATCH: Vault policies need the `patch` capability for it (Cedar sees an update). */
  patch?: boolean;
  wrapTtl?: number;
}

export interface AclResource {
  /** The request path; a trailing '/' for list requests. */
  path: string;
  mount: string;
  mountType: string;
}

interface StoredPolicy {
  name: string;
  policy: string;
}

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,127}$/;
const MAX_POLICY_BYTES = 128 * 1024;
const DECISION_CACHE_MAX = 20_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function normalizePolicyName(name: string): string {
  const n = name.trim().toLowerCase();
  if (!NAME_RE.test(n)) {
    throw invalid(`invalid policy name "${name}": use 1-128 of a-z, 0-9, '.', '_', '-'`);
  }
  return n;
}

/** The policies in the vault, compiled into one Cedar policy set, and the decisions made with them. */
export class PolicyStore {
  private readonly setId = `svault-${randomUUID()}`;
  private texts = new Map<string, string>();
  private compiled = new Map<string, Compiled>();
  /** Policies in Vault's language: their parsed rules. */
  private vaultRules = new Map<string, PathRule[]>();
  /** Each token's merged Vault rules, by its (cached, frozen) policy list; replaced on any change. */
  private vaultAcls = new WeakMap<readonly string[], VaultAcl | null>();
  /** Cedar's verdicts by token, action, path and address; emptied whenever a policy changes. */
  private readonly decisions = new VersionedCache<string, AclVerdict>({ maxEntries: DECISION_CACHE_MAX });

  private constructor(
    private readonly cedar: Cedar,
    private readonly store: LogicalStore,
  ) {}

  /** Loads every stored policy (plus the built-in default) and parses the set once. */
  static async open(store: LogicalStore): Promise<PolicyStore> {
    const ps = new PolicyStore(await loadCedar(), store);
    ps.texts.set('default', DEFAULT_POLICY);
    ps.vaultRules.set(RESPONSE_WRAPPING_POLICY_NAME, parseVaultPolicy(RESPONSE_WRAPPING_POLICY));
    for (const key of await store.list('')) {
      if (key.endsWith('/')) continue;
      const raw = await store.get(key);
      if (!raw) continue;
      const doc = JSON.parse(dec.decode(raw)) as StoredPolicy;
      ps.texts.set(doc.name, doc.policy);
    }
    for (const [name, text] of ps.texts) {
      try {
        if (looksLikeVaultPolicy(text)) ps.vaultRules.set(name, parseVaultPolicy(text));
        else ps.compiled.set(name, ps.compile(name, text));
      } catch {
        // A policy that no longer parses (written by a newer version?) grants nothing.
        ps.compiled.set(name, { json: {}, scopes: [] });
      }
    }
    ps.install();
    return ps;
  }

  names(): string[] {
    return ['root', ...this.texts.keys()].sort();
  }

  has(name: string): boolean {
    return name === 'root' || this.texts.has(name);
  }

  read(name: string): { name: string; policy: string } | undefined {
    const n = name.trim().toLowerCase();
    if (n === 'root') return { name: 'root', policy: ROOT_POLICY };
    const text = this.texts.get(n);
    return text === undefined ? undefined : { name: n, policy: text };
  }

  /**
   * Validates, stores and activates a policy, Cedar or Vault's HCL/JSON (told apart by how it
   * starts); a parse error is a 400 with the parser's message and position.
   */
  async write(name: string, text: string): Promise<void> {
    const n = normalizePolicyName(name);
    if (n === 'root' || n === RESPONSE_WRAPPING_POLICY_NAME) throw invalid(`cannot update "${n}" policy`);
    if (enc.encode(text).length > MAX_POLICY_BYTES) throw invalid(`policy larger than ${MAX_POLICY_BYTES} bytes`);
    const vault = looksLikeVaultPolicy(text) ? parseVaultPolicy(text) : undefined;
    // Parse the whole set before storing anything, so a rejected policy changes nothing.
    const next = new Map(this.compiled);
    if (vault) next.delete(n);
    else next.set(n, this.compile(n, text));
    this.prepare(next);
    await this.store.put(n, enc.encode(JSON.stringify({ name: n, policy: text } satisfies StoredPolicy)));
    this.texts.set(n, text);
    this.compiled = next;
    if (vault) this.vaultRules.set(n, vault);
    else this.vaultRules.delete(n);
    this.vaultAcls = new WeakMap();
    this.decisions.clear();
  }

  async delete(name: string): Promise<void> {
    const n = name.trim().toLowerCase();
    if (n === 'root' || n === 'default') throw invalid(`cannot delete "${n}" policy`);
    if (!this.texts.has(n)) return;
    await this.store.delete(n);
    this.texts.delete(n);
    this.compiled.delete(n);
    this.vaultRules.delete(n);
    this.vaultAcls = new WeakMap();
    this.install();
  }

  /**
   * One decision: allowed when a policy of the token allows and none denies, Vault's and Cedar's
   * alike. Vault policies: the token's merged rules, built once per token and matched with a
   * cache. Cedar: when every statement of the token's policies is scope-only (no `when`/`unless`,
   * no `is`, no slots), it is decided here without a call into Cedar (a forbid that matches
   * denies, a permit allows: Cedar's semantics for these forms; a test holds the two equal).
   * Otherwise Cedar decides, and the verdict is cached per token, action, path and address until a
   * policy changes.
   */
  isAllowed(
    principal: AclPrincipal,
    action: AclAction,
    resource: AclResource,
    remoteAddress = '',
    opts: { viaCedar?: boolean } & AclRequestExtras = {},
  ): boolean {
    const acl = this.vaultRules.size > 0 ? this.vaultAclOf(principal) : undefined;
    let vault: AclVerdict = 'none';
    if (acl) {
      const capability = opts.patch && action === 'update' ? 'patch' : action;
      vault = acl.check(resource.path, { capability, data: opts.data, wrapTtl: opts.wrapTtl });
      if (vault === 'deny') return false;
    }
    const cedar = this.cedarVerdict(principal, action, resource, remoteAddress, opts.viaCedar === true);
    return cedar !== 'deny' && (cedar === 'allow' || vault === 'allow');
  }

  private cedarVerdict(
    principal: AclPrincipal,
    action: AclAction,
    resource: AclResource,
    remoteAddress: string,
    viaCedar: boolean,
  ): AclVerdict {
    if (!viaCedar) {
      const scopes: Scope[] = [];
      let simple = true;
      for (const name of principal.policies) {
        const c = this.compiled.get(name);
        if (!c) continue;
        if (c.scopes === undefined) {
          simple = false;
          break;
        }
        scopes.push(...c.scopes);
      }
      if (simple) return decideScopes(scopes, principal, action, resource.path);
    }
    const who = principalId(principal);
    const key = `${who}\0${action}\0${resource.path}\0${remoteAddress}`;
    const hit = viaCedar ? undefined : this.decisions.peek(key);
    if (hit !== undefined) return hit;
    const ans = this.cedar.statefulIsAuthorized({
      principal: { type: 'Svault::Token', id: who },
      action: { type: 'Svault::Action', id: action },
      resource: { type: 'Svault::Path', id: resource.path },
      context: { remote_address: remoteAddress.replace(/^::ffff:/, '') },
      entities: [principalEntity(principal), ...pathEntities(resource)],
      preparsedPolicySetId: this.setId,
    });
    let verdict: AclVerdict = 'none';
    if (ans.type === 'success') {
      // A deny with determining policies is a forbid that matched; without, nothing permitted.
      if (ans.response.decision === 'allow') verdict = 'allow';
      else if (ans.response.diagnostics.reason.length > 0) verdict = 'deny';
    }
    this.decisions.set(key, verdict);
    return verdict;
  }

  /** The token's Vault policies merged (templates filled in from its login); undefined when it has none. */
  private vaultAclOf(principal: AclPrincipal): VaultAcl | undefined {
    const cached = this.vaultAcls.get(principal.policies);
    if (cached !== undefined) return cached ?? undefined;
    const rules: PathRule[] = [];
    for (const name of principal.policies) {
      const r = this.vaultRules.get(name);
      if (r) rules.push(...renderRules(r, { alias: principal.alias }));
    }
    const acl = rules.length > 0 ? new VaultAcl(rules) : null;
    // Cached token entries hand the same array to every request of the token.
    this.vaultAcls.set(principal.policies, acl);
    return acl ?? undefined;
  }

  /** Vault capability names a token's Vault policies grant on a path (for sys/capabilities). */
  vaultCapabilities(principal: AclPrincipal, path: string): string[] {
    return this.vaultAclOf(principal)?.capabilities(path) ?? [];
  }

  /**
   * Whether the token's policies could allow anything at `prefix` or below it (Vault's
   * hasMountAccess, for the UI mount listings). Scope-only statements are looked at; a policy
   * with conditions can only be decided per path, so it counts as access.
   */
  mayAccessUnder(principal: AclPrincipal, prefix: string): boolean {
    if (this.vaultAclOf(principal)?.mayAccessUnder(prefix)) return true;
    for (const name of principal.policies) {
      const c = this.compiled.get(name);
      if (!c) continue;
      if (c.scopes === undefined) return true;
      for (const s of c.scopes) {
        if (!s.permit || s.principal === 'none' || s.resource === 'none') continue;
        if (s.principal !== undefined) {
          const p = s.principal;
          if ('token' in p ? p.token !== principalId(principal) : !principal.policies.includes(p.policy)) continue;
        }
        if (s.resource === undefined) return true;
        const target = 'eq' in s.resource ? s.resource.eq : s.resource.in;
        if (target.startsWith(prefix) || ('in' in s.resource && prefix.startsWith(target))) return true;
      }
    }
    return false;
  }

  /** Frees Cedar's copy of the set (on seal). */
  close(): void {
    this.cedar.preparsePolicySet(this.setId, { staticPolicies: {} });
    this.decisions.clear();
  }

  private install(): void {
    this.prepare(this.compiled);
    this.decisions.clear();
  }

  private prepare(compiled: Map<string, Compiled>): void {
    const staticPolicies: Record<string, PolicyJson> = {};
    for (const c of compiled.values()) Object.assign(staticPolicies, c.json);
    const r = this.cedar.preparsePolicySet(this.setId, { staticPolicies });
    if (r.type === 'failure') throw invalid(`failed to parse policy set: ${formatErrors(r.errors)}`);
  }

  /** Cedar text → JSON statements scoped to tokens that carry `name`; throws 400 on any problem. */
  private compile(name: string, text: string): Compiled {
    const parts = this.cedar.policySetTextToParts(text);
    if (parts.type === 'failure')
      throw invalid(`failed to parse policy "${name}": ${formatErrors(parts.errors, text)}`);
    if (parts.policy_templates.length > 0)
      throw invalid(`policy "${name}": templates (?principal, ?resource) are not supported`);
    if (parts.policies.length === 0) throw invalid(`policy "${name}" has no permit or forbid statement`);
    const out: Record<string, PolicyJson> = {};
    let scopes: Scope[] | undefined = [];
    parts.policies.forEach((p, i) => {
      const j = this.cedar.policyToJson(p);
      if (j.type === 'failure') throw invalid(`failed to parse policy "${name}": ${formatErrors(j.errors, p)}`);
      checkEntities(name, j.json);
      const scope = scopeOf(j.json);
      if (scope && scopes) scopes.push(scope);
      else scopes = undefined;
      j.json.conditions.push({
        kind: 'when',
        body: {
          in: { left: { Var: 'principal' }, right: { Value: { __entity: { type: 'Svault::Policy', id: name } } } },
        },
      });
      out[`${name}#${i}`] = j.json;
    });
    return { json: out, ...(scopes ? { scopes } : {}) };
  }
}

interface Compiled {
  /** The statements as Cedar JSON, each scoped to tokens carrying the policy. */
  json: Record<string, PolicyJson>;
  /** The same statements in scope-only form, when every one of them has that form. */
  scopes?: Scope[];
}

/** A statement decided by its scope alone. */
interface Scope {
  permit: boolean;
  /** undefined: any principal. */
  principal?: { token: string } | { policy: string } | 'none';
  /** undefined: any action. */
  actions?: Set<string>;
  /** undefined: any resource. */
  resource?: { eq: string } | { in: string } | 'none';
}

/** The scope-only form of a statement, or undefined when it has conditions, `is`, or slots. */
function scopeOf(j: PolicyJson): Scope | undefined {
  if (j.conditions.length > 0) return undefined;
  const out: Scope = { permit: j.effect === 'permit' };
  const entity = (c: { entity?: CedarNs.EntityUidJson }) => {
    const e = c.entity as { type?: string; id?: string; __entity?: { type: string; id: string } } | undefined;
    return e?.__entity ?? (e && typeof e.type === 'string' ? (e as { type: string; id: string }) : undefined);
  };
  const pr = j.principal as { op: string; entity?: CedarNs.EntityUidJson };
  if (pr.op !== 'All') {
    const e = entity(pr);
    if (!e || (pr.op !== '==' && pr.op !== 'in')) return undefined;
    if (e.type === 'Svault::Token') out.principal = { token: e.id };
    else if (e.type === 'Svault::Policy' && pr.op === 'in') out.principal = { policy: e.id };
    else out.principal = 'none';
  }
  const ac = j.action as { op: string; entity?: CedarNs.EntityUidJson; entities?: CedarNs.EntityUidJson[] };
  if (ac.op !== 'All') {
    const list = ac.entities ?? (ac.entity ? [ac.entity] : undefined);
    if (!list || (ac.op !== '==' && ac.op !== 'in')) return undefined;
    out.actions = new Set();
    for (const x of list) {
      const e = entity({ entity: x });
      if (!e) return undefined;
      // Actions have no hierarchy here: `in A` is `== A`.
      if (e.type === 'Svault::Action') out.actions.add(e.id);
    }
  }
  const rs = j.resource as { op: string; entity?: CedarNs.EntityUidJson };
  if (rs.op !== 'All') {
    const e = entity(rs);
    if (!e || (rs.op !== '==' && rs.op !== 'in')) return undefined;
    if (e.type !== 'Svault::Path') out.resource = 'none';
    else out.resource = rs.op === '==' ? { eq: e.id } : { in: e.id };
  }
  return out;
}

function scopeMatches(s: Scope, p: AclPrincipal, action: string, path: string): boolean {
  if (s.principal !== undefined) {
    if (s.principal === 'none') return false;
    if ('token' in s.principal ? s.principal.token !== principalId(p) : !p.policies.includes(s.principal.policy)) {
      return false;
    }
  }
  if (s.actions && !s.actions.has(action)) return false;
  if (s.resource !== undefined) {
    if (s.resource === 'none') return false;
    if ('eq' in s.resource) return s.resource.eq === path;
    // A path is `in` itself and in each folder above it (see pathEntities).
    const f = s.resource.in;
    return f === path || (f.endsWith('/') && f.length > 1 && path.startsWith(f));
  }
  return true;
}

function decideScopes(scopes: Scope[], p: AclPrincipal, action: string, path: string): AclVerdict {
  let permitted = false;
  for (const s of scopes) {
    if (!scopeMatches(s, p, action, path)) continue;
    if (!s.permit) return 'deny';
    permitted = true;
  }
  return permitted ? 'allow' : 'none';
}

/** Unknown entity types and actions are typos that would silently never match: refuse them. */
function checkEntities(name: string, json: PolicyJson): void {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && typeof o.id === 'string') {
      if (!ENTITY_TYPES.has(o.type)) {
        throw invalid(`policy "${name}": unknown entity type ${o.type} (use ${[...ENTITY_TYPES].join(', ')})`);
      }
      if (o.type === 'Svault::Action' && !(ACL_ACTIONS as readonly string[]).includes(o.id)) {
        throw invalid(`policy "${name}": unknown action "${o.id}" (use ${ACL_ACTIONS.join(', ')})`);
      }
    }
    for (const x of Object.values(o)) visit(x);
  };
  visit(json);
}

function formatErrors(errors: CedarNs.DetailedError[], text?: string): string {
  return errors
    .map((e) => {
      const loc = e.sourceLocations?.[0];
      let where = '';
      if (loc && text !== undefined) {
        const before = text.slice(0, loc.start);
        const line = before.split('\n').length;
        const col = loc.start - before.lastIndexOf('\n');
        where = ` at ${line}:${col}`;
      }
      const label = loc?.label ? ` (${loc.label})` : '';
      return `${e.message}${label}${where}`;
    })
    .join('; ');
}

// Plain loops below, no Array.prototype.map/filter callbacks: with these objects on the hot
// path, Node 20's V8 crashed now and then deoptimizing inside such a builtin (a fatal
// "unreachable code" in Deoptimizer::DoComputeBuiltinContinuation).

function principalEntity(p: AclPrincipal): EntityJson {
  const parents: { type: string; id: string }[] = [];
  for (const id of p.policies) parents.push({ type: 'Svault::Policy', id });
  const id = principalId(p);
  return {
    uid: { type: 'Svault::Token', id },
    attrs: {
      id,
      accessor: p.accessor,
      token_type: p.accessor ? 'service' : 'batch',
      display_name: p.displayName,
      policies: [...p.policies],
      metadata: { ...(p.metadata ?? {}) },
    },
    parents,
  };
}

/** The path entity and its folders, each `in` the next one up. */
export function pathEntities(r: AclResource): EntityJson[] {
  const segments: string[] = [];
  for (const seg of r.path.split('/')) if (seg !== '') segments.push(seg);
  const folders: string[] = [];
  let prefix = '';
  for (let i = 0; i < segments.length - 1; i++) {
    prefix += `${segments[i]}/`;
    folders.unshift(prefix);
  }
  const segment: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) segment[String(i)] = segments[i] as string;
  const out: EntityJson[] = [
    {
      uid: { type: 'Svault::Path', id: r.path },
      attrs: {
        path: r.path,
        mount: r.mount,
        mount_type: r.mountType,
        rel: r.mount && r.path.startsWith(r.mount) ? r.path.slice(r.mount.length) : r.path,
        segments,
        segment,
      },
      parents: folders.length > 0 ? [{ type: 'Svault::Path', id: folders[0] as string }] : [],
    },
  ];
  for (let i = 0; i < folders.length; i++) {
    const next = folders[i + 1];
    out.push({
      uid: { type: 'Svault::Path', id: folders[i] as string },
      attrs: { path: folders[i] as string },
      parents: next === undefined ? [] : [{ type: 'Svault::Path', id: next }],
    });
  }
  return out;
}

export function isAclAction(a: string): a is AclAction {
  return (ACL_ACTIONS as readonly string[]).includes(a);
}
