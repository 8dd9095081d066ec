#!/usr/bin/env node
// npm run scenario -- list | <name> [--json] [--out DIR]
//
// The platform's ops scenarios, run against the real binaries as a user runs them:
// child processes, --json outputs parsed, throwaway state in a folder printed at the start, servers
// stopped at the end (also on failure and Ctrl-C). Each step prints a timeline line; the first broken
// promise stops the run with the step and why (exit 1). A scenario whose pieces are not built yet
// exits 1 naming them: never a fake success. Bad input exits 2 with the list.
import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, randomBytes, X509Certificate } from 'node:crypto';
import {
  appendFileSync,
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
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(ROOT, 'examples', 'scenarios');
const bin = (tool) => join(ROOT, 'packages', tool, 'bin', 'run.js');

// ---------------------------------------------------------------------------------------------
// What each scenario needs. A `cmd` piece is built when its --help answers;
// a `bin` piece is a server binary on this machine; a `gap` is integration work no command shows yet.

const cmd = (tool, ...args) => ({ kind: 'cmd', tool, args, label: `${tool} ${args.join(' ')}` });
const serverBin = (label, candidates, pkg) => ({ kind: 'bin', label, candidates, pkg });
const gap = (label, issue) => ({ kind: 'gap', label, issue });

const PG = serverBin('postgresql', ['/usr/lib/postgresql/*/bin/postgres', 'postgres'], 'postgresql');
const SSHD = serverBin('sshd hosts', ['/usr/sbin/sshd', 'sshd'], 'openssh-server');
const NATS = serverBin('nats-server', ['nats-server', '/usr/sbin/nats-server'], 'nats-server');
const ETCD = serverBin('etcd', ['etcd'], 'etcd-server');
const CHROMIUM = serverBin('chromium', ['chromium', 'chromium-browser'], 'chromium');

const SCENARIOS = {
  'zero-touch': {
    title:
      'Zero-touch provisioning: wizard → prov-gen Nickel → kogral guidelines (MCP) → prov plan/apply on sshd hosts → svault PKI + DB creds → vapora Monitor/Security pipeline with approval → kogral execution node',
    needs: [
      cmd('typedialog', 'run'),
      cmd('typedialog', 'prov-gen'),
      cmd('kogral', 'serve'),
      cmd('prov', 'apply'),
      cmd('prov', 'cluster', 'create'),
      cmd('prov', 'cert', 'generate'),
      cmd('prov', 'health'),
      cmd('prov', 'compliance'),
      cmd('svault', 'pki', 'issue'),
      cmd('vapora', 'pipeline', 'run'),
      SSHD,
      PG,
      CHROMIUM,
    ],
  },
  'incident-response': {
    title:
      'Incident response: PostgreSQL (installed by prov on an sshd host) crashes → Monitor detects it with the app login → DevOps finds postmortems through kogral MCP and diagnoses through prov → Security verifies the svault audit chain → a human approves → prov restarts it → svault rotates the database credentials → kogral postmortem',
    run: incidentResponse,
    twins: {
      'rejected-approval':
        'oncall-lead rejects the restart: the run stops, nothing is restarted, the postmortem stays open',
      'failed-restart':
        'a hand-broken setting keeps PostgreSQL from starting: the approved restart fails, credentials are not rotated, the postmortem stays open',
    },
    needs: [
      cmd('prov', 'apply'),
      cmd('prov', 'exec'),
      cmd('prov', 'service', 'status'),
      cmd('svault', 'server'),
      cmd('svault', 'database', 'creds'),
      cmd('svault', 'lease', 'revoke'),
      cmd('svault', 'audit', 'verify'),
      cmd('vapora', 'pipeline', 'run'),
      cmd('vapora', 'approve'),
      cmd('kogral', 'serve'),
      cmd('kogral', 'add', 'execution'),
      SSHD,
      PG,
    ],
    // What the scenario's story has that this run does not do yet (printed, and in --json).
  },
  'pqc-migration': {
    title:
      'Post-quantum migration: kogral ADR → svault keyring to hybrid ML-KEM-768 (crypto_backend = "pqc", old data still opens) → data keys rewrapped to an ML-KEM-768 transit key → typedialog migrate-service form → ML-DSA-65 certificates deployed by prov host by host and rotated → vapora validation pipeline (latency, Security checks every record and certificate) → kogral execution node',
    run: pqcMigration,
    twins: {
      'corrupt-rewrap':
        "one record's data key is rewrapped from the wrong key material: Security blocks the validation, the execution node stays open",
    },
    needs: [
      cmd('kogral', 'add', 'decision'),
      cmd('svault', 'server'),
      cmd('svault', 'transit', 'datakey'),
      cmd('svault', 'pki', 'verify'),
      cmd('prov', 'cert', 'generate'),
      cmd('prov', 'cert', 'rotate'),
      cmd('typedialog', 'run'),
      cmd('vapora', 'pipeline', 'run'),
      SSHD,
    ],
  },
  'disaster-recovery': {
    title:
      'Multi-cloud disaster recovery: ProjectManager declares DR → prov migrate plan/apply aws → upcloud against local EC2/UpCloud wire servers with rollback → svault HA failover → new certs and creds → kogral incident with RTO/RPO',
    needs: [
      cmd('prov', 'migrate', 'plan'),
      cmd('prov', 'apply'),
      cmd('prov', 'cert', 'rotate'),
      cmd('svault', 'server'),
      cmd('vapora', 'pipeline', 'run'),
      cmd('kogral', 'add', 'execution'),
      gap('local servers speaking the EC2 and UpCloud wire protocols for a scenario run', 'prov'),
      PG,
      ETCD,
      NATS,
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// Probing what is built.

function onPath(name) {
  if (name.includes('*')) {
    const r = spawnSync('sh', ['-c', `ls ${name} 2>/dev/null | head -1`], { encoding: 'utf8' });
    return r.stdout.trim() || null;
  }
  if (name.startsWith('/')) return existsSync(name) ? name : null;
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, name))) return join(d, name);
  return null;
}

function probeCmd(piece) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin(piece.tool), ...piece.args, '--help'], {
      stdio: 'ignore',
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.on('error', () => done({ ok: false, why: `${piece.label} (binary not built: run npm run build)` }));
    child.on('close', (code) => {
      if (code !== 0) done({ ok: false, why: `needs ${piece.label} (no such command)` });
      else done({ ok: true });
    });
  });
}

async function probe(piece) {
  if (piece.kind === 'cmd') return probeCmd(piece);
  if (piece.kind === 'bin') {
    const found = piece.candidates.map(onPath).find(Boolean);
    return found
      ? { ok: true }
      : { ok: false, why: `needs ${piece.label} (not installed: apt-get install ${piece.pkg})` };
  }
  return { ok: false, why: `needs ${piece.label} (not built yet, ${piece.issue})` };
}

async function readiness(name) {
  const s = SCENARIOS[name];
  const results = await Promise.all(s.needs.map(probe));
  const missing = results.filter((r) => !r.ok).map((r) => r.why);
  if (!s.run) missing.push('needs the scenario itself (not written yet: only its needs are checked)');
  return {
    name,
    title: s.title,
    needs: s.needs.map((p) => p.label),
    runnable: missing.length === 0,
    missing,
    twins: s.twins ?? {},
    not_yet: s.notYet ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// Running: timeline, children, servers, cleanup.

class Broken extends Error {}

function makeRun(dir, json) {
  const t0 = Date.now();
  const steps = [];
  const servers = [];
  const say = (line) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const base = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(SVAULT|VAPORA|KOGRAL|PROV|TYPEDIALOG)_/.test(k)),
    ),
    XDG_CONFIG_HOME: join(dir, 'xdg', 'config'),
    XDG_DATA_HOME: join(dir, 'xdg', 'data'),
    XDG_STATE_HOME: join(dir, 'xdg', 'state'),
    NO_COLOR: '1',
  };
  let current = null;

  const run = {
    dir,
    interrupted: null,
    steps,
    servers,
    env: base,
    say,
    /** One timeline step: `fn` returns the detail line, or throws (Broken or any error) to break the run. */
    async step(tool, title, fn) {
      if (run.interrupted) throw new Broken(`interrupted by ${run.interrupted}`);
      current = { n: steps.length + 1, tool, title };
      const started = Date.now();
      let detail;
      let ok = true;
      try {
        detail = await fn();
      } catch (e) {
        ok = false;
        detail = e instanceof Error ? e.message : String(e);
      }
      if (run.interrupted) throw new Broken(`interrupted by ${run.interrupted}`);
      const entry = { n: current.n, step: title, tool, ok, detail, elapsed_ms: Date.now() - started };
      steps.push(entry);
      const at = `${((Date.now() - t0) / 1000).toFixed(1)}s`.padStart(6);
      say(`${at}  ${String(entry.n).padStart(2)}. ${tool.padEnd(7)} ${ok ? 'ok  ' : 'FAIL'} ${title}: ${detail}`);
      if (!ok) throw new Broken(`step ${entry.n} (${tool}: ${title}) broke its promise: ${detail}`);
      return entry;
    },
    /** A binary run as a user would: argv, cwd, env; --json output parsed. */
    cli(tool, args, { cwd = dir, env = {}, expectExit = 0, parse = true } = {}) {
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin(tool), ...args], {
          cwd,
          env: { ...base, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.stderr.on('data', (d) => {
          err += d;
        });
        child.on('error', fail);
        child.on('close', (code) => {
          const shown = `${tool} ${args.join(' ')}`;
          appendFileSync(
            join(dir, 'commands.log'),
            `$ ${shown}\n# exit ${code}\n${out}${err ? `# stderr\n${err}` : ''}\n`,
          );
          if (code !== expectExit) {
            const why = (err.trim().split('\n').pop() ?? '') || out.trim().slice(0, 200);
            return fail(new Broken(`\`${shown}\` exited ${code}, expected ${expectExit}: ${why}`));
          }
          if (!parse) return done(out);
          try {
            done(JSON.parse(out));
          } catch {
            fail(new Broken(`\`${shown}\` printed no JSON document: ${out.slice(0, 200)}`));
          }
        });
      });
    },
    /** A server started in the background; `ready` reads its output until it says where it listens. */
    server(label, tool, args, { cwd = dir, env = {}, ready, timeoutMs = 30_000 }) {
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin(tool), ...args], {
          cwd,
          env: { ...base, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const rec = { name: label, tool, pid: child.pid, child, stopped: false };
        servers.push(rec);
        let out = '';
        const log = join(dir, `${label}.log`);
        const timer = setTimeout(
          () => fail(new Broken(`${label} did not start in ${timeoutMs / 1000}s: ${out.slice(-300)}`)),
          timeoutMs,
        );
        const onData = (d) => {
          out += d;
          appendFileSync(log, d);
          const m = ready(out);
          if (m) {
            clearTimeout(timer);
            done({ ...m, pid: child.pid });
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code, sig) => {
          rec.stopped = true;
          clearTimeout(timer);
          fail(new Broken(`${label} exited (${code ?? sig}) before it was ready: ${out.slice(-300)}`));
        });
      });
    },
    /** Stops one server this run started (SIGTERM, then SIGKILL after 5 s), e.g. to restart it with a new config. */
    async stopServer(pid) {
      const s = servers.find((x) => x.pid === pid);
      if (!s || s.stopping) return;
      s.stopping = true;
      if (s.child.exitCode === null && s.child.signalCode === null) {
        const gone = new Promise((r) => s.child.once('exit', r));
        s.child.kill('SIGTERM');
        const killer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(killer);
      }
      s.stopped = true;
    },
    /** Something started outside `server` (a test sshd, a database): stopped with the servers, in reverse. */
    resource(name, pid, stop) {
      servers.push({ name, tool: 'harness', pid, stop, stopped: false });
    },
    async stopServers() {
      for (const s of [...servers].reverse()) {
        if (s.stopping) continue;
        s.stopping = true;
        if (s.stop) {
          await s.stop().catch((e) => say(`        -- stopping ${s.name} failed: ${e.message}`));
          s.stopped = true;
          say(`        -- stopped ${s.name} (pid ${s.pid})`);
          continue;
        }
        if (s.child.exitCode !== null || s.child.signalCode !== null) {
          s.stopped = true;
          continue;
        }
        const gone = new Promise((r) => s.child.once('exit', r));
        s.child.kill('SIGTERM');
        const killer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(killer);
        s.stopped = true;
        say(`        -- stopped ${s.name} (pid ${s.pid})`);
      }
    },
    current: () => current,
  };
  return run;
}

/** Polls `fn` until it returns something truthy; a Broken with `what` after `ms`. */
async function until(what, fn, ms = 30_000, every = 200) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Broken(`timed out waiting for ${what}`);
}

function expect(cond, why) {
  if (!cond) throw new Broken(why);
}

// ---------------------------------------------------------------------------------------------
// Incident response: a real PostgreSQL installed by prov on an sshd host goes down; vapora's agents
// detect it with the application's own login, look up postmortems through kogral's MCP server,
// diagnose and (after a human approves) restart it through prov, rotate the svault-issued database
// credentials; Security verifies the audit chain; kogral keeps the postmortem.

const PG_BIN = () => onPath('/usr/lib/postgresql/*/bin/postgres')?.replace(/\/postgres$/, '');

async function incidentResponse(run, twin) {
  const src = join(EXAMPLES, 'incident-response');
  const a = run.dir;
  const audit = join(a, 'svault-audit.log');
  const calls = join(a, 'agent-calls.log');
  const appCredentials = join(a, 'app-credentials.json');
  writeFileSync(calls, '');
  const testing = await import(join(ROOT, 'packages/shared/dist/testing/index.js'));
  const pgBin = PG_BIN();
  const pgVersion = pgBin.split('/').at(-2);

  // The database host: a real sshd on loopback; prov installs PostgreSQL into a tree the SSH user owns.
  const port = await testing.getFreePort();
  let host;
  let root;
  let ws;
  let prov;
  await run.step('sshd', 'database host db-1 (a throwaway sshd on loopback) in a prov workspace', async () => {
    const w = await provHosts(
      run,
      ['db-1'],
      (block, hosts) => `let Infrastructure = import "${join(ROOT, 'schemas', 'infrastructure.ncl')}" in
{
  provider = 'local,
  hosts = ${block},
  taskservs = [
    {
      name = 'postgresql,
      version = "${pgVersion}",
      hosts = ["db-1"],
      config = { run_as = "${hosts['db-1'].username}", init = "none", port = ${port}, listen_addresses = "127.0.0.1" },
    },
  ],
} | Infrastructure
`,
    );
    ({ ws, prov } = w);
    host = w.hosts['db-1'];
    root = host.root;
    return `${host.username}@${host.host}:${host.port} (pid ${host.pid})`;
  });
  const dataDir = `${root}/var/lib/prov-postgresql/main`;
  const pgLog = `${dataDir}/server.log`;
  await run.step('prov', 'PostgreSQL installed on db-1 by prov apply', async () => {
    const r = await prov(['apply', '-y']);
    const st = await prov(['service', 'status', 'postgresql']);
    const on = st.hosts.map((h) => `${h.host}: ${h.status}`).join(', ');
    expect(st.hosts[0]?.status === 'running', `service status after apply: ${on}`);
    return `run ${r.run_id} ${r.status}, ${r.added} added; ${on}; port ${port}`;
  });

  // The DBA's one-time setup over SSH: a password for the superuser svault connects as, TCP logins by password.
  const superPassword = randomBytes(18).toString('base64url');
  await run.step('prov', 'password logins enabled on db-1 (prov exec --script)', async () => {
    const sql = join(host.workDir, 'setup.sql');
    writeFileSync(sql, `ALTER ROLE "${host.username}" PASSWORD '${superPassword}';\n`, { mode: 0o600 });
    chownSync(sql, statSync(host.workDir).uid, statSync(host.workDir).gid);
    const script = join(a, 'db-setup.sh');
    writeFileSync(
      script,
      [
        `sed -i '1i host all all 127.0.0.1/32 scram-sha-256' ${dataDir}/pg_hba.conf`,
        `${pgBin}/psql -X -q -h ${root}/run/postgresql -p ${port} -d postgres -f ${sql}`,
        `rm ${sql}`,
        `${pgBin}/pg_ctl -D ${dataDir} reload`,
      ].join('\n'),
    );
    const r = await prov(['exec', '--hosts', 'db-1', '--script', script]);
    expect(r.hosts[0]?.ok, `setup script: ${JSON.stringify(r.hosts[0])}`);
    return `${r.hosts[0].steps.length} steps ok on db-1 (${script})`;
  });

  let vault;
  const svEnv = () => ({ SVAULT_ADDR: vault.addr, SVAULT_TOKEN: vault.token });
  const sv = (args, o = {}) => run.cli('svault', [...args, '--json'], { ...o, env: svEnv() });
  await run.step('svault', 'dev server on a free loopback port, file audit device on', async () => {
    vault = await run.server('svault', 'svault', ['server', '--dev', '--address', '127.0.0.1:0'], {
      ready: (out) => {
        const addr = /svault server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        const token = /Root Token: (\S+)/.exec(out);
        return addr && token ? { addr: addr[1], token: token[1] } : null;
      },
    });
    const r = await sv(['audit', 'enable', 'file', `path=${audit}`]);
    expect(r.path === 'file/', `audit enable answered ${JSON.stringify(r)}`);
    return `${vault.addr} (pid ${vault.pid}); audit log ${audit}`;
  });

  let lease;
  await run.step('svault', 'dynamic PostgreSQL credentials for the app (TTL 1h)', async () => {
    await sv(['secrets', 'enable', 'database']);
    await sv([
      'database',
      'config',
      'write',
      'pg',
      'plugin=postgresql',
      `connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:${port}/postgres`,
      `username=${host.username}`,
      `password=${superPassword}`,
    ]);
    await sv([
      'database',
      'role',
      'write',
      'app',
      'db=pg',
      `creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      'default_ttl=1h',
      'max_ttl=24h',
    ]);
    const c = await sv(['database', 'creds', 'app']);
    lease = { lease_id: c.lease_id, username: c.data.username, password: c.data.password };
    expect(c.lease_duration === 3600, `lease duration ${c.lease_duration}, not 3600`);
    writeFileSync(appCredentials, JSON.stringify(lease), { mode: 0o600 });
    const ok = await pgLogin(port, lease.username, lease.password);
    expect(ok.ok, `the app cannot log in with its new credentials: ${ok.error}`);
    return `${lease.username} under ${lease.lease_id}; the app logs in`;
  });

  let ciphertext;
  const evidence = `FATAL: could not connect to server: Connection refused (127.0.0.1:${port})`;
  await run.step('svault', 'incident evidence encrypted with transit', async () => {
    await sv(['secrets', 'enable', 'transit']);
    await sv(['transit', 'key', 'create', 'incident', '--type', 'aes256-gcm96']);
    const enc = await sv(['transit', 'encrypt', 'incident', `plaintext=${Buffer.from(evidence).toString('base64')}`]);
    ciphertext = enc.data?.ciphertext;
    expect(/^vault:v1:/.test(ciphertext ?? ''), `no vault:v1: ciphertext: ${JSON.stringify(enc.data)}`);
    const dec = await sv(['transit', 'decrypt', 'incident', `ciphertext=${ciphertext}`]);
    expect(Buffer.from(dec.data?.plaintext ?? '', 'base64').toString() === evidence, 'decrypt did not round-trip');
    writeFileSync(join(a, 'evidence.ciphertext'), `${ciphertext}\n`);
    return `${ciphertext.slice(0, 24)}… decrypts back (evidence.ciphertext)`;
  });

  // kogral: the team's graph, with earlier postmortems.
  const kg = join(a, 'kogral');
  mkdirSync(kg);
  const kog = (args, o = {}) => run.cli('kogral', [...args, '--json'], { cwd: kg, ...o });
  await run.step('kogral', 'knowledge graph with earlier postmortems', async () => {
    await kog(['init']);
    const past = JSON.parse(readFileSync(join(src, 'postmortems.json'), 'utf8'));
    for (const p of past)
      await kog([
        'add',
        'execution',
        p.title,
        '--root-cause',
        p.root_cause,
        '--resolution',
        p.resolution,
        '--action-items',
        p.action_items.join(','),
        '--tags',
        p.tags.join(','),
      ]);
    return `${past.length} postmortems in ${join(kg, '.kogral')}`;
  });

  // vapora: a project whose monitor, security and devops agents run agent.mjs with the real tools.
  const vp = join(a, 'vapora');
  mkdirSync(join(vp, '.vapora', 'pipelines'), { recursive: true });
  const context = join(a, 'agent-context.json');
  writeFileSync(
    context,
    JSON.stringify({
      repo: ROOT,
      calls,
      app_credentials: appCredentials,
      audit_log: audit,
      prov_ws: ws,
      host: 'db-1',
      pg: { port, log: pgLog },
      kogral_dir: kg,
      svault: { addr: vault.addr, token: vault.token },
    }),
    { mode: 0o600 },
  );
  let vapora;
  let admin;
  let lead;
  let viewer;
  const vap = (args, o = {}) => {
    const env = vapora ? { VAPORA_URL: vapora.url, VAPORA_TOKEN: o.token ?? admin } : {};
    return run.cli('vapora', [...args, '--json'], { cwd: vp, ...o, env });
  };
  await run.step('vapora', 'project with monitor, security and devops exec agents', async () => {
    await vap(['init', '--dir', vp]);
    appendFileSync(
      join(vp, '.vapora', 'vapora.toml'),
      '\n[approvals]\n# The pipeline gates the restart (approval = true); a role here would ask a second time.\nroles = []\n',
    );
    copyFileSync(join(src, 'pipelines', 'incident.toml'), join(vp, '.vapora', 'pipelines', 'incident.toml'));
    admin = readFileSync(join(vp, '.vapora', 'token'), 'utf8').trim();
    const ids = [];
    for (const role of ['monitor', 'security', 'devops']) {
      const ag = await vap([
        'agent',
        'add',
        '--role',
        role,
        '--provider',
        'exec',
        '--command',
        `${process.execPath} ${join(src, 'agent.mjs')} ${role}`,
      ]);
      ids.push(ag.id);
    }
    await vap(['project', 'create', 'incidents']);
    return `agents ${ids.join(', ')}; project incidents`;
  });

  await run.step('vapora', 'serve on a free loopback port', async () => {
    vapora = await run.server('vapora', 'vapora', ['serve', '--port', '0'], {
      cwd: vp,
      env: { SCENARIO_CONTEXT: context },
      ready: (out) => {
        const m = /vapora serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { url: m[1] } : null;
      },
    });
    const t = await vap(['token', 'create', '--name', 'oncall-lead', '--role', 'operator']);
    lead = t.token;
    viewer = (await vap(['token', 'create', '--name', 'status-page', '--role', 'viewer'])).token;
    return `${vapora.url} (pid ${vapora.pid}); operator token oncall-lead, viewer token status-page`;
  });

  const failedRestart = twin === 'failed-restart';
  await run.step('prov', 'the outage: PostgreSQL on db-1 crashes', async () => {
    await prov(['exec', '--hosts', 'db-1', '--', `${pgBin}/pg_ctl`, '-D', dataDir, '-m', 'immediate', 'stop']);
    if (failedRestart) {
      // A setting prov does not manage, broken by hand: PostgreSQL will refuse to start.
      appendFileSync(join(dataDir, 'postgresql.auto.conf'), "shared_buffers = 'plenty'\n");
    }
    const down = await pgLogin(port, lease.username, lease.password);
    expect(!down.ok, 'the app can still log in after the crash');
    return `pg_ctl stop -m immediate${failedRestart ? '; postgresql.auto.conf broken by hand' : ''}; app login: ${down.error}`;
  });

  let runId;
  await run.step(
    'vapora',
    "the Monitor's check finds postgresql down; its alert starts the incident pipeline",
    async () => {
      const t = await vap([
        'task',
        'create',
        'Health check postgresql',
        '--project',
        'incidents',
        '--role',
        'monitor',
        '--type',
        'health_check',
        '--payload',
        JSON.stringify({ service: 'postgresql', raise_alert: true }),
      ]);
      await vap(['task', 'assign', t.id]);
      const started = await until(
        'the alert to start the incident pipeline',
        async () => (await vap(['pipeline', 'list'])).runs.find((r) => r.createdBy === `task:${t.id}`),
        60_000,
      );
      runId = started.id;
      expect(started.pipeline === 'incident', `the alert started ${started.pipeline}`);
      const st = await vap(['pipeline', 'status', runId]);
      return `check ${t.id} → alert task:${t.id} ("${st.run.inputs.finding}") → run ${runId}: ${st.steps
        .filter((s) => s.phase === 'forward')
        .map((s) => s.step)
        .join(' → ')}`;
    },
  );

  let approval;
  let previous;
  await run.step(
    'vapora',
    'Monitor finds postgresql down; DevOps finds postmortems (kogral MCP) and diagnoses (prov); Security verifies the audit chain; the restart waits',
    async () => {
      approval = await until(
        'the restart step to ask for approval',
        async () => {
          const r = await vap(['approvals']);
          return r.approvals.find((x) => x.runId === runId && x.stepId === 'restart' && x.status === 'pending');
        },
        90_000,
      );
      const st = await vap(['pipeline', 'status', runId]);
      const by = Object.fromEntries(st.steps.filter((s) => s.phase === 'forward').map((s) => [s.step, s]));
      expect(
        by.detect?.status === 'done' && by.detect.output?.healthy === false,
        `detect: ${JSON.stringify(by.detect)}`,
      );
      expect(by.lookup?.status === 'done' && by.lookup.output?.count >= 1, `lookup: ${JSON.stringify(by.lookup)}`);
      expect(/OOM/.test(by.lookup.output.titles[0]), `closest postmortem: "${by.lookup.output.titles[0]}"`);
      previous = by.lookup.output.ids;
      expect(
        by.diagnose?.status === 'done' && /db-1: stopped/.test(by.diagnose.output?.status ?? ''),
        `diagnose: ${JSON.stringify(by.diagnose)}`,
      );
      expect(by.audit?.status === 'done' && by.audit.output?.block === false, `audit: ${JSON.stringify(by.audit)}`);
      expect(by.restart?.status !== 'done', 'the restart ran before anyone approved it');
      expect(!readFileSync(calls, 'utf8').includes('devops restart'), 'the devops agent was called before approval');
      writeFileSync(join(a, 'kogral-search.json'), JSON.stringify(by.lookup.output, null, 2));
      return `"${by.detect.output.error}"; postmortems ${previous.join(', ')}; prov: ${by.diagnose.output.status}; audit chain ${by.audit.output.lines} lines intact; approval ${approval.id} pending`;
    },
  );

  await run.step('vapora', 'a viewer cannot approve the restart', async () => {
    const r = await vap(['approve', approval.id, '--reason', 'looks fine'], { token: viewer, expectExit: 5 });
    return r.error.message;
  });

  const ended = () =>
    until(
      'the run to finish',
      async () => {
        const r = await vap(['pipeline', 'status', runId]);
        return ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'].includes(r.run.status) ? r : null;
      },
      120_000,
    );
  const stepOf = (st, id) => st.steps.find((s) => s.step === id && s.phase === 'forward');
  const rejected = twin === 'rejected-approval';
  let outcome;
  if (rejected)
    await run.step('vapora', 'oncall-lead rejects the restart; the run stops; nothing is restarted', async () => {
      await vap(['reject', approval.id, '--reason', 'no rollback plan'], { token: lead });
      const st = await ended();
      writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
      expect(st.run.status !== 'succeeded', `run ${runId} succeeded although its restart was rejected`);
      expect(/rejected by .*no rollback plan/.test(st.run.error ?? ''), `run error: ${st.run.error}`);
      expect(stepOf(st, 'restart').status !== 'done', `restart step is ${stepOf(st, 'restart').status}`);
      expect(!readFileSync(calls, 'utf8').includes('devops restart'), 'the devops agent ran a rejected restart');
      const still = await pgLogin(port, lease.username, lease.password);
      expect(!still.ok, 'postgresql is up although nobody restarted it');
      outcome = `not resolved: the restart was rejected (${approval.id}, "no rollback plan"); postgresql still down`;
      return `run ${st.run.status}: ${st.run.error}`;
    });
  else if (failedRestart)
    await run.step(
      'vapora',
      'oncall-lead approves; the restart fails; the run stops before rotating credentials',
      async () => {
        await vap(['approve', approval.id, '--reason', 'incident: restart postgresql'], { token: lead });
        const st = await ended();
        writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
        expect(st.run.status !== 'succeeded', `run ${runId} succeeded although PostgreSQL cannot start`);
        const restart = stepOf(st, 'restart');
        expect(restart.status === 'failed', `restart step is ${restart.status}`);
        expect(
          !readFileSync(calls, 'utf8').includes('security rotate_credentials'),
          'credentials rotated after a failed restart',
        );
        const lk = await sv(['lease', 'lookup', lease.lease_id]);
        expect(
          lk.id === lease.lease_id || lk.data?.id === lease.lease_id,
          `the app's lease is gone: ${JSON.stringify(lk)}`,
        );
        outcome = `not resolved: the restart failed (${(restart.error ?? st.run.error ?? '').slice(0, 200)}); escalated, credentials untouched`;
        return `run ${st.run.status}; restart: ${(restart.error ?? st.run.error ?? '').slice(0, 160)}`;
      },
    );
  else
    await run.step(
      'vapora',
      'oncall-lead approves; prov restarts PostgreSQL; svault rotates the credentials',
      async () => {
        await vap(['approve', approval.id, '--reason', 'incident: restart postgresql'], { token: lead });
        const st = await ended();
        writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
        expect(st.run.status === 'succeeded', `run ${runId} ended ${st.run.status}: ${st.run.error}`);
        const restart = stepOf(st, 'restart').output;
        expect(restart?.status === 'active', `restart output ${JSON.stringify(restart)}`);
        const rotate = stepOf(st, 'rotate').output;
        expect(rotate?.revoked_lease === lease.lease_id, `rotate output ${JSON.stringify(rotate)}`);
        expect(stepOf(st, 'verify').output?.healthy === true, `verify: ${JSON.stringify(stepOf(st, 'verify'))}`);
        // Checked here again, outside the agents: the old login is refused, the new one works.
        const fresh = JSON.parse(readFileSync(appCredentials, 'utf8'));
        const oldLogin = await pgLogin(port, lease.username, lease.password);
        const newLogin = await pgLogin(port, fresh.username, fresh.password);
        expect(!oldLogin.ok, `the revoked login ${lease.username} still works`);
        expect(newLogin.ok, `the new login ${fresh.username} fails: ${newLogin.error}`);
        outcome = `prov restarted postgresql (${restart.plan.join('; ') || 'no plan lines'}) after approval ${approval.id} by oncall-lead; svault rotated the app's credentials (${rotate.revoked_lease} revoked, ${rotate.new_lease} issued)`;
        return `run ${st.run.status}; plan: ${restart.plan.join('; ')}; ${lease.username} refused, ${fresh.username} logs in`;
      },
    );

  const decision = rejected ? 'rejected' : 'approved';
  await run.step('vapora', 'approval decision and costs shown', async () => {
    const ap = await vap(['approvals', '--all']);
    const costs = await vap(['costs']);
    const st = await vap(['pipeline', 'status', runId]);
    writeFileSync(join(a, 'vapora-approvals-costs.json'), JSON.stringify({ approvals: ap, costs }, null, 2));
    const mine = ap.approvals.find((x) => x.id === approval.id);
    expect(mine?.status === decision, `approval ${approval.id} is ${mine?.status ?? 'missing'}, not ${decision}`);
    expect(/oncall-lead/.test(mine.decidedBy ?? ''), `approval decided by ${mine.decidedBy}, not oncall-lead`);
    return `${mine.id} ${decision} by ${mine.decidedBy} ("${mine.reason}"); run cost ${st.cost_cents} cents, ${costs.costs.length} priced calls (exec agents are free)`;
  });

  await run.step('svault', 'audit chain verified after the incident; no secret in clear', async () => {
    const r = await run.cli('svault', ['audit', 'verify', audit, '--json']);
    expect(r.ok === true, `audit verify: ${JSON.stringify(r)}`);
    const text = readFileSync(audit, 'utf8');
    for (const secret of [superPassword, lease.password])
      expect(!text.includes(secret), 'a database password appears in clear in the audit log');
    return `${r.lines} lines, head ${r.head.slice(0, 19)}…`;
  });

  let postmortem;
  const resolved = !rejected && !failedRestart;
  await run.step('kogral', 'postmortem recorded', async () => {
    const st = await vap(['pipeline', 'status', runId]);
    const timeline = st.steps
      .filter((s) => s.phase === 'forward')
      .map((s) => `${s.step} ${s.status}${s.agent ? ` (${s.agent})` : ''}`)
      .join('; ');
    postmortem = await kog([
      'add',
      'execution',
      resolved
        ? `Incident ${runId}: PostgreSQL down, restarted after approval`
        : `Incident ${runId}: PostgreSQL down, ${rejected ? 'restart rejected' : 'restart failed'}`,
      '--context',
      `Timeline (vapora run ${runId}): ${timeline}. Evidence (svault transit): ${ciphertext}`,
      '--root-cause',
      failedRestart
        ? 'postgresql crashed; a hand-edited postgresql.auto.conf keeps it from starting'
        : 'postgresql crashed (stopped with -m immediate on db-1)',
      '--resolution',
      outcome,
      '--action-items',
      resolved
        ? 'alert on app login failures,keep database credential TTLs at 1h'
        : 'fix the database host by hand,re-run the incident pipeline',
      ...previous.flatMap((id) => ['--related', id]),
      ...(resolved ? [] : ['--status', 'open']),
      '--tags',
      'incident,postgresql,scenario',
    ]);
    expect(existsSync(postmortem.path), `no file at ${postmortem.path}`);
    return `${postmortem.id} (${postmortem.path})`;
  });

  await run.step('kogral', 'the new postmortem is found by search', async () => {
    const r = await kog(['search', runId, '--type', 'execution']);
    expect(
      r.hits.some((h) => h.id === postmortem.id),
      `search "${runId}" did not return ${postmortem.id}`,
    );
    return `search "${runId}" → ${r.hits[0].id}`;
  });
}

/**
 * Throwaway hosts (one sshd each on loopback, stopped with the run) and a prov workspace that knows them:
 * host keys pinned, each host installing into a tree its SSH user owns (`root`), the config written by
 * `config(hostsBlock)`. Returns the hosts by name and a `prov` runner (--json) in that workspace.
 */
async function provHosts(run, names, config) {
  const testing = await import(join(ROOT, 'packages/shared/dist/testing/index.js'));
  const hosts = {};
  for (const name of names) {
    const sshd = await testing.startSshd();
    run.resource(`sshd ${name}`, sshd.pid, () => sshd.stop());
    const root = join(sshd.workDir, 'root');
    mkdirSync(root);
    const owner = statSync(sshd.workDir);
    chownSync(root, owner.uid, owner.gid);
    hosts[name] = { ...sshd, name, root, sshd };
  }
  const ws = join(run.dir, 'prov');
  mkdirSync(join(ws, '.prov'), { recursive: true });
  writeFileSync(
    join(ws, '.prov', 'known_hosts'),
    Object.values(hosts)
      .map((h) => `[${h.host}]:${h.port} ${h.hostKey}\n`)
      .join(''),
  );
  writeFileSync(join(ws, 'prov.toml'), '[apply]\nretries = 1\nbackoff_initial_ms = 50\nbackoff_max_ms = 200\n');
  const block = Object.values(hosts)
    .map(
      (h) =>
        `    ${h.name} = { address = "${h.host}", port = ${h.port}, user = "${h.username}", key_path = "${h.privateKeyPath}", root = "${h.root}" },`,
    )
    .join('\n');
  writeFileSync(join(ws, 'prov.ncl'), config(`{\n${block}\n  }`, hosts));
  const prov = (args, o = {}) => run.cli('prov', withJson(args), { cwd: ws, ...o });
  return { hosts, ws, prov, testing };
}

/** `--json` before a `--` (after it, the flag would go to the remote command). */
const withJson = (args) => {
  const at = args.indexOf('--');
  return at < 0 ? [...args, '--json'] : [...args.slice(0, at), '--json', ...args.slice(at)];
};

/** One login as the application makes it (TCP, password): { ok } or { ok: false, error }. */
async function pgLogin(port, user, password) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({
    host: '127.0.0.1',
    port,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 5000,
  });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e.message };
  } finally {
    await c.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Post-quantum migration: an ADR in kogral; svault's keyring moved to hybrid ML-KEM-768 wrapping by a
// config change and a restart (old data still opens); a service's data keys rewrapped from a classical
// transit key to a hybrid ML-KEM-768 one; ML-DSA-65 certificates; a typedialog form as the migration's
// record; vapora's validation pipeline (latency, and Security's check of every record) gates the end.

async function pqcMigration(run, twin) {
  const src = join(EXAMPLES, 'pqc-migration');
  const a = run.dir;
  const calls = join(a, 'agent-calls.log');
  const keystore = join(a, 'billing-keystore.json');
  writeFileSync(calls, '');

  const kg = join(a, 'kogral');
  mkdirSync(kg);
  const kog = (args, o = {}) => run.cli('kogral', [...args, '--json'], { cwd: kg, ...o });
  let adr;
  await run.step('kogral', 'ADR: gradual migration to post-quantum cryptography', async () => {
    await kog(['init']);
    adr = await kog([
      'add',
      'decision',
      'Gradual migration to post-quantum cryptography',
      '--context',
      'Data encrypted today can be recorded now and decrypted once large quantum computers exist (harvest now, decrypt later).',
      '--decision',
      "Wrap svault's keyring and every service's data keys with hybrid ML-KEM-768 + X25519; issue ML-DSA-65 certificates; migrate one service at a time, each validated before the next.",
      '--consequences',
      'Larger ciphertexts and certificates; classical keys stay readable until every record is rewrapped.',
      '--status',
      'accepted',
      '--tags',
      'pqc,security',
    ]);
    return `${adr.id} (accepted)`;
  });

  // svault as in production: filesystem storage, Shamir unseal, the classical keyring first.
  const vdir = join(a, 'svault');
  mkdirSync(vdir);
  const vconf = join(vdir, 'svault.toml');
  const writeConf = (backend) =>
    writeFileSync(
      vconf,
      `[server]\naddress = "127.0.0.1:0"\n\n[storage]\nbackend = "filesystem"\n\n[storage.filesystem]\npath = "${join(vdir, 'data')}"\n\n[vault]\ncrypto_backend = "${backend}"\n`,
    );
  let vault;
  let unsealKey;
  let rootToken;
  const startVault = async (label) => {
    const s = await run.server(label, 'svault', ['server', '--config', vconf], {
      cwd: vdir,
      env: { SVAULT_DATA_DIR: join(vdir, 'run') },
      ready: (out) => {
        const m = /svault server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { addr: m[1] } : null;
      },
    });
    return s;
  };
  const sv = (args, o = {}) =>
    run.cli('svault', [...args, '--json'], {
      cwd: vdir,
      ...o,
      env: { SVAULT_ADDR: vault.addr, SVAULT_TOKEN: rootToken },
    });
  await run.step('svault', 'server with filesystem storage, initialized and unsealed (classical keyring)', async () => {
    writeConf('openssl');
    vault = await startVault('svault');
    const init = await sv(['operator', 'init', '--shares', '1', '--threshold', '1']);
    unsealKey = init.keys[0];
    rootToken = init.root_token;
    const st = await sv(['operator', 'unseal', unsealKey]);
    expect(st.sealed === false, `still sealed: ${JSON.stringify(st)}`);
    return `${vault.addr} (pid ${vault.pid}), crypto_backend openssl`;
  });

  // The billing service's two hosts, with today's classical certificates deployed by prov.
  let prov;
  let hosts;
  const domain = 'billing.internal';
  const health = "grep -q 'BEGIN CERTIFICATE' cert.pem";
  const svEnv = () => ({ SVAULT_ADDR: vault.addr, SVAULT_TOKEN: rootToken });
  const hostCert = (name) => join(hosts[name].root, 'etc', 'prov', 'certs', domain, 'cert.pem');
  await run.step(
    'prov',
    'app-1, app-2 serve billing.internal with classical (ECDSA) certificates from prov cert generate',
    async () => {
      const w = await provHosts(
        run,
        ['app-1', 'app-2'],
        (block) => `let Infrastructure = import "${join(ROOT, 'schemas', 'infrastructure.ncl')}" in
{ provider = 'local, hosts = ${block} } | Infrastructure
`,
      );
      ({ prov, hosts } = w);
      await sv(['secrets', 'enable', 'pki']);
      await sv(['pki', 'root', 'generate', 'common_name=Internal Root', 'key_type=ec', 'ttl=87600h']);
      await sv([
        'pki',
        'role',
        'write',
        'services',
        'allowed_domains=internal',
        'allow_subdomains=true',
        'key_type=ec',
        'max_ttl=720h',
      ]);
      const r = await prov(
        ['cert', 'generate', '--domain', domain, '--role', 'services', '--servers', 'app-1,app-2', '--health', health],
        { env: svEnv() },
      );
      const v = await sv(['pki', 'verify', hostCert('app-2')]);
      expect(v.valid !== false, `the classical certificate on app-2 does not verify: ${JSON.stringify(v)}`);
      return `${JSON.stringify(r).match(/[0-9a-f]{2}(:[0-9a-f]{2}){7,}/g)?.length ?? 0} serials recorded; ${Object.keys(hosts).join(', ')}`;
    },
  );

  const records = [];
  await run.step('svault', 'billing records encrypted with data keys wrapped by a classical transit key', async () => {
    await sv(['secrets', 'enable', 'transit']);
    await sv(['transit', 'key', 'create', 'payments', '--type', 'aes256-gcm96']);
    await sv(['secrets', 'enable', 'kv', '--path', 'apps', '--version', '2']);
    await sv(['kv', 'put', 'apps/billing', 'db_password=pq-or-not-pq']);
    for (let i = 1; i <= 6; i++) {
      const dk = await sv(['transit', 'datakey', 'payments', 'plaintext']);
      const key = Buffer.from(dk.data.plaintext, 'base64');
      const iv = randomBytes(12);
      const text = `invoice ${1000 + i}: EUR ${(i * 123.45).toFixed(2)}`;
      const c = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([c.update(text), c.final()]);
      records.push({
        id: `inv-${1000 + i}`,
        wrapped_key: dk.data.ciphertext,
        iv: iv.toString('base64'),
        tag: c.getAuthTag().toString('base64'),
        data: data.toString('base64'),
        expect: text,
      });
      key.fill(0);
    }
    writeFileSync(keystore, JSON.stringify({ service: 'billing', key: 'payments', records }, null, 2), { mode: 0o600 });
    return `${records.length} records; data keys wrapped by payments (${records[0].wrapped_key.slice(0, 12)}…)`;
  });

  await run.step(
    'svault',
    'keyring moved to hybrid ML-KEM-768 + X25519: crypto_backend = "pqc", restart, unseal',
    async () => {
      await run.stopServer(vault.pid);
      writeConf('pqc');
      vault = await startVault('svault-pqc');
      const st = await sv(['operator', 'unseal', unsealKey]);
      expect(st.sealed === false, `still sealed: ${JSON.stringify(st)}`);
      const kv = await sv(['kv', 'get', 'apps/billing']);
      expect(kv.data?.data?.db_password === 'pq-or-not-pq', 'a KV secret written before the switch does not read back');
      const back = await sv(['transit', 'decrypt', 'payments', `ciphertext=${records[0].wrapped_key}`]);
      expect(back.data?.plaintext, 'a data key wrapped before the switch does not decrypt');
      const ks = await sv(['read', 'sys/key-status']);
      const wrap = ks.data?.keyring_wrap ?? ks.keyring_wrap;
      expect(/^ml-kem-768/.test(wrap ?? ''), `sys/key-status says the keyring is wrapped with ${wrap}`);
      return `${vault.addr} (pid ${vault.pid}); keyring ${wrap}; data written before the switch reads back`;
    },
  );

  const corrupt = twin === 'corrupt-rewrap';
  await run.step('svault', 'data keys rewrapped under payments-pq (ML-KEM-768 hybrid)', async () => {
    await sv(['transit', 'key', 'create', 'payments-pq', '--type', 'ml-kem-768']);
    for (const rec of records) {
      const dk = await sv(['transit', 'decrypt', 'payments', `ciphertext=${rec.wrapped_key}`]);
      const pq = await sv(['transit', 'encrypt', 'payments-pq', `plaintext=${dk.data.plaintext}`]);
      rec.wrapped_key = pq.data.ciphertext;
    }
    if (corrupt) {
      // The twin: one record's data key is rewrapped from the wrong key material.
      const wrong = await sv(['transit', 'encrypt', 'payments-pq', `plaintext=${randomBytes(32).toString('base64')}`]);
      records[2].wrapped_key = wrong.data.ciphertext;
    }
    writeFileSync(keystore, JSON.stringify({ service: 'billing', key: 'payments-pq', records }, null, 2), {
      mode: 0o600,
    });
    const sizes = records.map((r) => r.wrapped_key.length);
    return `${records.length} data keys now under payments-pq (${Math.min(...sizes)} characters each)${corrupt ? '; one rewrapped from the wrong key (twin)' : ''}`;
  });

  let migration;
  await run.step('typedialog', 'the migrate-service form, answered, as Nickel', async () => {
    const answers = join(a, 'billing-answers.yaml');
    writeFileSync(answers, 'service: billing\ndomain: billing.internal\nservers: [app-1, app-2]\n');
    const out = join(a, 'billing-migration.ncl');
    await run.cli(
      'typedialog',
      [
        'run',
        join(ROOT, 'examples', 'forms', 'migrate-service.toml'),
        '--answers',
        answers,
        '--format',
        'nickel',
        '--out',
        out,
      ],
      { parse: false },
    );
    const json = await run.cli('typedialog', [
      'run',
      join(ROOT, 'examples', 'forms', 'migrate-service.toml'),
      '--answers',
      answers,
      '--format',
      'json',
    ]);
    migration = json;
    expect(readFileSync(out, 'utf8').includes('kem = "ml-kem-768"'), `${out} has no kem = "ml-kem-768"`);
    return `${out}: ${migration.service} on ${migration.servers.join(', ')}, ${migration.kem} + ${migration.certificate_key_type}`;
  });

  const certificates = [];
  await run.step(
    'prov',
    'ML-DSA-65 certificates deployed host by host (prov cert generate, health-gated), then rotated (prov cert rotate)',
    async () => {
      await sv(['secrets', 'enable', 'pki', '--path', 'pki_pq']);
      await sv([
        'pki',
        'root',
        'generate',
        'common_name=Internal PQ Root',
        'key_type=ml-dsa-65',
        'ttl=87600h',
        '--mount',
        'pki_pq',
      ]);
      await sv([
        'pki',
        'role',
        'write',
        'services',
        'allowed_domains=internal',
        'allow_subdomains=true',
        `key_type=${migration.certificate_key_type}`,
        'max_ttl=720h',
        '--mount',
        'pki_pq',
      ]);
      const servers = migration.servers.join(',');
      await prov(
        [
          'cert',
          'generate',
          '--engine',
          'pki_pq',
          '--domain',
          migration.domain,
          '--role',
          'services',
          '--servers',
          servers,
          '--health',
          health,
        ],
        { env: svEnv() },
      );
      const before = migration.servers.map((h) => readFileSync(hostCert(h), 'utf8'));
      await prov(['cert', 'rotate', '--domain', migration.domain], { env: svEnv() });
      const serials = [];
      for (const [i, h] of migration.servers.entries()) {
        const pem = readFileSync(hostCert(h), 'utf8');
        expect(pem !== before[i], `prov cert rotate left the certificate on ${h} unchanged`);
        const v = await sv(['pki', 'verify', hostCert(h), '--mount', 'pki_pq']);
        expect(v.valid !== false, `the certificate on ${h} does not verify against the ML-DSA-65 root`);
        const key = join(dirname(hostCert(h)), 'key.pem');
        expect((statSync(key).mode & 0o777) === 0o600, `the key on ${h} is not 0600`);
        const serial = new X509Certificate(pem).serialNumber.toLowerCase();
        serials.push(`${h} ${serial.slice(0, 11)}…`);
        certificates.push({ domain: migration.domain, host: h, file: hostCert(h), serial, mount: 'pki_pq' });
      }
      return `${serials.join(', ')}; each verified against the pki_pq root; keys 0600`;
    },
  );

  // vapora: the validation pipeline, run by tester and security exec agents.
  const vp = join(a, 'vapora');
  mkdirSync(join(vp, '.vapora', 'pipelines'), { recursive: true });
  const context = join(a, 'agent-context.json');
  writeFileSync(
    context,
    JSON.stringify({ repo: ROOT, calls, keystore, certificates, svault: { addr: vault.addr, token: rootToken } }),
    { mode: 0o600 },
  );
  let vapora;
  let admin;
  const vap = (args, o = {}) =>
    run.cli('vapora', [...args, '--json'], {
      cwd: vp,
      ...o,
      env: vapora ? { VAPORA_URL: vapora.url, VAPORA_TOKEN: admin } : {},
    });
  let st;
  await run.step('vapora', 'validation pipeline: latency compared, every record checked by Security', async () => {
    await vap(['init', '--dir', vp]);
    appendFileSync(
      join(vp, '.vapora', 'vapora.toml'),
      '\n[approvals]\n# Validation only reads: no role needs a human before it runs.\nroles = []\n',
    );
    copyFileSync(join(src, 'pipelines', 'pqc-validate.toml'), join(vp, '.vapora', 'pipelines', 'pqc-validate.toml'));
    admin = readFileSync(join(vp, '.vapora', 'token'), 'utf8').trim();
    for (const role of ['tester', 'security'])
      await vap([
        'agent',
        'add',
        '--role',
        role,
        '--provider',
        'exec',
        '--command',
        `${process.execPath} ${join(src, 'agent.mjs')} ${role}`,
      ]);
    await vap(['project', 'create', 'pqc']);
    vapora = await run.server('vapora', 'vapora', ['serve', '--port', '0'], {
      cwd: vp,
      env: { SCENARIO_CONTEXT: context },
      ready: (out) => {
        const m = /vapora serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { url: m[1] } : null;
      },
    });
    const r = await vap([
      'pipeline',
      'run',
      'pqc-validate',
      '--project',
      'pqc',
      '--input',
      'service=billing',
      '--input',
      'classical_key=payments',
      '--input',
      'pq_key=payments-pq',
      '--input',
      `max_ratio=${migration.max_latency_ratio}`,
    ]);
    st = await until(
      'the validation run to finish',
      async () => {
        const s = await vap(['pipeline', 'status', r.run.id]);
        return ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'].includes(s.run.status) ? s : null;
      },
      120_000,
    );
    writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
    const lat = st.steps.find((s) => s.step === 'latency')?.output;
    const ver = st.steps.find((s) => s.step === 'verify')?.output;
    if (corrupt) {
      expect(st.run.status !== 'succeeded', 'the validation passed although a record does not open');
      expect(ver?.block === true && /inv-1003/.test(ver.reason), `verify: ${JSON.stringify(ver)}`);
      return `run ${st.run.status}: blocked by security: ${ver.reason}`;
    }
    expect(st.run.status === 'succeeded', `run ${r.run.id} ended ${st.run.status}: ${st.run.error}`);
    expect(ver?.block === false && ver.records === records.length, `verify: ${JSON.stringify(ver)}`);
    return `run ${st.run.status}; encrypt 1 KiB: classical ${lat.classical_ms} ms, hybrid ${lat.pq_ms} ms (×${lat.ratio}, limit ×${lat.max_ratio}); ${ver.records} records open under payments-pq; ${ver.certs.join(', ')}`;
  });

  await run.step('kogral', 'execution node for the billing migration, linked to the ADR', async () => {
    const lat = st.steps.find((s) => s.step === 'latency')?.output ?? {};
    const ver = st.steps.find((s) => s.step === 'verify')?.output ?? {};
    const node = await kog([
      'add',
      'execution',
      corrupt ? 'PQC migration of billing: blocked by validation' : 'PQC migration of billing',
      '--context',
      `Service billing on ${migration.servers.join(', ')}; data keys moved from payments (AES-256-GCM) to payments-pq (ML-KEM-768 + X25519); certificate ${certificates[0].domain} serial ${certificates[0].serial} (ML-DSA-65); svault keyring on crypto_backend pqc.`,
      '--root-cause',
      'data keys and the keyring wrapped only with classical algorithms (harvest now, decrypt later)',
      '--resolution',
      corrupt
        ? `not finished: security blocked it (${ver.reason})`
        : `validated by vapora run ${st.run.id}: ${ver.records} records open under payments-pq; encryption latency ×${lat.ratio} of classical`,
      '--action-items',
      corrupt
        ? 'rewrap the failing records again from the classical key,re-run the validation'
        : 'migrate the next service',
      '--related',
      adr.id,
      ...(corrupt ? ['--status', 'open'] : []),
      '--tags',
      'pqc,migration,billing',
    ]);
    return `${node.id} → ${adr.id}`;
  });
}

// ---------------------------------------------------------------------------------------------
// The command line.

function usage() {
  return 'usage: npm run scenario -- list [--json] | npm run scenario -- <name> [--twin NAME] [--json] [--out DIR]';
}

async function list(json, stream = process.stdout) {
  const all = await Promise.all(Object.keys(SCENARIOS).map(readiness));
  if (json) {
    stream.write(`${JSON.stringify({ scenarios: all }, null, 2)}\n`);
    return all;
  }
  for (const s of all) {
    stream.write(`${s.name.padEnd(18)} ${s.runnable ? 'runs here' : 'cannot run yet'}\n`);
    stream.write(`  ${s.title}\n`);
    stream.write(`  needs: ${s.needs.join(', ')}\n`);
    for (const m of s.missing) stream.write(`  missing: ${m}\n`);
    for (const [t, what] of Object.entries(s.twins)) stream.write(`  failure twin --twin ${t}: ${what}\n`);
    for (const m of s.not_yet) stream.write(`  not covered yet: ${m}\n`);
  }
  return all;
}

async function main() {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const valued = {};
  const skip = new Set();
  for (const f of ['--out', '--twin']) {
    const at = argv.indexOf(f);
    if (at < 0) continue;
    valued[f] = argv[at + 1];
    skip.add(at).add(at + 1);
  }
  const out = valued['--out'];
  const twin = valued['--twin'];
  const rest = argv.filter((x, i) => x !== '--json' && !skip.has(i));
  const bad = rest.find((x) => x.startsWith('-'));
  const missingValue = Object.entries(valued).find(([, v]) => !v || v.startsWith('-'));
  if (rest.length !== 1 || bad || missingValue) {
    const why = bad ? `unknown flag '${bad}'\n` : missingValue ? `${missingValue[0]} needs a value\n` : '';
    process.stderr.write(`${why}${usage()}\n\n`);
    await list(false, process.stderr);
    return 2;
  }
  const name = rest[0];
  if (name === 'list') {
    await list(json);
    return 0;
  }
  if (!(name in SCENARIOS)) {
    process.stderr.write(`unknown scenario '${name}'\n${usage()}\n\n`);
    await list(false, process.stderr);
    return 2;
  }
  const twins = SCENARIOS[name].twins ?? {};
  if (twin !== undefined && !(twin in twins)) {
    const known = Object.keys(twins);
    process.stderr.write(
      `${name} has no failure twin '${twin}'${known.length ? ` (it has: ${known.join(', ')})` : ' (it has none yet)'}\n${usage()}\n`,
    );
    return 2;
  }
  const ready = await readiness(name);
  if (!ready.runnable) {
    const msg = `${name} cannot run yet:\n${ready.missing.map((m) => `  ${m}`).join('\n')}`;
    if (json)
      process.stdout.write(
        `${JSON.stringify({ scenario: name, ok: false, runnable: false, missing: ready.missing }, null, 2)}\n`,
      );
    process.stderr.write(`${msg}\n`);
    return 1;
  }

  const dir = out ? resolve(out) : mkdtempSync(join(tmpdir(), `stratumiops-${name}-`));
  mkdirSync(dir, { recursive: true });
  const run = makeRun(dir, json);
  run.say(`scenario ${name}${twin ? ` (twin ${twin}: ${twins[twin]})` : ''}: artifacts in ${dir}`);
  for (const m of ready.not_yet) run.say(`  (not covered yet: ${m})`);

  const finish = (failure) => {
    const report = {
      scenario: name,
      twin: twin ?? null,
      ok: failure === null,
      artifacts: dir,
      steps: run.steps.map(({ n, step, tool, ok, detail, elapsed_ms }) => ({ n, step, tool, ok, detail, elapsed_ms })),
      servers: run.servers.map((s) => ({ name: s.name, pid: s.pid, stopped: s.stopped })),
      not_yet: ready.not_yet,
      error: failure,
    };
    writeFileSync(join(dir, 'timeline.json'), JSON.stringify(report, null, 2));
    if (failure) run.say(`FAILED: ${failure}`);
    else run.say(`scenario ${name}: ${run.steps.length} steps ok; artifacts in ${dir}`);
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  };

  const onSignal = (sig) => {
    if (run.interrupted) return;
    run.interrupted = sig;
    run.say(`\n${sig}: stopping the servers this scenario started`);
    run
      .stopServers()
      .then(() => finish(`interrupted by ${sig} during step ${run.current()?.n ?? 0}`))
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failure = null;
  try {
    await SCENARIOS[name].run(run, twin);
  } catch (e) {
    failure = e instanceof Broken ? e.message : `step ${run.current()?.n ?? '?'} crashed: ${e?.stack ?? e}`;
  }
  if (run.interrupted) return new Promise(() => {}); // the signal handler stops, reports and exits
  await run.stopServers();
  finish(failure);
  return failure ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`scenario: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
