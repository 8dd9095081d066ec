import { validateCidrs } from '../cidr.js';
import { invalid } from '../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../fields.js';

/**
 * Token roles (`auth/token/roles/<name>`), as Vault's: what `auth/token/create/<name>` issues. A role
 * with allowed policies lets a token create tokens with those policies even when it does not carry
 * them itself (that is what roles are for); the ACL on `auth/token/create/<name>` decides who may.
 */
export interface TokenRole {
  name: string;
  allowed_policies: string[];
  disallowed_policies: string[];
  allowed_policies_glob: string[];
  disallowed_policies_glob: string[];
  orphan: boolean;
  renewable: boolean;
  path_suffix: string;
  allowed_entity_aliases: string[];
  token_period: number;
  token_explicit_max_ttl: number;
  token_type: 'service' | 'batch' | 'default-service' | 'default-batch';
  token_bound_cidrs: string[];
  token_no_default_policy: boolean;
  token_num_uses: number;
}

export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const roleFields = {
  allowed_policies: fStringList(),
  disallowed_policies: fStringList(),
  allowed_policies_glob: fStringList(),
  disallowed_policies_glob: fStringList(),
  orphan: fBool(),
  renewable: fBool(),
  path_suffix: fString(),
  allowed_entity_aliases: fStringList(),
  token_period: fDuration(),
  period: fDuration(),
  token_explicit_max_ttl: fDuration(),
  explicit_max_ttl: fDuration(),
  token_type: fString(),
  token_bound_cidrs: fStringList(),
  bound_cidrs: fStringList(),
  token_no_default_policy: fBool(),
  token_num_uses: fInt(),
};

const TOKEN_TYPES = ['service', 'batch', 'default-service', 'default-batch'] as const;

export function newRole(name: string): TokenRole {
  return {
    name,
    allowed_policies: [],
    disallowed_policies: [],
    allowed_policies_glob: [],
    disallowed_policies_glob: [],
    orphan: false,
    renewable: true,
    path_suffix: '',
    allowed_entity_aliases: [],
    token_period: 0,
    token_explicit_max_ttl: 0,
    token_type: 'default-service',
    token_bound_cidrs: [],
    token_no_default_policy: false,
    token_num_uses: 0,
  };
}

/** `cur` with the fields a request gives (the legacy names too); a bad value is a 400. */
export function applyRoleFields(cur: TokenRole, f: Record<string, unknown>): TokenRole {
  const next = { ...cur };
  const lower = (v: unknown) => (v as string[]).map((p) => p.trim().toLowerCase()).filter(Boolean);
  for (const k of [
    'allowed_policies',
    'disallowed_policies',
    'allowed_policies_glob',
    'disallowed_policies_glob',
  ] as const) {
    if (f[k] !== undefined) next[k] = lower(f[k]);
  }
  if (f.allowed_entity_aliases !== undefined) next.allowed_entity_aliases = f.allowed_entity_aliases as string[];
  if (f.orphan !== undefined) next.orphan = f.orphan as boolean;
  if (f.renewable !== undefined) next.renewable = f.renewable as boolean;
  if (f.path_suffix !== undefined) {
    const s = f.path_suffix as string;
    if (s !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)) throw invalid('path_suffix may not contain "/" or ".."');
    next.path_suffix = s;
  }
  const period = f.token_period ?? f.period;
  if (period !== undefined) next.token_period = period as number;
  const max = f.token_explicit_max_ttl ?? f.explicit_max_ttl;
  if (max !== undefined) next.token_explicit_max_ttl = max as number;
  const cidrs = f.token_bound_cidrs ?? f.bound_cidrs;
  if (cidrs !== undefined) next.token_bound_cidrs = validateCidrs(cidrs as string[]);
  if (f.token_no_default_policy !== undefined) next.token_no_default_policy = f.token_no_default_policy as boolean;
  if (f.token_num_uses !== undefined) {
    if ((f.token_num_uses as number) < 0) throw invalid("'token_num_uses' cannot be negative");
    next.token_num_uses = f.token_num_uses as number;
  }
  if (f.token_type !== undefined) {
    const t = f.token_type === 'default' ? 'default-service' : (f.token_type as string);
    if (!(TOKEN_TYPES as readonly string[]).includes(t)) {
      throw invalid(`invalid 'token_type' value "${f.token_type}" (use ${TOKEN_TYPES.join(', ')})`);
    }
    next.token_type = t as TokenRole['token_type'];
  }
  if (next.token_type === 'batch' && next.token_period > 0) throw invalid('batch tokens cannot be periodic');
  if (next.token_type === 'batch' && next.token_num_uses > 0) throw invalid('batch tokens cannot have a use limit');
  return next;
}

/** Vault's policy globs: `*` stands for any run of characters. */
function globMatch(pattern: string, s: string): boolean {
  const parts = pattern.split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(s);
}

/**
 * The policies a token created through `role` gets, checked as Vault does. `requested` undefined:
 * the role's allowed policies, or else the parent's.
 */
export function rolePolicies(role: TokenRole, requested: string[] | undefined, parentPolicies: string[]): string[] {
  const allowedSet = role.allowed_policies.length > 0 || role.allowed_policies_glob.length > 0;
  let policies = requested ?? (allowedSet ? role.allowed_policies : parentPolicies.filter((p) => p !== 'default'));
  policies = policies.map((p) => p.trim().toLowerCase()).filter(Boolean);
  if (allowedSet) {
    const ok = (p: string) =>
      p === 'default' || role.allowed_policies.includes(p) || role.allowed_policies_glob.some((g) => globMatch(g, p));
    if (!policies.every(ok)) {
      throw invalid(
        `token policies (${JSON.stringify(policies)}) must be subset of the role's allowed policies (${JSON.stringify([
          ...role.allowed_policies,
          ...role.allowed_policies_glob,
        ])})`,
      );
    }
  }
  for (const p of policies) {
    if (role.disallowed_policies.includes(p) || role.disallowed_policies_glob.some((g) => globMatch(g, p))) {
      throw invalid(`token policy "${p}" is disallowed by this role`);
    }
  }
  return policies;
}
