import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive, type PatroniCluster, skipUnless, startPatroni } from '../../src/testing/index.js';

describe.skipIf(skipUnless('patroni') || skipUnless('postgres') || skipUnless('etcd'))(
  'startPatroni (real Patroni, PostgreSQL, etcd)',
  () => {
    let c: PatroniCluster;
    beforeAll(async () => {
      c = await startPatroni({ members: 2 });
    }, 180_000);
    afterAll(async () => {
      await c?.stop();
    }, 120_000);

    const query = async (port: number, text: string) => {
      const client = new pg.Client({
        host: '127.0.0.1',
        port,
        user: c.user,
        password: c.password,
        database: 'postgres',
      });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    };
    const portOf = (name: string) => c.members.find((m) => m.name === name)!.pgPort;

    it('one leader and a streaming replica that reads its rows', async () => {
      const leader = await c.leader();
      const replica = c.members.find((m) => m.name !== leader)!;
      await query(portOf(leader), 'CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)');
      let n = -1;
      for (let i = 0; i < 60 && n !== 2; i++) {
        n = (await query(replica.pgPort, 'SELECT count(*)::int AS n FROM t').catch(() => [{ n: -1 }]))[0].n;
        if (n !== 2) await new Promise((r) => setTimeout(r, 500));
      }
      expect(n).toBe(2);
    }, 60_000);

    it("killing the leader's PostgreSQL promotes the replica", async () => {
      const old = await c.leader();
      const m = c.members.find((x) => x.name === old)!;
      process.kill(Number(readFileSync(join(m.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
      let now = old;
      for (let i = 0; i < 120 && now === old; i++) {
        await new Promise((r) => setTimeout(r, 500));
        now = await c.leader().catch(() => old);
      }
      expect(now).not.toBe(old);
      // Patroni names the new leader as it promotes it; writes are taken once the promotion finished.
      let wrote: unknown = 'not tried';
      for (let i = 0; i < 60 && wrote !== true; i++) {
        wrote = await query(portOf(now), 'INSERT INTO t VALUES (3)').then(
          () => true,
          (e: Error) => e.message,
        );
        if (wrote !== true) await new Promise((r) => setTimeout(r, 500));
      }
      expect(wrote).toBe(true);
    }, 90_000);

    it('stop() ends every member and etcd, and removes the temp dir', async () => {
      await c.stop();
      for (const m of c.members) expect(isProcessAlive(m.pid)).toBe(false);
      expect(isProcessAlive(c.etcd.pid)).toBe(false);
      expect(existsSync(c.dir)).toBe(false);
    }, 120_000);
  },
);
