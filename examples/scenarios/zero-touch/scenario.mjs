import { spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Broken,
  bin,
  CHROMIUM,
  cmd,
  ETCD,
  EXAMPLES,
  expect,
  onPath,
  PATRONI,
  PG,
  PG_BIN,
  ROOT,
  SSHD,
  shq,
  until,
} from '../lib/harness.mjs';
import { appDatabaseRole, freePortBlock, kogralTool, pgLogin, provHosts, svaultDev, vaporaTeam } from '../lib/team.mjs';

// Zero-touch provisioning: an SRE answers the database wizard (its web page, in headless chromium when
// this machine has it; an answers file otherwise); prov writes validated Nickel; the team's guidelines
// for naming and default security are read from kogral through MCP and applied; prov applies the
// servers and creates a Patroni cluster on three sshd hosts; svault issues the etcd peers' ML-DSA-65
// certificates and the API's classical ones, installed by prov, and is set up to hand out 1-hour
// database credentials; vapora's Monitor checks the cluster, Security runs the compliance checks, and the
// application's credentials are handed over only after a platform lead approves; kogral records the
// execution, linked to the ADR, guidelines and runbook it used.

const NAMES = ['pg-db-1', 'pg-db-2', 'pg-db-3'];

/** The team's knowledge: the HA decision, two guidelines a program can apply, a failover runbook. */
const GUIDELINES = {
  naming: {
    title: 'Database cluster server naming',
    body: [
      'Servers of a database cluster are named after the cluster, then `db`, then the member number.',
      '',
      '```regex',
      '^[a-z][a-z0-9-]*-db-[1-9][0-9]*$',
      '```',
    ].join('\n'),
  },
  security: {
    title: 'Database cluster default security',
    body: [
      'Every database cluster config merges these defaults: PostgreSQL and SSH only from the private',
      'network, nightly backups kept two weeks. The hosts we run ourselves have LUKS-encrypted disks from',
      'their installation (the host audit checks it), which prov cannot set: the finding is suppressed',
      'with that reason, so it stays visible in every compliance report.',
      '',
      '```nickel',
      '{',
      '  networking.security_groups.database.ingress = [',
      '    { port = 5432, from = "10.0.0.0/8" },',
      '    { port = 22, from = "10.0.0.0/8" },',
      '  ],',
      '  # prov:skip=PROV-ENC-001 hosts we run have LUKS-encrypted disks (set up at install, checked by the host audit)',
      '  security.encryption_at_rest = false,',
      '  backups = { enabled = true, schedule = "0 3 * * *", retention_days = 14 },',
      '}',
      '```',
    ].join('\n'),
  },
};

/** The fenced blocks of one language in a markdown body. */
const fenced = (body, lang) =>
  [...body.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);

async function zeroTouch(run, twin) {
  const src = join(EXAMPLES, 'zero-touch');
  const a = run.dir;
  const calls = join(a, 'agent-calls.log');
  const appCredentials = join(a, 'app-credentials.json');
  writeFileSync(calls, '');
  const skipGuidelines = twin === 'skip-guidelines';

  const kg = join(a, 'kogral');
  mkdirSync(kg);
  const kog = (args, o = {}) => run.cli('kogral', [...args, '--json'], { cwd: kg, ...o });
  const used = {};
  await run.step(
    'kogral',
    "the team's graph: HA decision, naming and security guidelines, failover runbook",
    async () => {
      await kog(['init']);
      used.adr = (
        await kog([
          'add',
          'decision',
          'PostgreSQL HA with Patroni and etcd',
          '--context',
          'Databases must survive the loss of a server without a human at 3 am.',
          '--decision',
          'Run PostgreSQL as a Patroni cluster of 3 members with an etcd of 3 as the leader lock; replicas stream from the leader.',
          '--consequences',
          'Three servers per database; failover in seconds; etcd needs its own certificates.',
          '--status',
          'accepted',
          '--tags',
          'database,postgresql,ha',
        ])
      ).id;
      for (const [key, g] of Object.entries(GUIDELINES))
        used[key] = (await kog(['add', 'guideline', g.title, '--body', g.body, '--tags', 'database,cluster'])).id;
      used.runbook = (
        await kog([
          'add',
          'pattern',
          'Runbook: Patroni leader failover',
          '--problem',
          'The leader is lost; writes fail until a replica takes the leader key.',
          '--solution',
          'Check `prov cluster show`; Patroni promotes the most recent replica within the TTL; reinitialise the old leader as a replica.',
          '--tags',
          'database,postgresql,runbook',
        ])
      ).id;
      return `decision ${used.adr}; guidelines ${used.naming}, ${used.security}; runbook ${used.runbook}`;
    },
  );

  // Three database servers: throwaway sshd hosts. Their connection details (port, key, the tree each
  // host installs into) are this lab's inventory, kept in site.ncl beside what the wizard writes.
  let hosts;
  let prov;
  let ws;
  await run.step('sshd', 'three database servers (throwaway sshd hosts on loopback)', async () => {
    const w = await provHosts(run, NAMES, () =>
      [
        '# The wizard writes gen/; the team guidelines parts/guidelines.ncl; the lab inventory parts/site.ncl.',
        `(import "gen/main.ncl")${skipGuidelines ? '' : ' & (import "parts/guidelines.ncl")'} & (import "parts/site.ncl")`,
        '',
      ].join('\n'),
    );
    ({ hosts, prov, ws } = w);
    const site = NAMES.map(
      (n) =>
        `  hosts.${JSON.stringify(n)} = { port = ${hosts[n].port}, key_path = "${hosts[n].privateKeyPath}", root = "${hosts[n].root}" },`,
    );
    mkdirSync(join(ws, 'parts'));
    writeFileSync(join(ws, 'parts', 'site.ncl'), `{\n${site.join('\n')}\n}\n`);
    return NAMES.map((n) => `${n} ${hosts[n].host}:${hosts[n].port}`).join(', ');
  });

  const user = hosts[NAMES[0]].username;
  const answers = { name: 'pg', provider: 'local', addresses: NAMES.map(() => '127.0.0.1'), ssh_user: user, ha: true };
  const web = Boolean(CHROMIUM.candidates.map(onPath).find(Boolean));
  await run.step(
    'prov',
    `the database wizard answered${web ? ' on its web page (headless chromium)' : ' from an answers file'}; prov validated the generated Nickel`,
    async () => {
      if (web) await wizardOnTheWeb(run, ws, answers);
      else {
        writeFileSync(join(a, 'wizard-answers.json'), JSON.stringify(answers, null, 2));
        await prov(['wizard', 'database', '--answers', join(a, 'wizard-answers.json'), '-o', 'gen']);
      }
      const main = readFileSync(join(ws, 'gen', 'main.ncl'), 'utf8');
      expect(
        main.includes('prov cluster create pg --template db-cluster'),
        `gen/main.ncl is not an HA layout:\n${main}`,
      );
      return `gen/main.ncl: ${NAMES.join(', ')} as db-members (PostgreSQL HA)`;
    },
  );

  await run.step(
    'kogral',
    skipGuidelines
      ? 'guidelines NOT consulted (the twin: the config goes out as the wizard wrote it)'
      : 'guidelines read through kogral MCP: names checked, default security merged (parts/guidelines.ncl)',
    async () => {
      if (skipGuidelines) return 'skipped';
      const r = await kogralTool(kg, 'get_guidelines', { topic: 'database cluster' });
      const byId = Object.fromEntries(r.guidelines.map((g) => [g.id, g]));
      expect(byId[used.naming] && byId[used.security], `get_guidelines returned ${r.guidelines.map((g) => g.id)}`);
      const [pattern] = fenced(byId[used.naming].body, 'regex');
      const names = [...readFileSync(join(ws, 'gen', 'main.ncl'), 'utf8').matchAll(/name = "([^"]+)"/g)].map(
        (m) => m[1],
      );
      const bad = names.filter((n) => !new RegExp(pattern.trim()).test(n));
      expect(names.length === 3 && bad.length === 0, `server names against ${pattern.trim()}: ${bad.join(', ')}`);
      const defaults = fenced(byId[used.security].body, 'nickel');
      expect(defaults.length === 1, `guideline ${used.security} has ${defaults.length} nickel blocks`);
      writeFileSync(
        join(ws, 'parts', 'guidelines.ncl'),
        `# From kogral guideline ${used.security} ("${GUIDELINES.security.title}").\n${defaults[0]}`,
      );
      return `${names.join(', ')} match ${pattern.trim()}; ${used.security} merged (security groups, backups, the disk encryption exception)`;
    },
  );

  await run.step('prov', 'validate and apply the servers (plan, checkpointed apply)', async () => {
    await prov(['validate']);
    const plan = await prov(['plan']);
    const r = await prov(['apply', '-y']);
    writeFileSync(join(a, 'plan.json'), JSON.stringify(plan, null, 2));
    return `plan: ${(plan.changes ?? []).map((c) => `${c.action} ${c.address}`).join(', ') || 'no changes'}; run ${r.run_id} ${r.status}`;
  });

  // The cluster: Patroni + etcd on the three servers. The hosts share this machine, so members get distinct
  // ports (a stride of 10 from a free block) and install into their own trees, run as the SSH user.
  const base = await freePortBlock(30);
  const pgPort = (n) => base + NAMES.indexOf(n) * 10;
  let leader;
  await run.step('prov', 'PostgreSQL HA: prov cluster create pg --template db-cluster (Patroni, etcd)', async () => {
    const { dbClusterOnOneMachine } = await import(join(ROOT, 'packages/prov/dist/testing/index.js'));
    const settings = [...dbClusterOnOneMachine(base), `run_as=${user}`];
    run.resource('db-cluster pg', process.pid, () =>
      prov(['cluster', 'destroy', 'pg', '-y']).then(
        () => {},
        () => killCluster(hosts),
      ),
    );
    const r = await prov([
      'cluster',
      'create',
      'pg',
      '--template',
      'db-cluster',
      '--servers',
      NAMES.join(','),
      '--version',
      '15',
      ...settings.flatMap((s) => ['--set', s]),
      '-y',
    ]);
    const show = await until('a leader and two replicas in sync', async () => {
      const out = await prov(['cluster', 'show', 'pg'], { expectExit: 'any' });
      const s = out.members ? out : (out.error?.details ?? {});
      const replicas = s.members?.filter((m) => m.role === 'replica' && m.state === 'running' && m.lag_mb !== null);
      return s.healthy && s.leader && replicas.length === 2 ? s : null;
    });
    leader = show.leader;
    return `run ${r.run.run_id} ${r.run.status} (${r.run.done.length} services, checkpointed); leader ${leader}; ${show.members.map((m) => `${m.host} ${m.role} ${m.state}`).join(', ')}`;
  });

  let vault;
  const svEnv = () => ({ SVAULT_ADDR: vault.addr, SVAULT_TOKEN: vault.token });
  const sv = (args, o = {}) => run.cli('svault', [...args, '--json'], { ...o, env: svEnv() });
  await run.step('svault', 'dev server; PKI: ML-DSA-65 for etcd peers, EC for the API', async () => {
    vault = await svaultDev(run);
    await sv(['secrets', 'enable', 'pki', '--path', 'pki_pq']);
    await sv([
      'pki',
      'root',
      'generate',
      'common_name=pg etcd CA',
      'key_type=ml-dsa-65',
      'ttl=87600h',
      '--mount',
      'pki_pq',
    ]);
    await sv([
      'pki',
      'role',
      'write',
      'etcd',
      'allowed_domains=pg.internal',
      'allow_subdomains=true',
      'key_type=ml-dsa-65',
      'max_ttl=720h',
      '--mount',
      'pki_pq',
    ]);
    await sv(['secrets', 'enable', 'pki']);
    await sv(['pki', 'root', 'generate', 'common_name=pg API CA', 'key_type=ec', 'ttl=87600h']);
    await sv([
      'pki',
      'role',
      'write',
      'api',
      'allowed_domains=pg.internal',
      'allow_subdomains=true',
      'key_type=ec',
      'max_ttl=720h',
    ]);
    return `${vault.addr} (pid ${vault.pid}); pki_pq/roles/etcd (ml-dsa-65), pki/roles/api (ec)`;
  });

  const certs = [];
  await run.step('prov', 'certificates issued by svault and installed on every member, one at a time', async () => {
    const health = "grep -q 'BEGIN CERTIFICATE' cert.pem";
    for (const [engine, role, domain] of [
      ['pki_pq', 'etcd', 'etcd.pg.internal'],
      ['pki', 'api', 'api.pg.internal'],
    ]) {
      await prov(
        [
          'cert',
          'generate',
          '--engine',
          engine,
          '--role',
          role,
          '--domain',
          domain,
          '--servers',
          NAMES.join(','),
          '--cluster',
          'pg',
          '--health',
          health,
        ],
        { env: svEnv() },
      );
      for (const n of NAMES) {
        const file = join(hosts[n].root, 'etc', 'prov', 'certs', domain, 'cert.pem');
        const v = await sv(['pki', 'verify', file, '--mount', engine]);
        expect(v.valid !== false, `the ${domain} certificate on ${n} does not verify against ${engine}`);
        const key = join(hosts[n].root, 'etc', 'prov', 'certs', domain, 'key.pem');
        expect((statSync(key).mode & 0o777) === 0o600, `the ${domain} key on ${n} is not 0600`);
        certs.push({ host: n, domain, serial: new X509Certificate(readFileSync(file)).serialNumber.toLowerCase() });
      }
    }
    const state = JSON.stringify(await prov(['state', 'list']));
    expect(!state.includes('PRIVATE KEY'), 'a private key is in prov state');
    return `${certs.length} certificates (etcd ML-DSA-65, api EC) verified against their CAs; keys 0600; no key in state`;
  });

  const adminPassword = run.secret(randomBytes(18).toString('base64url'));
  await run.step(
    'svault',
    'database engine: its own admin role on the leader, app role with 1-hour leases',
    async () => {
      const sql = join(hosts[leader].workDir, 'svault-admin.sql');
      writeFileSync(sql, `CREATE ROLE svault_admin WITH LOGIN SUPERUSER PASSWORD '${adminPassword}';\n`, {
        mode: 0o600,
      });
      const owner = statSync(hosts[leader].workDir);
      chownSync(sql, owner.uid, owner.gid);
      const script = join(a, 'svault-admin.sh');
      writeFileSync(
        script,
        `${shq(`${PG_BIN()}/psql`)} -X -q -h ${shq(`${hosts[leader].root}/run/patroni`)} -p ${pgPort(leader)} -d postgres -f ${shq(sql)}\nrm ${shq(sql)}\n`,
      );
      const r = await prov(['exec', '--hosts', leader, '--script', script]);
      expect(r.hosts[0]?.ok, `admin role on ${leader}: ${JSON.stringify(r.hosts[0])}`);
      await appDatabaseRole(run, sv, {
        name: 'pg',
        port: pgPort(leader),
        admin: 'svault_admin',
        password: adminPassword,
      });
      return `svault_admin on ${leader} (password only in svault); database/roles/app, TTL 1h`;
    },
  );

  // vapora: Monitor, Security and DevOps exec agents run the acceptance pipeline.
  const context = join(a, 'agent-context.json');
  writeFileSync(
    context,
    JSON.stringify({
      repo: ROOT,
      calls,
      prov_ws: ws,
      app_credentials: appCredentials,
      svault: { addr: vault.addr, token: vault.token },
    }),
    { mode: 0o600 },
  );
  const team = vaporaTeam(run, {
    src,
    pipelines: ['accept.toml'],
    roles: ['monitor', 'security', 'devops'],
    project: 'platform',
    context,
    approvals: 'The pipeline gates the handover (approval = true).',
  });
  const { vap } = team;
  let lead;
  let runId;
  await run.step(
    'vapora',
    'acceptance pipeline: Monitor checks health, Security runs soc2 compliance (high findings block)',
    async () => {
      await team.setup();
      await team.serve();
      lead = (await vap(['token', 'create', '--name', 'platform-lead', '--role', 'operator'])).token;
      const r = await vap([
        'pipeline',
        'run',
        'accept',
        '--project',
        'platform',
        '--input',
        'cluster=pg',
        '--input',
        'db_role=app',
      ]);
      runId = r.run.id;
      if (skipGuidelines) {
        const st = await team.ended(runId);
        writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
        const c = st.steps.find((s) => s.step === 'compliance' && s.phase === 'forward');
        expect(
          st.run.status !== 'succeeded',
          'the acceptance passed although the config ignores the security guideline',
        );
        expect(c?.output?.block === true, `compliance: ${JSON.stringify(c)}`);
        return `run ${st.run.status}: Security blocked it: ${c.output.reason}`;
      }
      const approval = await until(
        'the handover to ask for approval',
        async () => (await vap(['approvals'])).approvals.find((x) => x.runId === runId && x.status === 'pending'),
        120_000,
      );
      const st = await vap(['pipeline', 'status', runId]);
      const by = Object.fromEntries(st.steps.filter((s) => s.phase === 'forward').map((s) => [s.step, s]));
      expect(by.health?.output?.healthy === true, `health: ${JSON.stringify(by.health)}`);
      expect(by.compliance?.output?.block === false, `compliance: ${JSON.stringify(by.compliance)}`);
      expect(!existsSync(appCredentials), 'credentials were handed over before anyone approved');
      run.approval = approval;
      return `leader ${by.health.output.leader}; ${by.compliance.output.reason}; approval ${approval.id} pending`;
    },
  );

  if (!skipGuidelines)
    await run.step(
      'vapora',
      'platform-lead approves; the application gets 1-hour credentials that log in',
      async () => {
        await vap(['approve', run.approval.id, '--reason', 'cluster accepted'], { token: lead });
        const st = await team.ended(runId);
        writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
        expect(st.run.status === 'succeeded', `run ${runId} ended ${st.run.status}: ${st.run.error}`);
        const app = JSON.parse(readFileSync(appCredentials, 'utf8'));
        expect(app.lease_duration === 3600, `lease of ${app.lease_duration} s, not 3600`);
        const ok = await pgLogin(app.port, app.username, app.password);
        expect(ok.ok, `the application's login fails: ${ok.error}`);
        return `${app.username} (lease ${app.lease_id}, 1h) logs in on ${leader}`;
      },
    );

  await run.step('kogral', 'execution record linked to the decision, guidelines and runbook used', async () => {
    const node = await kog([
      'add',
      'execution',
      skipGuidelines ? 'Zero-touch pg: blocked by compliance' : 'Zero-touch pg: PostgreSQL HA provisioned',
      '--context',
      `prov wizard database (${web ? 'web' : 'answers file'}) → gen/main.ncl; ${skipGuidelines ? 'guidelines not applied' : `guidelines ${used.naming}, ${used.security} applied`}; Patroni cluster pg on ${NAMES.join(', ')} (leader ${leader}); certificates ${certs.map((c) => `${c.domain}@${c.host} ${c.serial.slice(0, 8)}`).join(', ')}; vapora run ${runId}.`,
      '--root-cause',
      'request: a PostgreSQL HA cluster for the application, answered in the database wizard',
      '--resolution',
      skipGuidelines
        ? 'not handed over: Security found the config non-compliant'
        : 'accepted by Monitor and Security, approved by platform-lead; the application has 1-hour credentials',
      '--action-items',
      skipGuidelines ? 'merge the default security guideline,re-run the acceptance' : 'schedule the backup workflow',
      ...(skipGuidelines ? ['--status', 'open'] : []),
      '--tags',
      'zero-touch,postgresql,scenario',
    ]);
    await kog(['link', node.id, used.adr, 'implements']);
    for (const id of [used.naming, used.security, used.runbook]) await kog(['link', node.id, id, 'relates_to']);
    const got = await kogralTool(kg, 'get_node', { id: node.id });
    const links = JSON.stringify(got.links ?? got);
    for (const id of [used.adr, used.security, used.runbook])
      expect(links.includes(id), `${node.id} does not link ${id}`);
    return `${node.id} → ${used.adr}, ${used.naming}, ${used.security}, ${used.runbook}`;
  });
}

/** The web page of `prov wizard database`, filled in headless chromium as the SRE would. */
async function wizardOnTheWeb(run, ws, answers) {
  const testing = await import(join(ROOT, 'packages/shared/dist/testing/index.js'));
  const child = spawn(
    process.execPath,
    [bin('prov'), 'wizard', 'database', '--backend', 'web', '-o', 'gen', '--json'],
    {
      cwd: ws,
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  run.resource('prov wizard (web)', child.pid, async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const exited = new Promise((r) => child.on('exit', r));
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      appendFileSync(join(run.dir, 'wizard.log'), d);
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/form\/\S+) in a browser/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) =>
      reject(new Broken(`prov wizard exited ${code} before serving its page: ${err.slice(-300)}`)),
    );
  });
  const chromium = await testing.launchChromium();
  run.resource('chromium', chromium.pid, () => chromium.stop());
  const page = await chromium.browser.newPage();
  await page.goto(url);
  await page.fill('#f-name', answers.name);
  await page.selectOption('#f-provider', answers.provider);
  await page.fill('#f-addresses', answers.addresses.join('\n'));
  await page.fill('#f-ssh_user', answers.ssh_user);
  await page.check('#w-ha input[value="yes"]');
  await page.click('button[type=submit]');
  await page.waitForSelector('#done');
  const code = await exited;
  await chromium.stop();
  if (code !== 0) throw new Broken(`prov wizard exited ${code}: ${err.trim().split('\n').pop()}`);
  return JSON.parse(out);
}

/** Last resort when `prov cluster destroy` failed: every Patroni, etcd and PostgreSQL the cluster started. */
function killCluster(hosts) {
  for (const h of Object.values(hosts)) {
    for (const f of ['run/patroni-pg.pid', 'run/etcd.pid', 'var/lib/pg/data/postmaster.pid']) {
      const p = join(h.root, f);
      if (!existsSync(p)) continue;
      try {
        process.kill(Number(readFileSync(p, 'utf8').split('\n')[0]), 'SIGKILL');
      } catch {}
    }
  }
}

export default {
  title:
    'Zero-touch provisioning: the database wizard on its web page → prov-validated Nickel → kogral guidelines (MCP) for naming and default security applied → prov apply + a Patroni cluster on three sshd hosts → svault PKI (ML-DSA-65 etcd, EC API) installed by prov, 1-hour database credentials → vapora Monitor and Security acceptance with an approval gate → kogral execution record',
  run: zeroTouch,
  twins: {
    'skip-guidelines':
      'the config goes out without the team security guideline: Security finds it non-compliant, the run is blocked, no credentials are handed over, the record stays open',
  },
  needs: [
    cmd('prov', 'wizard', 'database'),
    cmd('prov', 'cluster', 'create'),
    cmd('prov', 'cert', 'generate'),
    cmd('prov', 'compliance'),
    cmd('svault', 'server'),
    cmd('kogral', 'serve'),
    cmd('vapora', 'pipeline', 'run'),
    SSHD,
    PG,
    PATRONI,
    ETCD,
  ],
};
