// ONNX indexing ops. Gather and ScatterElements are one prim each; the element-wise and N-D forms
// (GatherElements, GatherND, ScatterND, ReverseSequence) flatten the indexed dims and compute one
// linear index per element from the indices and iota ramps, then use prim.gather / prim.scatter.
import { numel, stridesOf, type Dim } from '../../../ir/shape.js';
import type { Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

const i64 = (ctx: LowerContext, v: number): Value => ctx.b.scalar('i64', BigInt(v));

/** Indices as i64 with negatives counted from the end of dims `dim` (a scalar or a vector broadcast on the last axis). */
function normIndices(ctx: LowerContext, idx: Value, dim: Value): Value {
  const { b } = ctx;
  if (idx.dtype !== 'i32' && idx.dtype !== 'i64') ctx.fail(`indices must be int32 or int64, are ${idx.dtype}`);
  const x = b.cast(idx, 'i64');
  return b.where(b.lt(x, i64(ctx, 0)), b.add(x, dim), x);
}

/** A static shape of an operand, or an E_UNSUPPORTED error naming it. */
const staticOf = (ctx: LowerContext, v: Value, what: string): number[] => ctx.staticShape(v, what);

/** Σ iota_j · stride_j over the axes of `shape` selected by `axes` (the row-major offset of each element). */
function offsets(ctx: LowerContext, shape: readonly Dim[], axes: readonly number[], strides: readonly number[]): Value | null {
  const { b } = ctx;
  let acc: Value | null = null;
  axes.forEach((a, j) => {
    if (shape[a] === 1 || strides[j] === 0) return;
    const term = b.mul(b.iota('i64', shape, a), i64(ctx, strides[j]!));
    acc = acc ? b.add(acc, term) : term;
  });
  return acc;
}

/** The linear index into data's dims [from, from+k) of each row of N-D indices [..., k]. */
function linearND(ctx: LowerContext, indices: Value, dims: readonly number[]): Value {
  const { b } = ctx;
  const q = indices.shape.length;
  const norm = normIndices(ctx, indices, b.ints(dims));
  return b.reduce('sum', b.mul(norm, b.ints(stridesOf(dims))), [q - 1], false);
}

function lowerGatherElements(ctx: LowerContext): Value {
  const { b } = ctx;
  const data = ctx.arg(0);
  const idx = ctx.arg(1);
  const shape = staticOf(ctx, data, 'data');
  const r = shape.length;
  if (idx.shape.length !== r) ctx.fail(`indices have rank ${idx.shape.length}, data has rank ${r}`);
  const axis = ctx.axis(ctx.node.int('axis', 0), r);
  const st = stridesOf(shape);
  const norm = normIndices(ctx, idx, i64(ctx, shape[axis]!));
  const others = [...Array(r).keys()].filter((a) => a !== axis);
  const off = offsets(ctx, idx.shape, others, others.map((a) => st[a]!));
  let flat = b.mul(norm, i64(ctx, st[axis]!));
  if (off) flat = b.add(flat, off);
  return b.gather(b.reshape(data, [numel(shape)]), flat, 0);
}

function lowerGatherND(ctx: LowerContext): Value {
  const { b } = ctx;
  const data = ctx.arg(0);
  const idx = ctx.arg(1);
  const shape = staticOf(ctx, data, 'data');
  const q = idx.shape.length;
  const bd = ctx.node.int('batch_dims', 0);
  if (q < 1) ctx.fail('indices must have rank 1 or more');
  const k = idx.shape[q - 1]!;
  if (typeof k !== 'number') return ctx.unsupported(`the last dim of indices is symbolic (${k})`);
  if (bd < 0 || bd >= q || bd + k > shape.length) ctx.fail(`batch_dims ${bd} and index length ${k} do not fit data [${shape.join(',')}] and indices [${idx.shape.join(',')}]`);
  const block = shape.slice(bd, bd + k);
  const rest = shape.slice(bd + k);
  const batch = shape.slice(0, bd);
  let lin = linearND(ctx, idx, block);
  if (bd > 0) {
    // Batch b of indices reads batch b of data: offset by b · (elements of one batch's block).
    const lead = idx.shape.slice(0, q - 1);
    const bst = stridesOf(batch).map((s) => s * numel(block));
    const off = offsets(ctx, lead, [...Array(bd).keys()], bst);
    if (off) lin = b.add(lin, off);
  }
  return b.gather(b.reshape(data, [numel(batch) * numel(block), ...rest]), lin, 0);
}

function lowerScatterND(ctx: LowerContext): Value {
  const { b } = ctx;
  const data = ctx.arg(0);
  const idx = ctx.arg(1);
  const upd = ctx.arg(2);
  const shape = staticOf(ctx, data, 'data');
  const ishape = staticOf(ctx, idx, 'indices');
  const q = ishape.length;
  if (q < 1) ctx.fail('indices must have rank 1 or more');
  const k = ishape[q - 1]!;
  if (k > shape.length) ctx.fail(`index length ${k} exceeds the rank of data [${shape.join(',')}]`);
  const rows = numel(shape.slice(0, k));
  const cols = numel(shape.slice(k));
  const n = numel(ishape.slice(0, q - 1));
  const want = [...ishape.slice(0, q - 1), ...shape.slice(k)];
  if (upd.shape.length !== want.length || upd.shape.some((d, i) => d !== want[i] && typeof d === 'number')) {
    ctx.fail(`updates [${upd.shape.join(',')}] should have shape [${want.join(',')}]`);
  }
  const reduction = ctx.opset >= 16 ? ctx.node.str('reduction', 'none') : 'none';
  // data as [rows, cols]: update row r of each [n, cols] slab lands on data row lin[r].
  const lin = b.broadcast(b.reshape(linearND(ctx, idx, shape.slice(0, k)), [n, 1]), [n, cols]);
  const out = b.scatter(b.reshape(data, [rows, cols]), lin, b.reshape(upd, [n, cols]), 0, reduction);
  return b.reshape(out, shape);
}

function lowerScatterElements(ctx: LowerContext): Value {
  const data = ctx.arg(0);
  const axis = ctx.axis(ctx.node.int('axis', 0), data.shape.length);
  const reduction = ctx.type === 'ScatterElements' && ctx.opset >= 16 ? ctx.node.str('reduction', 'none') : 'none';
  return ctx.b.scatter(data, ctx.arg(1), ctx.arg(2), axis, reduction);
}

/** ReverseSequence: within each batch entry, reverse the first seq_len[b] steps along the time axis. */
function lowerReverseSequence(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const lens = ctx.arg(1);
  const r = x.shape.length;
  if (r < 2) ctx.fail('input must have rank 2 or more');
  const ta = ctx.axis(ctx.node.int('time_axis', 0), r, 'time_axis');
  const ba = ctx.axis(ctx.node.int('batch_axis', 1), r, 'batch_axis');
  if (ta === ba) ctx.fail('time_axis and batch_axis must differ');
  const shape = staticOf(ctx, x, 'input');
  const T = shape[ta]!;
  const B = shape[ba]!;
  // Move to [B, T, rest…], read row b·T + t' with t' = t < len ? len-1-t : t, move back.
  const rest = [...Array(r).keys()].filter((a) => a !== ta && a !== ba);
  const perm = [ba, ta, ...rest];
  const moved = b.permute(x, perm);
  const len = b.reshape(b.cast(lens, 'i64'), [B, 1]);
  const t = b.iota('i64', [1, T], 1);
  const src = b.where(b.lt(t, len), b.sub(b.sub(len, i64(ctx, 1)), t), t);
  const rowsIdx = b.add(src, b.mul(b.iota('i64', [B, 1], 0), i64(ctx, T)));
  const flat = b.reshape(moved, [B * T, ...rest.map((a) => shape[a]!)]);
  const y = b.gather(flat, rowsIdx, 0);
  const inv = perm.map((_, i) => perm.indexOf(i));
  return b.permute(y, inv);
}

function lowerCompress(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const x = ctx.arg(0);
  const cond = ctx.requireConstant(1, 'condition');
  if (cond.rank !== 1) ctx.fail(`condition must be 1-D, has shape [${cond.shape.join(',')}]`);
  const flags = cond.toNumbers();
  const picked = flags.flatMap((f, i) => (f ? [i] : []));
  let data = x;
  let axis = 0;
  if (node.has('axis')) axis = ctx.axis(node.int('axis'), x.shape.length);
  else {
    const n = staticOf(ctx, x, 'input');
    data = b.reshape(x, [numel(n)]);
  }
  const d = data.shape[axis]!;
  if (typeof d === 'number' && picked.some((i) => i >= d)) ctx.fail(`condition selects index ${picked[picked.length - 1]} beyond dim ${d}`);
  return b.gather(data, b.const(Tensor.from('i64', [picked.length], picked.map(BigInt))), axis);
}

function lowerOneHot(ctx: LowerContext): Value {
  const { b } = ctx;
  const indices = ctx.arg(0);
  const depthT = ctx.requireConstant(1, 'depth');
  if (depthT.size !== 1) ctx.fail('depth must have one element');
  const depth = Math.trunc(depthT.num(0));
  if (!(depth >= 1)) ctx.fail(`depth ${depthT.num(0)} must be positive`);
  const values = ctx.arg(2);
  if (values.shape.length !== 1 || values.shape[0] !== 2) ctx.fail(`values must have shape [2], has [${values.shape.join(',')}]`);
  const r = indices.shape.length;
  const raw = ctx.node.int('axis', -1);
  const axis = raw < 0 ? raw + r + 1 : raw;
  if (axis < 0 || axis > r) ctx.fail(`axis ${raw} is out of range for rank ${r + 1}`);
  // Indices may be any numeric type (cast to integers); negative ones count from depth.
  const x = b.cast(indices, 'i64');
  const norm = b.where(b.lt(x, i64(ctx, 0)), b.add(x, i64(ctx, depth)), x);
  const expanded = b.reshape(norm, [...indices.shape.slice(0, axis), 1, ...indices.shape.slice(axis)]);
  const ramp = b.iota('i64', [...Array(r + 1).keys()].map((i) => (i === axis ? depth : 1)), axis);
  const off = b.reshape(b.slice(values, [0], [0], [1]), []);
  const on = b.reshape(b.slice(values, [0], [1], [2]), []);
  return b.where(b.eq(expanded, ramp), on, off);
}

defineOnnxOps(
  {
    type: 'Gather',
    since: 1,
    lower(ctx) {
      const data = ctx.arg(0);
      const idx = ctx.arg(1);
      if (idx.dtype !== 'i32' && idx.dtype !== 'i64') ctx.fail(`indices must be int32 or int64, are ${idx.dtype}`);
      return [ctx.b.gather(data, idx, ctx.axis(ctx.node.int('axis', 0), data.shape.length))];
    },
  },
  { type: 'GatherElements', since: 11, lower: (ctx) => [lowerGatherElements(ctx)] },
  { type: 'GatherND', since: 11, lower: (ctx) => [lowerGatherND(ctx)] },
  { type: 'ScatterElements', since: 11, lower: (ctx) => [lowerScatterElements(ctx)] },
  { type: 'Scatter', since: 9, lower: (ctx) => [lowerScatterElements(ctx)] },
  { type: 'ScatterND', since: 11, lower: (ctx) => [lowerScatterND(ctx)] },
  { type: 'ReverseSequence', since: 10, lower: (ctx) => [lowerReverseSequence(ctx)] },
  { type: 'Compress', since: 9, lower: (ctx) => [lowerCompress(ctx)] },
  { type: 'OneHot', since: 9, lower: (ctx) => [lowerOneHot(ctx)] },
);
