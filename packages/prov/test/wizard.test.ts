import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, runBin, sandbox } from '../../../test/run-bin.js';
import { skipUnless } from '../../shared/src/testing/index.js';
import { hostEntry, startHosts, stopHosts } from './support/hosts.js';

function ws(files: Record<string, string> = {}) {
  const sb = sandbox();
  for (const [f, text] of Object.entries(files)) writeFileSync(join(sb.cwd, f), text);
  return sb;
}
const prov = (sb: { cwd: string; env: NodeJS.ProcessEnv }, args: string[]) =>
  runBin('prov', args, { cwd: sb.cwd, env: sb.env, timeoutMs: 120_000 });

describe('prov wizard with answers files', () => {
  it('cluster: typedialog prov-gen writes the files, prov validates them, then writes them out', async () => {
    const sb = ws({
      'a.yaml':
        'name: shop\nprovider: upcloud\nregion: fi-hel1\ncontrol_plane_count: 1\nworker_count: 2\nmonitoring: true\n',
    });
    const r = await prov(sb, ['wizard', 'cluster', '--answers', 'a.yaml', '-o', 'infra', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'cluster',
      files: ['main.ncl', 'networking.ncl', 'security.ncl', 'servers.ncl'],
    });
    const servers = readFileSync(join(sb.cwd, 'infra/servers.ncl'), 'utf8');
    expect(servers).toContain('"shop-cp-1"');
    expect(servers).toContain('"shop-worker-2"');
    expect(readFileSync(join(sb.cwd, 'infra/main.ncl'), 'utf8')).toContain('region = "fi-hel1"');
    const v = await prov(sb, ['validate', 'infra/main.ncl']);
    expect(v.code, v.stderr).toBe(0);
    // Prices from the same config: 1 control-plane + 2 workers on UpCloud.
    const e = JSON.parse((await prov(sb, ['estimate', 'infra/main.ncl', '--json'])).stdout);
    expect(e.resources).toHaveLength(3);
  });

  it('monitoring: node_exporter on every server and Prometheus on the first', async () => {
    const sb = ws({ 'm.yaml': 'name: mon\nprovider: aws\nworker_count: 2\n' });
    const r = await prov(sb, ['wizard', 'monitoring', '--answers', 'm.yaml', '-o', 'mon']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Valid \(prov validate ran every check\)/);
    const main = readFileSync(join(sb.cwd, 'mon/main.ncl'), 'utf8');
    expect(main).toMatch(/name = 'node_exporter,\s+hosts = \["mon-cp-1", "mon-worker-1", "mon-worker-2"\]/);
    expect(main).toMatch(/name = 'prometheus,\s+hosts = \["mon-cp-1"\]/);
  });

  it('refuses invalid answers (exit 3) and a folder that has the files (exit 6); writes nothing', async () => {
    const sb = ws({ 'bad.yaml': 'name: Bad_Name\nprovider: aws\n', 'ok.yaml': 'name: pg\nprovider: aws\n' });
    const bad = await prov(sb, ['wizard', 'database', '--answers', 'bad.yaml']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/name/);
    expect(existsSync(join(sb.cwd, 'database'))).toBe(false);
    // Without a terminal and without answers: exit 2 naming the flags.
    const none = await prov(sb, ['wizard', 'database']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--answers/);
    mkdirSync(join(sb.cwd, 'database'));
    writeFileSync(join(sb.cwd, 'database/main.ncl'), '# mine\n');
    const clash = await prov(sb, ['wizard', 'database', '--answers', 'ok.yaml']);
    expect(clash.code).toBe(6);
    expect(readFileSync(join(sb.cwd, 'database/main.ncl'), 'utf8')).toBe('# mine\n');
    const forced = await prov(sb, ['wizard', 'database', '--answers', 'ok.yaml', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(sb.cwd, 'database/main.ncl'), 'utf8')).toContain("name = 'postgresql");
  });
  it('database with high availability: the servers for the db-cluster template, no PostgreSQL per server; 3 or more', async () => {
    const sb = ws({
      'two.yaml': 'name: pg\nprovider: aws\nservers: 2\nha: true\n',
      'three.yaml': 'name: pg\nprovider: aws\nservers: 3\nha: true\n',
    });
    const two = await prov(sb, ['wizard', 'database', '--answers', 'two.yaml']);
    expect(two.code).toBe(3);
    expect(two.stderr).toMatch(/high availability needs 3 or more servers/);
    expect(existsSync(join(sb.cwd, 'database'))).toBe(false);
    const three = await prov(sb, ['wizard', 'database', '--answers', 'three.yaml']);
    expect(three.code, three.stderr).toBe(0);
    const main = readFileSync(join(sb.cwd, 'database/main.ncl'), 'utf8');
    expect(main).not.toContain("name = 'postgresql");
    expect(main).toContain('prov cluster create pg --template db-cluster --servers pg-db-1,pg-db-2,pg-db-3');
    expect(main.match(/role = "db-member"/g)).toHaveLength(3);
  });
});

describe.skipIf(skipUnless('sshd'))('prov wizard database on real hosts', () => {
  it('the generated config plans PostgreSQL on the sshd hosts given as addresses', async () => {
    const hosts = await startHosts(2);
    try {
      const sb = ws();
      const addresses = hosts.map((h) => h.sshd.host);
      writeFileSync(
        join(sb.cwd, 'a.yaml'),
        `name: pg\nprovider: local\naddresses: [${addresses.map((a) => JSON.stringify(a)).join(', ')}]\nssh_user: ${hosts[0]?.sshd.username}\npostgres_version: "16"\n`,
      );
      const r = await prov(sb, ['wizard', 'database', '--answers', 'a.yaml', '-o', '.']);
      expect(r.code, r.stderr).toBe(0);
      const main = readFileSync(join(sb.cwd, 'main.ncl'), 'utf8');
      expect(main).toContain('name = \'postgresql, version = "16", hosts = ["pg-db-1", "pg-db-2"]');
      // The wizard's hosts with the test ports and keys (what a user adds for a non-default port), then a plan.
      const withPorts = main.replace(/ {4}"pg-db-(\d)" = \{[^\n]*\},/g, (_, n: string) => {
        const h = hosts[Number(n) - 1]!;
        return `    ${hostEntry({ ...h, name: `"pg-db-${n}"` })},`;
      });
      writeFileSync(join(sb.cwd, 'main.ncl'), withPorts);
      mkdirSync(join(sb.cwd, '.prov'), { recursive: true });
      writeFileSync(
        join(sb.cwd, '.prov/known_hosts'),
        hosts.map((h) => `[${h.sshd.host}]:${h.sshd.port} ${h.sshd.hostKey}\n`).join(''),
      );
      const plan = await prov(sb, ['plan', 'main.ncl']);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toMatch(/taskserv\.postgresql\.pg-db-1 will be created/);
      expect(plan.stdout).toMatch(/taskserv\.postgresql\.pg-db-2 will be created/);
    } finally {
      await stopHosts(hosts);
    }
  });
});

const hasTmux = !skipUnless('tmux');
const socket = `prov-wizard-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
const tick = (ms = 100) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasTmux)('prov wizard in a real terminal (tmux, the tui backend)', () => {
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });

  it('asks the database form in the tui and writes a valid config', { timeout: 240_000 }, async () => {
    const sb = ws();
    const env = `env -u CI HOME=${sb.cwd} XDG_CONFIG_HOME=${sb.cwd}/c XDG_DATA_HOME=${sb.cwd}/d TERM=xterm-256color`;
    tmux(
      'new-session',
      '-d',
      '-s',
      'wiz',
      '-x',
      '100',
      '-y',
      '30',
      `cd '${sb.cwd}' && ${env} ${process.execPath} ${binPath('prov')} wizard database --backend tui -o out; echo "exit=$?"; sleep 60`,
    );
    const screen = () => tmux('capture-pane', '-p', '-t', 'wiz');
    const shows = async (re: RegExp) => {
      for (let i = 0; i < 600; i++) {
        const s = screen();
        if (re.test(s)) return s;
        await tick();
      }
      throw new Error(`the screen never showed ${re}:\n${screen()}`);
    };
    await shows(/Name \(prefix of every server name\)/);
    tmux('send-keys', '-t', 'wiz', 'C-u');
    tmux('send-keys', '-t', 'wiz', '-l', 'orders');
    await shows(/› orders/);
    // Enter through the other questions (their defaults), one at a time, each after the screen moved on.
    for (let i = 0; i < 30; i++) {
      const before = screen();
      if (/Submit/.test(before)) break;
      tmux('send-keys', '-t', 'wiz', 'Enter');
      for (let j = 0; j < 400 && screen() === before; j++) await tick();
    }
    await shows(/Submit/);
    tmux('send-keys', '-t', 'wiz', 'Enter');
    const done = await shows(/exit=\d+/);
    expect(done).toMatch(/exit=0/);
    expect(readdirSync(join(sb.cwd, 'out'))).toEqual(['main.ncl']);
    const main = readFileSync(join(sb.cwd, 'out/main.ncl'), 'utf8');
    expect(main).toContain('name = "orders-db-1"');
    expect(main).toContain('plan = "t3.xlarge"');
  });
});
