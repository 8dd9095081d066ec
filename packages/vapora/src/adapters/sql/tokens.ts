import type { Row, SqlDriver } from '@stratumiops/shared/sql/driver';
import type { ApiRole, ApiToken, TokenStore } from '../../core/store.js';
import { num, numOrNull, str } from './rows.js';

// API tokens: the secret is stored as its SHA-256 only.

function toToken(r: Row): ApiToken {
  return {
    id: str(r.id),
    name: str(r.name),
    role: str(r.role) as ApiRole,
    projects: r.projects === null || r.projects === undefined ? null : (JSON.parse(String(r.projects)) as string[]),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}

export function tokensSql(db: SqlDriver): TokenStore {
  const store: TokenStore = {
    async createToken(t: ApiToken & { secretHash: string }): Promise<void> {
      await db.run(
        `INSERT INTO api_tokens (id, name, role, projects, secret_hash, created_at, expires_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          t.id,
          t.name,
          t.role,
          t.projects === null ? null : JSON.stringify(t.projects),
          t.secretHash,
          t.createdAt,
          t.expiresAt,
          t.revokedAt,
        ],
      );
    },

    async getToken(id: string): Promise<(ApiToken & { secretHash: string }) | undefined> {
      const r = await db.get('SELECT * FROM api_tokens WHERE id = ?', [id]);
      return r ? { ...toToken(r), secretHash: str(r.secret_hash) } : undefined;
    },

    async listTokens(): Promise<ApiToken[]> {
      return (await db.all('SELECT * FROM api_tokens ORDER BY created_at, id')).map(toToken);
    },

    async revokeToken(id: string, now: number): Promise<boolean> {
      return (await db.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])) > 0;
    },
  };
  return store;
}
