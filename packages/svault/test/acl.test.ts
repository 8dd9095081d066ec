import { describe, expect, it } from 'vitest';
import { ACL_ACTIONS, type AclPrincipal, PolicyStore, pathEntities } from '../src/core/acl.js';
import type { LogicalStore } from '../src/core/barrier.js';

function memoryStore(): LogicalStore {
  const m = new Map<string, Uint8Array>();
  return {
    get: async (k) => m.get(k),
    put: async (k, v) => {
      m.set(k, v);
    },
    delete: async (k) => {
      m.delete(k);
    },
    list: async () => [...m.keys()],
  };
}

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('Cedar policies: the scope-only fast path decides as Cedar does', () => {
  it('agrees with Cedar on random scope-only policies and requests', async () => {
    const ps = await PolicyStore.open(memoryStore());
    const rand = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const folders = ['secret/', 'secret/data/', 'secret/data/app/', 'secret/data/app/db/', 'sys/', 'sys/policies/acl/'];
    const paths = [
      'secret/data/app/db',
      'secret/data/app/db/x',
      'secret/data/app',
      'secret/data/app2/db',
      'secret/metadata/app/',
      'sys/policies/acl/p1',
      'sys/rotate',
      'auth/token/lookup-self',
    ];
    const resourceScope = () =>
      pick([
        'resource',
        `resource == Svault::Path::"${pick(paths)}"`,
        `resource in Svault::Path::"${pick(folders)}"`,
        `resource in Svault::Path::"${pick(paths)}"`,
        'resource == Svault::Token::"acc-1"',
      ]);
    const actionScope = () =>
      pick([
        'action',
        `action == Svault::Action::"${pick(ACL_ACTIONS)}"`,
        `action in [Svault::Action::"${pick(ACL_ACTIONS)}", Svault::Action::"${pick(ACL_ACTIONS)}"]`,
      ]);
    const principalScope = () =>
      pick([
        'principal',
        'principal',
        'principal == Svault::Token::"acc-1"',
        'principal in Svault::Policy::"p2"',
        'principal in Svault::Policy::"other"',
      ]);
    const principals: AclPrincipal[] = [
      { accessor: 'acc-1', displayName: 'token', policies: ['default', 'p1'], metadata: null },
      { accessor: 'acc-2', displayName: 'token', policies: ['p1', 'p2'], metadata: { team: 'x' } },
      { accessor: 'acc-3', displayName: 'token', policies: ['p2', 'p3'], metadata: null },
    ];
    let compared = 0;
    let allowed = 0;
    for (let round = 0; round < 8; round++) {
      for (const name of ['p1', 'p2', 'p3']) {
        const n = 1 + Math.floor(rand() * 3);
        const stmts = Array.from(
          { length: n },
          () => `${rand() < 0.75 ? 'permit' : 'forbid'} (${principalScope()}, ${actionScope()}, ${resourceScope()});`,
        );
        await ps.write(name, stmts.join('\n'));
      }
      for (const p of principals) {
        for (const path of [...paths, ...folders]) {
          for (const action of ACL_ACTIONS) {
            const r = { path, mount: '', mountType: '' };
            const fast = ps.isAllowed(p, action, r);
            const cedar = ps.isAllowed(p, action, r, '', { viaCedar: true });
            expect(fast, `${p.accessor} ${action} ${path}`).toBe(cedar);
            compared++;
            if (fast) allowed++;
          }
        }
      }
    }
    expect(compared).toBe(8 * 3 * 14 * ACL_ACTIONS.length);
    expect(allowed).toBeGreaterThan(100); // the random policies do allow things
    ps.close();
  });

  it('falls back to Cedar for policies with conditions', async () => {
    const ps = await PolicyStore.open(memoryStore());
    await ps.write(
      'cond',
      'permit (principal, action == Svault::Action::"read", resource) when { resource.path like "secret/data/*/db" };',
    );
    const p: AclPrincipal = { accessor: 'a', displayName: 'token', policies: ['cond'], metadata: null };
    const r = (path: string) => ({ path, mount: 'secret/', mountType: 'kv' });
    expect(ps.isAllowed(p, 'read', r('secret/data/app/db'))).toBe(true);
    expect(ps.isAllowed(p, 'read', r('secret/data/app/x'))).toBe(false);
    ps.close();
  });

  it('makes each path an entity in each of its folders', () => {
    const ids = (path: string) => pathEntities({ path, mount: 'secret/', mountType: 'kv' }).map((e) => e.uid);
    expect(ids('secret/data/a/b')).toEqual([
      { type: 'Svault::Path', id: 'secret/data/a/b' },
      { type: 'Svault::Path', id: 'secret/data/a/' },
      { type: 'Svault::Path', id: 'secret/data/' },
      { type: 'Svault::Path', id: 'secret/' },
    ]);
    expect(ids('secret/metadata/a/').map((u) => u.id)).toEqual(['secret/metadata/a/', 'secret/metadata/', 'secret/']);
  });
});
