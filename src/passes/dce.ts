// dce: remove nodes none of whose results is used (by a node, a nested graph, or a graph output).
//
//   %a = prim.exp(%x) : f32[4]      // unused
//   %y = prim.neg(%x) : f32[4]
// becomes
//   %y = prim.neg(%x) : f32[4]
import { subgraphsOf, type Graph, type Value } from '../ir/graph.js';
import { getOp } from '../ir/op.js';
import { registerPass } from './pass.js';

export const dcePass = registerPass({
  name: 'dce',
  description: 'remove nodes whose results are unused',
  run(g) {
    eliminate(g, new Set());
    return g;
  },
});

/** Removes dead nodes of g in place; `liveOutside` holds values read by enclosing graphs' later nodes. */
function eliminate(g: Graph, liveOutside: ReadonlySet<Value>): Set<Value> {
  const live = new Set<Value>(liveOutside);
  for (const v of g.outputs) live.add(v);
  const kept = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    const used = n.outputs.some((o) => live.has(o)) || getOp(n.op).impure === true;
    if (!used) continue;
    kept.push(n);
    for (const sub of subgraphsOf(n)) for (const v of eliminate(sub, new Set())) live.add(v);
    for (const v of n.inputs) if (v) live.add(v);
  }
  g.nodes = kept.reverse();
  return live;
}
