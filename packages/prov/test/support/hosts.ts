import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBin, sandbox } from '../../../../test/run-bin.js';
import { type SshdServer, startSshd } from '../../../shared/src/testing/index.js';

export interface TestHost {
  name: string;
  sshd: SshdServer;
  /** The host's install tree (label `root`): the "inventory" of the local provider on this host. */
  root: string;
}

/** Several real sshd on loopback = several hosts; each gets its own install tree under its work dir. */
export async function startHosts(n: number, prefix = 'node'): Promise<TestHost[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => startSshd()));
  return servers.map((sshd, i) => {
    const root = join(sshd.workDir, 'root');
    mkdirSync(root, { recursive: true });
    // The SSH user owns the work dir; the test (root) made this folder: hand it over.
    const owner = statSync(sshd.workDir);
    chownSync(root, owner.uid, owner.gid);
    return { name: `${prefix}-${i + 1}`, sshd, root };
  });
}

export async function stopHosts(hosts: TestHost[] | undefined) {
  await Promise.all((hosts ?? []).map((h) => h.sshd.stop()));
}

export function hostEntry(h: TestHost, extra = ''): string {
  const s = h.sshd;
  return `${h.name} = { address = "${s.host}", port = ${s.port}, user = "${s.username}", key_path = "${s.privateKeyPath}", labels = { root = "${h.root}" }${extra} }`;
}

export function knownHosts(hosts: TestHost[]): string {
  return hosts.map((h) => `[${h.sshd.host}]:${h.sshd.port} ${h.sshd.hostKey}\n`).join('');
}

/** A workspace: prov.toml with fast retries, known_hosts pinned to the test hosts, the config as prov.ncl. */
export function workspace(config: string, hosts: TestHost[], toml = ''): { cwd: string; env: NodeJS.ProcessEnv } {
  const sb = sandbox();
  mkdirSync(join(sb.cwd, '.prov'), { recursive: true });
  writeFileSync(join(sb.cwd, '.prov', 'known_hosts'), knownHosts(hosts));
  writeFileSync(join(sb.cwd, 'prov.ncl'), config);
  writeFileSync(
    join(sb.cwd, 'prov.toml'),
    `[apply]\nretries = 2\nbackoff_initial_ms = 20\nbackoff_max_ms = 100\n\n[aws]\npoll_ms = 20\n\n[upcloud]\npoll_ms = 20\n${toml}`,
  );
  return sb;
}

export const prov = (ws: { cwd: string; env: NodeJS.ProcessEnv }, args: string[], timeoutMs = 60_000) =>
  runBin('prov', args, { cwd: ws.cwd, env: ws.env, timeoutMs });

/** Every file and folder under a tree with its size: what "the inventory is exactly as before" compares. */
export function inventory(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p);
      out.push(`${rel}${n}${st.isDirectory() ? '/' : ` ${st.size}`}`);
      if (st.isDirectory()) walk(p, `${rel}${n}/`);
    }
  };
  walk(dir, '');
  return out;
}

/** A release-shaped tarball whose binary is a stub printing its version (no network here to fetch the real one). */
export function fakeRelease(
  dir: string,
  name: string,
  version: string,
  bins: string[],
  layout = `${name}-${version}.linux-amd64`,
): string {
  const top = join(dir, layout);
  mkdirSync(top, { recursive: true });
  for (const b of bins)
    writeFileSync(join(top, b), `#!/bin/sh\necho "${b}, version ${version} (stub)"\n`, { mode: 0o755 });
  const tgz = join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', tgz, '-C', dir, layout]);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return tgz;
}
