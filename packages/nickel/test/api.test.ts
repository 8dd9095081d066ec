import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyContract,
  evaluate,
  exportFile,
  exportSource,
  formatNickelError,
  NickelError,
  selectEngine,
} from '../src/index.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const tmp = () => mkdtempSync(join(tmpdir(), 'nickel-'));

async function failure(p: Promise<unknown>): Promise<NickelError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NickelError) return e;
    throw e;
  }
  throw new Error('expected a NickelError');
}

describe('evaluate', () => {
  it('computes exact numbers, merges with priorities and recursive overriding', async () => {
    expect(await evaluate('0.1 + 0.2 == 0.3')).toBe(true);
    expect(await evaluate('({ a | default = 1, b = a + 1 } & { a = 10 }).b')).toBe(11);
    expect(await evaluate('{ x | force = 1 } & { x = 2 }', { mode: 'full' })).toEqual({ x: 1 });
  });

  it('standard mode stops at weak head normal form; full mode forces everything', async () => {
    const src = '{ ok = 1, bad = 1 / 0 }';
    const lazy = (await evaluate(src)) as Record<string, unknown>;
    expect(lazy.ok).toBe(1);
    expect((await failure(evaluate(src, { mode: 'full' }))).kind).toBe('EvalError::Other');
  });

  it('typecheck mode runs only the static phase', async () => {
    expect(await evaluate('1 / 0', { mode: 'typecheck' })).toBe(true);
    const e = await failure(evaluate('let x = 1 in y', { mode: 'typecheck' }));
    expect(e).toMatchObject({ kind: 'TypecheckError::UnboundIdentifier', identifier: 'y' });
  });

  it('reports a contract violation with the contract, the full path, the value and the position', async () => {
    const src = [
      'let Server = { name | String, disk_gb | std.number.Nat | doc "Disk in GB" } in',
      '{ servers | Array Server = [',
      '  { name = "a", disk_gb = 20 },',
      '  { name = "b", disk_gb = -5 },',
      '] }',
    ].join('\n');
    const e = await failure(evaluate(src, { mode: 'full', filename: 'cluster.ncl' }));
    expect(e.kind).toBe('EvalError::BlameError');
    expect(e.fieldPath).toEqual(['servers', '[1]', 'disk_gb']);
    expect(e.contract).toBe('std.number.Nat');
    expect(e.doc).toBe('Disk in GB');
    expect(e.value).toBe('-5');
    expect(e.span).toMatchObject({ line: 4, column: 27 });
    expect(e.contractSpan).toMatchObject({ line: 1 });
    const block = formatNickelError(e);
    expect(block).toContain('field:    servers[1].disk_gb');
    expect(block).toContain('4 |   { name = "b", disk_gb = -5 },');
    expect(block).toMatch(/\n\s+\| {27}\^\^/); // "| " then 26 columns before the value
  });

  it('exports JSON like nickel export: sorted keys, integers, trailing newline', async () => {
    expect(await exportSource('{ b = 1, a = [0.5, 1e3, "x"], c = { d = null } }')).toBe(
      '{\n  "a": [\n    0.5,\n    1000,\n    "x"\n  ],\n  "b": 1,\n  "c": {\n    "d": null\n  }\n}\n',
    );
    expect(await exportSource('{ a.b = 1, c = [1, 2] }', { format: 'yaml' })).toBe('---\na:\n  b: 1\nc:\n- 1\n- 2\n');
    expect(await exportSource('{ a.b = 1, c = "x" }', { format: 'toml' })).toBe('c = "x"\n\n[a]\nb = 1\n');
    expect(await exportSource('{ servers = [{ spec.cpu = 2 }] }', { field: 'servers.0.spec' })).toBe(
      '{\n  "cpu": 2\n}\n',
    );
  });

  it('applies a contract to plain data', async () => {
    const checked = await applyContract(
      { port: 8080 },
      '{ port | std.number.Nat, host | String | default = "localhost" }',
    );
    expect(checked).toEqual({ port: 8080, host: 'localhost' });
    const e = await failure(applyContract({ port: 'eighty' }, '{ port | Number }'));
    expect(e).toMatchObject({ kind: 'EvalError::BlameError', fieldPath: ['port'] });
  });
});

describe('bad input never crashes or hangs', () => {
  it('garbage bytes are a parse error', async () => {
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x13, 0x37, 0x7b, 0x7b, 0x22]).toString('latin1');
    expect((await failure(evaluate(garbage))).kind).toMatch(/^ParseError/);
  });

  it('an empty file is a parse error naming the end of file', async () => {
    const e = await failure(evaluate(''));
    expect(e.kind).toBe('ParseError');
    expect(e.message).toContain('end of file');
  });

  it('10,000 levels of nesting give a clear error, not a stack overflow', async () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const e = await failure(evaluate(deep, { mode: 'full' }));
    expect(e.kind).toBe('ParseError');
    expect(e.message).toContain('nesting deeper than');
  });

  it('a 5 MB configuration evaluates', async () => {
    const items = Array.from(
      { length: 100_000 },
      (_, i) => `{ name = "server-${i}", cpu = ${i % 16}, tags = ["a", "b"] }`,
    );
    const src = `{ servers = [${items.join(',\n')}] }`;
    expect(src.length).toBeGreaterThan(5_000_000);
    const out = (await evaluate(src, { mode: 'full' })) as { servers: unknown[] };
    expect(out.servers).toHaveLength(100_000);
  }, 60_000);

  it('a function that recurses forever is a bounded error', async () => {
    const e = await failure(evaluate('let rec f = fun x => f (x + 1) in f 0'));
    expect(e.kind).toBe('EvalError::Other');
    expect(e.message).toMatch(/stack exhausted/);
  });

  it('a value that needs itself is infinite recursion', async () => {
    expect((await failure(evaluate('{ a = b, b = a }.a'))).kind).toBe('EvalError::InfiniteRecursion');
  });

  it('an import cycle is infinite recursion, and a missing import an IO error', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.ncl'), '{ from_b = (import "b.ncl").value, value = 1 }');
    writeFileSync(join(dir, 'b.ncl'), '{ value = (import "a.ncl").from_b }');
    expect((await failure(exportFile(join(dir, 'a.ncl')))).kind).toBe('EvalError::InfiniteRecursion');
    writeFileSync(join(dir, 'c.ncl'), 'import "missing.ncl"');
    expect((await failure(exportFile(join(dir, 'c.ncl')))).kind).toBe('ImportError::IoError');
  });
});

describe('the provisioning schemas and examples', () => {
  const examples = join(repo, 'examples', 'prov');
  // The examples import "infrastructure.ncl" as a user's config does: prov puts schemas/ on the import path.
  const schemas = { importPaths: [join(repo, 'schemas')] };

  it.each(readdirSync(examples).filter((f) => f.endsWith('.ncl')))('%s validates against schemas/', async (f) => {
    const json = JSON.parse(await exportFile(join(examples, f), schemas));
    expect(json.servers.length).toBeGreaterThan(0);
  });

  it.each(readdirSync(join(examples, 'broken')))('broken/%s fails at the path its header names', async (f) => {
    const file = join(examples, 'broken', f);
    const expected = /# expect: .*? at (\S+)/.exec(readFileSync(file, 'utf8'))?.[1];
    const e = await failure(exportFile(file, schemas));
    expect(formatNickelError(e)).toContain(`field:    ${expected}`);
    expect(['EvalError::BlameError', 'EvalError::MissingFieldDef']).toContain(e.kind);
  });
});

describe('the bridge to a real nickel binary (plumbing, with a stand-in script)', () => {
  const fake = join(import.meta.dirname, 'fixtures', 'fake-nickel.mjs');

  it('is chosen by engine "auto" when NICKEL_BIN is set, and passes the export arguments', async () => {
    const engine = await selectEngine('auto', { NICKEL_BIN: fake, PATH: process.env.PATH });
    expect(engine.name).toBe('binary');
    const dir = tmp();
    writeFileSync(join(dir, 'ok.ncl'), '{ a = 1 }');
    const out = JSON.parse(
      await engine.exportFile(join(dir, 'ok.ncl'), { format: 'yaml', importPaths: ['/x'], field: 'a' }),
    );
    expect(out.args).toEqual([
      '--color',
      'never',
      '--error-format',
      'json',
      'export',
      '--format',
      'yaml',
      '--import-path',
      '/x',
      '--field',
      'a',
      join(dir, 'ok.ncl'),
    ]);
  });

  it('turns the binary errors into the same NickelError shape, with the position from its text output', async () => {
    const engine = await selectEngine('binary', { NICKEL_BIN: fake, PATH: '' });
    const dir = tmp();
    writeFileSync(join(dir, 'bad.ncl'), '# BROKEN\n{ port = 70000 }');
    const e = await failure(engine.exportFile(join(dir, 'bad.ncl')));
    expect(e).toMatchObject({ kind: 'EvalError::BlameError', field: 'port', notes: ['from the fake nickel'] });
    expect(e.message).toContain('must be below 65536');
    expect(e.span).toMatchObject({ file: join(dir, 'bad.ncl'), line: 3, column: 10 });
  });

  it('checks data through a wrapper program on stdin', async () => {
    const engine = await selectEngine('binary', { NICKEL_BIN: fake });
    const out = JSON.parse(await engine.checkFile('/data/x.json', '/schemas/s.ncl'));
    expect(out.stdin).toBe('(import "/data/x.json") | (import "/schemas/s.ncl")');
  });

  it('falls back to the built-in engine under "auto" when there is no binary, and refuses under "binary"', async () => {
    expect((await selectEngine('auto', { PATH: '' })).name).toBe('builtin');
    expect((await failure(selectEngine('binary', { PATH: '' }))).message).toContain('NICKEL_BIN');
  });
});
