import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer({ bodyLimit: 64 * 1024 });
  base = srv.address;
  root = (await initAndUnseal(base)).root;
});
afterAll(async () => {
  await srv.close();
});

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** Every file and its bytes, to compare before and after a rejected request. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(files(dir).map((f) => [f, readFileSync(f).toString('base64')]));
}

describe('bad input gets a Vault-style error, writes nothing, and the server keeps serving', () => {
  const bad: [string, () => Promise<{ status: number; body: { errors?: string[] } }>, number, RegExp][] = [
    [
      'malformed JSON',
      () => call(base, 'POST', '/v1/secret/data/x', { token: root, raw: '{"data": {"a": 1' }),
      400,
      /^failed to parse JSON input/,
    ],
    [
      'a JSON array body',
      () => call(base, 'POST', '/v1/secret/data/x', { token: root, raw: '[1,2]' }),
      400,
      /JSON object/,
    ],
    [
      'data of the wrong type',
      () => call(base, 'POST', '/v1/secret/data/x', { token: root, body: { data: 'string' } }),
      400,
      /field "data"/,
    ],
    [
      'cas of the wrong type',
      () => call(base, 'POST', '/v1/secret/data/x', { token: root, body: { data: { a: 1 }, options: { cas: 'abc' } } }),
      400,
      /options\.cas/,
    ],
    [
      'max_versions of the wrong type',
      () => call(base, 'POST', '/v1/secret/metadata/x', { token: root, body: { max_versions: 'ten' } }),
      400,
      /field "max_versions"/,
    ],
    [
      'a body over the limit',
      () => call(base, 'POST', '/v1/secret/data/x', { token: root, body: { data: { v: 'x'.repeat(100_000) } } }),
      413,
      /too large/,
    ],
    [
      'path traversal',
      () => call(base, 'POST', '/v1/secret/data/../../x', { token: root, body: { data: { a: 1 } } }),
      400,
      /invalid path/,
    ],
    [
      'encoded traversal',
      () => call(base, 'POST', '/v1/secret/data/%2e%2e/%2E%2E/x', { token: root, body: { data: { a: 1 } } }),
      400,
      /invalid path/,
    ],
    [
      'an encoded slash',
      () => call(base, 'POST', '/v1/secret/data/a%2F..%2Fb', { token: root, body: { data: { a: 1 } } }),
      400,
      /invalid path/,
    ],
    [
      'an empty segment',
      () => call(base, 'POST', '/v1/secret/data/a//b', { token: root, body: { data: { a: 1 } } }),
      400,
      /invalid path/,
    ],
    [
      'an unknown mount',
      () => call(base, 'POST', '/v1/nomount/x', { token: root, body: { a: 1 } }),
      404,
      /no handler for route/,
    ],
    [
      'a missing token',
      () => call(base, 'POST', '/v1/secret/data/x', { body: { data: { a: 1 } } }),
      403,
      /permission denied/,
    ],
    [
      'an unknown token',
      () =>
        call(base, 'POST', '/v1/secret/data/x', {
          token: 'hvs.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
          body: { data: { a: 1 } },
        }),
      403,
      /permission denied/,
    ],
    [
      'an unsupported method on a path',
      () => call(base, 'DELETE', '/v1/secret/config', { token: root }),
      405,
      /unsupported operation/,
    ],
  ];

  it.each(bad)('%s', async (_name, send, status, message) => {
    const before = snapshot(srv.dir);
    const r = await send();
    expect(r.status).toBe(status);
    expect(Array.isArray(r.body.errors)).toBe(true);
    expect(r.body.errors?.[0]).toMatch(message);
    expect(snapshot(srv.dir)).toEqual(before);
    expect((await call(base, 'GET', '/v1/sys/health')).status).toBe(200);
    expect((await call(base, 'GET', '/v1/secret/data/x', { token: root })).status).toBe(404);
  });

  it('ignores fields a path does not know (Vault does), and reads a body without a Content-Type', async () => {
    const r = await call(base, 'POST', '/v1/secret/data/extra', {
      token: root,
      raw: JSON.stringify({ data: { a: 1 }, path: 'extra', unknown: [1, 2] }),
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(r.status).toBe(200);
    expect((await call(base, 'GET', '/v1/secret/data/extra', { token: root })).body.data.data).toEqual({ a: 1 });
  });
});

describe('storage never shows secrets in plaintext', () => {
  it('after writing 1,000 distinct secrets, no value and no key name appears in the data dir', async () => {
    const names: string[] = [];
    const values: string[] = [];
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const i = batch * 20 + j;
          const name = `svc${i}-db-credential`;
          const field = `field_${i}_name`;
          const value = `value-${i}-${Math.random().toString(36).slice(2)}`;
          names.push(name, field);
          values.push(value);
          const r = await call(base, 'POST', `/v1/secret/data/apps/${name}`, {
            token: root,
            body: { data: { [field]: value } },
          });
          expect(r.status).toBe(200);
        }),
      );
    }
    const all = files(srv.dir);
    const blob = Buffer.concat(all.map((f) => Buffer.concat([Buffer.from(f.slice(srv.dir.length)), readFileSync(f)])));
    const text = blob.toString('latin1');
    for (const v of values) expect(text.includes(v)).toBe(false);
    for (const n of names) expect(text.includes(n)).toBe(false);
    for (const word of ['apps/', 'metadata/', 'versions/', root]) expect(text.includes(word), word).toBe(false);
    // And all of it reads back.
    const list = await call(base, 'GET', '/v1/secret/metadata/apps?list=true', { token: root });
    expect(list.body.data.keys).toHaveLength(1000);
  });

  it('rotating the keyring adds a term; entries written before and after stay readable', async () => {
    await call(base, 'POST', '/v1/secret/data/rot/before', { token: root, body: { data: { t: 1 } } });
    const ks = await call(base, 'GET', '/v1/sys/key-status', { token: root });
    const term = ks.body.data.term as number;
    expect((await call(base, 'POST', '/v1/sys/rotate', { token: root })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/sys/key-status', { token: root })).body.data.term).toBe(term + 1);
    await call(base, 'POST', '/v1/secret/data/rot/after', { token: root, body: { data: { t: 2 } } });
    expect((await call(base, 'GET', '/v1/secret/data/rot/before', { token: root })).body.data.data).toEqual({ t: 1 });
    expect((await call(base, 'GET', '/v1/secret/data/rot/after', { token: root })).body.data.data).toEqual({ t: 2 });
  });
});
