// Building blocks that several composite ONNX ops (attention, losses, quantized kernels, signal
// transforms) decompose into: softmax, log-softmax, constants and small shape helpers. Each is a short
// formula over prims, so it folds and fuses like any other rule.
import type { GraphBuilder } from '../../../ir/builder.js';
import type { DType } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import type { Dim } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';

/** softmax along one axis, max-subtracted (a row of all -inf gives NaN, as the ONNX reference does). */
export function softmax(b: GraphBuilder, x: Value, axis: number): Value {
  const e = b.exp(b.sub(x, b.reduce('max', x, [axis], true)));
  return b.div(e, b.reduce('sum', e, [axis], true));
}

/** log(softmax(x)) along one axis, computed as x - max - log(sum(exp(x - max))). */
export function logSoftmax(b: GraphBuilder, x: Value, axis: number): Value {
  const s = b.sub(x, b.reduce('max', x, [axis], true));
  return b.sub(s, b.log(b.reduce('sum', b.exp(s), [axis], true)));
}

/** A constant of any shape from plain numbers (rounded to the dtype). */
export function constant(b: GraphBuilder, dtype: DType, shape: readonly number[], values: ArrayLike<number>): Value {
  return b.const(Tensor.from(dtype, shape, values));
}

/** x with a size-1 axis inserted at `axis`. */
export function unsqueeze(b: GraphBuilder, x: Value, axis: number): Value {
  return b.reshape(x, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]);
}

/** x without its size-1 axis `axis`. */
export function squeeze(b: GraphBuilder, x: Value, axis: number): Value {
  return b.reshape(x, x.shape.filter((_, i) => i !== axis));
}

/** A vector [n] reshaped to `rank` dims with n at `axis`, so it broadcasts along that axis (a scalar stays). */
export function alongAxis(b: GraphBuilder, v: Value, axis: number, rank: number): Value {
  if (v.shape.length === 0) return v;
  const dims: Dim[] = new Array<Dim>(rank).fill(1);
  dims[axis] = v.shape[0]!;
  return b.reshape(v, dims);
}
