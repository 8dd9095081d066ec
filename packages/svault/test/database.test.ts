import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { PostgresPlugin, postgresqlPlugin } from '../src/adapters/database-postgresql.js';
import { MemoryStorage } from '../src/adapters/memory.js';
import { quoteLiteral, renderStatement } from '../src/core/engines/database/sql.js';
import { databaseFactory } from '../src/core/engines/database.js';
import type { Backend, Caller, HandlerResult, MountEntry, Operation } from '../src/core/logical.js';
import { Router } from '../src/core/router.js';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

/**
 * The database engine against a real PostgreSQL. Logins over TCP need a password (scram), except
 * the harness's `postgres` superuser, which the test uses to look at what svault did.
 */
const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const entry: MountEntry = {
  path: 'database/',
  type: 'database',
  description: '',
  uuid: 'db-direct',
  accessor: 'database_direct',
  config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
  options: null,
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
};
const rootCaller: Caller = {
  tokenHash: '',
  token: '',
  accessor: '',
  policies: ['root'],
  isRoot: true,
  displayName: 'token',
  metadata: null,
};

/** One request to an engine through the real router, without a vault around it. */
async function direct(backend: Backend, operation: Operation, path: string, data: Record<string, unknown> = {}) {
  const router = new Router();
  router.mount(entry, backend);
  const full = `database/${path}`;
  return (await router.dispatch(
    { operation, path: full, data },
    router.match(full, operation),
    rootCaller,
  )) as HandlerResult;
}

describe.skipIf(skipUnless('postgres'))('database engine with PostgreSQL', { timeout: 60_000 }, () => {
  let pgs: PostgresServer;
  let admin: pg.Client;
  let srv: RunningServer;
  let base: string;
  let root: string;
  let keys: string[];

  const api = (method: string, path: string, body?: unknown, token = root) =>
    call(base, method, `/v1/${path}`, { token, ...(body === undefined ? {} : { body }) });
  const url = () => `postgresql://{{username}}:{{password}}@127.0.0.1:${pgs.port}/postgres`;

  /** SELECT 1 as this login: true, or why not. */
  async function login(user: string, password: string): Promise<true | string> {
    const c = new pg.Client({ host: '127.0.0.1', port: pgs.port, user, password, database: 'postgres' });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch (e) {
      return (e as Error).message;
    } finally {
      await c.end().catch(() => {});
    }
  }
  const roleRow = async (name: string) =>
    (await admin.query('SELECT rolname, rolvaliduntil FROM pg_roles WHERE rolname = $1', [name])).rows[0] as
      | { rolname: string; rolvaliduntil: Date | null }
      | undefined;
  const roleCount = async () => Number((await admin.query('SELECT count(*) AS n FROM pg_roles')).rows[0].n);
  const tableExists = async (name: string) =>
    (await admin.query('SELECT to_regclass($1) AS t', [name])).rows[0].t !== null;
  async function until(what: string, check: () => Promise<boolean>, ms = 10_000) {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }
  const creds = async (role: string, token = root) => {
    const r = await api('GET', `database/creds/${role}`, undefined, token);
    if (r.status !== 200) throw new Error(`creds ${role}: ${r.status} ${r.text}`);
    return r.body as { lease_id: string; lease_duration: number; renewable: boolean; data: Record<string, string> };
  };
  const writeRole = async (name: string, body: Record<string, unknown>) => {
    const r = await api('POST', `database/roles/${name}`, { db_name: 'pg', creation_statements: CREATE, ...body });
    expect(r.status, r.text).toBe(204);
  };

  beforeAll(async () => {
    pgs = await startPostgres();
    admin = new pg.Client({ connectionString: pgs.url });
    await admin.connect();
    const hba = (await admin.query('SHOW hba_file')).rows[0].hba_file as string;
    const lines = [
      'local all all trust',
      'host all postgres 127.0.0.1/32 trust',
      'host all all 127.0.0.1/32 scram-sha-256',
    ];
    await admin.query(`COPY (VALUES ${lines.map((l) => `(${quoteLiteral(l)})`).join(', ')}) TO ${quoteLiteral(hba)}`);
    await admin.query('SELECT pg_reload_conf()');
    await admin.query(`CREATE ROLE svault_admin WITH LOGIN SUPERUSER PASSWORD 'admin-pw-1'`);
    await until('password logins', async () => (await login('svault_admin', 'wrong')) !== true);
    srv = await startTestServer();
    base = srv.address;
    ({ root, keys } = await initAndUnseal(base));
    expect((await api('POST', 'sys/mounts/database', { type: 'database' })).status).toBe(204);
    const cfg = await api('POST', 'database/config/pg', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: url(),
      username: 'svault_admin',
      password: 'admin-pw-1',
    });
    expect(cfg.status, cfg.text).toBe(204);
  });
  afterAll(async () => {
    await srv?.close();
    await admin?.end();
    await pgs?.stop();
  });

  it('stores a connection once it connects, and never shows its password', async () => {
    const read = await api('GET', 'database/config/pg');
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({
      allowed_roles: ['*'],
      connection_details: { connection_url: url(), username: 'svault_admin', max_open_connections: 4 },
      password_policy: '',
      plugin_name: 'postgresql-database-plugin',
      plugin_version: '',
      root_credentials_rotate_statements: [],
      verify_connection: true,
    });
    expect(read.text).not.toContain('admin-pw-1');

    // A password written into the URL is masked on read too.
    const literal = `postgresql://svault_admin:admin-pw-1@127.0.0.1:${pgs.port}/postgres`;
    expect(
      (await api('POST', 'database/config/inline', { plugin: 'postgresql', connection_url: literal })).status,
    ).toBe(204);
    const inline = await api('GET', 'database/config/inline');
    expect(inline.body.data.connection_details.connection_url).toBe(
      `postgresql://svault_admin:*****@127.0.0.1:${pgs.port}/postgres`,
    );
    expect(inline.text).not.toContain('admin-pw-1');
    expect((await api('DELETE', 'database/config/inline')).status).toBe(204);

    // A connection that does not work is refused and not stored.
    const bad = await api('POST', 'database/config/broken', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: url(),
      username: 'svault_admin',
      password: 'not-it',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/error verifying connection: .*password authentication failed/);
    expect((await api('GET', 'database/config/broken')).status).toBe(404);
    const plugin = await api('POST', 'database/config/other', { plugin_name: 'mysql-database-plugin' });
    expect(plugin.body.errors[0]).toMatch(/unsupported plugin "mysql-database-plugin"/);
    const notUrl = await api('POST', 'database/config/other', { plugin: 'postgresql', connection_url: 'host=x' });
    expect(notUrl.body.errors[0]).toMatch(/connection_url must be a postgresql:\/\/ URL/);
    expect((await api('GET', 'database/config?list=true')).body.data.keys).toEqual(['pg']);
  });

  it('issues a real login under a lease; revoking it ends its sessions and drops the role', async () => {
    await writeRole('app', { default_ttl: '1h', max_ttl: '2h' });
    expect((await api('GET', 'database/roles/app')).body.data).toEqual({
      db_name: 'pg',
      creation_statements: [CREATE],
      revocation_statements: [],
      renew_statements: [],
      rollback_statements: [],
      default_ttl: 3600,
      max_ttl: 7200,
      credential_type: 'password',
    });
    const before = Date.now();
    const c = await creds('app');
    expect(c.lease_id).toMatch(/^database\/creds\/app\/\w{24}$/);
    expect(c).toMatchObject({ lease_duration: 3600, renewable: true });
    const { username, password } = c.data as { username: string; password: string };
    expect(username).toMatch(/^v-token-app-[a-z0-9]{20}-\d+$/);
    expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await login(username, password)).toBe(true);
    expect(await login(username, 'wrong')).toMatch(/password authentication failed/);
    const until1h = (await roleRow(username))?.rolvaliduntil?.getTime() ?? 0;
    expect(until1h).toBeGreaterThanOrEqual(before + 3600_000 - 1000); // (VALID UNTIL has whole seconds)
    expect(until1h).toBeLessThanOrEqual(Date.now() + 3600_000);

    const look = await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id });
    expect(look.body.data).toMatchObject({ id: c.lease_id, renewable: true, last_renewal: null });
    expect(look.body.data.ttl).toBeGreaterThan(3590);

    const session = new pg.Client({
      host: '127.0.0.1',
      port: pgs.port,
      user: username,
      password,
      database: 'postgres',
    });
    session.on('error', () => {});
    await session.connect();
    expect((await api('PUT', 'sys/leases/revoke', { lease_id: c.lease_id })).status).toBe(204);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => {});
    expect(await roleRow(username)).toBeUndefined();
    expect(await login(username, password)).toMatch(/password authentication failed/);
    expect((await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id })).body.errors).toEqual(['invalid lease']);
  });

  it('revokes an expired login on time', async () => {
    await writeRole('short', { default_ttl: '3s' });
    const c = await creds('short');
    expect(c.lease_duration).toBe(3);
    expect(await roleRow(c.data.username as string)).toBeDefined();
    await until('the expired login to be dropped', async () => !(await roleRow(c.data.username as string)), 15_000);
    expect((await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id })).status).toBe(400);
  });

  it('renews VALID UNTIL from now, never past max_ttl', async () => {
    await writeRole('renewable', { default_ttl: '20s', max_ttl: '40s' });
    const issued = Date.now();
    const c = await creds('renewable');
    const r = await api('PUT', 'sys/leases/renew', { lease_id: c.lease_id, increment: '1h' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.lease_id).toBe(c.lease_id);
    expect(r.body.lease_duration).toBeGreaterThan(30);
    expect(r.body.lease_duration).toBeLessThanOrEqual(40);
    const validUntil = (await roleRow(c.data.username as string))?.rolvaliduntil?.getTime() ?? 0;
    expect(validUntil).toBeGreaterThanOrEqual(issued + 40_000 - 1000); // (VALID UNTIL has whole seconds)
    expect(validUntil).toBeLessThanOrEqual(Date.now() + 40_000);
    const legacy = await api('PUT', `sys/renew/${c.lease_id}`, { increment: 5 });
    expect(legacy.body.lease_duration).toBe(5);
    expect((await api('PUT', 'sys/leases/revoke', { lease_id: c.lease_id })).status).toBe(204);
  });

  it('revoke-prefix takes the leases of one role and not those of a role whose name extends it', async () => {
    await writeRole('app2', { default_ttl: '1h' });
    const a = await creds('app');
    const b = await creds('app');
    const other = await creds('app2');
    const listed = await api('GET', 'sys/leases/lookup/database/creds/?list=true');
    expect(listed.body.data.keys).toEqual(expect.arrayContaining(['app/', 'app2/']));
    expect((await api('PUT', 'sys/leases/revoke-prefix/database/creds/app')).status).toBe(204);
    expect(await roleRow(a.data.username as string)).toBeUndefined();
    expect(await roleRow(b.data.username as string)).toBeUndefined();
    expect(await login(other.data.username as string, other.data.password as string)).toBe(true);
    expect((await api('PUT', 'sys/leases/lookup', { lease_id: other.lease_id })).status).toBe(200);
    expect((await api('PUT', 'sys/leases/revoke', { lease_id: other.lease_id })).status).toBe(204);
  });

  it('keeps a revocation that fails, shows it in lookup, retries it, and succeeds once the cause is fixed', async () => {
    await writeRole('audited', {
      default_ttl: '1h',
      revocation_statements: `INSERT INTO revoked_logins VALUES ('{{name}}'); DROP ROLE "{{name}}";`,
    });
    const c = await creds('audited');
    const failed = await api('PUT', 'sys/leases/revoke', { lease_id: c.lease_id });
    expect(failed.status).toBe(500);
    expect(failed.body.errors[0]).toMatch(/failed to revoke lease .*relation "revoked_logins" does not exist/);
    const look = await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id });
    expect(look.body.data).toMatchObject({ revoke_attempts: 1 });
    expect(look.body.data.revoke_error).toMatch(/relation "revoked_logins" does not exist/);
    // The failed transaction changed nothing: the login still works until the retry succeeds.
    expect(await login(c.data.username as string, c.data.password as string)).toBe(true);
    await admin.query('CREATE TABLE revoked_logins (name text)');
    await until('the retried revocation', async () => !(await roleRow(c.data.username as string)));
    const logged = await admin.query('SELECT name FROM revoked_logins');
    expect(logged.rows).toEqual([{ name: c.data.username }]);
    await until(
      'the lease to go',
      async () => (await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id })).status === 400,
    );
  });

  it('rotate-root changes the connection password in PostgreSQL: the old one stops working, svault keeps going', async () => {
    await admin.query(`CREATE ROLE rot_admin WITH LOGIN SUPERUSER PASSWORD 'rot-pw-1'`);
    const cfg = { plugin: 'postgresql', connection_url: url(), username: 'rot_admin', password: 'rot-pw-1' };
    expect((await api('POST', 'database/config/rot', cfg)).status).toBe(204);
    await writeRole('via-rot', { db_name: 'rot', default_ttl: '1h' });
    expect((await api('POST', 'database/rotate-root/rot')).status).toBe(204);
    expect(await login('rot_admin', 'rot-pw-1')).toMatch(/password authentication failed/);
    const read = await api('GET', 'database/config/rot');
    expect(read.text).not.toMatch(/"password"/);
    const c = await creds('via-rot');
    expect(await login(c.data.username as string, c.data.password as string)).toBe(true);
    expect((await api('PUT', 'sys/leases/revoke', { lease_id: c.lease_id })).status).toBe(204);
    expect(await roleRow(c.data.username as string)).toBeUndefined();
    // reset reopens from the stored (rotated) config.
    expect((await api('POST', 'database/reset/rot')).status).toBe(204);
    const noPw = await api('POST', 'database/config/nopw', {
      plugin: 'postgresql',
      connection_url: `postgresql://postgres@127.0.0.1:${pgs.port}/postgres`,
    });
    expect(noPw.status).toBe(204);
    const refused = await api('POST', 'database/rotate-root/nopw');
    expect(refused.body.errors[0]).toMatch(/needs the connection to have username and password/);
  });

  it('refuses SQL metacharacters in role and connection names, and nothing is created', async () => {
    const rolesBefore = await roleCount();
    const listBefore = (await api('GET', 'database/roles?list=true')).body.data.keys;
    const evil = encodeURIComponent(`x"; CREATE TABLE pwned (a int); --`);
    const w = await api('POST', `database/roles/${evil}`, { db_name: 'pg', creation_statements: CREATE });
    expect(w.status).toBe(400);
    expect(w.body.errors[0]).toMatch(/invalid role name "x\\?"; CREATE TABLE pwned/);
    expect((await api('GET', `database/creds/${evil}`)).status).toBe(400);
    const db = await api('POST', 'database/roles/ok', {
      db_name: `pg'; DROP ROLE svault_admin; --`,
      creation_statements: CREATE,
    });
    expect(db.body.errors[0]).toMatch(/invalid connection name/);
    expect((await api('POST', `database/config/${evil}`, { plugin: 'postgresql', connection_url: url() })).status).toBe(
      400,
    );
    expect((await api('GET', 'database/roles?list=true')).body.data.keys).toEqual(listBefore);
    expect(await tableExists('pwned')).toBe(false);
    expect(await roleCount()).toBe(rolesBefore);
  });

  it('a hostile token display name cannot reach SQL: the username is made of safe characters', async () => {
    const t = await api('POST', 'auth/token/create', {
      policies: ['root'],
      display_name: `x"; CREATE TABLE pwned2 (a int); --`,
    });
    const c = await creds('app', t.body.auth.client_token);
    expect(c.data.username).toMatch(/^v-token-x_-app-[a-z0-9]{20}-\d+$/);
    expect(await login(c.data.username as string, c.data.password as string)).toBe(true);
    expect(await tableExists('pwned2')).toBe(false);
    expect((await api('PUT', 'sys/leases/revoke', { lease_id: c.lease_id })).status).toBe(204);
  });

  it('quotes every value for where it stands: hostile names and passwords create exactly one role, no table', async () => {
    const plugin = new PostgresPlugin(
      'direct',
      { connection_url: pgs.url, username: '', password: '', max_open_connections: 1 },
      () => {},
    );
    try {
      const hostile = [`a"; CREATE TABLE pwned3 (a int); --`, `b'; CREATE TABLE pwned4 (a int); --`];
      const statements = [
        CREATE,
        // Bare placeholders are quoted, E'' strings escaped, comments only take harmless values.
        `COMMENT ON ROLE {{name}} IS E'made for {{name}}'; -- {{expiration}}`,
      ];
      for (const name of hostile) {
        const before = await roleCount();
        await plugin.createUser(statements, [], {
          username: name,
          password: name,
          expiration: new Date(Date.now() + 60_000),
        });
        expect(await roleCount()).toBe(before + 1);
        expect(await roleRow(name)).toBeDefined();
        expect(await login(name, name)).toBe(true); // the password arrived exactly as given
        await plugin.revokeUser([], name);
        expect(await roleRow(name)).toBeUndefined();
      }
      // In a '...' string a backslash's meaning depends on a server setting: refused, nothing runs.
      const before = await roleCount();
      const backslash = `c\\'; CREATE TABLE pwned5 (a int); --`;
      await expect(
        plugin.createUser(statements, [], { username: 'c', password: backslash, expiration: new Date() }),
      ).rejects.toThrow(/\{\{password\}\} holds a backslash/);
      expect(await roleCount()).toBe(before);
      for (const t of ['pwned3', 'pwned4', 'pwned5']) expect(await tableExists(t)).toBe(false);
      // Where SQL has no escaping, a value that is not harmless is refused before anything runs.
      const inDollar = `DO $$ BEGIN CREATE ROLE "{{name}}"; END $$;`;
      expect(() => renderStatement(inDollar, { name: { kind: 'identifier', value: 'x"; DROP ROLE y; --' } })).toThrow(
        /cannot be placed safely inside a dollar-quoted body/,
      );
      expect(renderStatement(inDollar, { name: { kind: 'identifier', value: 'v-app-1' } })).toBe(
        `DO $$ BEGIN CREATE ROLE "v-app-1"; END $$;`,
      );
    } finally {
      await plugin.close();
    }
  });

  it('a creation that fails leaves no role and no lease, and runs the rollback statements', async () => {
    await writeRole('broken', {
      default_ttl: '1h',
      creation_statements: [CREATE, 'GRANT SELECT ON missing_table TO "{{name}}";'],
      rollback_statements: `INSERT INTO revoked_logins VALUES ('rolled back {{name}}');`,
    });
    const rolesBefore = await roleCount();
    const r = await api('GET', 'database/creds/broken');
    expect(r.status).toBe(500);
    expect(r.body.errors[0]).toMatch(/relation "missing_table" does not exist/);
    expect(await roleCount()).toBe(rolesBefore);
    const rolled = await admin.query(`SELECT name FROM revoked_logins WHERE name LIKE 'rolled back v-token-broken-%'`);
    expect(rolled.rowCount).toBe(1);
    expect((await api('GET', 'sys/leases/lookup/database/creds/?list=true')).body.data?.keys ?? []).not.toContain(
      'broken/',
    );
  });

  it('rotate-root interrupted by a crash: the next use keeps the password PostgreSQL accepts', async () => {
    await admin.query(`CREATE ROLE crash_admin WITH LOGIN SUPERUSER PASSWORD 'crash-1'`);
    const store = new MemoryStorage();
    const load = async () => postgresqlPlugin;
    const databasePlugins = { 'postgresql-database-plugin': load, postgresql: load };
    const open = async () => databaseFactory({ entry, store, warn: () => {}, databasePlugins });
    const storedConfig = async () => JSON.parse(new TextDecoder().decode(await store.get('config/c')));
    const setPending = async (pending: string) =>
      store.put(
        'config/c',
        new TextEncoder().encode(JSON.stringify({ ...(await storedConfig()), pending_password: pending })),
      );
    const first = await open();
    await direct(first, 'update', 'config/c', {
      plugin: 'postgresql',
      connection_url: url(),
      username: 'crash_admin',
      password: 'crash-1',
    });
    await direct(first, 'update', 'roles/r', { db_name: 'c', creation_statements: CREATE, default_ttl: 60 });
    await first.close?.();

    // Died after ALTER ROLE: the pending password is the one that works, and becomes the password.
    await admin.query(`ALTER ROLE crash_admin WITH PASSWORD 'crash-2'`);
    await setPending('crash-2');
    const second = await open();
    const issued = await direct(second, 'read', 'creds/r');
    expect(await login(issued?.data?.username as string, issued?.data?.password as string)).toBe(true);
    expect(await storedConfig()).toMatchObject({ password: 'crash-2' });
    expect((await storedConfig()).pending_password).toBeUndefined();
    await second.revokeLease?.({
      id: 'x',
      path: 'database/creds/r',
      internal: issued?.secret?.internal ?? {},
      issueTime: new Date(),
      expireTime: new Date(),
    });
    expect(await roleRow(issued?.data?.username as string)).toBeUndefined();
    await second.close?.();

    // Died before ALTER ROLE: the pending password never worked, the stored one stays.
    await setPending('crash-3');
    const third = await open();
    expect((await direct(third, 'read', 'creds/r'))?.data?.username).toMatch(/^v-token-r-/);
    expect(await storedConfig()).toMatchObject({ password: 'crash-2' });
    expect((await storedConfig()).pending_password).toBeUndefined();
    await third.close?.();
  });

  it('static roles: svault takes over an existing user, rotates its password on schedule and on demand', async () => {
    await admin.query(`CREATE ROLE app_static WITH LOGIN PASSWORD 'initial-pw-1'`);
    const w = await api('POST', 'database/static-roles/app', {
      db_name: 'pg',
      username: 'app_static',
      rotation_period: '5s',
    });
    expect(w.status, w.text).toBe(204);
    expect(await login('app_static', 'initial-pw-1')).toMatch(/password authentication failed/);
    const read = await api('GET', 'database/static-roles/app');
    expect(read.body.data).toMatchObject({ db_name: 'pg', username: 'app_static', rotation_period: 5 });
    expect(Object.keys(read.body.data)).not.toContain('password');
    const first = (await api('GET', 'database/static-creds/app')).body.data;
    expect(first).toMatchObject({ username: 'app_static', rotation_period: 5 });
    expect(first.ttl).toBeLessThanOrEqual(5);
    expect(await login('app_static', first.password)).toBe(true);

    expect((await api('POST', 'database/rotate-role/app', {})).status).toBe(204);
    const second = (await api('GET', 'database/static-creds/app')).body.data;
    expect(second.password).not.toBe(first.password);
    expect(await login('app_static', first.password)).toMatch(/password authentication failed/);
    expect(await login('app_static', second.password)).toBe(true);

    await sleep(5500);
    const third = (await api('GET', 'database/static-creds/app')).body.data;
    expect(third.password).not.toBe(second.password); // the period passed: rotated before it was read
    expect(await login('app_static', third.password)).toBe(true);
    expect((await api('LIST', 'database/static-roles')).body.data.keys).toEqual(['app']);

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['fast', { db_name: 'pg', username: 'app_static', rotation_period: '2s' }, /5 seconds or more/],
      ['nouser', { db_name: 'pg', rotation_period: '1h' }, /username is a required field/],
      ['nodb', { db_name: 'nope', username: 'x', rotation_period: '1h' }, /does not exist/],
      ['app', { username: 'someone_else' }, /cannot update static account username/],
    ];
    for (const [name, body, message] of bad) {
      const r = await api('POST', `database/static-roles/${name}`, body);
      expect(r.status, name).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    const ghost = await api('POST', 'database/static-roles/ghost', {
      db_name: 'pg',
      username: 'no_such_user',
      rotation_period: '1h',
    });
    expect(ghost.status).toBeGreaterThanOrEqual(400);
    expect((await api('GET', 'database/static-roles/ghost')).status).toBe(404);
    expect((await api('POST', 'database/rotate-role/ghost', {})).status).toBe(400);
    expect((await api('DELETE', 'database/static-roles/app')).status).toBe(204);
    expect(await roleRow('app_static')).toBeDefined(); // the user stays: it was never svault's to drop
  });

  it("static roles rotate on their period by the server's own timer, with nobody reading them", async () => {
    await admin.query(`CREATE ROLE app_timer WITH LOGIN PASSWORD 'initial-pw-2'`);
    const bad = await api('POST', 'database/static-roles/timer', {
      db_name: 'pg',
      username: 'app_timer',
      rotation_period: 'often',
    });
    expect(bad.status).toBe(400);
    expect((await api('GET', 'database/static-roles/timer')).status).toBe(404);
    expect(await login('app_timer', 'initial-pw-2')).toBe(true); // the refused write changed nothing
    const w = await api('POST', 'database/static-roles/timer', {
      db_name: 'pg',
      username: 'app_timer',
      rotation_period: '5s',
    });
    expect(w.status, w.text).toBe(204);
    const first = (await api('GET', 'database/static-creds/timer')).body.data;
    expect(await login('app_timer', first.password)).toBe(true);
    // Only PostgreSQL is asked from here on: the password it knows changes without any read of the creds.
    await until(
      'the timer to rotate the static password',
      async () => (await login('app_timer', first.password)) !== true,
      30_000,
    );
    const role = (await api('GET', 'database/static-roles/timer')).body.data;
    expect(role.last_vault_rotation).not.toBe(first.last_vault_rotation);
    const now = (await api('GET', 'database/static-creds/timer')).body.data;
    expect(now.password).not.toBe(first.password);
    expect(await login('app_timer', now.password)).toBe(true);
    expect((await api('DELETE', 'database/static-roles/timer')).status).toBe(204);
  });

  it('revokes on start the leases that expired while svault was down', async () => {
    await writeRole('restart', { default_ttl: '3s' });
    const c = await creds('restart');
    const dir = (srv as RunningServer & { dir: string }).dir;
    await srv.close();
    await sleep(3500);
    // Nobody revoked it while down; PostgreSQL's VALID UNTIL already refuses the login.
    expect(await roleRow(c.data.username as string)).toBeDefined();
    expect(await login(c.data.username as string, c.data.password as string)).toMatch(/password authentication failed/);
    srv = await startTestServer({ dir });
    base = srv.address;
    for (const k of keys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    await until(
      'the lease that expired while down to be revoked',
      async () => !(await roleRow(c.data.username as string)),
    );
  });

  it('disabling the mount revokes its leases first', async () => {
    const c = await creds('app');
    expect(await login(c.data.username as string, c.data.password as string)).toBe(true);
    expect((await api('DELETE', 'sys/mounts/database')).status).toBe(204);
    expect(await roleRow(c.data.username as string)).toBeUndefined();
    expect((await api('PUT', 'sys/leases/lookup', { lease_id: c.lease_id })).status).toBe(400);
  });
});
