import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { skipUnless, startPostgres } from '../../shared/src/testing/index.js';
import { memberHbaLines } from '../src/core/cluster-pg.js';

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
