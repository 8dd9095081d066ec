import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

/** Path help and field checks, both from the paths' declarations (Vault's framework.Path). */
let srv: RunningServer & { dir: string };
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer({
    engines: {
      kv: { path: 'secret', version: 2, description: '' },
      pki: { path: 'pki', max_lease_ttl: '87600h', description: '' },
    },
  });
  base = srv.address;
  ({ root } = await initAndUnseal(base));
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown, token: string | undefined = root) =>
  call(base, method, `/v1/${path}`, { ...(token ? { token } : {}), ...(body === undefined ? {} : { body }) });

describe('path help', () => {
  it('GET <path>?help=1 renders the summary, operations and fields with their meanings', async () => {
    const r = await api('GET', 'pki/roles/web?help=1');
    expect(r.status, r.text).toBe(200);
    const help = r.body.help as string;
    expect(help).toContain('Create, read, update or delete a role');
    expect(help).toContain('## OPERATIONS');
    expect(help).toMatch(/read, create, update, patch, delete/);
    expect(help).toContain('    allowed_domains (list of strings)');
    expect(help).toContain('Domains certificates may be issued for');
    expect(help).toContain('    max_ttl (duration)');
    const kv = (await api('GET', 'secret/data/myapp?help=1')).body.help as string;
    expect(kv).toContain('    options (object)');
    expect(kv).toContain('"cas": N');
  });

  it('needs a valid token, and names no path that does not exist', async () => {
    expect((await api('GET', 'pki/roles/web?help=1', undefined, '')).status).toBe(403);
    expect((await api('GET', 'pki/roles/web?help=1', undefined, 'hvs.nope')).status).toBe(403);
    const none = await api('GET', 'pki/no/such/thing?help=1');
    expect(none.status).toBe(404);
    expect((await api('GET', 'nomount/x?help=1')).status).toBe(404);
    expect((await api('GET', 'pki/roles/web?help=maybe')).status).toBe(400);
  });

  it('checks the fields a write sends: a wrong type is refused, an undeclared one ignored with a warning', async () => {
    const bad = await api('POST', 'pki/roles/web', { allowed_domains: 'example.com', max_ttl: 'forever' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toBe('error converting input for field "max_ttl": invalid duration "forever"');
    expect((await api('GET', 'pki/roles/web')).status).toBe(404); // nothing written
    const extra = await api('POST', 'pki/roles/web', { allowed_domains: 'example.com', alowed_domain: 'typo.com' });
    expect(extra.status).toBe(200);
    expect(extra.body.warnings).toEqual(['Endpoint ignored these unrecognized parameters: [alowed_domain]']);
    expect((await api('GET', 'pki/roles/web')).body.data.allowed_domains).toEqual(['example.com']);
    // A path that takes any fields (KV v1, cubbyhole) warns about none.
    const hole = await api('POST', 'cubbyhole/note', { anything: 'goes' });
    expect(hole.status).toBe(204);
  });

  it('svault path-help prints it; svault write shows the warning', { timeout: 60_000 }, async () => {
    const { cwd, env } = sandbox();
    const sv = (args: string[]) =>
      runBin('svault', args, { cwd, env: { ...env, SVAULT_ADDR: base, SVAULT_TOKEN: root } });
    const h = await sv(['path-help', 'pki/roles/web']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain('allowed_domains (list of strings)');
    const w = await sv(['write', 'pki/roles/api', 'allowed_domains=example.com', 'colour=blue']);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toContain('Endpoint ignored these unrecognized parameters: [colour]');
    const bad = await sv(['path-help', 'pki/nothing/here']);
    expect(bad.code).not.toBe(0);
  });
});
