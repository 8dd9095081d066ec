import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';
import { file, openssl, skipOpenssl } from './pki/tools.js';

/** GET without a token, as `curl .../v1/pki/crl` does: status, content type and the raw bytes. */
function fetchRaw(base: string, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  const url = new URL(`/v1/${path}`, base);
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          body: Buffer.concat(chunks),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

let srv: RunningServer;
let root: string;
const api = (method: string, path: string, body?: unknown) =>
  call(srv.address, method, `/v1/${path}`, { token: root, ...(body !== undefined ? { body } : {}) });

beforeAll(async () => {
  srv = await startTestServer();
  root = (await initAndUnseal(srv.address)).root;
  expect((await api('POST', 'sys/mounts/pki', { type: 'pki' })).status).toBe(204);
});
afterAll(async () => {
  await srv?.close();
});

describe.skipIf(skipOpenssl)("PKI's public paths: ca, ca/pem, ca_chain, crl, crl/pem, cert/<serial>", () => {
  it('answer without a token, in the raw formats Vault serves; the rest still needs one', async () => {
    expect((await fetchRaw(srv.address, 'pki/ca/pem')).status).toBe(204); // no CA yet: empty, as Vault
    const gen = await api('POST', 'pki/root/generate/internal', { common_name: 'example.com', key_type: 'ec' });
    const rootPem: string = gen.body.data.certificate;
    await api('POST', 'pki/roles/web', { allowed_domains: 'example.com', allow_subdomains: true, key_type: 'ec' });
    const leaf = (await api('POST', 'pki/issue/web', { common_name: 'api.example.com' })).body.data;
    await api('POST', 'pki/revoke', { serial_number: leaf.serial_number });
    const dir = tempDir('svault-pki-fetch-');

    const pem = await fetchRaw(srv.address, 'pki/ca/pem');
    expect(pem).toMatchObject({ status: 200, type: 'application/pem-certificate-chain' });
    expect(pem.body.toString()).toBe(rootPem);
    const der = await fetchRaw(srv.address, 'pki/ca');
    expect(der.type).toBe('application/pkix-cert');
    const derFile = `${dir}/ca.der`;
    writeFileSync(derFile, der.body);
    expect(openssl('x509', '-inform', 'DER', '-in', derFile, '-outform', 'PEM').out.trim()).toBe(rootPem);
    expect((await fetchRaw(srv.address, 'pki/ca_chain')).body.toString()).toBe(rootPem);

    const crl = await fetchRaw(srv.address, 'pki/crl');
    expect(crl.type).toBe('application/pkix-crl');
    const crlFile = `${dir}/crl.der`;
    writeFileSync(crlFile, crl.body);
    const text = openssl(
      'crl',
      '-inform',
      'DER',
      '-in',
      crlFile,
      '-noout',
      '-text',
      '-CAfile',
      file(dir, 'ca.pem', rootPem),
    );
    expect(text.err).toContain('verify OK');
    expect(text.out).toContain(leaf.serial_number.replaceAll(':', '').toUpperCase());
    const crlPem = await fetchRaw(srv.address, 'pki/crl/pem');
    expect(crlPem.type).toBe('application/x-pem-file');
    expect(crlPem.body.toString()).toMatch(/^-----BEGIN X509 CRL-----/);

    const cert = await call(srv.address, 'GET', `/v1/pki/cert/${leaf.serial_number}`);
    expect(cert.status).toBe(200);
    expect(cert.body.data.certificate).toBe(leaf.certificate);
    expect(cert.body.data.revocation_time).toBeGreaterThan(0);
    const rawPem = await fetchRaw(srv.address, `pki/cert/${leaf.serial_number}/raw/pem`);
    expect(rawPem.body.toString()).toBe(leaf.certificate);

    // Issuing, roles and revocation still need a token.
    for (const [method, path] of [
      ['POST', 'pki/issue/web'],
      ['GET', 'pki/roles/web'],
      ['POST', 'pki/revoke'],
      ['GET', 'pki/certs?list=true'],
    ] as const) {
      expect((await call(srv.address, method, `/v1/${path}`, { body: {} })).status, path).toBe(403);
    }
  });
});
