import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandbox } from '../../../test/run-bin.js';
import { call, SECRET_KV_TOML } from './helpers.js';
import { type ServerProcess, spawnServer } from './proc.js';

/**
 * A rekey stores the keyring under the new root key and the new seal configuration in one
 * storage batch. The server is killed (SIGKILL, through the test-only crash points of
 * core/crash-points.ts, or from outside) before, after and just past that commit; after a
 * restart either the old unseal keys work or the new ones do, never neither.
 */

interface Vault {
  cwd: string;
  env: NodeJS.ProcessEnv;
  cfg: string;
  srv: ServerProcess;
  keys: string[];
  root: string;
}

async function start(v: Pick<Vault, 'cwd' | 'env' | 'cfg'>, crashAt?: string): Promise<ServerProcess> {
  const env = crashAt ? { ...v.env, SVAULT_TEST_CRASH_AT: crashAt, VITEST: 'true' } : v.env;
  return spawnServer(['--config', v.cfg], { cwd: v.cwd, env });
}

async function newVault(crashAt?: string): Promise<Vault> {
  const { cwd, env } = sandbox();
  const cfg = join(cwd, 'svault.toml');
  writeFileSync(
    cfg,
    `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${join(cwd, 'data')}"\n${SECRET_KV_TOML}`,
  );
  const srv = await start({ cwd, env, cfg }, crashAt);
  const init = await call(srv.address, 'PUT', '/v1/sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
  const { keys, root_token: root } = init.body as { keys: string[]; root_token: string };
  await unseal(srv, keys.slice(0, 2));
  const w = await call(srv.address, 'POST', '/v1/secret/data/app', { token: root, body: { data: { pw: 'kept' } } });
  expect(w.status).toBe(200);
  return { cwd, env, cfg, srv, keys, root };
}

async function unseal(srv: ServerProcess, keys: string[]) {
  let last: Awaited<ReturnType<typeof call>> | undefined;
  for (const key of keys) last = await call(srv.address, 'PUT', '/v1/sys/unseal', { body: { key } });
  return last;
}

/** Runs a rekey to 5 shares, threshold 3, with the old keys; the answer, or undefined when the server died. */
async function rekey(v: Vault) {
  const init = await call(v.srv.address, 'PUT', '/v1/sys/rekey/init', {
    token: v.root,
    body: { secret_shares: 5, secret_threshold: 3 },
  });
  expect(init.status, init.text).toBe(200);
  const nonce = init.body.nonce as string;
  // Bad input first: a wrong nonce is refused and counts for nothing.
  const bad = await call(v.srv.address, 'PUT', '/v1/sys/rekey/update', { body: { key: v.keys[0], nonce: 'nope' } });
  expect(bad.status).toBe(400);
  expect((await call(v.srv.address, 'GET', '/v1/sys/rekey/init')).body.progress).toBe(0);
  await call(v.srv.address, 'PUT', '/v1/sys/rekey/update', { body: { key: v.keys[0], nonce } });
  try {
    const done = await call(v.srv.address, 'PUT', '/v1/sys/rekey/update', { body: { key: v.keys[1], nonce } });
    return done.body as { complete: boolean; keys: string[] };
  } catch {
    return undefined; // the connection died with the server
  }
}

const exited = (srv: ServerProcess) =>
  new Promise<NodeJS.Signals | null>((res) => {
    if (srv.proc.exitCode !== null || srv.proc.signalCode !== null) res(srv.proc.signalCode);
    else srv.proc.once('exit', (_c, sig) => res(sig));
  });

async function sealStatus(srv: ServerProcess) {
  return (await call(srv.address, 'GET', '/v1/sys/seal-status')).body as { t: number; n: number; sealed: boolean };
}

async function readsSecret(v: Vault, srv: ServerProcess) {
  const r = await call(srv.address, 'GET', '/v1/secret/data/app', { token: v.root });
  return r.body?.data?.data?.pw;
}

describe('rekey survives a crash at any point', { timeout: 120_000 }, () => {
  it('killed before the commit: the old keys still unseal; a rekey that answered survives kill -9', async () => {
    const v = await newVault('rekey-before-commit');
    const answer = await rekey(v);
    expect(answer).toBeUndefined();
    expect(await exited(v.srv)).toBe('SIGKILL');

    let srv = await start(v);
    try {
      expect(await sealStatus(srv)).toMatchObject({ t: 2, n: 3, sealed: true });
      expect((await unseal(srv, v.keys.slice(1, 3)))?.body.sealed).toBe(false);
      expect(await readsSecret(v, srv)).toBe('kept');

      // A rekey that completes, then kill -9 straight after the answer: the new keys are the ones.
      const done = await rekey({ ...v, srv });
      expect(done?.complete).toBe(true);
      expect(done?.keys).toHaveLength(5);
      await srv.stop('SIGKILL');
      srv = await start(v);
      expect(await sealStatus(srv)).toMatchObject({ t: 3, n: 5, sealed: true });
      const old = await unseal(srv, v.keys);
      expect(old?.status).toBe(400);
      expect(old?.body.errors[0]).toMatch(/invalid unseal keys/);
      expect((await unseal(srv, (done?.keys ?? []).slice(2, 5)))?.body.sealed).toBe(false);
      expect(await readsSecret(v, srv)).toBe('kept');
    } finally {
      await srv.stop('SIGKILL');
    }
  });

  it('killed right after the commit, before answering: keyring and seal configuration both switched', async () => {
    const v = await newVault('rekey-after-commit');
    expect(await rekey(v)).toBeUndefined();
    expect(await exited(v.srv)).toBe('SIGKILL');
    const srv = await start(v);
    try {
      // The new configuration is in force with the new keyring (only the new keys, lost with the
      // answer, could open it): the old keys are refused as keys of another root key, not miscounted.
      expect(await sealStatus(srv)).toMatchObject({ t: 3, n: 5, sealed: true });
      const old = await unseal(srv, v.keys);
      expect(old?.status).toBe(400);
      expect(old?.body.errors[0]).toMatch(/invalid unseal keys/);
    } finally {
      await srv.stop('SIGKILL');
    }
  });
});
