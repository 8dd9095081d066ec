import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, sandbox } from '../../../test/run-bin.js';
import { setTomlKey } from '../src/core/toml-edit.js';

const TOML = `# prov settings for this workspace
state = ".prov/state.db"

[apply]
# tasks at the same time
parallelism = 10
retries = 3

[ssh]
host_key_checking = "strict" # checked
`;

function ws() {
  const sb = sandbox();
  writeFileSync(join(sb.cwd, 'prov.toml'), TOML);
  const prov = (...args: string[]) => runBin('prov', args, { cwd: sb.cwd, env: sb.env });
  return { ...sb, prov, file: join(sb.cwd, 'prov.toml') };
}

describe('prov config get|set|list|validate', () => {
  it('get prints one value; an unknown key is exit 4 with the nearest name', async () => {
    const w = ws();
    const r = await w.prov('config', 'get', 'apply.parallelism');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('10\n');
    const j = await w.prov('config', 'get', 'ssh.host_key_checking', '--json');
    expect(JSON.parse(j.stdout)).toMatchObject({
      key: 'ssh.host_key_checking',
      value: 'strict',
      source: `project ${w.file}`,
    });
    const bad = await w.prov('config', 'get', 'apply.paralelism');
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain("no setting 'apply.paralelism' (did you mean 'apply.parallelism'?)");
  });

  it('set writes the project file keeping its comments; a wrong value or key is exit 3 and writes nothing', async () => {
    const w = ws();
    const ok = await w.prov('config', 'set', 'apply.retries', '5');
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(w.file, 'utf8')).toBe(TOML.replace('retries = 3', 'retries = 5'));
    expect((await w.prov('config', 'get', 'apply.retries')).stdout).toBe('5\n');

    const added = await w.prov('config', 'set', 'aws.poll_ms', '50');
    expect(added.code, added.stderr).toBe(0);
    expect(readFileSync(w.file, 'utf8')).toContain('# tasks at the same time\nparallelism = 10');
    expect(readFileSync(w.file, 'utf8')).toMatch(/\n\[aws\]\npoll_ms = 50\n$/);

    const before = readFileSync(w.file, 'utf8');
    for (const [args, message] of [
      [['apply.retries', '-1'], "'apply.retries': Too small"],
      [['apply.retries', 'many'], "'apply.retries' takes a number, got 'many'"],
      [['ssh.host_key_checking', 'sometimes'], "'ssh.host_key_checking': Invalid option"],
      [['apply.retriez', '2'], "no setting 'apply.retriez' (did you mean 'apply.retries'?)"],
    ] as const) {
      const r = await w.prov('config', 'set', ...args);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain('.tmp');
    }
    expect(readFileSync(w.file, 'utf8')).toBe(before);
  });

  it('list and the bare command show every value with its source; validate checks the files', async () => {
    const w = ws();
    const list = await w.prov('config', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout).settings as { key: string; source: string }[];
    expect(rows.find((r) => r.key === 'apply.parallelism')?.source).toBe(`project ${w.file}`);
    expect(rows.find((r) => r.key === 'apply.backoff_factor')?.source).toBe('default');
    const one = await w.prov('config', 'apply.retries');
    expect(one.stdout).toMatch(/apply\.retries\s+3\s+project/);
    const v = await w.prov('config', 'validate');
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain(`ok    ${w.file}`);
    writeFileSync(w.file, `${TOML}\n[apply2]\nx = 1\n`);
    const broken = await w.prov('config', 'validate', '--json');
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout).error.message).toContain("unknown setting 'apply2'");
  });
});

describe('setTomlKey', () => {
  it('replaces in place, appends to its table, or adds the table', () => {
    expect(setTomlKey('a = 1\n[t]\nx = 1 # c\n\n[u]\ny = 2\n', 't.x', 3)).toBe('a = 1\n[t]\nx = 3 # c\n\n[u]\ny = 2\n');
    expect(setTomlKey('[t]\nx = 1\n\n[u]\n', 't.z', 'v')).toBe('[t]\nx = 1\nz = "v"\n\n[u]\n');
    expect(setTomlKey('# only a comment\n', 'state', 'x.db')).toBe('# only a comment\nstate = "x.db"\n');
    expect(setTomlKey('', 'nickel.import_paths', ['a', 'b'])).toBe('[nickel]\nimport_paths = ["a", "b"]\n');
    expect(setTomlKey('apply.retries = 1\n', 'apply.retries', 2)).toBe('apply.retries = 2\n');
  });
});
