import { describe, expect, it } from 'vitest';
import { MemoryStorage } from '../src/adapters/memory.js';
import { VaultError } from '../src/core/errors.js';
import { LeaseManager } from '../src/core/leases.js';
import type { Backend, LeaseInfo, MountEntry } from '../src/core/logical.js';

/**
 * The lease manager with an engine that records what it is asked to revoke and renew (a test
 * engine, standing in for PostgreSQL: database.test.ts runs the same paths against a real one).
 */
const mount = (uuid = 'm1', max = 0): MountEntry => ({
  path: 'database/',
  type: 'database',
  description: '',
  uuid,
  accessor: 'database_x',
  config: { default_lease_ttl: 0, max_lease_ttl: max, force_no_cache: false },
  options: null,
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
});

class RecordingEngine implements Backend {
  readonly type = 'database';
  readonly paths = [];
  revoked: string[] = [];
  renewed: { id: string; until: Date }[] = [];
  /** Revocations throw while this is set. */
  failWith: string | undefined;
  /** Revocations wait for this before finishing. */
  gate: Promise<void> | undefined;

  async revokeLease(l: LeaseInfo): Promise<void> {
    await this.gate;
    if (this.failWith) throw new Error(this.failWith);
    this.revoked.push(l.internal.username as string);
  }
  async renewLease(l: LeaseInfo, until: Date): Promise<void> {
    await this.gate;
    this.renewed.push({ id: l.id, until });
  }
}

async function setup(
  opts: { store?: MemoryStorage; now?: () => number; retryBaseMs?: number; retryMaxMs?: number; max?: number } = {},
) {
  const store = opts.store ?? new MemoryStorage();
  const engine = new RecordingEngine();
  const entry = mount('m1', opts.max ?? 0);
  const warnings: string[] = [];
  let mounted = true;
  const m = await LeaseManager.open({
    store,
    mountByUuid: (uuid) => (mounted && uuid === entry.uuid ? { entry, backend: engine } : undefined),
    warn: (w) => warnings.push(w),
    ...(opts.now ? { now: opts.now } : {}),
    retryBaseMs: opts.retryBaseMs ?? 20,
    retryMaxMs: opts.retryMaxMs ?? 200,
  });
  const issue = (username: string, ttl = 3600, maxTtl = 0, path = 'database/creds/app') =>
    m.register(path, entry, { ttl, maxTtl, renewable: true, internal: { username } });
  return { m, store, engine, entry, warnings, issue, unmount: () => (mounted = false) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('lease manager', () => {
  it('issues ids under the request path, persists them, and a restarted manager still knows them', async () => {
    const { m, store, issue } = await setup();
    const l = await issue('u1', 60);
    expect(l.id).toMatch(/^database\/creds\/app\/[0-9A-Za-z]{24}$/);
    expect(l).toMatchObject({ duration: 60, renewable: true });
    const again = await LeaseManager.open({ store, mountByUuid: () => undefined, warn: () => {} });
    expect(again.lookup(l.id)).toEqual(m.lookup(l.id));
    expect(again.list('database/creds/')).toEqual(['app/']);
    expect(again.list('database/creds/app')).toEqual([l.id.split('/').pop()]);
    expect(() => again.lookup('database/creds/app/nope')).toThrow(/invalid lease/);
  });

  it('clamps a TTL to the max TTL of the secret and of the mount', async () => {
    const { issue } = await setup({ max: 100 });
    expect((await issue('a', 500)).duration).toBe(100);
    expect((await issue('b', 500, 50)).duration).toBe(50);
  });

  it('revokes at expiry through the engine, and on start those that expired while it was stopped', async () => {
    const { m, store, engine, issue } = await setup();
    m.start();
    const short = await issue('short', 1);
    await issue('long', 3600);
    await until('the expired lease to be revoked', () => engine.revoked.includes('short'));
    expect(() => m.lookup(short.id)).toThrow(/invalid lease/);
    expect(m.size).toBe(1);
    m.stop();

    // Stopped (sealed) while a lease expires: nothing happens until a manager starts over the same store.
    const down = await issue('while-down', 1);
    await sleep(1200);
    expect(engine.revoked).not.toContain('while-down');
    const { m: restarted, engine: engine2 } = await setup({ store });
    restarted.start();
    await until('the lease that expired while down to be revoked', () => engine2.revoked.includes('while-down'));
    expect(() => restarted.lookup(down.id)).toThrow(/invalid lease/);
    expect(engine2.revoked).toEqual(['while-down']);
    restarted.stop();
  });

  it('keeps a failed revocation, retries it with exponential backoff, never drops it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { m, engine, issue, warnings } = await setup({ now: () => now, retryBaseMs: 1000, retryMaxMs: 60_000 });
    const l = await issue('stuck', 3600);
    engine.failWith = 'relation "audit" does not exist';
    const next = () => Date.parse(m.lookup(l.id).next_attempt_time as string) - now;
    await expect(m.revoke(l.id)).rejects.toThrow(/failed to revoke lease .*relation "audit" does not exist/);
    expect(m.lookup(l.id)).toMatchObject({ revoke_attempts: 1, revoke_error: 'relation "audit" does not exist' });
    expect(next()).toBe(1000);
    await expect(m.revoke(l.id)).rejects.toThrow();
    expect(next()).toBe(2000);
    await expect(m.revoke(l.id)).rejects.toThrow();
    expect(next()).toBe(4000);
    for (let i = 0; i < 10; i++) await m.revoke(l.id).catch(() => {});
    expect(m.lookup(l.id).revoke_attempts).toBe(13);
    expect(next()).toBe(60_000); // retryMaxMs caps the wait
    expect(m.pending().map((e) => e.lease_id)).toEqual([l.id]);
    expect(warnings.at(-1)).toMatch(/attempt 13/);
    await expect(m.renew(l.id, 60)).rejects.toThrow(/lease is being revoked/);
    engine.failWith = undefined;
    now += 1000;
    await m.revoke(l.id);
    expect(m.size).toBe(0);
    expect(engine.revoked).toEqual(['stuck']);
  });

  it('retries on its own once the engine recovers', async () => {
    const { m, engine, issue } = await setup({ retryBaseMs: 50 });
    m.start();
    engine.failWith = 'database is down';
    const l = await issue('flaky', 1);
    await until('a few failed attempts', () => (m.size ? (m.lookup(l.id).revoke_attempts ?? 0) : 0) >= 2);
    engine.failWith = undefined;
    await until('the retried revocation to succeed', () => m.size === 0);
    expect(engine.revoked).toEqual(['flaky']);
    m.stop();
  });

  it('renews from now by the increment (or the original TTL), never past the max TTL', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { m, engine, issue } = await setup({ now: () => now });
    const l = await issue('r', 100, 300);
    now += 50_000;
    expect(await m.renew(l.id, 0)).toMatchObject({ duration: 100, renewable: true });
    expect(engine.renewed.at(-1)?.until.getTime()).toBe(now + 100_000);
    expect(await m.renew(l.id, 3600)).toMatchObject({ duration: 250, renewable: false });
    expect(m.lookup(l.id).expire_time).toBe(new Date(Date.parse('2030-01-01T00:00:00Z') + 300_000).toISOString());
    expect(m.lookup(l.id).last_renewal_time).toBe(new Date(now).toISOString());
    now += 300_000;
    await expect(m.renew(l.id, 10)).rejects.toThrow(/lease expired/);
  });

  it('refuses to renew what is not renewable or whose engine is gone', async () => {
    const { m, entry, issue, unmount } = await setup();
    const fixed = await m.register('database/creds/app', entry, { ttl: 60, renewable: false, internal: {} });
    await expect(m.renew(fixed.id, 10)).rejects.toThrow(/not renewable/);
    const l = await issue('x');
    unmount();
    await expect(m.renew(l.id, 10)).rejects.toThrow(/secrets engine is disabled/);
  });

  it('revoke-prefix takes the exact lease or those under prefix/, never a sibling with a longer name', async () => {
    const { m, engine, issue } = await setup();
    const a1 = await issue('a1', 60, 0, 'database/creds/app');
    await issue('a2', 60, 0, 'database/creds/app');
    await issue('b1', 60, 0, 'database/creds/app2');
    expect(await m.revokePrefix(a1.id)).toBe(1);
    expect(await m.revokePrefix('database/creds/app')).toBe(1);
    expect(engine.revoked.sort()).toEqual(['a1', 'a2']);
    expect(m.list('database/creds/')).toEqual(['app2/']);
    expect(await m.revokePrefix('database/creds/')).toBe(1);
    expect(m.size).toBe(0);
  });

  it('revokes one lease once, even when asked twice at the same time; an unknown id is already revoked', async () => {
    const { m, engine, issue, store } = await setup();
    const l = await issue('once');
    let open: () => void = () => {};
    engine.gate = new Promise((r) => (open = r));
    const both = Promise.all([m.revoke(l.id), m.revoke(l.id)]);
    // A renew while the revocation runs must not bring the lease back.
    await expect(m.renew(l.id, 60)).rejects.toThrow(/lease is being revoked/);
    open();
    await both;
    expect(engine.revoked).toEqual(['once']);
    await m.revoke(l.id);
    expect(m.size).toBe(0);

    // A revoke that arrives while the engine is renewing wins: the renew does not save the lease back.
    const raced = await issue('raced');
    engine.gate = new Promise((r) => (open = r));
    const renewing = m.renew(raced.id, 60);
    const revoking = m.revoke(raced.id);
    open();
    await expect(renewing).rejects.toThrow(/lease is being revoked/);
    await revoking;
    expect(m.size).toBe(0);
    expect((await LeaseManager.open({ store, mountByUuid: () => undefined, warn: () => {} })).size).toBe(0);
  });

  it('disabling a mount revokes all its leases; a failure keeps them, and force drops them', async () => {
    const { m, engine, entry, issue } = await setup();
    await issue('m1');
    await issue('m2');
    engine.failWith = 'connection refused';
    const err = await m.revokeMount(entry).catch((e: VaultError) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as VaultError).message).toMatch(/failed to revoke 2 of 2 leases .*connection refused/);
    expect(m.size).toBe(2);
    expect(await m.revokePrefix('database/creds/app', true)).toBe(2);
    expect(m.size).toBe(0);
    expect(engine.revoked).toEqual([]);
  });
});
