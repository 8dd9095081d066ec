import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';

/**
 * PGP-encrypted ceremony outputs, as `vault operator rekey -pgp-keys` and `generate-root
 * -pgp-key` use them: the keys are the operators' own, made and used with the gpg CLI (an
 * independent OpenPGP implementation); where gpg is missing, openpgp's own decrypt stands in.
 */

const hasGpg = (() => {
  try {
    execFileSync('gpg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasGpg && process.env.CI) throw new Error('gpg is required in CI for the PGP ceremony tests');
if (!hasGpg) console.warn('[pgp] gpg not found: decrypting with openpgp instead (apt-get install gpg)');

interface Operator {
  /** base64 of the binary public key, as Vault takes it. */
  publicKey: string;
  fingerprint: string;
  decrypt(message: Buffer): Promise<string>;
}

const gnupgHome = tempDir('svault-gpg-');
const gpg = (args: string[], input?: Buffer) =>
  execFileSync('gpg', ['--batch', '--yes', '--homedir', gnupgHome, ...args], {
    ...(input ? { input } : {}),
    stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });

async function newOperator(name: string): Promise<Operator> {
  if (hasGpg) {
    gpg(['--passphrase', '', '--quick-gen-key', `${name} <${name}@example.com>`, 'default', 'default', 'never']);
    const fpr = gpg(['--with-colons', '--list-keys', `${name}@example.com`])
      .toString()
      .split('\n')
      .find((l) => l.startsWith('fpr:'))
      ?.split(':')[9] as string;
    return {
      publicKey: gpg(['--export', fpr]).toString('base64'),
      fingerprint: fpr.toLowerCase(),
      decrypt: async (message) => gpg(['--quiet', '--decrypt'], message).toString(),
    };
  }
  const pgp = await import('openpgp');
  const { privateKey, publicKey } = await pgp.generateKey({
    userIDs: [{ name, email: `${name}@example.com` }],
    format: 'object',
  });
  return {
    publicKey: Buffer.from(publicKey.write()).toString('base64'),
    fingerprint: publicKey.getFingerprint(),
    decrypt: async (message) => {
      const msg = await pgp.readMessage({ binaryMessage: new Uint8Array(message) });
      return (await pgp.decrypt({ message: msg, decryptionKeys: privateKey, format: 'binary' })).data.toString();
    },
  };
}

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let keys: string[];
let alice: Operator;
let bob: Operator;
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root, keys } = await initAndUnseal(base, 3, 2));
  alice = await newOperator('alice');
  bob = await newOperator('bob');
}, 60_000);
afterAll(async () => {
  await srv.close();
  if (hasGpg) {
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    } catch {}
  }
});

const put = (path: string, body: unknown, token?: string) =>
  call(base, 'PUT', `/v1/sys/${path}`, { body, ...(token ? { token } : {}) });

describe('PGP-encrypted init', { timeout: 60_000 }, () => {
  it('encrypts each unseal key and the root token to the given keys; a wrong count initializes nothing', async () => {
    const fresh = await startTestServer();
    try {
      const init = (body: unknown) => call(fresh.address, 'PUT', '/v1/sys/init', { body });
      const bad = await init({ secret_shares: 2, secret_threshold: 2, pgp_keys: [alice.publicKey] });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]).toMatch(/count mismatch between number of provided PGP keys and number of shares/);
      expect((await call(fresh.address, 'GET', '/v1/sys/init')).body.initialized).toBe(false);
      const done = await init({
        secret_shares: 2,
        secret_threshold: 2,
        pgp_keys: [alice.publicKey, bob.publicKey],
        root_token_pgp_key: bob.publicKey,
      });
      expect(done.status, done.text).toBe(200);
      const shares = [
        await alice.decrypt(Buffer.from(done.body.keys_base64[0], 'base64')),
        await bob.decrypt(Buffer.from(done.body.keys_base64[1], 'base64')),
      ];
      for (const key of shares) await call(fresh.address, 'PUT', '/v1/sys/unseal', { body: { key } });
      expect((await call(fresh.address, 'GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
      const token = await bob.decrypt(Buffer.from(done.body.root_token, 'base64'));
      const self = await call(fresh.address, 'GET', '/v1/auth/token/lookup-self', { token });
      expect(self.body.data.policies).toEqual(['root']);
    } finally {
      await fresh.close();
    }
  });
});

describe('PGP-encrypted rekey and root generation', { timeout: 60_000 }, () => {
  it('refuses bad pgp_keys and starts nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [[alice.publicKey, bob.publicKey], /^incorrect number of PGP keys for rekey$/],
      [[alice.publicKey, bob.publicKey, 'bm90IGEga2V5'], /^error parsing given PGP key/],
      [[alice.publicKey, bob.publicKey, '%%%'], /^error parsing given PGP key/],
    ];
    for (const [pgp_keys, message] of cases) {
      const r = await put('rekey/init', { secret_shares: 3, secret_threshold: 2, pgp_keys }, root);
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    expect((await call(base, 'GET', '/v1/sys/rekey/init', { token: root })).body.started).toBe(false);
    const g = await put('generate-root/attempt', { pgp_key: 'bm90IGEga2V5' });
    expect(g.status).toBe(400);
    expect(g.body.errors[0]).toMatch(/^error parsing given PGP key/);
    expect((await call(base, 'GET', '/v1/sys/generate-root/attempt')).body.started).toBe(false);
  });

  it('rekeys with one PGP key per new share: each operator decrypts their own, and those unseal', async () => {
    const init = await put(
      'rekey/init',
      { secret_shares: 3, secret_threshold: 2, pgp_keys: [alice.publicKey, bob.publicKey, alice.publicKey] },
      root,
    );
    expect(init.status, init.text).toBe(200);
    const fingerprints = [alice.fingerprint, bob.fingerprint, alice.fingerprint];
    expect(init.body.pgp_fingerprints).toEqual(fingerprints);
    const nonce = init.body.nonce as string;
    await put('rekey/update', { key: keys[0], nonce });
    const done = await put('rekey/update', { key: keys[1], nonce });
    expect(done.body.complete).toBe(true);
    expect(done.body.pgp_fingerprints).toEqual(fingerprints);
    const owners = [alice, bob, alice];
    const shares: string[] = [];
    for (const [i, b64] of (done.body.keys_base64 as string[]).entries()) {
      const message = Buffer.from(b64, 'base64');
      expect(Buffer.from(done.body.keys[i], 'hex').equals(message)).toBe(true);
      // Ciphertext is not the share: the share is the hex text inside, as Vault's.
      const share = await (owners[i] as Operator).decrypt(message);
      expect(share).toMatch(/^[0-9a-f]{66}$/);
      shares.push(share);
    }
    expect((await put('seal', {}, root)).status).toBe(204);
    expect((await put('unseal', { key: keys[0] })).status).toBe(200);
    expect((await put('unseal', { key: keys[1] })).body.errors?.[0]).toMatch(/invalid unseal keys/);
    await put('unseal', { key: shares[1] });
    expect((await put('unseal', { key: shares[2] })).body.sealed).toBe(false);
    keys = shares;
  });

  it('generates a root token encrypted to pgp_key; its owner decrypts it and it is root', async () => {
    const start = await put('generate-root/attempt', { pgp_key: bob.publicKey });
    expect(start.status, start.text).toBe(200);
    expect(start.body).toMatchObject({ started: true, pgp_fingerprint: bob.fingerprint, otp: '' });
    const nonce = start.body.nonce as string;
    await put('generate-root/update', { key: keys[0], nonce });
    const done = await put('generate-root/update', { key: keys[2], nonce });
    expect(done.body).toMatchObject({ complete: true, pgp_fingerprint: bob.fingerprint });
    const token = await bob.decrypt(Buffer.from(done.body.encoded_root_token, 'base64'));
    expect(token).toMatch(/^hvs\./);
    const self = await call(base, 'GET', '/v1/auth/token/lookup-self', { token });
    expect(self.status).toBe(200);
    expect(self.body.data.policies).toEqual(['root']);
  });
});
