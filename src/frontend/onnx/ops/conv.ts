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
import { Tensor } from '../../../ir/tensor.js';
import { rowTable, sampleRows, type AxisTaps } from './sample.js';
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

/**
 * DeformConv: the windows are bilinear samples at the kernel positions moved by `offset` (zero outside
 * the input; sample.ts), scaled by `mask`, then the same contraction as Conv.
 */
function lowerDeformConv(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const w = ctx.arg(1);
  const offset = ctx.arg(2);
  const mask = ctx.input(4);
  const group = ctx.node.int('group', 1);
  const s = convShapes(ctx, x, w, group, 1);
  const [N] = ctx.staticShape(x, 'the input');
  const n = s.spatial.length;
  const g = windowGeometry(ctx, s.spatial, s.kernel);
  const M = w.shape[0] as number;
  if (M % group !== 0) ctx.fail(`group ${group} does not divide the ${M} output channels`);
  const groups = ctx.node.int('offset_group', 1);
  if (!Number.isInteger(groups) || groups < 1 || s.channels % groups !== 0) ctx.fail(`offset_group ${groups} does not divide the ${s.channels} input channels`);
  const K = s.kernel.reduce((p, k) => p * k, 1);
  const points = [N!, groups, ...s.kernel, ...g.out];
  const want = (what: string, v: Value, channels: number): void => {
    const shape = [N!, channels, ...g.out];
    if (v.dtype !== x.dtype || v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
      ctx.fail(`${what} ${v.dtype}[${v.shape.join(',')}] must be ${x.dtype}[${shape.join(',')}]`);
    }
  };
  want('offset', offset, groups * K * n);
  if (mask) want('mask', mask, groups * K);
  // Offsets [N, G·k…·n, o…] as [N, G, k…, n, o…]: axis j's shift of every kernel tap at every output.
  const shifts = b.reshape(offset, [N!, groups, ...s.kernel, n, ...g.out]);
  const i64 = (v: number): Value => b.scalar('i64', BigInt(v));
  const axes: AxisTaps[] = s.spatial.map((d, j) => {
    const shift = b.reshape(b.slice(shifts, [2 + n], [j], [j + 1]), points);
    const one = points.map(() => 1);
    const tap = b.iota(x.dtype, one.map((_, a) => (a === 2 + j ? s.kernel[j]! : 1)), 2 + j);
    const out = b.iota(x.dtype, one.map((_, a) => (a === 2 + n + j ? g.out[j]! : 1)), 2 + n + j);
    const k = (v: number): Value => b.like(x, v);
    const base = b.sub(b.add(b.mul(out, k(g.strides[j]!)), b.mul(tap, k(g.dilations[j]!))), k(g.padBegin[j]!));
    const c = b.add(base, shift);
    const f = b.unary('floor', c);
    const t = b.sub(c, f);
    const taps = [f, b.add(f, k(1))];
    const stackLast = (vs: Value[]): Value => b.concat(vs.map((v) => b.reshape(v, [...v.shape, 1])), points.length);
    return {
      index: b.cast(stackLast(taps.map((i) => b.min(b.max(i, k(0)), k(d - 1)))), 'i64'),
      weight: stackLast([b.sub(k(1), t), t]),
      valid: stackLast(taps.map((i) => b.and(b.not(b.lt(i, k(0))), b.lt(i, k(d))))),
    };
  });
  const Cg = s.channels / groups;
  const table = rowTable(b, b.reshape(x, [N! * groups, Cg, ...s.spatial]));
  const batch = b.add(b.mul(b.iota('i64', [N!, groups, ...points.slice(2).map(() => 1)], 0), i64(groups)), b.iota('i64', [N!, groups, ...points.slice(2).map(() => 1)], 1));
  let v = b.reduce('sum', sampleRows(b, table, s.spatial, batch, axes), [points.length], false); // [N, G, k…, o…, Cg]
  if (mask) v = b.mul(v, b.reshape(mask, [...points, 1]));
  // → the window layout [N, C, k1, o1, k2, o2, …] of contractWindows.
  const perm = [0, 1, points.length, ...s.kernel.flatMap((_, j) => [2 + j, 2 + n + j])];
  const windows = b.reshape(b.permute(v, perm), [N!, s.channels, ...s.kernel.flatMap((k, j) => [k, g.out[j]!])]);
  return [addBias(ctx, contractWindows(b, windows, w, group), ctx.input(3))];
}

/**
 * Col2Im: the adjoint of the window view. Every column element is added into the (padded) image at
 * its block position, a prim.scatter with reduction add over constant indices; the padding is cropped.
 */
function lowerCol2Im(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const image = ctx.constInts(1, 'image_shape') ?? ctx.fail('image_shape is required');
  const block = ctx.constInts(2, 'block_shape') ?? ctx.fail('block_shape is required');
  const n = image.length;
  if (block.length !== n) ctx.fail(`block_shape has ${block.length} entries, image_shape ${n}`);
  const xs = ctx.staticShape(x, 'the input');
  if (xs.length !== 3) ctx.fail(`input has rank ${xs.length}, expected 3 ([N, C·Πblock, L])`);
  const ones = image.map(() => 1);
  const strides = ctx.node.ints('strides', ones);
  const dilations = ctx.node.ints('dilations', ones);
  const pads = ctx.node.ints('pads', image.flatMap(() => [0, 0]));
  if (strides.length !== n || dilations.length !== n || pads.length !== 2 * n) ctx.fail('strides, dilations and pads must match the image rank');
  const K = block.reduce((p, k) => p * k, 1);
  const [N, CK, L] = xs as [number, number, number];
  if (CK % K !== 0) ctx.fail(`input channels ${CK} are not a multiple of the block size ${K}`);
  const C = CK / K;
  const padded = image.map((d, i) => d + pads[i]! + pads[n + i]!);
  const out = padded.map((p, i) => Math.floor((p - kernelExtent(block[i]!, dilations[i]!)) / strides[i]!) + 1);
  if (out.some((o) => o < 1) || out.reduce((p, o) => p * o, 1) !== L) ctx.fail(`${L} blocks do not tile an image [${image.join(',')}] (expected [${out.join(',')}])`);
  // Padded-image position of element (block offset j, block l), j and l row-major.
  const index: bigint[] = [];
  const j = block.map(() => 0);
  for (let kk = 0; kk < K; kk++) {
    const p = out.map(() => 0);
    for (let l = 0; l < L; l++) {
      let flat = 0;
      for (let i = 0; i < n; i++) flat = flat * padded[i]! + p[i]! * strides[i]! + j[i]! * dilations[i]!;
      index.push(BigInt(flat));
      for (let i = n - 1; i >= 0 && ++p[i]! === out[i]!; i--) p[i] = 0;
    }
    for (let i = n - 1; i >= 0 && ++j[i]! === block[i]!; i--) j[i] = 0;
  }
  const size = padded.reduce((p, d) => p * d, 1);
  const idx = b.broadcast(b.const(Tensor.from('i64', [K * L], index)), [N, C, K * L]);
  const sums = b.scatter(b.broadcast(b.like(x, 0), [N, C, size]), idx, b.reshape(x, [N, C, K * L]), 2, 'add');
  const y = b.reshape(sums, [N, C, ...padded]);
  return [b.pad(y, [0, 0, ...pads.slice(0, n).map((p) => -p), 0, 0, ...pads.slice(n).map((p) => -p)])];
}

defineOnnxOps(
  { type: 'Conv', since: 1, lower: lowerConv },
  { type: 'ConvTranspose', since: 1, lower: lowerConvTranspose },
  { type: 'DeformConv', since: 19, lower: lowerDeformConv },
  { type: 'Col2Im', since: 18, lower: lowerCol2Im },
);
