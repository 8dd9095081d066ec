import { resolveSecret } from '@stratumiops/svault/client/secret-ref';
import { type RunningServer, startServer } from '@stratumiops/svault/server/main';
import { configSchema } from '@stratumiops/svault/tool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real svault dev server: prov reads provider credentials and sudo passwords through its client.
let srv: RunningServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const config = configSchema.parse({ server: { address: '127.0.0.1:0' } });
  srv = await startServer({ config, dev: true, tidyIntervalMs: 0 });
  env = { SVAULT_ADDR: srv.address, SVAULT_TOKEN: srv.dev?.rootToken };
  const res = await fetch(`${srv.address}/v1/secret/data/aws`, {
    method: 'POST',
    headers: { 'X-Vault-Token': env.SVAULT_TOKEN ?? '' },
    body: JSON.stringify({ data: { access_key: 'AKIAEXAMPLE', secret_key: 's3cr3t' } }),
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await srv?.close();
});

describe('secret references', () => {
  it('svault://mount/data/path#field reads a KV v2 field from a real svault; env:// reads a variable', async () => {
    expect(await resolveSecret('svault://secret/data/aws#access_key', env)).toBe('AKIAEXAMPLE');
    expect(await resolveSecret('svault://secret/aws#secret_key', env)).toBe('s3cr3t');
    expect(await resolveSecret('env://PROV_TEST_SECRET', { PROV_TEST_SECRET: 'x1' })).toBe('x1');
  });

  it('a missing field, a missing secret, a bad token and a malformed reference are clear errors', async () => {
    await expect(resolveSecret('svault://secret/data/aws#nope', env)).rejects.toThrow(/has no field nope/);
    await expect(resolveSecret('svault://secret/data/absent#k', env)).rejects.toMatchObject({ code: 'notFound' });
    await expect(
      resolveSecret('svault://secret/data/aws#access_key', { ...env, SVAULT_TOKEN: 'wrong' }),
    ).rejects.toThrow(/permission denied/);
    await expect(resolveSecret('svault:/secret#k', env)).rejects.toThrow(/not a secret reference/);
  });
});
