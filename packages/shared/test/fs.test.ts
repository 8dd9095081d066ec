import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processAlive, tryLockFile, writeFileAtomic } from '../src/fs.js';

describe('writeFileAtomic', () => {
  it('replaces a file whole, with its mode from the start, creating the folder; leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shared-fs-'));
    const file = join(dir, 'nested', 'deeper', 'secret.json');
    writeFileAtomic(file, '{"v":1}\n', 0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"v":1}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileAtomic(file, Buffer.from('{"v":2}\n'), 0o600);
    expect(readFileSync(file, 'utf8')).toBe('{"v":2}\n');
    expect(readdirSync(join(dir, 'nested', 'deeper'))).toEqual(['secret.json']);
  });

  it('a write that fails changes nothing and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shared-fs-'));
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'old');
    // A folder where the file would go: the rename fails after the temp file was written.
    const blocked = join(dir, 'is-a-dir');
    writeFileAtomic(join(blocked, 'x'), 'x');
    expect(() => writeFileAtomic(blocked, 'new')).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'is-a-dir']);
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(() => writeFileAtomic(file, 'new')).toThrow();
      chmodSync(dir, 0o700);
      expect(readFileSync(file, 'utf8')).toBe('old');
    }
  });
});

describe('processAlive', () => {
  it('is true for a running process and false once it has exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = child.pid as number;
    expect(processAlive(pid)).toBe(true);
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    expect(processAlive(pid)).toBe(false);
  });
});

describe('tryLockFile', () => {
  it('one holder at a time; a live holder is named; a dead holder’s lock is taken over; release frees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratum-lock-'));
    const path = join(dir, 'x.lock');
    const lock = tryLockFile(path, 0o600);
    expect('release' in lock).toBe(true);
    expect((statSync(path).mode & 0o777).toString(8)).toBe('600');
    expect(tryLockFile(path)).toEqual({ holder: process.pid });
    // Held by another live process: named, not taken.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = child.pid as number;
    (lock as { release(): void }).release();
    writeFileSync(path, `${pid} 2026-12-07T00:00:00Z\n`);
    expect(tryLockFile(path)).toEqual({ holder: pid });
    // Its holder dies: the next one takes it over.
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    const taken = tryLockFile(path);
    expect('release' in taken).toBe(true);
    expect(Number.parseInt(readFileSync(path, 'utf8'), 10)).toBe(process.pid);
    (taken as { release(): void }).release();
    expect(readdirSync(dir)).toEqual([]);
    // An unreadable lock (no pid) is respected while it is fresh.
    writeFileSync(path, '');
    expect(tryLockFile(path)).toEqual({ holder: 0 });
  });
});
