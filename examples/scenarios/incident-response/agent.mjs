#!/usr/bin/env node
// The exec agents of the incident-response scenario: one script, the role as argv[2]; the task type and
// payload come from vapora ($VAPORA_TASK_TYPE, $VAPORA_PAYLOAD). Each agent does its job with the real
// tools (a PostgreSQL login, kogral over MCP, prov over SSH, svault's database engine) and prints one
// JSON object, the step's output. Where things are (ports, folders, the svault address) is in the
// scenario's context file ($SCENARIO_CONTEXT, 0600). Every call is logged to the context's `calls` file.
import { readFileSync, writeFileSync } from 'node:fs';
import { cli, ctx, kogralTool, login as loginAt, payload, serve } from '../lib/agent-kit.mjs';
import { shq } from '../lib/harness.mjs';

const login = (user, password) => loginAt(ctx.pg.port, user, password);
const appCreds = () => JSON.parse(readFileSync(ctx.app_credentials, 'utf8'));
const svault = (args) => cli('svault', args, { env: { SVAULT_ADDR: ctx.svault.addr, SVAULT_TOKEN: ctx.svault.token } });
const prov = (args) => cli('prov', args, { cwd: ctx.prov_ws });

const agents = {
  /** Monitor: the application's own login, not a port probe: down means the app cannot work. */
  async health_check() {
    const c = appCreds();
    const r = await login(c.username, c.password);
    if (r.ok) return { service: payload.service, healthy: true };
    // Down: an alert on vapora.alerts (the incident pipeline's trigger), unless this check runs inside it.
    const alert = payload.raise_alert
      ? {
          alert: {
            severity: 'critical',
            message: `${payload.service}: ${r.error}`,
            metadata: { service: payload.service, host: ctx.host },
          },
        }
      : {};
    return { service: payload.service, healthy: false, error: r.error, ...alert };
  },

  /** DevOps: the team's past postmortems, through kogral's MCP server as any assistant would ask. */
  async find_postmortems() {
    const { hits } = await kogralTool(ctx.kogral_dir, 'search', {
      query: payload.query,
      node_type: 'execution',
      limit: 3,
    });
    return { count: hits.length, ids: hits.map((h) => h.id), titles: hits.map((h) => h.title) };
  },

  /** DevOps runbook, step 1: what prov knows of the service, and the server log's last lines over SSH. */
  async diagnose() {
    const st = await prov(['service', 'status', payload.service]);
    if (st.code !== 0) throw new Error(`prov service status exited ${st.code}: ${st.stderr.trim()}`);
    // prov exec -- takes a shell line (as ansible -a): the path is quoted.
    const log = await prov(['exec', '--hosts', ctx.host, '--', 'tail', '-n', '3', shq(ctx.pg.log)]);
    const lines = (log.json?.hosts ?? log.json?.results ?? []).flatMap((h) => h.stdout?.split('\n') ?? []);
    return {
      service: payload.service,
      status: st.json.hosts.map((h) => `${h.host}: ${h.status}`).join(', '),
      log_tail: lines.filter(Boolean).slice(-3),
    };
  },

  /** DevOps runbook, step 2 (after approval): prov sees the stopped service as drift and converges. */
  async restart() {
    const plan = await prov(['plan']);
    if (plan.code !== 0) throw new Error(`prov plan exited ${plan.code}: ${plan.stderr.trim()}`);
    const changes = (plan.json.changes ?? []).map((c) => `${c.action} ${c.address}`);
    const apply = await prov(['apply', '-y']);
    if (apply.code !== 0) {
      const why = apply.json?.error?.message ?? apply.stderr.trim().split('\n').pop();
      throw new Error(`prov apply exited ${apply.code}: ${why}`);
    }
    const c = appCreds();
    const r = await login(c.username, c.password);
    if (!r.ok) throw new Error(`restarted, but the application still cannot log in: ${r.error}`);
    return { service: payload.service, plan: changes, status: 'active' };
  },

  /** Security: new database credentials from svault, the old lease revoked, both checked by logging in. */
  async rotate_credentials() {
    const old = appCreds();
    const fresh = await svault(['database', 'creds', payload.role]);
    if (fresh.code !== 0) throw new Error(`svault database creds exited ${fresh.code}: ${fresh.stderr.trim()}`);
    const revoke = await svault(['lease', 'revoke', old.lease_id]);
    if (revoke.code !== 0) throw new Error(`svault lease revoke exited ${revoke.code}: ${revoke.stderr.trim()}`);
    const next = {
      lease_id: fresh.json.lease_id,
      username: fresh.json.data.username,
      password: fresh.json.data.password,
    };
    const oldLogin = await login(old.username, old.password);
    const newLogin = await login(next.username, next.password);
    if (oldLogin.ok) throw new Error(`the revoked login ${old.username} still works`);
    if (!newLogin.ok) throw new Error(`the new login ${next.username} fails: ${newLogin.error}`);
    writeFileSync(ctx.app_credentials, JSON.stringify(next), { mode: 0o600 });
    return {
      revoked_lease: old.lease_id,
      new_lease: next.lease_id,
      old_login: `refused (${oldLogin.error})`,
      new_login: 'ok',
    };
  },

  /** Security: the svault audit chain, verified by the real binary; a broken chain blocks the run. */
  async audit_verify() {
    const r = await cli('svault', ['audit', 'verify', ctx.audit_log]);
    return r.code === 0 && r.json?.ok
      ? { block: false, reason: 'audit chain intact', lines: r.json.lines }
      : { block: true, reason: `svault audit verify failed: ${r.json?.error?.message ?? r.stderr.trim()}` };
  },
};

serve(agents);
