import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer;
let env: NodeJS.ProcessEnv;
let cwd: string;
const sv = (args: string[]) => runBin('svault', args, { cwd, env });
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The binary with `input` on stdin, as in `echo ... | svault ...`. */
const svPiped = (args: string[], input: string | Buffer) => runBin('svault', args, { cwd, env, input });

beforeAll(async () => {
  srv = await startTestServer();
  ({ cwd, env } = sandbox());
  env.SVAULT_ADDR = srv.address;
  env.SVAULT_TOKEN = (await initAndUnseal(srv.address)).root;
  const mounted = await call(srv.address, 'POST', '/v1/sys/mounts/transit', {
    token: env.SVAULT_TOKEN,
    body: { type: 'transit' },
  });
  expect(mounted.status).toBe(204);
});
afterAll(async () => {
  await srv.close();
});

describe('svault transit CLI against a server', { timeout: 120_000 }, () => {
  it('key create (Vault-style -type=), encrypt, decrypt, rotate, rewrap', async () => {
    const created = await sv(['transit', 'key', 'create', 'payments', '-type=aes256-gcm96', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).data).toMatchObject({
      name: 'payments',
      type: 'aes256-gcm96',
      latest_version: 1,
    });

    const enc = await sv(['transit', 'encrypt', 'payments', `plaintext=${b64('4111 1111 1111 1111\n')}`]);
    expect(enc.code, enc.stderr).toBe(0);
    const ct = enc.stdout.trim();
    expect(ct).toMatch(/^vault:v1:\S+$/);
    const dec = await sv(['transit', 'decrypt', 'payments', `ciphertext=${ct}`]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout).toBe('4111 1111 1111 1111\n');
    const decJson = await sv(['transit', 'decrypt', 'payments', ct, '--json']);
    expect(JSON.parse(decJson.stdout).data).toEqual({ plaintext: b64('4111 1111 1111 1111\n') });

    const rot = await sv(['transit', 'key', 'rotate', 'payments']);
    expect(rot.stdout).toContain('latest version 2');
    const rw = await sv(['transit', 'rewrap', 'payments', `ciphertext=${ct}`]);
    expect(rw.code, rw.stderr).toBe(0);
    expect(rw.stdout.trim()).toMatch(/^vault:v2:/);
    expect((await sv(['transit', 'decrypt', 'payments', rw.stdout.trim()])).stdout).toBe('4111 1111 1111 1111\n');

    // The older spelling `transit keys ...` still works.
    const listed = await sv(['transit', 'keys', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual({ keys: ['payments'] });
    const read = await sv(['transit', 'key', 'read', 'payments']);
    expect(read.stdout).toMatch(/latest_version\s+2/);
    expect(read.stdout).toMatch(/version 1\s+created/);
  });

  it('raw data as an argument or on stdin, through a pipe from encrypt to decrypt', async () => {
    const raw = await sv(['transit', 'encrypt', 'payments', 'order 1234']);
    expect((await sv(['transit', 'decrypt', 'payments', raw.stdout.trim()])).stdout).toBe('order 1234');
    const piped = await svPiped(['transit', 'encrypt', 'payments'], Buffer.from([0, 1, 2, 255]));
    expect(piped.code, piped.stderr).toBe(0);
    const back = await svPiped(['transit', 'decrypt', 'payments', '--json'], piped.stdout);
    expect(JSON.parse(back.stdout).data.plaintext).toBe(Buffer.from([0, 1, 2, 255]).toString('base64'));
  });

  it('post-quantum keys: ml-kem-768 encrypts, ml-dsa-65 signs; verify exits 1 on a bad signature', async () => {
    expect((await sv(['transit', 'key', 'create', 'kek', '--type', 'ml-kem-768'])).code).toBe(0);
    const ct = (await sv(['transit', 'encrypt', 'kek', 'secret'])).stdout.trim();
    expect((await sv(['transit', 'decrypt', 'kek', ct])).stdout).toBe('secret');

    const signer = await sv(['transit', 'key', 'create', 'signer', '--type', 'ml-dsa-65']);
    expect(signer.stdout).toMatch(/version 1\s+\S{40}\.\.\. \(1952 bytes\)/);
    const input = b64('release v1.2.0');
    const sig = (await sv(['transit', 'sign', 'signer', `input=${input}`])).stdout.trim();
    expect(sig).toMatch(/^vault:v1:/);
    const ok = await sv(['transit', 'verify', 'signer', `input=${input}`, `signature=${sig}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('valid');
    const bad = await sv(['transit', 'verify', 'signer', 'release v1.2.1', '--signature', sig]);
    expect(bad.code).toBe(1);
    expect(bad.stdout.trim()).toBe('invalid');
  });

  it('hmac and datakey', async () => {
    const mac = (await sv(['transit', 'hmac', 'payments', 'abc', '--algorithm', 'sha2-512'])).stdout.trim();
    expect(mac).toMatch(/^vault:v2:/);
    const ok = await sv(['transit', 'verify', 'payments', 'abc', `hmac=${mac}`, '--hash-algorithm', 'sha2-512']);
    expect(ok.stdout.trim()).toBe('valid');
    const dk = await sv(['transit', 'datakey', 'payments', '--json']);
    const data = JSON.parse(dk.stdout).data;
    expect(Buffer.from(data.plaintext, 'base64').length).toBe(32);
    const wrapped = JSON.parse((await sv(['transit', 'datakey', 'payments', 'wrapped', '--json'])).stdout).data;
    expect(wrapped.plaintext).toBeUndefined();
    expect(wrapped.ciphertext).toMatch(/^vault:v2:/);
  });

  it('batch input: every item is printed, a failed one makes the exit code 1', async () => {
    const file = join(cwd, 'items.json');
    writeFileSync(
      file,
      JSON.stringify([{ plaintext: b64('a') }, { plaintext: 'not base64!' }, { plaintext: b64('c') }]),
    );
    const r = await sv(['transit', 'encrypt', 'payments', '--batch-input', file]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^vault:v2:/);
    expect(lines[1]).toBe('error: illegal base64 data at input byte 3');
    expect(r.stderr).toMatch(/1 of 3 batch items failed/);
    const json = await sv(['transit', 'encrypt', 'payments', '--batch-input', file, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.details.batch_results).toHaveLength(3);
    writeFileSync(file, JSON.stringify([{ ciphertext: lines[0] }]));
    const dec = await sv(['transit', 'decrypt', 'payments', '--batch-input', file]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(dec.stdout.trim()).toBe(b64('a'));
  });

  it('bad input: clear errors with exit codes, nothing changed', async () => {
    const tooNew = await sv(['transit', 'decrypt', 'payments', 'vault:v9:AAAA']);
    expect(tooNew.code).toBe(3);
    expect(tooNew.stderr).toMatch(/invalid ciphertext: version is too new/);
    const aesSign = await sv(['transit', 'sign', 'payments', 'x']);
    expect(aesSign.code).toBe(3);
    expect(aesSign.stderr).toMatch(/key type aes256-gcm96 does not support signing/);
    const unknown = await sv(['transit', 'decrypt', 'nokey', 'vault:v1:AAAA']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/encryption key not found/);
    const badType = await sv(['transit', 'key', 'create', 'x', '--type', 'rsa-1']);
    expect(badType.code).toBe(2);
    const noDelete = await sv(['transit', 'key', 'delete', 'payments']);
    expect(noDelete.code).toBe(3);
    expect(noDelete.stderr).toMatch(/deletion is not allowed for this policy/);
    expect((await sv(['transit', 'key', 'read', 'payments'])).code).toBe(0);
    expect((await sv(['transit', 'key', 'read', 'nokey'])).code).toBe(4);
    expect((await sv(['transit', 'key', 'config', 'payments'])).code).toBe(2);

    const cfg = await sv(['transit', 'key', 'config', 'payments', '--deletion-allowed', '--json']);
    expect(JSON.parse(cfg.stdout).data.deletion_allowed).toBe(true);
    expect((await sv(['transit', 'key', 'delete', 'payments'])).code).toBe(0);
    expect(JSON.parse((await sv(['transit', 'key', 'list', '--json'])).stdout).keys).not.toContain('payments');
  });
});
