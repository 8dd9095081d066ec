/**
 * The database engine's port to a database: what a plugin (Vault's database plugin, e.g.
 * postgresql-database-plugin) does for it. The engine names no driver; the server's wiring hands
 * it the plugins by name, each loaded on first use (a vault that never mounts `database` never
 * loads a driver).
 */

/** What the engine keeps about a connection and hands the plugin. */
export interface ConnectionSettings {
  connection_url: string;
  username: string;
  password: string;
  max_open_connections: number;
}

/** One connection config's pool. Statements are the role's, with {{name}}, {{password}}, {{expiration}}. */
export interface DatabaseConnection {
  /** Logs in and runs a trivial query. */
  verify(): Promise<void>;
  /** Runs the creation statements (the rollback ones if they fail, best effort). */
  createUser(
    creation: string[],
    rollback: string[],
    user: { username: string; password: string; expiration: Date },
  ): Promise<void>;
  /** Runs the revocation statements, or the plugin's default revocation without any. */
  revokeUser(statements: string[], username: string): Promise<void>;
  /** Moves the login's expiry (the renew statements, or the plugin's default). */
  renewUser(statements: string[], username: string, expiration: Date): Promise<void>;
  /** Sets an existing user's password (root rotation, static roles). */
  setPassword(statements: string[], username: string, password: string): Promise<void>;
  close(): Promise<void>;
}

export interface DatabasePlugin {
  /** Vault's plugin_name, as stored and shown (e.g. postgresql-database-plugin). */
  readonly name: string;
  open(name: string, settings: ConnectionSettings, warn: (message: string) => void): DatabaseConnection;
  /** The error is the database refusing the login (a wrong password), not it being unreachable. */
  isAuthFailure(e: unknown): boolean;
  /** The connection URL as a read shows it (a password written into it masked). */
  redactUrl(url: string): string;
}

/** Plugins by the names `plugin_name` may give (Vault's, and short aliases), each loaded on first use. */
export type DatabasePlugins = Readonly<Record<string, () => Promise<DatabasePlugin>>>;
