import { readFileSync } from 'node:fs';
import type { Node } from '../../../nickel/src/ast.js';
import { parse } from '../../../nickel/src/parser.js';
import { Source } from '../../../nickel/src/source.js';

/**
 * Every field a schema file declares, as dotted paths: `spec.cpu`, `subnets[].name`, `<name>.address`
 * (a dictionary's entries), `security_groups.<name>.ingress[].port`. Fields of an imported schema are
 * that schema's own (listed when it is walked).
 */
export function schemaFields(file: string): string[] {
  const out: string[] = [];
  const root = parse(new Source(file, readFileSync(file, 'utf8')));
  walkTerm(root, new Map(), '', out);
  return out;
}

type Env = Map<string, Node>;

function walkTerm(node: Node, env: Env, prefix: string, out: string[]): void {
  if (node.t === 'let') {
    const inner = new Map(env);
    for (const b of node.bindings) {
      const pat = b.pat as { t?: string; name?: string };
      if (pat.name) inner.set(pat.name, b.value);
    }
    walkTerm(node.body, inner, prefix, out);
    return;
  }
  walkContract(node, env, prefix, out);
}

function walkContract(node: Node, env: Env, prefix: string, out: string[]): void {
  switch (node.t) {
    case 'record':
      for (const f of node.fields) {
        const name = f.path.map((p) => ('static' in p ? p.static : '<dynamic>')).join('.');
        out.push(`${prefix}${name}`);
        for (const a of f.meta.contracts) walkContract(a.node, env, `${prefix}${name}.`, out);
      }
      return;
    case 'recordType':
      for (const f of node.fields) {
        out.push(`${prefix}${f.name}`);
        walkContract(f.type, env, `${prefix}${f.name}.`, out);
      }
      return;
    case 'dictType':
      walkContract(node.value, env, `${prefix}<name>.`, out);
      return;
    case 'app':
      if (node.fn.t === 'var' && node.fn.name === 'Array')
        walkContract(node.arg, env, `${prefix.slice(0, -1)}[].`, out);
      return;
    case 'var': {
      const bound = env.get(node.name);
      if (bound) walkContract(bound, env, prefix, out);
      return;
    }
    case 'let':
      walkTerm(node, env, prefix, out);
      return;
    default:
      return;
  }
}
