import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { fakeRelease, hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * k8s-ha and k8s-dev on throwaway sshd hosts. kubeadm needs root, a container runtime and the network, none of
 * which these hosts have, so containerd, kubeadm/kubelet/kubectl and cilium come from release-shaped tarballs
 * of stand-in binaries with start = false (as the kubernetes taskserv's own test does): what runs for real is
 * the template, the order of the steps across members, every file they write (the cluster CA on the first
 * control plane, kubeadm's config), the secrets' handling, and `service install --cluster`.
 */
describe.skipIf(skipUnless('sshd'))('k8s-ha / k8s-dev clusters (stand-in binaries)', () => {
  let hosts: TestHost[];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  let sets: string[];

  beforeAll(async () => {
    hosts = await startHosts(3, 'k');
    const art = mkdtempSync(join(tmpdir(), 'prov-k8s-art-'));
    fakeRelease(art, 'containerd', '1.7.22', ['containerd', 'ctr'], 'bin');
    fakeRelease(art, 'cilium', '0.16.16', ['cilium'], 'cli');
    fakeRelease(art, 'kubernetes', '1.31.1', ['kubeadm', 'kubelet', 'kubectl'], 'k8s');
    execFileSync('chmod', ['755', art]);
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    ws = workspace(cfg, hosts);
    sets = [
      'start=false',
      'control_planes=2',
      'endpoint=10.0.0.10:6443',
      'install_method=release',
      `artifact_url=file://${art}/k8s`,
      'containerd_install_method=release',
      `containerd_url=file://${art}/containerd.tgz`,
      `cilium_url=file://${art}/cilium.tgz`,
    ].flatMap((s) => ['--set', s]);
  }, 60_000);
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('k8s-ha: containerd everywhere, kubeadm init on the first control plane before any join, Cilium last', async () => {
    const dry = await prov(ws, [
      'cluster',
      'create',
      'k8s',
      '--template',
      'k8s-ha',
      '--servers',
      'k-1,k-2,k-3',
      ...sets,
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    const spec = JSON.parse(dry.stdout).spec;
    expect(
      spec.services.map(
        (s: { service: string; host: string; config: { role?: string } }) =>
          `${s.service}@${s.host}${s.config.role ? `:${s.config.role}` : ''}`,
      ),
    ).toEqual([
      'containerd@k-1',
      'containerd@k-2',
      'containerd@k-3',
      'kubernetes@k-1:control-plane',
      'kubernetes@k-2:control-plane-join',
      'kubernetes@k-3:worker',
      'cilium@k-1',
    ]);

    const r = await prov(
      ws,
      ['cluster', 'create', 'k8s', '--template', 'k8s-ha', '--servers', 'k-1,k-2,k-3', ...sets, '-y'],
      240_000,
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = r.stdout + r.stderr;
    const at = (line: string) => {
      const i = out.indexOf(line);
      expect(i, line).toBeGreaterThanOrEqual(0);
      return i;
    };
    const initDone = at('taskserv.kubernetes.k-1: created');
    expect(at('taskserv.kubernetes.k-2: create...')).toBeGreaterThan(initDone);
    expect(at('taskserv.kubernetes.k-3: create...')).toBeGreaterThan(initDone);
    for (const h of ['k-1', 'k-2', 'k-3']) {
      expect(at(`taskserv.kubernetes.${h}: create...`)).toBeGreaterThan(at(`taskserv.containerd.${h}: created`));
      expect(at('taskserv.cilium.k-1: create...')).toBeGreaterThan(at(`taskserv.kubernetes.${h}: created`));
    }

    // The CA prov made is on the first control plane, its key readable by the owner only; the hash every join
    // pins is the hash of that certificate's public key.
    const pki = join(hosts[0]!.root, 'etc/kubernetes/pki');
    const cert = new X509Certificate(readFileSync(join(pki, 'ca.crt')));
    expect(cert.ca).toBe(true);
    expect(statSync(join(pki, 'ca.key')).mode & 0o077).toBe(0);
    const hash = `sha256:${createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')}`;
    const state = JSON.parse((await prov(ws, ['state', 'show', 'taskserv.kubernetes.k-3', '--json'])).stdout);
    expect(state.attrs.config.ca_cert_hash).toBe(hash);
    expect(state.attrs.config.role).toBe('worker');
    expect(state.attrs.config.token).toMatch(/^\(sensitive sha256:/);
    expect(state.attrs.config.certificate_key_secret).toMatch(/^\(sensitive sha256:/);
    expect(state.attrs.config.ca_private_key).toMatch(/^\(sensitive sha256:/);
    expect(readFileSync(join(hosts[0]!.root, 'etc/kubernetes/prov-kubeadm.yaml'), 'utf8')).toContain(
      'kubernetesVersion: v1.31.1',
    );
    expect(existsSync(join(hosts[1]!.root, 'etc/kubernetes/prov-kubeadm.yaml'))).toBe(false);
    // kubeadm takes a config file or flags, not both: endpoint, address, token and certificate key are in the file.
    const kubeadmFile = join(hosts[0]!.root, 'etc/kubernetes/prov-kubeadm.yaml');
    const kubeadm = readFileSync(kubeadmFile, 'utf8');
    expect(kubeadm).toContain('controlPlaneEndpoint: "10.0.0.10:6443"');
    expect(kubeadm).toMatch(/- token: "[a-z0-9]{6}\.[a-z0-9]{16}"/);
    expect(kubeadm).toMatch(/certificateKey: "[0-9a-f]{64}"/);
    expect(statSync(kubeadmFile).mode & 0o077).toBe(0);
    const key = readFileSync(join(pki, 'ca.key'), 'utf8');
    for (const f of ['.prov/state.db', '.prov/clusters/k8s.json'])
      if (existsSync(join(ws.cwd, f)))
        expect(readFileSync(join(ws.cwd, f), 'utf8').includes(key.split('\n')[1]!), f).toBe(false);

    const show = JSON.parse((await prov(ws, ['cluster', 'show', 'k8s', '--json'])).stdout);
    expect(show.services).toHaveLength(7);
  }, 300_000);

  it('service install --cluster: the template’s members and settings, the same secrets (no change), and an unknown service refused', async () => {
    const same = await prov(ws, ['service', 'install', 'kubernetes', '--cluster', 'k8s', '-y'], 120_000);
    expect(same.code, same.stderr + same.stdout).toBe(0);
    expect(same.stdout).toContain('No changes');

    expect((await prov(ws, ['service', 'uninstall', 'cilium', '--servers', 'k-1', '-y'], 120_000)).code).toBe(0);
    expect(existsSync(join(hosts[0]!.root, 'usr/local/bin/cilium'))).toBe(false);
    // Uninstalling a service leaves what it depends on (kubeadm on the control plane) in place.
    expect(readFileSync(join(hosts[0]!.root, 'usr/local/bin/kubeadm'), 'utf8')).toContain('version 1.31.1');
    const cil = await prov(ws, ['service', 'install', 'cilium', '--cluster', 'k8s', '-y'], 120_000);
    expect(cil.code, cil.stderr + cil.stdout).toBe(0);
    expect(cil.stdout).toContain('Resources: 1 added');
    expect(readFileSync(join(hosts[0]!.root, 'usr/local/bin/cilium'), 'utf8')).toContain('version 0.16.16');
    expect(existsSync(join(hosts[1]!.root, 'usr/local/bin/cilium'))).toBe(false);

    const nope = await prov(ws, ['service', 'install', 'etcd', '--cluster', 'k8s', '-y']);
    expect(nope.code).toBe(2);
    expect(nope.stderr).toContain('containerd, kubernetes, cilium');
    expect((await prov(ws, ['service', 'install', 'cilium', '-y'])).code).toBe(2);
  }, 300_000);

  it('k8s-dev: one server, init and Cilium, no joins', async () => {
    const dry = await prov(ws, [
      'cluster',
      'create',
      'dev',
      '--template',
      'k8s-dev',
      '--servers',
      'k-3',
      ...sets,
      '--dry-run',
      '--json',
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    const spec = JSON.parse(dry.stdout).spec;
    expect(spec.template).toBe('k8s-dev');
    expect(spec.services.map((s: { service: string; host: string }) => `${s.service}@${s.host}`)).toEqual([
      'containerd@k-3',
      'kubernetes@k-3',
      'cilium@k-3',
    ]);
    expect(spec.services[1].config.role).toBe('control-plane');
  });

  it('scale --workers: the worker goes (kubeadm files, containerd) and comes back as a worker, after the init', async () => {
    const down = await prov(ws, ['cluster', 'scale', 'k8s', '--workers', '0', '-y', '--json'], 240_000);
    expect(down.code, down.stderr + down.stdout).toBe(0);
    expect(JSON.parse(down.stdout).removed).toEqual(['k-3']);
    expect(existsSync(join(hosts[2]!.root, 'usr/local/bin/kubeadm'))).toBe(false);
    expect(existsSync(join(hosts[2]!.root, 'usr/local/bin/containerd'))).toBe(false);
    const shown = await prov(ws, ['cluster', 'show', 'k8s', '--json']);
    expect(shown.code, shown.stdout + shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).services).toHaveLength(5);

    const up = await prov(ws, ['cluster', 'scale', 'k8s', '--workers', '1', '-y', '--json'], 240_000);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(JSON.parse(up.stdout).added).toEqual(['k-3']);
    expect(readFileSync(join(hosts[2]!.root, 'usr/local/bin/kubeadm'), 'utf8')).toContain('version 1.31.1');
    const st = JSON.parse((await prov(ws, ['state', 'show', 'taskserv.kubernetes.k-3', '--json'])).stdout);
    expect(st.attrs.config.role).toBe('worker');
    expect(st.deps).toContain('taskserv.kubernetes.k-1');
    const dep = JSON.parse((await prov(ws, ['state', 'show', 'taskserv.kubernetes.k-2', '--json'])).stdout);
    // The worker joins with the same CA the cluster was made with.
    expect(st.attrs.config.ca_cert_hash).toBe(dep.attrs.config.ca_cert_hash);
    expect((await prov(ws, ['cluster', 'scale', 'k8s', '--members', '2', '-y'])).code).toBe(2);
  }, 600_000);

  it('destroy uninstalls every member back to its original tree', async () => {
    const r = await prov(ws, ['cluster', 'destroy', 'k8s', '-y'], 240_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of hosts) expect(existsSync(join(h.root, 'etc/kubernetes'))).toBe(false);
    expect((await prov(ws, ['cluster', 'show', 'k8s'])).code).toBe(4);
  }, 300_000);
});
