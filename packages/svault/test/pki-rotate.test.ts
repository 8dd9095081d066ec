import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server/main.js';
import { call, initAndUnseal, startTestServer } from './helpers.js';

let srv: RunningServer & { dir: string };
let base: string;
let root: string;
beforeAll(async () => {
  srv = await startTestServer({ engines: { pki: { path: 'pki', max_lease_ttl: '87600h', description: '' } } });
  base = srv.address;
  ({ root } = await initAndUnseal(base));
  const gen = await api('POST', 'pki/root/generate/internal', {
    common_name: 'Root A',
    issuer_name: 'root-a',
    key_type: 'ec',
  });
  expect(gen.status, gen.text).toBe(200);
  const role = await api('POST', 'pki/roles/web', {
    allowed_domains: 'example.com',
    allow_subdomains: true,
    max_ttl: '72h',
    key_type: 'ec',
  });
  expect(role.status, role.text).toBe(204);
});
afterAll(async () => {
  await srv.close();
});

const api = (method: string, path: string, body?: unknown) =>
  call(base, method, `/v1/${path}`, { token: root, ...(body === undefined ? {} : { body }) });
const issue = async (path: string, cn: string) => {
  const r = await api('POST', path, { common_name: cn, ttl: '1h' });
  expect(r.status, r.text).toBe(200);
  return r.body.data as { certificate: string; serial_number: string; issuing_ca: string };
};
const hex = (s: string) => s.replaceAll(':', '').toLowerCase();
/** The serials an issuer's CRL lists, fetched without a token as a relying party does, DER and PEM agreeing. */
const crlOf = async (ref: string, signedBy: string) => {
  const der = await call(base, 'GET', `/v1/pki/issuer/${ref}/crl/der`);
  expect(der.status).toBe(200);
  expect(der.headers['content-type']).toBe('application/pkix-crl');
  const pem = await call(base, 'GET', `/v1/pki/issuer/${ref}/crl/pem`);
  expect(pem.status).toBe(200);
  const json = await call(base, 'GET', `/v1/pki/issuer/${ref}/crl`);
  expect(json.body.data.crl.trim()).toBe(pem.text.trim());
  const crl = new x509.X509Crl(pem.text);
  expect(await crl.verify({ publicKey: new x509.X509Certificate(signedBy).publicKey })).toBe(true);
  return crl.entries.map((e) => e.serialNumber.toLowerCase());
};
const verifies = async (cert: string, by: string) =>
  new x509.X509Certificate(cert).verify({ publicKey: new x509.X509Certificate(by).publicKey, signatureOnly: true });

describe('pki root rotation, per-issuer CRLs, roles bound to an issuer', () => {
  it('rotates the root: the new issuer is "next", the old one keeps verifying and revoking what it issued', {
    timeout: 60_000,
  }, async () => {
    const rootA = (await api('GET', 'pki/issuer/root-a')).body.data.certificate as string;
    const oldCert = await issue('pki/issue/web', 'old.example.com');
    expect(await verifies(oldCert.certificate, rootA)).toBe(true);

    const rot = await api('POST', 'pki/root/rotate/internal', { common_name: 'Root B', key_type: 'ec' });
    expect(rot.status, rot.text).toBe(200);
    expect(rot.body.data.issuer_name).toBe('next');
    expect(rot.body.data.private_key).toBeUndefined();
    const rootB = rot.body.data.certificate as string;
    const idB = rot.body.data.issuer_id as string;
    // Rotation does not change the default: replace does ("next" when no default is given).
    expect((await api('GET', 'pki/issuer/default')).body.data.issuer_name).toBe('root-a');
    const rep = await api('POST', 'pki/root/replace', {});
    expect(rep.status, rep.text).toBe(200);
    expect(rep.body.data.default).toBe(idB);
    const newCert = await issue('pki/issue/web', 'new.example.com');
    expect(newCert.issuing_ca).toBe(rootB.trim());
    expect(await verifies(newCert.certificate, rootB)).toBe(true);
    // The old issuer still verifies the certificates it issued, and its own CRL takes their revocation.
    expect(await verifies(oldCert.certificate, rootA)).toBe(true);
    expect((await api('POST', 'pki/revoke', { serial_number: oldCert.serial_number })).status).toBe(200);
    expect(await crlOf('root-a', rootA)).toContain(hex(oldCert.serial_number));
    expect(await crlOf('next', rootB)).not.toContain(hex(oldCert.serial_number));
    expect((await api('POST', 'pki/revoke', { serial_number: newCert.serial_number })).status).toBe(200);
    expect(await crlOf('default', rootB)).toContain(hex(newCert.serial_number));
    expect(await crlOf('root-a', rootA)).not.toContain(hex(newCert.serial_number));
    // The mount's CRL is the default issuer's.
    const mountCrl = new x509.X509Crl((await call(base, 'GET', '/v1/pki/crl/pem')).text);
    expect(mountCrl.entries.map((e) => e.serialNumber.toLowerCase())).toEqual([hex(newCert.serial_number)]);

    // A second rotation without a name: "next" is taken, so the new issuer has none.
    const again = await api('POST', 'pki/root/rotate/exported', { common_name: 'Root C', key_type: 'ec' });
    expect(again.status, again.text).toBe(200);
    expect(again.body.data.issuer_name).toBe('');
    expect(again.body.data.private_key).toMatch(/PRIVATE KEY/);
  });

  it("issues from a role's issuer_ref; the path's issuer wins; an unknown reference warns, then fails to issue", async () => {
    const rootA = (await api('GET', 'pki/issuer/root-a')).body.data.certificate as string;
    const w = await api('POST', 'pki/roles/legacy', {
      allowed_domains: 'example.com',
      allow_subdomains: true,
      key_type: 'ec',
      issuer_ref: 'root-a',
    });
    expect(w.status, w.text).toBe(204);
    expect((await api('GET', 'pki/roles/legacy')).body.data.issuer_ref).toBe('root-a');
    const viaRole = await issue('pki/issue/legacy', 'legacy.example.com');
    expect(viaRole.issuing_ca).toBe(rootA.trim());
    expect(await verifies(viaRole.certificate, rootA)).toBe(true);
    const viaPath = await issue('pki/issuer/next/issue/legacy', 'override.example.com');
    expect(viaPath.issuing_ca).not.toBe(rootA.trim());

    const dangling = await api('POST', 'pki/roles/dangling', {
      allowed_domains: 'example.com',
      allow_subdomains: true,
      key_type: 'ec',
      issuer_ref: 'no-such-issuer',
    });
    expect(dangling.status).toBe(200);
    expect(dangling.body.warnings[0]).toBe(
      'Issuing Certificate was set to no-such-issuer but no issuing certificate currently has that name',
    );
    const refused = await api('POST', 'pki/issue/dangling', { common_name: 'x.example.com' });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toBe('unable to resolve issuer id for reference: no-such-issuer');
  });

  it('refuses bad references and changes nothing', async () => {
    const before = (await api('GET', 'pki/config/issuers')).body.data.default;
    const crl = await call(base, 'GET', '/v1/pki/issuer/nope/crl');
    expect(crl.status).toBe(400);
    expect(crl.body.errors[0]).toBe('unable to resolve issuer id for reference: nope');
    const rep = await api('POST', 'pki/root/replace', { default: 'nope' });
    expect(rep.status).toBe(400);
    const dup = await api('POST', 'pki/root/rotate/internal', { common_name: 'D', issuer_name: 'root-a' });
    expect(dup.status).toBe(400);
    expect(dup.body.errors[0]).toMatch(/issuer name already in use/);
    expect((await api('GET', 'pki/config/issuers')).body.data.default).toBe(before);
    expect((await api('LIST', 'pki/issuers')).body.data.keys).toHaveLength(3);
  });
});
