import { validateCidrs } from '../../cidr.js';
import { invalid } from '../../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../../fields.js';
import type { LoginSpec } from '../../logical.js';

/**
 * The token settings every auth method's roles and users carry (Vault's tokenutil): what a login
 * through them issues. Durations in seconds; 0 means "the mount's, else the system's".
 */
export interface TokenParams {
  token_policies: string[];
  token_ttl: number;
  token_max_ttl: number;
  token_explicit_max_ttl: number;
  token_period: number;
  token_num_uses: number;
  token_no_default_policy: boolean;
  token_bound_cidrs: string[];
  token_type: string;
}

export const defaultTokenParams = (): TokenParams => ({
  token_policies: [],
  token_ttl: 0,
  token_max_ttl: 0,
  token_explicit_max_ttl: 0,
  token_period: 0,
  token_num_uses: 0,
  token_no_default_policy: false,
  token_bound_cidrs: [],
  token_type: 'default-service',
});

export const tokenFields = {
  token_policies: fStringList(),
  policies: fStringList(),
  token_ttl: fDuration(),
  token_max_ttl: fDuration(),
  token_explicit_max_ttl: fDuration(),
  token_period: fDuration(),
  token_num_uses: fInt(),
  token_no_default_policy: fBool(),
  token_bound_cidrs: fStringList(),
  token_type: fString(),
};

/** `cur` with the token fields given in a request; a bad combination is a 400. */
export function applyTokenFields(cur: TokenParams, f: Record<string, unknown>): TokenParams {
  const next = { ...cur };
  const policies = (f.token_policies ?? f.policies) as string[] | undefined;
  if (policies !== undefined) next.token_policies = policies.map((p) => p.trim().toLowerCase()).filter(Boolean);
  for (const k of ['token_ttl', 'token_max_ttl', 'token_explicit_max_ttl', 'token_period', 'token_num_uses'] as const) {
    if (f[k] !== undefined) next[k] = f[k] as number;
  }
  if (f.token_no_default_policy !== undefined) next.token_no_default_policy = f.token_no_default_policy as boolean;
  if (f.token_bound_cidrs !== undefined) next.token_bound_cidrs = validateCidrs(f.token_bound_cidrs as string[]);
  if (f.token_type !== undefined) {
    const t = f.token_type as string;
    if (!['default', 'service', 'default-service', 'batch', 'default-batch'].includes(t)) {
      throw invalid(`invalid 'token_type' value "${t}" (use service, batch, default-service or default-batch)`);
    }
    next.token_type = t === 'default' ? 'default-service' : t;
  }
  if (next.token_num_uses < 0) throw invalid("'token_num_uses' cannot be negative");
  if (next.token_max_ttl > 0 && next.token_ttl > next.token_max_ttl) {
    throw invalid("'token_ttl' cannot be greater than 'token_max_ttl'");
  }
  return next;
}

/** The token fields as Vault shows them on a role or user (with the legacy `policies` too). */
export function tokenParamsView(p: TokenParams): Record<string, unknown> {
  return { ...p, policies: p.token_policies };
}

/** What the core needs to issue the token of a login through these settings. */
export function loginSpec(
  p: TokenParams,
  extra: { metadata: Record<string, string>; displayName: string; boundCidrs?: string[]; aliasName?: string },
): LoginSpec {
  return {
    policies: p.token_policies,
    metadata: extra.metadata,
    displayName: extra.displayName,
    ttl: p.token_ttl,
    maxTtl: p.token_max_ttl,
    explicitMaxTtl: p.token_explicit_max_ttl,
    period: p.token_period,
    numUses: p.token_num_uses,
    noDefaultPolicy: p.token_no_default_policy,
    boundCidrs: extra.boundCidrs ?? p.token_bound_cidrs,
    ...(extra.aliasName ? { aliasName: extra.aliasName } : {}),
    tokenType: p.token_type === 'batch' || p.token_type === 'default-batch' ? 'batch' : 'service',
  };
}
