import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { memberHbaLines, scramVerifier } from '../src/core/cluster-pg.js';
import { prov, workspace } from './support/hosts.js';

describe('the pg_hba.conf lines a restore into a new cluster adds for its members', () => {
  it('an IPv4 address as /32, an IPv6 one as /128, a host name as it is', () => {
    expect(memberHbaLines('10.0.0.5')).toEqual([
      'host replication replicator 10.0.0.5/32 scram-sha-256',
      'host all all 10.0.0.5/32 scram-sha-256',
    ]);
    expect(memberHbaLines('fd00::5')).toEqual([
      'host replication replicator fd00::5/128 scram-sha-256',
      'host all all fd00::5/128 scram-sha-256',
    ]);
    expect(memberHbaLines('db-1.internal')).toEqual([
      'host replication replicator db-1.internal scram-sha-256',
      'host all all db-1.internal scram-sha-256',
    ]);
  });

  it('refuses anything else instead of writing it into the file', () => {
    for (const bad of ['10.0.0.5 all trust', '10.0.0.0/8', '', 'a\nhost all all all trust', '-x', 'a..b'])
      expect(() => memberHbaLines(bad), bad).toThrow(/not an IP address or a host name/);
  });

  it.skipIf(skipUnless('postgres'))('PostgreSQL reads every form without an error', async () => {
    const server = await startPostgres();
    const c = new pg.Client({ connectionString: server.url });
    try {
      const hba = join(server.dir, 'data', 'pg_hba.conf');
      const lines = ['10.0.0.5', 'fd00::5', 'db-1.internal'].flatMap(memberHbaLines);
      writeFileSync(hba, `${readFileSync(hba, 'utf8')}${lines.join('\n')}\n`);
      await c.connect();
      const rules = await c.query('SELECT address, netmask, error FROM pg_hba_file_rules ORDER BY line_number');
      const added = rules.rows.filter((r) => ['10.0.0.5', 'fd00::5', 'db-1.internal'].includes(r.address));
      expect(added.map((r) => [r.address, r.netmask, r.error])).toEqual([
        ['10.0.0.5', '255.255.255.255', null],
        ['10.0.0.5', '255.255.255.255', null],
        ['fd00::5', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
        ['fd00::5', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
        ['db-1.internal', null, null],
        ['db-1.internal', null, null],
      ]);
      expect(rules.rows.filter((r) => r.error)).toEqual([]);
    } finally {
      await c.end().catch(() => {});
      await server.stop();
    }
  });
});

describe('restore into a new cluster: what the backup manifest may say', () => {
  /** A backup folder whose checksums hold, with the manifest fields given. */
  const backup = (cwd: string, name: string, fields: Record<string, unknown>) => {
    const dir = join(cwd, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'base.tar.gz'), 'data');
    const manifest = {
      format: 'prov-backup/1',
      cluster: 'old',
      template: 'db-cluster',
      kind: 'postgresql-ha',
      created_at: '2026-12-07T10:00:00Z',
      method: 'pg_basebackup',
      source: { host: 'db-1', role: 'leader', timeline: 1 },
      versions: { postgresql: '15.4', postgresql_major: '15' },
      system_identifier: '1',
      files: [{ name: 'base.tar.gz', size: 4, sha256: createHash('sha256').update('data').digest('hex') }],
      params: { settings: { pg_port: 5433 } },
      ...fields,
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  };

  it('a tampered manifest is refused (exit 3) and nothing is created; what is used is shown before approval', async () => {
    const ws = workspace('{ hosts = [] }\n', []);
    // A folder a tampered manifest could point at: never loaded unless the user names it.
    mkdirSync(join(ws.cwd, 'evil'));
    writeFileSync(join(ws.cwd, 'evil', 'template.ncl'), 'fun p => { name = p.name }\n');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ template: '../evil' }, /template "..\/evil" is not one of the installed templates/],
      [{ template: `${ws.cwd}/evil` }, /is not one of the installed templates/],
      [{ template: 'no-such-template' }, /is not one of the installed templates/],
      [{ params: { settings: { 'pg_port; x': 1 } } }, /"pg_port; x" is not a setting name/],
      [{ params: { settings: { pg_port: { nested: 1 } } } }, /setting pg_port is not a string, number or boolean/],
      [{ params: { settings: ['a'] } }, /the settings are not a table/],
      [{ params: { version: '15 && x' } }, /"15 && x" is not a PostgreSQL version/],
    ];
    for (const [i, [fields, message]] of cases.entries()) {
      const dir = backup(ws.cwd, `b${i}`, fields);
      const r = await prov(ws, ['cluster', 'restore', 'new', '--from', dir, '--servers', 'db-9', '-y']);
      expect([r.code, r.stderr], JSON.stringify(fields)).toEqual([3, expect.stringMatching(message)]);
    }
    expect(JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout).clusters).toEqual([]);

    // A sound manifest: its template, version and settings (with --set over them) are listed before the question.
    const ok = backup(ws.cwd, 'ok', {});
    const ask = await prov(ws, ['cluster', 'restore', 'new', '--from', ok, '--servers', 'db-9', '--set', 'x=1']);
    expect(ask.code).toBe(2);
    expect(ask.stdout).toMatch(/template +db-cluster \(the backup’s\)/);
    expect(ask.stdout).toMatch(/PostgreSQL +15/);
    expect(ask.stdout).toMatch(/setting +pg_port = 5433/);
    expect(ask.stdout).toMatch(/setting +x = 1/);
    // A template folder the user names is theirs to use.
    const own = await prov(ws, [
      'cluster',
      'restore',
      'new',
      '--from',
      backup(ws.cwd, 'own', { template: '../evil' }),
      '--servers',
      'db-9',
      '--template',
      './evil',
    ]);
    expect(own.code).toBe(2);
    expect(own.stdout).toMatch(/template +evil\n/);
    expect(JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout).clusters).toEqual([]);
  }, 120_000);
});

describe.skipIf(skipUnless('postgres'))('role passwords sent as SCRAM-SHA-256 verifiers', () => {
  it('is the verifier PostgreSQL computes itself, and the password logs in with it', async () => {
    const server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    try {
      await admin.connect();
      // PostgreSQL's own verifier for a password: ours, with its salt and iterations, is the same string.
      await admin.query("SET password_encryption = 'scram-sha-256'");
      for (const [role, password] of [
        ['own', 'correct horse'],
        ['quoted', "it's $x:y\\"],
        ['accents', 'mot de passe é'],
      ] as const) {
        await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
        const { rows } = await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
        const stored = String(rows[0].rolpassword);
        const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
        expect(scramVerifier(password, Buffer.from(m[2]!, 'base64'), Number(m[1]))).toBe(stored);
      }
      // A role given a verifier made here logs in over scram-sha-256 with the password, not with another.
      await admin.query(`CREATE ROLE fresh LOGIN PASSWORD '${scramVerifier('s3cret-pw')}'`);
      const hba = join(server.dir, 'data', 'pg_hba.conf');
      writeFileSync(hba, `host all fresh 127.0.0.1/32 scram-sha-256\n${readFileSync(hba, 'utf8')}`);
      await admin.query('SELECT pg_reload_conf()');
      const login = async (password: string) => {
        const c = new pg.Client({
          host: '127.0.0.1',
          port: server.port,
          user: 'fresh',
          password,
          database: 'postgres',
        });
        await c.connect();
        const r = await c.query('SELECT current_user AS u');
        await c.end();
        return r.rows[0].u;
      };
      // The reload is a signal: wait (bounded) until the new rule is read.
      let refused: unknown;
      for (let i = 0; i < 100; i++) {
        refused = await login('wrong').catch((e: Error) => e);
        if (refused instanceof Error) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(String(refused)).toMatch(/password authentication failed/);
      expect(await login('s3cret-pw')).toBe('fresh');
    } finally {
      await admin.end().catch(() => {});
      await server.stop();
    }
  });
});
