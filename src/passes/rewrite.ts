// The rewrite engine behind the canonicalization passes. A pass is a table of rules; each rule looks at one
// node about to be rebuilt (its operands already rewritten) and may return a replacement value built with
// the builder. The graph is rebuilt front to back, so a rule sees simplified operands, and dead nodes are
// left for DCE. Nested graphs are rewritten in the scope of their node.
import { A, type Attr, type Attrs } from '../ir/attr.js';
import { Graph, Value, type TensorType } from '../ir/graph.js';
import { GraphBuilder } from '../ir/builder.js';

/** A node about to be created in the rewritten graph. */
export interface Candidate {
  readonly op: string;
  readonly inputs: readonly (Value | null)[];
  readonly attrs: Attrs;
  /** Declared result types (the target of reshape/broadcast/iota). */
  readonly types: readonly TensorType[];
  /** The value a single-result node would produce: its type. */
  readonly type: TensorType;
}

export interface Rule {
  readonly name: string;
  /** Ops the rule looks at (for speed and for the reader). */
  readonly ops: readonly string[];
  /** A replacement for the candidate's single result, or undefined to keep it. */
  apply(c: Candidate, b: GraphBuilder): Value | undefined;
}

export interface RewriteOptions {
  /** Evaluate nodes whose operands are all constants (within the builder's size cap). */
  fold?: boolean;
  foldLimit?: number;
}

export interface RewriteResult {
  graph: Graph;
  /** How many times each rule fired. */
  fired: Map<string, number>;
}

export function rewriteGraph(g: Graph, rules: readonly Rule[], opts: RewriteOptions = {}): RewriteResult {
  const byOp = new Map<string, Rule[]>();
  for (const r of rules) for (const op of r.ops) byOp.set(op, [...(byOp.get(op) ?? []), r]);
  const fired = new Map<string, number>();
  const graph = rebuild(g, new Map(), byOp, fired, opts);
  return { graph, fired };
}

function rebuild(g: Graph, outer: ReadonlyMap<Value, Value>, byOp: ReadonlyMap<string, Rule[]>,
  fired: Map<string, number>, opts: RewriteOptions): Graph {
  const out = new Graph(g.name);
  const map = new Map<Value, Value>(outer);
  const get = (v: Value | null): Value | null => (v ? map.get(v) ?? v : null);
  for (const v of g.inputs) {
    const nv = new Value(v.type, v.name);
    out.inputs.push(nv);
    map.set(v, nv);
  }
  const b = new GraphBuilder(out, { fold: opts.fold ?? false, ...(opts.foldLimit !== undefined ? { foldLimit: opts.foldLimit } : {}) });
  for (const node of g.nodes) {
    b.origin = node.origin;
    const inputs = node.inputs.map(get);
    const attrs = rebuildAttrs(node.attrs, (sub) => rebuild(sub, map, byOp, fired, opts));
    const types = node.outputs.map((o) => o.type);
    let results: readonly Value[] | undefined;
    if (node.outputs.length === 1) {
      const c: Candidate = { op: node.op, inputs, attrs, types, type: types[0]! };
      for (const rule of byOp.get(node.op) ?? []) {
        const v = rule.apply(c, b);
        if (v) {
          fired.set(rule.name, (fired.get(rule.name) ?? 0) + 1);
          results = [v];
          break;
        }
      }
    }
    results ??= b.op(node.op, inputs, attrs, types);
    node.outputs.forEach((o, i) => {
      const r = results![i]!;
      if (r.name === undefined && o.name !== undefined) r.name = o.name;
      map.set(o, r);
    });
  }
  out.outputs = g.outputs.map((v) => get(v)!);
  return out;
}

function rebuildAttrs(attrs: Attrs, sub: (g: Graph) => Graph): Attrs {
  let changed = false;
  const out: Record<string, Attr> = {};
  for (const [k, a] of Object.entries(attrs)) {
    if (a.kind === 'graph') {
      out[k] = A.graph(sub(a.value));
      changed = true;
    } else if (a.kind === 'graphs') {
      out[k] = A.graphs(a.value.map(sub));
      changed = true;
    } else out[k] = a;
  }
  return changed ? out : attrs;
}
