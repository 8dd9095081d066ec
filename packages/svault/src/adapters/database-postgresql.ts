import pg from 'pg';
import type { ConnectionSettings, DatabaseConnection, DatabasePlugin } from '../core/engines/database/plugin.js';
import { quoteIdentifier, quoteLiteral, renderStatement, type SqlValue } from '../core/engines/database/sql.js';
import { invalid, VaultError } from '../core/errors.js';

/** Vault's format for {{expiration}}, which PostgreSQL reads in VALID UNTIL. */
export function sqlTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

/**
 * `connection_url` with `{{username}}` / `{{password}}` filled in (URL-escaped, so a password with
 * '@' or '/' stays a password); credentials not in the URL are set on it.
 */
export function connectionString(s: ConnectionSettings): string {
  if (!/^postgres(?:ql)?:\/\//.test(s.connection_url)) {
    throw invalid(
      'connection_url must be a postgresql:// URL, e.g. postgresql://{{username}}:{{password}}@db:5432/app',
    );
  }
  const filled = s.connection_url
    .replaceAll('{{username}}', encodeURIComponent(s.username))
    .replaceAll('{{password}}', encodeURIComponent(s.password));
  let url: URL;
  try {
    url = new URL(filled);
  } catch {
    throw invalid('connection_url is not a valid URL');
  }
  if (!url.username && s.username) url.username = s.username;
  if (!url.password && s.password) url.password = s.password;
  return url.toString();
}

/** The URL as a read shows it: a password written into it (not a template) is masked. */
export function redactUrl(u: string): string {
  return u.replace(/^(postgres(?:ql)?:\/\/[^:@/]*:)([^@/]*)@/, (all, head: string, pw: string) =>
    pw === '{{password}}' ? all : `${head}*****@`,
  );
}

const SECONDS = 1000;

/**
 * The PostgreSQL plugin: one small pool per connection config. Creation and default revocation
 * each run in one transaction; every value reaches SQL through `renderStatement` or quoting.
 */
export class PostgresPlugin implements DatabaseConnection {
  private readonly pool: pg.Pool;

  constructor(
    readonly name: string,
    settings: ConnectionSettings,
    warn: (message: string) => void,
  ) {
    this.pool = new pg.Pool({
      connectionString: connectionString(settings),
      max: settings.max_open_connections,
      // A database that does not answer must not hold a request or the lease timer forever.
      connectionTimeoutMillis: 10 * SECONDS,
      query_timeout: 60 * SECONDS,
      idleTimeoutMillis: 30 * SECONDS,
      allowExitOnIdle: true,
    });
    // An idle connection dropped by the server (restart, terminate) must not crash the process.
    this.pool.on('error', (e) => warn(`connection "${name}": idle connection lost: ${e.message}`));
  }

  async verify(): Promise<void> {
    await this.run(async (c) => {
      await c.query('SELECT 1');
    });
  }

  /** Runs the creation statements in one transaction; on failure, the rollback statements (best effort). */
  async createUser(
    creation: string[],
    rollback: string[],
    user: { username: string; password: string; expiration: Date },
  ): Promise<void> {
    const vars = userVars(user.username, { password: user.password, expiration: sqlTimestamp(user.expiration) });
    const statements = creation.map((s) => renderStatement(s, vars));
    try {
      await this.transaction(statements);
    } catch (e) {
      if (rollback.length) {
        await this.transaction(rollback.map((s) => renderStatement(s, vars))).catch(() => {});
      }
      throw e;
    }
  }

  /**
   * With statements: those, in one transaction. Without: no new logins, its sessions ended, what
   * it owns handed to the connection's user, then the role dropped. A role already gone is revoked.
   */
  async revokeUser(statements: string[], username: string): Promise<void> {
    if (statements.length) {
      await this.transaction(statements.map((s) => renderStatement(s, userVars(username, {}))));
      return;
    }
    await this.run(async (c) => {
      const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
      if (!exists.rowCount) return;
      const role = quoteIdentifier(username);
      // NOLOGIN first, committed on its own, so that no session starts between the terminate and the drop.
      await c.query(`ALTER ROLE ${role} NOLOGIN`);
      await c.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()',
        [username],
      );
      await inTransaction(c, [
        `REASSIGN OWNED BY ${role} TO CURRENT_USER`,
        `DROP OWNED BY ${role}`,
        `DROP ROLE ${role}`,
      ]);
    });
  }

  async renewUser(statements: string[], username: string, expiration: Date): Promise<void> {
    const until = sqlTimestamp(expiration);
    const sql = statements.length
      ? statements.map((s) => renderStatement(s, userVars(username, { expiration: until })))
      : [`ALTER ROLE ${quoteIdentifier(username)} VALID UNTIL ${quoteLiteral(until)}`];
    await this.transaction(sql);
  }

  /** Sets a user's password (root_rotation_statements or a static role's rotation_statements, else ALTER ROLE). */
  async setPassword(statements: string[], username: string, password: string): Promise<void> {
    const sql = statements.length
      ? statements.map((s) => renderStatement(s, userVars(username, { password })))
      : [`ALTER ROLE ${quoteIdentifier(username)} WITH PASSWORD ${quoteLiteral(password)}`];
    await this.transaction(sql);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private transaction(statements: string[]): Promise<void> {
    return this.run((c) => inTransaction(c, statements));
  }

  private async run(fn: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw dbError(this.name, e);
    }
    let broken: Error | undefined;
    try {
      await fn(client);
    } catch (e) {
      // A failed statement leaves the session usable; a lost connection must not go back to the pool.
      if (!(e instanceof pg.DatabaseError)) broken = e as Error;
      throw dbError(this.name, e);
    } finally {
      client.release(broken);
    }
  }
}

async function inTransaction(c: pg.PoolClient, statements: string[]): Promise<void> {
  await c.query('BEGIN');
  try {
    for (const s of statements) if (s.trim()) await c.query(s);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** {{name}} and {{username}} are the same login, as in Vault's PostgreSQL plugin. */
function userVars(username: string, literals: Record<string, string>): Record<string, SqlValue> {
  const vars: Record<string, SqlValue> = {
    name: { kind: 'identifier', value: username },
    username: { kind: 'identifier', value: username },
  };
  for (const [k, v] of Object.entries(literals)) vars[k] = { kind: 'literal', value: v };
  return vars;
}

/** A wrong password, as PostgreSQL reports it (the rotate-root recovery tells it from an outage). */
export function isAuthFailure(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } }).cause?.code;
  return code === '28P01' || code === '28000';
}

function dbError(name: string, e: unknown): VaultError {
  if (e instanceof VaultError) return e;
  const msg = (e as Error).message || String(e);
  return new VaultError('internal', `database "${name}": ${msg}`, { cause: e });
}

/** The PostgreSQL plugin, as the database engine's port sees it. */
export const postgresqlPlugin: DatabasePlugin = {
  name: 'postgresql-database-plugin',
  open: (name, settings, warn) => new PostgresPlugin(name, settings, warn),
  isAuthFailure,
  redactUrl,
};
