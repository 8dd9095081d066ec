import { constants, createHash, createPublicKey, verify as nodeVerify, publicEncrypt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer({ engines: { transit: { path: 'transit', description: '' } } });
  base = srv.address;
  ({ root } = await initAndUnseal(base));
});
afterAll(async () => {
  await srv.close();
});

const post = (path: string, body: unknown = {}) => call(base, 'POST', `/v1/transit/${path}`, { token: root, body });
const get = (path: string) => call(base, 'GET', `/v1/transit/${path}`, { token: root });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const sigBytes = (sig: string) => Buffer.from(sig.split(':')[2] as string, 'base64');

describe('transit RSA keys', () => {
  it('rsa-2048: PSS and PKCS#1 v1.5 signatures and OAEP, checked with node:crypto as an outside verifier', async () => {
    expect((await post('keys/rsa', { type: 'rsa-2048' })).status).toBe(200);
    const read = await get('keys/rsa');
    expect(read.body.data).toMatchObject({ type: 'rsa-2048', supports_signing: true, supports_encryption: true });
    const pem = read.body.data.keys['1'].public_key as string;
    const pub = createPublicKey(pem);
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const input = b64('release v1.2.3');

    const pss = await post('sign/rsa', { input });
    expect(pss.status, pss.text).toBe(200);
    const pssOk = nodeVerify(
      'sha256',
      Buffer.from('release v1.2.3'),
      {
        key: pub,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_AUTO,
      },
      sigBytes(pss.body.data.signature),
    );
    expect(pssOk).toBe(true);
    const hashSalt = await post('sign/rsa/sha2-512', { input, salt_length: 'hash' });
    expect(
      nodeVerify(
        'sha512',
        Buffer.from('release v1.2.3'),
        { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
        sigBytes(hashSalt.body.data.signature),
      ),
    ).toBe(true);
    const v1 = await post('sign/rsa', { input, signature_algorithm: 'pkcs1v15' });
    expect(
      nodeVerify(
        'sha256',
        Buffer.from('release v1.2.3'),
        { key: pub, padding: constants.RSA_PKCS1_PADDING },
        sigBytes(v1.body.data.signature),
      ),
    ).toBe(true);
    expect((await post('verify/rsa', { input, signature: pss.body.data.signature })).body.data.valid).toBe(true);
    expect(
      (await post('verify/rsa', { input, signature: v1.body.data.signature, signature_algorithm: 'pkcs1v15' })).body
        .data.valid,
    ).toBe(true);
    // A signature checked with the other padding, or over other input, is not valid.
    expect((await post('verify/rsa', { input, signature: v1.body.data.signature })).body.data.valid).toBe(false);
    expect(
      (await post('verify/rsa', { input: b64('release v9'), signature: pss.body.data.signature })).body.data.valid,
    ).toBe(false);

    // OAEP with SHA-256: what an outside party encrypts to the public key, transit decrypts.
    const outside = publicEncrypt(
      { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('db-password'),
    );
    const dec = await post('decrypt/rsa', { ciphertext: `vault:v1:${outside.toString('base64')}` });
    expect(dec.status, dec.text).toBe(200);
    expect(Buffer.from(dec.body.data.plaintext, 'base64').toString()).toBe('db-password');
    const enc = await post('encrypt/rsa', { plaintext: b64('card 4111') });
    expect(sigBytes(enc.body.data.ciphertext)).toHaveLength(256);
    expect(
      Buffer.from(
        (await post('decrypt/rsa', { ciphertext: enc.body.data.ciphertext })).body.data.plaintext,
        'base64',
      ).toString(),
    ).toBe('card 4111');

    const bad: [string, unknown, RegExp][] = [
      ['encrypt/rsa', { plaintext: b64('x'.repeat(300)) }, /message too long/],
      ['decrypt/rsa', { ciphertext: `vault:v1:${b64(Buffer.alloc(256, 7))}` }, /decryption error/],
      ['sign/rsa', { input, signature_algorithm: 'pss2' }, /unsupported rsa signature algorithm/],
      ['sign/rsa', { input, salt_length: 'lots' }, /salt length/],
      ['sign/rsa', { input, prehashed: true }, /prehashed input is not supported/],
      ['encrypt/rsa', { plaintext: b64('x'), associated_data: b64('ad') }, /non-AEAD/],
    ];
    for (const [path, body, message] of bad) {
      const r = await post(path, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
  });

  it('rsa-3072 and rsa-4096 keys: the right size, signing, rotation', { timeout: 120_000 }, async () => {
    for (const bits of [3072, 4096]) {
      expect((await post(`keys/rsa${bits}`, { type: `rsa-${bits}` })).status).toBe(200);
      const pem = (await get(`keys/rsa${bits}`)).body.data.keys['1'].public_key as string;
      expect(createPublicKey(pem).asymmetricKeyDetails?.modulusLength).toBe(bits);
      const s = await post(`sign/rsa${bits}`, { input: b64('x') });
      expect(sigBytes(s.body.data.signature)).toHaveLength(bits / 8);
      expect((await post(`keys/rsa${bits}/rotate`)).status).toBe(200);
      expect(
        (await post(`verify/rsa${bits}`, { input: b64('x'), signature: s.body.data.signature })).body.data.valid,
      ).toBe(true);
    }
  });
});

describe('transit random and hash', () => {
  it('random bytes in base64 or hex, within limits', async () => {
    const a = await post('random', {});
    expect(Buffer.from(a.body.data.random_bytes, 'base64')).toHaveLength(32);
    const b = await post('random', {});
    expect(b.body.data.random_bytes).not.toBe(a.body.data.random_bytes);
    expect((await post('random/16', { format: 'hex' })).body.data.random_bytes).toMatch(/^[0-9a-f]{32}$/);
    expect(Buffer.from((await post('random/platform/64')).body.data.random_bytes, 'base64')).toHaveLength(64);
    for (const [path, body] of [
      ['random', { bytes: 0 }],
      ['random', { bytes: 200_000 }],
      ['random/abc', {}],
      ['random', { format: 'xml' }],
    ] as const) {
      expect((await post(path, body)).status, `${path} ${JSON.stringify(body)}`).toBe(400);
    }
  });

  it('hashes base64 input as Vault does (hex by default)', async () => {
    const input = b64('hello');
    expect((await post('hash', { input })).body.data.sum).toBe(createHash('sha256').update('hello').digest('hex'));
    expect((await post('hash/sha2-512', { input, format: 'base64' })).body.data.sum).toBe(
      createHash('sha512').update('hello').digest('base64'),
    );
    expect((await post('hash', { input, algorithm: 'sha3-256' })).body.data.sum).toBe(
      createHash('sha3-256').update('hello').digest('hex'),
    );
    expect((await post('hash/md5', { input })).body.errors[0]).toMatch(/unsupported hash algorithm md5/);
    expect((await post('hash', { input: 'not base64!' })).status).toBe(400);
    expect((await post('hash', { input, format: 'bin' })).status).toBe(400);
  });
});

describe('transit backup and restore', () => {
  it('restores every version of a key; refuses keys not marked for backup, garbage and overwrites', async () => {
    expect((await post('keys/kept', { exportable: true, allow_plaintext_backup: true })).status).toBe(200);
    const v1 = (await post('encrypt/kept', { plaintext: b64('one') })).body.data.ciphertext;
    await post('keys/kept/rotate');
    const v2 = (await post('encrypt/kept', { plaintext: b64('two') })).body.data.ciphertext;
    const backup = await get('backup/kept');
    expect(backup.status, backup.text).toBe(200);
    const blob = backup.body.data.backup as string;

    await post('keys/kept/config', { deletion_allowed: true });
    expect((await call(base, 'DELETE', '/v1/transit/keys/kept', { token: root })).status).toBe(204);
    expect((await post('decrypt/kept', { ciphertext: v1 })).status).toBe(400);
    expect((await post('restore', { backup: blob })).status).toBe(204);
    for (const [ct, text] of [
      [v1, 'one'],
      [v2, 'two'],
    ]) {
      expect(
        Buffer.from((await post('decrypt/kept', { ciphertext: ct })).body.data.plaintext, 'base64').toString(),
      ).toBe(text);
    }
    expect((await get('keys/kept')).body.data.latest_version).toBe(2);
    const again = await post('restore', { backup: blob });
    expect(again.status).toBe(400);
    expect(again.body.errors[0]).toMatch(/already exists/);
    expect((await post('restore', { backup: blob, force: true })).status).toBe(204);
    expect((await post('restore/copy', { backup: blob })).status).toBe(204);
    expect(Buffer.from((await post('decrypt/copy', { ciphertext: v2 })).body.data.plaintext, 'base64').toString()).toBe(
      'two',
    );

    expect((await post('keys/plain', {})).status).toBe(200);
    expect((await get('backup/plain')).status).toBe(400);
    const forged = b64(
      JSON.stringify({
        format: 'svault-transit-backup-v1',
        policy: {
          name: 'x',
          type: 'ed25519',
          latest_version: 1,
          versions: { '1': { key: b64('short'), hmac_key: b64('k') } },
        },
      }),
    );
    for (const body of [{ backup: 'garbage' }, { backup: b64('{"a":1}') }, { backup: forged }, {}]) {
      expect((await post('restore/forged', body)).status, JSON.stringify(body).slice(0, 40)).toBe(400);
    }
    expect((await get('keys/forged')).status).toBe(404);
  });
});

describe('transit derived and convergent keys', () => {
  it('derive a key per context: a context is required and another context cannot decrypt', async () => {
    expect((await post('keys/tenant', { derived: true })).status).toBe(200);
    expect((await get('keys/tenant')).body.data).toMatchObject({
      derived: true,
      kdf: 'hkdf_sha256',
      supports_derivation: true,
    });
    const plaintext = b64('ssn 123-45-6789');
    const missing = await post('encrypt/tenant', { plaintext });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toMatch(/missing 'context' for key derivation/);
    const a = (await post('encrypt/tenant', { plaintext, context: b64('tenant-a') })).body.data.ciphertext;
    const a2 = (await post('encrypt/tenant', { plaintext, context: b64('tenant-a') })).body.data.ciphertext;
    expect(a2).not.toBe(a); // random nonces: not convergent
    expect((await post('decrypt/tenant', { ciphertext: a, context: b64('tenant-a') })).body.data.plaintext).toBe(
      plaintext,
    );
    const other = await post('decrypt/tenant', { ciphertext: a, context: b64('tenant-b') });
    expect(other.status).toBe(400);
    expect((await post('decrypt/tenant', { ciphertext: a })).status).toBe(400);
    const batch = await post('encrypt/tenant', {
      batch_input: [
        { plaintext, context: b64('t1') },
        { plaintext, context: b64('t2') },
      ],
    });
    expect(batch.status).toBe(200);
    const [c1, c2] = batch.body.data.batch_results.map((x: { ciphertext: string }) => x.ciphertext);
    expect((await post('decrypt/tenant', { ciphertext: c2, context: b64('t2') })).body.data.plaintext).toBe(plaintext);
    expect((await post('decrypt/tenant', { ciphertext: c1, context: b64('t2') })).status).toBe(400);
  });

  it('convergent encryption: equal plaintext and context give equal ciphertexts (searchable), nothing else does', async () => {
    expect((await post('keys/search', { derived: true, convergent_encryption: true })).status).toBe(200);
    const enc = async (text: string, ctx: string) =>
      (await post('encrypt/search', { plaintext: b64(text), context: b64(ctx) })).body.data.ciphertext as string;
    const x = await enc('alice@example.com', 'emails');
    expect(await enc('alice@example.com', 'emails')).toBe(x);
    expect(await enc('alice@example.com', 'phones')).not.toBe(x);
    expect(await enc('bob@example.com', 'emails')).not.toBe(x);
    const back = await post('decrypt/search', { ciphertext: x, context: b64('emails') });
    expect(Buffer.from(back.body.data.plaintext, 'base64').toString()).toBe('alice@example.com');
    // After a rotation the new version converges on its own.
    await post('keys/search/rotate');
    const y = await enc('alice@example.com', 'emails');
    expect(y).toMatch(/^vault:v2:/);
    expect(await enc('alice@example.com', 'emails')).toBe(y);

    // Encrypt creating a missing key with a context creates a derived key, as Vault does.
    const up = await post('encrypt/upserted-derived', { plaintext: b64('x'), context: b64('c') });
    expect(up.status).toBe(200);
    expect((await get('keys/upserted-derived')).body.data.derived).toBe(true);
    expect((await post('encrypt/upserted-derived', { plaintext: b64('x') })).status).toBe(400);

    const bad: [string, unknown, RegExp][] = [
      ['keys/c1', { convergent_encryption: true }, /convergent encryption requires derivation/],
      ['keys/c2', { type: 'ed25519', derived: true }, /not supported for keys of type ed25519/],
      ['keys/c3', { type: 'rsa-2048', derived: true }, /not supported for keys of type rsa-2048/],
    ];
    for (const [path, body, message] of bad) {
      const r = await post(path, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
      expect((await get(path)).status).toBe(404);
    }
  });
});
