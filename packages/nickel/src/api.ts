import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Pos } from './ast.js';
import { DEFAULT_MAX_ERRORS, Recovery } from './diagnostics.js';
import { NickelError, type Span } from './errors.js';
import { type Num, NumError } from './number.js';
import { type EvalOptions, type ExportFormat, FUNCTION } from './options.js';
import { Program } from './program.js';
import { fromJs, type Plain, toJson, toPlain, toToml, toYaml } from './serialize.js';
import { Source } from './source.js';
import { byteOrder, Thunk, type Value } from './values.js';

/** Turns engine failures that are not Nickel errors (a JS stack overflow) into NickelErrors. */
function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof NickelError) throw e;
    if (e instanceof NumError) throw new NickelError(e.nickelKind, e.message);
    if (e instanceof RangeError) {
      const msg = /call stack/i.test(e.message)
        ? 'evaluation is nested too deeply, or recurses without end (stack exhausted)'
        : `evaluation exceeded a limit: ${e.message}`;
      throw new NickelError('EvalError::Other', msg);
    }
    throw e;
  }
}

function program(opts: EvalOptions): { prog: Program; filename: string } {
  const filename = resolve(opts.filename ?? '<stdin>');
  return { prog: new Program(opts.importPaths ?? []), filename };
}

export async function evaluateSource(source: string, opts: EvalOptions = {}): Promise<unknown> {
  return guard(() => {
    const { prog, filename } = program(opts);
    const node = prog.load(source, filename);
    if (opts.mode === 'typecheck') return true;
    const v = prog.evaluate(node);
    if (opts.mode === 'full') {
      prog.ev.deepForce(v);
      return toJs(prog, v, true);
    }
    return toJs(prog, v, false);
  });
}

export async function exportSource(
  source: string,
  opts: { filename?: string; format?: ExportFormat; importPaths?: string[]; field?: string } = {},
): Promise<string> {
  return guard(() => {
    const { prog, filename } = program(opts);
    const node = prog.load(source, filename);
    let v = prog.evaluate(node);
    if (opts.field) v = selectField(prog, v, opts.field);
    const plain = toPlain(prog.ev, v, opts.field ? opts.field.split('.') : []);
    return renderExport(plain, opts.format ?? 'json');
  });
}

/** An export that reports every independent error, and says where each exported value came from. */
export interface DiagnosedExport {
  /** The JSON export (as `exportSource` gives it) when there were no errors. */
  json?: string;
  /** With errors: the export with null where a value failed (for checks that can go on). */
  partial?: string;
  /** Every error, in the order met, up to the cap. */
  errors: NickelError[];
  /** Errors past the cap, only counted. */
  omitted: number;
  /**
   * Where the exported value at `path` (`['taskservs', 1, 'depends_on', 0]`) was written: the deepest
   * position in the root file (else in any file). With `literal`, the first enclosing expression that
   * spells that string, narrowed to it (the `"db-1"` of `server "db-1" "primary"`); with `name`, the
   * field's name rather than its definition.
   */
  locate(path: (string | number)[], opts?: { literal?: string; name?: boolean }): Span | undefined;
}

export async function exportDiagnosed(
  source: string,
  opts: { filename?: string; importPaths?: string[]; maxErrors?: number } = {},
): Promise<DiagnosedExport> {
  const { prog, filename } = program(opts);
  const recover = new Recovery(opts.maxErrors ?? DEFAULT_MAX_ERRORS);
  let root: Value | undefined;
  let json: string | undefined;
  let partial: string | undefined;
  try {
    guard(() => {
      const node = prog.load(source, filename);
      prog.ev.recover = recover;
      root = prog.evaluate(node);
      const plain = toPlain(prog.ev, root, [], recover);
      if (recover.errors.length === 0) json = renderExport(plain, 'json');
      else partial = renderExport(plain, 'json');
    });
  } catch (e) {
    if (!(e instanceof NickelError)) throw e;
    recover.add(e);
  } finally {
    prog.ev.recover = undefined;
  }
  return {
    ...(json !== undefined ? { json } : {}),
    ...(partial !== undefined ? { partial } : {}),
    errors: recover.errors,
    omitted: recover.omitted,
    locate: (path, o = {}) => (root ? locate(prog, root, filename, path, o) : undefined),
  };
}

function locate(
  prog: Program,
  root: Value,
  rootFile: string,
  path: (string | number)[],
  o: { literal?: string; name?: boolean },
): Span | undefined {
  const found: { value?: Pos; name?: Pos }[] = [];
  let v: Value | undefined = root;
  try {
    for (const seg of path) {
      if (!v) break;
      let t: Thunk | undefined;
      let name: Pos | undefined;
      if (v.k === 'array' && typeof seg === 'number') t = v.items[seg];
      else if (v.k === 'record' && prog.ev.hasField(v, String(seg))) {
        t = prog.ev.fieldThunk(v, String(seg));
        name = v.template.get(String(seg))?.pieces.find((p) => p.namePos)?.namePos;
      }
      if (!t) break;
      found.push({ ...(t.pos ? { value: t.pos } : {}), ...(name ? { name } : {}) });
      v = t.force();
    }
  } catch {
    // A part that does not evaluate: what was found so far is the answer.
  }
  const inRoot = (p: Pos | undefined) => p !== undefined && p.src.file === rootFile;
  if (o.literal !== undefined) {
    const quoted = JSON.stringify(o.literal);
    for (let i = found.length - 1; i >= 0; i--) {
      const p = found[i]?.value;
      if (!p || !inRoot(p)) continue;
      const at = p.src.text.slice(p.start, p.end).indexOf(quoted);
      if (at >= 0) return p.src.span(p.start + at, p.start + at + quoted.length);
    }
  }
  if (o.name && found.length === path.length) {
    const n = found.at(-1)?.name;
    if (n && inRoot(n)) return n.src.span(n.start, n.end);
  }
  for (const pick of [inRoot, (p: Pos | undefined) => p !== undefined]) {
    for (let i = found.length - 1; i >= 0; i--) {
      const p = found[i]?.value;
      if (p && pick(p)) return p.src.span(p.start, p.end);
    }
  }
  return undefined;
}

/** `servers.0.spec`: record fields by name, array elements by index; only that subtree is computed. */
export function selectField(prog: Program, root: Value, path: string): Value {
  let v = root;
  const seen: string[] = [];
  for (const seg of path.split('.').filter(Boolean)) {
    if (v.k === 'array' && /^\d+$/.test(seg)) {
      const t = v.items[Number(seg)];
      if (!t)
        throw new NickelError(
          'EvalError::FieldMissing',
          `no element ${seg} in ${seen.join('.') || 'the array'} (it has ${v.items.length})`,
          { field: seg },
        );
      v = t.force();
    } else if (v.k === 'record') {
      v = prog.ev.access(v, seg).force();
    } else {
      throw new NickelError(
        'EvalError::FieldMissing',
        `cannot select \`${seg}\`: ${seen.join('.') || 'the value'} is not a record or array`,
        { field: seg },
      );
    }
    seen.push(seg);
  }
  return v;
}

/**
 * Applies the contract in `contractPath` to the data in `dataPath` (JSON, YAML, TOML or Nickel, by
 * extension) and returns the checked, fully evaluated value as JSON.
 */
export async function checkFiles(dataPath: string, contractPath: string, importPaths: string[]): Promise<string> {
  for (const p of [dataPath, contractPath]) {
    if (!existsSync(p)) throw new NickelError('ImportError::IoError', `no such file: ${p}`);
  }
  return guard(() => {
    const prog = new Program(importPaths);
    const src = new Source(resolve('<check>'), '');
    const at = { src, start: 0, end: 0 };
    const data = prog.importValue(dataPath, undefined, at);
    const contract = prog.importValue(contractPath, undefined, at);
    const label = { contractName: relative(process.cwd(), contractPath) || contractPath, path: [], notes: [] };
    const checked = prog.ev.applyContract(contract, label, data).force();
    return renderExport(toPlain(prog.ev, checked), 'json');
  });
}

/** Applies a contract (Nickel source, or the path of a .ncl file) to a JS value; returns the checked value. */
export async function applyContractToValue(
  value: unknown,
  contract: string,
  importPaths: string[] = [],
): Promise<unknown> {
  return guard(() => {
    const prog = new Program(importPaths);
    const isPath = /\.ncl$/.test(contract) && existsSync(contract);
    const file = isPath ? resolve(contract) : resolve('<contract>');
    const node = prog.load(isPath ? readSource(file) : contract, file);
    const contractThunk = Thunk.of(prog.evaluate(node));
    const label = { contractName: isPath ? relative(process.cwd(), file) : contract.slice(0, 80), path: [], notes: [] };
    const checked = prog.ev.applyContract(contractThunk, label, Thunk.of(fromJs(value))).force();
    prog.ev.deepForce(checked);
    return toJs(prog, checked, true);
  });
}

export function renderExport(plain: Plain, format: ExportFormat): string {
  switch (format) {
    case 'json':
      return `${toJson(plain)}\n`;
    case 'yaml':
      return toYaml(plain);
    case 'yaml-documents':
      if (!Array.isArray(plain)) {
        throw new NickelError(
          'EvalError::Other',
          'the yaml-documents format exports an array: one document per element',
        );
      }
      return plain.map((d) => toYaml(d)).join('');
    case 'toml':
      return toToml(plain);
    case 'text':
      if (typeof plain !== 'string')
        throw new NickelError('EvalError::Other', 'the text format can only export a string');
      return plain;
  }
}

export function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new NickelError('ImportError::IoError', `cannot read ${path}: ${readFailure(e as NodeJS.ErrnoException)}`);
  }
}

/** A Nickel value as plain JS. Without `deep`, records and arrays compute their members on access. */
function toJs(prog: Program, v: Value, deep: boolean): unknown {
  const ev = prog.ev;
  switch (v.k) {
    case 'null':
      return null;
    case 'bool':
    case 'str':
      return v.v;
    case 'num':
      return numberToJs(v.v);
    case 'enum':
      return v.arg ? { tag: v.tag, arg: toJs(prog, v.arg.force(), deep) } : { tag: v.tag };
    case 'fn':
    case 'contract':
    case 'label':
      return FUNCTION;
    case 'array': {
      if (deep) return v.items.map((t) => toJs(prog, t.force(), true));
      const out: unknown[] = [];
      v.items.forEach((t, i) => {
        Object.defineProperty(out, i, { enumerable: true, get: () => toJs(prog, t.force(), false) });
      });
      return out;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const n of ev.fieldNames(v).sort(byteOrder)) {
        const t = ev.fieldThunk(v, n);
        if (deep) out[n] = toJs(prog, t.force(), true);
        else Object.defineProperty(out, n, { enumerable: true, get: () => toJs(prog, t.force(), false) });
      }
      return out;
    }
  }
}

function numberToJs(n: Num): number {
  return n.toF64();
}

function readFailure(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EISDIR') return 'it is a directory';
  if (e.code === 'EACCES') return 'permission denied';
  return e.message;
}
