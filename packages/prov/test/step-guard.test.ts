import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * kill -9 of prov leaves a taskserv step running on its host (the SSH session goes, the step's shell does
 * not). `prov resume` must not start that step again beside it: it waits for the orphan, whose effect the
 * step's check then sees, so the step ran once.
 */
describe.skipIf(skipUnless('sshd'))('taskserv steps are guarded on the host', () => {
  let hosts: TestHost[];
  beforeAll(async () => {
    hosts = await startHosts(1, 'g');
  }, 60_000);
  afterAll(async () => {
    await stopHosts(hosts);
  });

  it('resume after kill -9 waits for the orphaned step instead of running it twice', async () => {
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    const ws = workspace(cfg, hosts, '\n[taskservs]\ndirs = ["ts"]\n');
    mkdirSync(join(ws.cwd, 'ts'));
    writeFileSync(
      join(ws.cwd, 'ts/slow.ncl'),
      `{ name = "slow", description = "a step that takes a while", version = "1",
  install = [ { name = "work", check = m%"grep -qx end $root/log 2>/dev/null"%, run = m%"echo start >> $root/log; sleep 3; echo end >> $root/log"% } ] }
`,
    );
    const log = join(hosts[0]!.root, 'log');
    const child = spawn(process.execPath, [binPath('prov'), 'service', 'install', 'slow', '--servers', 'g-1', '-y'], {
      cwd: ws.cwd,
      env: ws.env,
      stdio: 'ignore',
    });
    const until = Date.now() + 60_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('start')) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The step is still running on the host: the log has no end yet.
    expect(readFileSync(log, 'utf8')).toBe('start\n');
    const runs = JSON.parse((await prov(ws, ['history', '--json'])).stdout).runs;
    const r = await prov(ws, ['resume', runs[0].id], 60_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('start\nend\n');
    expect(JSON.parse((await prov(ws, ['state', 'show', 'taskserv.slow.g-1', '--json'])).stdout).attrs.service).toBe(
      'slow',
    );
  }, 120_000);
});
