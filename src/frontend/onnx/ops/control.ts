// ONNX control flow and data-dependent ops: If, Loop, Scan → prim.if / prim.loop / prim.scan; TopK,
// NonZero, Unique → prim.topk / prim.nonzero / prim.unique; NonMaxSuppression decomposed into prims
// around a prim.loop (greedy selection), a prim.topk (score order) and a prim.nonzero (the selected set).
//
// Bodies: the importer types a body's inputs from the op's operands (`subgraphInputs`), and the rules
// lower a body again with the types it really gets: a Loop's carried value whose shape changes between
// iterations gets a symbolic dim there, found by lowering the body until its input types are a fixed point.
import { A, type Attr } from '../../../ir/attr.js';
import { GraphBuilder, constantOf } from '../../../ir/builder.js';
import { formatType, type Graph, type TensorType, type Value } from '../../../ir/graph.js';
import type { Dim } from '../../../ir/shape.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

// ---- helpers ----

const I64_SCALAR: TensorType = { dtype: 'i64', shape: [] };
const BOOL_SCALAR: TensorType = { dtype: 'bool', shape: [] };

let carriedCount = 0;

/** Where a loop-carried value leaves the body with other static dims than it entered, those dims become
 * symbols (the body is then lowered again with them). Returns `t` itself when nothing changes. */
function generalize(ctx: LowerContext, k: number, t: TensorType, out: TensorType): TensorType {
  if (t.dtype !== out.dtype || t.shape.length !== out.shape.length) {
    ctx.fail(`loop-carried value ${k} enters as ${formatType(t)} but the body yields ${formatType(out)} (dtype and rank must stay)`);
  }
  if (t.shape.every((d, i) => typeof d === 'string' || d === out.shape[i])) return t;
  return { dtype: t.dtype, shape: t.shape.map((d, i) => (typeof d === 'string' || d === out.shape[i] ? d : `_carried${carriedCount++}`)) };
}

/**
 * Lower a body whose carried inputs (at `carriedAt`, yielded at `yieldedAt`) start with the types in
 * `carried`; the other inputs take `fixed` (null: as imported). Lowers again until the carried types
 * are a fixed point (a dim that changes becomes a symbol).
 */
function lowerCarriedBody(ctx: LowerContext, body: Graph, fixed: readonly (TensorType | null)[], carried: readonly TensorType[],
  carriedAt: number, yieldedAt: number): Graph {
  let types = [...carried];
  for (let round = 0; ; round++) {
    const inputTypes = [...fixed];
    types.forEach((t, k) => {
      inputTypes[carriedAt + k] = t;
    });
    const lowered = ctx.lowerSubgraph(body, inputTypes);
    const next = types.map((t, k) => generalize(ctx, k, t, lowered.outputs[yieldedAt + k]!.type));
    if (next.every((t, k) => t === types[k])) return lowered;
    if (round >= 4) ctx.unsupported('the shapes of the loop-carried values do not settle');
    types = next;
  }
}

/** Splice a lowered branch (a graph without inputs) into the builder's graph; returns its results. */
function inline(b: GraphBuilder, g: Graph): Value[] {
  b.nodes.push(...g.nodes);
  return g.outputs;
}

/** x reversed along `axis` (a slice with step -1, or a gather when the dim is symbolic). */
function reverse(b: GraphBuilder, x: Value, axis: number): Value {
  const d = x.shape[axis]!;
  if (typeof d === 'number') return b.slice(x, [axis], [-1], [-(2 ** 62)], [-1]);
  const n = b.gather(b.op1('prim.shape', [x]), b.scalar('i64', BigInt(axis)), 0);
  const idx = b.sub(b.sub(n, b.scalar('i64', 1n)), b.iota('i64', [d], 0));
  return b.gather(x, idx, axis);
}

/** Move axis `from` of x to position `to`. */
function moveAxis(b: GraphBuilder, x: Value, from: number, to: number): Value {
  const perm = [...x.shape.keys()].filter((i) => i !== from);
  perm.splice(to, 0, from);
  return b.permute(x, perm);
}

const withoutAxis = (t: TensorType, axis: number): TensorType => ({ dtype: t.dtype, shape: t.shape.filter((_, i) => i !== axis) });

/** A scalar or one-element operand as a number (K of TopK, NMS limits), or the default when omitted. */
function constNumber(ctx: LowerContext, i: number, what: string, def: number): number {
  if (!ctx.input(i)) return def;
  const t = ctx.requireConstant(i, what);
  if (t.size !== 1) ctx.fail(`${what} must hold one value, it has shape [${t.shape.join(',')}]`);
  return t.num(0);
}

// ---- If, Loop, Scan ----

defineOnnxOps(
  {
    type: 'If',
    since: 1,
    subgraphInputs(node): Record<string, 'unused'> {
      // Under a condition fixed in the model, the branch not taken is not imported.
      const c = node.inputs[0] ? constantOf(node.inputs[0]) : undefined;
      if (!c || c.size !== 1) return {};
      return { [c.num(0) !== 0 ? 'else_branch' : 'then_branch']: 'unused' };
    },
    lower(ctx) {
      const cond = ctx.arg(0);
      const then = ctx.node.graph('then_branch');
      const els = ctx.node.graph('else_branch');
      // A condition fixed in the model (not a test input) picks its branch now.
      const c = constantOf(cond);
      if (c) {
        if (c.size !== 1) ctx.fail(`the condition has shape [${c.shape.join(',')}], expected one element`);
        return inline(ctx.b, ctx.lowerSubgraph(c.num(0) !== 0 ? then : els));
      }
      const t = ctx.lowerSubgraph(then);
      const e = ctx.lowerSubgraph(els);
      if (t.outputs.length !== e.outputs.length) ctx.fail(`then_branch yields ${t.outputs.length} values, else_branch ${e.outputs.length}`);
      t.outputs.forEach((v, k) => {
        const w = e.outputs[k]!;
        if (v.dtype !== w.dtype || v.shape.length !== w.shape.length) {
          ctx.unsupported(`output ${k} is ${formatType(v.type)} in then_branch but ${formatType(w.type)} in else_branch; ` +
            'branches of other dtypes or ranks need a condition known at compile time');
        }
      });
      return ctx.b.op('prim.if', [cond], { then_branch: A.graph(t), else_branch: A.graph(e) });
    },
  },
  {
    type: 'Loop',
    since: 1,
    subgraphInputs: (_node, operands) => ({ body: [I64_SCALAR, BOOL_SCALAR, ...operands.slice(2)] }),
    lower(ctx) {
      const m = ctx.input(0);
      const cond = ctx.input(1);
      if (!m && !cond) ctx.unsupported('a Loop with neither a trip count nor a condition never ends');
      const init: Value[] = [];
      for (let i = 2; i < ctx.numInputs; i++) init.push(ctx.arg(i));
      const body = ctx.node.graph('body');
      if (body.inputs.length !== init.length + 2) {
        ctx.fail(`the body takes ${body.inputs.length} inputs, expected ${init.length + 2} (iteration, condition, ${init.length} carried)`);
      }
      if (body.outputs.length < init.length + 1) {
        ctx.fail(`the body yields ${body.outputs.length} values, expected at least ${init.length + 1} (condition, ${init.length} carried)`);
      }
      const lowered = lowerCarriedBody(ctx, body, [null, null], init.map((v) => v.type), 2, 1);
      return ctx.b.op('prim.loop', [m, cond, ...init], { body: A.graph(lowered) });
    },
  },
  {
    type: 'Scan',
    since: 9,
    subgraphInputs(node, operands) {
      const m = node.int('num_scan_inputs');
      const n = operands.length - m;
      const axes = node.ints('scan_input_axes', []);
      return {
        body: operands.map((t, j) => {
          if (j < n || !t) return t;
          const a = axes[j - n] ?? 0;
          return withoutAxis(t, a < 0 ? a + t.shape.length : a);
        }),
      };
    },
    lower(ctx) {
      const m = ctx.node.int('num_scan_inputs');
      const n = ctx.numInputs - m;
      if (m < 1 || n < 0) ctx.fail(`num_scan_inputs ${m} must be in 1..${ctx.numInputs}`);
      const b = ctx.b;
      const states: Value[] = [];
      for (let i = 0; i < n; i++) states.push(ctx.arg(i));
      const inAxes = ctx.node.ints('scan_input_axes', new Array<number>(m).fill(0));
      const inDirs = ctx.node.ints('scan_input_directions', new Array<number>(m).fill(0));
      // Each scan input with its scanned axis first, in scan order.
      const xs: Value[] = [];
      for (let j = 0; j < m; j++) {
        const x = ctx.arg(n + j);
        const a = ctx.axis(inAxes[j] ?? 0, x.shape.length, `scan_input_axes[${j}]`);
        const first = moveAxis(b, x, a, 0);
        xs.push(inDirs[j] ? reverse(b, first, 0) : first);
      }
      const body = ctx.node.graph('body');
      const k = body.outputs.length - n;
      const lowered = lowerCarriedBody(ctx, body, [...states.map(() => null), ...xs.map((x) => withoutAxis(x.type, 0))], states.map((s) => s.type), 0, 0);
      const results = b.op('prim.scan', [...states, ...xs], { body: A.graph(lowered), num_scan_inputs: A.int(m) });
      const outAxes = ctx.node.ints('scan_output_axes', new Array<number>(k).fill(0));
      const outDirs = ctx.node.ints('scan_output_directions', new Array<number>(k).fill(0));
      const ys = results.slice(n).map((y, j) => {
        const r = outDirs[j] ? reverse(b, y, 0) : y;
        return moveAxis(b, r, 0, ctx.axis(outAxes[j] ?? 0, y.shape.length, `scan_output_axes[${j}]`));
      });
      return [...results.slice(0, n), ...ys];
    },
  },
  {
    // Scan-8: every operand has a leading batch axis, scan inputs are scanned along axis 1, and the
    // body sees one batch element. A scan over the batch whose body is the scan over time.
    type: 'Scan',
    since: 8,
    until: 8,
    subgraphInputs(node, operands) {
      const m = node.int('num_scan_inputs');
      const ops = operands.slice(1);
      const n = ops.length - m;
      // States lose the batch axis; scan inputs the batch and the time axis.
      return { body: ops.map((t, j) => (t ? { dtype: t.dtype, shape: t.shape.slice(j < n ? 1 : 2) } : null)) };
    },
    lower(ctx) {
      const m = ctx.node.int('num_scan_inputs');
      const n = ctx.numInputs - 1 - m;
      if (m < 1 || n < 0) ctx.fail(`num_scan_inputs ${m} must be in 1..${ctx.numInputs - 1}`);
      const operands: Value[] = [];
      for (let i = 1; i < ctx.numInputs; i++) operands.push(ctx.arg(i));
      const lens = ctx.input(0) ? ctx.requireConstant(0, 'sequence_lens') : undefined;
      if (lens) {
        const t = operands[n]!.shape[1];
        if (lens.toNumbers().some((l) => l !== t)) ctx.unsupported('sequence_lens shorter than the scan inputs');
      }
      const dirs = ctx.node.ints('directions', new Array<number>(m).fill(0));
      const body = ctx.node.graph('body');
      const elem = (v: Value, drop: number): TensorType => ({ dtype: v.dtype, shape: v.shape.slice(drop) });
      const lowered = lowerCarriedBody(ctx, body, [...operands.slice(0, n).map(() => null), ...operands.slice(n).map((x) => elem(x, 2))],
        operands.slice(0, n).map((s) => elem(s, 1)), 0, 0);
      // The per-batch body: one scan over time.
      const ob = new GraphBuilder('scan_batch', { fold: true, origin: ctx.b.origin });
      const inner = operands.map((v, i) => ob.input(`batch_${i}`, v.dtype, v.shape.slice(1)));
      const xs = inner.slice(n).map((x, j) => (dirs[j] ? reverse(ob, x, 0) : x));
      const res = ob.op('prim.scan', [...inner.slice(0, n), ...xs], { body: A.graph(lowered), num_scan_inputs: A.int(m) });
      for (const r of res) ob.output(r);
      return ctx.b.op('prim.scan', operands, { body: A.graph(ob.build()), num_scan_inputs: A.int(n + m) });
    },
  },
);

// ---- TopK, NonZero, Unique ----

defineOnnxOps(
  {
    type: 'TopK',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const axis = ctx.axis(ctx.node.int('axis', -1), x.shape.length);
      const k = ctx.opset < 10 ? ctx.node.int('k') : constNumber(ctx, 1, 'K', Number.NaN);
      if (!Number.isInteger(k) || k < 0) ctx.fail(`K = ${k} must be a non-negative integer`);
      const dim = x.shape[axis]!;
      if (typeof dim === 'number' && k > dim) ctx.fail(`K = ${k} is more than the ${dim} elements along axis ${axis}`);
      return ctx.b.op('prim.topk', [x], {
        axis: A.int(axis), k: A.int(k), largest: A.int(ctx.opset >= 11 ? ctx.node.int('largest', 1) : 1), sorted: A.int(ctx.opset >= 11 ? ctx.node.int('sorted', 1) : 1),
      });
    },
  },
  {
    type: 'NonZero',
    since: 9,
    lower: (ctx) => [ctx.b.op1('prim.nonzero', [ctx.arg(0)])],
  },
  {
    type: 'Unique',
    since: 11,
    lower(ctx) {
      const x = ctx.arg(0);
      const attrs: Record<string, Attr> = { sorted: A.int(ctx.node.int('sorted', 1)) };
      if (ctx.node.has('axis')) attrs['axis'] = A.int(ctx.axis(ctx.node.int('axis'), x.shape.length));
      return ctx.b.op('prim.unique', [x], attrs);
    },
  },
);

// ---- NonMaxSuppression ----

/**
 * Greedy NMS as ONNX Runtime and the ONNX reference do it, per (batch, class): candidates in score order
 * (ties: lower box index first), those with score > score_threshold; a candidate is selected unless a box
 * already selected overlaps it with IoU > iou_threshold, until max_output_boxes_per_class are selected.
 *
 * The lowering runs all (batch, class) pairs at once: a prim.loop over the N sorted positions carries a
 * mask of the selected boxes [B,C,N] (by box index) and the counts [B,C]; the selected set in score order
 * is then read off with prim.nonzero over the mask in sorted order. Result: i64[K, 3] (batch, class, box).
 */
function nonMaxSuppression(ctx: LowerContext): Value {
  const b = ctx.b;
  const boxes = ctx.arg(0);
  const scores = ctx.arg(1);
  const [nb, n] = ctx.staticShape(boxes, 'boxes');
  const [, nc] = ctx.staticShape(scores, 'scores');
  if (boxes.shape.length !== 3 || boxes.shape[2] !== 4) ctx.fail(`boxes must be [batches, boxes, 4], got ${formatType(boxes.type)}`);
  if (scores.shape.length !== 3 || scores.shape[0] !== nb || scores.shape[2] !== n) {
    ctx.fail(`scores must be [${nb}, classes, ${n}], got ${formatType(scores.type)}`);
  }
  const B = nb!;
  const N = n!;
  const C = nc!;
  const f = boxes.dtype;
  const maxOut = ctx.input(2) ? b.reshape(b.cast(ctx.arg(2), 'i64'), []) : b.scalar('i64', 0n);
  const iouThr = ctx.input(3) ? b.reshape(ctx.arg(3), []) : b.scalar(f, 0);
  const scoreThr = ctx.input(4) ? b.reshape(ctx.arg(4), []) : null;
  const center = ctx.node.int('center_point_box', 0);

  // Box edges by box index, [B, N] each.
  const coord = (i: number): Value => b.reshape(b.slice(boxes, [2], [i], [i + 1]), [B, N]);
  let x0: Value, x1: Value, y0: Value, y1: Value;
  if (center) {
    const two = b.scalar(f, 2);
    const [cx, cy] = [coord(0), coord(1)];
    const hw = b.div(coord(2), two);
    const hh = b.div(coord(3), two);
    [x0, x1, y0, y1] = [b.sub(cx, hw), b.add(cx, hw), b.sub(cy, hh), b.add(cy, hh)];
  } else {
    const [ya, xa, yb, xb] = [coord(0), coord(1), coord(2), coord(3)];
    [x0, x1, y0, y1] = [b.min(xa, xb), b.max(xa, xb), b.min(ya, yb), b.max(ya, yb)];
  }
  const area = b.mul(b.sub(x1, x0), b.sub(y1, y0));

  // Score order per (batch, class), and the sorted scores.
  const [sorted, order] = b.op('prim.topk', [scores], { axis: A.int(2), k: A.int(N), largest: A.int(1), sorted: A.int(1) }) as [Value, Value];
  // Flat index of box order[b,c,i] in a [B*N] edge table: b*N + order.
  const batchBase = b.mul(b.iota('i64', [B, 1, 1], 0), b.scalar('i64', BigInt(N)));
  const boxFlat = b.add(order, batchBase); // [B,C,N]
  const flat = (v: Value): Value => b.reshape(v, [B * N]);
  const edges = [x0, x1, y0, y1, area].map(flat);
  const byBox = [x0, x1, y0, y1, area].map((v) => b.reshape(v, [B, 1, N]));

  // The loop body: sorted position i of every (batch, class).
  const lb = new GraphBuilder('nms_step', { fold: true, origin: b.origin });
  const i = lb.input('i', 'i64', []);
  const condIn = lb.input('cond', 'bool', []);
  const kept = lb.input('kept', 'bool', [B, C, N]);
  const count = lb.input('count', 'i64', [B, C]);
  const cand = lb.gather(boxFlat, i, 2); // [B,C]: flat index of the candidate box
  const [cx0, cx1, cy0, cy1, carea] = edges.map((e) => lb.reshape(lb.gather(e, cand, 0), [B, C, 1]));
  const [bx0, bx1, by0, by1, barea] = byBox;
  const ix0 = lb.max(cx0!, bx0!);
  const ix1 = lb.min(cx1!, bx1!);
  const iy0 = lb.max(cy0!, by0!);
  const iy1 = lb.min(cy1!, by1!);
  const inter = lb.mul(lb.sub(ix1, ix0), lb.sub(iy1, iy0));
  const union = lb.sub(lb.add(carea!, barea!), inter);
  const zero = lb.scalar(f, 0);
  const overlaps = [lb.lt(ix0, ix1), lb.lt(iy0, iy1), lb.lt(zero, inter), lb.lt(zero, carea!), lb.lt(zero, barea!), lb.lt(zero, union),
    lb.lt(iouThr, lb.div(inter, union))].reduce((acc, v) => lb.and(acc, v)); // [B,C,N]
  const suppressed = lb.reduce('max', lb.and(overlaps, kept), [2], false); // [B,C]
  const score = lb.gather(sorted, i, 2); // [B,C]
  let take = lb.and(lb.not(suppressed), lb.lt(count, maxOut));
  if (scoreThr) take = lb.and(take, lb.lt(scoreThr, score));
  const isCand = lb.eq(lb.iota('i64', [1, 1, N], 2), lb.reshape(lb.gather(order, i, 2), [B, C, 1])); // [B,C,N]
  lb.output(condIn);
  lb.output(lb.or(kept, lb.and(isCand, lb.reshape(take, [B, C, 1]))));
  lb.output(lb.add(count, lb.cast(take, 'i64')));

  const kept0 = b.const(Tensor.zeros('bool', [B, C, N]));
  const count0 = b.const(Tensor.zeros('i64', [B, C]));
  const [keptFinal] = b.op('prim.loop', [b.scalar('i64', BigInt(N)), null, kept0, count0], { body: A.graph(lb.build()) }) as [Value];
  // The mask in sorted order: keptSorted[b,c,i] = kept[b,c,order[b,c,i]].
  const cellBase = b.mul(b.add(b.mul(b.iota('i64', [B, C, 1], 0), b.scalar('i64', BigInt(C))), b.iota('i64', [B, C, 1], 1)), b.scalar('i64', BigInt(N)));
  const keptSorted = b.gather(b.reshape(keptFinal, [B * C * N]), b.add(cellBase, order), 0);
  const nz = b.op1('prim.nonzero', [keptSorted]); // [3, K]: batch, class, sorted position
  const row = (r: number): Value => b.gather(nz, b.scalar('i64', BigInt(r)), 0); // [K]
  const [bi, ci, pos] = [row(0), row(1), row(2)];
  const orderFlat = b.reshape(order, [B * C * N]);
  const box = b.gather(orderFlat, b.add(b.mul(b.add(b.mul(bi, b.scalar('i64', BigInt(C))), ci), b.scalar('i64', BigInt(N))), pos), 0);
  const k: Dim = bi.shape[0]!;
  const col = (v: Value): Value => b.reshape(v, [k, 1]);
  return b.concat([col(bi), col(ci), col(box)], 1);
}

defineOnnxOps({
  type: 'NonMaxSuppression',
  since: 10,
  lower: (ctx) => [nonMaxSuppression(ctx)],
});
