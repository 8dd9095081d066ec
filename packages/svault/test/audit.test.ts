import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAuditSink } from '../src/adapters/audit-file.js';
import { sha256, verifyAuditLog } from '../src/core/audit.js';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
let keys: string[];
const logDir = tempDir('svault-audit-');
const logFile = join(logDir, 'audit.log');

beforeAll(async () => {
  srv = await startTestServer();
  base = srv.address;
  ({ root, keys } = await initAndUnseal(base));
});
afterAll(async () => {
  await srv.close();
});

const lines = (file = logFile) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const verify = (text: string) => verifyAuditLog([{ name: 'audit.log', lines: text.split('\n') }]);
const enable = (path: string, options: Record<string, string>) =>
  call(base, 'PUT', `/v1/sys/audit/${path}`, { token: root, body: { type: 'file', options } });

describe('audit devices', () => {
  it('logs every request and response as hash-chained JSON lines, with secrets and tokens HMACed', async () => {
    expect((await enable('file', { file_path: logFile })).status).toBe(204);
    const w = await call(base, 'POST', '/v1/secret/data/app', {
      token: root,
      body: { data: { password: 'hunter2-very-secret', port: 5432 } },
    });
    expect(w.status).toBe(200);
    const r = await call(base, 'GET', '/v1/secret/data/app', { token: root });
    expect(r.body.data.data.password).toBe('hunter2-very-secret');
    expect((await call(base, 'GET', '/v1/secret/data/nothing', { token: 'hvs.bogus' })).status).toBe(403);

    const text = readFileSync(logFile, 'utf8');
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).not.toContain(root);
    const all = lines();
    const read = all.filter((l) => l.request.id === r.body.request_id);
    expect(read.map((l) => l.type)).toEqual(['request', 'response']);
    const resp = read[1];
    expect(resp.request).toMatchObject({ operation: 'read', path: 'secret/data/app', mount_type: 'kv' });
    expect(resp.request.mount_point).toBe('secret/');
    expect(resp.request.client_token).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(resp.auth.policies).toEqual(['root']);
    expect(resp.response.data.data.port).toBe(5432); // numbers stay readable, as in Vault
    const hashed = await call(base, 'POST', '/v1/sys/audit-hash/file', {
      token: root,
      body: { input: 'hunter2-very-secret' },
    });
    expect(resp.response.data.data.password).toBe(hashed.body.data.hash);
    const tokenHash = await call(base, 'POST', '/v1/sys/audit-hash/file', { token: root, body: { input: root } });
    expect(resp.request.client_token).toBe(tokenHash.body.data.hash);
    // The denied request is there, with its error.
    expect(all.some((l) => l.type === 'response' && l.error === 'permission denied')).toBe(true);
    // The chain: seq counts up, each line names the hash of the one before.
    all.forEach((l, i) => {
      expect(l.seq).toBe(i + 1);
      if (i > 0) expect(l.prev).toBe(all[i - 1].hash);
    });
    const listed = await call(base, 'GET', '/v1/sys/audit', { token: root });
    expect(listed.body.data['file/']).toMatchObject({ type: 'file', options: { file_path: logFile } });
    const report = verify(readFileSync(logFile, 'utf8'));
    expect(report).toMatchObject({ ok: true, first_seq: 1, anchored: false });
    // The listing was made between its own request and response lines.
    expect(listed.body.data['file/'].seq).toBe((report.last_seq as number) - 1);
    expect(listed.body.data['file/'].head).toBe(lines().at(-2).hash);
  });

  it('audit verify reports the first changed, removed or reordered line', async () => {
    for (let i = 0; i < 4; i++) await call(base, 'GET', '/v1/sys/mounts', { token: root });
    const good = readFileSync(logFile, 'utf8');
    const ls = good.split('\n').filter(Boolean);
    expect(ls.length).toBeGreaterThan(8);
    const join_ = (xs: string[]) => `${xs.join('\n')}\n`;

    const changed = [...ls];
    changed[4] = (changed[4] as string).replace('"type":"', '"type":"x');
    expect(verify(join_(changed)).broken).toMatchObject({ line: 5, kind: 'changed' });

    // A forger who recomputes the line's own hash is caught by the next line.
    const forged = [...ls];
    const body = (forged[4] as string).replace(/,"hash":"sha256:[0-9a-f]{64}"\}$/, '}').replace('"read"', '"list"');
    forged[4] = `${body.slice(0, -1)},"hash":"${sha256(body)}"}`;
    expect(verify(join_(forged)).broken).toMatchObject({ line: 5, kind: 'changed' });

    const removed = ls.filter((_, i) => i !== 5);
    expect(verify(join_(removed)).broken).toMatchObject({ line: 6, kind: 'removed' });

    const swapped = [...ls];
    [swapped[3], swapped[4]] = [swapped[4] as string, swapped[3] as string];
    expect(verify(join_(swapped)).broken).toMatchObject({ line: 4, kind: 'reordered' });

    const truncated = `${join_(ls).slice(0, -20)}\n`;
    expect(verify(truncated).broken).toMatchObject({ line: ls.length, kind: 'malformed' });

    // A tail of the log (earlier lines rotated away) verifies from its first line on.
    expect(verify(join_(ls.slice(3)))).toMatchObject({ ok: true, anchored: true, first_seq: 4 });
  });

  it('continues the chain after a restart', async () => {
    const before = lines().length;
    const dir = srv.dir;
    await srv.close();
    srv = await startTestServer({ dir });
    base = srv.address;
    for (const k of keys.slice(0, 3)) await call(base, 'PUT', '/v1/sys/unseal', { body: { key: k } });
    expect((await call(base, 'GET', '/v1/sys/mounts', { token: root })).status).toBe(200);
    const after = lines();
    expect(after.length).toBe(before + 2);
    expect(verify(readFileSync(logFile, 'utf8'))).toMatchObject({ ok: true, first_seq: 1 });
  });

  it('fails the request, writing nothing, when no device can write; disabling the device still works', async () => {
    const sub = join(tempDir('svault-audit-gone-'), 'd');
    execFileSync('mkdir', ['-p', sub]);
    expect((await enable('gone', { file_path: join(sub, 'audit.log') })).status).toBe(204);
    expect((await call(base, 'DELETE', '/v1/sys/audit/file', { token: root })).status).toBe(204);
    rmSync(sub, { recursive: true });
    await new Promise((r) => setTimeout(r, 1100)); // the sink notices a vanished file within a second
    const w = await call(base, 'POST', '/v1/secret/data/unaudited', { token: root, body: { data: { a: 'b' } } });
    expect(w.status).toBe(500);
    expect(w.body.errors[0]).toMatch(/audit/);
    expect((await call(base, 'GET', '/v1/sys/health')).status).toBe(200);
    expect((await call(base, 'DELETE', '/v1/sys/audit/gone', { token: root })).status).toBe(204);
    expect((await call(base, 'GET', '/v1/secret/data/unaudited', { token: root })).status).toBe(404);
  });

  it('a hung device times out instead of hanging the server; another device keeps requests going', async () => {
    const dir = tempDir('svault-audit-fifo-');
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // A reader that never reads: the pipe fills up and the device's write blocks.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const drain = () => {
      const buf = Buffer.alloc(1 << 16);
      try {
        while (readSync(reader, buf, 0, buf.length, null) > 0);
      } catch {}
    };
    let reading: NodeJS.Timeout | undefined;
    try {
      expect((await enable('pipe', { file_path: fifo, timeout_ms: '300' })).status).toBe(204);
      expect((await enable('file', { file_path: join(dir, 'good.log') })).status).toBe(204);
      const big = Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`${'k'.repeat(60)}${i}`, 'v']));
      // The pipe (64 KiB) is full after this; the good device answers, so nobody waits (a wait would time out).
      expect((await call(base, 'POST', '/v1/secret/data/big', { token: root, body: { data: big } })).status).toBe(200);
      expect((await call(base, 'GET', '/v1/sys/mounts', { token: root })).status).toBe(200);
      // Only the hung device left: requests fail (on the device's timeout, then at once while its write stays
      // stuck) instead of hanging; a hang would end this test on its own timeout. Timing is the benchmark's job.
      expect((await call(base, 'DELETE', '/v1/sys/audit/file', { token: root })).status).toBe(204);
      for (let i = 0; i < 2; i++) {
        const failed = await call(base, 'GET', '/v1/sys/mounts', { token: root });
        expect([failed.status, failed.body.errors[0]]).toEqual([500, expect.stringMatching(/^audit log failed/)]);
      }
      expect((await call(base, 'GET', '/v1/sys/health')).status).toBe(200);
      // The reader catches up and keeps reading: the stuck write finishes, the device works again.
      reading = setInterval(drain, 5);
      let status = 0;
      for (let i = 0; i < 40 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await call(base, 'GET', '/v1/sys/mounts', { token: root })).status;
      }
      expect(status).toBe(200);
      expect((await call(base, 'DELETE', '/v1/sys/audit/pipe', { token: root })).status).toBe(204);
    } finally {
      clearInterval(reading);
      drain();
      closeSync(reader);
    }
  });
});

describe('[audit] in the configuration', () => {
  it('enables a file device at file/ after unseal', async () => {
    const file = join(tempDir('svault-audit-cfg-'), 'audit.log');
    const s = await startTestServer({ audit: { enabled: true, path: file, retention_days: 30 } });
    try {
      const { root: rt } = await initAndUnseal(s.address);
      const listed = await call(s.address, 'GET', '/v1/sys/audit', { token: rt });
      expect(listed.body.data['file/']).toMatchObject({ type: 'file', options: { file_path: file } });
      expect(verifyAuditLog([{ name: file, lines: readFileSync(file, 'utf8').split('\n') }])).toMatchObject({
        ok: true,
        lines: 2, // the listing's request and response
      });
    } finally {
      await s.close();
    }
  });
});

describe('file audit device retention', () => {
  it('rotates daily and deletes rotated files older than the retention', async () => {
    const dir = tempDir('svault-audit-rot-');
    const file = join(dir, 'audit.log');
    let now = new Date('2026-01-01T10:00:00Z');
    const sink = new FileAuditSink(file, { retentionDays: 2, now: () => now });
    await sink.open();
    for (const d of ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05']) {
      now = new Date(`${d}T12:00:00Z`);
      await sink.write(`{"day":"${d}"}\n`);
    }
    expect(await sink.lastLine()).toBe('{"day":"2026-01-05"}');
    await sink.close();
    expect(readdirSync(dir).sort()).toEqual(['audit.log', 'audit.log.2026-01-03', 'audit.log.2026-01-04']);
    expect(readFileSync(join(dir, 'audit.log.2026-01-04'), 'utf8')).toBe('{"day":"2026-01-04"}\n');
    // The chain's last line is found in the newest rotated file when the current one is empty.
    writeFileSync(file, '');
    expect(await new FileAuditSink(file, { retentionDays: 2 }).lastLine()).toBe('{"day":"2026-01-04"}');
    expect(existsSync(join(dir, 'audit.log.2026-01-01'))).toBe(false);
  });
});
