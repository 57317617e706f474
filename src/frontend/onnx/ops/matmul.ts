// ONNX contractions: MatMul (numpy matmul: 1-D promotion, batch broadcasting), Gemm, MatMulInteger,
// Einsum (any equation: diagonals, sums, pairwise prim.dot contractions) and Det (LU with pivoting).
// Each becomes prim.dot with its batch and contracting dims; nothing is transposed that dot can index.
import { A } from '../../../ir/attr.js';
import { isFloat } from '../../../ir/dtype.js';
import type { Value } from '../../../ir/graph.js';
import { broadcastShapes, type Dim } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

const range = (n: number, from = 0): number[] => [...Array(n).keys()].map((i) => i + from);

/** numpy matmul of a [..., M, K] (or [K]) and b [..., K, N] (or [K]). */
export function matmul(ctx: LowerContext, a: Value, bv: Value): Value {
  const { b } = ctx;
  const ra = a.shape.length;
  const rb = bv.shape.length;
  if (ra === 0 || rb === 0) ctx.fail('operands must have rank 1 or more');
  if (a.dtype !== bv.dtype) ctx.fail(`operands have different dtypes (${a.dtype}, ${bv.dtype})`);
  // The contracting dims: a's last, b's second to last (its only one when 1-D).
  const kb = rb === 1 ? 0 : rb - 2;
  if (rb <= 2) {
    // No batch on b: contract directly, a's batch and M dims come out first.
    return b.dot(a, bv, { lhsContract: [ra - 1], rhsContract: [kb] });
  }
  const batchA = ra > 2 ? a.shape.slice(0, ra - 2) : [];
  const batchB = bv.shape.slice(0, rb - 2);
  const batch = ctx.run(() => broadcastShapes(batchA, batchB));
  const nb = batch.length;
  const aFull = b.broadcast(a, ra === 1 ? [...batch, a.shape[0]!] : [...batch, ...a.shape.slice(ra - 2)]);
  const bFull = b.broadcast(bv, [...batch, ...bv.shape.slice(rb - 2)]);
  return b.dot(aFull, bFull, {
    lhsBatch: range(nb), rhsBatch: range(nb),
    lhsContract: [ra === 1 ? nb : nb + 1], rhsContract: [nb],
  });
}

/** Gemm: alpha·A'·B' + beta·C, where ' is an optional transpose. */
function lowerGemm(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const a = ctx.arg(0);
  const bm = ctx.arg(1);
  if (a.shape.length !== 2 || bm.shape.length !== 2) ctx.fail(`A and B must be 2-D, are [${a.shape.join(',')}] and [${bm.shape.join(',')}]`);
  if (a.dtype !== bm.dtype) ctx.fail(`A and B have different dtypes (${a.dtype}, ${bm.dtype})`);
  const ta = node.int('transA', 0) !== 0;
  const tb = node.int('transB', 0) !== 0;
  const alpha = node.float('alpha', 1);
  const beta = node.float('beta', 1);
  let y = b.dot(a, bm, { lhsContract: [ta ? 0 : 1], rhsContract: [tb ? 1 : 0] });
  if (alpha !== 1) y = b.mul(y, b.like(y, alpha));
  const c = ctx.input(2);
  if (c && beta !== 0) {
    const shape = ctx.run(() => broadcastShapes(c.shape, y.shape));
    if (shape.length !== 2 || shape.some((d, i) => d !== y.shape[i] && typeof d === 'number' && typeof y.shape[i] === 'number')) {
      ctx.fail(`C [${c.shape.join(',')}] does not broadcast to the result [${y.shape.join(',')}]`);
    }
    y = b.add(y, beta === 1 ? c : b.mul(c, b.like(c, beta)));
  }
  return y;
}

/** MatMulInteger: (A - a_zero_point)·(B - b_zero_point), accumulated in int32. */
function lowerMatMulInteger(ctx: LowerContext): Value {
  const { b } = ctx;
  const a = ctx.arg(0);
  const bm = ctx.arg(1);
  const widen = (v: Value): Value => b.cast(v, 'i32');
  let a32 = widen(a);
  let b32 = widen(bm);
  const az = ctx.input(2);
  if (az) {
    // A per-row zero point [M] applies along A's rows: make it [M, 1].
    const z = widen(az);
    a32 = b.sub(a32, z.shape.length === 1 && a.shape.length >= 2 ? b.reshape(z, [z.shape[0]!, 1]) : z);
  }
  const bz = ctx.input(3);
  if (bz) b32 = b.sub(b32, widen(bz));
  return matmul(ctx, a32, b32);
}

// ---- Einsum ----

interface Term {
  /** One label per dim; ellipsis dims get labels '0', '1', … (right-aligned over the widest ellipsis). */
  labels: string[];
  value: Value;
}

/** Labels of one side of an equation term, with the ellipsis expanded to `ell` labels ending at '…E'. */
function parseTerm(ctx: LowerContext, text: string, rank: number | undefined, ellRank: () => number): { labels: string[]; ellipsis: number } {
  const parts = text.split('...');
  if (parts.length > 2) ctx.fail(`term "${text}" has more than one ellipsis`);
  for (const p of parts) if (!/^[A-Za-z]*$/.test(p)) ctx.fail(`term "${text}" has characters other than letters`);
  const letters = parts.join('').length;
  if (parts.length === 1) {
    if (rank !== undefined && rank !== letters) ctx.fail(`term "${text}" has ${letters} labels for an operand of rank ${rank}`);
    return { labels: [...parts[0]!], ellipsis: 0 };
  }
  const ell = rank === undefined ? ellRank() : rank - letters;
  if (ell < 0) ctx.fail(`term "${text}" has more labels than its operand has dims (${rank})`);
  const total = ellRank();
  const ellLabels = range(ell, total - ell).map(String);
  return { labels: [...parts[0]!, ...ellLabels, ...parts[1]!], ellipsis: ell };
}

function lowerEinsum(ctx: LowerContext): Value {
  const { b } = ctx;
  const eq = ctx.node.str('equation').replace(/\s+/g, '');
  const [lhs, rhs, ...extra] = eq.split('->');
  if (extra.length > 0 || lhs === undefined) ctx.fail(`equation "${eq}" has more than one ->`);
  const texts = lhs.split(',');
  const ops = [...Array(ctx.numInputs).keys()].map((i) => ctx.arg(i));
  if (texts.length !== ops.length) ctx.fail(`equation "${eq}" has ${texts.length} terms for ${ops.length} operands`);
  const dtype = ops[0]!.dtype;
  if (ops.some((o) => o.dtype !== dtype)) ctx.fail('operands have different dtypes');

  // The widest ellipsis fixes how many ellipsis labels there are.
  let ellRank = 0;
  texts.forEach((t, i) => {
    if (t.includes('...')) ellRank = Math.max(ellRank, ops[i]!.shape.length - t.replace('...', '').length);
  });
  const terms: Term[] = texts.map((t, i) => ({ labels: parseTerm(ctx, t, ops[i]!.shape.length, () => ellRank).labels, value: ops[i]! }));

  // Sizes per label; a size-1 ellipsis dim broadcasts against a larger one.
  const size = new Map<string, Dim>();
  for (const t of terms) {
    t.labels.forEach((l, i) => {
      const d = t.value.shape[i]!;
      const known = size.get(l);
      const ell = /^\d/.test(l);
      if (known === undefined || (ell && known === 1)) size.set(l, d);
      else if (d !== known && !(ell && d === 1) && typeof d === 'number' && typeof known === 'number') {
        ctx.fail(`label ${ell ? '...' : l} has sizes ${known} and ${d}`);
      }
    });
  }

  let out: string[];
  if (rhs !== undefined) {
    out = parseTerm(ctx, rhs, undefined, () => ellRank).labels;
    if (new Set(out).size !== out.length) ctx.fail(`output "${rhs}" repeats a label`);
    for (const l of out) if (!size.has(l)) ctx.fail(`output label ${l} does not appear in the inputs`);
  } else {
    const count = new Map<string, number>();
    for (const t of terms) for (const l of t.labels) if (!/^\d/.test(l)) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count].filter(([, n]) => n === 1).map(([l]) => l).sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
    out = [...range(ellRank).map(String).filter((l) => size.has(l)), ...once];
  }

  // Per operand: drop size-1 ellipsis dims that broadcast (the other operands carry the label),
  // take diagonals of repeated labels, and sum labels nobody else needs.
  const prepared = terms.map((t, i) => {
    let { value, labels } = t;
    const drop = labels.map((l, j) => /^\d/.test(l) && value.shape[j] === 1 && size.get(l) !== 1);
    if (drop.some(Boolean)) {
      value = b.reshape(value, value.shape.filter((_, j) => !drop[j]));
      labels = labels.filter((_, j) => !drop[j]);
    }
    for (;;) {
      const q = labels.findIndex((l, j) => labels.indexOf(l) !== j);
      if (q < 0) break;
      const p = labels.indexOf(labels[q]!);
      value = diagonal(ctx, value, p, q);
      labels = labels.filter((_, j) => j !== q);
    }
    const others = new Set([...out, ...terms.flatMap((u, j) => (j === i ? [] : u.labels))]);
    return sumLabels(ctx, { value, labels }, (l) => !others.has(l));
  });

  let acc = prepared[0]!;
  for (let i = 1; i < prepared.length; i++) {
    const next = prepared[i]!;
    const later = new Set([...out, ...prepared.slice(i + 1).flatMap((t) => t.labels)]);
    const common = acc.labels.filter((l) => next.labels.includes(l));
    const batch = common.filter((l) => later.has(l));
    const contract = common.filter((l) => !later.has(l));
    const lhs = sumLabels(ctx, acc, (l) => !next.labels.includes(l) && !later.has(l));
    const rhs2 = sumLabels(ctx, next, (l) => !lhs.labels.includes(l) && !later.has(l));
    const idx = (t: Term, ls: readonly string[]): number[] => ls.map((l) => t.labels.indexOf(l));
    const value = b.dot(lhs.value, rhs2.value, {
      lhsBatch: idx(lhs, batch), rhsBatch: idx(rhs2, batch),
      lhsContract: idx(lhs, contract), rhsContract: idx(rhs2, contract),
    });
    const used = new Set([...batch, ...contract]);
    acc = { value, labels: [...batch, ...lhs.labels.filter((l) => !used.has(l)), ...rhs2.labels.filter((l) => !used.has(l))] };
  }
  acc = sumLabels(ctx, acc, (l) => !out.includes(l));
  return b.permute(acc.value, out.map((l) => acc.labels.indexOf(l)));
}

/** Sum the dims whose labels `gone` selects. */
function sumLabels(ctx: LowerContext, t: Term, gone: (label: string) => boolean): Term {
  const axes = t.labels.flatMap((l, i) => (gone(l) ? [i] : []));
  if (axes.length === 0) return t;
  return { value: ctx.b.reduce('sum', t.value, axes, false), labels: t.labels.filter((_, i) => !axes.includes(i)) };
}

/** The diagonal over dims p < q (same size): keep x where index p equals index q, sum over q. */
function diagonal(ctx: LowerContext, x: Value, p: number, q: number): Value {
  const { b } = ctx;
  const d = x.shape[p]!;
  if (x.shape[q] !== d) ctx.fail(`a repeated label has sizes ${d} and ${x.shape[q]}`);
  const shape: Dim[] = x.shape.map((_, i) => (i === p || i === q ? d : 1));
  const mask = b.eq(b.iota('i64', shape, p), b.iota('i64', shape, q));
  return b.reduce('sum', b.where(mask, x, b.like(x, 0)), [q], false);
}

// ---- Det ----

/** Determinant of [..., M, M] by LU decomposition with partial pivoting, unrolled over M. */
function lowerDet(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const r = x.shape.length;
  if (r < 2) ctx.fail(`input must have rank 2 or more, has shape [${x.shape.join(',')}]`);
  if (!isFloat(x.dtype)) ctx.fail(`input must be a float tensor, is ${x.dtype}`);
  const m = x.shape[r - 1]!;
  if (typeof m !== 'number' || x.shape[r - 2] !== m) {
    return ctx.unsupported(`Det needs square matrices of a static size, has [${x.shape.join(',')}]`);
  }
  const batch = x.shape.slice(0, r - 2);
  const one = b.like(x, 1);
  const zero = b.like(x, 0);
  if (m === 0) return b.broadcast(one, batch);
  const rowIdx = b.iota('i64', [m, 1], 0);
  const k64 = (k: number): Value => b.scalar('i64', BigInt(k));
  let a = x;
  let det: Value = one;
  for (let k = 0; k < m; k++) {
    // Pivot: the row at or below k with the largest |a[i,k]|.
    const col = b.slice(a, [r - 1], [k], [k + 1]); // [..., M, 1]
    const cand = b.where(b.lt(rowIdx, k64(k)), b.like(x, -1), b.abs(col));
    const p = b.op1('prim.argmax', [cand], { axis: A.int(r - 2), keepdims: A.int(1) }); // [..., 1, 1]
    const atP = b.eq(rowIdx, p);
    const rowP = b.reduce('sum', b.where(atP, a, zero), [r - 2], true); // [..., 1, M]
    const rowK = b.slice(a, [r - 2], [k], [k + 1]);
    a = b.where(b.eq(rowIdx, k64(k)), rowP, b.where(atP, rowK, a));
    const swapped = b.not(b.eq(p, k64(k)));
    const pivot = b.slice(rowP, [r - 1], [k], [k + 1]); // [..., 1, 1]
    det = b.mul(b.where(swapped, b.neg(det), det), pivot);
    if (k + 1 < m) {
      // Eliminate below the pivot; a zero pivot means the column is zero there already.
      const safe = b.where(b.eq(pivot, zero), one, pivot);
      const colK = b.slice(a, [r - 1], [k], [k + 1]);
      const factor = b.where(b.lt(k64(k), rowIdx), b.div(colK, safe), zero);
      a = b.sub(a, b.mul(factor, rowP));
    }
  }
  return b.reshape(b.broadcast(det, [...batch, 1, 1]), batch);
}

defineOnnxOps(
  { type: 'MatMul', since: 1, lower: (ctx) => [matmul(ctx, ctx.arg(0), ctx.arg(1))] },
  { type: 'Gemm', since: 1, lower: (ctx) => [lowerGemm(ctx)] },
  { type: 'MatMulInteger', since: 10, lower: (ctx) => [lowerMatMulInteger(ctx)] },
  { type: 'Einsum', since: 12, lower: (ctx) => [lowerEinsum(ctx)] },
  { type: 'Det', since: 11, lower: (ctx) => [lowerDet(ctx)] },
);
