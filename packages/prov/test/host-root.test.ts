import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipUnless } from '../../shared/src/testing/index.js';
import { fakeRelease, inventory, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

describe.skipIf(skipUnless('sshd'))('hosts.<name>.root: the documented install prefix is honoured', () => {
  let hosts: TestHost[];
  let artifacts: string;
  beforeAll(async () => {
    hosts = await startHosts(1);
    artifacts = mkdtempSync(join(tmpdir(), 'prov-art-'));
    execFileSync('chmod', ['755', artifacts]);
    fakeRelease(artifacts, 'node_exporter', '1.8.2', ['node_exporter']);
  });
  afterAll(async () => {
    await stopHosts(hosts);
  });

  const config = (rootField: string) => {
    const h = hosts[0]!;
    const s = h.sshd;
    return `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts.${h.name} = { address = "${s.host}", port = ${s.port}, user = "${s.username}", key_path = "${s.privateKeyPath}"${rootField} },
  servers = [{ name = "${h.name}", provider = 'local, spec.os = { family = 'debian, version = "12" } }],
  taskservs = [
    { name = 'node_exporter, hosts = ["${h.name}"],
      config = { start = false, artifact_url = "file://${artifacts}/node_exporter.tgz" } },
  ],
} | Infrastructure
`;
  };

  it('installs into root (not the real /), and destroy leaves the tree as it was', async () => {
    const h = hosts[0]!;
    const real = '/usr/local/bin/node_exporter';
    const realBefore = existsSync(real) ? statSync(real).mtimeMs : null;
    const before = inventory(h.root);
    const ws = workspace(config(`, root = "${h.root}/"`), hosts);
    const apply = await prov(ws, ['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(readFileSync(join(h.root, 'usr/local/bin/node_exporter'), 'utf8')).toContain('version 1.8.2');
    expect(existsSync(join(h.root, 'var/lib/prov/taskservs/node_exporter.json'))).toBe(true);
    expect(existsSync(real) ? statSync(real).mtimeMs : null).toBe(realBefore);

    // Planned again: no changes (the prefix is part of what state recorded).
    const moved = await prov(ws, ['plan', '--no-refresh'], 60_000);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('No changes.');

    const destroy = await prov(ws, ['destroy', '-y']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(inventory(h.root)).toEqual(before);
  });

  it('a relative root is refused before any host is touched', async () => {
    const h = hosts[0]!;
    const before = inventory(h.root);
    const ws = workspace(config(', root = "opt/prov"'), hosts);
    const r = await prov(ws, ['apply', '-y']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`host ${h.name}: root "opt/prov" is not an absolute path`);
    expect(r.stderr).toMatch(/--> prov\.ncl:4:\d+/);
    expect(inventory(h.root)).toEqual(before);
  });
});
