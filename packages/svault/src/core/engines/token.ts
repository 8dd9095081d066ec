import { denied, invalid, VaultError } from '../errors.js';
import { fBool, fDuration, fInt, fString, fStringList, fStringMap } from '../fields.js';
import type { Backend, HandlerResult, PathDef, RoutedRequest } from '../logical.js';
import { authInfo, lookupData, type TokenEntry, type TokenStore } from '../tokens.js';

/** `auth/token/`: create, look up, renew and revoke tokens, as Vault's token auth method. */
export class TokenBackend implements Backend {
  readonly type = 'token';
  readonly paths: PathDef[];

  constructor(
    private readonly tokens: TokenStore,
    private readonly policyExists: (name: string) => boolean = () => true,
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
          await this.tokens.revokeTree(this.tokens.hash(required(f.token, 'token')));
          return undefined;
        }),
      },
      {
        pattern: /^revoke-self$/,
        summary: 'Revoke the token in use and its children',
        operations: upd(async (r) => {
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
    const e = await this.tokens.lookupByHash(r.caller.tokenHash);
    if (!e) throw denied();
    return e;
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

  private async create(r: RoutedRequest, f: Record<string, unknown>, orphanPath: boolean): Promise<HandlerResult> {
    const parent = await this.self(r);
    const isRoot = parent.policies.includes('root');
    if (f.type !== undefined && f.type !== 'service' && f.type !== 'default') {
      throw invalid(`token type "${f.type}" is not supported; only "service" tokens`);
    }
    if (f.id !== undefined && !isRoot) throw invalid('root or sudo privileges required to specify token id');
    const noParent = orphanPath || f.no_parent === true;
    if (f.no_parent === true && !orphanPath && !isRoot) {
      throw invalid('root or sudo privileges required to create orphan token');
    }
    const requested = (f.policies as string[] | undefined) ?? parent.policies.filter((p) => p !== 'default');
    if (!isRoot) {
      if (requested.includes('root')) throw denied();
      const missing = requested.filter((p) => p !== 'default' && !parent.policies.includes(p));
      if (missing.length) throw invalid('child policies must be subset of parent');
    }
    const numUses = (f.num_uses as number | undefined) ?? 0;
    if (numUses < 0) throw invalid('number of uses cannot be negative');
    const { token, entry } = await this.tokens.create({
      policies: requested,
      meta: (f.meta as Record<string, string> | undefined) ?? null,
      displayName: f.display_name as string | undefined,
      ttl: f.ttl as number | undefined,
      explicitMaxTtl: f.explicit_max_ttl as number | undefined,
      period: f.period as number | undefined,
      numUses,
      renewable: f.renewable as boolean | undefined,
      noDefaultPolicy: f.no_default_policy === true,
      parent: noParent ? '' : parent.hash,
      path: orphanPath ? 'auth/token/create-orphan' : 'auth/token/create',
      id: f.id as string | undefined,
    });
    const missing = entry.policies.filter((p) => !this.policyExists(p));
    return { auth: authInfo(token, entry), warnings: missing.map((p) => `Policy "${p}" does not exist`) };
  }
}

function required(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') throw new VaultError('invalid', `missing ${name}`);
  return v;
}
