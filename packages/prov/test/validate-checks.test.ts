import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const examples = join(repo, 'examples', 'prov');

/** A config with one error of each referential kind, one per line (line numbers in the comments). */
const REFS = `let Infrastructure = import "infrastructure.ncl" in
{
  provider = 'local,
  hosts = { db-1 = { address = "192.0.2.21" }, db-2 = { address = "192.0.2.22" }, db-3 = { address = "192.0.2.23" } },
  servers = [
    { name = "db-1", provider = 'local, spec.os = { family = 'debian, version = "12" } },
    { name = "db-1", provider = 'local, spec.os = { family = 'debian, version = "12" } },
    { name = "web-1", provider = 'upcloud, spec.os = { family = 'ubuntu, version = "24.04" } },
    { name = "db-3", provider = 'local, depends_on = ["db-01"], spec.os = { family = 'debian, version = "12" } },
  ],
  taskservs = [
    { name = 'etcd, hosts = ["db-1", "db-02"] },
    { name = 'postgresql, version = "latest", hosts = ["db-1"], depends_on = ["etcdd"] },
    { name = 'etdc, hosts = ["db-2"] },
  ],
} | Infrastructure
`;

describe('prov validate makes the checks plan makes', () => {
  it('reports every referential error with file:line:col, a caret under the name and the nearest name', async () => {
    const { cwd, env } = sandbox();
    writeFileSync(join(cwd, 'prov.ncl'), REFS);
    const r = await runBin('prov', ['validate', 'prov.ncl'], { cwd, env });
    expect(r.code, r.stderr).toBe(3);
    const expected: [string, string][] = [
      ['server db-1 is declared twice (servers[0] and servers[1])', 'prov.ncl:7:14'],
      ['server web-1: no UpCloud zone', 'prov.ncl:8:'],
      ['server db-3 depends on db-01, which is not in servers (did you mean `db-1`?)', 'prov.ncl:9:55'],
      ['taskserv etcd runs on db-02, which is neither a server nor in hosts (did you mean `db-2`?)', 'prov.ncl:12:38'],
      ['taskserv postgresql: "latest" is not a version number', 'prov.ncl:13:37'],
      ['taskserv postgresql depends on etcdd, which is not in taskservs (did you mean `etcd`?)', 'prov.ncl:13:79'],
      ["no taskserv definition 'etdc' (did you mean `etcd`?)", 'prov.ncl:14:'],
    ];
    for (const [message, where] of expected) {
      expect(r.stderr).toContain(`error: ${message}`);
      expect(r.stderr).toContain(`--> ${where}`);
    }
    expect(r.stderr).toContain('FAIL  prov.ncl: 7 errors');
    // The caret sits under the offending name, in the line that spells it.
    expect(r.stderr).toMatch(/13 \| .*depends_on = \["etcdd"\] \},\n\s+\| {79}\^{7}\n/);
    expect(r.stdout).toBe('');
  });

  it('plan rejects the same config with the same errors before touching state', async () => {
    const { cwd, env } = sandbox();
    writeFileSync(join(cwd, 'prov.ncl'), REFS);
    const r = await runBin('prov', ['plan', '--no-refresh'], { cwd, env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      'taskserv postgresql depends on etcdd, which is not in taskservs (did you mean `etcd`?)',
    );
    expect(r.stderr).toContain('--> prov.ncl:13:79');
    expect(r.stderr).toContain('prov: 7 errors in prov.ncl');
    expect(existsSync(join(cwd, '.prov', 'state.db'))).toBe(false);
    const json = await runBin('prov', ['plan', '--no-refresh', '--json'], { cwd, env });
    expect(json.code).toBe(3);
    const err = JSON.parse(json.stdout).error;
    expect(err.details.errors).toHaveLength(7);
    expect(err.hint).toBe('fix them at the positions shown (prov validate prov.ncl lists them all)');
    const missing = await runBin('prov', ['plan', 'nope.ncl', '--json'], { cwd, env });
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stdout).error.hint).toContain('check the path of the config');
    expect(err.details.errors[0]).toMatchObject({ kind: 'ConfigError', position: { file: 'prov.ncl', line: 7 } });
  });

  it('finds a dependency cycle and names it', async () => {
    const { cwd, env } = sandbox();
    writeFileSync(
      join(cwd, 'prov.ncl'),
      `{
  provider = 'local,
  hosts.h1.address = "192.0.2.1",
  taskservs = [
    { name = 'etcd, hosts = ["h1"], depends_on = ["postgresql"] },
    { name = 'postgresql, hosts = ["h1"], depends_on = ["etcd"] },
  ],
} | (import "infrastructure.ncl")
`,
    );
    const r = await runBin('prov', ['validate', 'prov.ncl'], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/dependency cycle: taskserv\.(etcd|postgresql)\.h1 → /);
  });

  it('a folder stands for its .ncl files (as prov-gen writes them); an empty one is a usage error', async () => {
    const { cwd, env } = sandbox();
    mkdirSync(join(cwd, 'infra'));
    mkdirSync(join(cwd, 'empty'));
    writeFileSync(join(cwd, 'infra', 'a.ncl'), REFS);
    writeFileSync(
      join(cwd, 'infra', 'b.ncl'),
      `{ provider = 'local, hosts.h1.address = "192.0.2.1" } | (import "infrastructure.ncl")\n`,
    );
    const r = await runBin('prov', ['validate', 'infra', '--json'], { cwd, env });
    expect(r.code).toBe(3);
    const files = JSON.parse(r.stdout).error.details.files as { file: string; ok: boolean }[];
    expect(files.map((f) => [f.file, f.ok])).toEqual([
      [join('infra', 'a.ncl'), false],
      [join('infra', 'b.ncl'), true],
    ]);
    const none = await runBin('prov', ['validate', 'empty'], { cwd, env });
    expect([none.code, none.stderr]).toEqual([2, expect.stringContaining('no .ncl configs in empty')]);
  });
});

describe('prov validate reports all errors at once', () => {
  it('a config with independent errors: small disks on two servers, a fractional cpu, a typo, an unknown depends_on', async () => {
    const r = await runBin('prov', ['validate', 'broken/many-errors.ncl'], { cwd: examples, env: sandbox().env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('FAIL  broken/many-errors.ncl: 5 errors');
    const at = [...r.stderr.matchAll(/--> (broken\/many-errors\.ncl:\d+:\d+)/g)].map((m) => m[1]);
    expect(at).toEqual([
      'broken/many-errors.ncl:13:56',
      'broken/many-errors.ncl:13:71',
      'broken/many-errors.ncl:14:50',
      'broken/many-errors.ncl:14:75',
      'broken/many-errors.ncl:18:59',
    ]);
    expect(r.stderr).toContain('field:    servers[0].spec.cpu');
    expect(r.stderr).toContain('field:    servers[0].spec.disk_gb');
    expect(r.stderr).toContain('field:    servers[1].spec.disk_gb');
    expect(r.stderr).toContain('extra field `memroy_gb` (did you mean `memory_gb`?)');
    expect(r.stderr).toMatch(/14 \| .*spec = \{ memroy_gb = 8,.*\n\s+\| {50}\^{9}\n/);
    expect(r.stderr).toContain(
      'taskserv postgresql depends on etcdd, which is not in taskservs (did you mean `etcd`?)',
    );
    // Schemas are named as schemas/…, never ../../…
    expect(r.stderr).toContain('contract attached at schemas/server.ncl:');
    expect(r.stderr).not.toContain('../');

    const j = await runBin('prov', ['validate', 'broken/many-errors.ncl', '--json'], {
      cwd: examples,
      env: sandbox().env,
    });
    expect(j.code).toBe(3);
    const file = JSON.parse(j.stdout).error.details.files[0];
    expect(file.omitted).toBe(0);
    expect(
      file.errors.map((e: { field_path: string; position: { line: number } }) => [e.field_path, e.position.line]),
    ).toEqual([
      ['servers[0].spec.cpu', 13],
      ['servers[0].spec.disk_gb', 13],
      ['servers[1].spec.memroy_gb', 14],
      ['servers[1].spec.disk_gb', 14],
      ['taskservs[1].depends_on[0]', 18],
    ]);
    expect(file.errors[4]).toMatchObject({ kind: 'ConfigError', notes: ['taskservs: etcd, postgresql'] });
  });

  it('caps the report at 50 errors and counts the rest', async () => {
    const { cwd, env } = sandbox();
    const servers = Array.from(
      { length: 60 },
      (_, i) =>
        `{ name = "s${i}", provider = 'aws, spec = { disk_gb = 1, os = { family = 'debian, version = "12" } } }`,
    );
    writeFileSync(
      join(cwd, 'big.ncl'),
      `{ provider = 'aws, servers = [\n${servers.join(',\n')}\n] } | (import "infrastructure.ncl")\n`,
    );
    const r = await runBin('prov', ['validate', 'big.ncl'], { cwd, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('FAIL  big.ncl: 60 errors');
    expect(r.stderr.match(/^error: /gm)).toHaveLength(50);
    expect(r.stderr).toContain('... and 10 more errors (the first 50 are shown)');
  });
});
