import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortBlock, skipUnless } from '../../shared/src/testing/index.js';
import {
  fakeRelease,
  hostEntry,
  inventory,
  prov,
  startHosts,
  stopHosts,
  type TestHost,
  workspace,
} from './support/hosts.js';

/**
 * The shipped definitions on throwaway sshd hosts (same machine, no root, no systemd, no network), each
 * installing into the host's `root` tree. What runs for real and what cannot:
 * - postgresql: real. Debian's binaries are on this machine (the package step's check skips apt-get); initdb
 *   creates a cluster, pg_ctl starts it (init = "none"), pg_isready checks it, uninstall stops and removes it.
 * - etcd: real process, in local-provider.test.ts.
 * - prometheus, node_exporter, containerd: their releases cannot be downloaded here and containerd needs root,
 *   so the install runs from a release-shaped tarball of stub binaries (file://), start = false; the test
 *   checks the files the definition writes: binaries, config files, systemd unit files, kernel settings.
 * - kubernetes, cilium: kubeadm needs root, a container runtime and the network, so likewise from stub
 *   binaries with start = false; what runs for real is every file they write, their status and uninstall,
 *   and a worker's refusal to join without token and CA hash (rolled back to the original tree).
 */
describe.skipIf(skipUnless('sshd'))('taskservs over SSH: service install, status, list, uninstall', () => {
  let hosts: TestHost[];
  let art: string;
  beforeAll(async () => {
    hosts = await startHosts(2, 'ts');
    art = mkdtempSync(join(tmpdir(), 'prov-art-'));
    fakeRelease(art, 'prometheus', '2.54.1', ['prometheus', 'promtool']);
    fakeRelease(art, 'containerd', '1.7.22', ['containerd', 'ctr'], 'bin');
    fakeRelease(art, 'cilium', '0.16.16', ['cilium'], 'cli');
    // dl.k8s.io serves bare binaries, one URL each.
    fakeRelease(art, 'kubernetes', '1.31.1', ['kubeadm', 'kubelet', 'kubectl'], 'k8s');
    execFileSync('chmod', ['755', art]);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('installs each definition with its real effect, reports status, and uninstalls to the original trees', async () => {
    const before = hosts.map((h) => inventory(h.root));
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    const ws = workspace(cfg, hosts);
    const list = JSON.parse((await prov(ws, ['service', 'list', '--json'])).stdout);
    expect(list.services.map((s: { service: string }) => s.service)).toEqual([
      'cilium',
      'containerd',
      'etcd',
      'kubernetes',
      'node_exporter',
      'patroni',
      'postgresql',
      'prometheus',
    ]);

    const port = await freePortBlock(1);
    const installPostgres = (passwordFrom: string) =>
      prov(ws, [
        'service',
        'install',
        '-y',
        'postgresql',
        '--servers',
        'ts-1',
        ...['run_as=stratumtest', 'init=none', `port=${port}`, 'admin_password=hunter2-secret'].flatMap((v) => [
          '--set',
          v,
        ]),
        '--set',
        `password_from=${passwordFrom}`,
      ]);
    const pgi = await installPostgres('127.0.0.1/32,10.0.0.0/8');
    expect(pgi.code, pgi.stderr + pgi.stdout).toBe(0);
    expect(pgi.stdout).toContain('Resources: 1 added');
    const data = join(hosts[0]!.root, 'var/lib/prov-postgresql/main');
    // Password logins over TCP from the listed networks only; pg_hba is prov's.
    const hba = readFileSync(join(data, 'pg_hba.conf'), 'utf8');
    expect(hba.split('\n').filter((l) => l.startsWith('host'))).toEqual([
      'host all all 127.0.0.1/32 scram-sha-256',
      'host all all 10.0.0.0/8 scram-sha-256',
    ]);
    // A value that is not a CIDR (a glob here) fails the step and leaves pg_hba as it was.
    const bad = await installPostgres('*/*');
    expect(bad.code, bad.stdout).not.toBe(0);
    expect(bad.stderr + bad.stdout).toContain("password_from: '*/*' is not a CIDR");
    expect(readFileSync(join(data, 'pg_hba.conf'), 'utf8')).toBe(hba);
    expect(readFileSync(join(data, 'PG_VERSION'), 'utf8').trim()).toBe('15');
    expect(readFileSync(join(data, 'prov.conf'), 'utf8')).toContain(`port = ${port}`);
    // A secret in the config reaches the steps but never state, history, or the host's marker.
    for (const f of [
      join(ws.cwd, '.prov/state.db'),
      join(ws.cwd, '.prov/state.db-wal'),
      join(hosts[0]!.root, 'var/lib/prov/taskservs/postgresql.json'),
    ]) {
      if (existsSync(f)) expect(readFileSync(f).includes('hunter2-secret'), f).toBe(false);
    }
    const shown = JSON.parse((await prov(ws, ['state', 'show', 'taskserv.postgresql.ts-1', '--json'])).stdout);
    expect(shown.attrs.config.admin_password).toMatch(/^\(sensitive sha256:[0-9a-f]{16}\)$/);
    // The version the host runs, read back after the install (Debian's minor release, not the catalogue's "15").
    const real = execFileSync('/usr/lib/postgresql/15/bin/postgres', ['--version'], { encoding: 'utf8' });
    expect(shown.outputs.installed_version).toBe(/ (\d+\.\d+)/.exec(real)?.[1]);
    expect(shown.sensitive).toEqual(['config.admin_password']);
    expect((await prov(ws, ['history', '--json'])).stdout).not.toContain('hunter2-secret');
    const st = JSON.parse((await prov(ws, ['service', 'status', 'postgresql', '--json'])).stdout);
    expect(st.hosts).toEqual([expect.objectContaining({ host: 'ts-1', status: 'running', in_state: true })]);

    const prom = await prov(ws, [
      'service',
      'install',
      '-y',
      'prometheus',
      '--servers',
      'ts-1,ts-2',
      '--set',
      `artifact_url=file://${art}/prometheus.tgz`,
      '--set',
      'start=false',
      '--set',
      'scrape_targets=ts-1:9100,ts-2:9100',
    ]);
    expect(prom.code, prom.stderr + prom.stdout).toBe(0);
    for (const h of hosts) {
      expect(readFileSync(join(h.root, 'usr/local/bin/promtool'), 'utf8')).toContain('version 2.54.1');
      expect(readFileSync(join(h.root, 'etc/prometheus/prometheus.yml'), 'utf8')).toContain(
        "- targets: ['ts-1:9100', 'ts-2:9100']",
      );
      expect(readFileSync(join(h.root, 'etc/systemd/system/prometheus.service'), 'utf8')).toContain(
        '--storage.tsdb.retention.time=15d',
      );
    }

    const ctd = await prov(ws, [
      'service',
      'install',
      '-y',
      'containerd',
      '--servers',
      'ts-2',
      '--set',
      'install_method=release',
      '--set',
      `artifact_url=file://${art}/containerd.tgz`,
      '--set',
      'start=false',
    ]);
    expect(ctd.code, ctd.stderr + ctd.stdout).toBe(0);
    const r2 = hosts[1]!.root;
    expect(readFileSync(join(r2, 'etc/containerd/config.toml'), 'utf8')).toContain('SystemdCgroup = true');
    expect(readFileSync(join(r2, 'etc/modules-load.d/containerd.conf'), 'utf8')).toBe('overlay\nbr_netfilter\n');
    expect(readFileSync(join(r2, 'etc/sysctl.d/99-kubernetes-cri.conf'), 'utf8')).toContain('net.ipv4.ip_forward = 1');
    expect(existsSync(join(r2, 'usr/local/bin/ctr'))).toBe(true);

    // Installing again changes nothing.
    const again = await prov(ws, [
      'service',
      'install',
      '-y',
      'prometheus',
      '--servers',
      'ts-1,ts-2',
      '--set',
      `artifact_url=file://${art}/prometheus.tgz`,
      '--set',
      'start=false',
      '--set',
      'scrape_targets=ts-1:9100,ts-2:9100',
    ]);
    expect(again.stdout).toContain('No changes.');
    const listed = JSON.parse((await prov(ws, ['service', 'list', '--json'])).stdout);
    expect(listed.services.find((s: { service: string }) => s.service === 'prometheus').installed_on).toBe('ts-1,ts-2');

    for (const [svc, servers] of [
      ['postgresql', 'ts-1'],
      ['prometheus', 'ts-1,ts-2'],
      ['containerd', 'ts-2'],
    ] as const) {
      const u = await prov(ws, ['service', 'uninstall', '-y', svc, '--servers', servers]);
      expect(u.code, u.stderr + u.stdout).toBe(0);
    }
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
    const gone = JSON.parse(
      (await prov(ws, ['service', 'status', 'postgresql', '--servers', 'ts-1', '--json'])).stdout,
    );
    expect(gone.hosts[0].status).toBe('absent');
  }, 180_000);

  it('kubernetes (kubeadm) and cilium: files, status, a worker that cannot join, uninstall', async () => {
    const before = hosts.map((h) => inventory(h.root));
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    const ws = workspace(cfg, hosts);
    const k8s = [
      '--set',
      'install_method=release',
      '--set',
      `artifact_url=file://${art}/k8s`,
      '--set',
      'start=false',
      '--set',
      'pod_cidr=10.42.0.0/16',
    ];
    const cp = await prov(ws, ['service', 'install', '-y', 'kubernetes', '--servers', 'ts-1', ...k8s]);
    expect(cp.code, cp.stderr + cp.stdout).toBe(0);
    const r1 = hosts[0]!.root;
    const kubeadm = readFileSync(join(r1, 'etc/kubernetes/prov-kubeadm.yaml'), 'utf8');
    expect(kubeadm).toContain('kubernetesVersion: v1.31.1');
    expect(kubeadm).toContain('podSubnet: 10.42.0.0/16');
    expect(kubeadm).toContain('name: ts-1');
    expect(readFileSync(join(r1, 'etc/systemd/system/kubelet.service'), 'utf8')).toContain(
      'ExecStart=/usr/local/bin/kubelet',
    );
    for (const b of ['kubeadm', 'kubelet', 'kubectl'])
      expect(readFileSync(join(r1, 'usr/local/bin', b), 'utf8')).toContain(`${b}, version 1.31.1`);

    const cil = await prov(ws, [
      'service',
      'install',
      '-y',
      'cilium',
      '--servers',
      'ts-1',
      '--set',
      `artifact_url=file://${art}/cilium.tgz`,
      '--set',
      'start=false',
    ]);
    expect(cil.code, cil.stderr + cil.stdout).toBe(0);
    expect(readFileSync(join(r1, 'usr/local/bin/cilium'), 'utf8')).toContain('cilium, version 0.16.16');
    const st = JSON.parse((await prov(ws, ['service', 'status', 'kubernetes', '--json'])).stdout);
    expect(st.hosts).toEqual([expect.objectContaining({ host: 'ts-1', status: 'stopped', in_state: true })]);

    // A worker without the join token and CA hash: a clear error, and its host is left as it was.
    const r2before = inventory(hosts[1]!.root);
    const worker = await prov(ws, [
      'service',
      'install',
      '-y',
      'kubernetes',
      '--servers',
      'ts-2',
      ...k8s.slice(0, 4),
      '--set',
      'role=worker',
      '--json',
    ]);
    expect(worker.code).toBe(1);
    expect(JSON.parse(worker.stdout).error.message).toContain(
      'a worker needs control_plane_endpoint, token and ca_cert_hash',
    );
    expect(inventory(hosts[1]!.root)).toEqual(r2before);

    for (const svc of ['cilium', 'kubernetes']) {
      const u = await prov(ws, ['service', 'uninstall', '-y', svc, '--servers', 'ts-1']);
      expect(u.code, u.stderr + u.stdout).toBe(0);
    }
    expect(hosts.map((h) => inventory(h.root))).toEqual(before);
  }, 180_000);
});
