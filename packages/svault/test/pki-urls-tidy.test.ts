import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
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
    common_name: 'example.com',
    ttl: '8760h',
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
const issue = async (cn: string, ttl = '24h') => {
  const r = await api('POST', 'pki/issue/web', { common_name: cn, ttl });
  expect(r.status, r.text).toBe(200);
  return r.body.data as { certificate: string; serial_number: string };
};

describe('pki config/urls', () => {
  it('puts the issuing certificate, OCSP and CRL URLs into issued certificates', async () => {
    const urls = {
      issuing_certificates: ['http://127.0.0.1:8200/v1/pki/ca'],
      crl_distribution_points: ['http://127.0.0.1:8200/v1/pki/crl'],
      ocsp_servers: ['http://ocsp.example.com'],
    };
    expect((await api('POST', 'pki/config/urls', urls)).status).toBe(204);
    expect((await api('GET', 'pki/config/urls')).body.data).toEqual({ ...urls, enable_templating: false });
    const cert = new x509.X509Certificate((await issue('api.example.com')).certificate);
    const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
    expect(aia?.caIssuers.map((n) => n.value)).toEqual(urls.issuing_certificates);
    expect(aia?.ocsp.map((n) => n.value)).toEqual(urls.ocsp_servers);
    const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
    const cdpUrls = cdp?.distributionPoints.flatMap(
      (d) => d.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier) ?? [],
    );
    expect(cdpUrls).toEqual(urls.crl_distribution_points);
  });

  it('refuses a bad URL and keeps what it had', async () => {
    const r = await api('POST', 'pki/config/urls', { crl_distribution_points: ['not a url'] });
    expect(r.status).toBe(400);
    expect(r.body.errors[0]).toBe('invalid URL found in CRL distribution points: not a url');
    expect((await api('POST', 'pki/config/urls', { issuing_certificates: ['javascript:alert(1)'] })).status).toBe(400);
    expect((await api('GET', 'pki/config/urls')).body.data.crl_distribution_points).toEqual([
      'http://127.0.0.1:8200/v1/pki/crl',
    ]);
  });
});

describe('pki tidy', () => {
  it('removes expired certificates and their revocations past the safety buffer, and keeps live ones', {
    timeout: 60_000,
  }, async () => {
    // Nothing asked: accepted, with Vault's warning, and nothing runs.
    const none = await api('POST', 'pki/tidy', {});
    expect(none.status).toBe(202);
    expect(none.body.warnings[0]).toMatch(/no tidy operations were set/);
    const bad = await api('POST', 'pki/tidy', { tidy_cert_store: true, safety_buffer: 'soon' });
    expect(bad.status).toBe(400);
    const shortLived = await issue('short.example.com', '2s');
    const revokedShort = await issue('revoked.example.com', '2s');
    expect((await api('POST', 'pki/revoke', { serial_number: revokedShort.serial_number })).status).toBe(200);
    const live = await issue('live.example.com', '24h');
    const hex = (s: string) => s.replaceAll(':', '');
    const crlSerials = async () =>
      new x509.X509Crl((await api('GET', 'pki/cert/crl')).body.data.certificate as string).entries.map((e) =>
        e.serialNumber.toLowerCase(),
      );
    expect(await crlSerials()).toContain(hex(revokedShort.serial_number));
    await sleep(3500);
    const t = await api('POST', 'pki/tidy', { tidy_cert_store: true, tidy_revoked_certs: true, safety_buffer: '1s' });
    // As Vault: 202 Accepted at once, the work in the background, tidy-status reports it.
    expect(t.status, t.text).toBe(202);
    expect(t.body.warnings[0]).toMatch(/Tidy operation successfully started/);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      status = (await api('GET', 'pki/tidy-status')).body.data;
      if (status.state !== 'Running') break;
      await sleep(50);
    }
    expect(status).toMatchObject({
      state: 'Finished',
      revoked_cert_deleted_count: 1,
      tidy_cert_store: true,
      tidy_revoked_certs: true,
      safety_buffer: 1,
      error: null,
    });
    expect(status.cert_store_deleted_count).toBeGreaterThanOrEqual(2);
    expect(typeof status.time_started).toBe('string');
    expect(typeof status.time_finished).toBe('string');
    const keys = (await api('LIST', 'pki/certs')).body.data.keys as string[];
    const listed = keys.map((k) => k.replaceAll(':', '').replaceAll('-', '').toLowerCase());
    expect(listed).toContain(hex(live.serial_number));
    expect(listed).not.toContain(hex(shortLived.serial_number));
    expect(listed).not.toContain(hex(revokedShort.serial_number));
    // The rebuilt CRL no longer lists the expired revoked certificate.
    expect(await crlSerials()).not.toContain(hex(revokedShort.serial_number));
  });
});

describe('pki issuers API', () => {
  it("lists the mount's issuer, reads it by id, name or default (also without a token), renames it", async () => {
    const list = await api('LIST', 'pki/issuers');
    expect(list.status).toBe(200);
    const [id] = list.body.data.keys as string[];
    expect(list.body.data.key_info[id as string]).toEqual({ issuer_name: '', is_default: true });
    const ca = (await api('GET', 'pki/cert/ca')).body.data.certificate as string;
    const byDefault = await api('GET', 'pki/issuer/default');
    expect(byDefault.body.data).toMatchObject({ issuer_id: id, certificate: ca });
    expect((await api('GET', `pki/issuer/${id}`)).body.data.issuer_id).toBe(id);
    const pem = await call(base, 'GET', `/v1/pki/issuer/${id}/pem`);
    expect(pem.status).toBe(200);
    expect(pem.text.trim()).toBe(ca.trim());
    expect((await call(base, 'GET', `/v1/pki/issuer/${id}/json`)).body.data.issuer_id).toBe(id);
    expect((await call(base, 'GET', `/v1/pki/issuer/${id}`)).status).toBe(403); // the full read needs a token

    expect((await api('POST', 'pki/issuer/default', { issuer_name: 'root-2026' })).status).toBe(200);
    expect((await api('GET', 'pki/issuer/root-2026')).body.data.issuer_id).toBe(id);
    expect((await api('GET', 'pki/config/issuers')).body.data).toEqual({
      default: id,
      default_follows_latest_issuer: false,
    });
    expect((await api('POST', 'pki/config/issuers', { default: 'root-2026' })).status).toBe(200);

    const bad: [string, string, unknown, RegExp][] = [
      ['GET', 'pki/issuer/nope', undefined, /unable to resolve issuer id for reference: nope/],
      ['POST', 'pki/issuer/default', { issuer_name: 'default' }, /reserved keyword/],
      ['POST', 'pki/issuer/default', { issuer_name: 'bad name!' }, /invalid characters/],
      ['POST', 'pki/config/issuers', { default: 'other' }, /unable to resolve/],
    ];
    for (const [method, path, body, message] of bad) {
      const r = await api(method, path, body);
      expect(r.status, path).toBe(400);
      expect(r.body.errors[0]).toMatch(message);
    }
    expect((await api('GET', 'pki/issuer/default')).body.data.issuer_name).toBe('root-2026');
  });
});

describe('pki: several issuers on one mount', () => {
  it('a second root is another issuer: issue through it by reference, make it the default, delete the old one', async () => {
    const first = (await api('GET', 'pki/issuer/default')).body.data.issuer_id as string;
    const gen = await api('POST', 'pki/root/generate/internal', {
      common_name: 'Root 2027',
      issuer_name: 'root-2027',
      key_type: 'ec',
    });
    expect(gen.status, gen.text).toBe(200);
    const second = gen.body.data.issuer_id as string;
    const root2 = gen.body.data.certificate as string;
    const list = await api('LIST', 'pki/issuers');
    expect((list.body.data.keys as string[]).sort()).toEqual([first, second].sort());
    expect(list.body.data.key_info[second]).toEqual({ issuer_name: 'root-2027', is_default: false });
    // The default still issues; the named issuer issues when asked by name.
    const byDefault = new x509.X509Certificate((await issue('a.example.com')).certificate);
    expect(byDefault.issuer).not.toContain('Root 2027');
    const r = await api('POST', 'pki/issuer/root-2027/issue/web', { common_name: 'b.example.com', ttl: '1h' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.data.issuing_ca).toBe(root2);
    const viaSecond = new x509.X509Certificate(r.body.data.certificate);
    expect(await viaSecond.verify({ publicKey: new x509.X509Certificate(root2).publicKey, signatureOnly: true })).toBe(
      true,
    );

    expect((await api('POST', 'pki/config/issuers', { default: 'root-2027' })).body.data.default).toBe(second);
    expect((await api('GET', 'pki/cert/ca')).body.data.certificate).toBe(root2);
    expect(new x509.X509Certificate((await issue('c.example.com')).certificate).issuer).toContain('Root 2027');
    // The old default is an ordinary issuer now; the default cannot be deleted.
    expect((await api('DELETE', 'pki/issuer/default')).status).toBe(400);
    expect((await api('DELETE', `pki/issuer/${first}`)).status).toBe(204);
    expect((await api('LIST', 'pki/issuers')).body.data.keys).toEqual([second]);
    const dup = await api('POST', 'pki/root/generate/internal', { common_name: 'x', issuer_name: 'root-2027' });
    expect(dup.status).toBe(400);
    expect(dup.body.errors[0]).toMatch(/issuer name already in use/);
    expect((await api('POST', 'pki/issuer/nope/issue/web', { common_name: 'd.example.com' })).status).toBe(400);
  });
});
