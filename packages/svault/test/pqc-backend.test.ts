import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/adapters/memory.js';
import { type CryptoBackendName, CryptoSuite } from '../src/core/crypto.js';
import type { HandlerResult } from '../src/core/logical.js';
import { Vault } from '../src/core/vault.js';
import { SECRET } from './helpers.js';

const KEYRING = 'core/keyring';
/** A KV v2 read's data, or {} (so a failed read fails the assertion, not the test code). */
const dataOf = (r: HandlerResult) => (r?.data?.data ?? {}) as Record<string, string>;

async function vaultOver(storage: MemoryStorage, backend: CryptoBackendName) {
  return new Vault({ storage, suite: await CryptoSuite.create(backend), tidyIntervalMs: 0, mounts: [SECRET] });
}

async function unsealWith(v: Vault, keys: string[]) {
  for (const k of keys) await v.unseal(k);
  expect(v.sealed).toBe(false);
}

describe('crypto_backend = "pqc": the keyring wrapped with hybrid ML-KEM-768 + X25519', () => {
  it('init, unseal and KV work; the stored keyring is a hybrid blob that only the right shares open', async () => {
    const storage = new MemoryStorage();
    const v = await vaultOver(storage, 'pqc');
    const { keys, root_token: token } = await v.init(3, 2);
    const blob = (await storage.get(KEYRING)) as Uint8Array;
    // [2][cipher][ML-KEM-768 ciphertext 1088][X25519 pk 32][nonce][ciphertext+tag]
    expect(blob[0]).toBe(2);
    expect(blob.length).toBeGreaterThan(2 + 1088 + 32 + 12 + 16);
    await unsealWith(v, keys.slice(1));
    await v.handle({ operation: 'update', path: 'secret/data/app', data: { data: { pw: 's3cr3t' } }, token });
    v.seal();

    // Shares of another vault combine into a different root key: refused, not "unsealed" into garbage.
    const other = await vaultOver(new MemoryStorage(), 'pqc');
    const foreign = (await other.init(3, 2)).keys;
    await v.unseal(foreign[0] as string);
    await expect(v.unseal(foreign[1] as string)).rejects.toThrow(/invalid unseal keys/);
    expect(v.sealed).toBe(true);

    await unsealWith(v, [keys[0] as string, keys[2] as string]);
    const r = await v.handle({ operation: 'read', path: 'secret/data/app', data: {}, token });
    expect(dataOf(r).pw).toBe('s3cr3t');
  });

  it('rewraps on unseal when the configured backend changes, both ways, and keeps every entry readable', async () => {
    const storage = new MemoryStorage();
    const classic = await vaultOver(storage, 'openssl');
    const { keys, root_token: token } = await classic.init(1, 1);
    expect((await storage.get(KEYRING))?.[0]).toBe(1);
    await unsealWith(classic, keys);
    await classic.handle({ operation: 'update', path: 'secret/data/a', data: { data: { n: '1' } }, token });
    classic.seal();

    const pq = await vaultOver(storage, 'pqc');
    await unsealWith(pq, keys);
    expect((await storage.get(KEYRING))?.[0]).toBe(2);
    // sys/key-status says so, for an operator checking the migration.
    const ks = await pq.handle({ operation: 'read', path: 'sys/key-status', data: {}, token });
    expect(ks?.data?.keyring_wrap).toBe('ml-kem-768+x25519 (aes-256-gcm)');
    const r = await pq.handle({ operation: 'read', path: 'secret/data/a', data: {}, token });
    expect(dataOf(r).n).toBe('1');
    // A keyring rotation under pqc stays hybrid-wrapped.
    await pq.handle({ operation: 'update', path: 'sys/rotate', data: {}, token });
    expect((await storage.get(KEYRING))?.[0]).toBe(2);
    pq.seal();

    const back = await vaultOver(storage, 'openssl');
    await unsealWith(back, keys);
    expect((await storage.get(KEYRING))?.[0]).toBe(1);
    const again = await back.handle({ operation: 'read', path: 'secret/data/a', data: {}, token });
    expect(dataOf(again).n).toBe('1');
  });

  it('a changed byte anywhere in the hybrid keyring (KEM ciphertext, X25519 key, tag) refuses to unseal', async () => {
    for (const offset of [5, 2 + 1088 + 3, -1]) {
      const storage = new MemoryStorage();
      const v = await vaultOver(storage, 'pqc');
      const { keys } = await v.init(1, 1);
      const blob = new Uint8Array((await storage.get(KEYRING)) as Uint8Array);
      const i = offset < 0 ? blob.length + offset : offset;
      blob[i] = (blob[i] as number) ^ 0x01;
      await storage.put(KEYRING, blob);
      await expect(v.unseal(keys[0] as string), `byte ${i}`).rejects.toThrow(/invalid unseal keys/);
      expect(v.sealed).toBe(true);
    }
  });
});
