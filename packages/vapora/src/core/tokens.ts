import { conflictError, notFoundError } from '@stratumiops/shared/errors';
import { type Caller, generateToken, parseToken, secretMatches, tokenInput } from './auth.js';
import { parse } from './parse.js';
import type { ApiToken, TokenStore } from './store.js';

/** API tokens: made (the secret shown once, stored as a hash), listed, revoked, and checked on every request. */
export class TokenRegistry {
  constructor(
    private readonly store: TokenStore,
    private readonly now: () => number,
    /** A project's id from its id or name (404 when absent). */
    private readonly projectId: (idOrName: string) => Promise<string>,
  ) {}

  /** A new token; the secret is in the answer once and stored only as a hash. */
  async create(input: unknown): Promise<ApiToken & { token: string }> {
    const t = parse(tokenInput, input, 'token');
    const projects = t.projects ? await Promise.all(t.projects.map(async (p) => await this.projectId(p))) : null;
    const { token, id, secretHash } = generateToken();
    const now = this.now();
    const row: ApiToken = {
      id,
      name: t.name,
      role: t.role,
      projects,
      createdAt: now,
      expiresAt: t.ttl_s ? now + t.ttl_s * 1000 : null,
      revokedAt: null,
    };
    await this.store.createToken({ ...row, secretHash });
    return { ...row, token };
  }

  list(): Promise<ApiToken[]> {
    return this.store.listTokens();
  }

  async revoke(id: string): Promise<ApiToken> {
    const t = await this.store.getToken(id);
    if (!t) throw notFoundError(`no token '${id}'`, { hint: "see 'vapora token list'" });
    if (!(await this.store.revokeToken(id, this.now()))) throw conflictError(`token '${id}' is already revoked`);
    const { secretHash: _, ...info } = t;
    return { ...info, revokedAt: this.now() };
  }

  /** The caller a bearer token stands for, or undefined (unknown, wrong secret, revoked, expired). */
  async authenticate(bearer: string): Promise<Caller | undefined> {
    const p = parseToken(bearer);
    if (!p) return undefined;
    const t = await this.store.getToken(p.id);
    if (!t || !secretMatches(p.secret, t.secretHash)) return undefined;
    if (t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= this.now())) return undefined;
    return { tokenId: t.id, name: t.name, role: t.role, projects: t.projects };
  }
}
