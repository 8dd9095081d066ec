import { execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath } from '../../../test/run-bin.js';
import {
  findNodeExporter,
  findPrometheus,
  freePortBlock,
  prometheusQuery,
  skipUnless,
} from '../../shared/src/testing/index.js';
import { hostEntry, prov, startHosts, stopHosts, type TestHost, workspace } from './support/hosts.js';

/**
 * Workflows on real sshd hosts: the shipped security and monitoring workflows, and workflow files of the
 * workspace for the orchestrator's guarantees (retries, rollback in reverse, resume after kill -9 runs each
 * step once). Scripts run on the hosts for real; nothing of prov is stubbed.
 */
describe.skipIf(skipUnless('sshd'))('workflows over SSH', () => {
  let hosts: TestHost[];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  const owner = (p: string, h: TestHost) => {
    const st = statSync(h.sshd.workDir);
    chownSync(p, st.uid, st.gid);
  };

  beforeAll(async () => {
    hosts = await startHosts(2, 'w');
    const cfg = `let Infrastructure = import "infrastructure.ncl" in
{ provider = 'local, hosts = { ${hosts.map((h) => hostEntry(h)).join(', ')} } } | Infrastructure
`;
    ws = workspace(cfg, hosts);
  }, 60_000);
  afterAll(async () => {
    for (const h of hosts ?? []) {
      for (const f of ['run/node_exporter.pid', 'run/prometheus.pid']) {
        const p = join(h.root, f);
        if (existsSync(p)) {
          try {
            process.kill(Number(readFileSync(p, 'utf8').trim()), 'SIGKILL');
          } catch {}
        }
      }
    }
    await stopHosts(hosts);
  });

  it('lists the shipped workflows', async () => {
    const r = await prov(ws, ['workflow', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).workflows.map((w: { name: string }) => w.name)).toEqual([
      'backup',
      'monitoring',
      'security',
    ]);
  });

  it('security: hardens each host’s sshd_config, and rolling the run back leaves it byte-identical', async () => {
    const originals = hosts.map((h) => {
      // The test host's own sshd_config, copied into its install tree: never the machine's /etc.
      const dir = join(h.root, 'etc/ssh');
      mkdirSync(dir, { recursive: true });
      owner(join(h.root, 'etc'), h);
      owner(dir, h);
      const f = join(dir, 'sshd_config');
      copyFileSync(join(h.sshd.dir, 'sshd_config'), f);
      owner(f, h);
      return readFileSync(f);
    });
    const r = await prov(ws, ['workflow', 'run', 'security', '--servers', 'w-1,w-2', '--json'], 120_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const run = JSON.parse(r.stdout);
    expect(run.status).toBe('succeeded');
    for (const h of hosts) {
      const text = readFileSync(join(h.root, 'etc/ssh/sshd_config'), 'utf8');
      expect(text).toMatch(/^PermitRootLogin no$/m);
      expect(text).toMatch(/^PasswordAuthentication no$/m);
      expect(text).toMatch(/^X11Forwarding no$/m);
      expect(text).toMatch(/^MaxAuthTries 3$/m);
      expect(readFileSync(join(h.root, 'etc/apt/apt.conf.d/20auto-upgrades'), 'utf8')).toContain(
        'Unattended-Upgrade "1"',
      );
      expect(readFileSync(join(h.root, 'etc/nftables.d/prov-hardening.nft'), 'utf8')).toContain(
        'tcp dport { 22 } accept',
      );
    }
    // Running it again changes nothing more and keeps the first originals.
    expect((await prov(ws, ['workflow', 'run', 'security', '--servers', 'w-1,w-2', '--json'], 120_000)).code).toBe(0);

    const back = await prov(ws, ['workflow', 'rollback', run.id, '-y', '--json'], 120_000);
    expect(back.code, back.stderr + back.stdout).toBe(0);
    expect(JSON.parse(back.stdout).status).toBe('rolled_back');
    hosts.forEach((h, i) => {
      expect(readFileSync(join(h.root, 'etc/ssh/sshd_config')).equals(originals[i]!)).toBe(true);
      expect(existsSync(join(h.root, 'etc/apt/apt.conf.d/20auto-upgrades'))).toBe(false);
      expect(existsSync(join(h.root, 'etc/nftables.d'))).toBe(false);
    });
    const undo = JSON.parse((await prov(ws, ['workflow', 'status', run.id, '--json'])).stdout);
    // Undone in reverse: firewall, then unattended-upgrades, then sshd (per host).
    const order = undo.timeline
      .filter((e: { type: string }) => e.type === 'rolled-back')
      .map((e: { id: string }) => e.id.split('@')[0]);
    expect(order.indexOf('firewall')).toBeLessThan(order.lastIndexOf('sshd'));
    expect(order.lastIndexOf('unattended-upgrades')).toBeLessThan(order.lastIndexOf('sshd'));
  }, 300_000);

  it('a step failing after its retries rolls the completed steps back in reverse order; exit 1 names the run', async () => {
    const log = join(hosts[0]!.root, 'wf.log');
    writeFileSync(
      join(ws.cwd, 'flaky.ncl'),
      `fun ctx => {
  name = "flaky",
  steps = [
    { id = "a", kind = "exec", on = "first", run = m%"echo run-a >> $root/wf.log"%, undo = m%"echo undo-a >> $root/wf.log"% },
    { id = "b", kind = "exec", on = "first", depends_on = ["a"], run = m%"echo run-b >> $root/wf.log"%, undo = m%"echo undo-b >> $root/wf.log"% },
    { id = "c", kind = "exec", on = "first", depends_on = ["b"], retries = 2, run = m%"echo try-c >> $root/wf.log; exit 1"% },
  ],
}
`,
    );
    const r = await prov(ws, ['workflow', 'run', './flaky.ncl', '--servers', 'w-1,w-2', '--json'], 120_000);
    expect(r.code).toBe(1);
    const err = JSON.parse(r.stdout || r.stderr).error;
    expect(err.details.status).toBe('rolled_back');
    expect(err.hint).toContain(`prov workflow status ${err.details.id}`);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'run-a',
      'run-b',
      'try-c',
      'try-c',
      'try-c',
      'undo-b',
      'undo-a',
    ]);
  }, 120_000);

  it('over MCP: execute_workflow lists the steps by default, runs only with --allow-execute, rolls back like the CLI', async () => {
    const log = join(hosts[0]!.root, 'mcp.log');
    writeFileSync(
      join(ws.cwd, 'mcpflow.ncl'),
      `fun ctx => {
  name = "mcpflow",
  description = "two steps and one that fails",
  steps = [
    { id = "a", kind = "exec", on = "first", run = m%"echo run-a >> $root/mcp.log"%, undo = m%"echo undo-a >> $root/mcp.log"% },
    { id = "b", kind = "exec", on = "first", depends_on = ["a"], run = m%"echo run-b >> $root/mcp.log"%, undo = m%"echo undo-b >> $root/mcp.log"% },
    { id = "c", kind = "exec", on = "first", depends_on = ["b"], run = m%"echo try-c >> $root/mcp.log; exit 1"% },
  ],
}
`,
    );
    const connect = async (args: string[]) => {
      const client = new Client({ name: 'prov-workflow-test', version: '1.0.0' });
      await client.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: [binPath('prov'), 'mcp', 'serve', ...args],
          cwd: ws.cwd,
          env: ws.env as Record<string, string>,
          stderr: 'ignore',
        }),
      );
      return client;
    };
    const call = { name: 'execute_workflow', arguments: { workflow: './mcpflow.ncl', servers: ['w-1'] } };
    const planner = await connect([]);
    try {
      const dry = (await planner.callTool(call)) as CallToolResult;
      expect(dry.isError).toBeFalsy();
      expect((dry.structuredContent as { tasks: { id: string }[] }).tasks.map((t) => t.id)).toEqual([
        'a@w-1',
        'b@w-1',
        'c@w-1',
      ]);
      const refused = (await planner.callTool({
        ...call,
        arguments: { ...call.arguments, dry_run: false },
      })) as CallToolResult;
      expect(refused.isError).toBe(true);
      expect((refused.content[0] as { text: string }).text).toMatch(/--allow-execute/);
      const outside = (await planner.callTool({
        name: 'execute_workflow',
        arguments: { workflow: '/tmp/elsewhere.ncl', servers: ['w-1'] },
      })) as CallToolResult;
      expect([outside.isError, (outside.content[0] as { text: string }).text]).toEqual([
        true,
        expect.stringMatching(/outside the workspace/),
      ]);
      expect(existsSync(log)).toBe(false);
    } finally {
      await planner.close();
    }

    const runner = await connect(['--allow-execute']);
    try {
      const progress: string[] = [];
      const r = (await runner.callTool({ ...call, arguments: { ...call.arguments, dry_run: false } }, undefined, {
        onprogress: (p) => progress.push(String(p.message)),
        timeout: 120_000,
      })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect((r.structuredContent as { run: { status: string } }).run.status).toBe('rolled_back');
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['run-a', 'run-b', 'try-c', 'undo-b', 'undo-a']);
      // Each step was reported while it ran: starts, the failure, the rollback.
      expect(progress).toEqual(
        expect.arrayContaining(['start a@w-1', 'done a@w-1', expect.stringMatching(/^failed c@w-1/)]),
      );
    } finally {
      await runner.close();
    }
  }, 180_000);

  it('bad workflows are refused before anything runs', async () => {
    writeFileSync(
      join(ws.cwd, 'cycle.ncl'),
      `fun ctx => { name = "x", steps = [ { id = "a", kind = "exec", run = "true", depends_on = ["zz"] } ] }\n`,
    );
    const unknownDep = await prov(ws, ['workflow', 'run', './cycle.ncl', '--servers', 'w-1']);
    expect(unknownDep.code).toBe(3);
    expect(unknownDep.stderr).toContain('depends on zz');
    writeFileSync(
      join(ws.cwd, 'badkind.ncl'),
      `fun ctx => { name = "x", steps = [ { id = "a", kind = "shell", run = "true" } ] } | (import "workflow.ncl").Workflow\n`,
    );
    expect((await prov(ws, ['workflow', 'run', './badkind.ncl', '--servers', 'w-1'])).code).toBe(3);
    expect((await prov(ws, ['workflow', 'run', 'nope', '--servers', 'w-1'])).code).toBe(4);
    expect((await prov(ws, ['workflow', 'run', 'security'])).code).toBe(2);
    expect((await prov(ws, ['workflow', 'status', 'no-such-run'])).code).toBe(4);
  }, 60_000);

  it('kill -9 of prov mid-workflow, then resume: every step ran exactly once, the orphaned one was waited for', async () => {
    const log = join(hosts[1]!.root, 'once.log');
    writeFileSync(
      join(ws.cwd, 'slow.ncl'),
      `fun ctx => {
  name = "slow",
  steps = [
    { id = "a", kind = "exec", on = "w-2", run = m%"echo a >> $root/once.log"% },
    { id = "b", kind = "exec", on = "w-2", depends_on = ["a"], run = m%"echo b-start >> $root/once.log; sleep 4; echo b-end >> $root/once.log"% },
    { id = "c", kind = "exec", on = "w-2", depends_on = ["b"], run = m%"echo c >> $root/once.log"% },
  ],
}
`,
    );
    const child = spawn(process.execPath, [binPath('prov'), 'workflow', 'run', './slow.ncl', '--servers', 'w-2'], {
      cwd: ws.cwd,
      env: ws.env,
      stdio: 'ignore',
    });
    const until = Date.now() + 60_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('b-start')) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const list = JSON.parse((await prov(ws, ['workflow', 'list', '--json'])).stdout);
    const id = list.runs.find((r: { workflow: string }) => r.workflow === 'slow').id;
    expect(JSON.parse((await prov(ws, ['workflow', 'status', id, '--json'])).stdout).status).toBe('interrupted');
    const r = await prov(ws, ['workflow', 'resume', id, '--json'], 120_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).status).toBe('succeeded');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['a', 'b-start', 'b-end', 'c']);
    expect((await prov(ws, ['workflow', 'resume', id])).code).toBe(6);
  }, 180_000);

  it('a workflow run holds the state lock: an apply meanwhile fails naming its pid; after it, apply goes', async () => {
    const log = join(hosts[1]!.root, 'locked.log');
    writeFileSync(
      join(ws.cwd, 'locked.ncl'),
      `fun ctx => {
  name = "locked",
  steps = [{ id = "a", kind = "exec", on = "w-2", run = m%"echo start >> $root/locked.log; i=0; while [ ! -f $root/release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo end >> $root/locked.log"% }],
}
`,
    );
    const child = spawn(process.execPath, [binPath('prov'), 'workflow', 'run', './locked.ncl', '--servers', 'w-2'], {
      cwd: ws.cwd,
      env: ws.env,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const until = Date.now() + 60_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').includes('start')) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    const apply = await prov(ws, ['apply', '-y']);
    expect(child.exitCode).toBeNull();
    expect(apply.code).toBe(6);
    expect(apply.stderr).toMatch(new RegExp(`state is locked by \\S+@\\S+ pid ${child.pid} \\(workflow locked run `));
    // The step waits for this file (not for a sleep that a loaded machine may outlast).
    writeFileSync(join(hosts[1]!.root, 'release'), '');
    expect(await exited).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['start', 'end']);
    expect((await prov(ws, ['apply', '-y'])).code).toBe(0);
  }, 120_000);

  const monitoring = findPrometheus() && findNodeExporter() && existsSync('/usr/bin/promtool');
  it.skipIf(!monitoring && !process.env.CI)(
    'monitoring: node_exporter on each host, Prometheus scraping them; its API reports up == 1 for every target',
    async () => {
      // Release-shaped tarballs of Debian's real binaries (these hosts cannot download the upstream ones).
      const art = mkdtempSync(join(tmpdir(), 'prov-mon-'));
      const ne = join(art, 'node_exporter-1.5.0.linux-amd64');
      const pr = join(art, 'prometheus-2.42.0.linux-amd64');
      mkdirSync(ne);
      mkdirSync(pr);
      copyFileSync(findNodeExporter()!, join(ne, 'node_exporter'));
      copyFileSync(findPrometheus()!, join(pr, 'prometheus'));
      copyFileSync('/usr/bin/promtool', join(pr, 'promtool'));
      execFileSync('tar', ['-czf', join(art, 'ne.tgz'), '-C', art, 'node_exporter-1.5.0.linux-amd64']);
      execFileSync('tar', ['-czf', join(art, 'prom.tgz'), '-C', art, 'prometheus-2.42.0.linux-amd64']);
      execFileSync('chmod', ['-R', 'a+rX', art]);
      // node_exporter on w-1 and w-2 (port_stride 1), Prometheus after them: one block probed free.
      const nePort = await freePortBlock(3);
      const promPort = nePort + 2;
      const params = [
        'init=none',
        'listen=127.0.0.1',
        `node_exporter_port=${nePort}`,
        'port_stride=1',
        `prometheus_port=${promPort}`,
        'scrape_interval=1s',
        'node_exporter_version=1.5.0',
        'prometheus_version=2.42.0',
        `node_exporter_url=file://${art}/ne.tgz`,
        `prometheus_url=file://${art}/prom.tgz`,
      ].flatMap((p) => ['--set', p]);
      const r = await prov(ws, ['workflow', 'run', 'monitoring', '--servers', 'w-1,w-2', ...params, '--json'], 240_000);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(JSON.parse(r.stdout).status).toBe('succeeded');
      const up = await prometheusQuery(`http://127.0.0.1:${promPort}`, 'up');
      expect(up.map((u) => [u.labels.instance, u.value]).sort()).toEqual([
        [`127.0.0.1:${nePort}`, 1],
        [`127.0.0.1:${nePort + 1}`, 1],
      ]);
      const rules = await (await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`)).json();
      expect(JSON.stringify(rules)).toContain('InstanceDown');
      expect(readFileSync(join(hosts[0]!.root, 'etc/prometheus/prometheus.yml'), 'utf8')).toContain(
        `127.0.0.1:${nePort + 1}`,
      );
    },
    300_000,
  );
});
