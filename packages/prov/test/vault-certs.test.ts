import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SvaultClient } from '@stratumiops/svault/client/index';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';
import { type SvaultDev, startSvaultDev } from './support/svault.js';

const DOMAIN = 'api.example.com';

interface Installed {
  host: string;
  serial: string;
  not_after: string;
  dir: string;
}

describe.skipIf(skipUnless('sshd'))('prov vault and prov cert against a real svault dev server and sshd hosts', () => {
  let vault: SvaultDev;
  let hosts: TestHost[];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  let caPem: string;

  beforeAll(async () => {
    [vault, hosts] = await Promise.all([startSvaultDev(), startHosts(2, 'web')]);
    const client = new SvaultClient({ addr: vault.addr, token: vault.token });
    await client.write('sys/mounts/pki', { type: 'pki' });
    await client.write('pki/root/generate/internal', { common_name: 'Prov Test Root CA', ttl: '87600h' });
    await client.write('pki/roles/web', { allowed_domains: 'example.com', allow_subdomains: true, max_ttl: '720h' });
    caPem = String((await client.read('pki/cert/ca'))?.data?.certificate);
    const config = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = {
    ${hosts.map((h) => hostEntry(h)).join(',\n    ')},
  },
} | Infrastructure
`;
    ws = workspace(config, hosts);
    ws.env = { ...ws.env, SVAULT_ADDR: vault.addr, SVAULT_TOKEN: vault.token };
  }, 120_000);

  afterAll(async () => {
    await Promise.all([vault?.stop(), stopHosts(hosts)]);
  });

  const certDir = (h: TestHost) => join(h.root, 'etc/prov/certs', DOMAIN);
  const serialOf = (h: TestHost) =>
    execFileSync('openssl', ['x509', '-noout', '-serial', '-in', join(certDir(h), 'cert.pem')], { encoding: 'utf8' })
      .trim()
      .replace('serial=', '');
  const norm = (s: string) => s.replace(/:/g, '').toUpperCase().replace(/^0+/, '');

  it('vault init checks svault and records it; store and read go through svault', async () => {
    const init = await prov(ws, ['vault', 'init', '--role', 'web', '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({
      addr: vault.addr,
      kv: { mount: 'secret' },
      pki: { present: true },
    });
    expect(readFileSync(join(ws.cwd, '.prov/vault.json'), 'utf8')).not.toContain(vault.token);

    const store = await prov(ws, ['vault', 'store', 'secret/myapp', 'user=app', 'password=s3cr=t']);
    expect(store.code, store.stderr).toBe(0);
    expect(store.stdout).toMatch(/Stored secret\/myapp version 1 \(fields: user, password\)/);
    expect(store.stdout).not.toContain('s3cr=t');
    // Written through svault: its own client reads the same value.
    const direct = await new SvaultClient({ addr: vault.addr, token: vault.token }).kvGet('secret', 'myapp');
    expect(direct.data?.data).toEqual({ user: 'app', password: 's3cr=t' });
    const field = await prov(ws, ['vault', 'read', 'secret/myapp', '--field', 'password']);
    expect(field.stdout.trim()).toBe('s3cr=t');
    const all = await prov(ws, ['vault', 'read', 'secret/myapp', '--json']);
    expect(JSON.parse(all.stdout)).toMatchObject({ version: 1, data: { user: 'app' } });

    expect((await prov(ws, ['vault', 'read', 'secret/none'])).code).toBe(4);
    expect((await prov(ws, ['vault', 'store', 'secret/myapp', 'novalue'])).code).toBe(2);
    expect((await prov(ws, ['vault', 'store', 'nomount'])).code).toBe(2);
    const noToken = await prov({ ...ws, env: { ...ws.env, SVAULT_TOKEN: '' } }, ['vault', 'read', 'secret/myapp']);
    expect(noToken.code).toBe(5);
    const badToken = await prov({ ...ws, env: { ...ws.env, SVAULT_TOKEN: 'hvs.wrong' } }, [
      'vault',
      'read',
      'secret/myapp',
    ]);
    expect(badToken.code).toBe(5);
  });

  it('cert generate issues from the PKI role, installs on two hosts (key 0600), verifies with openssl, records serials not keys', async () => {
    const r = await prov(ws, [
      'cert',
      'generate',
      '--domain',
      DOMAIN,
      // The role saved by prov vault init --role web.
      '--ttl',
      '24h',
      '--servers',
      'web-1,web-2',
      '--cluster',
      'web',
      '--alt-names',
      'www.example.com',
      '--reload',
      'date +%s%N >> reloads.log',
      '--health',
      'test ! -f unhealthy',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { installed: Installed[] };
    expect(doc.installed.map((c) => c.host)).toEqual(['web-1', 'web-2']);
    writeFileSync(join(ws.cwd, 'ca.pem'), caPem);
    for (const [i, h] of hosts.entries()) {
      const dir = certDir(h);
      expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
      const verify = execFileSync('openssl', ['verify', '-CAfile', join(ws.cwd, 'ca.pem'), join(dir, 'cert.pem')], {
        encoding: 'utf8',
      });
      expect(verify.trim()).toBe(`${join(dir, 'cert.pem')}: OK`);
      expect(norm(serialOf(h))).toBe(norm(doc.installed[i]?.serial as string));
      expect(readFileSync(join(dir, 'reloads.log'), 'utf8').trim().split('\n')).toHaveLength(1);
      const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', join(dir, 'cert.pem')], {
        encoding: 'utf8',
      });
      expect(subject).toContain(DOMAIN);
    }
    // One key per host.
    expect(readFileSync(join(certDir(hosts[0]!), 'key.pem'))).not.toEqual(
      readFileSync(join(certDir(hosts[1]!), 'key.pem')),
    );
    expect(r.stdout).not.toContain('PRIVATE KEY');
    // State has the serials and expiry, never a key.
    const stateFiles = readdirSync(join(ws.cwd, '.prov')).filter((f) => f.startsWith('state.db'));
    const state = Buffer.concat(stateFiles.map((f) => readFileSync(join(ws.cwd, '.prov', f)))).toString('latin1');
    expect(state).toContain(doc.installed[0]?.serial);
    expect(state).not.toContain('PRIVATE KEY');
    expect(state).not.toMatch(/MII[A-Za-z0-9+/]{60}/);
  });

  it('cert rotate goes one host at a time and stops at the first unhealthy host, which keeps its old certificate', async () => {
    const before = hosts.map((h) => serialOf(h));
    writeFileSync(join(certDir(hosts[1]!), 'unhealthy'), '');
    const failed = await prov(ws, ['cert', 'rotate', '--cluster', 'web']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/cert rotate stopped at web-2: health check failed .*previous certificate is back/);
    // web-1 was rotated and checked before web-2 was started.
    const out = failed.stdout;
    expect(out.indexOf('[web-1] installed')).toBeGreaterThan(-1);
    expect(out.indexOf('[web-1] installed')).toBeLessThan(out.indexOf('[web-2] issued'));
    expect(serialOf(hosts[0]!)).not.toBe(before[0]);
    expect(serialOf(hosts[1]!)).toBe(before[1]);
    expect(
      execFileSync('openssl', ['verify', '-CAfile', join(ws.cwd, 'ca.pem'), join(certDir(hosts[1]!), 'cert.pem')], {
        encoding: 'utf8',
      }),
    ).toContain(': OK');
    // web-2 was reloaded onto the new files, then back onto the old ones.
    expect(
      readFileSync(join(certDir(hosts[1]!), 'reloads.log'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(3);

    execFileSync('rm', [join(certDir(hosts[1]!), 'unhealthy')]);
    const ok = await prov(ws, ['cert', 'rotate', '--cluster', 'web', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const doc = JSON.parse(ok.stdout) as { installed: Installed[] };
    expect(doc.installed.map((c) => c.host)).toEqual(['web-1', 'web-2']);
    expect(serialOf(hosts[1]!)).not.toBe(before[1]);
    expect(norm(serialOf(hosts[1]!))).toBe(norm(doc.installed[1]?.serial as string));
    // The rotated certificate names the same DNS names as the first one.
    const san = execFileSync(
      'openssl',
      ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(certDir(hosts[1]!), 'cert.pem')],
      {
        encoding: 'utf8',
      },
    );
    expect(san).toContain('DNS:www.example.com');
    expect(existsSync(join(certDir(hosts[1]!), 'key.pem.new'))).toBe(false);

    // While another operation holds the state lock, a rotation waits its turn: exit 6, no host touched.
    const { openStateStore } = await import('../src/adapters/state/index.js');
    const store = await openStateStore(join(ws.cwd, '.prov/state.db'));
    const lock = await store.lock({ operation: 'apply' });
    try {
      const serials = hosts.map((h) => serialOf(h));
      const locked = await prov(ws, ['cert', 'rotate', '--cluster', 'web']);
      expect(locked.code).toBe(6);
      expect(locked.stderr).toMatch(/state is locked/);
      expect(hosts.map((h) => serialOf(h))).toEqual(serials);
    } finally {
      await lock.release();
      await store.close();
    }
    expect((await prov(ws, ['cert', 'rotate', '--cluster', 'nope'])).code).toBe(4);
    expect((await prov(ws, ['cert', 'rotate'])).code).toBe(2);
  });

  it('plan warns about recorded certificates that expire within the window', async () => {
    const plan = await prov(ws, ['plan', '--no-refresh', '--cert-expiry-days', '30']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/certificate api\.example\.com on web-1 expires in 0 days/);
    const quiet = await prov(ws, ['plan', '--no-refresh', '--cert-expiry-days', '0']);
    expect(quiet.stdout).not.toMatch(/certificate api\.example\.com/);
  });
});
