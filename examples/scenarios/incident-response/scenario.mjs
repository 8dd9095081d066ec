import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmd, EXAMPLES, expect, PG, PG_BIN, ROOT, SSHD, shq, until } from '../lib/harness.mjs';
import { appDatabaseRole, pgLogin, provHosts, svaultDev, vaporaTeam } from '../lib/team.mjs';

// Incident response: a real PostgreSQL installed by prov on an sshd host goes down; vapora's agents
// detect it with the application's own login, look up postmortems through kogral's MCP server,
// diagnose and (after a human approves) restart it through prov, rotate the svault-issued database
// credentials; Security verifies the audit chain; kogral keeps the postmortem.

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
  const port = await testing.freePortBlock(1);
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
      config = {
        run_as = "${hosts['db-1'].username}",
        init = "none",
        port = ${port},
        listen_addresses = "127.0.0.1",
        password_from = "127.0.0.1/32",
      },
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

  // The DBA's one-time setup over SSH: a password for the superuser svault connects as (TCP logins by
  // password from 127.0.0.1 are the taskserv's password_from).
  const superPassword = run.secret(randomBytes(18).toString('base64url'));
  await run.step('prov', 'a password for the superuser svault connects as (prov exec --script)', async () => {
    const sql = join(host.workDir, 'setup.sql');
    writeFileSync(sql, `ALTER ROLE "${host.username}" PASSWORD '${superPassword}';\n`, { mode: 0o600 });
    chownSync(sql, statSync(host.workDir).uid, statSync(host.workDir).gid);
    const script = join(a, 'db-setup.sh');
    writeFileSync(
      script,
      [
        `${shq(`${pgBin}/psql`)} -X -q -h ${shq(`${root}/run/postgresql`)} -p ${port} -d postgres -f ${shq(sql)}`,
        `rm ${shq(sql)}`,
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
    vault = await svaultDev(run);
    const r = await sv(['audit', 'enable', 'file', `path=${audit}`]);
    expect(r.path === 'file/', `audit enable answered ${JSON.stringify(r)}`);
    return `${vault.addr} (pid ${vault.pid}); audit log ${audit}`;
  });

  let lease;
  await run.step('svault', 'dynamic PostgreSQL credentials for the app (TTL 1h)', async () => {
    await appDatabaseRole(run, sv, { name: 'pg', port, admin: host.username, password: superPassword });
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
  const team = vaporaTeam(run, {
    src,
    pipelines: ['incident.toml'],
    roles: ['monitor', 'security', 'devops'],
    project: 'incidents',
    context,
    approvals: 'The pipeline gates the restart (approval = true); a role here would ask a second time.',
  });
  const { vap } = team;
  let lead;
  let viewer;
  await run.step('vapora', 'project with monitor, security and devops exec agents', async () => {
    const ids = await team.setup();
    return `agents ${ids.join(', ')}; project incidents`;
  });

  await run.step('vapora', 'serve on a free loopback port', async () => {
    const vapora = await team.serve();
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

  const ended = () => team.ended(runId);
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
      ...(resolved ? [] : ['--status', 'open']),
      '--tags',
      'incident,postgresql,scenario',
    ]);
    for (const id of previous) await kog(['link', postmortem.id, id, 'relates_to']);
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

export default {
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
};
