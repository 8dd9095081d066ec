#!/usr/bin/env node
// The exec agents of the disaster-recovery scenario (role as argv[2]; the task from vapora). prov, svault
// and kogral through their real binaries and MCP; where things are is in the scenario's context file.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ctx, failure, kogralTool, login, payload, serve } from '../lib/agent-kit.mjs';

const prov = (args) => cli('prov', args, { cwd: ctx.prov_ws, env: ctx.cloud_env });
const svault = (args) => cli('svault', args, { env: { SVAULT_ADDR: ctx.svault.addr, SVAULT_TOKEN: ctx.svault.token } });
const must = async (what, p) => {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${failure(r)}`);
  return r.json;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const agents = {
  /** Project manager: DR is declared when the team's accepted decision covers this provider's outage. */
  async declare_dr() {
    const { hits } = await kogralTool(ctx.kogral_dir, 'search', {
      query: 'disaster recovery standby cloud',
      node_type: 'decision',
      limit: 1,
    });
    const adr = hits[0];
    if (!adr) return { declared: false, block: true, reason: 'no DR decision in the team graph: a human decides' };
    const { hits: books } = await kogralTool(ctx.kogral_dir, 'search', {
      query: 'region evacuation runbook',
      node_type: 'pattern',
      limit: 1,
    });
    return {
      declared: true,
      region: payload.region,
      decision: adr.id,
      runbook: books[0]?.id ?? null,
      finding: payload.finding,
    };
  },

  /** DevOps: the migration plan, saved for the record and for the apply. */
  async plan_migration() {
    const plan = await must('prov migrate plan', prov(['migrate', 'plan', ctx.configs.from, ctx.configs.to]));
    writeFileSync(join(ctx.artifacts, 'migration-plan.json'), JSON.stringify(plan, null, 2));
    return { steps: plan.steps.length, summary: plan.summary, phases: [...new Set(plan.steps.map((s) => s.phase))] };
  },

  /** DevOps (after approval): prov migrate apply; on failure prov has rolled back and the error is the step's. */
  async migrate() {
    const r = await prov(['migrate', 'apply', ctx.configs.from, ctx.configs.to, '-y']);
    writeFileSync(join(ctx.artifacts, 'migration-run.json'), JSON.stringify(r.json, null, 2));
    if (r.code !== 0) throw new Error(`prov migrate apply exited ${r.code}: ${failure(r)}`);
    return { id: r.json.id ?? r.json.migration_id ?? null, status: r.json.status ?? 'succeeded' };
  },

  /**
   * Security: from the surviving svault node (it took over the lock when the active node went down with the
   * region): the database engine pointed at the new server with the admin password kept in svault, new
   * application credentials, the old lease revoked, a certificate for the new server installed by prov.
   */
  async new_credentials() {
    // The node this agent talks to answers sys/leader itself (a standby does not send it on); it is
    // active once it holds the lock.
    let leader;
    for (let i = 0; i < 120; i++) {
      const r = await svault(['read', 'sys/leader']);
      leader = r.json?.data ?? r.json;
      if (r.code === 0 && leader?.is_self === true) break;
      await sleep(500);
    }
    if (leader?.is_self !== true)
      throw new Error(`svault ${ctx.svault.addr} never became active: ${JSON.stringify(leader)}`);
    const admin = await must('svault kv get', svault(['kv', 'get', 'secret/dr/db-admin']));
    const { username, password } = admin.data.data;
    await must(
      'svault database config write',
      svault([
        'database',
        'config',
        'write',
        'app',
        'plugin=postgresql',
        `connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:${ctx.pg.new_port}/app`,
        `username=${username}`,
        `password=${password}`,
      ]),
    );
    const old = JSON.parse(readFileSync(ctx.app_credentials, 'utf8'));
    const fresh = await must('svault database creds', svault(['database', 'creds', 'app']));
    await must('svault lease revoke', svault(['lease', 'revoke', old.lease_id]));
    const next = {
      lease_id: fresh.lease_id,
      username: fresh.data.username,
      password: fresh.data.password,
      port: ctx.pg.new_port,
    };
    writeFileSync(ctx.app_credentials, JSON.stringify(next), { mode: 0o600 });
    const cert = await must(
      'prov cert generate',
      cli(
        'prov',
        [
          'cert',
          'generate',
          '--domain',
          'db.dr.internal',
          '--role',
          'services',
          '--servers',
          'db-1',
          '-f',
          ctx.configs.to,
        ],
        {
          cwd: ctx.prov_ws,
          env: { ...ctx.cloud_env, SVAULT_ADDR: ctx.svault.addr, SVAULT_TOKEN: ctx.svault.token },
        },
      ),
    );
    return {
      svault_active: ctx.svault.node,
      revoked_lease: old.lease_id,
      new_lease: next.lease_id,
      certificate: JSON.stringify(cert).match(/[0-9a-f]{2}(:[0-9a-f]{2}){7,}/)?.[0] ?? 'issued',
    };
  },

  /** Monitor: the app's new login works on the new server and every order written before the outage is there. */
  async verify_data() {
    const c = JSON.parse(readFileSync(ctx.app_credentials, 'utf8'));
    const r = await login(c.port, c.username, c.password, 'app', 'SELECT count(*)::int AS n FROM orders');
    if (!r.ok) throw new Error(`the application cannot read orders on the new server: ${r.error}`);
    const rows = r.rows[0].n;
    return { healthy: true, rows, rows_before: ctx.rows_before, lost: ctx.rows_before - rows };
  },
};

serve(agents);
