import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NickelError } from './errors.js';
import type { EvalOptions, ExportFormat } from './index.js';
import { FUNCTION } from './index.js';
import { type Num, NumError } from './number.js';
import { Program } from './program.js';
import { type Plain, toJson, toPlain, toToml, toYaml } from './serialize.js';
import { byteOrder } from './stdlib.js';
import type { Value } from './values.js';

/** Turns engine failures that are not Nickel errors (a JS stack overflow) into NickelErrors. */
function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof NickelError) throw e;
    if (e instanceof NumError) throw new NickelError(e.nickelKind, e.message);
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new NickelError(
        'EvalError::Other',
        'evaluation is nested too deeply (or recurses without end): stack exhausted',
      );
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
  opts: { filename?: string; format?: ExportFormat; importPaths?: string[] } = {},
): Promise<string> {
  return guard(() => {
    const { prog, filename } = program(opts);
    const node = prog.load(source, filename);
    const v = prog.evaluate(node);
    const plain = toPlain(prog.ev, v);
    return renderExport(plain, opts.format ?? 'json');
  });
}

export function renderExport(plain: Plain, format: ExportFormat): string {
  switch (format) {
    case 'json':
      return `${toJson(plain)}\n`;
    case 'yaml':
      return toYaml(plain);
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
    throw new NickelError(
      'ImportError::IoError',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
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
