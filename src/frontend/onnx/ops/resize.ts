// ONNX Resize (opsets 10, 11, 13, 18, 19) and Upsample (7, 9): separable interpolation.
//
// Scales, sizes and roi are compile-time constants, so every resized axis is a fixed table: for each
// output position, T input indices (clamped to the axis, as the reference's edge padding does) and T
// weights. An axis is then a gather of its taps and a weighted sum over them; nearest is the gather
// alone, and an axis whose table is the identity disappears:
//
//   %y = onnx.Resize(%x, , %scales) {mode="linear"} : f32[1,1,4]        // x f32[1,1,2], scales [1,1,2]
// becomes
//   %g = prim.gather(%x, %idx) {axis=2} : f32[1,1,4,2]                  // idx i64[4,2] = [[0,0],[0,1],[0,1],[1,1]]
//   %p = prim.mul(%g, %w) : f32[1,1,4,2]                                // w f32[4,2]: the taps' weights
//   %y = prim.reduce_sum(%p) {axes=[3], keepdims=0} : f32[1,1,4]
//
// Axes are resampled last to first, as the reference's recursion does; under tf_crop_and_resize the
// positions whose source lies outside the input take extrapolation_value after each axis.
import type { Value } from '../../../ir/graph.js';
import { isFloat } from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

type Mode = 'nearest' | 'linear' | 'cubic';

/** How one op instance resizes: the attributes, normalized across opset versions. */
interface ResizeSpec {
  mode: Mode;
  coordinates: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
  extrapolation: number;
}

/** One resized axis: output length, the scale the coordinate transform uses, and the roi. */
interface AxisPlan {
  axis: number;
  inLen: number;
  outLen: number;
  scale: number;
  roiStart: number;
  roiEnd: number;
}

/** The taps of one axis: for output o, indices idx[o·T + t] with weights w[o·T + t]; outside[o] under tf_crop_and_resize. */
interface AxisTable {
  taps: number;
  idx: number[];
  weights: number[];
  outside: boolean[] | undefined;
}

/** Where output position x of an axis reads the input, by coordinate_transformation_mode. */
function sourceCoordinate(spec: ResizeSpec, a: AxisPlan, x: number): number {
  const { inLen, outLen, scale } = a;
  // The reference measures the output in fractional units (scale · input length) in these formulas.
  const width = scale * inLen;
  switch (spec.coordinates) {
    case 'half_pixel':
      return (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inLen / 2) * (1 - outLen / width);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return width === 1 ? 0 : (x * (inLen - 1)) / (width - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const span = (a.roiEnd - a.roiStart) * (inLen - 1);
      return a.roiStart * (inLen - 1) + (width === 1 ? span / 2 : (x * span) / (width - 1));
    }
    default:
      return NaN;
  }
}

/** Keys' cubic convolution kernel with coefficient A. */
function cubicKernel(x: number, A: number): number {
  const t = Math.abs(x);
  if (t <= 1) return ((A + 2) * t - (A + 3)) * t * t + 1;
  if (t < 2) return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A;
  return 0;
}

/**
 * The interpolation weights of the taps base+start … base+start+T−1 around a source coordinate whose
 * fractional part is `ratio` ∈ (0, 1] (an integer coordinate counts as ratio 1 of the pixel before).
 */
function tapWeights(spec: ResizeSpec, ratio: number, scale: number): { start: number; w: number[] } {
  if (spec.mode === 'linear') {
    if (!spec.antialias || scale >= 1) return { start: 0, w: [1 - ratio, ratio] };
    const start = Math.floor(-1 / scale) + 1;
    const w = Array.from({ length: 2 - 2 * start }, (_, i) => Math.min(1, Math.max(0, 1 - Math.abs((start + i - ratio) * scale))));
    const sum = w.reduce((p, v) => p + v, 0);
    return { start, w: w.map((v) => v / sum) };
  }
  const A = spec.cubicA;
  if (!spec.antialias || scale >= 1) {
    return { start: -1, w: [-1, 0, 1, 2].map((t) => cubicKernel(t - ratio, A)) };
  }
  const start = Math.floor(-2 / scale) + 1;
  const w = Array.from({ length: 2 - 2 * start }, (_, i) => cubicKernel(scale * (start + i - ratio), A));
  const sum = w.reduce((p, v) => p + v, 0);
  return { start, w: w.map((v) => v / sum) };
}

/** The nearest input index of a source coordinate, by nearest_mode. */
function nearestIndex(mode: string, x: number, scale: number): number {
  const f = Math.floor(x);
  if (f === x) return x;
  const r = x - f;
  switch (mode) {
    case 'round_prefer_floor': return r <= 0.5 ? f : f + 1;
    case 'round_prefer_ceil': return r < 0.5 ? f : f + 1;
    case 'floor': return f;
    case 'ceil': return f + 1;
    // Resize-10 and Upsample: ONNX Runtime's rule for these versions (round up when downsampling).
    case 'simple': return scale < 1 ? f + 1 : f;
    default: return NaN;
  }
}

function axisTable(spec: ResizeSpec, a: AxisPlan): AxisTable {
  const clamp = (i: number): number => Math.min(Math.max(i, 0), a.inLen - 1);
  const idx: number[] = [];
  const weights: number[] = [];
  const outside = spec.coordinates === 'tf_crop_and_resize' ? [] as boolean[] : undefined;
  let taps = 1;
  for (let o = 0; o < a.outLen; o++) {
    const x = sourceCoordinate(spec, a, o);
    outside?.push(x < 0 || x > a.inLen - 1);
    if (spec.mode === 'nearest') {
      idx.push(clamp(nearestIndex(spec.nearest, x, a.scale)));
      weights.push(1);
      continue;
    }
    const f = Math.floor(x);
    const ratio = f === x ? 1 : x - f;
    const base = x - ratio;
    const { start, w } = tapWeights(spec, ratio, a.scale);
    taps = w.length;
    if (spec.excludeOutside) {
      w.forEach((_, t) => {
        const i = base + start + t;
        if (i < 0 || i >= a.inLen) w[t] = 0;
      });
      const sum = w.reduce((p, v) => p + v, 0);
      w.forEach((v, t) => (w[t] = v / sum));
    }
    w.forEach((v, t) => {
      idx.push(clamp(base + start + t));
      weights.push(v);
    });
  }
  return { taps, idx, weights, outside };
}

/** Whether a table maps each output position to the same input position with weight 1. */
function isIdentity(a: AxisPlan, t: AxisTable): boolean {
  if (a.inLen !== a.outLen || t.outside?.some((o) => o)) return false;
  for (let o = 0; o < a.outLen; o++) {
    for (let k = 0; k < t.taps; k++) {
      const w = t.weights[o * t.taps + k]!;
      const i = t.idx[o * t.taps + k]!;
      if (w !== 0 && (i !== o || w !== 1)) return false;
    }
  }
  return true;
}

/** Resample x along one axis by its table. */
function resampleAxis(ctx: LowerContext, x: Value, a: AxisPlan, t: AxisTable, extrapolation: number): Value {
  const { b } = ctx;
  const rank = x.shape.length;
  const trailing = Array<number>(rank - a.axis - 1).fill(1);
  const index = (shape: number[]): Value => b.const(Tensor.from('i64', shape, t.idx.map(BigInt)));
  let y: Value;
  if (t.taps === 1 && t.weights.every((w) => w === 1)) {
    y = b.gather(x, index([a.outLen]), a.axis);
  } else {
    const g = b.gather(x, index([a.outLen, t.taps]), a.axis);
    const w = b.const(Tensor.from(x.dtype, [a.outLen, t.taps, ...trailing], t.weights));
    y = b.reduce('sum', b.mul(g, w), [a.axis + 1], false);
  }
  if (t.outside?.some((o) => o)) {
    const mask = b.const(Tensor.from('bool', [a.outLen, ...trailing], t.outside));
    y = b.where(mask, b.like(y, extrapolation), y);
  }
  return y;
}

/** Resample every planned axis, last to first. */
function resample(ctx: LowerContext, x: Value, spec: ResizeSpec, plans: AxisPlan[]): Value {
  if (spec.mode !== 'nearest' && !isFloat(x.dtype)) ctx.unsupported(`${spec.mode} interpolation of ${x.dtype} data`);
  let y = x;
  for (const a of [...plans].sort((p, q) => q.axis - p.axis)) {
    const t = axisTable(spec, a);
    if (!isIdentity(a, t)) y = resampleAxis(ctx, y, a, t, spec.extrapolation);
  }
  return y;
}

/** A constant float operand that may be omitted or empty (Resize's roi and scales). */
function optionalFloats(ctx: LowerContext, i: number, what: string): number[] | undefined {
  if (!ctx.input(i)) return undefined;
  const t = ctx.requireConstant(i, what);
  return t.size === 0 ? undefined : t.toNumbers();
}

/** Plans from scales or sizes over `axes`, by the rules of Resize 11+ (keep_aspect_ratio_policy from 18). */
function planAxes(ctx: LowerContext, x: Value, axes: number[], scales: number[] | undefined, sizes: number[] | undefined, roi: number[] | undefined): AxisPlan[] {
  const n = axes.length;
  if (scales && sizes) ctx.fail('takes scales or sizes, not both');
  if (!scales && !sizes) ctx.fail('needs scales or sizes');
  const given = (scales ?? sizes)!;
  if (given.length !== n) ctx.fail(`${scales ? 'scales' : 'sizes'} has ${given.length} entries for ${n} axes`);
  if (roi && roi.length !== 2 * n) ctx.fail(`roi has ${roi.length} entries for ${n} axes`);
  const inLens = axes.map((ax) => x.shape[ax]!);
  const plans: AxisPlan[] = [];
  const policy = ctx.opset >= 18 ? ctx.node.str('keep_aspect_ratio_policy', 'stretch') : 'stretch';
  let common: number | undefined;
  if (sizes && policy !== 'stretch') {
    const ratios = sizes.map((s, i) => s / staticLen(ctx, inLens[i]!));
    if (policy === 'not_larger') common = Math.min(...ratios);
    else if (policy === 'not_smaller') common = Math.max(...ratios);
    else ctx.fail(`unknown keep_aspect_ratio_policy "${policy}"`);
  }
  axes.forEach((axis, i) => {
    const dim = inLens[i]!;
    const roiStart = roi ? roi[i]! : 0;
    const roiEnd = roi ? roi[n + i]! : 1;
    if (typeof dim === 'string') {
      // A symbolic axis may only be left as it is (scale 1).
      if (scales?.[i] === 1) return;
      ctx.unsupported(`resizing the symbolic dim ${dim}`);
    }
    const inLen = dim;
    let outLen: number;
    let scale: number;
    if (scales) {
      scale = scales[i]!;
      if (!(scale > 0)) ctx.fail(`scales must be positive, got ${scale}`);
      outLen = Math.floor(inLen * scale * (ctx.opset >= 11 && ctx.node.str('coordinate_transformation_mode', 'half_pixel') === 'tf_crop_and_resize' ? roiEnd - roiStart : 1));
    } else if (common !== undefined) {
      scale = common;
      outLen = Math.floor(scale * inLen + 0.5);
    } else {
      outLen = sizes![i]!;
      scale = outLen / inLen;
    }
    if (!Number.isInteger(outLen) || outLen < 0) ctx.fail(`axis ${axis} would have length ${outLen}`);
    plans.push({ axis, inLen, outLen, scale, roiStart, roiEnd });
  });
  return plans;
}

function staticLen(ctx: LowerContext, d: number | string): number {
  return typeof d === 'number' ? d : ctx.unsupported(`resizing the symbolic dim ${d}`);
}

function lowerResize(ctx: LowerContext): Value[] {
  const x = ctx.arg(0);
  const rank = x.shape.length;
  const node = ctx.node;
  const mode = node.str('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear' && mode !== 'cubic') ctx.fail(`unknown mode "${mode}"`);
  if (ctx.opset < 11) {
    // Resize-10: (X, scales); asymmetric coordinates, as Upsample.
    if (mode === 'cubic') ctx.fail('cubic mode needs opset 11');
    const scales = ctx.requireConstant(1, 'scales').toNumbers();
    const spec: ResizeSpec = { mode, coordinates: 'asymmetric', nearest: 'simple', cubicA: -0.75, excludeOutside: false, antialias: false, extrapolation: 0 };
    return [resample(ctx, x, spec, planAxes(ctx, x, [...Array(rank).keys()], scales, undefined, undefined))];
  }
  const spec: ResizeSpec = {
    mode,
    coordinates: node.str('coordinate_transformation_mode', 'half_pixel'),
    nearest: node.str('nearest_mode', 'round_prefer_floor'),
    cubicA: node.float('cubic_coeff_a', -0.75),
    excludeOutside: node.int('exclude_outside', 0) !== 0,
    antialias: ctx.opset >= 18 && node.int('antialias', 0) !== 0,
    extrapolation: node.float('extrapolation_value', 0),
  };
  const coordinateModes = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
  if (ctx.opset < 13) coordinateModes.push('tf_half_pixel_for_nn');
  if (ctx.opset >= 19) coordinateModes.push('half_pixel_symmetric');
  if (!coordinateModes.includes(spec.coordinates)) ctx.fail(`unknown coordinate_transformation_mode "${spec.coordinates}"`);
  if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(spec.nearest)) ctx.fail(`unknown nearest_mode "${spec.nearest}"`);
  if (spec.antialias && mode === 'nearest') spec.antialias = false;
  const axes = ctx.opset >= 18 && node.has('axes') ? node.ints('axes').map((a) => ctx.axis(a, rank, 'axes')) : [...Array(rank).keys()];
  if (new Set(axes).size !== axes.length) ctx.fail(`axes [${axes.join(',')}] repeat an axis`);
  const roi = spec.coordinates === 'tf_crop_and_resize' ? optionalFloats(ctx, 1, 'roi') : undefined;
  if (spec.coordinates === 'tf_crop_and_resize' && !roi) ctx.fail('tf_crop_and_resize needs roi');
  const scales = optionalFloats(ctx, 2, 'scales');
  const sizes = ctx.input(3) ? ctx.constInts(3, 'sizes') : undefined;
  return [resample(ctx, x, spec, planAxes(ctx, x, axes, scales, sizes && sizes.length > 0 ? sizes : undefined, roi))];
}

/** Upsample (deprecated): Resize-10's semantics, with scales an attribute before opset 9. */
function lowerUpsample(ctx: LowerContext): Value[] {
  const x = ctx.arg(0);
  const mode = ctx.node.str('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') ctx.fail(`unknown mode "${mode}"`);
  const scales = ctx.opset < 9 ? [...ctx.node.floats('scales')] : ctx.requireConstant(1, 'scales').toNumbers();
  if (scales.some((s) => s < 1)) ctx.fail(`scales [${scales.join(',')}] must be at least 1`);
  const spec: ResizeSpec = { mode, coordinates: 'asymmetric', nearest: 'simple', cubicA: -0.75, excludeOutside: false, antialias: false, extrapolation: 0 };
  return [resample(ctx, x, spec, planAxes(ctx, x, [...Array(x.shape.length).keys()], scales, undefined, undefined))];
}

defineOnnxOps(
  { type: 'Resize', since: 10, lower: lowerResize },
  { type: 'Upsample', since: 7, lower: lowerUpsample },
);
