import { StratumError, validationError } from '@stratumiops/shared/errors';

export interface GraphNode {
  id: string;
  deps: string[];
}

/** A dependency cycle, named: `a → b → c → a`. */
export class CycleError extends StratumError {
  constructor(readonly cycle: string[]) {
    super('validation', `dependency cycle: ${cycle.join(' → ')}`, {
      hint: 'remove one of these dependencies (depends_on or a reference)',
      details: { cycle },
    });
  }
}

/**
 * Kahn's algorithm: a topological order, or a CycleError naming one cycle. Unknown dependencies are an error
 * unless `ignoreMissing` (a task whose dependency is not part of this run).
 */
export function topoSort(nodes: GraphNode[], opts: { ignoreMissing?: boolean } = {}): string[] {
  const ids = new Set(nodes.map((n) => n.id));
  const indeg = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    let d = 0;
    for (const dep of n.deps) {
      if (!ids.has(dep)) {
        if (opts.ignoreMissing) continue;
        throw validationError(`${n.id} depends on ${dep}, which is not in the configuration`, {
          details: { node: n.id, missing: dep },
        });
      }
      d++;
      const list = dependents.get(dep);
      if (list) list.push(n.id);
      else dependents.set(dep, [n.id]);
    }
    indeg.set(n.id, d);
  }
  const queue = nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const order: string[] = [];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    order.push(id);
    for (const m of dependents.get(id) ?? []) {
      const left = indeg.get(m)! - 1;
      indeg.set(m, left);
      if (left === 0) queue.push(m);
    }
  }
  if (order.length < nodes.length) throw new CycleError(findCycle(nodes, new Set(order)));
  return order;
}

/** One cycle among the nodes that Kahn's algorithm could not order. */
function findCycle(nodes: GraphNode[], ordered: Set<string>): string[] {
  const byId = new Map(nodes.filter((n) => !ordered.has(n.id)).map((n) => [n.id, n]));
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    state.set(id, 1);
    stack.push(id);
    for (const dep of byId.get(id)?.deps ?? []) {
      if (!byId.has(dep)) continue;
      if (state.get(dep) === 1) return [...stack.slice(stack.indexOf(dep)), dep];
      if (!state.has(dep)) {
        const c = visit(dep);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(id, 2);
    return undefined;
  };
  for (const id of [...byId.keys()].sort()) {
    if (state.has(id)) continue;
    const c = visit(id);
    // Deps point backwards (a needs b): print in the direction of "needs".
    if (c) return c;
  }
  return [...byId.keys()];
}

/** The nodes in `targets` plus everything they depend on (Terraform's -target). */
export function withDependencies(nodes: GraphNode[], targets: string[]): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  const walk = (id: string) => {
    if (out.has(id)) return;
    out.add(id);
    for (const d of byId.get(id)?.deps ?? []) walk(d);
  };
  for (const t of targets) walk(t);
  return out;
}
