import { QueryRefusedError } from '../../core/query-errors.ts';


/** One node of the engine's `EXPLAIN AST` output. */
export interface AstNode {
  /** The node class, e.g. `SelectQuery`, `Function`, `TableIdentifier`. */
  readonly type: string;
  /** What follows the type on its line, without `(children N)`: a name, an alias. */
  readonly detail: string;
  readonly children: readonly AstNode[];
}

const CHILDREN = / ?\(children (\d+)\)$/;

/**
 * Rebuilds the tree the engine printed, checking every line against the depth and the
 * child count the engine declared. Identifiers are printed raw, so a name holding a line
 * break could forge lines; any line that does not sit exactly where the counts put it
 * makes the whole statement unproven.
 */
export function parseExplainAst(lines: readonly string[]): AstNode {
  let i = 0;
  const malformed = (why: string) => new QueryRefusedError(`the engine's parse of this statement could not be read (${why}); names with line breaks are not allowed`);
  const node = (depth: number): AstNode => {
    const line = lines[i];
    if (line === undefined) throw malformed('fewer lines than declared');
    const indent = line.length - line.trimStart().length;
    if (indent !== depth || line.slice(0, indent) !== ' '.repeat(indent)) throw malformed(`line ${i + 1} at an unexpected depth`);
    i += 1;
    let label = line.slice(indent);
    const m = CHILDREN.exec(label);
    const count = m ? Number(m[1]) : 0;
    if (m) label = label.slice(0, m.index);
    const space = label.indexOf(' ');
    const type = space === -1 ? label : label.slice(0, space);
    const detail = space === -1 ? '' : label.slice(space + 1).trim();
    const children: AstNode[] = [];
    for (let k = 0; k < count; k += 1) children.push(node(depth + 1));
    return { type, detail, children };
  };
  const root = node(0);
  if (i !== lines.length) throw malformed(`${lines.length - i} lines more than declared`);
  return root;
}

/** Every node of the tree, depth first, with its parent. */
export function* walk(node: AstNode, parent: AstNode | null = null): Generator<{ node: AstNode; parent: AstNode | null }> {
  yield { node, parent };
  for (const c of node.children) yield* walk(c, node);
}

/** The first word of a node's detail: a function's or a table's name. */
export const nameOf = (node: AstNode): string => node.detail.split(' ')[0] ?? '';
