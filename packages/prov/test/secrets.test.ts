import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSecret } from '@stratumiops/svault/client/secret-ref';
import { type RunningServer, startServer } from '@stratumiops/svault/server/main';
import { configSchema } from '@stratumiops/svault/tool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeEc2, startFakeUpcloud, TOKEN } from '../src/testing/index.js';
import { prov, workspace } from './support/hosts.js';

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
  const upcloud = await fetch(`${srv.address}/v1/secret/data/upcloud`, {
    method: 'POST',
    headers: { 'X-Vault-Token': env.SVAULT_TOKEN ?? '' },
    body: JSON.stringify({ data: { token: TOKEN } }),
  });
  expect(upcloud.status).toBe(200);
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

/** A one-server workspace on `provider` whose credentials are a svault reference, with svault unreachable. */
function credentialsInSvault(provider: 'aws' | 'upcloud', endpoint: string) {
  const server =
    provider === 'aws'
      ? `{ name = "app-1", provider = 'aws, plan = "t3.small", spec = { cpu = 2, memory_gb = 2, disk_gb = 20, os = { family = 'ubuntu, version = "22.04" } } }`
      : `{ name = "web-1", provider = 'upcloud, plan = "1xCPU-1GB", spec = { cpu = 1, memory_gb = 1, disk_gb = 25, os = { family = 'ubuntu, version = "24.04" } } }`;
  const ws = workspace(
    `let Infrastructure = import "infrastructure.ncl" in
{
  provider = '${provider},
  region = "${provider === 'aws' ? 'eu-west-1' : 'fi-hel1'}",
  servers = [${server}],
} | Infrastructure
`,
    [],
  );
  writeFileSync(
    join(ws.cwd, '.prov', 'providers.json'),
    JSON.stringify({ [provider]: { credentials: `svault://secret/data/${provider}`, endpoint } }),
  );
  Object.assign(ws.env, { SVAULT_ADDR: 'http://127.0.0.1:9', SVAULT_TOKEN: 'none' });
  return ws;
}

/**
 * What every provider promises: a plan from recorded state needs no credentials, so it neither asks
 * svault nor fails; an apply reads them before it changes anything (svault's own error, nothing sent
 * to the cloud); with svault reachable the apply goes through. Returns that apply.
 */
async function readWhenNeeded(ws: ReturnType<typeof credentialsInSvault>, sent: () => unknown[], address: string) {
  const offline = await prov(ws, ['plan', '--no-refresh']);
  expect(offline.code, offline.stderr).toBe(0);
  expect(offline.stdout).toContain(address);
  expect(offline.stderr).not.toMatch(/warning/i);
  expect(sent()).toEqual([]);
  const refused = await prov(ws, ['apply', '-y']);
  expect(refused.code, refused.stderr).toBe(7);
  expect(refused.stderr).toMatch(/svault/i);
  expect(sent()).toEqual([]);

  Object.assign(ws.env, env);
  const applied = await prov(ws, ['apply', '-y']);
  expect(applied.code, applied.stderr).toBe(0);
  return applied;
}

describe('AWS keys kept in svault', () => {
  it('are read on the first AWS call: a plan from recorded state never asks svault; a refresh signs with them', async () => {
    const ec2 = await startFakeEc2();
    try {
      const ws = credentialsInSvault('aws', ec2.url);
      const applied = await readWhenNeeded(ws, () => ec2.requests, 'server.app-1');
      expect(applied.stderr).not.toMatch(/NodeVersionSupportWarning/);
      expect(ec2.accessKeys.length).toBeGreaterThan(0);
      expect(new Set(ec2.accessKeys)).toEqual(new Set(['AKIAEXAMPLE']));

      // A malformed reference is a configuration error at once, even for a plan from recorded state.
      for (const credentials of ['svault:/secret/data/aws', 'svault://secret', 'vault://secret/aws']) {
        writeFileSync(join(ws.cwd, '.prov', 'providers.json'), JSON.stringify({ aws: { credentials } }));
        const bad = await prov(ws, ['plan', '--no-refresh']);
        expect(bad.code, credentials).toBe(3);
        expect(bad.stderr).toContain('expected env or svault://<mount>/<path>');
      }
    } finally {
      await ec2.close();
    }
  }, 120_000);
});

describe('UpCloud credentials kept in svault', () => {
  it('are read when first needed: a plan from recorded state never asks svault; an apply reads them before any request', async () => {
    const api = await startFakeUpcloud();
    try {
      await readWhenNeeded(credentialsInSvault('upcloud', api.url), () => api.requests, 'server.web-1');
      expect(api.lastAuth).toBe(`Bearer ${TOKEN}`);
    } finally {
      await api.close();
    }
  }, 120_000);
});
