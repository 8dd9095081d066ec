import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SvaultClient } from '@stratumiops/svault/client/index';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';
import { type SvaultDev, startSvaultDev } from './support/svault.js';

/**
 * A cluster whose template makes secrets (a 'kubernetes kind: token, CA), installed by a slow stand-in for the
 * kubernetes definition that writes the token it was given: one member after the other, so a create can be
 * killed between them.
 */
const SLOW = `{
  name = "kubernetes",
  description = "test stand-in: slow, writes the join token it was given",
  version = "0",
  variables = { delay = 2 },
  install = [{ name = "slow", run = m%"sleep "$delay"; mkdir -p "$root/opt/k"; printf '%s' "$token" > "$root/opt/k/$host""% }],
  uninstall = [{ name = "rm", run = m%"rm -f "$root/opt/k/$host"; prov_prune "$root/opt/k""% }],
}
`;

const TEMPLATE = `# Test template: the kubernetes stand-in on every member, one after the other.
fun p => {
  name = p.name,
  template = "slow-k8s",
  kind = "kubernetes",
  members = p.members,
  services = std.array.map (fun m => {
      service = "kubernetes",
      host = m.host,
      after = if m.index == 0 then [] else [(std.array.at 0 p.members).host],
    }) p.members,
  order = ["kubernetes"],
}
`;

async function waitForRow<T>(dbFile: string, sql: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const db = new Database(dbFile, { readonly: true, fileMustExist: true });
      try {
        const row = db.prepare(sql).get() as T | undefined;
        if (row) return row;
      } finally {
        db.close();
      }
    } catch {}
    await delay(50);
  }
  throw new Error(`timed out waiting for: ${sql}`);
}

/** Every file under a folder, as text. */
function allText(dir: string): string {
  let out = '';
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    out += statSync(p).isDirectory() ? allText(p) : readFileSync(p).toString('latin1');
  }
  return out;
}

describe.skipIf(skipUnless('sshd'))('an interrupted cluster create, resumed', () => {
  let hosts: TestHost[];
  let vault: SvaultDev;
  beforeAll(async () => {
    [vault, hosts] = await Promise.all([startSvaultDev(), startHosts(2, 'sk')]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([vault?.stop(), stopHosts(hosts)]);
  });

  it('kill -9 between members; prov resume finishes with the same secrets, which never reach plan or state', async () => {
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    const ws = workspace(cfg, hosts, '\n[taskservs]\ndirs = ["taskservs"]\n');
    ws.env = { ...ws.env, SVAULT_ADDR: vault.addr, SVAULT_TOKEN: vault.token };
    mkdirSync(join(ws.cwd, 'taskservs'));
    writeFileSync(join(ws.cwd, 'taskservs', 'kubernetes.ncl'), SLOW);
    mkdirSync(join(ws.cwd, 'tpl'));
    writeFileSync(join(ws.cwd, 'tpl', 'template.ncl'), TEMPLATE);

    const child: ChildProcess = spawn(
      process.execPath,
      [binPath('prov'), 'cluster', 'create', 'kc', '--template', './tpl', '--servers', 'sk-1,sk-2', '-y'],
      { cwd: ws.cwd, env: ws.env, stdio: 'ignore' },
    );
    const exited = new Promise((r) => child.on('close', r));
    const task = await waitForRow<{ run_id: string }>(
      join(ws.cwd, '.prov', 'state.db'),
      "SELECT run_id FROM tasks WHERE address = 'taskserv.kubernetes.sk-1' AND status = 'done'",
    );
    child.kill('SIGKILL');
    await exited;

    const during = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(during.clusters).toMatchObject([{ name: 'kc', status: 'creating' }]);
    const resumed = await prov(ws, ['resume', task.run_id], 120_000);
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);

    // Both members got the same token, the one in svault.
    const kv = await new SvaultClient({ addr: vault.addr, token: vault.token }).kvGet('secret', 'prov/clusters/kc');
    const token = String(kv.data?.data?.kubernetes_token);
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    for (const h of hosts) expect(readFileSync(join(h.root, 'opt/k', h.name), 'utf8')).toBe(token);
    // Neither the state, nor the plan of the run, nor anything else of the workspace holds it.
    expect(allText(join(ws.cwd, '.prov')).includes(token)).toBe(false);
    const run = (await prov(ws, ['history', task.run_id, '--json'])).stdout;
    expect(run.includes(token)).toBe(false);
    expect(run).toContain('svault://secret/data/prov/clusters/kc#kubernetes_token');

    const after = JSON.parse((await prov(ws, ['cluster', 'list', '--json'])).stdout);
    expect(after.clusters).toMatchObject([{ name: 'kc', members: ['sk-1', 'sk-2'] }]);
    expect(after.clusters[0].status).toBeUndefined();
    expect((await prov(ws, ['cluster', 'destroy', 'kc', '-y'])).code).toBe(0);
  }, 240_000);
});
