// Building blocks that several composite ONNX ops (attention, losses, quantized conv and matmul,
// signal transforms) decompose into: softmax, numpy-style matmul, a windowed convolution, and small
// shape helpers. Each is a short formula over prims, so it folds and fuses like any other rule.
import type { GraphBuilder } from '../../../ir/builder.js';
import type { DType } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import { broadcastShapes, type Dim } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';

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

/** A float constant of any shape. */
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

/** x[..., start:stop, ...] along one axis. */
export function sliceAxis(b: GraphBuilder, x: Value, axis: number, start: number, stop: number, step = 1): Value {
  return b.slice(x, [axis], [start], [stop], [step]);
}

/** numpy.matmul: 1-D operands gain and lose a unit dim, batch dims broadcast. */
export function matmul(b: GraphBuilder, x: Value, y: Value): Value {
  const xv = x.shape.length === 1 ? b.reshape(x, [1, x.shape[0]!]) : x;
  const yv = y.shape.length === 1 ? b.reshape(y, [y.shape[0]!, 1]) : y;
  const batch = broadcastShapes(xv.shape.slice(0, -2), yv.shape.slice(0, -2));
  const xb = b.broadcast(xv, [...batch, ...xv.shape.slice(-2)]);
  const yb = b.broadcast(yv, [...batch, ...yv.shape.slice(-2)]);
  const nb = batch.length;
  const axes = [...Array(nb).keys()];
  let r = b.dot(xb, yb, { lhsBatch: axes, rhsBatch: axes, lhsContract: [nb + 1], rhsContract: [nb] });
  if (x.shape.length === 1) r = squeeze(b, r, r.shape.length - 2);
  if (y.shape.length === 1) r = squeeze(b, r, r.shape.length - 1);
  return r;
}

export interface ConvParams {
  strides: number[];
  dilations: number[];
  /** [begin_0 … begin_n, end_0 … end_n] over the spatial axes. */
  pads: number[];
  group: number;
}

/** The attributes of a Conv-like node (auto_pad resolved into explicit pads) for input and kernel shapes. */
export function convParams(ctx: LowerContext, xShape: readonly number[], kernel: readonly number[]): ConvParams {
  const n = kernel.length;
  const { node } = ctx;
  const strides = node.has('strides') ? [...node.ints('strides')] : kernel.map(() => 1);
  const dilations = node.has('dilations') ? [...node.ints('dilations')] : kernel.map(() => 1);
  const group = node.int('group', 1);
  const autoPad = node.str('auto_pad', 'NOTSET');
  let pads = node.has('pads') ? [...node.ints('pads')] : new Array<number>(2 * n).fill(0);
  if (strides.length !== n || dilations.length !== n || pads.length !== 2 * n) ctx.fail(`strides, dilations and pads must cover ${n} spatial axes`);
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < n; i++) {
      const size = xShape[i + 2]!;
      const out = Math.ceil(size / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i]!;
    }
  } else if (autoPad !== 'NOTSET') ctx.fail(`unknown auto_pad "${autoPad}"`);
  return { strides, dilations, pads, group };
}

/**
 * Convolution of x [N, C, ...spatial] with w [M, C/group, ...kernel] (no bias), as one strided slice
 * of the padded input per kernel offset, stacked and contracted with the kernel by a dot. Padding is
 * with zeros of x's dtype; integers accumulate exactly (wrapping at 32 bits as ONNX allows).
 */
export function conv(ctx: LowerContext, x: Value, w: Value, p: ConvParams): Value {
  const { b } = ctx;
  const xs = ctx.staticShape(x, 'input');
  const ws = ctx.staticShape(w, 'weight');
  const n = xs.length - 2;
  const [N, C] = [xs[0]!, xs[1]!];
  const M = ws[0]!;
  const G = p.group;
  if (ws.length !== xs.length) ctx.fail(`weight rank ${ws.length} does not match input rank ${xs.length}`);
  if (C % G !== 0 || M % G !== 0 || ws[1]! * G !== C) ctx.fail(`channels ${C} and feature maps ${M} do not split into ${G} groups of weight [${ws.join(',')}]`);
  const kernel = ws.slice(2);
  const xp = b.pad(x, [0, 0, ...p.pads.slice(0, n), 0, 0, ...p.pads.slice(n)]);
  const padded = xp.shape as number[];
  const out = kernel.map((k, i) => Math.floor((padded[i + 2]! - ((k - 1) * p.dilations[i]! + 1)) / p.strides[i]!) + 1);
  if (out.some((o) => o <= 0)) ctx.fail(`the kernel [${kernel.join(',')}] does not fit the padded input [${padded.join(',')}]`);
  const K = kernel.reduce((a, c) => a * c, 1);
  const taps: Value[] = [];
  for (let k = 0; k < K; k++) {
    // Kernel offset k as a multi-index, row-major.
    const idx: number[] = [];
    for (let i = n - 1, r = k; i >= 0; i--) {
      idx[i] = r % kernel[i]!;
      r = Math.floor(r / kernel[i]!);
    }
    const axes = idx.map((_, i) => i + 2);
    const starts = idx.map((o, i) => o * p.dilations[i]!);
    const stops = starts.map((s, i) => s + (out[i]! - 1) * p.strides[i]! + 1);
    const tap = b.slice(xp, axes, starts, stops, p.strides);
    taps.push(b.reshape(tap, [N, G, C / G, 1, ...out]));
  }
  const patches = b.concat(taps, 3); // [N, G, C/G, K, ...out]
  const wg = b.reshape(w, [G, M / G, C / G, K]);
  // dot: batch G; contract (C/G, K) → [G, N, ...out, M/G]
  const y = b.dot(patches, wg, { lhsBatch: [1], rhsBatch: [0], lhsContract: [2, 3], rhsContract: [2, 3] });
  const yPerm = b.permute(y, [1, 0, n + 2, ...out.map((_, i) => i + 2)]); // [N, G, M/G, ...out]
  return b.reshape(yPerm, [N, M, ...out]);
}

/** A vector [n] reshaped to `rank` dims with n at `axis`, so it broadcasts along that axis (a scalar stays). */
export function alongAxis(b: GraphBuilder, v: Value, axis: number, rank: number): Value {
  if (v.shape.length === 0) return v;
  const dims: Dim[] = new Array<Dim>(rank).fill(1);
  dims[axis] = v.shape[0]!;
  return b.reshape(v, dims);
}
