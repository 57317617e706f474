// ONNX reductions: the Reduce* family, ArgMax/ArgMin, and the scans CumSum/CumProd. A composite
// reduction is a formula over the four prim reductions (ReduceL2 = sqrt Σx², ReduceLogSumExp =
// m + log Σ exp(x - m) with m the row maximum where it is finite). Axes are an attribute before opset
// 13 (ReduceSum) or 18 (the others) and a constant input after; no axes reduce everything, unless
// noop_with_empty_axes makes the reduction an identity (composites still apply their pointwise steps).
import { A } from '../../../ir/attr.js';
import { isFloat } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps, type OnnxOp } from '../registry.js';

type ReduceKind = 'sum' | 'max' | 'min' | 'prod';

/** Integers i with from <= i < to. */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

/** A prim reduction; over no axes it is the operand itself. */
export function reduce(b: GraphBuilder, kind: ReduceKind, x: Value, axes: readonly number[], keep: boolean): Value {
  return axes.length === 0 ? x : b.reduce(kind, x, axes, keep);
}

/** How many elements a reduction over `axes` combines, as a scalar of x's dtype (from the run-time
 * shape where a reduced dim is symbolic). */
function countOf(b: GraphBuilder, x: Value, axes: readonly number[]): Value {
  const dims = axes.map((a) => x.shape[a]!);
  if (dims.every((d): d is number => typeof d === 'number')) return b.like(x, dims.reduce((p, d) => p * d, 1));
  const shape = b.op1('prim.shape', [x]);
  return b.cast(b.reduce('prod', b.gather(shape, b.ints(axes), 0), [0], false), x.dtype);
}

/** The mean over `axes` (integers divide truncating, as ONNX Runtime does). */
export function mean(b: GraphBuilder, x: Value, axes: readonly number[], keep: boolean): Value {
  return axes.length === 0 ? x : b.div(b.reduce('sum', x, axes, keep), countOf(b, x, axes));
}

/** Where v is finite (not ±inf, not NaN): v - v is 0 exactly there. */
const finite = (b: GraphBuilder, v: Value): Value => b.eq(b.sub(v, v), b.like(v, 0));

/** Run a float-only formula on any numeric dtype: integers go through f64 and convert back (truncating). */
function inFloat(b: GraphBuilder, x: Value, f: (x: Value) => Value): Value {
  return isFloat(x.dtype) ? f(x) : b.cast(f(b.cast(x, 'f64')), x.dtype);
}

/** The sorted axes a Reduce* node reduces; [] when it reduces nothing. */
function reductionAxes(ctx: LowerContext, rank: number, axesInput: boolean): number[] {
  const given = axesInput ? ctx.constInts(1, 'axes') : ctx.node.has('axes') ? ctx.node.ints('axes') : undefined;
  if (rank === 0) return [];
  if (!given || given.length === 0) return axesInput && ctx.node.int('noop_with_empty_axes', 0) !== 0 ? [] : range(0, rank);
  const axes = given.map((a) => ctx.axis(a, rank, 'axes')).sort((p, q) => p - q);
  if (axes.some((a, i) => i > 0 && a === axes[i - 1])) ctx.fail(`axes [${given.join(',')}] name an axis twice`);
  return axes;
}

/** A Reduce* op: `f` reduces x over `axes` (sorted, possibly empty) keeping dims or not. */
const reduction = (type: string, axesInputSince: number,
  f: (b: GraphBuilder, x: Value, axes: number[], keep: boolean) => Value): OnnxOp => ({
  type,
  since: 1,
  lower(ctx) {
    const x = ctx.arg(0);
    const axes = reductionAxes(ctx, x.shape.length, ctx.opset >= axesInputSince);
    return [f(ctx.b, x, axes, ctx.node.int('keepdims', 1) !== 0)];
  },
});

/** log Σ exp(x), shifted by the maximum so that large values do not overflow. Where the maximum is not
 * finite (all -inf, an empty set, +inf, NaN) the shift is 0 and the plain formula gives the right answer. */
function logSumExp(b: GraphBuilder, x: Value, axes: number[], keep: boolean): Value {
  const m = reduce(b, 'max', x, axes, true);
  const shift = b.where(finite(b, m), m, b.like(m, 0));
  const lse = b.log(reduce(b, 'sum', b.exp(b.sub(x, shift)), axes, keep));
  return b.add(lse, b.reshape(shift, lse.shape));
}

defineOnnxOps(
  reduction('ReduceSum', 13, (b, x, axes, keep) => reduce(b, 'sum', x, axes, keep)),
  reduction('ReduceMax', 18, (b, x, axes, keep) => reduce(b, 'max', x, axes, keep)),
  reduction('ReduceMin', 18, (b, x, axes, keep) => reduce(b, 'min', x, axes, keep)),
  reduction('ReduceProd', 18, (b, x, axes, keep) => reduce(b, 'prod', x, axes, keep)),
  reduction('ReduceMean', 18, (b, x, axes, keep) => mean(b, x, axes, keep)),
  reduction('ReduceL1', 18, (b, x, axes, keep) => reduce(b, 'sum', b.abs(x), axes, keep)),
  reduction('ReduceSumSquare', 18, (b, x, axes, keep) => reduce(b, 'sum', b.mul(x, x), axes, keep)),
  reduction('ReduceL2', 18, (b, x, axes, keep) => inFloat(b, x, (v) => b.sqrt(reduce(b, 'sum', b.mul(v, v), axes, keep)))),
  reduction('ReduceLogSum', 18, (b, x, axes, keep) => inFloat(b, x, (v) => b.log(reduce(b, 'sum', v, axes, keep)))),
  reduction('ReduceLogSumExp', 18, (b, x, axes, keep) => inFloat(b, x, (v) => logSumExp(b, v, axes, keep))),
);

/** ArgMax/ArgMin: one prim (select_last_index from opset 12; before, ties go to the first index). */
const argReduction = (type: string, prim: 'argmax' | 'argmin'): OnnxOp => ({
  type,
  since: 1,
  lower(ctx) {
    const x = ctx.arg(0);
    const axis = ctx.axis(ctx.node.int('axis', 0), x.shape.length);
    return [ctx.b.op1(`prim.${prim}`, [x], {
      axis: A.int(axis),
      keepdims: A.int(ctx.node.int('keepdims', 1) !== 0 ? 1 : 0),
      select_last_index: A.int(ctx.node.int('select_last_index', 0) !== 0 ? 1 : 0),
    })];
  },
});

defineOnnxOps(argReduction('ArgMax', 'argmax'), argReduction('ArgMin', 'argmin'));

/**
 * Inclusive scan of x along `axis` by Hillis–Steele: log2(n) steps y ← y ⊕ (y shifted by d), d = 1, 2, 4, …,
 * the shift filling with the identity. Exact for integers (they wrap as a sequential scan would) and it
 * keeps infinities and NaN where a sequential scan has them. `reverse` scans from the end.
 */
function scan(b: GraphBuilder, op: 'add' | 'mul', x: Value, axis: number, n: number, reverse: boolean): Value {
  let y = x;
  for (let d = 1; d < n; d *= 2) y = b.binary(op, y, shiftAlong(b, y, axis, d, reverse, op === 'add' ? 0 : 1));
  return y;
}

/** x moved d places along `axis` (toward the end, or toward the start when `back`), `fill` coming in. */
function shiftAlong(b: GraphBuilder, x: Value, axis: number, d: number, back: boolean, fill: number): Value {
  const rank = x.shape.length;
  const pads = new Array<number>(2 * rank).fill(0);
  pads[axis] = back ? -d : d;
  pads[rank + axis] = back ? d : -d;
  return b.pad(x, pads, fill);
}

/** CumSum (opset 11) and CumProd (opset 26): axis is a 0-D input; exclusive shifts by one first. */
const cumulative = (type: string, since: number, op: 'add' | 'mul'): OnnxOp => ({
  type,
  since,
  lower(ctx) {
    const x = ctx.arg(0);
    const [a] = ctx.constInts(1, 'axis') ?? ctx.fail('the axis input is required');
    const axis = ctx.axis(a ?? ctx.fail('axis is empty'), x.shape.length);
    const dim = x.shape[axis] ?? ctx.fail('a scalar has no axis to scan');
    const n = typeof dim === 'number' ? dim : ctx.unsupported(`scanning along the symbolic dim ${dim}`);
    const reverse = ctx.node.int('reverse', 0) !== 0;
    const start = ctx.node.int('exclusive', 0) !== 0 ? shiftAlong(ctx.b, x, axis, 1, reverse, op === 'add' ? 0 : 1) : x;
    return [scan(ctx.b, op, start, axis, n, reverse)];
  },
});

defineOnnxOps(cumulative('CumSum', 11, 'add'), cumulative('CumProd', 26, 'mul'));
