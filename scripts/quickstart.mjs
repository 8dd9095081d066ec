// `npm run quickstart`: a short tour of the five binaries on embedded defaults, no servers needed.
// Uses a throwaway data dir so it leaves nothing behind.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = mkdtempSync(join(tmpdir(), 'stratumiops-quickstart-'));
const env = { ...process.env, XDG_DATA_HOME: data };
let failures = 0;

function step(tool, args, { expect = 0, head, cwd, extraEnv = {} } = {}) {
  console.log(`\n$ ${tool} ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'packages', tool, 'bin', 'run.js'), ...args], {
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    ...(cwd ? { cwd } : {}),
  });
  const out = (r.stdout + r.stderr).trimEnd().split('\n');
  const stdout = r.stdout.trim();
  console.log((head ? [...out.slice(0, head), out.length > head ? '  ...' : ''] : out).join('\n').trimEnd());
  if (r.status !== expect) {
    failures++;
    console.log(`!! exit ${r.status}, expected ${expect}`);
  }
  return stdout;
}

try {
  for (const tool of ['svault', 'kogral', 'prov', 'typedialog', 'vapora']) {
    console.log(`\n===== ${tool}`);
    step(tool, ['--version']);
    step(tool, ['--help'], { head: 14 });
    step(tool, ['config'], { head: 8 });
  }
  console.log('\n===== prov: typed configuration, checked before anything runs (examples/prov)');
  const examples = join(root, 'examples', 'prov');
  step('prov', ['validate', 'k8s-ha.ncl', 'postgres-pair.ncl', 'web-tier.ncl'], { cwd: examples });
  step('prov', ['nickel', 'export', 'web-tier.ncl', '--field', 'servers.0.spec', '--format', 'yaml'], {
    cwd: examples,
  });
  step('prov', ['validate', 'broken/small-disk.ncl'], { cwd: examples, expect: 3 });
  step('prov', ['estimate', 'web-tier.ncl'], { cwd: examples, head: 12 });
  step('prov', ['compliance', 'web-tier.ncl', '--framework', 'soc2', '--fail-on', 'none'], { cwd: examples, head: 12 });

  console.log('\n===== typedialog: one TOML form for every backend; MDX agents checked before any call');
  step('typedialog', ['validate', 'examples/forms/cluster.toml'], { cwd: root });
  step('typedialog', ['run', 'examples/forms/cluster.toml', '--defaults', '--format', 'nickel'], {
    cwd: root,
    head: 6,
  });
  step('typedialog', ['agent', 'validate', 'examples/agents/code_reviewer.agent.mdx'], { cwd: root });
  const review = ['examples/agents/code_reviewer.agent.mdx', '--var', 'language=ts', '--var', 'code=eval(input)'];
  step('typedialog', ['agent', 'run', ...review, '--dry-run'], { cwd: root, head: 7 });

  console.log('\n===== svault: a dev server (in memory, unsealed), KV v2 like Vault');
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [join(root, 'packages/svault/bin/run.js'), 'server', '--dev', '--address', `127.0.0.1:${port}`],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const token = await rootToken(server);
    const vault = { SVAULT_ADDR: `http://127.0.0.1:${port}`, SVAULT_TOKEN: token };
    console.log(`(svault server --dev on 127.0.0.1:${port}; SVAULT_TOKEN is its root token)`);
    step('svault', ['kv', 'put', 'secret/myapp', 'user=admin', 'password=s3cr3t'], { extraEnv: vault, head: 3 });
    step('svault', ['kv', 'get', 'secret/myapp', '--field', 'password'], { extraEnv: vault });
    step('svault', ['kv', 'put', 'secret/myapp', 'user=root', '--cas', '0'], { extraEnv: vault, expect: 6 });
    console.log('\n===== svault engines: transit (post-quantum keys too) and PKI');
    step('svault', ['secrets', 'enable', 'transit'], { extraEnv: vault });
    step('svault', ['transit', 'key', 'create', 'payments', '--type', 'aes256-gcm96'], { extraEnv: vault, head: 3 });
    step('svault', ['transit', 'key', 'create', 'archive', '--type', 'ml-kem-768'], { extraEnv: vault, head: 3 });
    const ct = step('svault', ['transit', 'encrypt', 'payments', '4111 1111 1111 1111'], {
      extraEnv: vault,
    });
    step('svault', ['transit', 'decrypt', 'payments', `ciphertext=${ct}`], { extraEnv: vault });
    step('svault', ['secrets', 'enable', 'pki'], { extraEnv: vault });
    step('svault', ['pki', 'root', 'generate', 'common_name=example.com', 'ttl=87600h'], { extraEnv: vault, head: 4 });
    step('svault', ['pki', 'role', 'write', 'web', 'allowed_domains=example.com', 'allow_subdomains=true'], {
      extraEnv: vault,
    });
    step('svault', ['pki', 'issue', 'web', 'common_name=api.example.com'], { extraEnv: vault, head: 4 });
  } finally {
    server.kill('SIGTERM');
  }

  console.log('\n===== vapora: agents by role, budgets that hold, an API that asks who you are');
  const team = mkdtempSync(join(data, 'team-'));
  step('vapora', ['init'], { cwd: team, head: 6 });
  step('vapora', ['agent', 'add', '--role', 'monitor', '--provider', 'exec', '--command', 'echo up {{payload.host}}'], {
    cwd: team,
  });
  step('vapora', ['budget', 'set', 'security', '--monthly', '5000', '--weekly', '1500'], { cwd: team });
  step('vapora', ['budget', 'set', 'security', '--weekly', '6000'], { cwd: team, expect: 3 });
  step('vapora', ['token', 'create', '--name', 'ci', '--role', 'viewer'], { cwd: team });
  step('vapora', ['token', 'list'], { cwd: team });
  mkdirSync(join(team, '.vapora', 'pipelines'));
  writeFileSync(
    join(team, '.vapora', 'pipelines', 'ship.toml'),
    '[inputs.service]\nrequired = true\n[[steps]]\nid = "design"\nrole = "architect"\ntitle = "Design {{inputs.service}}"\n' +
      '[[steps]]\nid = "deploy"\nrole = "devops"\napproval = true\npayload = { spec = "{{steps.design.output}}" }\n' +
      '[[triggers]]\nsource = "ci"\nseverity = "error"\nproject = "infra"\ninputs = { service = "{{alert.metadata.service}}" }\n',
  );
  step('vapora', ['project', 'create', 'infra'], { cwd: team });
  step('vapora', ['pipeline', 'show', 'ship'], { cwd: team });
  step('vapora', ['pipeline', 'run', 'ship', '--input', 'colour=red'], { cwd: team, expect: 3 });
  step('vapora', ['pipeline', 'run', 'ship', '--input', 'service=api'], { cwd: team });
  step(
    'vapora',
    ['alert', 'raise', '--source', 'ci', '-m', 'nightly build failed', '--meta', 'service=web', '--id', 'build-42'],
    {
      cwd: team,
    },
  );
  step(
    'vapora',
    ['alert', 'raise', '--source', 'ci', '-m', 'the same alert again', '--meta', 'service=web', '--id', 'build-42'],
    {
      cwd: team,
    },
  );

  console.log('\n===== a daemon, started on demand and stopped');
  step('vapora', ['daemon', 'start']);
  step('vapora', ['daemon', 'status']);
  step('vapora', ['daemon', 'start'], { expect: 6 });
  step('vapora', ['daemon', 'stop']);
  console.log('\n===== errors: one line, a stable exit code');
  step('svault', ['kv', 'gte'], { expect: 2 });
  step('prov', ['config', '--no-such-flag'], { expect: 2 });
  step('prov', ['estimate', 'no-such.ncl'], { expect: 4 });
} finally {
  spawnSync(process.execPath, [join(root, 'packages/vapora/bin/run.js'), 'daemon', 'stop'], { env });
  rmSync(data, { recursive: true, force: true });
}
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The dev server prints its root token once it listens. */
function rootToken(server) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`svault server --dev did not start: ${out}`)), 15_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /Root Token: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`svault server --dev exited ${code}: ${out}`)));
  });
}

console.log(failures ? `\nquickstart: ${failures} step(s) did not behave as expected` : '\nquickstart: all steps ok');
process.exit(failures ? 1 : 0);
