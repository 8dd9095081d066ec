import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let keys: string[];
beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root, keys } = await initAndUnseal(base, 3, 2));
  await call(base, 'POST', '/v1/secret/data/kept', { token: root, body: { data: { v: 'still here' } } });
});
afterAll(async () => {
  await srv.close();
});

const put = (path: string, body: unknown = {}) => call(base, 'PUT', `/v1/sys/${path}`, { body });
const get = (path: string) => call(base, 'GET', `/v1/sys/${path}`);

/** What `vault operator generate-root -decode=... -otp=...` does. */
function decode(encoded: string, otp: string): string {
  const x = Buffer.from(encoded, 'base64');
  const o = Buffer.from(otp);
  return Buffer.from(x.map((b, i) => b ^ (o[i] as number))).toString();
}

describe('sys/generate-root', () => {
  it('makes a new root token from a quorum of unseal keys, handed out XORed with a one-time password', async () => {
    expect((await get('generate-root/attempt')).body).toMatchObject({
      started: false,
      progress: 0,
      required: 2,
      otp_length: 36,
    });
    const start = await put('generate-root/attempt');
    expect(start.status, start.text).toBe(200);
    const { nonce, otp } = start.body as { nonce: string; otp: string };
    expect(otp).toHaveLength(36);
    expect((await put('generate-root/attempt')).status).toBe(400); // one at a time

    const bad = await put('generate-root/update', { key: keys[0], nonce: 'not-the-nonce' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(['incorrect nonce']);
    const one = await put('generate-root/update', { key: keys[0], nonce });
    expect(one.body).toMatchObject({ started: true, progress: 1, complete: false, encoded_token: '' });
    expect((await put('generate-root/update', { key: keys[0], nonce })).status).toBe(400); // the same key twice
    const done = await put('generate-root/update', { key: keys[1], nonce });
    expect(done.body).toMatchObject({ complete: true, progress: 2 });
    const token = decode(done.body.encoded_token, otp);
    expect(token).toMatch(/^hvs\./);
    const self = await call(base, 'GET', '/v1/auth/token/lookup-self', { token });
    expect(self.body.data.policies).toEqual(['root']);
    expect((await get('generate-root/attempt')).body.started).toBe(false);
  });

  it('refuses keys that do not rebuild the root key, and can be cancelled', async () => {
    const other = await startTestServer();
    try {
      const { keys: foreign } = await initAndUnseal(other.address, 3, 2);
      const { nonce } = (await put('generate-root/attempt')).body as { nonce: string };
      await put('generate-root/update', { key: foreign[0], nonce });
      const wrong = await put('generate-root/update', { key: foreign[1], nonce });
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors[0]).toMatch(/do not rebuild the root key/);
      expect(wrong.text).not.toMatch(/encoded/);
      expect((await get('generate-root/attempt')).body.progress).toBe(0);
      expect((await call(base, 'DELETE', '/v1/sys/generate-root/attempt')).status).toBe(204);
      expect((await get('generate-root/attempt')).body.started).toBe(false);
      expect((await put('generate-root/update', { key: keys[0], nonce })).body.errors).toEqual([
        'no root generation in progress',
      ]);
      expect((await put('generate-root/attempt', { otp: 'short' })).status).toBe(400);
      expect((await put('generate-root/attempt', { pgp_key: 'abc' })).status).toBe(400);
    } finally {
      await other.close();
    }
  });
});

describe('sys/rekey', () => {
  it('replaces the unseal keys (5 of 3 now); the old keys stop working and the data stays', async () => {
    expect((await put('rekey/init', { secret_shares: 2, secret_threshold: 3 })).status).toBe(400);
    const init = await put('rekey/init', { secret_shares: 5, secret_threshold: 3 });
    expect(init.body).toMatchObject({ started: true, t: 3, n: 5, progress: 0, required: 2 });
    const nonce = init.body.nonce as string;
    expect((await put('rekey/update', { key: keys[0], nonce })).body.progress).toBe(1);
    const done = await put('rekey/update', { key: keys[2], nonce });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ complete: true, nonce });
    const fresh = done.body.keys as string[];
    expect(fresh).toHaveLength(5);
    expect(done.body.keys_base64).toHaveLength(5);
    expect((await get('seal-status')).body).toMatchObject({ t: 3, n: 5, sealed: false });

    expect((await call(base, 'PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
    // The old keys no longer open the vault: a quorum of them rebuilds nothing.
    await put('unseal', { key: keys[0] });
    await put('unseal', { key: keys[1] });
    const old = await put('unseal', { key: keys[2] });
    expect(old.status).toBe(400);
    expect((await get('seal-status')).body).toMatchObject({ sealed: true, progress: 0 });
    for (const k of fresh.slice(1, 4)) await put('unseal', { key: k });
    expect((await get('seal-status')).body.sealed).toBe(false);
    const kept = await call(base, 'GET', '/v1/secret/data/kept', { token: root });
    expect(kept.body.data.data).toEqual({ v: 'still here' });
    keys = fresh;
  });

  it('cannot run sealed, twice at once or without the right nonce', async () => {
    const init = await put('rekey/init', { secret_shares: 3, secret_threshold: 2 });
    expect((await put('rekey/init', { secret_shares: 3, secret_threshold: 2 })).status).toBe(400);
    expect((await put('rekey/update', { key: keys[0], nonce: 'x' })).body.errors).toEqual(['incorrect nonce']);
    expect((await put('rekey/update', { key: 'zz', nonce: init.body.nonce })).status).toBe(400);
    expect((await call(base, 'DELETE', '/v1/sys/rekey/init')).status).toBe(204);
    expect((await get('rekey/init')).body.started).toBe(false);
    expect((await call(base, 'PUT', '/v1/sys/seal', { token: root })).status).toBe(204);
    expect((await put('rekey/init', { secret_shares: 3, secret_threshold: 2 })).status).toBe(503);
    expect((await get('generate-root/attempt')).status).toBe(503);
  });
});
