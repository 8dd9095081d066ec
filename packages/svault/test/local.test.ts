import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { SECRET_KV_TOML } from './helpers.js';

// Local mode: no SVAULT_ADDR, a file-backed vault in the sandbox's data dir, the real CLI.
const box = sandbox();
const env: NodeJS.ProcessEnv = { ...box.env };
const sv = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  runBin('svault', args, { cwd: box.cwd, env: { ...env, ...extra } });
const runDir = join(box.env.XDG_DATA_HOME as string, 'stratumiops', 'svault', 'run');

afterAll(async () => {
  await sv(['daemon', 'stop']);
});

describe('local mode: the daemon holds the keys between commands', { timeout: 120_000 }, () => {
  it('init starts the daemon, unseal K of N, KV works, seal, stop, unseal again: data kept', async () => {
    // The engines to mount at init come from the project file, as the example config has them.
    writeFileSync(join(box.cwd, 'svault.toml'), SECRET_KV_TOML);
    const st0 = await sv(['operator', 'status', '--json']);
    expect(st0.code).toBe(5);
    expect(JSON.parse(st0.stdout)).toMatchObject({ initialized: false, sealed: true });
    expect((await sv(['daemon', 'status'])).code).toBe(7); // status does not start it

    const init = await sv(['operator', 'init', '--shares', '3', '--threshold', '2', '--json']);
    expect(init.code, init.stderr).toBe(0);
    const { keys_base64: keys, root_token: root } = JSON.parse(init.stdout);
    env.SVAULT_TOKEN = root;
    const status = await sv(['daemon', 'status', '--json']);
    expect(status.code).toBe(0);
    const socket = JSON.parse(status.stdout).socket as string;
    expect(socket).toBe(join(runDir, 'svaultd.sock'));
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    expect((await sv(['kv', 'get', 'secret/app'])).code).toBe(5); // sealed
    expect(JSON.parse((await sv(['operator', 'unseal', keys[1], '--json'])).stdout)).toMatchObject({ progress: 1 });
    expect((await sv(['operator', 'unseal', keys[2]])).stdout).toContain('Unsealed.');
    expect((await sv(['kv', 'put', 'secret/app', 'password=l0cal'])).code).toBe(0);
    expect((await sv(['kv', 'get', 'secret/app', '--field', 'password'])).stdout.trim()).toBe('l0cal');

    // A configuration pointing at another storage directory does not get this daemon's vault.
    writeFileSync(join(box.cwd, 'svault.toml'), '[storage.filesystem]\npath = "./elsewhere"\n');
    const other = await sv(['kv', 'get', 'secret/app']);
    expect(other.code).toBe(6);
    expect(other.stderr).toMatch(/the running svault daemon serves .*storage, not .*elsewhere/);
    writeFileSync(join(box.cwd, 'svault.toml'), '');

    expect((await sv(['operator', 'seal'])).code).toBe(0);
    expect((await sv(['kv', 'get', 'secret/app'])).code).toBe(5);
    await sv(['operator', 'unseal', keys[0]]);
    await sv(['operator', 'unseal', keys[2]]);
    expect((await sv(['kv', 'get', 'secret/app', '--field', 'password'])).stdout.trim()).toBe('l0cal');

    expect((await sv(['daemon', 'stop'])).code).toBe(0);
    const gone = await sv(['kv', 'get', 'secret/app']);
    expect(gone.code).toBe(5);
    expect(gone.stderr).toMatch(/no svault daemon holds its keys/);
    const offline = await sv(['operator', 'status', '--json']);
    expect(offline.code).toBe(5);
    expect(JSON.parse(offline.stdout)).toMatchObject({ initialized: true, sealed: true, t: 2, n: 3 });

    // Unseal starts a new daemon; the data was on disk all along.
    await sv(['operator', 'unseal', keys[0]]);
    expect((await sv(['operator', 'unseal', keys[1]])).code).toBe(0);
    expect((await sv(['kv', 'get', 'secret/app', '--field', 'password'])).stdout.trim()).toBe('l0cal');
  });

  it('SVAULT_ADDR wins over the local daemon', async () => {
    const r = await sv(['kv', 'get', 'secret/app'], { SVAULT_ADDR: 'http://127.0.0.1:9' });
    expect(r.code).toBe(7);
  });
});
