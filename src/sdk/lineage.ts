import { ValidationError } from '../core/errors.ts';

/** `from` is read to make `to`. */
export interface LineageEdge {
  readonly from: string;
  readonly to: string;
}

/** What the graph needs of a step: the shape of StepDef, whatever its params. */
type Steps = readonly {
  readonly name: string;
  readonly deps: readonly string[];
  readonly assets: readonly { readonly name: string; readonly deps: readonly string[] | null }[];
  readonly declaredAt: string | null;
}[];

/** Each step's name with the steps it depends on, directly or not. */
function ancestors(steps: Steps): Map<string, Set<string>> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const memo = new Map<string, Set<string>>();
  const of = (name: string): Set<string> => {
    let out = memo.get(name);
    if (out) return out;
    out = new Set();
    memo.set(name, out);
    for (const d of byName.get(name)?.deps ?? []) {
      out.add(d);
      for (const a of of(d)) out.add(a);
    }
    return out;
  };
  for (const s of steps) of(s.name);
  return memo;
}

/**
 * The asset graph of one pipeline's steps. An asset that names its deps is made from those;
 * one that does not is made from every asset of the steps its step directly depends on.
 */
export function assetLineage(steps: Steps): LineageEdge[] {
  const edges: LineageEdge[] = [];
  for (const s of steps) {
    for (const b of s.assets) {
      if (b.deps !== null) {
        for (const from of b.deps) edges.push({ from, to: b.name });
        continue;
      }
      for (const d of s.deps) {
        for (const a of steps.find((x) => x.name === d)?.assets ?? []) edges.push({ from: a.name, to: b.name });
      }
    }
  }
  return edges;
}

/**
 * Checked when a pipeline is built: an asset's deps must be assets of its own step or of a
 * step it depends on, so the lineage graph never points against the order steps run in.
 */
export function checkAssetDeps(pipelineName: string, steps: Steps): void {
  const stepOf = new Map<string, string>();
  for (const s of steps) {
    for (const a of s.assets) {
      const other = stepOf.get(a.name);
      if (other !== undefined) {
        throw new ValidationError(`pipeline ${pipelineName}: asset "${a.name}" is declared by steps "${other}" and "${s.name}"`, 'assets');
      }
      stepOf.set(a.name, s.name);
    }
  }
  const up = ancestors(steps);
  for (const s of steps) {
    const at = s.declaredAt ? ` (step "${s.name}" at ${s.declaredAt})` : ` (step "${s.name}")`;
    for (const a of s.assets) {
      for (const d of a.deps ?? []) {
        const from = stepOf.get(d);
        if (from === undefined) {
          throw new ValidationError(`pipeline ${pipelineName}: asset "${a.name}" depends on unknown asset "${d}"${at}`, 'assets');
        }
        if (from !== s.name && !up.get(s.name)?.has(from)) {
          throw new ValidationError(
            `pipeline ${pipelineName}: asset "${a.name}" depends on "${d}" of step "${from}", which step "${s.name}" does not depend on${at}`,
            'assets',
          );
        }
      }
    }
  }
}
