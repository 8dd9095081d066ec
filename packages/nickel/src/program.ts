import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import type { Node, Pos } from './ast.js';
import { NickelError } from './errors.js';
import { DYN, Evaluator, type Loader } from './eval.js';
import { parse } from './parser.js';
import { testPrimops } from './primops.js';
import { checkScopes, GLOBALS } from './scope.js';
import { parseData } from './serialize.js';
import { Source } from './source.js';
import { buildStd } from './stdlib.js';
import { blame, childLabel, Env, span, Thunk, typeName, type Value } from './values.js';

/** Largest source file accepted (a bounded failure instead of minutes of parsing). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

const FORMATS: Record<string, string> = {
  '.ncl': 'Nickel',
  '.json': 'Json',
  '.yaml': 'Yaml',
  '.yml': 'Yaml',
  '.toml': 'Toml',
  '.txt': 'Text',
};

interface LoadedFile {
  format: string;
  source: Source;
  node?: Node;
  value?: Thunk;
}

/**
 * One evaluation: the root file, every file it imports (parsed and scope-checked up front, as
 * Nickel's static phase does), the stdlib, and the evaluator.
 */
export class Program implements Loader {
  readonly ev: Evaluator;
  private files = new Map<string, LoadedFile>();
  private globalEnv: Env;

  constructor(private importPaths: string[] = []) {
    this.ev = new Evaluator(this);
    this.ev.primopTable = testPrimops(this.ev);
    const std = buildStd(this.ev);
    this.globalEnv = new Env();
    this.globalEnv.set('std', Thunk.of(std));
    for (const name of GLOBALS) {
      if (name === 'std') continue;
      if (name === 'Array') this.globalEnv.set(name, Thunk.of(arrayContractFn(this.ev)));
      else if (name === '_')
        this.globalEnv.set(name, Thunk.of(DYN)); // the wildcard type
      else this.globalEnv.set(name, this.ev.fieldThunk(std, name));
    }
  }

  /** Parses and checks a root source and everything it imports. */
  load(text: string, filename: string): Node {
    const source = new Source(filename, text);
    const node = parse(source);
    this.files.set(`${resolve(filename)}\0Nickel`, { format: 'Nickel', source, node });
    this.check(node, filename);
    return node;
  }

  private check(node: Node, filename: string): void {
    const pending: [Node, string][] = [[node, filename]];
    while (pending.length > 0) {
      const [n, file] = pending.pop() as [Node, string];
      checkScopes(n, (imp) => {
        const path = this.resolvePath(imp.path, file, imp.pos);
        const format = imp.format ?? FORMATS[extname(path).toLowerCase()] ?? 'Nickel';
        const key = `${path}\0${format}`;
        if (this.files.has(key)) return;
        const loaded = this.read(path, format, imp.pos);
        this.files.set(key, loaded);
        if (loaded.node) pending.push([loaded.node, path]);
      });
    }
  }

  evaluate(node: Node): Value {
    return this.ev.eval(node, this.globalEnv);
  }

  resolvePath(path: string, from: string, pos: Pos): string {
    const candidates = isAbsolute(path)
      ? [path]
      : [
          resolve(dirname(resolve(from)), path),
          ...this.importPaths.map((d) => resolve(d, path)),
          ...(process.env.NICKEL_IMPORT_PATH ?? '')
            .split(':')
            .filter(Boolean)
            .map((d) => resolve(d, path)),
        ];
    for (const c of candidates) {
      try {
        if (statSync(c).isFile()) return c;
      } catch {}
    }
    throw new NickelError(
      'ImportError::IoError',
      `import of ${path} failed: no such file (looked in ${candidates.map((c) => dirname(c)).join(', ')})`,
      {
        span: span(pos),
      },
    );
  }

  private read(path: string, format: string, pos: Pos): LoadedFile {
    let text: string;
    try {
      if (statSync(path).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new NickelError('ImportError::IoError', `import of ${path} failed: ${(e as Error).message}`, {
        span: span(pos),
      });
    }
    const source = new Source(path, text);
    if (format !== 'Nickel') return { format, source };
    try {
      return { format, source, node: parse(source) };
    } catch (e) {
      if (e instanceof NickelError && e.kind.startsWith('ParseError')) {
        throw new NickelError('ImportError::ParseError', `cannot import ${path}: ${e.message}`, {
          ...(e.span ? { span: e.span } : {}),
        });
      }
      throw e;
    }
  }

  importValue(path: string, format: string | undefined, from: Pos): Thunk {
    const abs = this.resolvePath(path, from.src.file, from);
    const fmt = format ?? FORMATS[extname(abs).toLowerCase()] ?? 'Nickel';
    const key = `${abs}\0${fmt}`;
    let f = this.files.get(key);
    if (!f) {
      f = this.read(abs, fmt, from);
      this.files.set(key, f);
      if (f.node) this.check(f.node, abs);
    }
    if (!f.value) {
      const file = f;
      f.value = new Thunk(() => {
        if (file.node) return this.ev.eval(file.node, this.globalEnv);
        try {
          return parseData(file.format, file.source.text, abs);
        } catch (e) {
          if (e instanceof NickelError && !e.span) (e as { span?: unknown }).span = span(from);
          throw e;
        }
      }, from);
    }
    return f.value;
  }
}

/** `Array C`: the contract of arrays whose elements satisfy C (checked lazily, element by element). */
function arrayContractFn(ev: Evaluator): Value {
  return {
    k: 'fn',
    name: 'Array',
    call: (elem) => ({
      k: 'contract',
      name: 'Array',
      apply: (label, value) =>
        new Thunk(() => {
          const v = value.force();
          if (v.k !== 'array')
            return blame(childLabel(label, { message: `expected an Array, got a ${typeName(v)}` }), value);
          return {
            k: 'array',
            items: v.items.map((t, i) =>
              ev.applyContract(
                elem,
                {
                  ...label,
                  notes: [...label.notes],
                  path: [...label.path, `[${i}]`],
                  part: 'expected array element type',
                },
                t,
              ),
            ),
          };
        }, value.pos),
    }),
  };
}
