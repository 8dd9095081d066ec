import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificates, verifyChain } from '../src/core/engines/pki/verify.js';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer, tempDir } from './helpers.js';
import { file, openssl, PY_VERIFIER, run, skipOpenssl, skipPython } from './pki/tools.js';

let srv: RunningServer & { dir: string };
let root: string;
let dir: string;
const api = (method: string, path: string, body?: unknown) =>
  call(srv.address, method, `/v1/${path}`, { token: root, ...(body !== undefined ? { body } : {}) });
const hours = (n: number) => n * 3600;

beforeAll(async () => {
  srv = await startTestServer();
  root = (await initAndUnseal(srv.address)).root;
  dir = tempDir('svault-pki-');
  for (const path of ['pki', 'pki_int', 'pki_pq', 'pki_empty']) {
    expect((await api('POST', `sys/mounts/${path}`, { type: 'pki' })).status).toBe(204);
  }
});
afterAll(async () => {
  await srv?.close();
});

/** Serials stored on a mount (what a rejected request must leave unchanged). */
async function serials(mount: string): Promise<string[]> {
  const r = await api('GET', `${mount}/certs?list=true`);
  return r.status === 404 ? [] : (r.body.data.keys as string[]);
}

describe.skipIf(skipOpenssl)('PKI engine over HTTP', { timeout: 60_000 }, () => {
  let rootPem: string;

  it('generates a root CA and issues EC, RSA and Ed25519 leaves that `openssl verify` accepts', async () => {
    const gen = await api('POST', 'pki/root/generate/internal', {
      common_name: 'example.com',
      ttl: '87600h',
      key_type: 'ec',
    });
    expect(gen.status, gen.text).toBe(200);
    expect(gen.body.data).toMatchObject({
      key_type: 'ec',
      serial_number: expect.stringMatching(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/),
    });
    expect(gen.body.data.private_key).toBeUndefined();
    expect(gen.body.data.expiration - Date.now() / 1000).toBeGreaterThan(hours(87599));
    rootPem = gen.body.data.certificate;
    const rootFile = file(dir, 'root.pem', rootPem);
    expect(openssl('x509', '-in', rootFile, '-noout', '-ext', 'basicConstraints,keyUsage').out).toMatch(
      /CA:TRUE[\s\S]*Certificate Sign, CRL Sign/,
    );

    for (const keyType of ['ec', 'rsa', 'ed25519']) {
      const role = await api('POST', `pki/roles/web-${keyType}`, {
        allowed_domains: 'example.com',
        allow_subdomains: true,
        max_ttl: '72h',
        key_type: keyType,
      });
      expect(role.status, role.text).toBe(204);
      const issued = await api('POST', `pki/issue/web-${keyType}`, {
        common_name: 'api.example.com',
        alt_names: 'www.example.com',
        ip_sans: '127.0.0.1',
        ttl: '24h',
      });
      expect(issued.status, issued.text).toBe(200);
      const d = issued.body.data;
      expect(d.private_key_type).toBe(keyType);
      expect(d.issuing_ca).toBe(rootPem);
      expect(d.ca_chain).toEqual([rootPem]);
      expect(d.expiration - Date.now() / 1000).toBeGreaterThan(hours(23.9));
      const leaf = file(dir, `leaf-${keyType}.pem`, d.certificate);
      const key = file(dir, `leaf-${keyType}.key`, d.private_key);
      const verified = openssl('verify', '-CAfile', rootFile, leaf);
      expect(verified.out, verified.err).toContain(`${leaf}: OK`);
      const sans = openssl('x509', '-in', leaf, '-noout', '-ext', 'subjectAltName,extendedKeyUsage').out;
      expect(sans).toContain('DNS:api.example.com, DNS:www.example.com, IP Address:127.0.0.1');
      expect(sans).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
      // The private key is the certified one.
      expect(openssl('pkey', '-in', key, '-pubout').out).toBe(openssl('x509', '-in', leaf, '-noout', '-pubkey').out);
      // Stored by serial, listed, served as JSON.
      const stored = await api('GET', `pki/cert/${d.serial_number}`);
      expect(stored.body.data).toMatchObject({ certificate: d.certificate, revocation_time: 0 });
      expect(await serials('pki')).toContain(d.serial_number);
    }
    expect((await api('POST', 'pki/issue/web-rsa', { common_name: 'a.example.com' })).body.data.private_key).toMatch(
      /^-----BEGIN RSA PRIVATE KEY-----/,
    );
    const pkcs8 = await api('POST', 'pki/issue/web-ec', { common_name: 'a.example.com', private_key_format: 'pkcs8' });
    expect(pkcs8.body.data.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('roles: read back with defaults, listed, deleted; a bad role is refused and not written', async () => {
    const read = await api('GET', 'pki/roles/web-ec');
    expect(read.body.data).toMatchObject({
      allowed_domains: ['example.com'],
      allow_subdomains: true,
      allow_bare_domains: false,
      key_type: 'ec',
      key_bits: 256,
      max_ttl: hours(72),
      server_flag: true,
      client_flag: true,
    });
    expect((await api('GET', 'pki/roles?list=true')).body.data.keys).toEqual(['web-ec', 'web-ed25519', 'web-rsa']);
    for (const bad of [
      { key_type: 'dsa' },
      { key_type: 'rsa', key_bits: 1024 },
      { key_type: 'ec', key_bits: 255 },
      { ttl: '10h', max_ttl: '1h' },
      { key_usage: 'Teleport' },
    ]) {
      const r = await api('POST', 'pki/roles/broken', { allowed_domains: 'example.com', ...bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body.errors[0]).toMatch(/key_type|key_bits|max_ttl|key_usage/);
    }
    expect((await api('GET', 'pki/roles/broken')).status).toBe(404);
    expect((await api('POST', 'pki/roles/tmp', { allow_any_name: true })).status).toBe(204);
    expect((await api('DELETE', 'pki/roles/tmp')).status).toBe(204);
    expect((await api('GET', 'pki/roles/tmp')).status).toBe(404);
  });

  it('root → intermediate → leaf: the chain verifies with `openssl verify -untrusted`', async () => {
    const csr = await api('POST', 'pki_int/intermediate/generate/internal', {
      common_name: 'Example Issuing CA',
      key_type: 'ec',
      key_bits: 384,
    });
    expect(csr.status, csr.text).toBe(200);
    expect(csr.body.data.csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
    expect(csr.body.data.private_key).toBeUndefined();

    const signed = await api('POST', 'pki/root/sign-intermediate', { csr: csr.body.data.csr, ttl: '43800h' });
    expect(signed.status, signed.text).toBe(200);
    expect(signed.body.data.issuing_ca).toBe(rootPem);
    const intPem: string = signed.body.data.certificate;

    // The wrong certificate (the root's) does not match the pending key: refused, nothing installed.
    const wrong = await api('POST', 'pki_int/intermediate/set-signed', { certificate: rootPem });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0]).toMatch(/does not match/);
    expect(
      (await api('POST', 'pki_int/roles/svc', { allowed_domains: 'example.com', allow_subdomains: true })).status,
    ).toBe(204);
    expect((await api('POST', 'pki_int/issue/svc', { common_name: 'a.example.com' })).body.errors[0]).toMatch(/no CA/);

    // Issuers after it that did not sign it: refused too.
    const stranger = openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'stranger.key'),
      '-subj',
      '/CN=example.com',
    );
    const misfit = await api('POST', 'pki_int/intermediate/set-signed', { certificate: `${intPem}\n${stranger.out}` });
    expect(misfit.status).toBe(400);
    expect(misfit.body.errors[0]).toMatch(/issuers given after the certificate do not verify it/);

    const set = await api('POST', 'pki_int/intermediate/set-signed', { certificate: `${intPem}\n${rootPem}` });
    expect(set.status, set.text).toBe(200);
    const issued = await api('POST', 'pki_int/issue/svc', { common_name: 'svc.example.com', ttl: '1h' });
    expect(issued.status, issued.text).toBe(200);
    expect(issued.body.data.ca_chain).toEqual([intPem, rootPem]);
    const rootFile = file(dir, 'root.pem', rootPem);
    const intFile = file(dir, 'int.pem', intPem);
    const leaf = file(dir, 'svc.pem', issued.body.data.certificate);
    const ok = openssl('verify', '-CAfile', rootFile, '-untrusted', intFile, leaf);
    expect(ok.out, ok.err).toContain(`${leaf}: OK`);
    // Without the intermediate the chain is incomplete: openssl (and svault's verifier) refuse it.
    expect(openssl('verify', '-CAfile', rootFile, leaf).code).not.toBe(0);
    const own = await verifyChain(parseCertificates(issued.body.data.certificate), parseCertificates(rootPem));
    expect(own.valid).toBe(false);
    const full = await verifyChain(
      parseCertificates(`${issued.body.data.certificate}\n${intPem}`),
      parseCertificates(rootPem),
    );
    expect(full).toMatchObject({ valid: true });
    expect(full.chain.map((l) => l.subject)).toEqual(['CN=svc.example.com', 'CN=Example Issuing CA', 'CN=example.com']);
  });

  it('an issued leaf serves a real TLS handshake to a client that trusts the root', async () => {
    const issued = (await api('POST', 'pki_int/issue/svc', { common_name: 'tls.example.com' })).body.data;
    const server = createServer(
      { key: issued.private_key, cert: [issued.certificate, ...issued.ca_chain.slice(0, 1)].join('\n') },
      (s) => s.end('hello over tls\n'),
    );
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    const handshake = (servername: string) =>
      new Promise<{ authorized: boolean; text: string; error?: string }>((resolve) => {
        let text = '';
        const sock: TLSSocket = connect({ host: '127.0.0.1', port, servername, ca: rootPem }, () => {
          sock.on('data', (d) => {
            text += d;
          });
          sock.on('end', () => resolve({ authorized: sock.authorized, text }));
        });
        sock.on('error', (e) =>
          resolve({ authorized: false, text, error: (e as NodeJS.ErrnoException).code ?? e.message }),
        );
      });
    try {
      expect(await handshake('tls.example.com')).toEqual({ authorized: true, text: 'hello over tls\n' });
      const wrongName = await handshake('other.example.org');
      expect(wrongName.error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      server.close();
    }
  });

  it('revoke: the serial appears in a CRL that verifies against the CA, rebuilt on every revocation', async () => {
    const a = (await api('POST', 'pki/issue/web-ec', { common_name: 'a.example.com' })).body.data;
    const b = (await api('POST', 'pki/issue/web-ec', { common_name: 'b.example.com' })).body.data;
    const rootFile = file(dir, 'root.pem', rootPem);
    const crlText = async () => {
      const r = await api('GET', 'pki/cert/crl');
      expect(r.body.data.certificate).toMatch(/^-----BEGIN X509 CRL-----/);
      const parsed = openssl(
        'crl',
        '-in',
        file(dir, 'crl.pem', r.body.data.certificate),
        '-noout',
        '-text',
        '-CAfile',
        rootFile,
      );
      expect(parsed.err).toContain('verify OK');
      return parsed.out;
    };
    const hex = (serial: string) => serial.replaceAll(':', '').toUpperCase();
    const numberOf = (text: string) => Number(/CRL Number:\s*\n\s*(\d+)/.exec(text)?.[1]);
    const before = await crlText();
    expect(before).not.toContain(hex(a.serial_number));

    const revoked = await api('POST', 'pki/revoke', { serial_number: a.serial_number });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body.data).toMatchObject({ state: 'revoked', revocation_time: expect.any(Number) });
    const once = await crlText();
    expect(once).toContain(hex(a.serial_number));
    expect(numberOf(once)).toBe(numberOf(before) + 1);
    // Hyphenated serials work too; the CRL gains the second one.
    expect((await api('POST', 'pki/revoke', { serial_number: b.serial_number.replaceAll(':', '-') })).status).toBe(200);
    const twice = await crlText();
    expect(twice).toContain(hex(a.serial_number));
    expect(twice).toContain(hex(b.serial_number));
    expect(numberOf(twice)).toBe(numberOf(once) + 1);
    // Revoking again answers the first revocation time and leaves the CRL alone.
    const again = await api('POST', 'pki/revoke', { serial_number: a.serial_number });
    expect(again.body.data.revocation_time).toBe(revoked.body.data.revocation_time);
    expect(numberOf(await crlText())).toBe(numberOf(twice));
    const stored = await api('GET', `pki/cert/${a.serial_number}`);
    expect(stored.body.data.revocation_time).toBe(revoked.body.data.revocation_time);

    // openssl, checking the CRL, now refuses the revoked leaf.
    const leaf = file(dir, 'revoked.pem', a.certificate);
    const crl = file(dir, 'crl.pem', (await api('GET', 'pki/cert/crl')).body.data.certificate);
    const check = openssl('verify', '-crl_check', '-CAfile', rootFile, '-CRLfile', crl, leaf);
    expect(check.code).not.toBe(0);
    expect(check.out + check.err).toMatch(/certificate revoked/);

    const caSerial = (await api('GET', 'pki/cert/ca')).body.data.certificate;
    const caHex = openssl('x509', '-in', file(dir, 'ca-check.pem', caSerial), '-noout', '-serial')
      .out.trim()
      .split('=')[1];
    const rejects: Array<[unknown, RegExp]> = [
      [caHex, /adding CA to CRL is not allowed/],
      ['11:22:33', /certificate with serial 11:22:33 not found/],
      ['zz:top', /is not a serial number/],
      [undefined, /"serial_number" field is required/],
    ];
    for (const [serial, message] of rejects) {
      const r = await api('POST', 'pki/revoke', serial === undefined ? {} : { serial_number: serial });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    expect(numberOf(await crlText())).toBe(numberOf(twice));
  });

  it('signs a CSR whose names the role allows, and refuses one for a forbidden domain', async () => {
    const csrFor = (name: string, keyArgs: string[]) => {
      const key = join(dir, `${name}.key`);
      const r = openssl(
        'req',
        '-new',
        ...keyArgs,
        '-nodes',
        '-keyout',
        key,
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=DNS:${name}`,
      );
      expect(r.code, r.err).toBe(0);
      return r.out;
    };
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    const good = await api('POST', 'pki/sign/web-ec', { csr: csrFor('svc.example.com', ecKey), ttl: '2h' });
    expect(good.status, good.text).toBe(200);
    expect(good.body.data.private_key).toBeUndefined();
    const leaf = file(dir, 'signed.pem', good.body.data.certificate);
    expect(openssl('verify', '-CAfile', file(dir, 'root.pem', rootPem), leaf).out).toContain('OK');
    expect(openssl('x509', '-in', leaf, '-noout', '-subject').out).toContain('CN = svc.example.com');

    const before = await serials('pki');
    const cases: Array<[string, RegExp]> = [
      [csrFor('evil.org', ecKey), /common name evil.org not allowed by this role/],
      [csrFor('rsa.example.com', ['-newkey', 'rsa:2048']), /role requires keys of type ec/],
      ['-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----', /could not be parsed/],
      ['garbage', /could not be parsed/],
    ];
    for (const [csr, message] of cases) {
      const r = await api('POST', 'pki/sign/web-ec', { csr });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    expect(await serials('pki')).toEqual(before);
  });

  it('bad issue requests get clear errors and write nothing; a TTL above max_ttl is clamped with a warning', async () => {
    const before = await serials('pki');
    const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
      ['pki', 'web-ec', { common_name: 'api.evil.org' }, /common name api.evil.org not allowed by this role/],
      ['pki', 'web-ec', { common_name: 'example.com' }, /common name example.com not allowed/], // bare domain not allowed
      [
        'pki',
        'web-ec',
        { common_name: 'a.example.com', alt_names: 'b.evil.org' },
        /subject alternate name b.evil.org not allowed/,
      ],
      ['pki', 'web-ec', { common_name: 'a.example.com', ip_sans: 'not-an-ip' }, /not a valid IP address/],
      ['pki', 'web-ec', { common_name: "x'; DROP TABLE certs;--.example.com" }, /not allowed by this role/],
      ['pki', 'web-ec', {}, /common_name field is required/],
      ['pki', 'web-ec', { common_name: 'a.example.com', format: 'xml' }, /unknown format "xml"/],
      ['pki', 'nope', { common_name: 'a.example.com' }, /unknown role: nope/],
      ['pki_empty', 'web', { common_name: 'a.example.com' }, /unknown role: web/],
    ];
    for (const [mount, role, body, message] of cases) {
      const r = await api('POST', `${mount}/issue/${role}`, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    expect(await serials('pki')).toEqual(before);

    // Issuing before the mount has a CA.
    expect((await api('POST', 'pki_empty/roles/web', { allow_any_name: true })).status).toBe(204);
    const noCa = await api('POST', 'pki_empty/issue/web', { common_name: 'a.example.com' });
    expect(noCa.status).toBe(400);
    expect(noCa.body.errors[0]).toMatch(/no CA is configured on this mount/);
    expect(await serials('pki_empty')).toEqual([]);

    const long = await api('POST', 'pki/issue/web-ec', { common_name: 'long.example.com', ttl: '1000h' });
    expect(long.status).toBe(200);
    expect(long.body.warnings[0]).toMatch(/maxTTL/);
    const left = long.body.data.expiration - Date.now() / 1000;
    expect(left).toBeGreaterThan(hours(71.9));
    expect(left).toBeLessThanOrEqual(hours(72));
  });

  it('a second root on the same mount is another issuer, not the default; exported returns the key once; the key is never stored in clear', async () => {
    const again = await api('POST', 'pki/root/generate/internal', { common_name: 'other' });
    expect(again.status).toBe(200);
    expect(again.body.data.issuer_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await api('GET', 'pki/cert/ca')).body.data.certificate).toBe(rootPem);
    expect((await api('DELETE', `pki/issuer/${again.body.data.issuer_id}`)).status).toBe(204);

    expect((await api('POST', 'sys/mounts/pki_exp', { type: 'pki' })).status).toBe(204);
    const gen = await api('POST', 'pki_exp/root/generate/exported', {
      common_name: 'Exported Root',
      key_type: 'ec',
      ttl: '1h',
    });
    expect(gen.status, gen.text).toBe(200);
    expect(gen.body.data.private_key_type).toBe('ec');
    const key = file(dir, 'exp.key', gen.body.data.private_key);
    const cert = file(dir, 'exp.pem', gen.body.data.certificate);
    expect(openssl('pkey', '-in', key, '-pubout').out).toBe(openssl('x509', '-in', cert, '-noout', '-pubkey').out);
    const der = openssl('pkey', '-in', key, '-outform', 'DER', '-out', join(dir, 'exp.der'));
    expect(der.code).toBe(0);
    const keyBytes = readFileSync(join(dir, 'exp.der'));
    const secret = keyBytes.subarray(7, 39); // the 32-byte private scalar inside the SEC 1 structure
    for (const f of walk(srv.dir)) expect(readFileSync(f).includes(secret), f).toBe(false);
    for (const p of ['pki_exp/cert/ca', 'pki_exp/cert/ca_chain']) {
      expect((await api('GET', p)).text).not.toMatch(/PRIVATE KEY/);
    }

    // A leaf never outlives its CA: the one-hour root cuts a 24h request short, with a warning.
    expect((await api('POST', 'pki_exp/roles/r', { allow_any_name: true, key_type: 'ec' })).status).toBe(204);
    const short = await api('POST', 'pki_exp/issue/r', { common_name: 'x.example.com', ttl: '24h' });
    expect(short.status, short.text).toBe(200);
    expect(short.body.data.expiration).toBe(gen.body.data.expiration);
    expect(short.body.warnings.join()).toMatch(/ends with the CA/);

    expect((await api('DELETE', 'pki_exp/root')).status).toBe(204);
    expect((await api('POST', 'pki_exp/issue/r', { common_name: 'x.example.com' })).body.errors[0]).toMatch(/no CA/);
  });
});

describe.skipIf(skipOpenssl)('ML-DSA-65 certificates (RFC 9881 OIDs)', { timeout: 60_000 }, () => {
  it('a root and a leaf verify with svault and with python cryptography, and fail once a signature byte flips', async () => {
    const gen = await api('POST', 'pki_pq/root/generate/internal', {
      common_name: 'PQ Root',
      key_type: 'ml-dsa-65',
      ttl: '8760h',
    });
    expect(gen.status, gen.text).toBe(200);
    const rootPem: string = gen.body.data.certificate;
    expect(
      (
        await api('POST', 'pki_pq/roles/pq', {
          allowed_domains: 'example.com',
          allow_subdomains: true,
          key_type: 'ml-dsa-65',
        })
      ).status,
    ).toBe(204);
    const issued = await api('POST', 'pki_pq/issue/pq', { common_name: 'pq.example.com', ttl: '1h' });
    expect(issued.status, issued.text).toBe(200);
    const leafPem: string = issued.body.data.certificate;
    expect(issued.body.data.private_key_type).toBe('ml-dsa-65');
    expect(issued.body.data.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const own = await verifyChain(parseCertificates(leafPem), parseCertificates(rootPem));
    expect(own).toMatchObject({ valid: true });
    expect(own.chain.map((l) => l.signature_algorithm)).toEqual(['ML-DSA-65', 'ML-DSA-65']);

    const tampered = flipSignatureByte(leafPem);
    const bad = await verifyChain(parseCertificates(tampered), parseCertificates(rootPem));
    expect(bad).toMatchObject({ valid: false, reason: expect.stringMatching(/signature does not verify/) });

    if (!skipPython) {
      const rootFile = file(dir, 'pq-root.pem', rootPem);
      const py = run('python3', [
        PY_VERIFIER,
        rootFile,
        file(dir, 'pq-leaf.pem', leafPem),
        file(dir, 'pq-leaf.key', issued.body.data.private_key),
      ]);
      expect(py.out.trim(), py.err).toBe('OK');
      const pyBad = run('python3', [PY_VERIFIER, rootFile, file(dir, 'pq-bad.pem', tampered)]);
      expect(pyBad.code).toBe(1);
      expect(pyBad.out).toMatch(/does not verify/);
    }

    // The CRL of an ML-DSA CA is signed with ML-DSA-65 too.
    expect((await api('POST', 'pki_pq/revoke', { serial_number: issued.body.data.serial_number })).status).toBe(200);
    const crl = (await api('GET', 'pki_pq/cert/crl')).body.data.certificate as string;
    expect(crl).toMatch(/^-----BEGIN X509 CRL-----/);
  });

  it('mixing ML-DSA-65 and classical keys between a CA and a role is a clear error', async () => {
    expect((await api('POST', 'pki_pq/roles/classic', { allow_any_name: true, key_type: 'ec' })).status).toBe(204);
    const classicOnPq = await api('POST', 'pki_pq/issue/classic', { common_name: 'a.example.com' });
    expect(classicOnPq.status).toBe(400);
    expect(classicOnPq.body.errors[0]).toMatch(/CA is ML-DSA-65/);
    expect((await api('POST', 'pki/roles/pq', { allow_any_name: true, key_type: 'ml-dsa-65' })).status).toBe(204);
    const pqOnClassic = await api('POST', 'pki/issue/pq', { common_name: 'a.example.com' });
    expect(pqOnClassic.status).toBe(400);
    expect(pqOnClassic.body.errors[0]).toMatch(/needs an ML-DSA-65 CA/);
  });
});

/** The certificate with the last byte of its signature (the end of the DER) changed. */
function flipSignatureByte(pem: string): string {
  const [cert] = parseCertificates(pem);
  const der = Buffer.from((cert as { rawData: ArrayBuffer }).rawData);
  der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

function* walk(d: string): Generator<string> {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}
