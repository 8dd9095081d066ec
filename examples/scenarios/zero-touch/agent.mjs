#!/usr/bin/env node
// The exec agents of the zero-touch scenario (role as argv[2]; the task from vapora). They use prov and
// svault through their real binaries; where things are is in the scenario's context file.
import { writeFileSync } from 'node:fs';
import { cli, ctx, failure, login, payload, serve } from '../lib/agent-kit.mjs';

const prov = (args) => cli('prov', args, { cwd: ctx.prov_ws });
const svault = (args) => cli('svault', args, { env: { SVAULT_ADDR: ctx.svault.addr, SVAULT_TOKEN: ctx.svault.token } });

/** The cluster as prov reads it from Patroni's REST API on each member. */
async function cluster(name) {
  const r = await prov(['cluster', 'show', name]);
  if (r.code !== 0) throw new Error(`prov cluster show ${name} exited ${r.code}: ${failure(r)}`);
  return r.json;
}

const agents = {
  /** Monitor: a leader, every other member a running replica with a known lag (so it replicates). */
  async health_checks() {
    const c = await cluster(payload.cluster);
    const problems = [];
    if (!c.leader || !c.healthy) problems.push(c.leader ? 'prov reports it unhealthy' : 'no leader');
    for (const m of c.members) {
      if (m.role !== 'leader' && (m.state !== 'running' || m.lag_mb === null))
        problems.push(`${m.host} is ${m.role} ${m.state}, lag ${m.lag_mb ?? 'unknown'}`);
    }
    if (problems.length) throw new Error(`${payload.cluster} is not healthy: ${problems.join('; ')}`);
    return {
      cluster: payload.cluster,
      healthy: true,
      leader: c.leader,
      members: c.members.map((m) => `${m.host} ${m.role} ${m.state}`),
    };
  },

  /** Security: prov compliance on the workspace's config; a finding of high severity or more blocks the handover. */
  async compliance() {
    const r = await prov(['compliance', '--framework', payload.framework, '--fail-on', 'high']);
    const report = r.json;
    if (!report?.findings) throw new Error(`prov compliance exited ${r.code}: ${failure(r)}`);
    const blocking = report.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
    const listed = (fs) => fs.map((f) => `${f.rule} ${f.path}`).join('; ');
    const others = report.findings.length - blocking.length;
    const suppressed = report.suppressions.filter((x) => x.suppressed > 0).map((x) => `${x.rule} (${x.reason})`);
    return blocking.length
      ? {
          block: true,
          reason: `${blocking.length} high ${payload.framework} finding(s): ${listed(blocking)}`,
          findings: blocking,
        }
      : {
          block: false,
          reason: `${payload.framework}: no high finding (${others} lower: ${listed(report.findings) || 'none'}; suppressed: ${suppressed.join(', ') || 'none'})`,
          findings: report.findings,
        };
  },

  /** DevOps (after approval): the application's first credentials, a 1-hour lease, checked on the leader. */
  async handover() {
    const c = await cluster(payload.cluster);
    const leader = c.members.find((m) => m.role === 'leader');
    const creds = await svault(['database', 'creds', payload.role]);
    if (creds.code !== 0) throw new Error(`svault database creds exited ${creds.code}: ${failure(creds)}`);
    const app = {
      lease_id: creds.json.lease_id,
      lease_duration: creds.json.lease_duration,
      username: creds.json.data.username,
      password: creds.json.data.password,
      host: '127.0.0.1',
      port: leader.pg_port,
    };
    const ok = await login(app.port, app.username, app.password);
    if (!ok.ok) throw new Error(`the new credentials do not log in on the leader ${leader.host}: ${ok.error}`);
    writeFileSync(ctx.app_credentials, JSON.stringify(app), { mode: 0o600 });
    return { lease_id: app.lease_id, ttl: app.lease_duration, username: app.username, leader: leader.host };
  },
};

serve(agents);
