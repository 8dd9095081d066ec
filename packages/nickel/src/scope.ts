import { type FieldName, type Meta, type Node, type Pattern, type Pos, patternVars } from './ast.js';
import { NickelError } from './errors.js';

/** Names every program can use without binding them. */
export const GLOBALS = ['std', 'Number', 'String', 'Bool', 'Dyn', 'Array', '_'];

class Scope {
  constructor(
    private names: Set<string>,
    private parent?: Scope,
  ) {}
  has(n: string): boolean {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.names.has(n)) return true;
    return false;
  }
  with(names: Iterable<string>): Scope {
    return new Scope(new Set(names), this);
  }
}

/**
 * The static phase before evaluation: every identifier must be bound, and the alternatives of an
 * or-pattern must bind the same variables. Calls `onImport` for each import found.
 */
export function checkScopes(root: Node, onImport: (node: Extract<Node, { t: 'import' }>) => void): void {
  const unbound = (name: string, pos: Pos): never => {
    throw new NickelError('TypecheckError::UnboundIdentifier', `unbound identifier \`${name}\``, {
      span: pos.src.span(pos.start, pos.end),
      identifier: name,
    });
  };

  // An explicit stack of work items: deep programs must not overflow the JS stack here.
  const work: [Node, Scope][] = [[root, new Scope(new Set(GLOBALS))]];
  const meta = (m: Meta, s: Scope) => {
    for (const c of m.contracts) work.push([c.node, s]);
  };
  const pattern = (p: Pattern, s: Scope) => {
    switch (p.p) {
      case 'record':
        for (const f of p.fields) {
          meta(f.meta, s);
          if (f.default) work.push([f.default, s]);
          if (f.pat) pattern(f.pat, s);
        }
        break;
      case 'enum':
        if (p.arg) pattern(p.arg, s);
        break;
      case 'array':
        for (const i of p.items) pattern(i, s);
        break;
      case 'alias':
        pattern(p.pat, s);
        break;
      case 'or': {
        const first = new Set(patternVars(p.alts[0] as Pattern));
        for (const alt of p.alts) {
          const vars = new Set(patternVars(alt));
          const diff = [...vars].find((v) => !first.has(v)) ?? [...first].find((v) => !vars.has(v));
          if (diff !== undefined) {
            throw new NickelError(
              'TypecheckError::OrPatternVarsMismatch',
              `the alternatives of an or-pattern must bind the same variables: \`${diff}\` is not bound by all of them`,
              { span: alt.pos.src.span(alt.pos.start, alt.pos.end), var: diff },
            );
          }
          pattern(alt, s);
        }
        break;
      }
      case 'const':
        work.push([p.value, s]);
        break;
    }
  };
  const field = (f: FieldName, s: Scope) => {
    if ('dynamic' in f) work.push([f.dynamic, s]);
  };

  while (work.length > 0) {
    const [n, s] = work.pop() as [Node, Scope];
    switch (n.t) {
      case 'var':
        if (!s.has(n.name)) unbound(n.name, n.pos);
        break;
      case 'str':
        for (const p of n.parts) if (typeof p !== 'string') work.push([p, s]);
        break;
      case 'enum':
        if (n.arg) work.push([n.arg, s]);
        break;
      case 'record': {
        const names: string[] = [];
        for (const f of n.fields) {
          const first = f.path[0] as FieldName;
          if ('static' in first) names.push(first.static);
        }
        for (const inc of n.includes) {
          if (!s.has(inc.name)) unbound(inc.name, inc.pos);
          names.push(inc.name);
        }
        const inner = s.with(names);
        for (const inc of n.includes) meta(inc.meta, inner);
        for (const f of n.fields) {
          for (const p of f.path) field(p, s);
          meta(f.meta, inner);
          if (f.value) work.push([f.value, inner]);
        }
        break;
      }
      case 'recordType':
        for (const f of n.fields) work.push([f.type, s]);
        break;
      case 'dictType':
        work.push([n.value, s]);
        break;
      case 'enumType':
        for (const r of n.rows) if (r.arg) work.push([r.arg, s]);
        break;
      case 'forall':
        work.push([n.body, s.with(n.vars)]);
        break;
      case 'array':
        for (const i of n.items) work.push([i, s]);
        break;
      case 'let': {
        const bound = n.bindings.flatMap((b) => patternVars(b.pat));
        const inner = s.with(bound);
        for (const b of n.bindings) {
          const valueScope = n.rec ? inner : s;
          pattern(b.pat, valueScope);
          meta(b.meta, valueScope);
          work.push([b.value, valueScope]);
        }
        work.push([n.body, inner]);
        break;
      }
      case 'fun':
        pattern(n.param, s);
        work.push([n.body, s.with(patternVars(n.param))]);
        break;
      case 'app':
        work.push([n.fn, s], [n.arg, s]);
        break;
      case 'if':
        work.push([n.cond, s], [n.then, s], [n.else, s]);
        break;
      case 'match':
        for (const b of n.branches) {
          pattern(b.pat, s);
          const inner = s.with(patternVars(b.pat));
          if (b.guard) work.push([b.guard, inner]);
          work.push([b.body, inner]);
        }
        break;
      case 'bin':
        work.push([n.left, s], [n.right, s]);
        break;
      case 'unary':
        work.push([n.arg, s]);
        break;
      case 'access':
        work.push([n.target, s]);
        field(n.field, s);
        break;
      case 'annot':
        work.push([n.term, s]);
        meta(n.meta, s);
        break;
      case 'import':
        onImport(n);
        break;
      case 'primop':
        for (const a of n.args) work.push([a, s]);
        break;
    }
  }
}
