import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmd, EXAMPLES, expect, PG, PG_BIN, ROOT, SSHD, shq, until, withJson } from '../lib/harness.mjs';
import { appDatabaseRole, freePortBlock, pgLogin, vaporaTeam } from '../lib/team.mjs';

// Multi-cloud disaster recovery: the order service's PostgreSQL runs on an AWS instance; its credentials
// come from svault, two nodes sharing PostgreSQL storage (one active, one standby). AWS eu-west-1
// degrades: the active svault node goes down with it and the cloud health check raises an alert, which
// starts the DR pipeline: the project manager declares DR from the team's decision, DevOps plans the move
// (prov migrate plan aws.ncl upcloud.ncl), a human approves, prov migrate apply moves the service to
// UpCloud (server created, data dumped and restored over SSH, checksums compared, the EC2 instance
// terminated; everything undone if the UpCloud side fails), Security issues new credentials and a
// certificate from the svault node that took over, the Monitor checks every order arrived. kogral keeps
// the incident with its RTO and RPO. Both clouds are local servers speaking the EC2 Query API and UpCloud's
// REST API (the real AWS SDK talks to the first); the servers they create are throwaway sshd hosts.

const ROWS = 250;

async function disasterRecovery(run, twin) {
  const src = join(EXAMPLES, 'disaster-recovery');
  const a = run.dir;
  const calls = join(a, 'agent-calls.log');
  const appCredentials = join(a, 'app-credentials.json');
  writeFileSync(calls, '');
  const upcloudFails = twin === 'upcloud-fails';
  const testing = await import(join(ROOT, 'packages/shared/dist/testing/index.js'));
  const clouds = await import(join(ROOT, 'packages/prov/dist/testing/index.js'));

  const kg = join(a, 'kogral');
  mkdirSync(kg);
  const kog = (args, o = {}) => run.cli('kogral', [...args, '--json'], { cwd: kg, ...o });
  const used = {};
  await run.step('kogral', 'the DR decision and the region evacuation runbook', async () => {
    await kog(['init']);
    used.adr = (
      await kog([
        'add',
        'decision',
        'Multi-cloud disaster recovery: AWS primary, UpCloud standby',
        '--context',
        'A region outage at the primary cloud must not stop order taking for more than minutes.',
        '--decision',
        'When an AWS region serving production degrades, declare DR and move the service to UpCloud de-fra1 with prov migrate; svault runs one node per cloud on shared storage.',
        '--consequences',
        'Both clouds kept configured (aws.ncl, upcloud.ncl); new credentials and certificates after every move.',
        '--status',
        'accepted',
        '--tags',
        'dr,aws,upcloud',
      ])
    ).id;
    used.runbook = (
      await kog([
        'add',
        'pattern',
        'Runbook: region evacuation',
        '--problem',
        'The primary region degrades while its servers still answer.',
        '--solution',
        'prov migrate plan, then prov migrate apply (writes frozen, dump, restore, checksums, then the switch); new svault credentials; check the row counts.',
        '--tags',
        'dr,runbook',
      ])
    ).id;
    return `decision ${used.adr}; runbook ${used.runbook}`;
  });

  // The two clouds: local API servers; each server they create is a throwaway sshd host.
  let ec2;
  let uc;
  let awsHosts;
  let ucHosts;
  const cloudEnv = {};
  await run.step(
    'prov',
    'AWS (EC2 Query API) and UpCloud (REST API) on loopback, their servers sshd hosts',
    async () => {
      awsHosts = await clouds.startCloudHosts(['db-1'], { stopOnRelease: true });
      run.resource('aws hosts', awsHosts.hosts.get('db-1').sshd.pid, () => awsHosts.stop());
      ucHosts = await clouds.startCloudHosts(['db-1'], { stopOnRelease: true });
      run.resource('upcloud hosts', ucHosts.hosts.get('db-1').sshd.pid, () => ucHosts.stop());
      ec2 = await clouds.startFakeEc2({ hosts: awsHosts });
      run.resource('EC2 API', process.pid, () => ec2.close());
      uc = await clouds.startFakeUpcloud({ hosts: ucHosts });
      run.resource('UpCloud API', process.pid, () => uc.close());
      Object.assign(cloudEnv, {
        PROV_AWS_ENDPOINT: ec2.url,
        AWS_ACCESS_KEY_ID: 'AKIDSCENARIO',
        AWS_SECRET_ACCESS_KEY: randomBytes(12).toString('hex'),
        AWS_REGION: 'eu-west-1',
        PROV_UPCLOUD_ENDPOINT: uc.url,
        UPCLOUD_USERNAME: clouds.CREDENTIALS.username,
        UPCLOUD_PASSWORD: clouds.CREDENTIALS.password,
      });
      return `EC2 ${ec2.url}, UpCloud ${uc.url}`;
    },
  );

  const ws = join(a, 'prov');
  mkdirSync(join(ws, '.prov'), { recursive: true });
  const prov = (args, o = {}) => run.cli('prov', withJson(args), { cwd: ws, env: cloudEnv, ...o });
  const base = await freePortBlock(2);
  const ports = { aws: base, upcloud: base + 1 };
  const user = awsHosts.hosts.get('db-1').sshd.username;
  const os = `os = { family = 'ubuntu, version = "22.04" }`;
  const config = (provider, hosts) => `let Infrastructure = import "infrastructure.ncl" in
{
  provider = '${provider},
  region = "${provider === 'aws' ? 'eu-west-1' : 'de-fra1'}",
  servers = [${
    provider === 'aws'
      ? `{ name = "db-1", provider = 'aws, plan = "t3.small", spec = { cpu = 2, memory_gb = 2, disk_gb = 20, ${os} } }`
      : `{ name = "db-1", provider = 'upcloud, plan = "2xCPU-4GB", spec = { cpu = 2, memory_gb = 4, disk_gb = 50, ${os} } }`
  }],
  hosts = { ${hosts.hostEntry('db-1')} },
  taskservs = [
    {
      name = 'postgresql,
      hosts = ["db-1"],
      config = { run_as = "${user}", init = "none", port = ${ports[provider]}, password_from = "127.0.0.1/32" },
    },
  ],
} | Infrastructure
`;
  await run.step('prov', 'the order service on AWS: prov apply aws.ncl (EC2 instance, PostgreSQL)', async () => {
    writeFileSync(join(ws, '.prov', 'known_hosts'), awsHosts.knownHosts() + ucHosts.knownHosts());
    writeFileSync(join(ws, 'prov.toml'), '[apply]\nretries = 1\nbackoff_initial_ms = 50\nbackoff_max_ms = 200\n');
    writeFileSync(join(ws, 'aws.ncl'), config('aws', awsHosts));
    writeFileSync(join(ws, 'upcloud.ncl'), config('upcloud', ucHosts));
    const r = await prov(['apply', 'aws.ncl', '-y']);
    const instances = ec2.inventory().filter((l) => l.startsWith('instance'));
    expect(instances.length === 1, `EC2 has ${instances.length} instances`);
    return `run ${r.run_id} ${r.status}; ${instances[0].split(' ').slice(0, 2).join(' ')}; PostgreSQL on port ${ports.aws}`;
  });

  const adminPassword = run.secret(randomBytes(18).toString('base64url'));
  await run.step('prov', `${ROWS} orders and the svault admin role on AWS db-1 (prov exec --script)`, async () => {
    const host = awsHosts.hosts.get('db-1');
    const sql = join(host.sshd.workDir, 'orders.sql');
    writeFileSync(
      sql,
      [
        `CREATE ROLE svault_admin WITH LOGIN SUPERUSER PASSWORD '${adminPassword}';`,
        'CREATE DATABASE app;',
        '\\connect app',
        'CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, cents int NOT NULL);',
        `INSERT INTO orders SELECT g, 'item ' || g, g * 100 FROM generate_series(1, ${ROWS}) g;`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const owner = statSync(host.sshd.workDir);
    chownSync(sql, owner.uid, owner.gid);
    const script = join(a, 'orders.sh');
    writeFileSync(
      script,
      `${shq(`${PG_BIN()}/psql`)} -X -q -v ON_ERROR_STOP=1 -h ${shq(`${host.root}/run/postgresql`)} -p ${ports.aws} -d postgres -f ${shq(sql)}\nrm ${shq(sql)}\n`,
    );
    const r = await prov(['exec', '-f', 'aws.ncl', '--hosts', 'db-1', '--script', script]);
    expect(r.hosts[0]?.ok, `setup on db-1: ${JSON.stringify(r.hosts[0])}`);
    return `app.orders: ${ROWS} rows; svault_admin (password only in svault)`;
  });

  // svault: two nodes on one PostgreSQL storage, ha_enabled; node a "in AWS" is active, node b standby.
  const store = await testing.startPostgres();
  run.resource('svault storage (postgresql)', store.pid ?? process.pid, () => store.stop());
  const vdir = join(a, 'svault');
  mkdirSync(vdir);
  const vconf = join(vdir, 'svault.toml');
  writeFileSync(
    vconf,
    `[server]\naddress = "127.0.0.1:0"\n\n[storage]\nbackend = "postgresql"\n\n[storage.postgresql]\nconnection_url = "${store.url}"\nha_enabled = true\n`,
  );
  const node = (label) =>
    run.server(label, 'svault', ['server', '--config', vconf], {
      cwd: vdir,
      env: { SVAULT_DATA_DIR: join(vdir, label) },
      ready: (out) => {
        const m = /svault server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { addr: m[1] } : null;
      },
    });
  let nodeA;
  let nodeB;
  let root;
  const sv = (addr, args, o = {}) =>
    run.cli('svault', [...args, '--json'], { cwd: vdir, ...o, env: { SVAULT_ADDR: addr, SVAULT_TOKEN: root ?? '' } });
  let lease;
  await run.step(
    'svault',
    'two nodes on shared PostgreSQL storage (HA): a active, b standby; app credentials (1h)',
    async () => {
      nodeA = await node('svault-a');
      nodeB = await node('svault-b');
      const init = await sv(nodeA.addr, ['operator', 'init', '--shares', '1', '--threshold', '1']);
      root = init.root_token;
      // b is unsealed once a holds the lock: unsealed together, a loaded machine may let b win it.
      await sv(nodeA.addr, ['operator', 'unseal', init.keys[0]]);
      const leader = await until('node a to lead', async () => {
        const r = await sv(nodeA.addr, ['read', 'sys/leader']);
        const d = r.data ?? r;
        return d.is_self ? d : null;
      });
      await sv(nodeB.addr, ['operator', 'unseal', init.keys[0]]);
      await sv(nodeA.addr, ['secrets', 'enable', 'kv', '--path', 'secret', '--version', '2']);
      await sv(nodeA.addr, [
        'kv',
        'put',
        'secret/dr/db-admin',
        'username=svault_admin',
        `password=@${run.secretFile('db-admin', adminPassword)}`,
      ]);
      await appDatabaseRole(run, (args) => sv(nodeA.addr, args), {
        name: 'app',
        port: ports.aws,
        database: 'app',
        admin: 'svault_admin',
        password: adminPassword,
        grants: 'GRANT SELECT, INSERT ON orders TO "{{name}}";',
      });
      await sv(nodeA.addr, ['secrets', 'enable', 'pki']);
      await sv(nodeA.addr, ['pki', 'root', 'generate', 'common_name=DR Root', 'key_type=ec', 'ttl=87600h']);
      await sv(nodeA.addr, [
        'pki',
        'role',
        'write',
        'services',
        'allowed_domains=dr.internal',
        'allow_subdomains=true',
        'key_type=ec',
        'max_ttl=720h',
      ]);
      const c = await sv(nodeA.addr, ['database', 'creds', 'app']);
      lease = { lease_id: c.lease_id, username: c.data.username, password: c.data.password, port: ports.aws };
      writeFileSync(appCredentials, JSON.stringify(lease), { mode: 0o600 });
      const count = await pgLogin(
        ports.aws,
        lease.username,
        lease.password,
        'app',
        'SELECT count(*)::int AS n FROM orders',
      );
      expect(count.ok && count.rows[0].n === ROWS, `the app reads ${JSON.stringify(count)}`);
      return `a ${nodeA.addr} active since ${leader.active_time ?? '?'}, b ${nodeB.addr} standby; the app (${lease.username}) reads ${ROWS} orders`;
    },
  );

  const context = join(a, 'agent-context.json');
  writeFileSync(
    context,
    JSON.stringify({
      repo: ROOT,
      calls,
      artifacts: a,
      kogral_dir: kg,
      prov_ws: ws,
      cloud_env: cloudEnv,
      configs: { from: 'aws.ncl', to: 'upcloud.ncl' },
      app_credentials: appCredentials,
      pg: { new_port: ports.upcloud },
      rows_before: ROWS,
      // The agents run after the region is gone: they talk to the node in the other cloud.
      svault: { addr: nodeB.addr, token: root, node: 'b' },
    }),
    { mode: 0o600 },
  );
  const team = vaporaTeam(run, {
    src,
    pipelines: ['dr.toml'],
    roles: ['project-manager', 'devops', 'security', 'monitor'],
    project: 'dr',
    context,
    approvals: 'The pipeline gates the evacuation (approval = true).',
  });
  const { vap } = team;
  let lead;
  await run.step('vapora', 'DR team: project-manager, devops, security and monitor exec agents; serve', async () => {
    await team.setup();
    const v = await team.serve();
    lead = (await vap(['token', 'create', '--name', 'dr-lead', '--role', 'operator'])).token;
    return `${v.url} (pid ${v.pid}); operator token dr-lead`;
  });

  // The outage.
  let alertAt;
  let runId;
  await run.step(
    'vapora',
    'AWS eu-west-1 degrades: svault node a goes down with it (kill -9); the cloud health alert starts the DR pipeline',
    async () => {
      process.kill(nodeA.pid, 'SIGKILL');
      if (upcloudFails) {
        // The twin: the UpCloud server is created but never reachable (its sshd is gone).
        await ucHosts.hosts.get('db-1').sshd.stop();
      }
      alertAt = Date.now();
      const r = await vap([
        'alert',
        'raise',
        '--source',
        'cloud-health',
        '--severity',
        'critical',
        '-m',
        'AWS eu-west-1: EC2 API and EBS degraded',
        '--meta',
        'provider=aws',
        '--meta',
        'region=eu-west-1',
      ]);
      expect(r.runs?.length === 1, `the alert started ${JSON.stringify(r.runs)}; skipped ${JSON.stringify(r.skipped)}`);
      runId = r.runs[0].run_id;
      return `${r.alert.id} → run ${runId}${upcloudFails ? '; (twin) the UpCloud server will not be reachable' : ''}`;
    },
  );

  let approval;
  await run.step(
    'vapora',
    'the project manager declares DR; DevOps plans the move; the evacuation waits for a human',
    async () => {
      approval = await until(
        'the migration to ask for approval',
        async () => (await vap(['approvals'])).approvals.find((x) => x.runId === runId && x.status === 'pending'),
        120_000,
      );
      const st = await vap(['pipeline', 'status', runId]);
      const by = Object.fromEntries(st.steps.filter((s) => s.phase === 'forward').map((s) => [s.step, s]));
      expect(
        by.declare?.output?.declared === true && by.declare.output.decision === used.adr,
        `declare: ${JSON.stringify(by.declare)}`,
      );
      expect(by.plan?.output?.steps > 0, `plan: ${JSON.stringify(by.plan)}`);
      return `DR declared (${by.declare.output.decision}, runbook ${by.declare.output.runbook}); plan: ${by.plan.output.steps} steps (${by.plan.output.phases.join(', ')}); approval ${approval.id} pending`;
    },
  );

  let st;
  await run.step(
    'vapora',
    upcloudFails
      ? 'dr-lead approves; the UpCloud side fails; prov rolls back and AWS keeps serving'
      : 'dr-lead approves; prov migrate apply moves the service to UpCloud; Security and Monitor finish',
    async () => {
      await vap(['approve', approval.id, '--reason', 'evacuate eu-west-1'], { token: lead });
      st = await team.ended(runId, 240_000);
      writeFileSync(join(a, 'pipeline-run.json'), JSON.stringify(st, null, 2));
      const by = Object.fromEntries(st.steps.filter((s) => s.phase === 'forward').map((s) => [s.step, s]));
      const servers = (await prov(['state', 'list'])).resources.map((r) => `${r.address}`);
      if (upcloudFails) {
        expect(st.run.status !== 'succeeded', 'the DR run succeeded although UpCloud failed');
        expect(by.migrate?.status === 'failed', `migrate: ${JSON.stringify(by.migrate)}`);
        expect(
          !readFileSync(calls, 'utf8').includes('security new_credentials'),
          'credentials issued after a failed move',
        );
        const instances = ec2.inventory().filter((l) => l.startsWith('instance'));
        expect(instances.length === 1, `EC2 has ${instances.length} instances after the rollback`);
        expect(uc.inventory().filter((l) => l.startsWith('server')).length === 0, `UpCloud kept ${uc.inventory()}`);
        const still = await pgLogin(
          ports.aws,
          lease.username,
          lease.password,
          'app',
          'SELECT count(*)::int AS n FROM orders',
        );
        expect(still.ok && still.rows[0].n === ROWS, `AWS after the rollback: ${JSON.stringify(still)}`);
        return `run ${st.run.status}: ${(by.migrate.error ?? '').slice(0, 160)}; AWS untouched (${ROWS} orders, old credentials work); UpCloud empty`;
      }
      expect(st.run.status === 'succeeded', `run ${runId} ended ${st.run.status}: ${st.run.error}`);
      const v = by.verify.output;
      expect(v.rows === ROWS && v.lost === 0, `verify: ${JSON.stringify(v)}`);
      expect(ec2.inventory().filter((l) => l.startsWith('instance')).length === 0, `EC2 still has ${ec2.inventory()}`);
      const fresh = JSON.parse(readFileSync(appCredentials, 'utf8'));
      const oldLogin = await pgLogin(ports.upcloud, lease.username, lease.password, 'app');
      const newLogin = await pgLogin(ports.upcloud, fresh.username, fresh.password, 'app');
      expect(!oldLogin.ok, `the revoked login ${lease.username} works on the new server`);
      expect(newLogin.ok, `the new login fails: ${newLogin.error}`);
      return `run succeeded; state: ${servers.join(', ')}; svault b served (${by.credentials.output.revoked_lease} revoked); ${v.rows} orders on UpCloud, ${v.lost} lost`;
    },
  );

  await run.step('kogral', 'incident record with RTO and RPO, linked to the decision and the runbook', async () => {
    const done = st.steps.find((s) => s.step === 'verify' && s.phase === 'forward');
    // Recovery time: from the alert to the Monitor's verified data (the step's end, as vapora recorded it).
    const rto = done?.finished_at ? Math.round((done.finished_at - alertAt) / 1000) : null;
    if (!upcloudFails) expect(rto !== null, `no end time on the verify step: ${JSON.stringify(done)}`);
    const node = await kog([
      'add',
      'execution',
      upcloudFails
        ? 'DR eu-west-1: evacuation to UpCloud failed, rolled back'
        : 'DR eu-west-1: order service moved to UpCloud',
      '--context',
      `Alert at ${new Date(alertAt).toISOString()} (AWS eu-west-1 degraded); svault node a lost, node b took over; vapora run ${runId}.`,
      '--root-cause',
      'AWS eu-west-1 degraded (simulated)',
      '--resolution',
      upcloudFails
        ? 'not resolved: the UpCloud server was unreachable; prov rolled the migration back; AWS still serves'
        : `moved by prov migrate; RTO ${rto} s (alert to verified data); RPO 0 orders lost (${ROWS} of ${ROWS}; writes frozen for the dump)`,
      '--action-items',
      upcloudFails
        ? 'repair the UpCloud side,re-run the DR pipeline'
        : 'move back when eu-west-1 recovers,rehearse monthly',
      ...(upcloudFails ? ['--status', 'open'] : []),
      '--tags',
      'dr,incident,scenario',
    ]);
    await kog(['link', node.id, used.adr, 'implements']);
    await kog(['link', node.id, used.runbook, 'relates_to']);
    return `${node.id}${upcloudFails ? ' (open)' : `: RTO ${rto} s, RPO 0`}`;
  });
}

export default {
  title:
    'Multi-cloud disaster recovery: AWS eu-west-1 degrades (and a svault node with it) → the alert starts the DR pipeline → project manager declares DR from the team decision → prov migrate plan → a human approves → prov migrate apply aws → upcloud (local EC2 and UpCloud API servers; rolled back if UpCloud fails) → new credentials and certificate from the svault node that took over → every order verified → kogral incident with RTO/RPO',
  run: disasterRecovery,
  twins: {
    'upcloud-fails':
      'the UpCloud server is created but unreachable: prov rolls the migration back, AWS keeps serving with the old credentials, nothing new is issued, the incident stays open',
  },
  needs: [
    cmd('prov', 'migrate', 'plan'),
    cmd('prov', 'migrate', 'apply'),
    cmd('prov', 'cert', 'generate'),
    cmd('svault', 'server'),
    cmd('vapora', 'alert', 'raise'),
    cmd('kogral', 'add', 'execution'),
    SSHD,
    PG,
  ],
};
