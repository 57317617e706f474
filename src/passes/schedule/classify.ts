// What the scheduler needs to know about each prim: which kind of kernel work it is, and what it costs to
// recompute (the recompute-versus-materialize rule weighs this).
import type { Node } from '../../ir/graph.js';
import { BINARY_ROWS, UNARY_ROWS } from '../../ir/prims/index.js';

export type OpKind =
  /** Elementwise on broadcast operands: unary, binary, where, cast, bitcast. */
  | 'pointwise'
  /** reshape, permute, broadcast, slice, pad, concat: index maps, never copies. */
  | 'movement'
  /** reduce_* and argmax/argmin: a reduce stage. */
  | 'reduce'
  /** dot: a reduce stage whose body multiplies two loads (a GEMM). */
  | 'dot'
  /** gather: a load at a data-dependent index. */
  | 'gather'
  /** const, iota, shape. */
  | 'source'
  /** Everything that is not a loop nest: runs the prim's reference eval on whole buffers. */
  | 'extern';

const MOVEMENT = new Set(['reshape', 'permute', 'broadcast', 'slice', 'pad', 'concat']);
const REDUCE = new Set(['reduce_sum', 'reduce_prod', 'reduce_max', 'reduce_min', 'argmax', 'argmin']);
const SOURCE = new Set(['const', 'iota', 'shape']);

const kindCache = new WeakMap<Node, OpKind>();

export function opKind(n: Node): OpKind {
  let k = kindCache.get(n);
  if (k === undefined) kindCache.set(n, (k = classify(n)));
  return k;
}

function classify(n: Node): OpKind {
  if (n.dialect !== 'prim' || n.outputs.length !== 1) return 'extern';
  const op = n.opName;
  if (op in UNARY_ROWS && n.inputs.length === 1) return 'pointwise';
  if (op in BINARY_ROWS && n.inputs.length === 2) return 'pointwise';
  if (op === 'where' || op === 'cast' || op === 'bitcast') return 'pointwise';
  if (MOVEMENT.has(op)) return 'movement';
  if (REDUCE.has(op)) return 'reduce';
  if (op === 'dot') return 'dot';
  if (op === 'gather') return 'gather';
  if (SOURCE.has(op)) return 'source';
  return 'extern';
}

/** Transcendental and other slow scalar ops count more when deciding whether to recompute. */
const COSTLY = new Set(['exp', 'log', 'sqrt', 'sin', 'cos', 'atan', 'tanh', 'erf', 'pow', 'round']);

/** The cost of computing one element of a node's result again, not counting its operands. */
export function ownCost(n: Node): number {
  const kind = opKind(n);
  switch (kind) {
    case 'pointwise': return COSTLY.has(n.opName) ? 4 : 1;
    case 'movement':
      if (n.opName === 'concat') return n.inputs.length;
      return n.opName === 'pad' ? 1 : 0;
    case 'gather': return 2;
    case 'source': return 0;
    default: return 0;
  }
}
