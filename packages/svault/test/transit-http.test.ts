import { createDecipheriv, createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let unsealKeys: string[];
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  const init = await initAndUnseal(base);
  root = init.root;
  unsealKeys = init.keys;
  const mounted = await call(base, 'POST', '/v1/sys/mounts/transit', { token: root, body: { type: 'transit' } });
  expect(mounted.status, mounted.text).toBe(204);
});
afterAll(async () => {
  await srv.close();
});

const post = (path: string, body: unknown = {}) => call(base, 'POST', `/v1/transit/${path}`, { token: root, body });
const get = (path: string) => call(base, 'GET', `/v1/transit/${path}`, { token: root });
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const CARD = b64('4111 1111 1111 1111');

async function createKey(name: string, body: Record<string, unknown>) {
  const r = await post(`keys/${name}`, body);
  expect(r.status, r.text).toBe(200);
  return r.body.data;
}

async function encrypt(key: string, body: Record<string, unknown>) {
  const r = await post(`encrypt/${key}`, body);
  expect(r.status, r.text).toBe(200);
  return r.body.data.ciphertext as string;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('transit keys and encryption over HTTP', () => {
  it.each(['aes256-gcm96', 'chacha20-poly1305', 'ml-kem-768'])('%s encrypts and decrypts', async (type) => {
    const name = `enc-${type}`;
    const info = await createKey(name, { type });
    expect(info).toMatchObject({
      name,
      type,
      latest_version: 1,
      min_decryption_version: 1,
      supports_encryption: true,
      supports_signing: false,
    });
    const ct = await encrypt(name, { plaintext: CARD });
    expect(ct).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
    expect(await encrypt(name, { plaintext: CARD })).not.toBe(ct); // a fresh nonce (and KEM) each time
    const dec = await post(`decrypt/${name}`, { ciphertext: ct });
    expect(dec.status, dec.text).toBe(200);
    expect(dec.body).toMatchObject({ data: { plaintext: CARD }, mount_type: 'transit' });
    // Empty plaintext is valid input.
    const empty = await encrypt(name, { plaintext: '' });
    expect((await post(`decrypt/${name}`, { ciphertext: empty })).body.data.plaintext).toBe('');
  });

  it('ml-kem-768 keys are hybrid: the read shows both public keys, never the private one', async () => {
    const info = (await get('keys/enc-ml-kem-768')).body.data;
    const pub = Buffer.from(info.keys['1'].public_key, 'base64');
    expect(info.keys['1'].name).toBe('ml-kem-768+x25519');
    expect(pub.length).toBe(1184 + 32);
    // A ciphertext carries the ML-KEM ciphertext, the X25519 ephemeral key, nonce and tag.
    const ct = await encrypt('enc-ml-kem-768', { plaintext: b64('x') });
    expect(Buffer.from(ct.split(':')[2] as string, 'base64').length).toBe(1088 + 32 + 12 + 1 + 16);
  });

  it.each(['ed25519', 'ecdsa-p256', 'ml-dsa-65'])('%s signs, verifies, and rejects a changed input', async (type) => {
    const name = `sig-${type}`;
    const info = await createKey(name, { type });
    expect(info).toMatchObject({ type, supports_signing: true, supports_encryption: false });
    const input = b64('release v1.2.0');
    const s = await post(`sign/${name}`, { input });
    expect(s.status, s.text).toBe(200);
    expect(s.body.data).toMatchObject({ key_version: 1 });
    const signature = s.body.data.signature as string;
    expect(signature).toMatch(/^vault:v1:/);
    expect((await post(`verify/${name}`, { input, signature })).body.data).toEqual({ valid: true });
    expect((await post(`verify/${name}`, { input: b64('release v1.2.1'), signature })).body.data).toEqual({
      valid: false,
    });

    // Anyone with the public key from the key read can check the signature with another library.
    const pub = info.keys['1'].public_key as string;
    const sig = Buffer.from(signature.split(':')[2] as string, 'base64');
    const data = Buffer.from('release v1.2.0');
    if (type === 'ml-dsa-65') {
      expect(ml_dsa65.verify(sig, data, Buffer.from(pub, 'base64'))).toBe(true);
    } else if (type === 'ed25519') {
      const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(pub, 'base64')]);
      expect(nodeVerify(null, data, createPublicKey({ key: der, format: 'der', type: 'spki' }), sig)).toBe(true);
    } else {
      expect(pub).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(nodeVerify('sha256', data, pub, sig)).toBe(true);
    }
  });

  it('ecdsa-p256: hash algorithm in the URL and JWS marshaling', async () => {
    const input = b64('payload');
    const s = await post('sign/sig-ecdsa-p256/sha2-384', { input, marshaling_algorithm: 'jws' });
    expect(s.status, s.text).toBe(200);
    const sig = (s.body.data.signature as string).split(':')[2] as string;
    expect(sig).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(sig, 'base64url').length).toBe(64); // r || s
    const ok = await post('verify/sig-ecdsa-p256/sha2-384', {
      input,
      signature: s.body.data.signature,
      marshaling_algorithm: 'jws',
    });
    expect(ok.body.data.valid).toBe(true);
    const otherHash = await post('verify/sig-ecdsa-p256', {
      input,
      signature: s.body.data.signature,
      marshaling_algorithm: 'jws',
    });
    expect(otherHash.body.data.valid).toBe(false);
  });

  it('ecdsa-p256 signs a digest made by the caller (prehashed), as cosign sends it', async () => {
    const data = Buffer.from('a large artifact');
    const digest = createHash('sha256').update(data).digest('base64');
    const s = await post('sign/sig-ecdsa-p256', { input: digest, prehashed: true });
    expect(s.status, s.text).toBe(200);
    const pub = (await get('keys/sig-ecdsa-p256')).body.data.keys['1'].public_key;
    const sig = Buffer.from(s.body.data.signature.split(':')[2], 'base64');
    expect(nodeVerify('sha256', data, pub, sig)).toBe(true); // the same as signing the data itself
    const v = await post('verify/sig-ecdsa-p256', { input: digest, signature: s.body.data.signature, prehashed: true });
    expect(v.body.data.valid).toBe(true);
    const unhashed = (await post('sign/sig-ecdsa-p256', { input: data.toString('base64') })).body.data.signature;
    expect(
      (await post('verify/sig-ecdsa-p256', { input: digest, signature: unhashed, prehashed: true })).body.data.valid,
    ).toBe(true);
    const ed = await post('sign/sig-ed25519', { input: digest, prehashed: true });
    expect(ed.body.errors).toEqual(['prehashed input is not supported for key type ed25519']);
  });

  it('rotate: old ciphertexts still decrypt, rewrap moves them to v2, min_decryption_version retires v1', async () => {
    await createKey('payments', { type: 'aes256-gcm96' });
    const v1 = await encrypt('payments', { plaintext: CARD });
    const rot = await post('keys/payments/rotate');
    expect(rot.status, rot.text).toBe(200);
    expect(rot.body.data.latest_version).toBe(2);
    expect(Object.keys(rot.body.data.keys)).toEqual(['1', '2']);
    const v2 = await encrypt('payments', { plaintext: CARD });
    expect(v2).toMatch(/^vault:v2:/);
    expect((await post('decrypt/payments', { ciphertext: v1 })).body.data.plaintext).toBe(CARD);

    const rw = await post('rewrap/payments', { ciphertext: v1 });
    expect(rw.status, rw.text).toBe(200);
    expect(rw.body.data).toMatchObject({ key_version: 2 });
    expect(rw.body.data.ciphertext).toMatch(/^vault:v2:/);
    expect(rw.body.data.plaintext).toBeUndefined();
    expect((await post('decrypt/payments', { ciphertext: rw.body.data.ciphertext })).body.data.plaintext).toBe(CARD);

    // An explicit older version still encrypts until min_encryption_version says otherwise.
    expect(await encrypt('payments', { plaintext: CARD, key_version: 1 })).toMatch(/^vault:v1:/);

    const cfg = await post('keys/payments/config', { min_decryption_version: 2, min_encryption_version: 2 });
    expect(cfg.status, cfg.text).toBe(200);
    expect(cfg.body.data).toMatchObject({ min_decryption_version: 2, min_encryption_version: 2 });
    const old = await post('decrypt/payments', { ciphertext: v1 });
    expect(old.status).toBe(400);
    expect(old.body).toEqual({ errors: ['ciphertext or signature version is disallowed by policy (too old)'] });
    const oldEnc = await post('encrypt/payments', { plaintext: CARD, key_version: 1 });
    expect(oldEnc.body.errors).toEqual([
      'requested version for encryption is less than the minimum encryption key version',
    ]);
    expect((await post('decrypt/payments', { ciphertext: v2 })).body.data.plaintext).toBe(CARD);
    const read = (await get('keys/payments')).body.data;
    expect(Object.keys(read.keys)).toEqual(['2']);

    // Bad config changes are refused and change nothing.
    const tooNew = await post('keys/payments/config', { min_decryption_version: 5 });
    expect(tooNew.status).toBe(400);
    expect(tooNew.body.errors[0]).toMatch(/cannot set min decryption version of 5, latest key version is 2/);
    expect((await get('keys/payments')).body.data.min_decryption_version).toBe(2);
  });

  it('signatures and HMACs from a rotated key still verify', async () => {
    const input = b64('doc');
    for (const name of ['sig-ed25519', 'sig-ml-dsa-65']) {
      const old = (await post(`sign/${name}`, { input })).body.data.signature;
      expect((await post(`keys/${name}/rotate`)).status).toBe(200);
      const fresh = (await post(`sign/${name}`, { input })).body.data;
      expect(fresh.key_version).toBe(2);
      expect((await post(`verify/${name}`, { input, signature: old })).body.data.valid).toBe(true);
      expect((await post(`verify/${name}`, { input, signature: fresh.signature })).body.data.valid).toBe(true);
      const signedWithV1 = await post(`sign/${name}`, { input, key_version: 1 });
      expect(signedWithV1.body.data.signature).toMatch(/^vault:v1:/);
    }
    const mac = (await post('hmac/sig-ed25519/sha2-512', { input })).body.data.hmac;
    expect(mac).toMatch(/^vault:v2:/);
    expect(Buffer.from(mac.split(':')[2], 'base64').length).toBe(64);
    const ok = await post('verify/sig-ed25519/sha2-512', { input, hmac: mac });
    expect(ok.body.data.valid).toBe(true);
    expect((await post('verify/sig-ed25519', { input, hmac: mac })).body.data.valid).toBe(false); // other hash
    const macV1 = (await post('hmac/payments', { input, key_version: 2 })).body.data.hmac;
    expect((await post('verify/payments', { input, hmac: macV1 })).body.data.valid).toBe(true);
  });

  it('hmac keys: only HMAC, with their own key size', async () => {
    const info = await createKey('mac', { type: 'hmac', key_size: 64 });
    expect(info).toMatchObject({ type: 'hmac', key_size: 64, supports_encryption: false, supports_signing: false });
    const input = b64('msg');
    const mac = (await post('hmac/mac', { input })).body.data.hmac;
    expect((await post('verify/mac', { input, hmac: mac })).body.data.valid).toBe(true);
    expect((await post('encrypt/mac', { plaintext: input })).body.errors).toEqual([
      'message encryption not supported for key type hmac',
    ]);
  });

  it('context and associated_data are authenticated: decrypting without them fails', async () => {
    for (const key of ['payments', 'enc-chacha20-poly1305', 'enc-ml-kem-768']) {
      const associated_data = b64('order-1234');
      const context = b64('tenant-a');
      const ct = await encrypt(key, { plaintext: CARD, associated_data, context });
      const without = await post(`decrypt/${key}`, { ciphertext: ct });
      expect(without.status).toBe(400);
      expect(without.body.errors).toEqual(['cipher: message authentication failed']);
      const otherContext = await post(`decrypt/${key}`, { ciphertext: ct, associated_data, context: b64('tenant-b') });
      expect(otherContext.status).toBe(400);
      const ok = await post(`decrypt/${key}`, { ciphertext: ct, associated_data, context });
      expect(ok.body.data.plaintext).toBe(CARD);
    }
    const notAead = await post('encrypt/mac', { plaintext: CARD, associated_data: b64('x') });
    expect(notAead.status).toBe(400);
  });

  it('data keys: plaintext and wrapped, unwrapped by decrypt', async () => {
    const pt = await post('datakey/plaintext/payments', {});
    expect(pt.status, pt.text).toBe(200);
    const key = Buffer.from(pt.body.data.plaintext, 'base64');
    expect(key.length).toBe(32);
    expect(pt.body.data.ciphertext).toMatch(/^vault:v2:/);
    expect((await post('decrypt/payments', { ciphertext: pt.body.data.ciphertext })).body.data.plaintext).toBe(
      pt.body.data.plaintext,
    );
    const wrapped = await post('datakey/wrapped/enc-ml-kem-768', { bits: 512 });
    expect(wrapped.body.data.plaintext).toBeUndefined();
    const unwrapped = await post('decrypt/enc-ml-kem-768', { ciphertext: wrapped.body.data.ciphertext });
    expect(Buffer.from(unwrapped.body.data.plaintext, 'base64').length).toBe(64);
    expect((await post('datakey/plaintext/payments', { bits: 100 })).body.errors).toEqual(['invalid bit length']);
    expect((await post('datakey/other/payments', {})).status).toBe(400);
  });

  it('lists keys, and survives a seal and unseal (keys reload from the barrier)', async () => {
    const list = await call(base, 'GET', '/v1/transit/keys?list=true', { token: root });
    expect(list.body.data.keys).toEqual(expect.arrayContaining(['payments', 'sig-ed25519', 'enc-ml-kem-768']));
    const ct = await encrypt('enc-ml-kem-768', { plaintext: CARD });
    const sig = (await post('sign/sig-ml-dsa-65', { input: CARD })).body.data.signature;
    expect((await call(base, 'PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
    expect((await post('decrypt/enc-ml-kem-768', { ciphertext: ct })).status).toBe(503);
    for (const key of unsealKeys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key } });
    expect((await post('decrypt/enc-ml-kem-768', { ciphertext: ct })).body.data.plaintext).toBe(CARD);
    expect((await post('verify/sig-ml-dsa-65', { input: CARD, signature: sig })).body.data.valid).toBe(true);
  });
});

describe('transit batch_input', () => {
  it('encrypt: one bad item gets its own error, the others their ciphertexts, and the status is 400', async () => {
    const batch_input = [
      { plaintext: CARD, reference: 'a' },
      { plaintext: '%%%not base64', reference: 'b' },
      { plaintext: b64('second'), reference: 'c' },
    ];
    const r = await post('encrypt/payments', { batch_input });
    expect(r.status).toBe(400);
    const results = r.body.data.batch_results;
    expect(results).toHaveLength(3);
    expect(results[0]).toMatchObject({ key_version: 2, reference: 'a' });
    expect(results[0].ciphertext).toMatch(/^vault:v2:/);
    expect(results[1]).toEqual({ error: 'illegal base64 data at input byte 0', reference: 'b' });
    expect(results[2].reference).toBe('c');

    const partial = await post('encrypt/payments', { batch_input, partial_failure_response_code: 200 });
    expect(partial.status).toBe(200);
    expect(partial.body.data.batch_results[1].error).toMatch(/illegal base64/);

    const dec = await post('decrypt/payments', {
      batch_input: [
        { ciphertext: results[0].ciphertext },
        { ciphertext: 'vault:v9:AAAA' },
        { ciphertext: results[2].ciphertext },
      ],
    });
    expect(dec.status).toBe(400);
    expect(
      dec.body.data.batch_results.map((x: { plaintext?: string; error?: string }) => x.plaintext ?? x.error),
    ).toEqual([CARD, 'invalid ciphertext: version is too new', b64('second')]);
    const all = await post('decrypt/payments', { batch_input: [{ ciphertext: results[0].ciphertext }] });
    expect(all.status).toBe(200);
  });

  it('sign, verify, rewrap and hmac take batch_input too', async () => {
    const signed = await post('sign/sig-ed25519', { batch_input: [{ input: CARD }, { input: '***' }] });
    expect(signed.status).toBe(200);
    const [good, bad] = signed.body.data.batch_results;
    expect(good.signature).toMatch(/^vault:v2:/);
    expect(bad.error).toMatch(/^unable to decode input as base64/);
    const verified = await post('verify/sig-ed25519', {
      batch_input: [
        { input: CARD, signature: good.signature },
        { input: b64('other'), signature: good.signature },
      ],
    });
    expect(verified.body.data.batch_results.map((x: { valid: boolean }) => x.valid)).toEqual([true, false]);
    const ct = await encrypt('payments', { plaintext: CARD });
    const rewrapped = await post('rewrap/payments', { batch_input: [{ ciphertext: ct }] });
    expect(rewrapped.body.data.batch_results[0].ciphertext).toMatch(/^vault:v2:/);
    const macs = await post('hmac/payments', { batch_input: [{ input: CARD }, { input: b64('b') }] });
    expect(macs.body.data.batch_results).toHaveLength(2);
    const mixed = await post('verify/sig-ed25519', {
      batch_input: [{ input: CARD, signature: good.signature }, { input: CARD }],
    });
    expect(mixed.body.errors).toEqual(["some elements of batch_input are missing 'signature'"]);
    expect((await post('encrypt/payments', { batch_input: [] })).body.errors).toEqual([
      'missing batch input to process',
    ]);
    expect((await post('encrypt/payments', { batch_input: ['x'] })).status).toBe(400);
    expect((await post('encrypt/payments', { batch_input: 'x' })).status).toBe(400);
  });
});

describe('transit bad input: clear errors, nothing written', () => {
  it.each([
    [
      'a ciphertext version that does not exist',
      'decrypt/payments',
      { ciphertext: 'vault:v9:AAAA' },
      /^invalid ciphertext: version is too new$/,
    ],
    ['a ciphertext without prefix', 'decrypt/payments', { ciphertext: 'hello' }, /^invalid ciphertext: no prefix$/],
    [
      'a ciphertext with a bad version',
      'decrypt/payments',
      { ciphertext: 'vault:vx:AAAA' },
      /version number could not be decoded/,
    ],
    ['a ciphertext that is not base64', 'decrypt/payments', { ciphertext: 'vault:v2:@@@@' }, /could not decode base64/],
    [
      'a truncated ciphertext',
      'decrypt/payments',
      { ciphertext: 'vault:v2:AAAAAAAAAAAAAAAA' },
      /^invalid ciphertext length$/,
    ],
    ['a missing ciphertext', 'decrypt/payments', {}, /^missing ciphertext to decrypt$/],
    [
      'plaintext that is not base64',
      'encrypt/payments',
      { plaintext: 'not base64!' },
      /^illegal base64 data at input byte 3$/,
    ],
    ['a missing plaintext', 'encrypt/payments', {}, /^missing plaintext to encrypt$/],
    ['signing with an AES key', 'sign/payments', { input: CARD }, /^key type aes256-gcm96 does not support signing$/],
    [
      'verifying with an AES key',
      'verify/payments',
      { input: CARD, signature: 'vault:v1:AAAA' },
      /does not support verification/,
    ],
    [
      'encrypting with an ed25519 key',
      'encrypt/sig-ed25519',
      { plaintext: CARD },
      /^message encryption not supported for key type ed25519$/,
    ],
    [
      'decrypting with an ml-dsa key',
      'decrypt/sig-ml-dsa-65',
      { ciphertext: 'vault:v1:AAAA' },
      /^message decryption not supported for key type ml-dsa-65$/,
    ],
    ['decrypting with an unknown key', 'decrypt/nokey', { ciphertext: 'vault:v1:AAAA' }, /^encryption key not found$/],
    ['signing with an unknown key', 'sign/nokey', { input: CARD }, /^signing key not found$/],
    ['an unknown hash algorithm', 'sign/sig-ecdsa-p256/md5', { input: CARD }, /^invalid hash algorithm "md5"$/],
    ['an unknown key type', 'keys/new-key', { type: 'rsa-1024' }, /^unknown key type rsa-1024/],
    ['a field of the wrong type', 'encrypt/payments', { plaintext: CARD, key_version: 'two' }, /field "key_version"/],
    ['rotating an unknown key', 'keys/nokey/rotate', {}, /^key not found$/],
  ])('%s', async (_what, path, body, message) => {
    const before = (await get('keys/payments')).body.data;
    const keysBefore = (await call(base, 'GET', '/v1/transit/keys?list=true', { token: root })).body.data.keys;
    const r = await post(path, body);
    expect(r.status, r.text).toBe(400);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0]).toMatch(message);
    expect((await get('keys/payments')).body.data).toEqual(before);
    expect((await call(base, 'GET', '/v1/transit/keys?list=true', { token: root })).body.data.keys).toEqual(keysBefore);
  });

  it('a tampered tag or body fails authentication', async () => {
    for (const key of ['payments', 'enc-chacha20-poly1305', 'enc-ml-kem-768']) {
      const ct = await encrypt(key, { plaintext: CARD });
      const [, version, body] = ct.split(':') as [string, string, string];
      const bytes = Buffer.from(body, 'base64');
      for (const at of [bytes.length - 1, 20, 0]) {
        const t = Buffer.from(bytes);
        t[at] = (t[at] as number) ^ 1;
        const r = await post(`decrypt/${key}`, { ciphertext: `vault:${version}:${t.toString('base64')}` });
        expect(r.status, `${key} byte ${at}`).toBe(400);
        expect(r.body.errors).toEqual(['cipher: message authentication failed']);
      }
    }
  });

  it('a key is deleted only once deletion_allowed is set', async () => {
    await createKey('short-lived', {});
    const refused = await call(base, 'DELETE', '/v1/transit/keys/short-lived', { token: root });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual(['error deleting policy short-lived: deletion is not allowed for this policy']);
    expect((await get('keys/short-lived')).status).toBe(200);
    expect((await post('keys/short-lived/config', { deletion_allowed: true })).status).toBe(200);
    expect((await call(base, 'DELETE', '/v1/transit/keys/short-lived', { token: root })).status).toBe(204);
    expect((await get('keys/short-lived')).status).toBe(404);
    expect((await post('decrypt/short-lived', { ciphertext: 'vault:v1:AAAA' })).body.errors).toEqual([
      'encryption key not found',
    ]);
  });

  it('encrypt creates a missing key as Vault does, unless config/keys disables it; garbage creates nothing', async () => {
    const garbage = await post('encrypt/typo-key', { plaintext: '!!' });
    expect(garbage.status).toBe(400);
    expect((await get('keys/typo-key')).status).toBe(404);
    expect(await encrypt('upserted', { plaintext: CARD })).toMatch(/^vault:v1:/);
    expect((await get('keys/upserted')).body.data.type).toBe('aes256-gcm96');
    expect((await post('config/keys', { disable_upsert: true })).body.data).toEqual({ disable_upsert: true });
    const refused = await post('encrypt/another', { plaintext: CARD });
    expect(refused.body.errors).toEqual(['encryption key not found']);
    expect((await get('keys/another')).status).toBe(404);
    await post('config/keys', { disable_upsert: false });
  });

  it('creating a key that exists changes nothing and says so', async () => {
    const before = (await get('keys/payments')).body.data;
    const again = await post('keys/payments', { type: 'ed25519' });
    expect(again.status).toBe(200);
    expect(again.body.warnings).toEqual(['key payments already existed']);
    expect((await get('keys/payments')).body.data).toEqual(before);
  });
});

describe('transit key material stays inside the barrier', () => {
  it("ciphertexts have Vault's layout: nonce, ciphertext, tag under the exported key", async () => {
    await createKey('layout', { exportable: true });
    const ct = await encrypt('layout', { plaintext: CARD, associated_data: b64('ad') });
    const key = Buffer.from((await get('export/encryption-key/layout/1')).body.data.keys['1'], 'base64');
    const raw = Buffer.from(ct.split(':')[2] as string, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from('ad'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    const pt = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    expect(pt.toString('base64')).toBe(CARD);
  });

  it('export needs exportable; no key material, public key or key name is in the data dir in plaintext', async () => {
    const refused = await get('export/encryption-key/payments');
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual(['private key material is not exportable']);
    const secrets: Buffer[] = [];
    for (const type of ['aes256-gcm96', 'chacha20-poly1305', 'ml-kem-768', 'ed25519', 'ecdsa-p256', 'ml-dsa-65']) {
      const name = `exportable-${type}`;
      await createKey(name, { type, exportable: true });
      const kind = ['ed25519', 'ecdsa-p256', 'ml-dsa-65'].includes(type) ? 'signing-key' : 'encryption-key';
      const exported = await get(`export/${kind}/${name}/1`);
      expect(exported.status, exported.text).toBe(200);
      const material = exported.body.data.keys['1'] as string;
      secrets.push(
        material.startsWith('-----')
          ? Buffer.from(material.replace(/-----[^-]+-----|\s/g, ''), 'base64')
          : Buffer.from(material, 'base64'),
      );
      secrets.push(Buffer.from((await get(`export/hmac-key/${name}/latest`)).body.data.keys['1'], 'base64'));
      const pub = await get(`export/public-key/${name}`);
      if (kind === 'signing-key' || type === 'ml-kem-768') expect(pub.status, pub.text).toBe(200);
    }
    // Fragments are enough: any 16 bytes of a key in the clear would be a leak.
    const needles = secrets.flatMap((s) => {
      const frag = s.subarray(s.length - 16);
      return [frag, Buffer.from(frag.toString('hex')), Buffer.from(s.toString('base64').slice(-24, -4))];
    });
    needles.push(Buffer.from('exportable-ml-kem-768'), Buffer.from('payments'));
    const found: string[] = [];
    for (const f of files(srv.dir)) {
      const bytes = readFileSync(f);
      for (const n of needles) if (bytes.includes(n)) found.push(`${f}: ${n.toString('hex').slice(0, 16)}`);
    }
    expect(found).toEqual([]);
  });
});
