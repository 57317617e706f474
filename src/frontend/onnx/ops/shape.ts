// ONNX shape and movement ops: constants and shape queries, reshapes, transposes, concatenation,
// slicing and padding, broadcasting generators (Expand, Tile, Range, EyeLike, Trilu). Shapes that a
// rule needs as numbers (a Reshape's target) must be constants; the builder folds Shape→Gather→Concat
// chains into constants as they are lowered, so such chains in a model are constants here. Where such
// a chain reads a symbolic dim, Reshape/Expand/ConstantOfShape/Range trace it (shape-trace.ts)
// and keep the symbol: x.view(x.size(0), -1) on f32[N,3,4] is f32[N,12].
import { dimDiv, dimMul, dimProduct, dimSub } from '../../../ir/dim-expr.js';
import { dtypeFromOnnx, isFloat, type DType } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import { broadcastShapes, isStatic, numel, type Dim, type Shape } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { symbolicShapeOperand, traceInts } from './shape-trace.js';

/** ONNX's "to the end" (INT64_MAX) and friends, clamped to a size every rule and printer handles. */
const HUGE = 2 ** 62;
const clampHuge = (v: number): number => Math.max(-HUGE, Math.min(HUGE, v));

/**
 * The result dims of an ONNX Reshape: 0 copies the input dim (unless allowzero), -1 is inferred.
 * Symbolic dims are polynomials (src/ir/dim-expr.ts): [N,3,4] → [0,-1] is [N,12], → [-1] is [12*N].
 */
export function reshapeDims(ctx: LowerContext, input: Shape, spec: readonly Dim[], allowzero: boolean): Dim[] {
  let infer = -1;
  const out: Dim[] = spec.map((s, i) => {
    if (typeof s === 'string') return s;
    if (!Number.isInteger(s) || s < -1) return ctx.fail(`shape entry ${s} is invalid`);
    if (s === -1) {
      if (infer >= 0) ctx.fail('shape has more than one -1');
      infer = i;
      return 1;
    }
    if (s === 0 && !allowzero) {
      if (i >= input.length) ctx.fail(`shape entry ${i} is 0 but the input has rank ${input.length}`);
      return input[i]!;
    }
    return s;
  });
  const total = dimProduct(input);
  const show = `[${input.join(',')}] to [${spec.join(',')}]`;
  const known = dimProduct(out);
  if (infer >= 0) {
    const q = dimDiv(total, known);
    if (q === undefined) {
      if (typeof total === 'number' && typeof known === 'number') ctx.fail(`cannot reshape ${show}`);
      ctx.unsupported(`cannot infer -1 reshaping ${show}: ${total} is not a known multiple of ${known}`);
    }
    out[infer] = q;
  } else if (known !== total) {
    if (typeof total === 'number' && typeof known === 'number') ctx.fail(`cannot reshape ${show}: element counts differ`);
    // A size that cannot be shown equal to the input's would be a guess; refuse rather than mis-shape.
    ctx.unsupported(`reshaping ${show}: cannot show that ${known} elements are ${total}`);
  }
  return out;
}

/** Normalize axes against a rank, rejecting duplicates. */
export function normAxes(ctx: LowerContext, axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => ctx.axis(a, rank, what));
  if (new Set(out).size !== out.length) ctx.fail(`${what} [${axes.join(',')}] repeat an axis`);
  return out;
}

/** The axes of a Squeeze/Unsqueeze: an attribute before opset 13, the second input from 13. */
function squeezeAxes(ctx: LowerContext): number[] | undefined {
  if (ctx.opset < 13) return ctx.node.has('axes') ? [...ctx.node.ints('axes')] : undefined;
  return ctx.constInts(1, 'axes');
}

/** A constant scalar or 1-element operand as a number. */
function scalarOf(ctx: LowerContext, i: number, what: string): number {
  const t = ctx.requireConstant(i, what);
  if (t.size !== 1) ctx.fail(`${what} must have one element, has shape [${t.shape.join(',')}]`);
  return t.num(0);
}

/** A dtype given as an ONNX TensorProto.DataType number. */
export function onnxDType(ctx: LowerContext, code: number): DType {
  try {
    return dtypeFromOnnx(code);
  } catch {
    return ctx.unsupported(`element type ${code} is not supported`);
  }
}

/** Pad every axis of x by gathering: out index i reads input index map(i - begin) (reflect/edge/wrap). */
function padByGather(ctx: LowerContext, x: Value, pads: readonly number[], mode: string): Value {
  const { b } = ctx;
  const r = x.shape.length;
  let y = x;
  for (let a = 0; a < r; a++) {
    const pb = pads[a]!;
    const pe = pads[a + r]!;
    if (pb === 0 && pe === 0) continue;
    const d = x.shape[a]!;
    if (typeof d !== 'number') return ctx.unsupported(`${mode} padding of the symbolic dim ${d}`);
    // Crop first (negative pads), then pad what is left.
    const lo = Math.max(0, -pb);
    const n = d - lo - Math.max(0, -pe);
    const before = Math.max(0, pb);
    const total = n + before + Math.max(0, pe);
    if (d + pb + pe < 0) ctx.fail(`pads make axis ${a} negative`);
    if (n <= 0 && total > 0) ctx.fail(`${mode} padding needs a non-empty axis ${a}`);
    const idx: number[] = [];
    for (let i = 0; i < total; i++) {
      let j = i - before;
      if (mode === 'edge') j = Math.min(Math.max(j, 0), n - 1);
      else if (mode === 'wrap') j = ((j % n) + n) % n;
      else if (n === 1) j = 0;
      else {
        const period = 2 * (n - 1);
        j = ((j % period) + period) % period;
        if (j >= n) j = period - j;
      }
      idx.push(j + lo);
    }
    y = b.gather(y, b.ints(idx), a);
  }
  return y;
}

/** Pads as [begin_0…begin_r-1, end_0…end_r-1] for all axes, from pads over `axes`. */
function fullPads(ctx: LowerContext, pads: readonly number[], axes: readonly number[] | undefined, rank: number): number[] {
  const ax = axes ? normAxes(ctx, axes, rank) : [...Array(rank).keys()];
  if (pads.length !== 2 * ax.length) ctx.fail(`pads has ${pads.length} entries, expected ${2 * ax.length}`);
  const out = new Array<number>(2 * rank).fill(0);
  ax.forEach((a, i) => {
    out[a] = pads[i]!;
    out[a + rank] = pads[i + ax.length]!;
  });
  return out;
}

function lowerPad(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const x = ctx.arg(0);
  const r = x.shape.length;
  const mode = node.str('mode', 'constant');
  let pads: number[];
  let value: Value | number = 0;
  if (ctx.opset < 11) {
    pads = fullPads(ctx, node.ints(ctx.opset < 2 ? 'paddings' : 'pads'), undefined, r);
    value = node.float('value', 0);
  } else {
    const axes = ctx.opset >= 18 ? ctx.constInts(3, 'axes') : undefined;
    pads = fullPads(ctx, ctx.constInts(1, 'pads') ?? ctx.fail('input 1 (pads) is required'), axes, r);
    const cv = ctx.input(2);
    if (cv) {
      const c = ctx.constant(2);
      if (c && c.size !== 1) ctx.fail('constant_value must have one element');
      value = c ? c.num(0) : b.reshape(cv, []);
    }
  }
  switch (mode) {
    case 'constant': {
      if (typeof value === 'number') return b.pad(x, pads, value);
      // A run-time fill value: pad with 0 and select the value where a padded mask is false.
      if (value.dtype !== x.dtype) ctx.fail(`constant_value is ${value.dtype}, data is ${x.dtype}`);
      const inside = b.pad(b.broadcast(b.scalar('bool', true), x.shape), pads, 0);
      return b.where(inside, b.pad(x, pads, 0), value);
    }
    case 'reflect':
    case 'edge':
    case 'wrap':
      if (mode === 'wrap' && ctx.opset < 19) ctx.fail('mode wrap needs opset 19');
      return padByGather(ctx, x, pads, mode);
    default:
      return ctx.fail(`unknown mode "${mode}"`);
  }
}

/** Slice parameters of a Slice node (attributes before opset 10, inputs from 10). */
function lowerSlice(ctx: LowerContext): Value {
  const { node } = ctx;
  const x = ctx.arg(0);
  const r = x.shape.length;
  let starts: readonly number[];
  let ends: readonly number[];
  let axes: readonly number[] | undefined;
  let steps: readonly number[] | undefined;
  if (ctx.opset < 10) {
    starts = node.ints('starts');
    ends = node.ints('ends');
    axes = node.has('axes') ? node.ints('axes') : undefined;
  } else {
    axes = ctx.constInts(3, 'axes');
    steps = ctx.constInts(4, 'steps');
    if (ctx.input(1) && ctx.input(2) && (!ctx.constant(1) || !ctx.constant(2))) {
      const y = dynamicSlice(ctx, x, axes, steps);
      if (y) return y;
    }
    starts = ctx.constInts(1, 'starts') ?? ctx.fail('input 1 (starts) is required');
    ends = ctx.constInts(2, 'ends') ?? ctx.fail('input 2 (ends) is required');
  }
  const ax = normAxes(ctx, axes ?? starts.map((_, i) => i), r);
  const st = steps ?? ax.map(() => 1);
  if (starts.length !== ax.length || ends.length !== ax.length || st.length !== ax.length) {
    ctx.fail(`starts, ends, axes and steps differ in length (${starts.length}, ${ends.length}, ${ax.length}, ${st.length})`);
  }
  if (st.some((s) => s === 0)) ctx.fail('steps must not be 0');
  const order = ax.map((_, i) => i).sort((i, j) => ax[i]! - ax[j]!);
  // A whole-axis slice of a symbolic dim (the common x[:, 1:] on a batch) is dropped here.
  const keep = order.filter((i) => {
    const d = x.shape[ax[i]!]!;
    return !(typeof d === 'string' && starts[i] === 0 && st[i] === 1 && ends[i]! >= 2 ** 31 - 1);
  });
  if (keep.length === 0) return x;
  return ctx.b.slice(x, keep.map((i) => ax[i]!), keep.map((i) => clampHuge(starts[i]!)),
    keep.map((i) => clampHuge(ends[i]!)), keep.map((i) => clampHuge(st[i]!)));
}

/**
 * A Slice whose starts and ends are run-time values a fixed distance apart (x[i : i + 1] in a loop
 * body): a gather of start + step·iota(len). Where ONNX would clamp (the window leaves the axis, or
 * a negative start crosses zero) the length would change, so there the gather reads an out-of-range
 * index and fails at run time instead of giving a wrong result.
 */
function dynamicSlice(ctx: LowerContext, x: Value, axes: readonly number[] | undefined, steps: readonly number[] | undefined): Value | undefined {
  const { b } = ctx;
  const startsV = ctx.arg(1);
  const endsV = ctx.arg(2);
  const s = traceInts(startsV, true);
  const e = traceInts(endsV, true);
  if (!s || !e || s.length !== e.length) return undefined;
  const ax = normAxes(ctx, axes ?? s.map((_, i) => i), x.shape.length);
  const st = steps ?? ax.map(() => 1);
  if (st.length !== ax.length || ax.length !== s.length) return undefined;
  let y = x;
  for (let i = 0; i < ax.length; i++) {
    const a = ax[i]!;
    const step = st[i]!;
    const si = s[i]!;
    const ei = e[i]!;
    if (typeof si === 'number' && typeof ei === 'number') {
      y = b.slice(y, [a], [clampHuge(si)], [clampHuge(ei)], [step]);
      continue;
    }
    const diff = dimSub(ei, si);
    const d = x.shape[a]!;
    if (typeof diff !== 'number' || step <= 0 || typeof d !== 'number') return undefined;
    const len = Math.max(0, Math.ceil(diff / step));
    const i64 = (v: number): Value => b.scalar('i64', BigInt(v));
    const start = b.cast(b.reshape(b.slice(startsV, [0], [i], [i + 1]), []), 'i64');
    const from = b.where(b.lt(start, i64(0)), b.add(start, i64(d)), start);
    // In range, and a negative start does not cross zero (ONNX would read an empty slice there).
    const inside = b.and(b.not(b.lt(from, i64(0))), b.lt(b.add(from, i64(Math.max(0, len - 1) * step)), i64(d)));
    const ok = b.and(inside, b.or(b.not(b.lt(start, i64(0))), b.lt(b.add(start, i64(diff)), i64(0))));
    const idx = b.add(from, b.mul(b.iota('i64', [len], 0), i64(step)));
    y = b.gather(y, len === 0 ? b.ints([]) : b.where(ok, idx, i64(d)), a);
  }
  return y;
}

function lowerSplit(ctx: LowerContext): Value[] {
  const { node } = ctx;
  const x = ctx.arg(0);
  const axis = ctx.axis(node.int('axis', 0), x.shape.length);
  const d = x.shape[axis]!;
  if (typeof d !== 'number') return ctx.unsupported(`splitting the symbolic dim ${d}`);
  const k = ctx.numOutputs;
  let sizes: number[] | undefined;
  if (ctx.opset >= 13) sizes = ctx.constInts(1, 'split');
  else if (node.has('split')) sizes = [...node.ints('split')];
  else if (ctx.opset < 2) sizes = ctx.constInts(1, 'split');
  if (!sizes) {
    if (ctx.opset >= 18 && node.has('num_outputs')) {
      const n = node.int('num_outputs');
      if (n !== k) ctx.fail(`num_outputs is ${n} but the node has ${k} outputs`);
      // Chunks of ceil(d/n); the last one is smaller when d does not divide.
      const chunk = Math.ceil(d / n);
      sizes = [...Array(n).keys()].map((i) => Math.max(0, Math.min(chunk, d - i * chunk)));
    } else {
      if (d % k !== 0) ctx.fail(`dim ${d} does not split into ${k} equal parts`);
      sizes = new Array<number>(k).fill(d / k);
    }
  }
  if (sizes.length !== k) ctx.fail(`split has ${sizes.length} entries for ${k} outputs`);
  if (sizes.some((s) => s < 0) || sizes.reduce((a, s) => a + s, 0) !== d) ctx.fail(`split [${sizes.join(',')}] does not add up to dim ${d}`);
  let off = 0;
  return sizes.map((s) => {
    const y = ctx.b.slice(x, [axis], [off], [off + s]);
    off += s;
    return y;
  });
}

/** Values start + i·delta for i < max(ceil((limit-start)/delta), 0), in the operands' dtype. */
function lowerRange(ctx: LowerContext): Value {
  const { b } = ctx;
  const dtype = ctx.arg(0).dtype;
  // range(0, n, 1) with n a symbolic dim (the length of a symbolic axis) is an iota of that length.
  const limitV = ctx.input(1);
  if (limitV && !ctx.constant(1) && ctx.constant(0) && ctx.constant(2)) {
    const n = traceInts(limitV);
    if (n?.length === 1 && typeof n[0] === 'string' && scalarOf(ctx, 0, 'start') === 0 && scalarOf(ctx, 2, 'delta') === 1) {
      return b.iota(dtype, [n[0]], 0);
    }
  }
  const [start, limit, delta] = [0, 1, 2].map((i) => scalarOf(ctx, i, ['start', 'limit', 'delta'][i]!)) as [number, number, number];
  if (delta === 0) ctx.fail('delta must not be 0');
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  if (!Number.isFinite(n)) ctx.fail(`range of ${start} to ${limit} by ${delta} is infinite`);
  // Floats are computed in double and rounded once, so a long f16 ramp does not drift. A short range is
  // a constant (it often feeds axes or indices that other rules need as constants).
  if (n <= b.foldLimit) return b.const(Tensor.from(dtype, [n], [...Array(n).keys()].map((i) => start + i * delta)));
  const wide: DType = isFloat(dtype) ? 'f64' : dtype;
  const iota = b.iota(wide, [n], 0);
  const lit = (v: number): Value => b.scalar(wide, wide === 'i64' || wide === 'u64' ? BigInt(Math.trunc(v)) : v);
  return b.cast(b.add(b.mul(iota, lit(delta)), lit(start)), dtype);
}

/** The shape of a Reshape/Expand/ConstantOfShape/Tile operand, as integers. */
function shapeOperand(ctx: LowerContext, i: number, what: string): number[] {
  const t = ctx.requireConstant(i, what);
  if (t.rank > 1) ctx.fail(`${what} must be 1-D, has shape [${t.shape.join(',')}]`);
  return t.toNumbers();
}

defineOnnxOps(
  {
    type: 'Constant',
    since: 1,
    lower(ctx) {
      const { b, node } = ctx;
      const forms = ['value', 'sparse_value', 'value_float', 'value_floats', 'value_int', 'value_ints', 'value_string', 'value_strings']
        .filter((a) => node.has(a));
      if (forms.length !== 1) ctx.fail(`needs exactly one value attribute, has ${forms.length === 0 ? 'none' : forms.join(', ')}`);
      const form = forms[0]!;
      switch (form) {
        case 'value':
        case 'sparse_value':
          return [b.const(node.tensor(form))];
        case 'value_float':
          return [b.scalar('f32', node.float(form))];
        case 'value_floats': {
          const v = node.floats(form);
          return [b.const(Tensor.from('f32', [v.length], v))];
        }
        case 'value_int':
          return [b.scalar('i64', BigInt(node.int(form)))];
        case 'value_ints':
          return [b.ints(node.ints(form))];
        default:
          return ctx.unsupported(`${form}: aic has no string tensors`);
      }
    },
  },
  {
    type: 'ConstantOfShape',
    since: 9,
    lower(ctx) {
      const shape = symbolicShapeOperand(ctx, 0, 'shape');
      if (shape.some((d) => typeof d === 'number' && (!Number.isInteger(d) || d < 0))) ctx.fail(`shape [${shape.join(',')}] has a negative dim`);
      const value = ctx.node.has('value') ? ctx.node.tensor('value') : Tensor.scalar('f32', 0);
      if (value.size !== 1) ctx.fail(`value must have one element, has shape [${value.shape.join(',')}]`);
      return [ctx.b.broadcast(ctx.b.const(value.reshape([])), shape)];
    },
  },
  {
    type: 'Shape',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const r = x.shape.length;
      const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const s = clamp(ctx.node.int('start', 0));
      const e = Math.max(s, clamp(ctx.node.int('end', r)));
      const dims = x.shape.slice(s, e);
      if (isStatic(dims)) return [ctx.b.ints(dims)];
      const all = ctx.b.op1('prim.shape', [x]);
      return [s === 0 && e === r ? all : ctx.b.slice(all, [0], [s], [e])];
    },
  },
  {
    type: 'Size',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      if (isStatic(x.shape)) return [ctx.b.scalar('i64', BigInt(numel(x.shape)))];
      return [ctx.b.reduce('prod', ctx.b.op1('prim.shape', [x]), [0], false)];
    },
  },
  {
    type: 'Reshape',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const spec = ctx.opset < 5 ? [...ctx.node.ints('shape')] : symbolicShapeOperand(ctx, 1, 'shape');
      const allowzero = ctx.opset >= 14 && ctx.node.int('allowzero', 0) !== 0;
      return [ctx.b.reshape(x, reshapeDims(ctx, x.shape, spec, allowzero))];
    },
  },
  {
    type: 'Flatten',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const r = x.shape.length;
      const raw = ctx.node.int('axis', 1);
      const axis = raw < 0 ? raw + r : raw;
      if (axis < 0 || axis > r) ctx.fail(`axis ${raw} is out of range for rank ${r}`);
      return [ctx.b.reshape(x, [dimProduct(x.shape.slice(0, axis)), dimProduct(x.shape.slice(axis))])];
    },
  },
  {
    type: 'Squeeze',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const r = x.shape.length;
      const given = squeezeAxes(ctx);
      let axes: number[];
      if (given) {
        axes = normAxes(ctx, given, r);
        for (const a of axes) {
          const d = x.shape[a]!;
          if (typeof d === 'number' && d !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${d}`);
        }
      } else {
        const sym = x.shape.find((d) => typeof d === 'string');
        if (sym !== undefined) return ctx.unsupported(`squeeze without axes: whether the symbolic dim ${sym} is 1 is not known`);
        axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      }
      return [ctx.b.reshape(x, x.shape.filter((_, i) => !axes.includes(i)))];
    },
  },
  {
    type: 'Unsqueeze',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const given = squeezeAxes(ctx) ?? ctx.fail('axes are required');
      const rank = x.shape.length + given.length;
      const axes = normAxes(ctx, given, rank);
      const out: Dim[] = [];
      let k = 0;
      for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x.shape[k++]!);
      return [ctx.b.reshape(x, out)];
    },
  },
  {
    type: 'Transpose',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const r = x.shape.length;
      const perm = ctx.node.has('perm') ? ctx.node.ints('perm') : [...Array(r).keys()].reverse();
      if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
        ctx.fail(`perm [${perm.join(',')}] is not a permutation of rank ${r}`);
      }
      return [ctx.b.permute(x, perm)];
    },
  },
  {
    type: 'Concat',
    since: 1,
    lower(ctx) {
      const xs = [...Array(ctx.numInputs).keys()].map((i) => ctx.arg(i));
      const r = xs[0]!.shape.length;
      if (r === 0) ctx.fail('cannot concatenate scalars');
      const axis = ctx.axis(ctx.node.int('axis', ctx.opset < 4 ? 1 : undefined), r);
      const dtype = xs[0]!.dtype;
      if (xs.some((x) => x.dtype !== dtype)) ctx.fail(`operands have different dtypes (${xs.map((x) => x.dtype).join(', ')})`);
      // Empty operands add nothing; dropping them keeps the concat of a symbolic dim possible.
      const parts = xs.filter((x) => x.shape[axis] !== 0);
      return [parts.length === 0 ? xs[0]! : ctx.b.concat(parts, axis)];
    },
  },
  { type: 'Split', since: 1, lower: lowerSplit },
  { type: 'Slice', since: 1, lower: (ctx) => [lowerSlice(ctx)] },
  { type: 'Pad', since: 1, lower: (ctx) => [lowerPad(ctx)] },
  {
    type: 'Expand',
    since: 8,
    lower(ctx) {
      const x = ctx.arg(0);
      const shape = symbolicShapeOperand(ctx, 1, 'shape');
      const out = ctx.run(() => broadcastShapes(x.shape, shape));
      return [ctx.b.broadcast(x, out)];
    },
  },
  {
    type: 'Tile',
    since: 6,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const reps = shapeOperand(ctx, 1, 'repeats');
      const r = x.shape.length;
      if (reps.length !== r) ctx.fail(`repeats has ${reps.length} entries for rank ${r}`);
      if (reps.some((n) => !Number.isInteger(n) || n < 0)) ctx.fail(`repeats [${reps.join(',')}] must be non-negative`);
      if (reps.every((n) => n === 1)) return [x];
      // [d0, d1] tiled by [r0, r1] is [1,d0,1,d1] broadcast to [r0,d0,r1,d1], then merged.
      const split: Dim[] = [];
      const wide: Dim[] = [];
      const out: Dim[] = [];
      x.shape.forEach((d, i) => {
        const n = reps[i]!;
        if (n === 1) {
          split.push(d);
          wide.push(d);
          out.push(d);
          return;
        }
        split.push(1, d);
        wide.push(n, d);
        out.push(dimMul(n, d));
      });
      return [b.reshape(b.broadcast(b.reshape(x, split), wide), out)];
    },
  },
  { type: 'Range', since: 11, lower: (ctx) => [lowerRange(ctx)] },
  {
    type: 'EyeLike',
    since: 9,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      if (x.shape.length !== 2) ctx.fail(`input must be 2-D, has shape [${x.shape.join(',')}]`);
      const dtype = ctx.node.has('dtype') ? onnxDType(ctx, ctx.node.int('dtype')) : x.dtype;
      const k = ctx.node.int('k', 0);
      const rows = b.iota('i64', x.shape, 0);
      const cols = b.iota('i64', x.shape, 1);
      return [b.cast(b.eq(b.add(rows, b.scalar('i64', BigInt(k))), cols), dtype)];
    },
  },
  {
    type: 'Trilu',
    since: 14,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const r = x.shape.length;
      if (r < 2) ctx.fail(`input must have rank 2 or more, has shape [${x.shape.join(',')}]`);
      const kIn = ctx.input(1);
      const k = kIn ? b.cast(b.reshape(kIn, []), 'i64') : b.scalar('i64', 0n);
      const mn = x.shape.slice(r - 2);
      const diff = b.sub(b.iota('i64', mn, 1), b.iota('i64', mn, 0)); // col - row
      const keep = ctx.node.int('upper', 1) !== 0 ? b.not(b.lt(diff, k)) : b.not(b.lt(k, diff));
      return [b.where(keep, x, b.like(x, 0))];
    },
  },
  {
    type: 'CenterCropPad',
    since: 18,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      const r = x.shape.length;
      const shape = shapeOperand(ctx, 1, 'shape');
      const axes = normAxes(ctx, ctx.node.has('axes') ? ctx.node.ints('axes') : [...Array(r).keys()], r);
      if (shape.length !== axes.length) ctx.fail(`shape has ${shape.length} entries for ${axes.length} axes`);
      const pads = new Array<number>(2 * r).fill(0);
      const crop: { axis: number; start: number; stop: number }[] = [];
      axes.forEach((a, i) => {
        const t = shape[i]!;
        const d = x.shape[a]!;
        if (t === d) return;
        if (typeof d !== 'number') ctx.unsupported(`cropping or padding the symbolic dim ${d}`);
        const dn = d as number;
        if (t < dn) {
          const start = Math.floor((dn - t) / 2);
          crop.push({ axis: a, start, stop: start + t });
        } else {
          pads[a] = Math.floor((t - dn) / 2);
          pads[a + r] = t - dn - pads[a]!;
        }
      });
      crop.sort((p, q) => p.axis - q.axis);
      const y = crop.length === 0 ? x : b.slice(x, crop.map((c) => c.axis), crop.map((c) => c.start), crop.map((c) => c.stop));
      return [b.pad(y, pads, 0)];
    },
  },
);
