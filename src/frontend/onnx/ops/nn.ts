// ONNX spatial rearrangement and sampling: DepthToSpace, SpaceToDepth, AffineGrid, GridSample, RoiAlign.
// (Convolutions are in conv.ts, pools in pool.ts, Resize in resize.ts.)
//
// DepthToSpace and SpaceToDepth are a reshape, a permute and a reshape. AffineGrid is a prim.dot of
// theta with a constant grid of normalized coordinates. GridSample and RoiAlign compute their sample
// positions with pointwise prims, and read the input through sample.ts (one gather of rows):
//
//   %y = onnx.GridSample(%x, %grid) {mode="linear"} : f32[1,1,2,2]     // x f32[1,1,3,3], grid f32[1,2,2,2]
// becomes, per spatial axis, the source coordinate ((g + 1)·d − 1)/2, its floor and its fraction,
// two taps (index, weight, inside?) each, then
//   %rows = prim.gather(%table, %index) {axis=0} : f32[1,2,2,4,1]       // 2×2 taps, table = x as [9,1]
//   %y = permute(reduce_sum(where(%inside, %rows, 0) · %weight))
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import { isFloat, type DType } from '../../../ir/dtype.js';
import type { Dim } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { rowTable, sampleRows, type AxisTaps } from './sample.js';

/** x [N, C, H, W] with C, H, W static. */
function blockInput(ctx: LowerContext): { x: Value; N: Dim; C: number; H: number; W: number; bs: number } {
  const x = ctx.arg(0);
  if (x.shape.length !== 4) ctx.fail(`input has rank ${x.shape.length}, expected 4`);
  const [N, C, H, W] = x.shape;
  if (typeof C !== 'number' || typeof H !== 'number' || typeof W !== 'number') ctx.unsupported(`channels and spatial dims must be static, got [${x.shape.join(',')}]`);
  const bs = ctx.node.int('blocksize');
  if (!Number.isInteger(bs) || bs < 1) ctx.fail(`blocksize ${bs} must be positive`);
  return { x, N: N!, C, H, W, bs };
}

function lowerDepthToSpace(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const { x, N, C, H, W, bs } = blockInput(ctx);
  if (C % (bs * bs) !== 0) ctx.fail(`channels ${C} are not a multiple of blocksize² ${bs * bs}`);
  const c = C / (bs * bs);
  const mode = ctx.opset >= 11 ? ctx.node.str('mode', 'DCR') : 'DCR';
  let y: Value;
  if (mode === 'DCR') y = b.permute(b.reshape(x, [N, bs, bs, c, H, W]), [0, 3, 4, 1, 5, 2]);
  else if (mode === 'CRD') y = b.permute(b.reshape(x, [N, c, bs, bs, H, W]), [0, 1, 4, 2, 5, 3]);
  else return ctx.fail(`unknown mode "${mode}"`);
  return [b.reshape(y, [N, c, H * bs, W * bs])];
}

function lowerSpaceToDepth(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const { x, N, C, H, W, bs } = blockInput(ctx);
  if (H % bs !== 0 || W % bs !== 0) ctx.fail(`spatial dims ${H}×${W} are not multiples of blocksize ${bs}`);
  const y = b.permute(b.reshape(x, [N, C, H / bs, bs, W / bs, bs]), [0, 3, 5, 1, 2, 4]);
  return [b.reshape(y, [N, C * bs * bs, H / bs, W / bs])];
}

/** Normalized coordinates of `d` positions in [-1, 1]: pixel centers, or (align_corners) the corners. */
function normalizedPositions(d: number, alignCorners: boolean): number[] {
  if (alignCorners) return Array.from({ length: d }, (_, i) => (d === 1 ? -1 : -1 + (i * 2) / (d - 1)));
  const step = 2 / d;
  return Array.from({ length: d }, (_, i) => -1 + step / 2 + i * step);
}

function lowerAffineGrid(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const theta = ctx.arg(0);
  const size = ctx.constInts(1, 'size') ?? ctx.fail('size is required');
  const spatial = size.slice(2);
  const n = spatial.length;
  if (n !== 2 && n !== 3) ctx.fail(`size [${size.join(',')}] must be [N, C, H, W] or [N, C, D, H, W]`);
  if (!isFloat(theta.dtype)) ctx.fail(`theta is ${theta.dtype}, expected a float dtype`);
  if (theta.shape.length !== 3 || theta.shape[1] !== n || theta.shape[2] !== n + 1) ctx.fail(`theta [${theta.shape.join(',')}] must be [N, ${n}, ${n + 1}]`);
  const align = ctx.node.int('align_corners', 0) !== 0;
  // The homogeneous coordinates (x, y[, z], 1) of every position, x along the last axis.
  const positions = spatial.map((d) => normalizedPositions(d, align));
  const count = spatial.reduce((p, d) => p * d, 1);
  const values: number[] = [];
  const idx = spatial.map(() => 0);
  for (let k = 0; k < count; k++) {
    for (let j = n - 1; j >= 0; j--) values.push(positions[j]![idx[j]!]!);
    values.push(1);
    for (let j = n - 1; j >= 0; j--) {
      if (++idx[j]! < spatial[j]!) break;
      idx[j] = 0;
    }
  }
  const base = b.const(Tensor.from(theta.dtype, [...spatial, n + 1], values));
  const grid = b.dot(theta, base, { lhsContract: [2], rhsContract: [n] }); // [N, n, S…]
  return [b.permute(grid, [0, ...spatial.map((_, i) => 2 + i), 1])];
}

/** Keys' cubic weights (A = −0.75) of the taps at floor−1 … floor+2 for fractional part t. */
function cubicWeights(b: GraphBuilder, t: Value, A = -0.75): Value[] {
  const k = (v: number): Value => b.like(t, v);
  const outer = (u: Value): Value => b.sub(b.mul(b.add(b.mul(b.sub(b.mul(k(A), u), k(5 * A)), u), k(8 * A)), u), k(4 * A));
  const inner = (u: Value): Value => b.add(b.mul(b.mul(b.sub(b.mul(k(A + 2), u), k(A + 3)), u), u), k(1));
  const s = b.sub(k(1), t);
  return [outer(b.add(t, k(1))), inner(t), inner(s), outer(b.add(s, k(1)))];
}

/** Reflect coordinates outside [lo, hi] back in, bouncing between the borders (GridSample's rule). */
function reflect(b: GraphBuilder, c: Value, lo: number, hi: number): Value {
  const k = (v: number): Value => b.like(c, v);
  const below = b.lt(c, k(lo));
  const outside = b.or(below, b.lt(k(hi), c));
  const dx = b.where(below, b.sub(k(lo), c), b.sub(c, k(hi)));
  const n = b.unary('floor', b.div(dx, k(hi - lo)));
  const r = b.sub(dx, b.mul(n, k(hi - lo)));
  const even = b.eq(b.binary('mod', n, k(2)), k(0));
  const fromLo = b.add(k(lo), r);
  const fromHi = b.sub(k(hi), r);
  const inside = b.where(below, b.where(even, fromLo, fromHi), b.where(even, fromHi, fromLo));
  return b.where(outside, inside, c);
}

const clamp = (b: GraphBuilder, v: Value, lo: number, hi: number): Value => b.min(b.max(v, b.like(v, lo)), b.like(v, hi));

/** Stack same-shaped tensors along a new last axis. */
function stack(b: GraphBuilder, vs: readonly Value[]): Value {
  return b.concat(vs.map((v) => b.reshape(v, [...v.shape, 1])), vs[0]!.shape.length);
}

function lowerGridSample(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const grid = ctx.arg(1);
  const xs = ctx.staticShape(x, 'the input');
  const gs = ctx.staticShape(grid, 'the grid');
  const spatial = xs.slice(2);
  const n = spatial.length;
  if (n < 1 || (ctx.opset < 20 && n !== 2)) ctx.fail(`input has rank ${xs.length}; opset ${ctx.opset} takes ${ctx.opset < 20 ? '4' : 'at least 3'}`);
  if (!isFloat(grid.dtype)) ctx.fail(`grid is ${grid.dtype}, expected a float dtype`);
  if (gs.length !== n + 2 || gs[0] !== xs[0] || gs[n + 1] !== n) ctx.fail(`grid [${gs.join(',')}] must be [${xs[0]}, out…, ${n}]`);
  const renamed: Record<string, string> = { bilinear: 'linear', bicubic: 'cubic' };
  const rawMode = ctx.node.str('mode', ctx.opset < 20 ? 'bilinear' : 'linear');
  const mode = ctx.opset < 20 ? renamed[rawMode] ?? rawMode : rawMode;
  if (!['nearest', 'linear', 'cubic'].includes(mode) || (ctx.opset >= 20 && rawMode in renamed)) ctx.fail(`unknown mode "${rawMode}"`);
  const padding = ctx.node.str('padding_mode', 'zeros');
  if (!['zeros', 'border', 'reflection'].includes(padding)) ctx.fail(`unknown padding_mode "${padding}"`);
  const align = ctx.node.int('align_corners', 0) !== 0;
  if (mode !== 'nearest' && x.dtype === 'bool') ctx.fail(`${mode} interpolation of bool data`);
  // Interpolate in x's dtype when it is a float, else in the grid's (cast back at the end).
  const vt: DType = isFloat(x.dtype) ? x.dtype : grid.dtype;
  const points = gs.slice(0, n + 1);
  const axes: AxisTaps[] = spatial.map((d, j) => {
    const comp = n - 1 - j; // the grid lists coordinates innermost axis first
    const g = b.reshape(b.slice(grid, [n + 1], [comp], [comp + 1]), points);
    const k = (v: number): Value => b.like(g, v);
    let c = align ? b.mul(b.div(b.add(g, k(1)), k(2)), k(d - 1)) : b.div(b.sub(b.mul(b.add(g, k(1)), k(d)), k(1)), k(2));
    // Nearest rounds half to even (nearbyint), as the conformance data and ONNX Runtime do in 2-D and 3-D.
    if (mode === 'nearest') c = b.unary('round', c);
    const [lo, hi] = align ? [0, d - 1] : [-0.5, d - 0.5];
    if (padding === 'border') c = b.where(b.or(b.lt(c, k(lo)), b.lt(k(hi), c)), clamp(b, c, 0, d - 1), c);
    else if (padding === 'reflection') c = reflect(b, c, lo, hi);
    let taps: Value[];
    let weights: Value[] | null = null;
    if (mode === 'nearest') {
      taps = [c];
    } else {
      const f = b.unary('floor', c);
      const t = b.sub(c, f);
      if (mode === 'linear') {
        taps = [f, b.add(f, k(1))];
        weights = [b.sub(k(1), t), t];
      } else {
        taps = [-1, 0, 1, 2].map((o) => b.add(f, k(o)));
        weights = cubicWeights(b, t);
      }
    }
    // Where each tap reads: zeros padding reads nothing outside; border clamps; reflection reflects.
    let valid: Value | null = null;
    if (padding === 'zeros') valid = stack(b, taps.map((i) => b.and(b.not(b.lt(i, k(0))), b.lt(i, k(d)))));
    else if (padding === 'reflection') {
      // The reflected position truncated toward zero (it is at least −0.5).
      taps = taps.map((i) => b.max(b.unary('floor', reflect(b, i, lo, hi)), k(0)));
    }
    const index = b.cast(stack(b, taps.map((i) => clamp(b, i, 0, d - 1))), 'i64');
    return { index, weight: weights ? b.cast(stack(b, weights), vt) : null, valid };
  });
  const source = x.dtype === vt ? x : b.cast(x, vt);
  const batch = b.iota('i64', [xs[0]!, ...points.slice(1).map(() => 1)], 0);
  const rows = sampleRows(b, rowTable(b, source), spatial, batch, axes); // [N, out…, T, C]
  let y = b.reduce('sum', rows, [n + 1], false);
  y = b.permute(y, [0, n + 1, ...spatial.map((_, i) => 1 + i)]);
  return [x.dtype === vt ? y : b.cast(y, x.dtype)];
}

/** RoiAlign: bilinear samples on a grid in each bin of each region, averaged or maxed. */
function lowerRoiAlign(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const rois = ctx.arg(1);
  const batchIndices = ctx.arg(2);
  const xs = ctx.staticShape(x, 'the input');
  if (xs.length !== 4) ctx.fail(`input has rank ${xs.length}, expected 4`);
  if (!isFloat(x.dtype) || rois.dtype !== x.dtype) ctx.fail(`needs float X and rois of one dtype, got ${x.dtype} and ${rois.dtype}`);
  const [R] = ctx.staticShape(rois, 'rois');
  if (rois.shape.length !== 2 || rois.shape[1] !== 4) ctx.fail(`rois [${rois.shape.join(',')}] must be [num_rois, 4]`);
  if (batchIndices.shape.length !== 1 || batchIndices.shape[0] !== R) ctx.fail(`batch_indices [${batchIndices.shape.join(',')}] must be [${R}]`);
  const [, , H, W] = xs as [number, number, number, number];
  const oh = ctx.node.int('output_height', 1);
  const ow = ctx.node.int('output_width', 1);
  const ratio = ctx.node.int('sampling_ratio', 0);
  const scale = ctx.node.float('spatial_scale', 1);
  const mode = ctx.node.str('mode', 'avg');
  if (mode !== 'avg' && mode !== 'max') ctx.fail(`unknown mode "${mode}"`);
  const halfPixel = ctx.opset >= 16 && ctx.node.str('coordinate_transformation_mode', 'half_pixel') === 'half_pixel';
  const k = (v: number): Value => b.like(rois, v);
  const offset = halfPixel ? 0.5 : 0;
  const corner = (i: number): Value => b.sub(b.mul(b.slice(rois, [1], [i], [i + 1]), k(scale)), k(offset)); // [R, 1]
  const [x1, y1, x2, y2] = [0, 1, 2, 3].map(corner) as [Value, Value, Value, Value];
  const extent = (lo: Value, hi: Value): Value => (halfPixel ? b.sub(hi, lo) : b.max(b.sub(hi, lo), k(1)));
  const [roiW, roiH] = [extent(x1, x2), extent(y1, y2)];
  // Samples per bin: sampling_ratio, or (adaptive) ceil(roi extent / bins), which needs the rois.
  let grids: { h: number[]; w: number[] } | undefined;
  if (ratio <= 0) {
    const r = ctx.requireConstant(1, 'rois (adaptive sampling_ratio 0)').toNumbers();
    const ext = (lo: number, hi: number): number => (halfPixel ? hi - lo : Math.max(hi - lo, 1));
    const dims = Array.from({ length: R! }, (_, i) => r.slice(4 * i, 4 * i + 4).map((v) => Math.fround(Math.fround(v * scale) - offset)));
    grids = {
      h: dims.map((q) => Math.max(0, Math.ceil(Math.fround(ext(q[1]!, q[3]!)) / oh))),
      w: dims.map((q) => Math.max(0, Math.ceil(Math.fround(ext(q[0]!, q[2]!)) / ow))),
    };
  }
  const Gh = grids ? Math.max(1, ...grids.h) : ratio;
  const Gw = grids ? Math.max(1, ...grids.w) : ratio;
  const perRoi = (v: number[]): Value => b.const(Tensor.from(rois.dtype, [R!, 1], v));
  const gh = grids ? perRoi(grids.h) : k(ratio);
  const gw = grids ? perRoi(grids.w) : k(ratio);
  // Sample coordinates start + p·bin + (i + 0.5)·bin/grid, as [R, bins, samples].
  const coords = (start: Value, extent: Value, bins: number, grid: Value, G: number): Value => {
    const bin = b.div(extent, k(bins));
    const p = b.iota(rois.dtype, [1, bins, 1], 1);
    const i = b.iota(rois.dtype, [1, 1, G], 2);
    const r3 = (v: Value): Value => b.reshape(v, [...v.shape, 1]);
    return b.add(b.add(r3(start), b.mul(p, r3(bin))), b.div(b.mul(b.add(i, k(0.5)), r3(bin)), r3(grid)));
  };
  // Bilinear taps of one axis with the RoiAlign rules: samples beyond −1 or the size read nothing;
  // coordinates clamp at 0, and at the last pixel both taps are that pixel.
  const taps = (c: Value, d: number): { lo: Value; hi: Value; wlo: Value; whi: Value; inside: Value } => {
    const inside = b.not(b.or(b.lt(c, k(-1)), b.lt(k(d), c)));
    const cc = b.max(c, k(0));
    const f = b.unary('floor', cc);
    const edge = b.not(b.lt(f, k(d - 1)));
    const lo = b.where(edge, k(d - 1), f);
    const hi = b.where(edge, k(d - 1), b.add(f, k(1)));
    const l = b.where(edge, k(0), b.sub(cc, f));
    return { lo, hi, wlo: b.sub(k(1), l), whi: l, inside };
  };
  const ty = taps(coords(y1, roiH, oh, gh, Gh), H); // [R, oh, Gh]
  const tx = taps(coords(x1, roiW, ow, gw, Gw), W); // [R, ow, Gw]
  // Points [R, oh, Gh, ow, Gw]: y depends on the first two, x on the last two.
  const points = [R!, oh, Gh, ow, Gw];
  const yPart = (v: Value): Value => b.broadcast(b.reshape(v, [R!, oh, Gh, 1, 1]), points);
  const xPart = (v: Value): Value => b.broadcast(b.reshape(v, [R!, 1, 1, ow, Gw]), points);
  const inside = b.and(yPart(ty.inside), xPart(tx.inside));
  // Samples past a region's own grid (adaptive grids differ per region) do not count.
  let used: Value | null = null;
  if (grids) {
    const iy = b.iota(rois.dtype, [1, 1, Gh, 1, 1], 2);
    const ix = b.iota(rois.dtype, [1, 1, 1, 1, Gw], 4);
    used = b.broadcast(b.and(b.lt(iy, b.reshape(gh, [R!, 1, 1, 1, 1])), b.lt(ix, b.reshape(gw, [R!, 1, 1, 1, 1]))), points);
  }
  const axis = (lo: Value, hi: Value, wlo: Value, whi: Value, part: (v: Value) => Value, d: number): AxisTaps => ({
    index: b.cast(stack(b, [clamp(b, part(lo), 0, d - 1), clamp(b, part(hi), 0, d - 1)]), 'i64'),
    weight: stack(b, [part(wlo), part(whi)]),
    valid: null,
  });
  const batch = b.reshape(batchIndices.dtype === 'i64' ? batchIndices : b.cast(batchIndices, 'i64'), [R!, 1, 1, 1, 1]);
  const rows = sampleRows(b, rowTable(b, x), [H, W], batch, [
    axis(ty.lo, ty.hi, ty.wlo, ty.whi, yPart, H),
    axis(tx.lo, tx.hi, tx.wlo, tx.whi, xPart, W),
  ]); // [R, oh, Gh, ow, Gw, 4, C]
  const sampleMask = (v: Value, fill: number): Value => {
    const m = used ? b.and(inside, used) : inside;
    return b.where(b.reshape(m, [...points, 1, 1]), v, b.like(v, fill));
  };
  let y: Value;
  if (mode === 'avg') {
    const sums = b.reduce('sum', sampleMask(rows, 0), [2, 4, 5], false); // [R, oh, ow, C]
    const count = grids ? perRoi(grids.h.map((h, i) => Math.max(h * grids!.w[i]!, 1))) : k(Math.max(ratio * ratio, 1));
    y = b.div(sums, b.reshape(count, [R!, 1, 1, 1].slice(0, grids ? 4 : 0)));
  } else {
    // The larger of the four weighted corners of each sample, then the largest sample; a sample
    // outside the map weighs its corners by 0, as the reference does.
    const corners = b.reduce('max', sampleMask(rows, 0), [5], false); // [R, oh, Gh, ow, Gw, C]
    const masked = used ? b.where(b.reshape(used, [...points, 1]), corners, b.like(corners, -Infinity)) : corners;
    y = b.reduce('max', masked, [2, 4], false);
    if (grids?.h.some((h, i) => h * grids!.w[i]! === 0)) {
      const any = perRoi(grids.h.map((h, i) => (h * grids!.w[i]! > 0 ? 1 : 0)));
      y = b.where(b.reshape(b.lt(k(0), any), [R!, 1, 1, 1]), y, b.like(y, 0));
    }
  }
  return [b.permute(y, [0, 3, 1, 2])];
}

defineOnnxOps(
  { type: 'DepthToSpace', since: 1, lower: lowerDepthToSpace },
  { type: 'SpaceToDepth', since: 1, lower: lowerSpaceToDepth },
  { type: 'AffineGrid', since: 20, lower: lowerAffineGrid },
  { type: 'GridSample', since: 16, lower: lowerGridSample },
  { type: 'RoiAlign', since: 10, lower: lowerRoiAlign },
);
