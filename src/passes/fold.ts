// fold: evaluate nodes whose operands are all constants. A result is folded when it is small (≤ 65,536
// elements) or no larger than its operands (a transposed weight), never when it would blow a constant up.
//
//   %a = prim.const() {value=dense<i64[2]: [2, 3]>} : i64[2]
//   %b = prim.reduce_prod(%a) {axes=[0], keepdims=0} : i64[]
// becomes
//   %b = prim.const() {value=dense<i64[]: [6]>} : i64[]
import { rewriteGraph } from './rewrite.js';
import { registerPass } from './pass.js';

export const foldPass = registerPass({
  name: 'fold',
  description: 'evaluate nodes whose operands are constants (size-capped)',
  run: (g) => rewriteGraph(g, [], { fold: true }).graph,
});
