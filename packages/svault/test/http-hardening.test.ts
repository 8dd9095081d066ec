import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '@stratumiops/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { MAX_JSON_DEPTH } from '../src/server/http.js';
import { call, initAndUnseal, SECRET_KV_TOML, startTestServer, tempDir } from './helpers.js';
import { spawnServer } from './proc.js';

/** A logger whose lines are kept, to check what reached the log. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ name: 'svault', level: 'info', stream }), lines };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const p = join(dir, f);
    if (statSync(p).isFile()) out[f] = readFileSync(p).toString('base64');
  }
  return out;
}

describe('Vault-shaped answers to malformed requests', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let base: string;
  let root: string;
  const log = capturingLogger();
  beforeAll(async () => {
    srv = await startTestServer({ logger: log.logger });
    base = srv.address;
    root = (await initAndUnseal(base)).root;
  });
  afterAll(async () => {
    await srv.close();
  });

  it('error responses carry Content-Type: application/json with no charset, as Vault', async () => {
    const cases = [
      await call(base, 'GET', '/v1/secret/data/nothing-here', { token: root }), // 404
      await call(base, 'GET', '/v1/secret/data/x'), // 403
      await call(base, 'POST', '/v1/secret/data/x', { token: root, raw: '{bad' }), // 400
      await call(base, 'GET', '/v2/elsewhere'), // 404 outside /v1
    ];
    expect(cases.map((r) => r.status)).toEqual([404, 403, 400, 404]);
    for (const r of cases) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(Array.isArray(r.body.errors)).toBe(true);
    }
    const ok = await call(base, 'GET', '/v1/sys/mounts', { token: root });
    expect(ok.headers['content-type']).toBe('application/json');
  });

  it('a body nested 10,000 deep is a 400 before anything walks it; a shallow nesting is kept', async () => {
    const before = snapshot(srv.dir);
    const deep = `{"data":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`;
    const r = await call(base, 'POST', '/v1/secret/data/deep', { token: root, raw: deep });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatch(/nested deeper than 256 levels/);
    expect(snapshot(srv.dir)).toEqual(before);
    // Brackets inside strings do not count; a nesting within the limit is stored as sent.
    const nested = `{"data":{"s":"[[[[{{{{","a":${'['.repeat(MAX_JSON_DEPTH - 3)}1${']'.repeat(MAX_JSON_DEPTH - 3)}}}`;
    expect((await call(base, 'POST', '/v1/secret/data/deep', { token: root, raw: nested })).status).toBe(200);
    const back = await call(base, 'GET', '/v1/secret/data/deep', { token: root });
    expect(back.body.data.data.s).toBe('[[[[{{{{');
    expect(JSON.stringify(back.body.data.data.a)).toBe(
      `${'['.repeat(MAX_JSON_DEPTH - 3)}1${']'.repeat(MAX_JSON_DEPTH - 3)}`,
    );
  });

  it('an over-long path is a 400 from the length check, and nothing about it reaches the log', async () => {
    const before = snapshot(srv.dir);
    const long = Array.from({ length: 70 }, (_, i) => `${i}`.padStart(60, 'x')).join('/');
    const r = await call(base, 'POST', `/v1/secret/data/${long}`, { token: root, body: { data: { a: 1 } } });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toMatch(/invalid path: longer than 1024 characters/);
    // Many short segments pass the logical check but not the storage name check.
    const many = Array.from({ length: 300 }, () => 'a').join('/');
    const r2 = await call(base, 'POST', `/v1/secret/data/${many}`, { token: root, body: { data: { a: 1 } } });
    expect(r2.status).toBe(400);
    expect(r2.body.errors[0]).toMatch(/invalid path: too long/);
    expect(snapshot(srv.dir)).toEqual(before);
    expect(log.lines.filter((l) => /ENAMETOOLONG|internal error/.test(l))).toEqual([]);
  });

  it('an invalid percent-escape in the URL is answered in the {"errors":[...]} envelope', async () => {
    for (const path of ['/v1/secret/data/%zz', '/v1/secret/data/a%', '/v1/secret/data/%E0%A4%A', '/v1/sys/health%']) {
      const r = await call(base, 'GET', path, { token: root });
      expect(r.status, path).toBe(400);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.body).toEqual({ errors: ['invalid URL escape in the request path'] });
    }
    // A valid escape still works.
    await call(base, 'POST', '/v1/secret/data/sp%20ace', { token: root, body: { data: { a: '1' } } });
    expect((await call(base, 'GET', '/v1/secret/data/sp%20ace', { token: root })).body.data.data).toEqual({ a: '1' });
  });

  it('a wrapped response never carries the secret in the clear; a bad wrap TTL runs nothing', async () => {
    await call(base, 'POST', '/v1/secret/data/wrapme', { token: root, body: { data: { v: 'clear-text-secret' } } });
    const r = await call(base, 'GET', '/v1/secret/data/wrapme', {
      token: root,
      headers: { 'X-Vault-Wrap-TTL': '60s' },
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.wrap_info.ttl).toBe(60);
    expect(r.text).not.toContain('clear-text-secret');
    const before = snapshot(srv.dir);
    for (const ttl of ['soon', '0', '-5', '100000h', '1h30x']) {
      const w = await call(base, 'POST', '/v1/auth/token/create', {
        token: root,
        body: {},
        headers: { 'X-Vault-Wrap-TTL': ttl },
      });
      expect(w.status, ttl).toBe(400);
      expect(w.text).not.toMatch(/hvs\./);
    }
    expect(snapshot(srv.dir)).toEqual(before);
  });

  it('a __proto__ key inside KV data is stored and returned, by write, patch and custom metadata', async () => {
    const raw = '{"data":{"__proto__":{"polluted":"yes"},"plain":"v"}}';
    expect((await call(base, 'POST', '/v1/secret/data/proto', { token: root, raw })).status).toBe(200);
    const got = await call(base, 'GET', '/v1/secret/data/proto', { token: root });
    expect(got.text).toContain('"__proto__":{"polluted":"yes"}');
    const data = got.body.data.data as Record<string, unknown>;
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    expect(Object.keys(data).sort()).toEqual(['__proto__', 'plain']);
    const patch = await call(base, 'PATCH', '/v1/secret/data/proto', {
      token: root,
      raw: '{"data":{"__proto__":{"more":"1"}}}',
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    expect(patch.status).toBe(200);
    const merged = await call(base, 'GET', '/v1/secret/data/proto', { token: root });
    expect(merged.text).toContain('"__proto__":{"polluted":"yes","more":"1"}');
    const meta = await call(base, 'POST', '/v1/secret/metadata/proto', {
      token: root,
      raw: '{"custom_metadata":{"__proto__":"owner"}}',
    });
    expect(meta.status).toBe(204);
    const m = await call(base, 'GET', '/v1/secret/metadata/proto', { token: root });
    expect(m.text).toContain('"custom_metadata":{"__proto__":"owner"}');
    // Bad input next to it: a non-string custom metadata value is still refused.
    const bad = await call(base, 'POST', '/v1/secret/metadata/proto', {
      token: root,
      raw: '{"custom_metadata":{"__proto__":{"x":1}}}',
    });
    expect(bad.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('an entry changed on disk', () => {
  it('is answered 500 and logged, without the value or its path', async () => {
    const dir = tempDir();
    const first = await startTestServer({ dir });
    const { keys, root } = await initAndUnseal(first.address, 1, 1);
    await first.close();
    const before = new Set(Object.keys(snapshot(dir)));
    const second = await startTestServer({ dir });
    await call(second.address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
    await call(second.address, 'POST', '/v1/secret/data/tampered', { token: root, body: { data: { v: 'precious' } } });
    await second.close();
    const added = Object.keys(snapshot(dir)).filter((f) => !before.has(f) && !f.startsWith('journal-'));
    expect(added.length).toBeGreaterThan(0);
    for (const f of added) {
      const bytes = readFileSync(join(dir, f));
      bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
      writeFileSync(join(dir, f), bytes);
    }
    const log = capturingLogger();
    const third = await startTestServer({ dir, logger: log.logger });
    try {
      await call(third.address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
      const r = await call(third.address, 'GET', '/v1/secret/data/tampered', { token: root });
      expect(r.status).toBe(500);
      expect(r.body.errors[0]).toMatch(/failed authentication/);
      const lines = log.lines.filter((l) => l.includes('internal error'));
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/entry failed authentication/);
      expect(lines[0]).not.toMatch(/precious|tampered/);
    } finally {
      await third.close();
    }
  });
});

describe('one process per data directory, and a damaged journal', () => {
  it('a second server on a held data dir exits 7 with one line; a journal failing its CRC is kept aside and reported', {
    timeout: 90_000,
  }, async () => {
    const { cwd, env } = sandbox();
    const storage = join(cwd, 'data');
    const cfg = join(cwd, 'svault.toml');
    writeFileSync(
      cfg,
      `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${storage}"\n${SECRET_KV_TOML}`,
    );
    const first = await spawnServer(['--config', cfg], { cwd, env });
    const second = await runBin('svault', ['server', '--config', cfg], { cwd, env, timeoutMs: 20_000 });
    expect(second.code).toBe(7);
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`in use by process ${first.proc.pid}`));
    expect((await call(first.address, 'GET', '/v1/sys/health')).status).toBe(501); // uninitialized, not 500

    // Quick writes, then a crash before the journal's first checkpoint.
    const init = await call(first.address, 'PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    const { keys, root_token: root } = init.body as { keys: string[]; root_token: string };
    await call(first.address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
    expect(
      (await call(first.address, 'POST', '/v1/secret/data/first', { token: root, body: { data: { v: '1' } } })).status,
    ).toBe(200);
    for (let i = 0; i < 40; i++) {
      await call(first.address, 'POST', `/v1/secret/data/later${i}`, { token: root, body: { data: { v: `${i}` } } });
    }

    // Crash, then damage a record near the end of the journal the crash left.
    await first.stop('SIGKILL');
    const journals = readdirSync(storage).filter((n) => /^journal-\d+\.log$/.test(n));
    const journal = journals.map((n) => join(storage, n)).find((p) => statSync(p).size > 0) as string;
    expect(journal).toBeDefined();
    const bytes = readFileSync(journal);
    const at = Math.floor(bytes.length * 0.9);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(journal, bytes);

    const log = capturingLogger();
    const again = await startTestServer({ dir: storage, logger: log.logger });
    try {
      const damaged = log.lines.filter((l) => l.includes('JOURNAL DAMAGED'));
      expect(damaged).toHaveLength(1);
      expect(damaged[0]).toMatch(/fails its CRC/);
      const aside = readdirSync(storage).filter((n) => n.includes('.damaged-'));
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(storage, aside[0] as string)).equals(bytes)).toBe(true);
      await call(again.address, 'PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
      const r = await call(again.address, 'GET', '/v1/secret/data/first', { token: root });
      expect(r.body.data.data).toEqual({ v: '1' });
      // Bad input after recovery still changes nothing, and the server writes on.
      expect((await call(again.address, 'POST', '/v1/secret/data/x', { token: root, raw: '{' })).status).toBe(400);
      expect(
        (await call(again.address, 'POST', '/v1/secret/data/after', { token: root, body: { data: { v: '2' } } }))
          .status,
      ).toBe(200);
    } finally {
      await again.close();
    }
    // The kept journal survives a clean shutdown and the next start.
    expect(readdirSync(storage).filter((n) => n.includes('.damaged-'))).toHaveLength(1);
  });
});
