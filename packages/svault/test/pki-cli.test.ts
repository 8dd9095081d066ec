import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import type { RunningServer } from '../src/server/main.js';
import { initAndUnseal, startTestServer } from './helpers.js';
import { openssl, skipOpenssl } from './pki/tools.js';

let srv: RunningServer;
let env: NodeJS.ProcessEnv;
let cwd: string;
const sv = (...args: string[]) => runBin('svault', args, { cwd, env, timeoutMs: 60_000 });
const at = (name: string) => join(cwd, name);

beforeAll(async () => {
  srv = await startTestServer();
  ({ cwd, env } = sandbox());
  env.SVAULT_ADDR = srv.address;
  env.SVAULT_TOKEN = (await initAndUnseal(srv.address)).root;
});
afterAll(async () => {
  await srv?.close();
});

/** The same PEM with one byte of the signature (the DER's last byte) changed. */
function flipLastByte(pem: string): string {
  const b64 = pem.replace(/-----[A-Z ]+-----|\s/g, '');
  const der = Buffer.from(b64, 'base64');
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

describe.skipIf(skipOpenssl)('svault pki commands against a server', { timeout: 180_000 }, () => {
  it('root generate, role write, issue to files (key 0600), verify, revoke, CRL — as the issue writes them', async () => {
    expect((await sv('secrets', 'enable', 'pki')).code).toBe(0);
    const none = await sv('pki', 'ca');
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/no CA on pki\//);

    const gen = await sv('pki', 'root', 'generate', 'common_name=example.com', 'ttl=87600h', 'key_type=ec', '--json');
    expect(gen.code, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout).data.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const role = await sv(
      'pki',
      'role',
      'write',
      'web',
      'allowed_domains=example.com',
      'allow_subdomains=true',
      'max_ttl=72h',
      'key_type=ec',
    );
    expect(role.code, role.stderr).toBe(0);
    expect(JSON.parse((await sv('pki', 'role', 'read', 'web', '--json')).stdout).data).toMatchObject({
      allowed_domains: ['example.com'],
      allow_subdomains: true,
      max_ttl: 259200,
    });
    expect(JSON.parse((await sv('pki', 'role', 'list', '--json')).stdout)).toEqual({ keys: ['web'] });

    const printed = await sv('pki', 'issue', 'web', 'common_name=api.example.com');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN EC PRIVATE KEY-----/);
    expect(printed.stderr).toMatch(/Issued serial ([0-9a-f]{2}:){19}[0-9a-f]{2}, expires/);

    const toFiles = await sv(
      'pki',
      'issue',
      'web',
      'common_name=api.example.com',
      'ttl=1h',
      '--cert-file',
      at('api.pem'),
      '--key-file',
      at('api-key.pem'),
      '--chain-file',
      at('ca.pem'),
      '--json',
    );
    expect(toFiles.code, toFiles.stderr).toBe(0);
    const issued = JSON.parse(toFiles.stdout).data;
    expect(statSync(at('api-key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(at('api.pem'), 'utf8').trim()).toBe(issued.certificate);
    expect(readFileSync(at('ca.pem'), 'utf8')).toBe((await sv('pki', 'ca')).stdout);
    expect(openssl('verify', '-CAfile', at('ca.pem'), at('api.pem')).out).toContain('OK');
    expect(openssl('pkey', '-in', at('api-key.pem'), '-pubout').out).toBe(
      openssl('x509', '-in', at('api.pem'), '-noout', '-pubkey').out,
    );

    const verified = await sv('pki', 'verify', at('api.pem'), '--ca', at('ca.pem'));
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: CN=api.example.com \(ECDSA\) <- CN=example.com \(ECDSA\)/);
    expect((await sv('pki', 'verify', at('api.pem'))).code).toBe(0); // trusts the vault's own CA chain
    writeFileSync(at('tampered.pem'), flipLastByte(issued.certificate));
    const tampered = await sv('pki', 'verify', at('tampered.pem'), '--ca', at('ca.pem'));
    expect(tampered.code).toBe(3);
    expect(tampered.stderr).toMatch(/signature does not verify/);

    const revoked = await sv('pki', 'revoke', issued.serial_number);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${issued.serial_number} at `);
    const crl = await sv('pki', 'crl');
    writeFileSync(at('crl.pem'), crl.stdout);
    const crlText = openssl('crl', '-in', at('crl.pem'), '-noout', '-text', '-CAfile', at('ca.pem'));
    expect(crlText.err).toContain('verify OK');
    expect(crlText.out).toContain(issued.serial_number.replaceAll(':', '').toUpperCase());
    expect((await sv('pki', 'crl', '--rotate')).code).toBe(0);
  });

  it('refused requests: exit 3 with the reason, no file written', async () => {
    const evil = await sv(
      'pki',
      'issue',
      'web',
      'common_name=evil.org',
      '--cert-file',
      at('evil.pem'),
      '--key-file',
      at('evil-key.pem'),
    );
    expect(evil.code).toBe(3);
    expect(evil.stderr).toMatch(/common name evil.org not allowed by this role/);
    expect(existsSync(at('evil.pem')) || existsSync(at('evil-key.pem'))).toBe(false);
    const unknown = await sv('pki', 'issue', 'nope', 'common_name=a.example.com');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/unknown role: nope/);
    expect((await sv('pki', 'revoke', '11:22:33')).stderr).toMatch(/not found/);
    expect((await sv('pki', 'role', 'write', 'web')).code).toBe(2);
    expect((await sv('pki', 'sign', 'web', at('missing.csr'))).code).toBe(2);
    const garbage = at('garbage.csr');
    writeFileSync(garbage, 'not a csr\n');
    const bad = await sv('pki', 'sign', 'web', garbage);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/certificate request could not be parsed/);
  });

  it('sign a CSR; an intermediate CA through generate, sign-intermediate and set-signed', async () => {
    const req = openssl(
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      at('svc.key'),
      '-subj',
      '/CN=svc.example.com',
    );
    writeFileSync(at('svc.csr'), req.out);
    const signed = await sv('pki', 'sign', 'web', at('svc.csr'), 'ttl=2h', '--cert-file', at('svc.pem'));
    expect(signed.code, signed.stderr).toBe(0);
    expect(openssl('verify', '-CAfile', at('ca.pem'), at('svc.pem')).out).toContain('OK');

    expect((await sv('secrets', 'enable', '--path', 'pki_int', 'pki')).code).toBe(0);
    const csr = await sv('pki', 'intermediate', 'generate', 'common_name=Example Issuing CA', 'key_type=ec');
    expect(csr.code, csr.stderr).toBe(0);
    writeFileSync(at('int.csr'), csr.stdout);
    const bundle = await sv('pki', 'root', 'sign-intermediate', at('int.csr'), 'ttl=43800h');
    expect(bundle.code, bundle.stderr).toBe(0);
    writeFileSync(at('int.pem'), bundle.stdout);
    const set = await sv('pki', 'intermediate', 'set-signed', at('int.pem'));
    expect(set.code, set.stderr).toBe(0);
    await sv(
      'pki',
      'role',
      'write',
      'svc',
      'allowed_domains=example.com',
      'allow_subdomains=true',
      'key_type=rsa',
      '--mount',
      'pki_int',
    );
    const leaf = await sv(
      'pki',
      'issue',
      'svc',
      'common_name=x.example.com',
      '--mount',
      'pki_int',
      '--cert-file',
      at('x.pem'),
      '--chain-file',
      at('x-chain.pem'),
      '--key-file',
      at('x-key.pem'),
    );
    expect(leaf.code, leaf.stderr).toBe(0);
    const intOnly = openssl('x509', '-in', at('int.pem')).out; // the first certificate of the bundle
    writeFileSync(at('int-only.pem'), intOnly);
    expect(openssl('verify', '-CAfile', at('ca.pem'), '-untrusted', at('int-only.pem'), at('x.pem')).out).toContain(
      'OK',
    );
    writeFileSync(at('x-bundle.pem'), readFileSync(at('x.pem'), 'utf8') + readFileSync(at('x-chain.pem'), 'utf8'));
    const chain = await sv('pki', 'verify', at('x-bundle.pem'), '--ca', at('ca.pem'), '--json');
    expect(chain.code, chain.stderr).toBe(0);
    expect(JSON.parse(chain.stdout).chain.map((l: { subject: string }) => l.subject)).toEqual([
      'CN=x.example.com',
      'CN=Example Issuing CA',
      'CN=example.com',
    ]);
    // Without the intermediate, the leaf does not chain to the root.
    const broken = await sv('pki', 'verify', at('x.pem'), '--ca', at('ca.pem'));
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/issuer "CN=Example Issuing CA" is not among the CA certificates/);
  });

  it('ML-DSA-65: a post-quantum root and leaf, verified by `svault pki verify`, refused once tampered', async () => {
    expect((await sv('secrets', 'enable', '--path', 'pki_pq', 'pki')).code).toBe(0);
    const gen = await sv(
      'pki',
      'root',
      'generate',
      'common_name=PQ Root',
      'key_type=ml-dsa-65',
      'ttl=8760h',
      '--mount',
      'pki_pq',
      '--json',
    );
    expect(gen.code, gen.stderr).toBe(0);
    writeFileSync(at('pq-root.pem'), JSON.parse(gen.stdout).data.certificate);
    await sv(
      'pki',
      'role',
      'write',
      'pq',
      'allowed_domains=example.com',
      'allow_subdomains=true',
      'key_type=ml-dsa-65',
      '--mount',
      'pki_pq',
    );
    const issued = await sv(
      'pki',
      'issue',
      'pq',
      'common_name=pq.example.com',
      '--mount',
      'pki_pq',
      '--cert-file',
      at('pq.pem'),
      '--key-file',
      at('pq-key.pem'),
    );
    expect(issued.code, issued.stderr).toBe(0);
    const ok = await sv('pki', 'verify', at('pq.pem'), '--ca', at('pq-root.pem'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('OK: CN=pq.example.com (ML-DSA-65) <- CN=PQ Root (ML-DSA-65)');
    writeFileSync(at('pq-bad.pem'), flipLastByte(readFileSync(at('pq.pem'), 'utf8')));
    const bad = await sv('pki', 'verify', at('pq-bad.pem'), '--ca', at('pq-root.pem'));
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/signature does not verify/);
    // An ML-DSA leaf does not verify against the classical root.
    expect((await sv('pki', 'verify', at('pq.pem'), '--ca', at('ca.pem'))).code).toBe(3);
  });
});
