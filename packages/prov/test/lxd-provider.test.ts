import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { DEFAULT_LXD_SOCKET, LxdProvider } from '../src/adapters/lxd.js';

/** LXD answers on its socket (Debian's lxd 5.0 started with `lxd --group root` and a dir pool). */
function lxdReady(): string | undefined {
  if (!existsSync(DEFAULT_LXD_SOCKET))
    return `no LXD socket at ${DEFAULT_LXD_SOCKET} (apt-get install lxd; lxd init --preseed)`;
  try {
    execFileSync('lxc', ['query', '/1.0'], { stdio: 'ignore', timeout: 20_000 });
    return undefined;
  } catch {
    return 'lxc query /1.0 failed: LXD is not running or not initialized';
  }
}
const notReady = lxdReady();
if (notReady) console.warn(`[skip] LXD provider tests: ${notReady}`);

const lxc = (...args: string[]) =>
  execFileSync('lxc', args, { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A tiny image from this machine's own binaries (sh and a few coreutils, with their libraries): no image server
 * or debootstrap needed; it has no init, so containers run `sleep` as PID 1.
 */
function buildImage(alias: string) {
  const dir = mkdtempSync(join(tmpdir(), 'prov-lxd-image-'));
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  const bins = [
    'sh',
    'sleep',
    'cat',
    'uname',
    'mkdir',
    'touch',
    'rm',
    'rmdir',
    'timeout',
    'sha256sum',
    'cut',
    'install',
    'dirname',
    'test',
    'tail',
  ];
  for (const bin of bins
    .map((b) => `/usr/bin/${b}`)
    .map((b) => (existsSync(b) ? b : b.replace('/usr/bin/', '/bin/')))) {
    const dest = join(root, 'bin', bin.split('/').pop() as string);
    copyFileSync(bin, dest);
    execFileSync('chmod', ['755', dest]);
    for (const lib of execFileSync('ldd', [bin], { encoding: 'utf8' }).match(/\/\S+/g) ?? []) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      if (!existsSync(join(root, lib))) copyFileSync(lib, join(root, lib));
    }
  }
  copyFileSync('/etc/os-release', join(root, 'etc/os-release'));
  writeFileSync(
    join(dir, 'metadata.yaml'),
    `architecture: ${execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()}\ncreation_date: ${Math.floor(Date.now() / 1000)}\nproperties:\n  description: prov test rootfs\n`,
  );
  execFileSync('tar', ['-C', dir, '-czf', join(dir, 'meta.tar.gz'), 'metadata.yaml']);
  execFileSync('tar', ['-C', root, '-czf', join(dir, 'rootfs.tar.gz'), '.']);
  lxc('image', 'import', join(dir, 'meta.tar.gz'), join(dir, 'rootfs.tar.gz'), '--alias', alias);
}

interface Instance {
  name: string;
  status: string;
  config: Record<string, string>;
}
const instances = (): Instance[] => JSON.parse(lxc('list', '--format', 'json'));

describe.skipIf(notReady !== undefined)('the lxd provider: servers as LXD containers over its REST API', () => {
  const tag = `p${process.pid}`;
  const alias = `prov-test-${tag}`;
  const names = [`${tag}-ct-1`, `${tag}-ct-2`];
  let ws: { cwd: string; env: NodeJS.ProcessEnv };
  const prov = (args: string[]) => runBin('prov', args, { cwd: ws.cwd, env: ws.env, timeoutMs: 180_000 });

  beforeAll(() => {
    buildImage(alias);
    ws = sandbox();
    writeFileSync(
      join(ws.cwd, 'prov.ncl'),
      `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'lxd,
  servers = [
    { name = "${names[0]}", provider = 'lxd, plan = "c1-m1", spec.os = { family = 'debian, version = "12" } },
    { name = "${names[1]}", provider = 'lxd, spec = { cpu = 1, memory_gb = 0.5, os = { family = 'debian, version = "12" } } },
  ],
} | Infrastructure
`,
    );
  }, 180_000);

  afterAll(() => {
    for (const n of [...names, `${tag}-foreign`, `${tag}-svc`]) {
      try {
        lxc('delete', '--force', n);
      } catch {
        // already gone
      }
    }
    try {
      lxc('image', 'delete', alias);
    } catch {
      // already gone
    }
  });

  it('provider add and test, apply creates and starts the containers with their limits', {
    timeout: 300_000,
  }, async () => {
    const add = await prov(['provider', 'add', 'lxd', '--image', alias, '--init-cmd', '/bin/sleep 2147483647']);
    expect(add.code, add.stderr).toBe(0);
    const test = await prov(['provider', 'test', 'lxd', '--json']);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stdout).toContain(`image ${alias}`);
    const apply = await prov(['apply', '-y']);
    expect(apply.code, apply.stderr).toBe(0);
    const mine = instances().filter((i) => names.includes(i.name));
    expect(mine.map((i) => [i.name, i.status]).sort()).toEqual([
      [names[0], 'Running'],
      [names[1], 'Running'],
    ]);
    const first = mine.find((i) => i.name === names[0])!;
    expect(first.config).toMatchObject({
      'limits.cpu': '1',
      'limits.memory': '1024MiB',
      'user.prov.address': `server.${names[0]}`,
    });
    expect(mine.find((i) => i.name === names[1])?.config['limits.memory']).toBe('512MiB');
    // Commands run in the container through LXD exec.
    const p = new LxdProvider({ socket: DEFAULT_LXD_SOCKET, image: alias, profiles: ['default'] });
    const r = await p.exec(names[0] as string, ['/bin/uname', '-s']);
    expect(r).toMatchObject({ exitCode: 0, stdout: 'Linux\n' });
    expect((await p.exec(names[0] as string, ['/bin/sh', '-c', 'exit 7'])).exitCode).toBe(7);
    // LXD reports 127 as a failed operation; it comes back as the exit code.
    expect((await p.exec(names[0] as string, ['/bin/sh', '-c', 'no-such-command'])).exitCode).toBe(127);
    expect((await prov(['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('a taskserv on a container is installed, checked and removed through LXD exec (no SSH)', {
    timeout: 300_000,
  }, async () => {
    const def = `{
  name = "svc",
  description = "runs while its file exists",
  version = "1.0",
  install = [{ name = "dir", run = m%"mkdir -p /opt/svc"% }],
  start = [{ name = "run", run = m%"touch /opt/svc/running; echo "started on $host ($os_family)" > /opt/svc/log; mkdir -p /var/log; echo "svc up" >> /var/log/svc.log"% }],
  health = [{ name = "running", run = m%"test -f /opt/svc/running"% }],
  status = { name = "status", run = m%"if [ -f /opt/svc/running ]; then echo running; else echo stopped; fi"% },
  uninstall = [{ name = "rm", run = m%"rm -rf /opt/svc"% }],
}
`;
    // Its own workspace and state: the other tests' containers are not in this config.
    const svc = `${tag}-svc`;
    const sb = sandbox();
    mkdirSync(join(sb.cwd, 'defs'), { recursive: true });
    mkdirSync(join(sb.cwd, '.prov'), { recursive: true });
    writeFileSync(join(sb.cwd, 'defs', 'svc.ncl'), def);
    writeFileSync(join(sb.cwd, 'prov.toml'), '[taskservs]\ndirs = ["defs"]\n');
    copyFileSync(join(ws.cwd, '.prov', 'providers.json'), join(sb.cwd, '.prov', 'providers.json'));
    writeFileSync(
      join(sb.cwd, 'prov.ncl'),
      `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'lxd,
  servers = [{ name = "${svc}", provider = 'lxd, plan = "c1-m1", spec.os = { family = 'debian, version = "12" } }],
  taskservs = [{ name = "svc", hosts = ["${svc}"] }],
} | Infrastructure
`,
    );
    const run = (args: string[]) => runBin('prov', args, { cwd: sb.cwd, env: sb.env, timeoutMs: 180_000 });
    const apply = await run(['apply', '-y']);
    expect(apply.code, apply.stderr + apply.stdout).toBe(0);
    const p = new LxdProvider({ socket: DEFAULT_LXD_SOCKET, image: alias, profiles: ['default'] });
    const log = await p.exec(svc, ['/bin/cat', '/opt/svc/log']);
    expect(log.stdout).toBe(`started on ${svc} (debian)\n`);
    expect((await run(['plan', '--detailed-exitcode'])).code).toBe(0);
    // Stopped behind prov's back: drift, and apply starts it again through LXD exec.
    await p.exec(svc, ['/bin/rm', '/opt/svc/running']);
    expect((await run(['plan'])).stdout).toMatch(/taskserv\.svc\.\S+ will be started/);
    expect((await run(['apply', '-y'])).code).toBe(0);
    expect((await p.exec(svc, ['/bin/test', '-f', '/opt/svc/running'])).exitCode).toBe(0);
    // The fleet commands reach the container the same way.
    const health = await run(['health', '--json']);
    expect(health.code, health.stderr).toBe(0);
    expect(JSON.parse(health.stdout).checks).toEqual([
      expect.objectContaining({ service: 'svc', host: svc, status: 'healthy' }),
    ]);
    const logs = await run(['logs', 'svc']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain(`${svc} | svc up`);
    expect((await run(['logs', 'svc', '-f'])).code).toBe(2);
    const destroy = await run(['destroy', '-y']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(instances().some((i) => i.name === svc)).toBe(false);
  });

  it('a stopped container is drift that apply starts; destroy deletes them; a foreign instance is never adopted', {
    timeout: 300_000,
  }, async () => {
    lxc('stop', '--force', names[1] as string);
    const plan = await prov(['plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(new RegExp(`server\\.${names[1]} will be started`));
    expect((await prov(['apply', '-y'])).code).toBe(0);
    expect(instances().find((i) => i.name === names[1])?.status).toBe('Running');

    const destroy = await prov(['destroy', '-y']);
    expect(destroy.code, destroy.stderr).toBe(0);
    expect(instances().filter((i) => names.includes(i.name))).toEqual([]);

    // An instance prov did not make, under a name the config uses: refused, left alone.
    lxc('init', alias, `${tag}-foreign`);
    writeFileSync(
      join(ws.cwd, 'foreign.ncl'),
      `{ provider = 'lxd, servers = [{ name = "${tag}-foreign", provider = 'lxd, spec.os = { family = 'debian, version = "12" } }] } | (import "infrastructure.ncl")\n`,
    );
    const clash = await prov(['apply', 'foreign.ncl', '-y', '--no-rollback']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr + clash.stdout).toMatch(/exists and was not made by prov/);
    expect(instances().find((i) => i.name === `${tag}-foreign`)?.status).toBe('Stopped');
  });
});
