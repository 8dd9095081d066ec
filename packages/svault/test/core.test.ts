import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemStorage } from '../src/adapters/filesystem.js';
import { MemoryStorage } from '../src/adapters/memory.js';
import { Barrier } from '../src/core/barrier.js';
import { CryptoSuite } from '../src/core/crypto.js';
import { VaultError } from '../src/core/errors.js';
import { parseDuration } from '../src/core/fields.js';
import { generateShares, UnsealProgress } from '../src/core/seal.js';
import type { Storage } from '../src/core/storage.js';
import { TokenStore } from '../src/core/tokens.js';
import { Vault } from '../src/core/vault.js';
import { SECRET, tempDir } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const backends: [string, () => Storage][] = [
  ['filesystem', () => new FilesystemStorage(tempDir())],
  ['memory', () => new MemoryStorage()],
];

describe.each(backends)('%s storage', (_name, make) => {
  it('gets, puts, deletes and lists immediate children like Vault', async () => {
    const s = make();
    await s.put('a/b', enc.encode('1'));
    await s.put('a/b/c', enc.encode('2'));
    await s.put('a/d/e/f', enc.encode('3'));
    await s.put('z', enc.encode('4'));
    expect(dec.decode(await s.get('a/b'))).toBe('1');
    expect(dec.decode(await s.get('a/b/c'))).toBe('2');
    expect(await s.get('a/x')).toBeUndefined();
    expect(await s.list('')).toEqual(['a/', 'z']);
    expect(await s.list('a/')).toEqual(['b', 'b/', 'd/']);
    await s.delete('a/d/e/f');
    await s.delete('a/d/e/f');
    expect(await s.list('a/')).toEqual(['b', 'b/']);
    await s.put('a/b', enc.encode('replaced'));
    expect(dec.decode(await s.get('a/b'))).toBe('replaced');
  });

  it('refuses keys that could escape the data dir', async () => {
    const s = make();
    for (const key of ['../x', 'a/../../x', 'a//b', '', '/abs', 'a/./b', 'a\\..\\b', 'a\0b']) {
      await expect(s.put(key, enc.encode('x')), key).rejects.toThrow(/invalid storage key/);
    }
    await expect(s.list('../')).rejects.toThrow();
  });

  it('serializes concurrent writers: the last write wins whole, never a mix', async () => {
    const s = make();
    const values = Array.from({ length: 30 }, (_, i) => enc.encode(String(i).repeat(5000)));
    await Promise.all(values.map((v) => s.put('hot/key', v)));
    const got = dec.decode(await s.get('hot/key'));
    expect(values.map((v) => dec.decode(v))).toContain(got);
    // Writers and deleters racing on neighbours leave a consistent tree.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 ? s.put(`dir/sub/k${i}`, enc.encode('v')) : s.delete(`dir/sub/k${i - 1}`),
      ),
    );
    for (const k of await s.list('dir/sub/')) expect(dec.decode(await s.get(`dir/sub/${k}`))).toBe('v');
  });
});

describe('filesystem storage on disk', () => {
  it('leaves no temporary files and keeps files private', async () => {
    const dir = tempDir();
    const s = new FilesystemStorage(dir);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.put(`k/${i}`, enc.encode('v'))));
    await s.flush(); // acknowledged once journaled; the files follow
    const names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
    expect(names.filter((n) => n.includes('.tmp-'))).toEqual([]);
    const { statSync } = await import('node:fs');
    expect(statSync(join(dir, '+k', '_0')).mode & 0o077).toBe(0);
  });
});

describe('filesystem storage journal', () => {
  it('replays the journal after a crash: torn files are restored, a torn last record is dropped', async () => {
    const { appendFileSync, unlinkSync, readdirSync: ls } = await import('node:fs');
    const dir = tempDir();
    const a = new FilesystemStorage(dir, { checkpointMs: 60_000 });
    await a.put('x/one', enc.encode('1'));
    await a.batch([
      { op: 'put', key: 'x/two', value: enc.encode('2') },
      { op: 'put', key: 'x/three', value: enc.encode('3') },
      { op: 'delete', key: 'x/one' },
    ]);
    await a.flush();
    // "Crash": the process is gone (its lock stays), a file was torn, the journal ends in half a record.
    writeFileSync(join(dir, '+x', '_two'), '');
    const journal = ls(dir).find((n) => n.startsWith('journal-')) as string;
    appendFileSync(join(dir, journal), Buffer.from([0, 0, 0, 40, 1, 0]));
    unlinkSync(join(dir, 'storage.lock'));
    const b = new FilesystemStorage(dir);
    expect(dec.decode(await b.get('x/two'))).toBe('2');
    expect(dec.decode(await b.get('x/three'))).toBe('3');
    expect(await b.get('x/one')).toBeUndefined();
    expect(ls(dir).filter((n) => n.startsWith('journal-'))).toHaveLength(1); // replayed ones removed
    await b.close();
    expect(ls(dir).filter((n) => n.startsWith('journal-') || n === 'storage.lock')).toEqual([]);
  });

  it('bounds what waits in memory: past the limit, writers wait for the files to be written', async () => {
    const dir = tempDir();
    const s = new FilesystemStorage(dir, { checkpointMs: 60_000, maxPending: 50 });
    for (let i = 0; i < 400; i++) await s.put(`many/k${i}`, enc.encode(`v${i}`));
    // No checkpoint or flush ran, yet most files are on disk already.
    expect(readdirSync(join(dir, '+many')).length).toBeGreaterThanOrEqual(350);
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.put(`many/k${i}`, enc.encode(`w${i}`))));
    for (const i of [0, 49, 50, 199, 399])
      expect(dec.decode(await s.get(`many/k${i}`))).toBe(i < 200 ? `w${i}` : `v${i}`);
    await s.close();
    const again = new FilesystemStorage(dir);
    expect(await again.list('many/')).toHaveLength(400);
    expect(dec.decode(await again.get('many/k199'))).toBe('w199');
    await again.close();
  });

  it('refuses a second opener of the same directory', async () => {
    const dir = tempDir();
    const a = new FilesystemStorage(dir);
    await a.put('k', enc.encode('v'));
    await expect(new FilesystemStorage(dir).get('k')).rejects.toThrow(/already open in this process/);
    await a.close();
    expect(dec.decode(await new FilesystemStorage(dir).get('k'))).toBe('v');
  });

  it('a write that lands while files are being brought up to date wins, in memory, on disk and after a crash', async () => {
    const { unlinkSync, readFileSync: read } = await import('node:fs');
    const dir = tempDir();
    const a = new FilesystemStorage(dir, { checkpointMs: 60_000 });
    for (let i = 0; i < 200; i++) await a.put(`k/${i % 20}`, enc.encode(`old${i}`));
    // The files are written while newer values of the same keys arrive.
    const flushing = a.flush();
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.put(`k/${i}`, enc.encode(`new${i}`))));
    await flushing;
    for (let i = 0; i < 20; i++) expect(dec.decode(await a.get(`k/${i}`))).toBe(`new${i}`);
    await a.flush();
    expect(read(join(dir, '+k', '_7'), 'utf8')).toBe('new7');
    await a.put('k/7', enc.encode('last'));
    expect(read(join(dir, '+k', '_7'), 'utf8')).toBe('new7'); // acknowledged from the journal alone
    unlinkSync(join(dir, 'storage.lock')); // "crash": nothing closed, the journal is all there is
    const b = new FilesystemStorage(dir);
    expect(dec.decode(await b.get('k/7'))).toBe('last');
    expect(await b.list('k/')).toHaveLength(20);
    await b.close();
  });
});

describe('barrier', () => {
  async function open(storage: Storage = new MemoryStorage(), backend: 'openssl' | 'noble' = 'openssl') {
    const b = new Barrier(storage, await CryptoSuite.create(backend));
    const root = new Uint8Array(32).fill(7);
    if (!(await b.initialized())) await b.initialize(root);
    else await b.unseal(root);
    return { b, root, storage };
  }

  it('stores ciphertext under encrypted names, and reads it back', async () => {
    const { b, storage } = await open();
    await b.put('mounts/u1/metadata/payroll/db', enc.encode('{"password":"hunter2"}'));
    expect(dec.decode(await b.get('mounts/u1/metadata/payroll/db'))).toBe('{"password":"hunter2"}');
    expect(await b.list('mounts/u1/metadata/')).toEqual(['payroll/']);
    const physical = await storage.list('logical/');
    expect(physical).toHaveLength(1);
    expect(physical[0]).not.toContain('mounts');
  });

  it('refuses to unseal with a wrong root key and is sealed until unsealed', async () => {
    const { b, storage } = await open();
    b.seal();
    await expect(b.get('x')).rejects.toMatchObject({ kind: 'sealed' });
    const b2 = new Barrier(storage, await CryptoSuite.create());
    await expect(b2.unseal(new Uint8Array(32).fill(8))).rejects.toThrow(/invalid unseal keys/);
    expect(b2.sealed).toBe(true);
  });

  it('rotate adds a term; old entries decrypt, new ones use the new term', async () => {
    const { b, root, storage } = await open();
    await b.put('old', enc.encode('before'));
    expect(await b.rotate(root)).toMatchObject({ term: 2 });
    await b.put('new', enc.encode('after'));
    const b2 = new Barrier(storage, await CryptoSuite.create());
    await b2.unseal(root);
    expect(dec.decode(await b2.get('old'))).toBe('before');
    expect(dec.decode(await b2.get('new'))).toBe('after');
    expect(b2.keyStatus()).toMatchObject({ term: 2, terms: 2 });
  });

  it('detects an entry moved to another path or changed on disk', async () => {
    const dir = tempDir();
    const fs = new FilesystemStorage(dir);
    const { b } = await open(fs);
    await b.put('a', enc.encode('A'));
    await b.put('b', enc.encode('B'));
    await fs.flush();
    const files = readdirSync(join(dir, '+logical')).map((f) => join(dir, '+logical', f));
    const [fa, fb] = files as [string, string];
    writeFileSync(fb, readFileSync(fa));
    const results = await Promise.allSettled([b.get('a'), b.get('b')]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });

  it('the noble backend reads what openssl wrote (same cipher, same bytes)', async () => {
    const storage = new MemoryStorage();
    const { b } = await open(storage, 'openssl');
    await b.put('k', enc.encode('shared'));
    const { b: nb } = await open(storage, 'noble');
    expect(dec.decode(await nb.get('k'))).toBe('shared');
  });
});

describe('shamir seal', () => {
  it('any threshold subset rebuilds the root key; fewer keys never return it', async () => {
    const { rootKey, keys } = await generateShares(5, 3);
    const cfg = { type: 'shamir' as const, secret_shares: 5, secret_threshold: 3 };
    const p = new UnsealProgress();
    expect(await p.add(new Uint8Array(keys[4] as Uint8Array), cfg)).toBeUndefined();
    expect(await p.add(new Uint8Array(keys[1] as Uint8Array), cfg)).toBeUndefined();
    expect(p.count).toBe(2);
    const got = await p.add(new Uint8Array(keys[2] as Uint8Array), cfg);
    expect(Buffer.from(got as Uint8Array).equals(Buffer.from(rootKey))).toBe(true);
    expect(p.count).toBe(0);
  });

  it('refuses a duplicate share without counting it', async () => {
    const { keys } = await generateShares(3, 2);
    const cfg = { type: 'shamir' as const, secret_shares: 3, secret_threshold: 2 };
    const p = new UnsealProgress();
    await p.add(new Uint8Array(keys[0] as Uint8Array), cfg);
    await expect(p.add(new Uint8Array(keys[0] as Uint8Array), cfg)).rejects.toThrow(/duplicate/);
    expect(p.count).toBe(1);
  });
});

describe('core: KV and tokens through logical requests', () => {
  async function vault() {
    const v = new Vault({
      storage: new MemoryStorage(),
      suite: await CryptoSuite.create(),
      tidyIntervalMs: 0,
      mounts: [SECRET],
    });
    const init = await v.init(3, 2);
    for (const k of init.keys.slice(0, 2)) await v.unseal(k);
    return { v, root: init.root_token };
  }

  it('a CAS race: of concurrent writes with the same cas, exactly one wins', async () => {
    const { v, root } = await vault();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        v.handle({
          operation: 'update',
          path: 'secret/data/race',
          data: { data: { i }, options: { cas: 0 } },
          token: root,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(VaultError);
      expect((r as PromiseRejectedResult).reason.kind).toBe('conflict');
    }
  });

  it('tokens are stored only as hashes', async () => {
    const storage = new MemoryStorage();
    const v = new Vault({ storage, suite: await CryptoSuite.create(), tidyIntervalMs: 0, mounts: [SECRET] });
    const init = await v.init(1, 1);
    await v.unseal(init.keys[0] as string);
    const store = new TokenStore(v.barrier.view('sys/token/'), v.barrier.derivedKey('token'));
    const ids = await v.barrier.list('sys/token/id/');
    expect(ids).toEqual([store.hash(init.root_token)]);
    const entry = dec.decode(await v.barrier.get(`sys/token/id/${ids[0]}`));
    expect(entry).not.toContain(init.root_token);
    expect(entry).not.toContain(init.root_token.slice(4));
  });

  it('a sweep revokes expired tokens', async () => {
    const { v, root } = await vault();
    const r = await v.handle({ operation: 'update', path: 'auth/token/create', data: { ttl: 1 }, token: root });
    expect(r?.auth?.client_token).toMatch(/^hvs\./);
    await new Promise((res) => setTimeout(res, 1100));
    expect(await v.tidyTokens()).toBe(1);
  });
});

describe('durations', () => {
  it('parses Go-style durations and seconds', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('720h')).toBe(2592000);
    expect(parseDuration('1.5s')).toBe(1);
    expect(parseDuration('1x')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
});
