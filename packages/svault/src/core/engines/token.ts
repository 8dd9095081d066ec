import type { LogicalStore } from '../barrier.js';
import { denied, invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fInt, fString, fStringList, fStringMap } from '../fields.js';
import type { Backend, HandlerResult, PathDef, RoutedRequest } from '../logical.js';
import { KeyedMutex } from '../storage.js';
import { authInfo, isBatchToken, lookupData, type TokenEntry, type TokenStore } from '../tokens.js';
import { applyRoleFields, newRole, ROLE_NAME, roleFields, rolePolicies, type TokenRole } from './token-roles.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** `auth/token/`: create, look up, renew and revoke tokens, and token roles, as Vault's token auth method. */
export class TokenBackend implements Backend {
  readonly type = 'token';
  readonly paths: PathDef[];
  private readonly roleLocks = new KeyedMutex();

  constructor(
    private readonly tokens: TokenStore,
    private readonly policyExists: (name: string) => boolean = () => true,
    /** Where token roles are kept. */
    private readonly roles?: LogicalStore,
  ) {
    const create = {
      policies: fStringList(),
      meta: fStringMap(),
      no_parent: fBool(),
      no_default_policy: fBool(),
      renewable: fBool(),
      ttl: fDuration(),
      explicit_max_ttl: fDuration(),
      display_name: fString(),
      num_uses: fInt(),
      period: fDuration(),
      type: fString(),
      id: fString(),
    };
    const token = { token: fString() };
    const accessor = { accessor: fString() };
    const increment = { increment: fDuration() };
    const upd = (h: (r: RoutedRequest, f: Record<string, unknown>) => Promise<HandlerResult>) => ({
      update: h,
      create: h,
    });
    this.paths = [
      {
        pattern: /^create$/,
        summary: 'Create a child token',
        fields: create,
        operations: upd((r, f) => this.create(r, f, false)),
      },
      {
        pattern: /^create\/(?<role_name>[^/]+)$/,
        summary: 'Create a token through a token role',
        fields: create,
        operations: upd(async (r, f) => this.create(r, f, false, await this.requireRole(r.params.role_name as string))),
      },
      {
        pattern: /^roles\/?$/,
        summary: 'List the token roles',
        operations: {
          list: async () => {
            const keys = this.roles ? (await this.roles.list('')).filter((k) => !k.endsWith('/')).sort() : [];
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
      {
        pattern: /^roles\/(?<role_name>[^/]+)$/,
        summary: 'Read, write or delete a token role',
        fields: roleFields,
        existence: async (p) => (await this.role(p.role_name as string)) !== undefined,
        operations: {
          read: async (r) => {
            const role = await this.role(r.params.role_name as string);
            return role ? { data: roleView(role) } : null;
          },
          create: (r, f) => this.writeRole(r.params.role_name as string, f),
          update: (r, f) => this.writeRole(r.params.role_name as string, f),
          delete: async (r) => {
            await this.roles?.delete(r.params.role_name as string);
            return undefined;
          },
        },
      },
      {
        pattern: /^create-orphan$/,
        summary: 'Create a token without a parent',
        fields: create,
        operations: upd((r, f) => this.create(r, f, true)),
      },
      {
        pattern: /^lookup$/,
        summary: 'Look up a token',
        fields: token,
        operations: upd(async (_r, f) => {
          const t = required(f.token, 'token');
          const e = await this.tokens.lookup(t);
          if (!e) throw invalid('bad token');
          return { data: lookupData(e, t) };
        }),
      },
      {
        pattern: /^lookup-self$/,
        summary: 'Look up the token in use',
        operations: {
          read: (r) => this.lookupSelf(r),
          update: (r) => this.lookupSelf(r),
        },
      },
      {
        pattern: /^lookup-accessor$/,
        summary: 'Look up a token by accessor',
        fields: accessor,
        operations: upd(async (_r, f) => ({
          data: lookupData(await this.byAccessor(required(f.accessor, 'accessor'))),
        })),
      },
      {
        pattern: /^renew$/,
        summary: 'Renew a token',
        fields: { ...token, ...increment },
        operations: upd(async (_r, f) => {
          const t = required(f.token, 'token');
          const e = await this.tokens.lookup(t);
          if (!e) throw invalid('invalid token');
          return { auth: authInfo(t, await this.tokens.renew(e, f.increment as number | undefined)) };
        }),
      },
      {
        pattern: /^renew-self$/,
        summary: 'Renew the token in use',
        fields: increment,
        operations: upd(async (r, f) => {
          const e = await this.self(r);
          return { auth: authInfo(r.caller.token, await this.tokens.renew(e, f.increment as number | undefined)) };
        }),
      },
      {
        pattern: /^renew-accessor$/,
        summary: 'Renew a token by accessor',
        fields: { ...accessor, ...increment },
        operations: upd(async (_r, f) => {
          const e = await this.byAccessor(required(f.accessor, 'accessor'));
          const next = await this.tokens.renew(e, f.increment as number | undefined);
          return { auth: { ...authInfo('', next) } };
        }),
      },
      {
        pattern: /^revoke$/,
        summary: 'Revoke a token and its children',
        fields: token,
        operations: upd(async (_r, f) => {
          const t = required(f.token, 'token');
          if (isBatchToken(t)) throw invalid(BATCH_NO_REVOKE);
          await this.tokens.revokeTree(this.tokens.hash(t));
          return undefined;
        }),
      },
      {
        pattern: /^revoke-self$/,
        summary: 'Revoke the token in use and its children',
        operations: upd(async (r) => {
          if (isBatchToken(r.caller.token)) throw invalid(BATCH_NO_REVOKE);
          await this.tokens.revokeTree(r.caller.tokenHash);
          return undefined;
        }),
      },
      {
        pattern: /^revoke-accessor$/,
        summary: 'Revoke a token by accessor, and its children',
        fields: accessor,
        operations: upd(async (_r, f) => {
          const hash = await this.tokens.hashByAccessor(required(f.accessor, 'accessor'));
          if (hash) await this.tokens.revokeTree(hash);
          return undefined;
        }),
      },
      {
        pattern: /^revoke-orphan$/,
        summary: 'Revoke a token; its children become orphans',
        fields: token,
        sudo: true,
        operations: upd(async (_r, f) => {
          await this.tokens.revokeOrphan(this.tokens.hash(required(f.token, 'token')));
          return undefined;
        }),
      },
      {
        pattern: /^accessors\/?$/,
        summary: 'List the accessors of all tokens',
        sudo: true,
        operations: {
          list: async () => {
            const keys = await this.tokens.accessors();
            return keys.length ? { data: { keys } } : null;
          },
        },
      },
    ];
  }

  private async self(r: RoutedRequest): Promise<TokenEntry> {
    const e = await this.tokens.lookup(r.caller.token);
    if (!e) throw denied();
    return e;
  }

  private async role(name: string): Promise<TokenRole | undefined> {
    if (!this.roles || !ROLE_NAME.test(name)) return undefined;
    const raw = await this.roles.get(name);
    return raw ? { ...newRole(name), ...(JSON.parse(dec.decode(raw)) as TokenRole) } : undefined;
  }

  private async requireRole(name: string): Promise<TokenRole> {
    const role = await this.role(name);
    if (!role) throw invalid(`unknown role ${name}`);
    return role;
  }

  private async writeRole(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    if (!this.roles) throw invalid('token roles are not available');
    if (!ROLE_NAME.test(name)) throw invalid(`invalid role name "${name}"`);
    const roles = this.roles;
    await this.roleLocks.run(name, async () => {
      const next = applyRoleFields((await this.role(name)) ?? newRole(name), f);
      await roles.put(name, enc.encode(JSON.stringify(next)));
    });
    return undefined;
  }

  private async lookupSelf(r: RoutedRequest): Promise<HandlerResult> {
    return { data: lookupData(await this.self(r), r.caller.token) };
  }

  private async byAccessor(accessor: string): Promise<TokenEntry> {
    const hash = await this.tokens.hashByAccessor(accessor);
    const e = hash ? await this.tokens.lookupByHash(hash) : undefined;
    if (!e) throw invalid('invalid accessor');
    return e;
  }

  private async create(
    r: RoutedRequest,
    f: Record<string, unknown>,
    orphanPath: boolean,
    role?: TokenRole,
  ): Promise<HandlerResult> {
    const parent = await this.self(r);
    if (parent.type === 'batch') throw invalid('batch tokens cannot create more tokens');
    const isRoot = parent.policies.includes('root');
    const type = tokenType(f.type as string | undefined, role);
    if (f.id !== undefined && !isRoot) throw invalid('root or sudo privileges required to specify token id');
    const noParent = orphanPath || role?.orphan === true || f.no_parent === true;
    if (f.no_parent === true && !orphanPath && !role?.orphan && !isRoot) {
      throw invalid('root or sudo privileges required to create orphan token');
    }
    const asked = f.policies as string[] | undefined;
    const requested = role
      ? rolePolicies(role, asked, parent.policies)
      : (asked ?? parent.policies.filter((p) => p !== 'default'));
    // A role's allowed policies replace the parent's as the limit; without them the parent's hold.
    const roleAllows = role && (role.allowed_policies.length > 0 || role.allowed_policies_glob.length > 0);
    if (!isRoot) {
      if (requested.includes('root')) throw denied();
      const missing = requested.filter((p) => p !== 'default' && !parent.policies.includes(p));
      if (missing.length && !roleAllows) throw invalid('child policies must be subset of parent');
    }
    const numUses = role?.token_num_uses || ((f.num_uses as number | undefined) ?? 0);
    if (numUses < 0) throw invalid('number of uses cannot be negative');
    const explicitMax = [role?.token_explicit_max_ttl ?? 0, (f.explicit_max_ttl as number | undefined) ?? 0].filter(
      (x) => x > 0,
    );
    const path = role
      ? `auth/token/create/${role.name}${role.path_suffix ? `/${role.path_suffix}` : ''}`
      : orphanPath
        ? 'auth/token/create-orphan'
        : 'auth/token/create';
    const { token, entry } = await this.tokens.create({
      policies: requested,
      meta: (f.meta as Record<string, string> | undefined) ?? null,
      displayName: f.display_name as string | undefined,
      ttl: f.ttl as number | undefined,
      explicitMaxTtl: explicitMax.length ? Math.min(...explicitMax) : 0,
      period: role?.token_period || (f.period as number | undefined),
      numUses,
      renewable: role && !role.renewable ? false : (f.renewable as boolean | undefined),
      noDefaultPolicy:
        f.no_default_policy === true ||
        role?.token_no_default_policy === true ||
        role?.disallowed_policies.includes('default') === true,
      parent: noParent ? '' : parent.hash,
      path,
      id: f.id as string | undefined,
      type,
      ...(role?.token_bound_cidrs.length ? { boundCidrs: role.token_bound_cidrs } : {}),
    });
    const missing = entry.policies.filter((p) => !this.policyExists(p));
    return { auth: authInfo(token, entry), warnings: missing.map((p) => `Policy "${p}" does not exist`) };
  }
}

const BATCH_NO_REVOKE = 'batch tokens cannot be revoked: they end with their TTL or their parent';

/** The token type a create asks for, within what the role allows (Vault's rules). */
function tokenType(asked: string | undefined, role?: TokenRole): 'service' | 'batch' {
  const want = asked === undefined || asked === '' || asked === 'default' ? undefined : asked;
  if (want !== undefined && want !== 'service' && want !== 'batch') {
    throw invalid(`invalid 'type' value "${asked}" (use service or batch)`);
  }
  const roleType = role?.token_type ?? 'default-service';
  if (roleType === 'service' || roleType === 'batch') {
    if (want !== undefined && want !== roleType) {
      throw invalid(`the role's token_type is ${roleType}: it cannot issue ${want} tokens`);
    }
    return roleType;
  }
  return (want as 'service' | 'batch' | undefined) ?? (roleType === 'default-batch' ? 'batch' : 'service');
}

/** A role as Vault shows it (with the legacy field names too). */
function roleView(r: TokenRole): Record<string, unknown> {
  return {
    ...r,
    period: r.token_period,
    explicit_max_ttl: r.token_explicit_max_ttl,
    bound_cidrs: r.token_bound_cidrs,
  };
}

function required(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new VaultError('invalid', `missing ${name}`);
  return v;
}
