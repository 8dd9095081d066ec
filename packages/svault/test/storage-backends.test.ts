import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import {
  type EtcdServer,
  type PostgresServer,
  skipUnless,
  startEtcd,
  startPostgres,
} from '../../shared/src/testing/index.js';
import { EtcdStorage } from '../src/adapters/etcd.js';
import { FilesystemStorage } from '../src/adapters/filesystem.js';
import { PostgresStorage } from '../src/adapters/postgresql.js';
import type { HaLockBackend, HaStorage } from '../src/core/ha.js';
import type { Storage } from '../src/core/storage.js';
import { startServer } from '../src/server/main.js';
import { configSchema, type SvaultConfig } from '../src/tool.js';
import { call, initAndUnseal, SECRET_KV, tempDir } from './helpers.js';

type Opened = Storage & HaStorage & { open?(): Promise<void> };

/**
 * One backend under test: `space()` names a fresh, empty place in it (a directory, a table, a key
 * prefix); `open(space)` opens a storage there, again and again (reopening sees the same data).
 */
interface Backend {
  name: string;
  skip: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  space(): string;
  open(space: string, ha?: boolean): Promise<Opened>;
  /** The `[storage]` config of a server on this space. */
  config(space: string): SvaultConfig['storage'];
}

let pg: PostgresServer | undefined;
let etcd: EtcdServer | undefined;
const suffix = () => randomUUID().replaceAll('-', '').slice(0, 12);
const storageConfig = (storage: Record<string, unknown>) => configSchema.parse({ storage }).storage;

const backends: Backend[] = [
  {
    name: 'filesystem',
    skip: false,
    start: async () => {},
    stop: async () => {},
    space: () => tempDir('svault-storage-'),
    open: async (dir) => new FilesystemStorage(dir),
    config: (dir) => storageConfig({ backend: 'filesystem', filesystem: { path: dir } }),
  },
  {
    name: 'postgresql',
    skip: skipUnless('postgres'),
    start: async () => {
      pg = await startPostgres();
    },
    stop: async () => pg?.stop(),
    space: () => `kv_${suffix()}`,
    open: async (table, ha = false) => {
      const s = new PostgresStorage({
        connectionUrl: (pg as PostgresServer).url,
        table,
        haTable: `${table}_ha`,
        haEnabled: ha,
      });
      await s.open();
      return s;
    },
    config: (table) =>
      storageConfig({ backend: 'postgresql', postgresql: { connection_url: (pg as PostgresServer).url, table } }),
  },
  {
    name: 'etcd',
    skip: skipUnless('etcd'),
    start: async () => {
      etcd = await startEtcd();
    },
    stop: async () => etcd?.stop(),
    space: () => `/t-${suffix()}/`,
    open: async (prefix, ha = false) => {
      const s = new EtcdStorage({ endpoints: [(etcd as EtcdServer).endpoint], prefix, haEnabled: ha });
      await s.open();
      return s;
    },
    config: (prefix) =>
      storageConfig({ backend: 'etcd', etcd: { endpoints: [(etcd as EtcdServer).endpoint], prefix } }),
  },
];

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

for (const b of backends) {
  describe.skipIf(b.skip)(`storage backend: ${b.name}`, () => {
    let s: Opened;
    const opened: Opened[] = [];
    const open = async (space: string, ha = false) => {
      const st = await b.open(space, ha);
      opened.push(st);
      return st;
    };
    beforeAll(async () => {
      await b.start();
      s = await open(b.space());
    });
    afterAll(async () => {
      for (const st of opened) await st.close?.();
      await b.stop();
    });

    it('gets, puts, replaces and deletes; a missing key is undefined and deleting it is fine', async () => {
      expect(await s.get('basic/a')).toBeUndefined();
      await s.put('basic/a', bytes('one'));
      expect(text(await s.get('basic/a'))).toBe('one');
      await s.put('basic/a', bytes('two'));
      expect(text(await s.get('basic/a'))).toBe('two');
      await s.delete('basic/a');
      expect(await s.get('basic/a')).toBeUndefined();
      await s.delete('basic/a');
      await s.delete('basic/never');
    });

    it('lists the immediate children of a folder, sorted, folders with a trailing slash', async () => {
      for (const k of ['l/b', 'l/a', 'l/c/d', 'l/c/e/f', 'l/c', 'l/ab/x', 'lz/q', 'l2']) await s.put(k, bytes(k));
      expect(await s.list('l/')).toEqual(['a', 'ab/', 'b', 'c', 'c/']);
      expect(await s.list('l/c/')).toEqual(['d', 'e/']);
      expect(await s.list('l/c/e/')).toEqual(['f']);
      expect(await s.list('l/nothing/')).toEqual([]);
      const top = await s.list('');
      expect(top).toEqual(expect.arrayContaining(['l/', 'lz/', 'l2']));
      expect([...top].sort()).toEqual(top);
      // A folder goes away with its last key.
      await s.delete('l/c/e/f');
      expect(await s.list('l/c/')).toEqual(['d']);
      expect(await s.list('l/c/e/')).toEqual([]);
    });

    it('lists large folders whole (more keys than one page of a range read)', async () => {
      const keys = Array.from({ length: 1200 }, (_, i) => `big/k${String(i).padStart(4, '0')}`);
      await s.batch?.(keys.slice(0, 600).map((key) => ({ op: 'put', key, value: bytes('x') })));
      await Promise.all(keys.slice(600).map((k) => s.put(k, bytes('x'))));
      for (let i = 0; i < 30; i++) await s.put(`big/sub${i}/deep/${i}`, bytes('y'));
      const listed = await s.list('big/');
      expect(listed.length).toBe(1230);
      expect(listed.slice(0, 2)).toEqual(['k0000', 'k0001']);
      expect(listed.at(-1)).toBe('sub9/');
    });

    it('applies a batch in order (the last operation on a key wins)', async () => {
      await s.put('batch/gone', bytes('old'));
      expect(s.batch).toBeDefined();
      await s.batch!([
        { op: 'put', key: 'batch/a', value: bytes('1') },
        { op: 'delete', key: 'batch/gone' },
        { op: 'put', key: 'batch/a', value: bytes('2') },
        { op: 'put', key: 'batch/b', value: bytes('3') },
        { op: 'delete', key: 'batch/b' },
        { op: 'delete', key: 'batch/c' },
        { op: 'put', key: 'batch/c', value: bytes('4') },
      ]);
      expect(await s.list('batch/')).toEqual(['a', 'c']);
      expect(text(await s.get('batch/a'))).toBe('2');
      expect(text(await s.get('batch/c'))).toBe('4');
    });

    it('refuses a batch with one bad key as a whole: nothing of it is written', async () => {
      await expect(
        s.batch?.([
          { op: 'put', key: 'atomic/ok', value: bytes('1') },
          { op: 'put', key: 'atomic/../escape', value: bytes('2') },
        ]),
      ).rejects.toThrow(/invalid storage key/);
      expect(await s.list('atomic/')).toEqual([]);
    });

    it('keeps binary values byte for byte, the empty value included', async () => {
      const all = new Uint8Array(256).map((_, i) => i);
      await s.put('bin/all', all);
      await s.put('bin/empty', new Uint8Array(0));
      expect(Buffer.from((await s.get('bin/all')) as Uint8Array)).toEqual(Buffer.from(all));
      const empty = await s.get('bin/empty');
      expect(empty).toBeDefined();
      expect(empty?.length).toBe(0);
      // A view into a larger buffer stores just its bytes.
      const backing = randomBytes(64);
      await s.put('bin/view', new Uint8Array(backing.buffer, backing.byteOffset + 10, 20));
      expect(Buffer.from((await s.get('bin/view')) as Uint8Array)).toEqual(backing.subarray(10, 30));
    });

    it('stores large values (1 MiB)', async () => {
      const big = randomBytes(1024 * 1024);
      await s.put('large/one', big);
      expect(Buffer.from((await s.get('large/one')) as Uint8Array).equals(big)).toBe(true);
    });

    it('takes concurrent writers: every key ends with one of the values written to it', async () => {
      const writes = Array.from({ length: 200 }, (_, i) => ({ key: `conc/k${i % 25}`, value: `v${i}` }));
      await Promise.all(
        writes.map(async (w, i) => {
          await s.put(w.key, bytes(w.value));
          if (i % 3 === 0) await s.get(w.key);
        }),
      );
      const listed = await s.list('conc/');
      expect(listed.length).toBe(25);
      for (const k of listed) {
        const v = text(await s.get(`conc/${k}`));
        expect(writes.filter((w) => w.key === `conc/${k}`).map((w) => w.value)).toContain(v);
      }
    });

    it('keeps keys with odd characters apart, and SQL/glob wildcards match only themselves', async () => {
      const odd = [
        "it's",
        'say "hi"',
        'sp ace',
        'ünï cødé',
        '日本',
        '🔑',
        '%',
        '_',
        'a_',
        'a%b',
        '*?[]{}',
        '+x',
        '-',
        ';drop',
      ];
      for (const n of odd) await s.put(`odd/${n}`, bytes(n));
      await s.put('odd/a_/in', bytes('1'));
      await s.put('odd/ab/in', bytes('2'));
      await s.put('odd/a%b/in', bytes('3'));
      expect(await s.list('odd/a_/')).toEqual(['in']);
      expect(await s.list('odd/a%b/')).toEqual(['in']);
      for (const n of odd) expect(text(await s.get(`odd/${n}`))).toBe(n);
      expect(await s.list('odd/')).toEqual([...odd, 'a%b/', 'a_/', 'ab/'].sort());
    });

    it('refuses path traversal and malformed keys, and writes nothing for them', async () => {
      const before = await s.list('');
      for (const k of ['../x', 'a/../b', '/abs', 'a//b', 'a/', '.', 'a/./b', 'back\\slash', 'nul\0']) {
        await expect(s.put(k, bytes('x')), k).rejects.toThrow(/invalid storage key/);
        await expect(s.get(k), k).rejects.toThrow(/invalid storage key/);
      }
      await expect(s.list('no-slash')).rejects.toThrow(/must end with/);
      await expect(s.list('../')).rejects.toThrow(/invalid storage key/);
      expect(await s.list('')).toEqual(before);
    });

    it('closes (twice is fine), and a storage opened again on the same place has the data', async () => {
      const space = b.space();
      const first = await open(space);
      await first.put('persist/k', bytes('kept'));
      await first.close?.();
      await first.close?.();
      const again = await open(space);
      expect(text(await again.get('persist/k'))).toBe('kept');
      expect(await again.list('persist/')).toEqual(['k']);
    });

    it('runs a vault: init, unseal, KV write, restart, unseal, read back', { timeout: 60_000 }, async () => {
      const storage = b.config(b.space());
      const config = configSchema.parse({ storage, server: { address: '127.0.0.1:0' }, engines: SECRET_KV });
      let srv = await startServer({ config, tidyIntervalMs: 0 });
      const { keys, root } = await initAndUnseal(srv.address, 3, 2);
      const w = await call(srv.address, 'POST', '/v1/secret/data/app', {
        token: root,
        body: { data: { pw: 's3cr3t' } },
      });
      expect(w.status).toBe(200);
      expect((await call(srv.address, 'GET', '/v1/sys/seal-status')).body.storage_type).toBe(
        b.name === 'filesystem' ? 'file' : b.name,
      );
      await srv.close();
      srv = await startServer({ config, tidyIntervalMs: 0 });
      try {
        expect((await call(srv.address, 'GET', '/v1/sys/health')).status).toBe(503);
        for (const k of keys.slice(1, 3)) await call(srv.address, 'PUT', '/v1/sys/unseal', { body: { key: k } });
        const r = await call(srv.address, 'GET', '/v1/secret/data/app', { token: root });
        expect(r.status).toBe(200);
        expect(r.body.data.data).toEqual({ pw: 's3cr3t' });
        // Without HA the node says so.
        expect((await call(srv.address, 'GET', '/v1/sys/leader')).body).toMatchObject({
          ha_enabled: false,
          is_self: false,
        });
      } finally {
        await srv.close();
      }
    });

    // The filesystem backend has no HA (one process per data directory).
    if (b.name !== 'filesystem')
      describe('HA lock', () => {
        let one: HaLockBackend;
        let two: HaLockBackend;
        beforeAll(async () => {
          const space = b.space();
          one = (await open(space, true)).ha as HaLockBackend;
          two = (await open(space, true)).ha as HaLockBackend;
        });

        it('is held by one node at a time; released, the other takes it', async () => {
          expect(await one.acquire('node-1', 'http://one:8200', 5000)).toBe(true);
          expect(await two.acquire('node-2', 'http://two:8200', 5000)).toBe(false);
          expect(await two.holder()).toEqual({ id: 'node-1', value: 'http://one:8200' });
          expect(await one.renew('node-1', 5000)).toBe(true);
          expect(await two.renew('node-2', 5000)).toBe(false);
          await one.release('node-1');
          expect(await two.holder()).toBeUndefined();
          expect(await two.acquire('node-2', 'http://two:8200', 5000)).toBe(true);
          expect(await one.holder()).toEqual({ id: 'node-2', value: 'http://two:8200' });
          await two.release('node-2');
        });

        it('expires when its holder stops renewing; the old holder cannot renew after a takeover', async () => {
          expect(await one.acquire('node-1', 'http://one:8200', 2000)).toBe(true);
          const t0 = Date.now();
          let took = false;
          let tries = 0;
          while (!took && Date.now() - t0 < 15_000) {
            tries++;
            took = await two.acquire('node-2', 'http://two:8200', 5000);
            if (!took) await new Promise((r) => setTimeout(r, 250));
          }
          expect(took).toBe(true);
          expect(tries).toBeGreaterThan(1); // refused while held, taken once it expired
          expect(await one.renew('node-1', 2000)).toBe(false);
          expect((await one.holder())?.id).toBe('node-2');
          await two.release('node-2');
        });
      });
  });
}

describe('storage configuration', () => {
  it('a server whose storage cannot be reached fails at start, naming it without the password', async () => {
    const start = (storage: Record<string, unknown>) =>
      startServer({ config: configSchema.parse({ storage, server: { address: '127.0.0.1:0' } }) }).then(
        async (srv) => {
          await srv.close();
          return undefined;
        },
        (e: Error) => e.message,
      );
    const url = 'postgresql://svault:s3cretpw@127.0.0.1:1/vault';
    const pgError = await start({ backend: 'postgresql', postgresql: { connection_url: url } });
    expect(pgError).toMatch(/^PostgreSQL storage at postgresql:\/\/svault:\*{8}@127\.0\.0\.1:1\/vault: .*ECONNREFUSED/);
    expect(pgError).not.toContain('s3cretpw');
    const etcdError = await start({ backend: 'etcd', etcd: { endpoints: ['http://127.0.0.1:1'] } });
    expect(etcdError).toMatch(/^etcd storage at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('`svault config` masks the connection password; a bad table name or etcd prefix is exit 3', async () => {
    const { cwd, env } = sandbox();
    const file = join(cwd, 'svault.toml');
    writeFileSync(
      file,
      '[storage]\nbackend = "postgresql"\n[storage.postgresql]\nconnection_url = "postgresql://app:hunter2@db:5432/vault"\nha_enabled = true\n',
    );
    const shown = await runBin('svault', ['config', '--json'], { cwd, env });
    expect(shown.code).toBe(0);
    const settings = JSON.parse(shown.stdout).settings as { key: string; value: unknown }[];
    expect(settings.find((x) => x.key === 'storage.postgresql.connection_url')?.value).toBe(
      'postgresql://app:********@db:5432/vault',
    );
    expect(shown.stdout).not.toContain('hunter2');
    for (const [toml, key] of [
      ['[storage.postgresql]\ntable = "kv; DROP TABLE x"\n', 'storage.postgresql.table'],
      ['[storage.etcd]\nprefix = "/no-slash"\n', 'storage.etcd.prefix'],
    ]) {
      writeFileSync(file, toml as string);
      const bad = await runBin('svault', ['config', '--json'], { cwd, env });
      expect(bad.code).toBe(3);
      expect(JSON.parse(bad.stdout).error.details.key).toBe(key);
    }
  });
});
