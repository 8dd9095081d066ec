import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/adapters/memory.js';
import { CryptoSuite } from '../src/core/crypto.js';
import { Vault } from '../src/core/vault.js';
import { SECRET } from './helpers.js';

/**
 * The HA loop takes the lock as soon as the vault says it is unsealed, and then reloads everything: if
 * the vault said so before its unseal had loaded mounts, tokens and policies, the reload ran underneath
 * the load (a first unseal on a shared storage failed with "Vault is sealed" or a failed integrity check).
 */
describe('unseal', () => {
  it('the vault says sealed until the unseal has loaded everything it reads from storage', async () => {
    const seen: { key: string; sealed: boolean }[] = [];
    let vault: Vault | undefined;
    let watching = false;
    class Watched extends MemoryStorage {
      override async get(key: string) {
        if (watching && vault) seen.push({ key, sealed: vault.sealed });
        return super.get(key);
      }
    }
    vault = new Vault({
      storage: new Watched(),
      suite: await CryptoSuite.create(),
      tidyIntervalMs: 0,
      mounts: [SECRET],
    });
    const init = await vault.init(1, 1);
    watching = true;
    await vault.unseal(init.keys[0] as string);
    watching = false;
    // What the unseal loads (policies, audit devices, mounts, leases...); the keyring is read again by the
    // status it answers with, once unsealed.
    const loaded = seen.filter((r) => r.key !== 'core/keyring');
    expect(loaded.length).toBeGreaterThan(3);
    expect(loaded.filter((r) => !r.sealed)).toEqual([]);
    expect(vault.sealed).toBe(false);
  });
});
