// Lowering an onnx-dialect graph to prims: every onnx.* node is replaced by its rule's decomposition;
// prim nodes are copied (and folded when their operands became constants). Nested graphs are lowered
// in the scope of their node, so captured values map to their lowered versions.
import { fail } from '../../ir/error.js';
import { A, type Attr, type Attrs } from '../../ir/attr.js';
import { Graph, Node, Value, type TensorType } from '../../ir/graph.js';
import { GraphBuilder } from '../../ir/builder.js';
import { LowerContext } from './context.js';
import { DEFAULT_DOMAIN, findOnnxOp } from './registry.js';

/** The ONNX domain of an IR dialect made by `irOpName`. */
export function domainOfDialect(dialect: string): string {
  if (dialect === 'onnx') return DEFAULT_DOMAIN;
  return dialect.replace(/^onnx_/, 'ai.onnx.').replace(/_/g, '.');
}

/** Lower `g`; `outer` maps values of enclosing graphs to their lowered versions; `inputTypes` re-types
 * g's inputs (a body typed from its Loop's operands), null keeping the declared type. */
export function lowerGraph(g: Graph, outer: ReadonlyMap<Value, Value>, opsets?: ReadonlyMap<string, number>,
  inputTypes?: readonly (TensorType | null)[]): Graph {
  const out = new Graph(g.name);
  const map = new Map<Value, Value>(outer);
  const get = (v: Value | null): Value | null => (v ? map.get(v) ?? v : null);
  for (const [i, v] of g.inputs.entries()) {
    const nv = new Value(inputTypes?.[i] ?? v.type, v.name);
    out.inputs.push(nv);
    map.set(v, nv);
  }
  const b = new GraphBuilder(out, { fold: true });
  const lowerSub = (sub: Graph, types?: readonly (TensorType | null)[]): Graph => lowerGraph(sub, map, opsets, types);
  for (const node of g.nodes) {
    b.origin = node.origin;
    const inputs = node.inputs.map(get);
    let results: (Value | null)[];
    if (node.dialect === 'prim') {
      const attrs = lowerAttrs(node.attrs, lowerSub);
      results = b.op(node.op, inputs, attrs, node.outputs.map((o) => o.type));
    } else {
      const domain = domainOfDialect(node.dialect);
      const opset = node.int('opset', opsets?.get(domain) ?? 0);
      const rule = findOnnxOp(domain, node.opName, opset) ?? fail('E_UNSUPPORTED', `${node.describe()}: no lowering for opset ${opset}`);
      const probe = new Node(node.op, inputs, [], node.attrs, node.origin);
      const ctx = new LowerContext(b, probe, opset, node.outputs.length, lowerSub);
      results = ctx.run(() => rule.lower(ctx));
    }
    node.outputs.forEach((o, i) => {
      const r = results[i];
      if (!r) return;
      if (r.name === undefined && o.name !== undefined && r.producer && out.nodes.includes(r.producer)) r.name = o.name;
      map.set(o, r);
    });
  }
  out.outputs = g.outputs.map((v, i) => get(v) ?? fail('E_RUNTIME', `graph @${g.name}: output ${i} was not lowered`));
  return out;
}

function lowerAttrs(attrs: Attrs, lowerSub: (g: Graph) => Graph): Attrs {
  let changed = false;
  const out: Record<string, Attr> = {};
  for (const [k, a] of Object.entries(attrs)) {
    if (a.kind === 'graph') {
      out[k] = A.graph(lowerSub(a.value));
      changed = true;
    } else if (a.kind === 'graphs') {
      out[k] = A.graphs(a.value.map((sub) => lowerSub(sub)));
      changed = true;
    } else out[k] = a;
  }
  return changed ? out : attrs;
}
