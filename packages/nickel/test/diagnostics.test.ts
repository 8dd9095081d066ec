import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportDiagnosed } from '../src/api.js';
import { closestName, editDistance } from '../src/diagnostics.js';
import { displayPath, formatNickelError } from '../src/report.js';

const Server = `{ name | String, spec | { cpu | std.number.PosNat | default = 2, memory_gb | Number | default = 4, disk_gb | Number | default = 50 } }`;

describe('exportDiagnosed: every independent error in one run', () => {
  it('reports each violation of independent fields, with positions, and no export', async () => {
    const src = [
      `let Server = ${Server} in`,
      '{',
      '  servers | Array Server = [',
      '    { name = "a", spec = { cpu = 2.5, disk_gb = 10 } },',
      '    { name = "b", spec = { cpu = 0 } },',
      '    { name = "c", spec.memroy_gb = 8 },',
      '  ],',
      '}',
    ].join('\n');
    const r = await exportDiagnosed(src, { filename: 'cfg.ncl' });
    expect(r.json).toBeUndefined();
    expect(r.errors.map((e) => e.fieldPath.join('.'))).toEqual([
      'servers.[0].spec.cpu',
      'servers.[1].spec.cpu',
      'servers.[2].spec.memroy_gb',
    ]);
    const typo = r.errors[2]!;
    expect(typo.title).toContain('extra field `memroy_gb` (did you mean `memory_gb`?)');
    // The caret is under the field's name, not the whole record.
    expect(typo.span).toMatchObject({ line: 6, column: 24 });
    expect(formatNickelError(typo)).toMatch(/6 \| {5}\{ name = "c", spec\.memroy_gb = 8 \},\n\s+\| {24}\^{9}\n/);
    expect(typo.contract).toBe('{ cpu, memory_gb, disk_gb }');
    expect(r.errors[0]?.span).toMatchObject({ line: 4, column: 34 });
    // The partial export keeps what evaluated (null where a value failed).
    expect(JSON.parse(r.partial ?? 'null').servers[0]).toEqual({
      name: 'a',
      spec: { cpu: null, disk_gb: 10, memory_gb: 4 },
    });
  });

  it('reports an error once when other values depend on it', async () => {
    const r = await exportDiagnosed('let x | std.number.PosNat = 1.5 in { a = x, b = x + 1, c = [x], d = "ok" }');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.kind).toBe('EvalError::BlameError');
  });

  it('caps the errors and counts the rest', async () => {
    const items = Array.from({ length: 60 }, (_, i) => `${i + 0.5}`).join(', ');
    const r = await exportDiagnosed(`{ xs | Array std.number.Nat = [${items}] }`, { maxErrors: 50 });
    expect(r.errors).toHaveLength(50);
    expect(r.omitted).toBe(10);
  });

  it('gives the export when there is no error, and stops at a syntax error', async () => {
    const ok = await exportDiagnosed('{ a = 1 }');
    expect(ok.errors).toEqual([]);
    expect(ok.json).toBe('{\n  "a": 1\n}\n');
    const bad = await exportDiagnosed('{ a = }');
    expect(bad.errors.map((e) => e.kind)).toEqual(['ParseError']);
  });

  it('keeps blame inside contract combinators: a check that catches it still sees it', async () => {
    const src = `{ v | std.contract.any_of [{ a | Number }, { b | Number }] = { b = 1 } }`;
    const r = await exportDiagnosed(src);
    expect(r.errors).toEqual([]);
    expect(JSON.parse(r.json ?? '{}')).toEqual({ v: { b: 1 } });
  });

  it('locates exported values: the literal a value spells, else the deepest definition in the root file', async () => {
    const src = [
      'let server = fun n => { name = n, role = "x" } in',
      '{',
      '  servers = [server "db-1", server "db-2"],',
      '  deps = ["etcdd"],',
      '}',
    ].join('\n');
    const r = await exportDiagnosed(src, { filename: 'cfg.ncl' });
    expect(r.locate(['servers', 1, 'name'], { literal: 'db-2' })).toMatchObject({ line: 3, column: 36 });
    expect(r.locate(['deps', 0], { literal: 'etcdd' })).toMatchObject({ line: 4, column: 11 });
    expect(r.locate(['servers', 0, 'role'])).toMatchObject({ line: 1, column: 35 });
  });
});

describe('long source lines', () => {
  it('are shortened around the caret, with … where they were cut', async () => {
    const pad = Array.from({ length: 20_000 }, (_, i) => `a${i} = ${i}`).join(', ');
    const r = await exportDiagnosed(`{ ${pad}, port | std.number.Nat = -1, ${pad.replaceAll('a', 'b')} }`, {
      filename: 'long.ncl',
    });
    expect(r.errors).toHaveLength(1);
    const text = formatNickelError(r.errors[0]!);
    expect(text.length).toBeLessThan(1000);
    const [line, caret] = text.split('\n').filter((l) => /^\s+(1 \||\s+\|\s+\^)/.test(l));
    expect(line).toMatch(/^ {2}1 \| ….*port \| std\.number\.Nat = -1.*…$/);
    // The caret still points at the value.
    const at = (caret ?? '').indexOf('^');
    expect(line?.slice(at, at + 2)).toBe('-1');
  });
});

describe('names and paths for people', () => {
  it('suggests the nearest name only when it is a likely typo', () => {
    expect(editDistance('memroy_gb', 'memory_gb')).toBe(1);
    expect(closestName('memroy_gb', ['cpu', 'memory_gb', 'disk_gb'])).toBe('memory_gb');
    expect(closestName('etcdd', ['etcd', 'postgresql'])).toBe('etcd');
    expect(closestName('zookeeper', ['etcd', 'postgresql'])).toBeUndefined();
  });

  it('shows schemas outside the working directory as schemas/…, files inside relative', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nickel-paths-'));
    writeFileSync(join(dir, 'x.ncl'), '1');
    expect(displayPath(join(dir, 'x.ncl'), dir)).toBe('x.ncl');
    expect(displayPath('/opt/stratum/schemas/server.ncl', dir)).toBe('schemas/server.ncl');
    expect(displayPath('/etc/other/y.ncl', dir)).toBe('/etc/other/y.ncl');
  });
});
