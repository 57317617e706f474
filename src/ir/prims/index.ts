// Importing this module registers every prim. The set is DESIGN.md's: pointwise, select/cast,
// reductions, movement, indexing, contraction, sources, and the structured ops.
import './elementwise.js';
import './select.js';
import './reduce.js';
import './movement.js';
import './indexing.js';
import './dot.js';
import './source.js';
import './structured.js';

export { UNARY_PRIMS, BINARY_PRIMS, UNARY_ROWS, BINARY_ROWS, type UnaryRow, type BinaryRow } from './elementwise.js';
export { castTensor, castScalar, bitcastScalar, storeConversion, toBytes, fromBytes } from './select.js';
export { sliceAxis } from './movement.js';
export { evalDot, dotShape, type DotDims } from './dot.js';
export { reducedShape, REDUCE_ROWS, type ReduceRow } from './reduce.js';
