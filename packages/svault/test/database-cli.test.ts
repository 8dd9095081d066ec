import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { type PostgresServer, skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import type { RunningServer } from '../src/server/main.js';
import { initAndUnseal, startTestServer } from './helpers.js';

const CREATE = `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`;

describe.skipIf(skipUnless('postgres'))('svault database and lease commands', { timeout: 120_000 }, () => {
  let pgs: PostgresServer;
  let admin: pg.Client;
  let srv: RunningServer;
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  const sv = (args: string[]) => runBin('svault', args, { cwd, env });
  const json = async (args: string[]) => {
    const r = await sv([...args, '--json']);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout);
  };
  const roleExists = async (name: string) =>
    ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0;

  beforeAll(async () => {
    pgs = await startPostgres();
    admin = new pg.Client({ connectionString: pgs.url });
    await admin.connect();
    srv = await startTestServer();
    ({ cwd, env } = sandbox());
    env.SVAULT_ADDR = srv.address;
    env.SVAULT_TOKEN = (await initAndUnseal(srv.address)).root;
  });
  afterAll(async () => {
    await srv?.close();
    await admin?.end();
    await pgs?.stop();
  });

  it('configures a connection and a role, issues logins, and renews, lists and revokes their leases', async () => {
    expect((await sv(['secret', 'write', 'sys/mounts/database', 'type=database'])).code).toBe(0);
    const url = `postgresql://{{username}}:{{password}}@127.0.0.1:${pgs.port}/postgres`;
    const cfg = await sv([
      'database',
      'config',
      'write',
      'pg',
      'plugin=postgresql',
      `connection_url=${url}`,
      'username=postgres',
      'password=cli-s3cret',
    ]);
    expect(cfg.code, cfg.stderr).toBe(0);
    expect(cfg.stdout).toContain('Success! Data written to: database/config/pg');
    const read = await sv(['database', 'config', 'read', 'pg']);
    expect(read.stdout).toContain('postgresql-database-plugin');
    expect(read.stdout).not.toContain('cli-s3cret');

    const role = await sv([
      'database',
      'role',
      'write',
      'app',
      'db=pg',
      `creation_statements=${CREATE}`,
      'default_ttl=1h',
    ]);
    expect(role.code, role.stderr).toBe(0);
    const bad = await sv([
      'database',
      'role',
      'write',
      `app'; DROP ROLE postgres; --`,
      'db=pg',
      `creation_statements=x`,
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/invalid role name/);
    expect(await json(['database', 'role', 'list'])).toEqual({ keys: ['app'] });

    const first = await json(['database', 'creds', 'app']);
    expect(first.lease_id).toMatch(/^database\/creds\/app\//);
    expect(await roleExists(first.data.username)).toBe(true);
    const human = await sv(['database', 'creds', 'app']);
    expect(human.stdout).toMatch(/lease_id\s+database\/creds\/app\//);
    expect(human.stdout).toMatch(/lease_duration\s+3600s/);
    const second = /username\s+(\S+)/.exec(human.stdout)?.[1] as string;
    expect(await roleExists(second)).toBe(true);

    expect((await json(['lease', 'lookup', first.lease_id])).data.ttl).toBeGreaterThan(3500);
    const renewed = await json(['lease', 'renew', first.lease_id, '--increment', '90m']);
    expect(renewed).toMatchObject({ lease_id: first.lease_id, lease_duration: 5400, renewable: true });
    expect((await json(['lease', 'list', 'database/creds/app/'])).keys).toHaveLength(2);

    expect((await sv(['lease', 'revoke', first.lease_id])).code).toBe(0);
    expect(await roleExists(first.data.username)).toBe(false);
    const gone = await sv(['lease', 'lookup', first.lease_id]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/invalid lease/);

    // Vault's CLI spelling: one dash.
    const prefix = await sv(['lease', 'revoke', '-prefix', 'database/creds/app']);
    expect(prefix.code, prefix.stderr).toBe(0);
    expect(await roleExists(second)).toBe(false);
    expect((await sv(['lease', 'list', 'database/creds/app/'])).code).toBe(4);
  });
});
