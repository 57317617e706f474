// ONNX convolutions: Conv, ConvTranspose, DeformConv, Col2Im.
//
// Conv is a window view and a contraction. The input is padded, its windows are taken with movement
// prims only (window.ts: reshape/broadcast/slice, an index map for the scheduler), and one prim.dot
// contracts (C/group, kernel) with the weights, the group being a batch dim of the dot:
//
//   %y = onnx.Conv(%x, %w) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[1,8,5,5]     // x f32[1,4,5,5], w f32[8,4,3,3]
// becomes
//   %p = prim.pad(%x) {pads=[0,0,1,1,0,0,1,1]} : f32[1,4,7,7]
//   …window.ts, per spatial axis…                               : f32[1,4,3,5,3,5]   // [N,C,kh,oh,kw,ow]
//   %v = prim.reshape(%win) : f32[1,1,4,3,5,3,5]                                    // [N,G,C/G,kh,oh,kw,ow]
//   %k = prim.reshape(%w) : f32[1,8,4,3,3]                                          // [G,M/G,C/G,kh,kw]
//   %d = prim.dot(%k, %v) {lhs_batch=[0], rhs_batch=[1], lhs_contract=[2,3,4], rhs_contract=[2,3,5]} : f32[1,8,1,5,5]
//   %r = prim.reshape(%d) : f32[8,1,5,5]
//   %y = prim.permute(%r) {perm=[1,0,2,3]} : f32[1,8,5,5]
//
// ConvTranspose is the same contraction over the input with zeros inserted between elements (stride),
// padded by (dilated kernel − 1 − pads), with the kernel flipped and its channel axes swapped.
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import { isFloat } from '../../../ir/dtype.js';
import type { Dim } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { kernelExtent, padForWindows, slidingWindows, windowGeometry, type WindowGeometry } from './window.js';

/** Shapes of a convolution's operands, checked: x [N, C, spatial…], w [M, C/group, kernel…]. */
interface ConvShapes {
  readonly batch: Dim;
  readonly channels: number;
  readonly spatial: number[];
  readonly kernel: number[];
}

function convShapes(ctx: LowerContext, x: Value, w: Value, group: number, wInChannelsAxis: 0 | 1): ConvShapes {
  if (!isFloat(x.dtype) || w.dtype !== x.dtype) ctx.fail(`needs float operands of one dtype, got ${x.dtype} and ${w.dtype}`);
  if (x.shape.length < 3) ctx.fail(`input has rank ${x.shape.length}; it must be [N, C, spatial…]`);
  if (w.shape.length !== x.shape.length) ctx.fail(`weights have rank ${w.shape.length}, the input ${x.shape.length}`);
  const [batch, ...rest] = x.shape;
  const static_ = ctx.staticShape(w, 'the weights');
  const dims = rest.map((d) => (typeof d === 'number' ? d : ctx.unsupported(`input channels and spatial dims must be static, got [${x.shape.join(',')}]`)));
  const channels = dims[0]!;
  if (!Number.isInteger(group) || group < 1 || channels % group !== 0) ctx.fail(`group ${group} does not divide the ${channels} input channels`);
  if (static_[wInChannelsAxis]! * (wInChannelsAxis === 1 ? group : 1) !== channels) {
    ctx.fail(`weights [${static_.join(',')}] do not match ${channels} input channels in ${group} groups`);
  }
  return { batch: batch!, channels, spatial: dims.slice(1), kernel: static_.slice(2) };
}

/**
 * Contract windows [N, C, k1, o1, k2, o2, …] with weights [M, C/G, k1, k2, …] in G groups:
 * one prim.dot with the group as batch dim, giving [N, M, o1, o2, …].
 */
export function contractWindows(b: GraphBuilder, windows: Value, w: Value, group: number): Value {
  const [N, C, ...rest] = windows.shape;
  const [M, Cg, ...kernel] = w.shape as number[];
  const n = kernel.length;
  const out = rest.filter((_, i) => i % 2 === 1);
  const v = b.reshape(windows, [N!, group, (C as number) / group, ...rest]);
  const k = b.reshape(w, [group, M! / group, Cg!, ...kernel]);
  const spatialContract = Array.from({ length: n }, (_, i) => 3 + 2 * i);
  const d = b.dot(k, v, {
    lhsBatch: [0], rhsBatch: [1],
    lhsContract: Array.from({ length: n + 1 }, (_, i) => 2 + i),
    rhsContract: [2, ...spatialContract],
  });
  const y = b.reshape(d, [M!, N!, ...out]);
  return b.permute(y, [1, 0, ...out.map((_, i) => 2 + i)]);
}

/** y + bias[M] along axis 1. */
function addBias(ctx: LowerContext, y: Value, bias: Value | null): Value {
  if (!bias) return y;
  const M = y.shape[1];
  if (bias.shape.length !== 1 || bias.shape[0] !== M || bias.dtype !== y.dtype) {
    ctx.fail(`bias ${bias.dtype}[${bias.shape.join(',')}] must be ${y.dtype}[${M}]`);
  }
  return ctx.b.add(y, ctx.b.reshape(bias, [M!, ...y.shape.slice(2).map(() => 1)]));
}

/** Conv on x [N, C, …] with weights [M, C/G, k…] over a geometry: pad, windows, contraction. */
export function convolve(b: GraphBuilder, x: Value, w: Value, group: number, g: WindowGeometry): Value {
  return contractWindows(b, slidingWindows(b, padForWindows(b, x, g, 0), g), w, group);
}

function lowerConv(ctx: LowerContext): Value[] {
  const x = ctx.arg(0);
  const w = ctx.arg(1);
  const group = ctx.node.int('group', 1);
  const s = convShapes(ctx, x, w, group, 1);
  const M = w.shape[0] as number;
  if (M % group !== 0) ctx.fail(`group ${group} does not divide the ${M} output channels`);
  const g = windowGeometry(ctx, s.spatial, s.kernel);
  return [addBias(ctx, convolve(ctx.b, x, w, group, g), ctx.input(2))];
}

/** Pads of ConvTranspose: from output_shape or auto_pad (split by the spec's rule), else the attribute. */
function transposePads(ctx: LowerContext, spatial: readonly number[], kernel: readonly number[], strides: readonly number[],
  dilations: readonly number[], outputPadding: readonly number[]): { begin: number[]; end: number[] } {
  const n = spatial.length;
  const autoPad = ctx.node.str('auto_pad', 'NOTSET');
  const full = spatial.map((L, i) => strides[i]! * (L - 1) + outputPadding[i]! + kernelExtent(kernel[i]!, dilations[i]!));
  let target: readonly number[] | undefined;
  if (ctx.node.has('output_shape')) {
    const os = ctx.node.ints('output_shape');
    if (os.length !== n && os.length !== n + 2) ctx.fail(`output_shape has ${os.length} entries for ${n} spatial axes`);
    target = os.slice(os.length - n);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    target = spatial.map((L, i) => L * strides[i]!);
  }
  if (target) {
    // Python's floor division, as the spec's formula (a negative total pads the end).
    const total = full.map((f, i) => f - target[i]!);
    const half = total.map((t) => Math.floor(t / 2));
    return autoPad === 'SAME_UPPER'
      ? { begin: half, end: total.map((t, i) => t - half[i]!) }
      : { begin: total.map((t, i) => t - half[i]!), end: half };
  }
  if (autoPad === 'VALID') return { begin: spatial.map(() => 0), end: spatial.map(() => 0) };
  if (autoPad !== 'NOTSET') ctx.fail(`unknown auto_pad "${autoPad}"`);
  const pads = ctx.node.ints('pads', spatial.flatMap(() => [0, 0]));
  if (pads.length !== 2 * n) ctx.fail(`pads has ${pads.length} entries for ${n} spatial axes`);
  return { begin: pads.slice(0, n), end: pads.slice(n) };
}

function lowerConvTranspose(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const w = ctx.arg(1);
  const group = ctx.node.int('group', 1);
  const s = convShapes(ctx, x, w, group, 0);
  const n = s.spatial.length;
  const ones = s.spatial.map(() => 1);
  const kernel = ctx.node.ints('kernel_shape', s.kernel);
  if (kernel.length !== n || kernel.some((k, i) => k !== s.kernel[i])) ctx.fail(`kernel_shape [${kernel.join(',')}] differs from the weights'`);
  const strides = ctx.node.ints('strides', ones);
  const dilations = ctx.node.ints('dilations', ones);
  const outputPadding = ctx.node.ints('output_padding', s.spatial.map(() => 0));
  for (const [name, v] of [['strides', strides], ['dilations', dilations], ['output_padding', outputPadding]] as const) {
    if (v.length !== n) ctx.fail(`${name} has ${v.length} entries for ${n} spatial axes`);
  }
  const pads = transposePads(ctx, s.spatial, kernel, strides, dilations, outputPadding);
  const out = s.spatial.map((L, i) => strides[i]! * (L - 1) + outputPadding[i]! + kernelExtent(kernel[i]!, dilations[i]!) - pads.begin[i]! - pads.end[i]!);
  if (out.some((o) => o < 1)) ctx.fail(`the output would have spatial shape [${out.join(',')}]`);

  // Zeros between the elements: [N, C, L1, 1, L2, 1, …] padded to stride, read as [N, C, L1·s1, …].
  let z = x;
  if (strides.some((st) => st > 1)) {
    const split: Dim[] = [s.batch, s.channels, ...s.spatial.flatMap((L) => [L, 1])];
    const gaps = [0, 0, ...strides.flatMap((st) => [0, st - 1])];
    z = b.pad(b.reshape(x, split), [...gaps.map(() => 0), ...gaps]);
    z = b.reshape(z, [s.batch, s.channels, ...s.spatial.map((L, i) => L * strides[i]!)]);
  }
  // The trailing stride − 1 zeros are cropped by the end padding (padForWindows sizes it exactly).
  const g: WindowGeometry = {
    kernel, strides: ones, dilations,
    padBegin: kernel.map((k, i) => kernelExtent(k, dilations[i]!) - 1 - pads.begin[i]!),
    padEnd: kernel.map(() => 0),
    out,
  };
  // Weights [C, M/G, k…] → [M, C/G, k…] with the kernel flipped.
  const Cg = s.channels / group;
  const Mg = w.shape[1] as number;
  let k = b.permute(b.reshape(w, [group, Cg, Mg, ...kernel]), [0, 2, 1, ...kernel.map((_, i) => 3 + i)]);
  k = b.slice(k, kernel.map((_, i) => 3 + i), kernel.map((kk) => kk - 1), kernel.map((kk) => -kk - 1), kernel.map(() => -1));
  k = b.reshape(k, [group * Mg, Cg, ...kernel]);
  return [addBias(ctx, convolve(b, z, k, group, g), ctx.input(2))];
}

defineOnnxOps(
  { type: 'Conv', since: 1, lower: lowerConv },
  { type: 'ConvTranspose', since: 1, lower: lowerConvTranspose },
);
