import { randomBytes } from 'node:crypto';
import * as z from '@stratumiops/shared/zod';
import type { LogicalStore } from '../barrier.js';
import { invalid } from '../errors.js';
import { fBool, fDuration, fInt, fString, fStringList } from '../fields.js';
import type {
  Backend,
  BackendFactory,
  EngineContext,
  HandlerResult,
  LeaseInfo,
  MountEntry,
  PathDef,
  RoutedRequest,
} from '../logical.js';
import { KeyedMutex } from '../storage.js';
import { randomBase62, SYSTEM_MAX_TTL } from '../tokens.js';
import type { ConnectionSettings, DatabaseConnection, DatabasePlugin, DatabasePlugins } from './database/plugin.js';

/**
 * The database secrets engine, as Vault's, with the plugins the server hands it (PostgreSQL's:
 * see DatabasePlugin): connections (`config/`),
 * roles (`roles/`), and leased logins (`creds/<role>`) that the lease manager revokes on time.
 * Layout in the mount's barrier view: `config/<name>` (with the root password: it never leaves
 * the barrier, and a read never shows it), `role/<name>`.
 */

const NAME_RE = /^\w(?:[\w.-]*\w)?$/;
const MAX_NAME = 128;
const DEFAULT_MAX_OPEN = 4;

interface DbConfig extends ConnectionSettings {
  plugin_name: string;
  allowed_roles: string[];
  verify_connection: boolean;
  root_rotation_statements: string[];
  /** The new root password while a rotate-root runs: settled on next use if the process died meanwhile. */
  pending_password?: string;
}

interface DbRole {
  db_name: string;
  creation_statements: string[];
  revocation_statements: string[];
  renew_statements: string[];
  rollback_statements: string[];
  default_ttl: number;
  max_ttl: number;
}

/**
 * A static role: an existing database user whose password svault owns and rotates every
 * `rotation_period`: by the engine's timer on the active node, and also when its credentials are
 * read after that (the timer may not have run yet), or at once on rotate-role.
 */
interface StaticRole {
  db_name: string;
  username: string;
  rotation_period: number;
  rotation_statements: string[];
  password: string;
  /** RFC 3339. */
  last_vault_rotation: string;
  /** Set while a rotation runs: settled on next use if the process died in between. */
  pending_password?: string;
}

const MIN_ROTATION_PERIOD = 5;
/** The rotation timer looks at least this often (a role written meanwhile re-arms it at once). */
const STATIC_SWEEP_MAX_MS = 60_000;
/** A rotation that failed (database down) is tried again after this long. */
const STATIC_RETRY_MS = 10_000;

/** What a lease keeps to revoke or renew the login later. */
interface CredsInternal {
  username: string;
  role: string;
  db_name: string;
  /** The role's statements when issued, for a role deleted since. */
  revocation_statements: string[];
}

/** Vault's TypeStringSlice: a list, or one string kept whole (SQL has commas). */
const fStatements = () =>
  z.union([z.array(z.string()), z.string().transform((s) => (s.trim() ? [s] : []))]).describe('a list of statements');

const enc = new TextEncoder();
const dec = new TextDecoder();

async function getJson<T>(store: LogicalStore, key: string): Promise<T | undefined> {
  const raw = await store.get(key);
  return raw ? (JSON.parse(dec.decode(raw)) as T) : undefined;
}

function checkName(name: string, what: string): string {
  if (name.length > MAX_NAME || !NAME_RE.test(name)) {
    throw invalid(`invalid ${what} name "${name}": use letters, digits, '_', '-' and '.' (at most ${MAX_NAME})`);
  }
  return name;
}

/** Vault's allowed_roles: exact names, '*' for any, or globs with '*'. */
function roleAllowed(allowed: string[], role: string): boolean {
  return allowed.some((p) => {
    if (!p.includes('*')) return p === role;
    const re = p
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    return new RegExp(`^${re}$`).test(role);
  });
}

/** Letters and digits: never a quote or backslash, whatever the statements do with it. */
function generatePassword(): string {
  return randomBase62(24);
}

/** Vault's default PostgreSQL username: v-<display name>-<role>-<random>-<unix time>, within 63 bytes. */
function generateUsername(displayName: string, role: string): string {
  const part = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9_.-]/g, '_')
      .slice(0, 8);
  const random = [...randomBytes(20)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
  return `v-${part(displayName || 'token')}-${part(role)}-${random}-${Math.floor(Date.now() / 1000)}`.slice(0, 63);
}

export class DatabaseBackend implements Backend {
  readonly type = 'database';
  readonly paths: PathDef[];
  private readonly store: LogicalStore;
  private readonly entry: MountEntry;
  private readonly warn: (m: string) => void;
  /** The plugins this engine may use, by plugin_name (from the server's wiring). */
  private readonly available: DatabasePlugins;
  /** Open pools by connection name; replaced whenever the connection's config changes. */
  private readonly plugins = new Map<string, DatabaseConnection>();
  private readonly locks = new KeyedMutex();
  /** Static-role rotation: on while this node is active (start/stop), the timer and the sweep it runs. */
  private active = false;
  private staticTimer: NodeJS.Timeout | undefined;
  private sweep: Promise<void> | undefined;
  /** A static role changed while a sweep ran: sweep again right after. */
  private sweepAgain = false;

  constructor(ctx: EngineContext) {
    this.store = ctx.store;
    this.entry = ctx.entry;
    this.warn = ctx.warn;
    this.available = ctx.databasePlugins ?? {};
    const configFields = {
      name: fString(),
      plugin_name: fString(),
      plugin: fString(),
      connection_url: fString(),
      username: fString(),
      password: fString(),
      allowed_roles: fStringList(),
      verify_connection: fBool(),
      max_open_connections: fInt(),
      root_rotation_statements: fStatements(),
    };
    const roleFields = {
      name: fString(),
      db_name: fString(),
      db: fString(),
      creation_statements: fStatements(),
      revocation_statements: fStatements(),
      renew_statements: fStatements(),
      rollback_statements: fStatements(),
      default_ttl: fDuration(),
      max_ttl: fDuration(),
      credential_type: fString(),
    };
    const exists = (prefix: string) => async (p: Record<string, string>) =>
      NAME_RE.test(p.name ?? '') && (await this.store.get(`${prefix}${p.name}`)) !== undefined;
    const list = (prefix: string) => async (): Promise<HandlerResult> => {
      const keys = await this.store.list(prefix);
      return keys.length ? { data: { keys } } : null;
    };
    const nameOf = (r: RoutedRequest, what: string) => checkName(r.params.name as string, what);
    this.paths = [
      {
        pattern: /^config\/?$/,
        summary: 'List the database connections',
        operations: { list: list('config/') },
      },
      {
        pattern: /^config\/(?<name>[^/]+)$/,
        summary: 'Configure, read or delete a database connection',
        fields: configFields,
        existence: exists('config/'),
        operations: {
          read: (r) => this.readConfig(nameOf(r, 'connection')),
          create: (r, f) => this.writeConfig(nameOf(r, 'connection'), f),
          update: (r, f) => this.writeConfig(nameOf(r, 'connection'), f),
          delete: (r) => this.deleteConfig(nameOf(r, 'connection')),
        },
      },
      {
        pattern: /^reset\/(?<name>[^/]+)$/,
        summary: 'Close a connection and open it again from its stored config',
        operations: { update: (r) => this.reset(nameOf(r, 'connection')) },
      },
      {
        pattern: /^rotate-root\/(?<name>[^/]+)$/,
        summary: "Change the connection user's password in the database; only svault knows the new one",
        operations: { update: (r) => this.rotateRoot(nameOf(r, 'connection')) },
      },
      {
        pattern: /^roles\/?$/,
        summary: 'List the roles',
        operations: { list: list('role/') },
      },
      {
        pattern: /^roles\/(?<name>[^/]+)$/,
        summary: 'Create, read or delete a role: its SQL statements and TTLs',
        fields: roleFields,
        existence: exists('role/'),
        operations: {
          read: (r) => this.readRole(nameOf(r, 'role')),
          create: (r, f) => this.writeRole(nameOf(r, 'role'), f),
          update: (r, f) => this.writeRole(nameOf(r, 'role'), f),
          delete: async (r) => {
            await this.store.delete(`role/${nameOf(r, 'role')}`);
            return undefined;
          },
        },
      },
      {
        pattern: /^static-roles\/?$/,
        summary: 'List the static roles',
        operations: { list: list('static-role/') },
      },
      {
        pattern: /^static-roles\/(?<name>[^/]+)$/,
        summary: 'Read, write or delete a static role (an existing user whose password svault rotates)',
        fields: {
          db_name: fString(),
          username: fString(),
          rotation_period: fDuration(),
          rotation_statements: fStatements(),
          credential_type: fString(),
        },
        existence: exists('static-role/'),
        operations: {
          read: (r) => this.readStatic(nameOf(r, 'role')),
          create: (r, f) => this.writeStatic(nameOf(r, 'role'), f),
          update: (r, f) => this.writeStatic(nameOf(r, 'role'), f),
          delete: async (r) => {
            await this.store.delete(`static-role/${nameOf(r, 'role')}`);
            this.rearm();
            return undefined;
          },
        },
      },
      {
        pattern: /^static-creds\/(?<name>[^/]+)$/,
        summary: "A static role's current password (rotated first when its period has passed)",
        operations: { read: (r) => this.staticCreds(nameOf(r, 'role')) },
      },
      {
        pattern: /^rotate-role\/(?<name>[^/]+)$/,
        summary: "Rotate a static role's password now",
        operations: {
          create: (r) => this.rotateStatic(nameOf(r, 'role'), true),
          update: (r) => this.rotateStatic(nameOf(r, 'role'), true),
        },
      },
      {
        pattern: /^creds\/(?<name>[^/]+)$/,
        summary: 'Create a database login for a role, under a lease',
        operations: { read: (r) => this.creds(nameOf(r, 'role'), r) },
      },
    ];
  }

  // --- connections ---

  private config(name: string): Promise<DbConfig | undefined> {
    return getJson<DbConfig>(this.store, `config/${name}`);
  }

  private async saveConfig(name: string, cfg: DbConfig): Promise<void> {
    await this.store.put(`config/${name}`, enc.encode(JSON.stringify(cfg)));
  }

  private async readConfig(name: string): Promise<HandlerResult> {
    const cfg = await this.config(name);
    if (!cfg) return null;
    return {
      data: {
        allowed_roles: cfg.allowed_roles,
        connection_details: {
          connection_url: (await this.driver(cfg.plugin_name)).redactUrl(cfg.connection_url),
          username: cfg.username,
          max_open_connections: cfg.max_open_connections,
        },
        password_policy: '',
        plugin_name: cfg.plugin_name,
        plugin_version: '',
        root_credentials_rotate_statements: cfg.root_rotation_statements,
        verify_connection: cfg.verify_connection,
      },
    };
  }

  /** A write merges with the stored config; with verify_connection it is stored only once a connection works. */
  private async writeConfig(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      const old = await this.config(name);
      const pluginName = (f.plugin_name ?? f.plugin ?? old?.plugin_name) as string | undefined;
      if (!pluginName) throw invalid(`plugin_name must be set (${this.pluginNames()})`);
      const driver = await this.driver(pluginName);
      const cfg: DbConfig = {
        plugin_name: driver.name,
        connection_url: (f.connection_url as string | undefined) ?? old?.connection_url ?? '',
        username: (f.username as string | undefined) ?? old?.username ?? '',
        password: (f.password as string | undefined) ?? old?.password ?? '',
        allowed_roles: (f.allowed_roles as string[] | undefined) ?? old?.allowed_roles ?? ['*'],
        verify_connection: (f.verify_connection as boolean | undefined) ?? true,
        max_open_connections: (f.max_open_connections as number | undefined) ?? old?.max_open_connections ?? 0,
        root_rotation_statements:
          (f.root_rotation_statements as string[] | undefined) ?? old?.root_rotation_statements ?? [],
      };
      if (!cfg.connection_url) throw invalid('connection_url must be set');
      if (cfg.max_open_connections <= 0) cfg.max_open_connections = DEFAULT_MAX_OPEN;
      const plugin = driver.open(name, cfg, this.warn);
      if (cfg.verify_connection) {
        try {
          await plugin.verify();
        } catch (e) {
          await plugin.close();
          throw invalid(`error creating database object: error verifying connection: ${(e as Error).message}`);
        }
      }
      await this.saveConfig(name, cfg);
      await this.replacePlugin(name, plugin);
      return undefined;
    });
  }

  private async deleteConfig(name: string): Promise<HandlerResult> {
    return this.locks.run(name, async () => {
      await this.replacePlugin(name, undefined);
      await this.store.delete(`config/${name}`);
      return undefined;
    });
  }

  private async reset(name: string): Promise<HandlerResult> {
    await this.locks.run(name, async () => {
      if (!(await this.config(name))) throw invalid(`unknown connection "${name}"`);
      await this.replacePlugin(name, undefined);
    });
    await (await this.plugin(name)).verify();
    return undefined;
  }

  /**
   * The new password is stored as pending before ALTER ROLE runs and made current after it: a crash
   * in between leaves both, and the next use keeps the one the database accepts (`settleRotation`).
   */
  private async rotateRoot(name: string): Promise<HandlerResult> {
    const plugin = await this.plugin(name);
    await this.locks.run(name, async () => {
      const cfg = await this.config(name);
      if (!cfg) throw invalid(`unknown connection "${name}"`);
      if (!cfg.username || !cfg.password) {
        throw invalid('rotate-root needs the connection to have username and password set');
      }
      const next = generatePassword();
      await this.saveConfig(name, { ...cfg, pending_password: next });
      try {
        await plugin.setPassword(cfg.root_rotation_statements, cfg.username, next);
      } catch (e) {
        await this.saveConfig(name, cfg);
        throw e;
      }
      await this.saveConfig(name, { ...cfg, password: next });
      await this.replacePlugin(name, undefined);
    });
    return undefined;
  }

  private pluginNames(): string {
    return Object.keys(this.available).join(', ') || 'none';
  }

  /** The plugin of that name, loaded on first use. */
  private async driver(pluginName: string): Promise<DatabasePlugin> {
    const load = Object.hasOwn(this.available, pluginName) ? this.available[pluginName] : undefined;
    if (!load) throw invalid(`unsupported plugin "${pluginName}": svault has ${this.pluginNames()}`);
    return load();
  }

  /** The open pool of a connection, opened on first use. */
  private plugin(name: string): Promise<DatabaseConnection> {
    const open = this.plugins.get(name);
    if (open) return Promise.resolve(open);
    return this.locks.run(name, async () => {
      const again = this.plugins.get(name);
      if (again) return again;
      let cfg = await this.config(name);
      if (!cfg) throw invalid(`database configuration "${name}" does not exist`);
      if (cfg.pending_password) cfg = await this.settleRotation(name, cfg);
      const plugin = (await this.driver(cfg.plugin_name)).open(name, cfg, this.warn);
      this.plugins.set(name, plugin);
      return plugin;
    });
  }

  /** After a rotate-root interrupted between ALTER ROLE and storing: keep the password that logs in. */
  private async settleRotation(name: string, cfg: DbConfig): Promise<DbConfig> {
    const { pending_password: pending, ...rest } = cfg;
    const driver = await this.driver(cfg.plugin_name);
    const trial = driver.open(name, { ...rest, password: pending ?? '' }, this.warn);
    let settled: DbConfig;
    try {
      await trial.verify();
      settled = { ...rest, password: pending ?? '' };
    } catch (e) {
      if (!driver.isAuthFailure(e)) throw e;
      settled = rest;
    } finally {
      await trial.close();
    }
    await this.saveConfig(name, settled);
    return settled;
  }

  private async replacePlugin(name: string, next: DatabaseConnection | undefined): Promise<void> {
    const old = this.plugins.get(name);
    if (next) this.plugins.set(name, next);
    else this.plugins.delete(name);
    await old?.close().catch((e) => this.warn(`closing connection "${name}": ${e}`));
  }

  // --- roles ---

  private role(name: string): Promise<DbRole | undefined> {
    return getJson<DbRole>(this.store, `role/${name}`);
  }

  private async readRole(name: string): Promise<HandlerResult> {
    const role = await this.role(name);
    if (!role) return null;
    return {
      data: {
        db_name: role.db_name,
        creation_statements: role.creation_statements,
        revocation_statements: role.revocation_statements,
        renew_statements: role.renew_statements,
        rollback_statements: role.rollback_statements,
        default_ttl: role.default_ttl,
        max_ttl: role.max_ttl,
        credential_type: 'password',
      },
    };
  }

  private async writeRole(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    const old = await this.role(name);
    const pick = <K extends keyof DbRole>(k: K, dflt: DbRole[K]): DbRole[K] =>
      (f[k] as DbRole[K] | undefined) ?? old?.[k] ?? dflt;
    const role: DbRole = {
      db_name: (f.db_name ?? f.db ?? old?.db_name ?? '') as string,
      creation_statements: pick('creation_statements', []),
      revocation_statements: pick('revocation_statements', []),
      renew_statements: pick('renew_statements', []),
      rollback_statements: pick('rollback_statements', []),
      default_ttl: pick('default_ttl', 0),
      max_ttl: pick('max_ttl', 0),
    };
    if (f.credential_type !== undefined && f.credential_type !== 'password') {
      throw invalid(`unsupported credential_type "${f.credential_type}": svault issues passwords`);
    }
    if (!role.db_name) throw invalid('db_name must be set: the connection this role uses');
    checkName(role.db_name, 'connection');
    if (!(await this.config(role.db_name))) throw invalid(`database configuration "${role.db_name}" does not exist`);
    if (role.creation_statements.length === 0) throw invalid('creation_statements must be set');
    if (role.max_ttl > 0 && role.default_ttl > role.max_ttl) throw invalid('ttl cannot be greater than max_ttl');
    await this.store.put(`role/${name}`, enc.encode(JSON.stringify(role)));
    return undefined;
  }

  // --- static roles ---

  private staticRole(name: string): Promise<StaticRole | undefined> {
    return getJson<StaticRole>(this.store, `static-role/${name}`);
  }

  private async readStatic(name: string): Promise<HandlerResult> {
    const s = await this.staticRole(name);
    if (!s) return null;
    return {
      data: {
        db_name: s.db_name,
        username: s.username,
        rotation_period: s.rotation_period,
        rotation_statements: s.rotation_statements,
        last_vault_rotation: s.last_vault_rotation,
        credential_type: 'password',
      },
    };
  }

  /** Creates (and rotates at once, as Vault does: svault then knows the password) or updates a static role. */
  private async writeStatic(name: string, f: Record<string, unknown>): Promise<HandlerResult> {
    return this.locks.run(`static/${name}`, async () => {
      const old = await this.staticRole(name);
      const username = (f.username as string | undefined) ?? old?.username ?? '';
      if (!username) throw invalid('username is a required field to create a static account');
      if (old && username !== old.username) throw invalid('cannot update static account username');
      const dbName = (f.db_name as string | undefined) ?? old?.db_name ?? '';
      if (!dbName) throw invalid('db_name must be set: the connection this role uses');
      checkName(dbName, 'connection');
      const cfg = await this.config(dbName);
      if (!cfg) throw invalid(`database configuration "${dbName}" does not exist`);
      if (!roleAllowed(cfg.allowed_roles, name)) throw invalid(`"${name}" is not an allowed role`);
      const period = (f.rotation_period as number | undefined) ?? old?.rotation_period;
      if (period === undefined) throw invalid('rotation_period is required to create static accounts');
      if (period < MIN_ROTATION_PERIOD) throw invalid(`rotation_period must be ${MIN_ROTATION_PERIOD} seconds or more`);
      if (f.credential_type !== undefined && f.credential_type !== 'password') {
        throw invalid(`unsupported credential_type "${f.credential_type}": svault issues passwords`);
      }
      const next: StaticRole = {
        db_name: dbName,
        username,
        rotation_period: period,
        rotation_statements: (f.rotation_statements as string[] | undefined) ?? old?.rotation_statements ?? [],
        password: old?.password ?? '',
        last_vault_rotation: old?.last_vault_rotation ?? '',
      };
      if (old) {
        await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify(next)));
        this.rearm();
        return undefined;
      }
      // A new role takes the user over: a fresh password set now, stored only once the database took it.
      const password = generatePassword();
      await (await this.plugin(dbName)).setPassword(next.rotation_statements, username, password);
      next.password = password;
      next.last_vault_rotation = new Date().toISOString();
      await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify(next)));
      this.rearm();
      return undefined;
    });
  }

  // --- the rotation timer ---

  start(): void {
    this.active = true;
    this.arm(0);
  }

  stop(): void {
    this.active = false;
    if (this.staticTimer) clearTimeout(this.staticTimer);
    this.staticTimer = undefined;
  }

  /** A static role was written or deleted: look again now (after the running sweep, if any). */
  private rearm(): void {
    if (this.sweep) this.sweepAgain = true;
    else this.arm(0);
  }

  private arm(ms: number): void {
    if (!this.active) return;
    if (this.staticTimer) clearTimeout(this.staticTimer);
    this.staticTimer = setTimeout(() => {
      this.staticTimer = undefined;
      this.sweepAgain = false;
      this.sweep = this.rotateDue()
        .catch((e) => {
          if (this.active) this.warn(`static role rotation: ${e instanceof Error ? e.message : e}`);
          return STATIC_RETRY_MS;
        })
        .then((next) => {
          this.sweep = undefined;
          this.arm(this.sweepAgain ? 0 : next);
        });
    }, ms);
    this.staticTimer.unref();
  }

  /** Rotates every static role whose period has passed; answers how long until the next one is due. */
  private async rotateDue(): Promise<number> {
    let next = STATIC_SWEEP_MAX_MS;
    for (const name of await this.store.list('static-role/')) {
      if (!this.active) break;
      const s = await this.staticRole(name);
      if (!s) continue;
      if (s.pending_password || rotationDue(s)) {
        try {
          await this.rotateStatic(name, false);
        } catch (e) {
          if (this.active) this.warn(`rotating static role "${name}": ${e instanceof Error ? e.message : e}`);
          next = Math.min(next, STATIC_RETRY_MS);
          continue;
        }
      }
      const after = await this.staticRole(name);
      if (after) next = Math.min(next, dueInMs(after));
    }
    return next;
  }

  /**
   * A new password for a static role. The new one is stored as pending before the database changes
   * and made current after: a crash in between leaves both, and the next use keeps the one that logs in.
   */
  private async rotateStatic(name: string, now: boolean): Promise<HandlerResult> {
    await this.locks.run(`static/${name}`, async () => {
      let s = await this.staticRole(name);
      if (!s) throw invalid(`unknown static role "${name}"`);
      if (s.pending_password) s = await this.settleStatic(name, s);
      if (!now && !rotationDue(s)) return;
      const password = generatePassword();
      await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify({ ...s, pending_password: password })));
      try {
        await (await this.plugin(s.db_name)).setPassword(s.rotation_statements, s.username, password);
      } catch (e) {
        await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify(s)));
        throw e;
      }
      const done: StaticRole = { ...s, password, last_vault_rotation: new Date().toISOString() };
      await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify(done)));
    });
    return undefined;
  }

  private async settleStatic(name: string, s: StaticRole): Promise<StaticRole> {
    const { pending_password: pending, ...rest } = s;
    const cfg = await this.config(s.db_name);
    if (!cfg) throw invalid(`database configuration "${s.db_name}" does not exist`);
    const driver = await this.driver(cfg.plugin_name);
    const trial = driver.open(
      `${s.db_name}/${name}`,
      { ...cfg, username: s.username, password: pending ?? '' },
      this.warn,
    );
    let settled: StaticRole = rest;
    try {
      await trial.verify();
      settled = { ...rest, password: pending ?? '', last_vault_rotation: new Date().toISOString() };
    } catch (e) {
      if (!driver.isAuthFailure(e)) throw e;
    } finally {
      await trial.close();
    }
    await this.store.put(`static-role/${name}`, enc.encode(JSON.stringify(settled)));
    return settled;
  }

  private async staticCreds(name: string): Promise<HandlerResult> {
    const before = await this.staticRole(name);
    if (!before) throw invalid(`unknown static role "${name}"`);
    if (before.pending_password || rotationDue(before)) await this.rotateStatic(name, false);
    const s = (await this.staticRole(name)) as StaticRole;
    const last = Date.parse(s.last_vault_rotation);
    return {
      data: {
        username: s.username,
        password: s.password,
        last_vault_rotation: s.last_vault_rotation,
        rotation_period: s.rotation_period,
        ttl: Math.max(0, Math.round((last + s.rotation_period * 1000 - Date.now()) / 1000)),
      },
    };
  }

  // --- credentials and their leases ---

  private async creds(name: string, r: RoutedRequest): Promise<HandlerResult> {
    const role = await this.role(name);
    if (!role) throw invalid(`unknown role: ${name}`);
    const cfg = await this.config(role.db_name);
    if (!cfg) throw invalid(`database configuration "${role.db_name}" does not exist`);
    if (!roleAllowed(cfg.allowed_roles, name)) throw invalid(`"${name}" is not an allowed role`);
    const mountMax = this.entry.config.max_lease_ttl || SYSTEM_MAX_TTL;
    const maxTtl = role.max_ttl ? Math.min(role.max_ttl, mountMax) : mountMax;
    const ttl = Math.min(role.default_ttl || this.entry.config.default_lease_ttl || mountMax, maxTtl);
    const username = generateUsername(r.caller.displayName, name);
    const password = generatePassword();
    const plugin = await this.plugin(role.db_name);
    await plugin.createUser(role.creation_statements, role.rollback_statements, {
      username,
      password,
      expiration: new Date(Date.now() + ttl * 1000),
    });
    const internal: CredsInternal = {
      username,
      role: name,
      db_name: role.db_name,
      revocation_statements: role.revocation_statements,
    };
    return {
      data: { username, password },
      secret: { ttl, maxTtl, renewable: true, internal: { ...internal } },
    };
  }

  async revokeLease(lease: LeaseInfo): Promise<void> {
    const internal = lease.internal as unknown as CredsInternal;
    if (!internal.username) return;
    const role = await this.role(internal.role);
    const statements = role ? role.revocation_statements : internal.revocation_statements;
    await (await this.plugin(internal.db_name)).revokeUser(statements, internal.username);
  }

  async renewLease(lease: LeaseInfo, expireTime: Date): Promise<void> {
    const internal = lease.internal as unknown as CredsInternal;
    const role = await this.role(internal.role);
    await (await this.plugin(internal.db_name)).renewUser(role?.renew_statements ?? [], internal.username, expireTime);
  }

  async close(): Promise<void> {
    this.stop();
    await this.sweep;
    const open = [...this.plugins.values()];
    this.plugins.clear();
    await Promise.all(open.map((p) => p.close().catch(() => {})));
  }
}

/** Milliseconds until a static role's period has passed (0: now). */
function dueInMs(s: StaticRole): number {
  const last = Date.parse(s.last_vault_rotation);
  return Number.isFinite(last) ? Math.max(0, last + s.rotation_period * 1000 - Date.now()) : 0;
}

function rotationDue(s: StaticRole): boolean {
  const last = Date.parse(s.last_vault_rotation);
  return !Number.isFinite(last) || Date.now() >= last + s.rotation_period * 1000;
}

export const databaseFactory: BackendFactory = (ctx) => new DatabaseBackend(ctx);
