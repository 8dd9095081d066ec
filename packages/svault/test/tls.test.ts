import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { SvaultClient } from '../src/client/index.js';
import type { RunningServer } from '../src/server/main.js';
import { startTestServer, tempDir } from './helpers.js';
import { hasOpenssl, makeTestPki, spawnServer, type TestPki } from './proc.js';

const available = hasOpenssl();
if (!available && process.env.CI) throw new Error('openssl is required for the TLS tests (apt-get install openssl)');

interface Got {
  status: number;
  body: string;
}

/** One HTTPS request with the given trust and client certificate; rejects on a TLS failure. */
function tlsCall(
  base: string,
  path: string,
  opts: { ca?: string; cert?: string; key?: string; method?: string; token?: string } = {},
): Promise<Got> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method: opts.method ?? 'GET',
        path,
        agent: false,
        ...(opts.ca ? { ca: readFileSync(opts.ca) } : {}),
        ...(opts.cert ? { cert: readFileSync(opts.cert) } : {}),
        ...(opts.key ? { key: readFileSync(opts.key) } : {}),
        headers: opts.token ? { 'X-Vault-Token': opts.token } : {},
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!available)('TLS and mTLS from the configuration', () => {
  let pki: TestPki;
  const servers: RunningServer[] = [];
  beforeAll(() => {
    pki = makeTestPki(tempDir('svault-pki-'));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const start = async (server: Record<string, unknown>) => {
    const s = await startTestServer({ server });
    servers.push(s);
    return s;
  };

  it('serves HTTPS with tls_cert and tls_key; plain HTTP and untrusted clients get nothing', async () => {
    const s = await start({ tls_cert: pki.serverCert, tls_key: pki.serverKey });
    expect(s.address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(s.tls).toEqual({ enabled: true, clientCerts: 'not-requested' });
    const ok = await tlsCall(s.address, '/v1/sys/health', { ca: pki.ca });
    expect(ok.status).toBe(501); // not initialized: Vault's code
    // The LIST verb shim sits behind TLS too.
    const list = await tlsCall(s.address, '/v1/secret/metadata/', { ca: pki.ca, method: 'LIST' });
    expect(list.status).toBe(503);
    await expect(tlsCall(s.address, '/v1/sys/health')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    const plain = await new Promise<string>((resolve) => {
      const url = new URL(s.address);
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/v1/sys/health' }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      req.end();
    });
    expect(plain).not.toMatch(/^status 2/);

    // The typed client: init and unseal over TLS, trusting the test CA.
    const c = new SvaultClient({ addr: s.address, tls: { ca: readFileSync(pki.ca) } });
    const init = await c.init(1, 1);
    expect((await c.unseal(init.keys[0])).sealed).toBe(false);
  });

  it('requires a client certificate from client_ca with require_client_cert', async () => {
    const s = await start({
      tls_cert: pki.serverCert,
      tls_key: pki.serverKey,
      client_ca: pki.ca,
      require_client_cert: true,
    });
    expect(s.tls.clientCerts).toBe('required');
    const good = await tlsCall(s.address, '/v1/sys/health', { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    expect(good.status).toBe(501);
    await expect(tlsCall(s.address, '/v1/sys/health', { ca: pki.ca })).rejects.toThrow();
    await expect(
      tlsCall(s.address, '/v1/sys/health', { ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey }),
    ).rejects.toThrow();
  });

  it('checks a presented client certificate when client_ca is set without require_client_cert', async () => {
    const s = await start({ tls_cert: pki.serverCert, tls_key: pki.serverKey, client_ca: pki.ca });
    expect(s.tls.clientCerts).toBe('verified-if-presented');
    expect((await tlsCall(s.address, '/v1/sys/health', { ca: pki.ca })).status).toBe(501);
    const good = await tlsCall(s.address, '/v1/sys/health', { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    expect(good.status).toBe(501);
    await expect(
      tlsCall(s.address, '/v1/sys/health', { ca: pki.ca, cert: pki.rogueCert, key: pki.rogueKey }),
    ).rejects.toThrow();
  });

  it('the real CLI: the server says how it listens; the CLI connects with SVAULT_CACERT and a cert', async () => {
    const { cwd, env } = sandbox();
    const cfg = join(cwd, 'svault.toml');
    const storage = join(cwd, 'data');
    writeFileSync(
      cfg,
      [
        '[server]',
        'address = "127.0.0.1:0"',
        `tls_cert = "${pki.serverCert}"`,
        `tls_key = "${pki.serverKey}"`,
        `client_ca = "${pki.ca}"`,
        'require_client_cert = true',
        '[storage]',
        'backend = "filesystem"',
        '[storage.filesystem]',
        `path = "${storage}"`,
        '',
      ].join('\n'),
    );
    const srv = await spawnServer(['--config', cfg], { cwd, env });
    try {
      expect(srv.stderr()).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+ \(TLS; client certificates required\)/);
      expect(srv.info).toMatchObject({ tls: true, client_certificates: 'required' });
      const tlsEnv = { ...env, SVAULT_ADDR: srv.address, SVAULT_CACERT: pki.ca };
      const withCert = { ...tlsEnv, SVAULT_CLIENT_CERT: pki.clientCert, SVAULT_CLIENT_KEY: pki.clientKey };
      const st = await runBin('svault', ['operator', 'status', '--json'], { cwd, env: withCert });
      expect(st.code, st.stderr).toBe(5);
      expect(JSON.parse(st.stdout)).toMatchObject({ initialized: false });
      const noCert = await runBin('svault', ['operator', 'status'], { cwd, env: tlsEnv });
      expect(noCert.code).toBe(7);
    } finally {
      await srv.stop();
    }
    const plainCfg = join(cwd, 'plain.toml');
    writeFileSync(plainCfg, `[server]\naddress = "127.0.0.1:0"\n[storage.filesystem]\npath = "${storage}"\n`);
    const plain = await spawnServer(['--config', plainCfg], { cwd, env });
    try {
      expect(plain.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(plain HTTP: no tls_cert configured/);
      expect(plain.info).toMatchObject({ tls: false });
    } finally {
      await plain.stop();
    }
  });
});
