import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox } from '../../../test/run-bin.js';
import {
  type EtcdServer,
  type PostgresServer,
  skipUnless,
  startEtcd,
  startPostgres,
} from '../../shared/src/testing/index.js';
import { type RunningServer, startServer } from '../src/server/main.js';
import { configSchema } from '../src/tool.js';
import { call, initAndUnseal, SECRET_KV, SECRET_KV_TOML } from './helpers.js';
import { type ServerProcess, spawnServer } from './proc.js';

/**
 * Nodes on one shared storage with ha_enabled: one is active, the others are standbys that point
 * clients at it and take over when it dies, is sealed or loses its lock.
 */
interface Store {
  /** `[storage]` of the nodes spawned as processes. */
  toml: string;
  /** `[storage]` of in-process nodes (another table or prefix). */
  storage: Record<string, unknown>;
  /** Makes the in-process nodes' lock look held by someone else, as after a partition. */
  steal(holderValue: string): Promise<void>;
  /** Removes that intruder. */
  free(): Promise<void>;
  stop(): Promise<void>;
}

const setups: { name: string; skip: boolean; start(): Promise<Store> }[] = [
  {
    name: 'postgresql',
    skip: skipUnless('postgres'),
    start: async () => {
      const server: PostgresServer = await startPostgres();
      const db = new pg.Client({ connectionString: server.url });
      await db.connect();
      return {
        toml: `[storage]\nbackend = "postgresql"\n[storage.postgresql]\nconnection_url = "${server.url}"\nha_enabled = true\n`,
        storage: {
          backend: 'postgresql',
          postgresql: { connection_url: server.url, table: 'inproc_kv', ha_table: 'inproc_ha', ha_enabled: true },
        },
        steal: async (value) => {
          await db.query(
            `UPDATE inproc_ha SET ha_identity = 'intruder', ha_value = $1, valid_until = now() + interval '1 minute'`,
            [value],
          );
        },
        free: async () => {
          await db.query('DELETE FROM inproc_ha');
        },
        stop: async () => {
          await db.end();
          await server.stop();
        },
      };
    },
  },
  {
    name: 'etcd',
    skip: skipUnless('etcd'),
    start: async () => {
      const server: EtcdServer = await startEtcd();
      const client = new Etcd3({ hosts: server.endpoint });
      return {
        toml: `[storage]\nbackend = "etcd"\n[storage.etcd]\nendpoints = ["${server.endpoint}"]\nha_enabled = true\n`,
        storage: { backend: 'etcd', etcd: { endpoints: [server.endpoint], prefix: '/inproc/', ha_enabled: true } },
        // Overwritten without a lease: the holder's lease no longer owns the key.
        steal: async (value) => {
          await client.put('/inproc.ha-lock').value(JSON.stringify({ id: 'intruder', value }));
        },
        free: async () => {
          await client.delete().key('/inproc.ha-lock');
        },
        stop: async () => {
          client.close();
          await server.stop();
        },
      };
    },
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns true; the time it took, or a failure after `limitMs`. */
async function until(what: string, limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(200);
  }
}

const health = async (base: string) => (await call(base, 'GET', '/v1/sys/health')).status;

for (const setup of setups) {
  describe.skipIf(setup.skip)(`HA on ${setup.name}`, () => {
    let store: Store;
    const nodes: ServerProcess[] = [];
    let cfg: string;
    let box: ReturnType<typeof sandbox>;
    const spawn = async () => {
      const n = await spawnServer(['--config', cfg], { cwd: box.cwd, env: box.env });
      nodes.push(n);
      return n;
    };
    beforeAll(async () => {
      store = await setup.start();
      box = sandbox();
      cfg = join(box.cwd, 'svault.toml');
      writeFileSync(cfg, `[server]\naddress = "127.0.0.1:0"\n${store.toml}\n${SECRET_KV_TOML}`);
    });
    afterAll(async () => {
      for (const n of nodes) await n.stop('SIGKILL');
      await store?.stop();
    });

    it('one node is active, the other a standby that takes over after a kill -9, losing no acknowledged write', {
      timeout: 240_000,
    }, async () => {
      const [a, b] = await Promise.all([spawn(), spawn()]);
      const init = await call(a.address, 'PUT', '/v1/sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
      expect(init.status).toBe(200);
      const keys = init.body.keys as string[];
      const root = init.body.root_token as string;
      const unseal = async (n: ServerProcess) => {
        for (const k of keys.slice(0, 2)) await call(n.address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
      };
      // The standby saw the uninitialized storage before: it must not remember that.
      expect(await health(b.address)).toBe(503);
      await unseal(a);
      await until('a becomes active', 10_000, async () => (await health(a.address)) === 200);
      await unseal(b);
      await sleep(1500); // b tries for the lock at least once
      const hb = await call(b.address, 'GET', '/v1/sys/health');
      expect(hb.status).toBe(429);
      expect(hb.body).toMatchObject({ initialized: true, sealed: false, standby: true });
      expect((await call(b.address, 'GET', '/v1/sys/health?standbyok=true')).status).toBe(200);
      expect((await call(b.address, 'GET', '/v1/sys/leader')).body).toMatchObject({
        ha_enabled: true,
        is_self: false,
        leader_address: a.address,
      });
      const la = (await call(a.address, 'GET', '/v1/sys/leader')).body;
      expect(la).toMatchObject({ ha_enabled: true, is_self: true, leader_address: a.address });
      expect(Date.parse(la.active_time)).toBeGreaterThan(Date.now() - 60_000);

      // The standby sends clients to the active node, method and path kept (307).
      const viaB = await call(b.address, 'POST', '/v1/secret/data/redirected', {
        token: root,
        body: { data: { x: 1 } },
      });
      expect(viaB.status).toBe(307);
      expect(viaB.text).toBe('');
      const location = (
        await fetch(`${b.address}/v1/secret/data/redirected?version=1`, {
          headers: { 'X-Vault-Token': root },
          redirect: 'manual',
        })
      ).headers.get('location');
      expect(location).toBe(`${a.address}/v1/secret/data/redirected?version=1`);
      expect((await call(b.address, 'GET', '/v1/secret/data/redirected', { token: root })).status).toBe(307);
      // Nothing was written through the standby.
      expect((await call(a.address, 'GET', '/v1/secret/data/redirected', { token: root })).status).toBe(404);

      // A stream of writes to the active node; kill -9 it in the middle.
      const acked: { key: string; value: string }[] = [];
      let i = 0;
      let killedAt = 0;
      const writer = async () => {
        while (killedAt === 0 || Date.now() - killedAt < 500) {
          const key = `k${i % 50}`;
          const value = `v${i++}`;
          try {
            const r = await call(a.address, 'POST', `/v1/secret/data/${key}`, {
              token: root,
              body: { data: { value } },
            });
            if (r.status === 200) acked.push({ key, value });
          } catch {
            // the connection died with the server: not acknowledged
          }
          if (acked.length >= 150 && killedAt === 0) {
            killedAt = Date.now();
            a.proc.kill('SIGKILL');
          }
        }
      };
      await Promise.all([writer(), writer(), writer(), writer()]);
      await a.stop('SIGKILL');

      // The standby takes over and serves writes (and reads). How fast is the lease's business (about 10 s,
      // printed below); the wait is only an upper bound for a loaded machine, not a measurement.
      const took = await until('b serves writes', 90_000, async () => {
        const r = await call(b.address, 'POST', '/v1/secret/data/after', { token: root, body: { data: { ok: true } } });
        return r.status === 200;
      });
      const sinceKill = Date.now() - killedAt;
      expect(await health(b.address)).toBe(200);
      expect((await call(b.address, 'GET', '/v1/sys/leader')).body).toMatchObject({ is_self: true });

      // Every acknowledged write is there: the latest acknowledged value of each key.
      const latest = new Map<string, string>();
      for (const w of acked) latest.set(w.key, w.value);
      const lost: string[] = [];
      for (const [key, value] of latest) {
        const r = await call(b.address, 'GET', `/v1/secret/data/${key}`, { token: root });
        const got = r.body?.data?.data?.value as string | undefined;
        // A write sent but cut off before its answer may be there too, so "at least as new".
        if (r.status !== 200 || Number(got?.slice(1)) < Number(value.slice(1))) lost.push(`${key}: ${got} < ${value}`);
      }
      expect(lost).toEqual([]);
      console.log(
        `HA ${setup.name}: ${acked.length} acknowledged writes; standby active ${sinceKill} ms after kill -9 ` +
          `(${took} ms of polling)`,
      );

      // The killed node comes back as a standby; stopped gracefully, the active one hands over at once.
      const c = await spawn();
      await unseal(c);
      await until('c is a standby', 10_000, async () => (await health(c.address)) === 429);
      await b.stop('SIGTERM');
      await until('c becomes active', 10_000, async () => (await health(c.address)) === 200);
      expect(b.stderr()).not.toContain('releasing the lock failed'); // released on SIGTERM, not left to expire
      const r = await call(c.address, 'GET', '/v1/secret/data/after', { token: root });
      expect(r.body.data.data).toEqual({ ok: true });
    });

    it('an active node that loses its lock steps down at once; a sealed one hands over', {
      timeout: 120_000,
    }, async () => {
      const config = configSchema.parse({
        storage: store.storage,
        server: { address: '127.0.0.1:0' },
        engines: SECRET_KV,
      });
      const servers: RunningServer[] = [];
      try {
        const a = await startServer({ config, tidyIntervalMs: 0 });
        servers.push(a);
        const b = await startServer({ config, tidyIntervalMs: 0 });
        servers.push(b);
        const { keys, root } = await initAndUnseal(a.address, 3, 2);
        await until('a becomes active', 10_000, async () => (await health(a.address)) === 200);
        for (const k of keys.slice(0, 2)) await call(b.address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
        await until('b is a standby', 10_000, async () => (await health(b.address)) === 429);

        // Someone else holds the lock now (a partition healed the wrong way): a stops serving.
        await store.steal('http://intruder:8200');
        await until('a steps down', 5_000, async () => (await health(a.address)) === 429);
        expect(await health(b.address)).toBe(429);
        // It learns who holds the lock on its next try, and points clients there.
        await until('a names the new holder', 3_000, async () => {
          const leader = await call(a.address, 'GET', '/v1/sys/leader');
          return leader.body.leader_address === 'http://intruder:8200' && leader.body.is_self === false;
        });
        const w = await call(a.address, 'POST', '/v1/secret/data/x', { token: root, body: { data: { x: 1 } } });
        expect(w.status).toBe(307);

        // Free again: one of them takes over; sealed, it hands over to the other at once.
        await store.free();
        let active: RunningServer | undefined;
        await until('a node becomes active', 5_000, async () => {
          for (const n of servers) if ((await health(n.address)) === 200) active = n;
          return active !== undefined;
        });
        const other = servers.find((n) => n !== active) as RunningServer;
        const act = active as RunningServer;
        expect(
          (await call(act.address, 'POST', '/v1/secret/data/x', { token: root, body: { data: { x: 2 } } })).status,
        ).toBe(200);
        expect((await call(act.address, 'PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
        await until('the other node takes over', 5_000, async () => (await health(other.address)) === 200);
        const read = await call(other.address, 'GET', '/v1/secret/data/x', { token: root });
        expect(read.status, read.text).toBe(200);
        expect(read.body.data.data).toEqual({ x: 2 });
        // The sealed node, unsealed again, comes back as a standby.
        for (const k of keys.slice(1, 3)) await call(act.address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
        await until('it is a standby', 5_000, async () => (await health(act.address)) === 429);
      } finally {
        for (const n of servers) await n.close();
      }
    });
  });
}
