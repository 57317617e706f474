// ONNX normalizations: the softmax family (Softmax, LogSoftmax, Hardmax) and the ops that rescale by
// statistics (LpNormalization, LayerNormalization, RMSNormalization, BatchNormalization,
// InstanceNormalization, GroupNormalization, MeanVarianceNormalization, LRN). Each is a few lines over
// the reductions of reduce.ts. Variances are two-pass (the mean of (x - mean)²), which stays at 0 for
// constant rows where E[x²] - E[x]² can come out negative.
import { A } from '../../../ir/attr.js';
import { dtypeFromOnnx, type DType } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import type { Dim } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { mean, range, reduce } from './reduce.js';

/** The axes a softmax normalizes over: one axis from opset 13; before, the input is coerced to 2-D at
 * `axis` (default 1), which is the same as normalizing over every axis from it on. */
function softmaxAxes(ctx: LowerContext, rank: number): number[] {
  if (ctx.opset >= 13) return [ctx.axis(ctx.node.int('axis', -1), rank)];
  return range(ctx.axis(ctx.node.int('axis', 1), rank), rank);
}

/** x - max(x), the stable argument of a softmax. */
function shifted(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  return b.sub(x, reduce(b, 'max', x, axes, true));
}

defineOnnxOps(
  {
    type: 'Softmax',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const axes = softmaxAxes(ctx, x.shape.length);
      const e = b.exp(shifted(b, x, axes));
      return [b.div(e, reduce(b, 'sum', e, axes, true))];
    },
  },
  {
    type: 'LogSoftmax',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const axes = softmaxAxes(ctx, x.shape.length);
      const d = shifted(b, x, axes);
      return [b.sub(d, b.log(reduce(b, 'sum', b.exp(d), axes, true)))];
    },
  },
  {
    // One-hot of the first maximum. Before opset 13 the axes from `axis` on are flattened into one.
    type: 'Hardmax',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const axes = softmaxAxes(ctx, x.shape.length);
      const axis = axes[0] ?? ctx.fail('Hardmax of a scalar');
      const dims = axes.map((a) => x.shape[a]!);
      if (axes.length > 1 && !dims.every((d) => typeof d === 'number')) ctx.unsupported('flattening symbolic dims');
      const flat = axes.length > 1 ? b.reshape(x, [...x.shape.slice(0, axis), (dims as number[]).reduce((p, d) => p * d, 1)]) : x;
      const first = b.op1('prim.argmax', [flat], { axis: A.int(axis), keepdims: A.int(1) });
      // The index ramp has extent 1 off the axis (a small constant once folded); eq broadcasts it.
      const ramp = b.iota('i64', flat.shape.map((d, i) => (i === axis ? d : 1)), axis);
      const hot = b.eq(ramp, first);
      return [b.reshape(b.cast(hot, x.dtype), x.shape)];
    },
  },
);

/** (x - mean) · 1/sqrt(var + epsilon) over `axes`, with the mean and that inverse deviation (dims kept). */
function standardize(b: GraphBuilder, x: Value, axes: readonly number[], epsilon: number): { y: Value; mean: Value; invStd: Value } {
  const mu = mean(b, x, axes, true);
  const d = b.sub(x, mu);
  const invStd = b.recip(b.sqrt(b.add(mean(b, b.mul(d, d), axes, true), b.like(x, epsilon))));
  return { y: b.mul(d, invStd), mean: mu, invStd };
}

/** The precision of stage one of LayerNorm, RMSNorm and GroupNorm (an ONNX element type; 1 is f32). */
const stashType = (ctx: LowerContext): DType => dtypeFromOnnx(ctx.node.int('stash_type', 1), 'stash_type');

const ones = (n: number): Dim[] => new Array<Dim>(Math.max(0, n)).fill(1);

/** A per-channel parameter ([C], or [C, D1, …]) lined up with axis 1 of a rank-`rank` input, in `dtype`. */
function perChannel(b: GraphBuilder, v: Value, rank: number, dtype: DType): Value {
  return b.cast(rank < 2 ? v : b.reshape(v, [...v.shape, ...ones(rank - 1 - v.shape.length)]), dtype);
}

/** The channel count (axis 1), which grouping and channel windows need as a number. */
function channels(ctx: LowerContext, x: Value): number {
  const c = x.shape[1] ?? ctx.fail(`input of rank ${x.shape.length} has no channel axis`);
  return typeof c === 'number' ? c : ctx.unsupported(`the channel dim ${c} is symbolic`);
}

defineOnnxOps(
  {
    // x / ‖x‖ₚ along axis; 0 where the norm is 0.
    type: 'LpNormalization',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const axes = [ctx.axis(ctx.node.int('axis', -1), x.shape.length)];
      const p = ctx.node.int('p', 2);
      const norm = p === 1 ? reduce(b, 'sum', b.abs(x), axes, true)
        : p === 2 ? b.sqrt(reduce(b, 'sum', b.mul(x, x), axes, true))
        : ctx.unsupported(`p = ${p} (ONNX defines 1 and 2)`);
      return [b.where(b.eq(norm, b.like(norm, 0)), b.like(x, 0), b.div(x, norm))];
    },
  },
  {
    // Stage one in stash_type over the axes from `axis` on; Mean and InvStdDev are its statistics.
    type: 'LayerNormalization',
    since: 17,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const axes = range(ctx.axis(ctx.node.int('axis', -1), rank), rank);
      const s = standardize(b, b.cast(x, stashType(ctx)), axes, ctx.node.float('epsilon', 1e-5));
      const scaled = b.mul(b.cast(s.y, x.dtype), ctx.arg(1));
      const bias = ctx.input(2);
      return [bias ? b.add(scaled, bias) : scaled, s.mean, s.invStd];
    },
  },
  {
    type: 'RMSNormalization',
    since: 23,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const scale = ctx.arg(1);
      const rank = x.shape.length;
      const axes = range(ctx.axis(ctx.node.int('axis', -1), rank), rank);
      const xs = b.cast(x, stashType(ctx));
      const rms = b.sqrt(b.add(mean(b, b.mul(xs, xs), axes, true), b.like(xs, ctx.node.float('epsilon', 1e-5))));
      return [b.mul(b.cast(b.cast(b.div(xs, rms), x.dtype), scale.dtype), scale)];
    },
  },
  {
    // Inference uses the given statistics. Training mode (opset 14+) uses the batch's, over every axis but
    // the channel (in f32 at least), and also returns the running statistics updated with momentum.
    type: 'BatchNormalization',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const eps = ctx.node.float('epsilon', 1e-5);
      const [scale, bias, inputMean, inputVar] = [1, 2, 3, 4].map((i) => ctx.arg(i)) as [Value, Value, Value, Value];
      const affine = (normalized: Value): Value =>
        b.add(b.mul(normalized, perChannel(b, scale, rank, x.dtype)), perChannel(b, bias, rank, x.dtype));
      if (ctx.opset < 14 || ctx.node.int('training_mode', 0) === 0) {
        const centered = b.sub(x, perChannel(b, inputMean, rank, x.dtype));
        const std = b.sqrt(b.add(perChannel(b, inputVar, rank, x.dtype), b.like(x, eps)));
        // scale / std is per channel (folded when the statistics are constants): one multiply per element
        // instead of a divide and a multiply, with the centring kept so x ≈ mean loses nothing.
        const gain = b.div(perChannel(b, scale, rank, x.dtype), std);
        return [b.add(b.mul(centered, gain), perChannel(b, bias, rank, x.dtype))];
      }
      const stat = x.dtype === 'f16' || x.dtype === 'bf16' ? 'f32' : x.dtype;
      const axes = range(0, rank).filter((a) => a !== 1);
      const xs = b.cast(x, stat);
      const mu = mean(b, xs, axes, true);
      const d = b.sub(xs, mu);
      const variance = mean(b, b.mul(d, d), axes, true);
      const y = affine(b.cast(b.div(d, b.sqrt(b.add(variance, b.like(variance, eps)))), x.dtype));
      const momentum = ctx.node.float('momentum', 0.9);
      const running = (given: Value, current: Value): Value => {
        const now = b.cast(b.reshape(current, given.shape), given.dtype);
        return b.add(b.mul(given, b.like(given, momentum)), b.mul(now, b.like(given, 1 - momentum)));
      };
      return [y, running(inputMean, mu), running(inputVar, variance)];
    },
  },
  {
    type: 'InstanceNormalization',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const s = standardize(b, x, range(2, rank), ctx.node.float('epsilon', 1e-5));
      return [b.add(b.mul(s.y, perChannel(b, ctx.arg(1), rank, x.dtype)), perChannel(b, ctx.arg(2), rank, x.dtype))];
    },
  },
  {
    // Statistics per instance per group of C/G channels, computed on the view [N, G, C/G, D1, …].
    // Opset 18 scales per group (scale and bias are [G]); from 21 per channel ([C]), stage one in stash_type.
    type: 'GroupNormalization',
    since: 18,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const c = channels(ctx, x);
      const g = ctx.node.int('num_groups');
      if (g <= 0 || c % g !== 0) ctx.fail(`num_groups ${g} does not divide the ${c} channels`);
      const perGroup = ctx.opset < 21;
      const grouped = b.reshape(b.cast(x, perGroup ? x.dtype : stashType(ctx)), [x.shape[0]!, g, c / g, ...x.shape.slice(2)]);
      const s = standardize(b, grouped, range(2, rank + 1), ctx.node.float('epsilon', 1e-5));
      if (perGroup) {
        const [scale, bias] = [ctx.arg(1), ctx.arg(2)].map((v) => b.cast(b.reshape(v, [g, ...ones(rank - 1)]), x.dtype)) as [Value, Value];
        return [b.reshape(b.add(b.mul(s.y, scale), bias), x.shape)];
      }
      const y = b.reshape(b.cast(s.y, x.dtype), x.shape);
      return [b.add(b.mul(y, perChannel(b, ctx.arg(1), rank, x.dtype)), perChannel(b, ctx.arg(2), rank, x.dtype))];
    },
  },
  {
    // (x - E x) / (sqrt(E (x - E x)²) + 1e-9) over `axes`, the epsilon of ONNX's function body.
    type: 'MeanVarianceNormalization',
    since: 9,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const axes = [...new Set(ctx.node.ints('axes', [0, 2, 3]).map((a) => ctx.axis(a, rank, 'axes')))].sort((p, q) => p - q);
      const d = b.sub(x, mean(b, x, axes, true));
      const std = b.sqrt(mean(b, b.mul(d, d), axes, true));
      return [b.div(d, b.add(std, b.like(x, 1e-9)))];
    },
  },
  {
    // x / (bias + alpha/size · Σ x²)^beta, the sum over a window of `size` channels around each one
    // (floor((size-1)/2) before, ceil((size-1)/2) after): a zero-padded sum of `size` shifted slices.
    type: 'LRN',
    since: 1,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const rank = x.shape.length;
      const c = channels(ctx, x);
      const size = ctx.node.int('size');
      if (size < 1) ctx.fail(`size ${size} must be positive`);
      const pads = new Array<number>(2 * rank).fill(0);
      pads[1] = Math.floor((size - 1) / 2);
      pads[rank + 1] = Math.ceil((size - 1) / 2);
      const padded = b.pad(b.mul(x, x), pads, 0);
      let sum = b.slice(padded, [1], [0], [c]);
      for (let k = 1; k < size; k++) sum = b.add(sum, b.slice(padded, [1], [k], [k + c]));
      const alpha = ctx.node.float('alpha', 1e-4);
      const base = b.add(b.like(x, ctx.node.float('bias', 1)), b.mul(b.like(x, alpha / size), sum));
      return [b.div(x, b.pow(base, b.like(x, ctx.node.float('beta', 0.75))))];
    },
  },
);
