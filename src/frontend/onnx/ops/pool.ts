// ONNX pooling: MaxPool (with Indices), AveragePool, LpPool, the Global* pools, MaxUnpool.
//
// A pool is a window view (window.ts) and a reduction over its kernel axes. The padding is the
// reduction's identity where that is honest: the lowest value for max, 0 for sums; an average divides
// by a constant table of per-window counts (padding excluded or included, never the ceil_mode overhang):
//
//   %y = onnx.AveragePool(%x) {kernel_shape=[2], pads=[1,0]} : f32[1,1,3]          // x f32[1,1,4]
// becomes
//   %p = prim.pad(%x) {pads=[0,0,1,0,0,-1], value=0.0} : f32[1,1,4]                 // what the windows read
//   …window.ts…                                              : f32[1,1,2,3]          // [N,C,k,o]
//   %s = prim.reduce_sum(%win) {axes=[2], keepdims=0} : f32[1,1,3]
//   %y = prim.div(%s, %n) : f32[1,1,3]                                               // %n = const [1,2,2]
import { A } from '../../../ir/attr.js';
import type { Value } from '../../../ir/graph.js';
import { DTYPE_INFO, isFloat, type DType } from '../../../ir/dtype.js';
import type { Dim } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { kernelAxes, padForWindows, slidingWindows, windowGeometry, type WindowGeometry } from './window.js';

/** The input of a pool: x [N, C, spatial…] with static spatial dims. */
function poolInput(ctx: LowerContext, accepts: (t: DType) => boolean, what: string): { x: Value; spatial: number[] } {
  const x = ctx.arg(0);
  if (!accepts(x.dtype)) ctx.fail(`input is ${x.dtype}; ${ctx.type} takes ${what}`);
  if (x.shape.length < 3) ctx.fail(`input has rank ${x.shape.length}; it must be [N, C, spatial…]`);
  const spatial = x.shape.slice(2).map((d) => (typeof d === 'number' ? d : ctx.unsupported(`spatial dims must be static, got [${x.shape.join(',')}]`)));
  return { x, spatial };
}

/** The smallest value of a dtype (the identity of max), as the double prim.pad takes. */
function lowest(t: DType): number {
  if (isFloat(t)) return -Infinity;
  const info = DTYPE_INFO[t];
  return info.kind === 'uint' || t === 'bool' ? 0 : -(2 ** (info.bytes * 8 - 1));
}

function windowsOf(ctx: LowerContext, x: Value, spatial: number[], fill: number, dilations: boolean): { win: Value; g: WindowGeometry } {
  const ceil = ctx.opset >= 10 && ctx.node.int('ceil_mode', 0) !== 0;
  const g = windowGeometry(ctx, spatial, undefined, { ceil, dilations });
  return { win: slidingWindows(ctx.b, padForWindows(ctx.b, x, g, fill), g), g };
}

function lowerMaxPool(ctx: LowerContext): (Value | null)[] {
  const { b } = ctx;
  const floatOrByte = (t: DType): boolean => isFloat(t) || (ctx.opset >= 12 && (t === 'i8' || t === 'u8'));
  const { x, spatial } = poolInput(ctx, floatOrByte, ctx.opset >= 12 ? 'floats, i8 or u8' : 'floats');
  const n = spatial.length;
  const { win, g } = windowsOf(ctx, x, spatial, lowest(x.dtype), ctx.opset >= 10);
  const axes = kernelAxes(2, n);
  const y = b.reduce('max', win, axes, false);
  if (ctx.numOutputs < 2) return [y];
  return [y, maxIndices(ctx, x, spatial, win, y, g)];
}

/**
 * MaxPool's Indices: the flat index into x (N·C·spatial, padding not counted) of the first element of
 * each window equal to its maximum, spatial axes row-major (storage_order 0) or column-major (1).
 */
function maxIndices(ctx: LowerContext, x: Value, spatial: number[], win: Value, y: Value, g: WindowGeometry): Value {
  const { b } = ctx;
  const n = spatial.length;
  const [N, C] = x.shape as [Dim, number];
  const out = g.out;
  const kernel = g.kernel;
  const K = kernel.reduce((p, k) => p * k, 1);
  // Positions that are not padding, as windows of a padded constant of ones (folds to a constant).
  const ones = b.const(Tensor.from('u8', [1, 1, ...spatial], new Array<number>(spatial.reduce((p, d) => p * d, 1)).fill(1)));
  const valid = b.cast(slidingWindows(b, padForWindows(b, ones, g, 0), g), 'bool');
  const yk = b.reshape(y, [N, C, ...out.flatMap((o) => [1, o])]);
  const hit = b.and(b.eq(win, yk), valid);
  // [N, C, k1, o1, …] → [N, C, o…, k…] → one kernel axis, whose first hit argmax finds.
  const perm = [0, 1, ...out.map((_, i) => 3 + 2 * i), ...kernel.map((_, i) => 2 + 2 * i)];
  const flat = b.reshape(b.permute(b.cast(hit, 'u8'), perm), [N, C, ...out, K]);
  const q = b.op1('prim.argmax', [flat], { axis: A.int(2 + n), keepdims: A.int(0) });
  // Kernel offset j_i of each axis, then the input coordinate p_i·s_i + j_i·d_i − pad_i.
  const i64 = (v: number): Value => b.scalar('i64', BigInt(v));
  const coords = kernel.map((k, i) => {
    const inner = kernel.slice(i + 1).reduce((p, kk) => p * kk, 1);
    const j = b.binary('mod', b.div(q, i64(inner)), i64(k));
    const p = b.iota('i64', [1, 1, ...out], 2 + i);
    return b.sub(b.add(b.mul(p, i64(g.strides[i]!)), b.mul(j, i64(g.dilations[i]!))), i64(g.padBegin[i]!));
  });
  const columnMajor = ctx.node.int('storage_order', 0) !== 0;
  const order = columnMajor ? [...coords.keys()].reverse() : [...coords.keys()];
  let index = b.add(b.mul(b.iota('i64', [N, C, ...out.map(() => 1)], 0), i64(C)), b.iota('i64', [N, C, ...out.map(() => 1)], 1));
  for (const i of order) index = b.add(b.mul(index, i64(spatial[i]!)), coords[i]!);
  return index;
}

/** Per-output-position window sizes along one axis: positions inside [lo, hi) of the padded axis. */
function axisCounts(g: WindowGeometry, i: number, lo: number, hi: number): number[] {
  const { strides: s, dilations: d, kernel: k, padBegin } = g;
  return Array.from({ length: g.out[i]! }, (_, p) => {
    let c = 0;
    for (let j = 0; j < k[i]!; j++) {
      const q = p * s[i]! + j * d[i]! - padBegin[i]!;
      if (q >= lo && q < hi) c++;
    }
    return c;
  });
}

/** The divisor of each average: a scalar when every window counts the same, else a table [o…]. */
function windowCounts(ctx: LowerContext, spatial: number[], g: WindowGeometry, includePad: boolean, dtype: DType): Value {
  const per = spatial.map((L, i) => (includePad ? axisCounts(g, i, -g.padBegin[i]!, L + g.padEnd[i]!) : axisCounts(g, i, 0, L)));
  const total = g.out.reduce((p, o) => p * o, 1);
  const values = new Array<number>(total);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let c = 1;
    for (let i = per.length - 1; i >= 0; i--) {
      c *= per[i]![rest % g.out[i]!]!;
      rest = Math.floor(rest / g.out[i]!);
    }
    values[flat] = c;
  }
  if (values.every((v) => v === values[0])) return ctx.b.scalar(dtype, values[0]!);
  return ctx.b.const(Tensor.from(dtype, g.out, values));
}

function lowerAveragePool(ctx: LowerContext): Value[] {
  const { x, spatial } = poolInput(ctx, isFloat, 'floats');
  const { win, g } = windowsOf(ctx, x, spatial, 0, ctx.opset >= 19);
  const includePad = ctx.opset >= 7 && ctx.node.int('count_include_pad', 0) !== 0;
  const sum = ctx.b.reduce('sum', win, kernelAxes(2, spatial.length), false);
  return [ctx.b.div(sum, windowCounts(ctx, spatial, g, includePad, x.dtype))];
}

/** LpPool's and GlobalLpPool's p: a float attribute in version 1, an int after. */
const lpExponent = (ctx: LowerContext): number => (ctx.opset < 2 ? ctx.node.float('p', 2) : ctx.node.int('p', 2));

/** (Σ |x|^p)^(1/p) over `axes`. */
function lpNorm(ctx: LowerContext, x: Value, axes: number[], keep: boolean): Value {
  const { b } = ctx;
  const p = lpExponent(ctx);
  const a = b.abs(x);
  const powered = p === 1 ? a : p === 2 ? b.mul(a, a) : b.pow(a, b.like(x, p));
  const s = b.reduce('sum', powered, axes, keep);
  return p === 1 ? s : p === 2 ? b.sqrt(s) : b.pow(s, b.like(x, 1 / p));
}

function lowerLpPool(ctx: LowerContext): Value[] {
  const { x, spatial } = poolInput(ctx, isFloat, 'floats');
  const { win } = windowsOf(ctx, x, spatial, 0, ctx.opset >= 18);
  return [lpNorm(ctx, win, kernelAxes(2, spatial.length), false)];
}

const spatialAxes = (x: Value): number[] => x.shape.slice(2).map((_, i) => 2 + i);

function lowerGlobalAveragePool(ctx: LowerContext): Value[] {
  const { x, spatial } = poolInput(ctx, isFloat, 'floats');
  const sum = ctx.b.reduce('sum', x, spatialAxes(x), true);
  return [ctx.b.div(sum, ctx.b.like(x, spatial.reduce((p, d) => p * d, 1)))];
}

function lowerGlobalMaxPool(ctx: LowerContext): Value[] {
  const { x } = poolInput(ctx, isFloat, 'floats');
  return [ctx.b.reduce('max', x, spatialAxes(x), true)];
}

function lowerGlobalLpPool(ctx: LowerContext): Value[] {
  const { x } = poolInput(ctx, isFloat, 'floats');
  return [lpNorm(ctx, x, spatialAxes(x), true)];
}

/**
 * MaxUnpool: zeros of the unpooled shape (from kernel, strides and pads) with X written at the flat
 * indices I (a scatter); an output_shape operand then pads the end with zeros, as the reference does.
 */
function lowerMaxUnpool(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const { x, spatial } = poolInput(ctx, isFloat, 'floats');
  const indices = ctx.arg(1);
  if (indices.dtype !== 'i64') ctx.fail(`indices are ${indices.dtype}, expected i64`);
  const xs = ctx.staticShape(x, 'the input');
  const n = spatial.length;
  const kernel = ctx.node.ints('kernel_shape');
  const strides = ctx.node.ints('strides', spatial.map(() => 1));
  const pads = ctx.node.ints('pads', spatial.flatMap(() => [0, 0]));
  if (kernel.length !== n || strides.length !== n || pads.length !== 2 * n) ctx.fail('kernel_shape, strides and pads must match the spatial rank');
  const shape = [xs[0]!, xs[1]!, ...spatial.map((o, i) => (o - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[n + i]!)];
  const total = shape.reduce((p, d) => p * d, 1);
  const size = xs.reduce((p, d) => p * d, 1);
  const zeros = b.broadcast(b.like(x, 0), [total]);
  const y = b.reshape(b.scatter(zeros, b.reshape(indices, [size]), b.reshape(x, [size]), 0), shape);
  const given = ctx.constInts(2, 'output_shape');
  if (!given) return [y];
  if (given.length !== n + 2) ctx.fail(`output_shape has ${given.length} entries for rank ${n + 2}`);
  if (given[0] !== shape[0] || given[1] !== shape[1]) ctx.fail(`output_shape [${given.join(',')}] changes the batch or channel dims`);
  return [b.pad(y, [...shape.map(() => 0), ...given.map((d, i) => d - shape[i]!)])];
}

defineOnnxOps(
  { type: 'MaxPool', since: 1, lower: lowerMaxPool },
  { type: 'AveragePool', since: 1, lower: lowerAveragePool },
  { type: 'LpPool', since: 1, lower: lowerLpPool },
  { type: 'GlobalAveragePool', since: 1, lower: lowerGlobalAveragePool },
  { type: 'GlobalMaxPool', since: 1, lower: lowerGlobalMaxPool },
  { type: 'GlobalLpPool', since: 1, lower: lowerGlobalLpPool },
  { type: 'MaxUnpool', since: 9, lower: lowerMaxUnpool },
);
