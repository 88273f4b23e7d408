import { ValidationError } from './errors.ts';

export interface DagNode {
  readonly name: string;
  readonly deps: readonly string[];
}

/**
 * Returns node names in a topological order (stable: ties keep declaration order).
 * Throws a ValidationError naming the unknown dependency or the cycle.
 */
export function topoSort(nodes: readonly DagNode[]): string[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  if (byName.size !== nodes.length) {
    const seen = new Set<string>();
    for (const n of nodes) {
      if (seen.has(n.name)) throw new ValidationError(`duplicate step name "${n.name}"`, 'steps');
      seen.add(n.name);
    }
  }
  for (const n of nodes) {
    for (const d of n.deps) {
      if (!byName.has(d)) throw new ValidationError(`step "${n.name}" depends on unknown step "${d}"`, 'deps');
    }
  }
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name].join(' -> ');
      throw new ValidationError(`dependency cycle: ${cycle}`, 'deps');
    }
    state.set(name, 'visiting');
    for (const d of byName.get(name)!.deps) visit(d, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const n of nodes) visit(n.name, []);
  return order;
}

/** Every node that (transitively) depends on `name`. */
export function downstreamOf(nodes: readonly DagNode[], name: string): Set<string> {
  const out = new Set<string>();
  let frontier = [name];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const n of nodes) {
      if (!out.has(n.name) && n.deps.some((d) => frontier.includes(d))) {
        out.add(n.name);
        next.push(n.name);
      }
    }
    frontier = next;
  }
  return out;
}
