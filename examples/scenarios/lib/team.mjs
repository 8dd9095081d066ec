// Pieces more than one scenario sets up: throwaway sshd hosts in a prov workspace, an application's
// PostgreSQL login, kogral over MCP, a vapora team of exec agents.
import { appendFileSync, chownSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { bin, ROOT, until, withJson } from './harness.mjs';

/**
 * Throwaway hosts (one sshd each on loopback, stopped with the run) and a prov workspace that knows them:
 * host keys pinned, each host installing into a tree its SSH user owns (`root`), the config written by
 * `config(hostsBlock)`. Returns the hosts by name and a `prov` runner (--json) in that workspace.
 */
export async function provHosts(run, names, config) {
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

/**
 * One login as the application makes it (TCP, password) and one query: { ok, rows } or { ok: false, error }.
 */
export async function pgLogin(port, user, password, database = 'postgres', query = 'SELECT 1') {
  const { default: pg } = await import('pg');
  const c = new pg.Client({
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    connectionTimeoutMillis: 5000,
  });
  try {
    await c.connect();
    const r = await c.query(query);
    return { ok: true, rows: r.rows };
  } catch (e) {
    return { ok: false, error: e.message };
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * A vapora project in `<run.dir>/vapora`: the scenario's pipelines, one exec agent per role running
 * `<src>/agent.mjs <role>`, a project, no approval roles beyond what the pipelines gate (`approvals`
 * explains why in vapora.toml). `vap` runs the CLI (--json) locally, or against the server once `serve`
 * has started it (with the scenario's context file for the agents).
 */
export function vaporaTeam(run, { src, pipelines, roles, project, context, approvals }) {
  const dir = join(run.dir, 'vapora');
  const team = { dir, url: null, admin: null, pid: null };
  team.vap = (args, o = {}) =>
    run.cli('vapora', [...args, '--json'], {
      cwd: dir,
      ...o,
      env: team.url ? { VAPORA_URL: team.url, VAPORA_TOKEN: o.token ?? team.admin } : {},
    });
  team.setup = async () => {
    mkdirSync(join(dir, '.vapora', 'pipelines'), { recursive: true });
    await team.vap(['init', '--dir', dir]);
    appendFileSync(join(dir, '.vapora', 'vapora.toml'), `\n[approvals]\n# ${approvals}\nroles = []\n`);
    for (const p of pipelines) copyFileSync(join(src, 'pipelines', p), join(dir, '.vapora', 'pipelines', p));
    team.admin = readFileSync(join(dir, '.vapora', 'token'), 'utf8').trim();
    const ids = [];
    for (const role of roles) {
      const command = `${process.execPath} ${join(src, 'agent.mjs')} ${role}`;
      ids.push((await team.vap(['agent', 'add', '--role', role, '--provider', 'exec', '--command', command])).id);
    }
    await team.vap(['project', 'create', project]);
    return ids;
  };
  team.serve = async () => {
    const s = await run.server('vapora', 'vapora', ['serve', '--port', '0'], {
      cwd: dir,
      env: { SCENARIO_CONTEXT: context },
      ready: (out) => {
        const m = /vapora serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        return m ? { url: m[1] } : null;
      },
    });
    team.url = s.url;
    team.pid = s.pid;
    return s;
  };
  /** Polls a pipeline run until it has ended; its status document. */
  team.ended = (runId, ms = 120_000) =>
    until(
      `run ${runId} to finish`,
      async () => {
        const s = await team.vap(['pipeline', 'status', runId]);
        return ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'].includes(s.run.status) ? s : null;
      },
      ms,
    );
  return team;
}

/** One tool call on kogral's MCP server for the graph in `dir`, as any assistant would make it. */
export async function kogralTool(dir, name, args) {
  const client = new Client({ name: 'stratumiops-scenario', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [bin('kogral'), 'serve'],
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      stderr: 'ignore',
    }),
  );
  try {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`kogral ${name}: ${r.content?.[0]?.text}`);
    return r.structuredContent;
  } finally {
    await client.close();
  }
}

/** The first of `count` consecutive free loopback ports, below the kernel's ephemeral range (the test helpers'). */
export async function freePortBlock(count) {
  const testing = await import(join(ROOT, 'packages/shared/dist/testing/index.js'));
  return testing.freePortBlock(count);
}

/** `svault server --dev` on a free loopback port, stopped with the run: { addr, token, pid }. */
export function svaultDev(run) {
  return run.server('svault', 'svault', ['server', '--dev', '--address', '127.0.0.1:0'], {
    ready: (out) => {
      const addr = /svault server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      const token = /Root Token: (\S+)/.exec(out);
      return addr && token ? { addr: addr[1], token: token[1] } : null;
    },
  });
}

/**
 * svault's database engine for one PostgreSQL: the connection `name` (svault connects as `admin` with its
 * password, to `database` on the loopback `port`) and the role `app`, whose logins live 1 hour; `grants` are
 * added to the role's creation statement. `sv` runs the svault CLI (--json) against the server; the password
 * goes through a 0600 file, never a command line.
 */
export async function appDatabaseRole(run, sv, { name, port, database = 'postgres', admin, password, grants = '' }) {
  await sv(['secrets', 'enable', 'database']);
  await sv([
    'database',
    'config',
    'write',
    name,
    'plugin=postgresql',
    `connection_url=postgresql://{{username}}:{{password}}@127.0.0.1:${port}/${database}`,
    `username=${admin}`,
    `password=@${run.secretFile(`${name}-admin`, password)}`,
  ]);
  await sv([
    'database',
    'role',
    'write',
    'app',
    `db=${name}`,
    `creation_statements=CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';${grants ? ` ${grants}` : ''}`,
    'default_ttl=1h',
    'max_ttl=24h',
  ]);
}
