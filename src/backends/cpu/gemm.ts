// Dot kernels as calls of the runtime library's register-blocked GEMM (runtime/gemm.h) and convolution
// (runtime/conv.h), with the rest of the kernel fused as the GEMM's epilogue.
//
//   kernel k2 "dot sub div mul add max → %r6" (i1 < 64, i2 < 56, i3 < 56) {
//     %0 = reduce dot f32 (r0 < 64) { %1 = load f32 @w5[64*i1 + r0]; %2 = load f32 @t1[56*i2 + i3 + 3136*r0] } -> %1, %2
//     %3 = load f32 @w6[i1]; … %12 = max f32 %10, %11
//     store @t2[3136*i1 + 56*i2 + i3] = %12
//   }
// is C (64 x 3136) = A (64 x 64, the weight, packed once when the model is created) x B (64 x 3136, row-major
// with ldb 3136), written straight into @t2 (ldc 3136), the sub/div/mul/add/max applied by the epilogue
// functor to each piece of C while it is in L1.
//
// How a kernel is read. The domain axes the left operand reads (and the right does not) are the rows M, those
// the right one reads are the columns N, the axes both read (or neither) are batch loops around the GEMM;
// the reduce axes are K. An operand that is a plain load with an affine index that flattens to a matrix
// (unit stride along K or along its rows) is passed as it is (RawA/RawB), or packed when the model is created
// if it is a weight; any other operand (a padded, strided window: a convolution's input) is a source that
// packs its panels by evaluating the kernel's own statements, or conv.h's implicit im2col when the window is
// a plain 2-D convolution. The result goes straight into the output buffer when the store index flattens to
// rows x contiguous columns; otherwise into a scratch C that the epilogue reads. One row (M = 1: a fully
// connected layer on one input) whose weight rows are contiguous along K goes to runtime/gemv.h instead.
import { ix, refsOf, substitute, varsOf, type IndexExpr } from '../../kernel/index-expr.js';
import type { Axis, LoopKernel, Stmt } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import type { LetStmt, ReduceStmt } from '../kernel-writer.js';
import { FragmentWriter } from './fragment.js';
import { bufferParam, kernelParams, kernelSymbols, type KernelContext } from './kernel.js';

/** What the GEMM kernels of one source share: weights packed once (at create), and epilogue structs. */
export interface GemmNeeds {
  packed: { floats: string; pack: (dst: string, pointer: (buffer: string) => string) => string }[];
  /** Epilogue struct bodies (members named by position) -> the struct's name, for kernels to share. */
  epilogues: Map<string, string>;
}

/** Below this many multiply-adds, or with a side under MIN_SIDE (but one row: gemv.h), a dot is rendered as loops. */
export const GEMM_MIN_MACS = 1 << 14;
export const GEMM_MIN_SIDE = 4;

type Operand =
  /** A plain load: op(X)(o, k) = X[base + o*ldOuter + k*ldK] with one of the two strides 1; `weight`: X is
   * a weight (a constant), whose base may move with the batch axes. */
  | { readonly kind: 'raw'; readonly buffer: string; readonly base: IndexExpr; readonly ld: number; readonly trans: boolean; readonly weight: boolean }
  /** Computed by the kernel's statements (closure of `value`). */
  | { readonly kind: 'gen'; readonly value: number; readonly stmts: readonly LetStmt[] };

interface Conv {
  readonly x: string;
  /** Offset of the image in x, in terms of the batch axes. */
  readonly base: IndexExpr;
  readonly C: number; readonly H: number; readonly W: number; readonly M: number;
  readonly KH: number; readonly KW: number; readonly SH: number; readonly SW: number;
  readonly PT: number; readonly PL: number; readonly PB: number; readonly PR: number; readonly DH: number; readonly DW: number;
  /** Groups: 1, or M for a depthwise convolution (C is then 1, the channels of one group). */
  readonly G: number;
}

export interface RenderedGemm {
  readonly source: string;
  /** Arguments of the kernel function after its buffers (the packed weights). */
  readonly extraArgs: readonly string[];
}

type StoreStmt = Extract<Stmt, { kind: 'store' }>;

/** One dot stage: C_i = left (M x K) · right (K x N). */
export interface Stage {
  readonly reduce: ReduceStmt;
  readonly K: number;
  readonly left: Operand;
  readonly right: Operand;
  /** The right operand is a 2-D convolution's window of the input (conv.h packs it). */
  readonly conv: Conv | undefined;
}

export interface GemmMatch {
  readonly kernel: LoopKernel;
  /** The dot stages; the last one's epilogue runs every top-level statement. */
  readonly stages: readonly Stage[];
  /** The kernel's top-level lets and stores, in order. */
  readonly lets: readonly LetStmt[];
  readonly stores: readonly StoreStmt[];
  readonly m: readonly Axis[];
  readonly n: readonly Axis[];
  readonly batch: readonly Axis[];
  /** Domain axes of extent 1: always 0. */
  readonly unit: readonly Axis[];
  readonly M: number;
  readonly N: number;
  /** One row (M = 1) times a matrix whose rows are contiguous along the depth: gemv.h's sgemv_rows. */
  readonly gemv: boolean;
  /** Direct: C is the output buffer at base (batch axes) with leading dimension ldc. */
  readonly out: { readonly mode: 'direct'; readonly buffer: string; readonly base: IndexExpr; readonly ldc: number } | { readonly mode: 'scratch' };
}

export interface GemmOptions {
  minMacs?: number;
}

// ---- affine index analysis ----

interface Affine {
  readonly coef: ReadonlyMap<string, number>;
  /** The terms without loop variables (constants, sizes). */
  readonly rest: IndexExpr;
}

/** e as Σ c_v·v + rest with constant coefficients, or undefined. */
export function affine(e: IndexExpr): Affine | undefined {
  const terms = e.kind === 'add' ? e.terms : [e];
  const coef = new Map<string, number>();
  const rest: IndexExpr[] = [];
  for (const t of terms) {
    const vars = varsOf(t);
    if (refsOf(t).size > 0) return undefined;
    if (vars.size === 0) {
      rest.push(t);
      continue;
    }
    if (t.kind === 'var') coef.set(t.name, (coef.get(t.name) ?? 0) + 1);
    else if (t.kind === 'mul') {
      let c = 1;
      let v: string | undefined;
      for (const f of t.factors) {
        if (f.kind === 'const') c *= f.value;
        else if (f.kind === 'var' && v === undefined) v = f.name;
        else return undefined;
      }
      if (v === undefined) return undefined;
      coef.set(v, (coef.get(v) ?? 0) + c);
    } else return undefined;
  }
  return { coef, rest: ix.add(...rest) };
}

const extentOf = (a: Axis): number => (a.extent.kind === 'const' ? a.extent.value : NaN);

/** The stride of the row-major flat index of `axes` in an affine index, or undefined if it does not flatten. */
function flatStride(f: Affine, axes: readonly Axis[]): number | undefined {
  if (axes.length === 0) return 0;
  for (let i = 0; i + 1 < axes.length; i++) {
    if ((f.coef.get(axes[i]!.name) ?? 0) !== (f.coef.get(axes[i + 1]!.name) ?? 0) * extentOf(axes[i + 1]!)) return undefined;
  }
  const s = f.coef.get(axes[axes.length - 1]!.name) ?? 0;
  return s > 0 ? s : undefined;
}

/** The part of an affine index that depends on `keep` (and the rest), as an index expression. */
function partOf(f: Affine, keep: ReadonlySet<string>): IndexExpr {
  const terms: IndexExpr[] = [f.rest];
  for (const [v, c] of f.coef) if (keep.has(v) && c !== 0) terms.push(ix.mul(ix.c(c), ix.v(v)));
  return ix.add(...terms);
}

// ---- matching ----

/** Statements (in body order) that `id` depends on, through operands, masks and index refs; undefined if it
 * depends on something that is not one of them (another reduce stage's result). */
function closure(id: number, stmts: readonly LetStmt[]): LetStmt[] | undefined {
  const byId = new Map(stmts.map((s) => [s.id, s]));
  const need = new Set<number>();
  let foreign = false;
  const visit = (x: number): void => {
    if (need.has(x)) return;
    const s = byId.get(x);
    if (!s) {
      foreign = true;
      return;
    }
    need.add(x);
    const e = s.expr;
    const refs = new Set<number>();
    if (e.op === 'prim') for (const a of e.args) refs.add(a);
    if (e.op === 'load') {
      if (e.mask !== undefined) refs.add(e.mask);
      refsOf(e.index, refs);
    }
    if (e.op === 'index') refsOf(e.index, refs);
    if (e.op === 'inbounds') {
      refsOf(e.index, refs);
      refsOf(e.extent, refs);
    }
    for (const r of refs) visit(r);
  };
  visit(id);
  return foreign ? undefined : stmts.filter((s) => need.has(s.id));
}

function stmtVars(stmts: readonly LetStmt[]): Set<string> {
  const out = new Set<string>();
  for (const s of stmts) {
    const e = s.expr;
    if (e.op === 'load' || e.op === 'index') varsOf(e.index, out);
    if (e.op === 'inbounds') {
      varsOf(e.index, out);
      varsOf(e.extent, out);
    }
  }
  return out;
}

/** A dot kernel the GEMM can compute, or undefined (then it is rendered as loops). Several dot stages (a
 * residual block's two convolutions summed) share the rows, columns and batch axes: all but the last are
 * computed into scratch matrices that the last one's epilogue reads. */
export function matchGemm(k: LoopKernel, ctx: KernelContext, opts: GemmOptions = {}): GemmMatch | undefined {
  const body = k.body;
  const reduces = body.filter((s): s is ReduceStmt => s.kind === 'reduce');
  if (reduces.length === 0 || !reduces.every((r) => r.combiner === 'dot' && r.dtype === 'f32')) return undefined;
  const lets = body.filter((s): s is LetStmt => s.kind === 'let');
  if (!body.every((s) => s.kind === 'let' || s.kind === 'store' || s.kind === 'reduce')) return undefined;
  if (!reduces.every((r) => r.body.every((s) => s.kind === 'let'))) return undefined;
  // Sizes may be symbolic where a matrix does not need them (the outermost axis of its rows, a batch axis);
  // the scheduler drops reduce axes of extent 1.
  if (![...k.domain, ...reduces.flatMap((r) => r.axes)].every((a) => a.extent.kind !== 'const' || a.extent.value >= 1)) return undefined;
  if (reduces.some((r) => r.axes.some((a) => extentOf(a) === 1))) return undefined;
  const stores = body.filter((s) => s.kind === 'store');
  if (stores.length === 0) return undefined;
  const domainNames = new Set(k.domain.map((a) => a.name));
  const unit = k.domain.filter((a) => extentOf(a) === 1);
  const live = k.domain.filter((a) => extentOf(a) !== 1);
  const unitZero = new Map(unit.map((a) => [a.name, ix.c(0)]));
  // Each stage's operands: the statements computing them (top-level lets and the stage's body; none may
  // read another stage's result), and the domain axes they read.
  const sides = reduces.map((r) => {
    const inner = [...lets, ...(r.body as LetStmt[])];
    const [ai, bi] = r.operands as [number, number];
    const ca = closure(ai, inner);
    const cb = closure(bi, inner);
    if (!ca || !cb) return undefined;
    if ([...ca, ...cb].some((s) => s.expr.op === 'load' && ctx.buffers.get(s.expr.buffer)!.dtype !== 'f32')) return undefined;
    const va = new Set([...stmtVars(ca)].filter((v) => domainNames.has(v)));
    const vb = new Set([...stmtVars(cb)].filter((v) => domainNames.has(v)));
    return { r, ai, bi, ca, cb, va, vb };
  });
  if (sides.some((x) => x === undefined)) return undefined;
  const first = sides[0]!;
  let m = live.filter((a) => first.va.has(a.name) && !first.vb.has(a.name));
  let n = live.filter((a) => first.vb.has(a.name) && !first.va.has(a.name));
  // A depthwise convolution: the weight reads only the channel, which the window reads too. Its channel is
  // taken as the rows, and it goes to conv.h's depthwise loop or is rendered as loops.
  const shared = live.filter((a) => first.va.has(a.name) && first.vb.has(a.name));
  const depthwise = sides.length === 1 && m.length === 0 && n.length === 2 && shared.length === 1;
  if (depthwise) m = shared;
  const prod = (axes: readonly Axis[]): number => axes.reduce((p, a) => p * extentOf(a), 1);
  // The result: C[m, n] at base + ldc*m + n in the output buffer, else a scratch C. Axes at the front of
  // the rows or columns that do not flatten with the rest (an image index before the channels) become
  // batch axes, so that the rest is a matrix in the output.
  let out: GemmMatch['out'] = { mode: 'scratch' };
  if (stores.length === 1) {
    const st = stores[0] as Extract<Stmt, { kind: 'store' }>;
    const b = ctx.buffers.get(st.buffer)!;
    const f = affine(substitute(st.index, unitZero));
    const reads = new Set<string>();
    for (const x of [...lets, ...reduces.flatMap((r) => r.body)]) if (x.kind === 'let' && x.expr.op === 'load') reads.add(x.expr.buffer);
    if (b.dtype === 'f32' && f && ![...reads].some((r) => ctx.overlap(r, st.buffer))) {
      const fit = (rows: Axis[], cols: Axis[]): { rows: Axis[]; cols: Axis[]; ldc: number } | undefined => {
        while (cols.length > 1 && flatStride(f, cols) !== 1) cols = cols.slice(1);
        if (cols.length === 0 || flatStride(f, cols) !== 1) return undefined;
        if (rows.length === 0) return { rows, cols, ldc: prod(cols) }; // one row (a matrix-vector product)
        while (rows.length > 1 && !((flatStride(f, rows) ?? 0) >= prod(cols))) rows = rows.slice(1);
        const ldc = flatStride(f, rows);
        return rows.length > 0 && ldc !== undefined && ldc >= prod(cols) ? { rows, cols, ldc } : undefined;
      };
      const straight = fit(m, n);
      const swapped = straight || n.length === 0 ? undefined : fit(n, m);
      if (straight) [m, n] = [straight.rows, straight.cols];
      else if (swapped) [m, n] = [swapped.rows, swapped.cols]; // C transposed: rows and columns swap roles
      const chosen = straight ?? swapped;
      if (chosen) {
        const keep = new Set(live.filter((a) => !m.includes(a) && !n.includes(a)).map((a) => a.name));
        out = { mode: 'direct', buffer: st.buffer, base: partOf(f, keep), ldc: chosen.ldc };
      }
    }
  }
  const batch = live.filter((a) => !m.includes(a) && !n.includes(a));
  const batchNames = new Set(batch.map((a) => a.name));
  const M = prod(m);
  const N = prod(n);
  const macs = reduces.reduce((t, r) => t + M * N * prod(r.axes), 0);
  if (macs < (opts.minMacs ?? GEMM_MIN_MACS) || (M < GEMM_MIN_SIDE && M !== 1) || N < GEMM_MIN_SIDE) return undefined;
  const mNames = new Set(m.map((a) => a.name));
  const nNames = new Set(n.map((a) => a.name));
  const within = (vs: ReadonlySet<string>, side: ReadonlySet<string>): boolean => [...vs].every((v) => side.has(v) || batchNames.has(v) || !domainNames.has(v) || unit.some((u) => u.name === v));
  const stages: Stage[] = [];
  for (const x of sides as NonNullable<(typeof sides)[number]>[]) {
    // Which operand reads the rows: it is the left one (M x K).
    let leftFirst: boolean;
    if (depthwise) leftFirst = within(x.va, mNames) && within(x.vb, new Set([...mNames, ...nNames]));
    else if (within(x.va, mNames) && within(x.vb, nNames)) leftFirst = true;
    else if (within(x.vb, mNames) && within(x.va, nNames)) leftFirst = false;
    else return undefined;
    const [lid, lst, rid, rst] = leftFirst ? [x.ai, x.ca, x.bi, x.cb] : [x.bi, x.cb, x.ai, x.ca];
    const kAxes = x.r.axes;
    const left = operand(lid, lst, m, kAxes, batchNames, unitZero, ctx, 'left');
    const right = operand(rid, rst, n, kAxes, batchNames, unitZero, ctx, 'right');
    // conv.h writes its result as [M][OH*OW]: the last stage's C must be laid out so (or be the scratch C).
    const last = x === sides[sides.length - 1];
    const convLayout = !last || out.mode === 'scratch' || out.ldc === N;
    const conv = convLayout && right.kind === 'gen' && left.kind === 'raw' && !left.trans ? matchConv(rid, rst, left, m, n, kAxes, batchNames, unitZero, ctx, depthwise) : undefined;
    if (depthwise && !conv) return undefined;
    stages.push({ reduce: x.r, K: prod(kAxes), left, right, conv });
  }
  // One row: a fully connected layer on one input, a stream over the weights (sgemv_rows reads them in place,
  // the row contiguous, the matrix's rows contiguous along the depth); other one-row products stay loops.
  const only = stages.length === 1 ? stages[0]! : undefined;
  const gemv = M === 1 && only !== undefined && only.left.kind === 'raw' && !only.left.trans && only.right.kind === 'raw' && only.right.trans;
  if (M === 1 && !gemv) return undefined;
  return { kernel: k, stages, lets, stores: stores as StoreStmt[], m, n, batch, unit, M, N, gemv, out };
}

/** An operand as a raw matrix if it is one, else as the statements that compute it. */
function operand(id: number, stmts: readonly LetStmt[], outer: readonly Axis[], kAxes: readonly Axis[], batch: ReadonlySet<string>,
  unitZero: ReadonlyMap<string, IndexExpr>, ctx: KernelContext, side: 'left' | 'right'): Operand {
  const gen: Operand = { kind: 'gen', value: id, stmts };
  if (stmts.length !== 1) return gen;
  const s = stmts[0]!;
  if (s.id !== id || s.expr.op !== 'load' || s.expr.mask !== undefined) return gen;
  const f = affine(substitute(s.expr.index, unitZero));
  if (!f) return gen;
  const allowed = new Set([...outer.map((a) => a.name), ...kAxes.map((a) => a.name), ...batch]);
  if ([...f.coef.keys()].some((v) => !allowed.has(v) && (f.coef.get(v) ?? 0) !== 0)) return gen;
  const so = flatStride(f, outer);
  const sk = flatStride(f, kAxes);
  if (so === undefined || sk === undefined) return gen;
  const buffer = s.expr.buffer;
  const b: Buffer = ctx.buffers.get(buffer)!;
  const base = partOf(f, batch);
  const weight = b.role === 'weight';
  // left (M x K): A(i, k) = trans ? X[k*ld + i] : X[i*ld + k];  right (K x N): B(k, j) = trans ? X[j*ld + k] : X[k*ld + j]
  if (side === 'left') {
    if (sk === 1) return { kind: 'raw', buffer, base, ld: so, trans: false, weight };
    if (so === 1) return { kind: 'raw', buffer, base, ld: sk, trans: true, weight };
  } else {
    if (so === 1) return { kind: 'raw', buffer, base, ld: sk, trans: false, weight };
    if (sk === 1) return { kind: 'raw', buffer, base, ld: so, trans: true, weight };
  }
  return gen;
}

/** The right operand as a 2-D convolution's window of an NCHW input (conv.h's implicit im2col). */
function matchConv(id: number, stmts: readonly LetStmt[], left: Extract<Operand, { kind: 'raw' }>, m: readonly Axis[], n: readonly Axis[],
  kAxes: readonly Axis[], batch: ReadonlySet<string>, unitZero: ReadonlyMap<string, IndexExpr>, ctx: KernelContext, depthwise = false): Conv | undefined {
  if (m.length !== 1 || n.length !== 2) return undefined;
  const byId = new Map(stmts.map((s) => [s.id, s]));
  const top = byId.get(id)!;
  // Either a plain load, or where(mask, load if mask, 0) with mask an `and` of inbounds tests.
  let load: LetStmt;
  let mask: number | undefined;
  if (top.expr.op === 'load') load = top;
  else if (top.expr.op === 'prim' && top.expr.prim === 'where') {
    const [c, x, z] = top.expr.args as [number, number, number];
    const zs = byId.get(z);
    const xs = byId.get(x);
    if (!zs || zs.expr.op !== 'const' || Number(zs.expr.value) !== 0 || !xs || xs.expr.op !== 'load' || xs.expr.mask !== c) return undefined;
    load = xs;
    mask = c;
  } else return undefined;
  if (load.expr.op !== 'load') return undefined;
  const tests: { index: IndexExpr; extent: IndexExpr }[] = [];
  const collect = (x: number): boolean => {
    const s = byId.get(x);
    if (!s) return false;
    if (s.expr.op === 'inbounds') {
      tests.push({ index: substitute(s.expr.index, unitZero), extent: s.expr.extent });
      return true;
    }
    if (s.expr.op === 'prim' && s.expr.prim === 'and') return s.expr.args.every(collect);
    return false;
  };
  if (mask !== undefined && !collect(mask)) return undefined;
  // Every statement must be part of the pattern (no other computation hides in the operand).
  const used = new Set<number>([top.id, load.id]);
  const mark = (x: number): void => {
    const s = byId.get(x);
    if (!s) return;
    used.add(x);
    if (s.expr.op === 'prim') s.expr.args.forEach(mark);
  };
  if (mask !== undefined) mark(mask);
  if (top.expr.op === 'prim') mark(top.expr.args[2]!);
  if (stmts.some((s) => !used.has(s.id))) return undefined;
  const xb = ctx.buffers.get(load.expr.buffer)!;
  const wb = ctx.buffers.get(left.buffer)!;
  if (xb.shape.length < 3 || wb.shape.length < 3 || !xb.shape.every((d) => typeof d === 'number') || !wb.shape.every((d) => typeof d === 'number')) return undefined;
  const xs = xb.shape as number[];
  const ws = wb.shape as number[];
  const [H, W] = [xs[xs.length - 2]!, xs[xs.length - 1]!];
  // With groups, C is the channels of one group: the group's offset into the image is a batch term.
  const [C, KH, KW] = [ws[ws.length - 3]!, ws[ws.length - 2]!, ws[ws.length - 1]!];
  if (xs[xs.length - 3]! % C !== 0) return undefined;
  const M = extentOf(m[0]!);
  // Depthwise: one input channel per output channel, the channel read by both at the plane's stride.
  if (depthwise && (C !== 1 || xs[xs.length - 3]! !== M || ws.reduce((p, d) => p * d, 1) !== M * KH * KW)) return undefined;
  // The weight: W[m, c, kh, kw] row-major.
  if (left.ld !== C * KH * KW) return undefined;
  // Roles of the reduce axes from their extents, in order c, kh, kw (axes of extent 1 are absent).
  const roles: ('c' | 'kh' | 'kw')[] = [];
  const want: { role: 'c' | 'kh' | 'kw'; ext: number }[] = [{ role: 'c', ext: C }, { role: 'kh', ext: KH }, { role: 'kw', ext: KW }].filter((r) => r.ext > 1) as never;
  if (want.length !== kAxes.length) return undefined;
  for (let i = 0; i < kAxes.length; i++) {
    if (extentOf(kAxes[i]!) !== want[i]!.ext) return undefined;
    roles.push(want[i]!.role);
  }
  const roleVar = (r: 'c' | 'kh' | 'kw'): string | undefined => kAxes[roles.indexOf(r)]?.name;
  const [oh, ow] = [n[0]!.name, n[1]!.name];
  const OH = extentOf(n[0]!);
  const OW = extentOf(n[1]!);
  const f = affine(substitute(load.expr.index, unitZero));
  if (!f) return undefined;
  const co = (v: string | undefined): number => (v === undefined ? 0 : f.coef.get(v) ?? 0);
  if (roleVar('c') !== undefined && co(roleVar('c')) !== H * W) return undefined;
  if (co(oh) % W !== 0) return undefined;
  const SH = co(oh) / W;
  const SW = co(ow);
  const DH = KH > 1 ? co(roleVar('kh')) / W : 1;
  const DW = KW > 1 ? co(roleVar('kw')) : 1;
  if (![SH, SW, DH, DW].every((x) => Number.isInteger(x) && x >= 1)) return undefined;
  const allowed = new Set([oh, ow, ...kAxes.map((a) => a.name), ...batch, ...(depthwise ? [m[0]!.name] : [])]);
  if ([...f.coef.keys()].some((v) => !allowed.has(v))) return undefined;
  if (depthwise && co(m[0]!.name) !== H * W) return undefined;
  // The constant part: -(PT*W + PL); the batch terms are the image's offset.
  const konst = f.rest.kind === 'const' ? f.rest.value : f.rest.kind === 'add' && f.rest.terms.length === 0 ? 0 : NaN;
  if (Number.isNaN(konst)) return undefined;
  // Padding: from the masks where there are any.
  let PT = 0;
  let PL = 0;
  const rowTest = tests.find((t) => varsOf(t.index).has(oh));
  const colTest = tests.find((t) => varsOf(t.index).has(ow));
  if (tests.length !== [rowTest, colTest].filter((t) => t !== undefined).length) return undefined;
  if (rowTest) {
    const r = affine(rowTest.index);
    if (!r || r.rest.kind !== 'const' || rowTest.extent.kind !== 'const' || rowTest.extent.value !== H) return undefined;
    if ((r.coef.get(oh) ?? 0) !== SH || (KH > 1 && (r.coef.get(roleVar('kh')!) ?? 0) !== DH) || r.coef.size !== (KH > 1 ? 2 : 1)) return undefined;
    PT = -r.rest.value;
  }
  if (colTest) {
    const r = affine(colTest.index);
    if (!r || r.rest.kind !== 'const' || colTest.extent.kind !== 'const' || colTest.extent.value !== W) return undefined;
    if ((r.coef.get(ow) ?? 0) !== SW || (KW > 1 && (r.coef.get(roleVar('kw')!) ?? 0) !== DW) || r.coef.size !== (KW > 1 ? 2 : 1)) return undefined;
    PL = -r.rest.value;
  }
  if (PT < 0 || PL < 0 || konst !== -(PT * W + PL)) return undefined;
  // Without a row test, every row the window reads must be inside the image (and the same for columns).
  if (!rowTest && (OH - 1) * SH + (KH - 1) * DH >= H) return undefined;
  if (!colTest && (OW - 1) * SW + (KW - 1) * DW >= W) return undefined;
  const PB = (OH - 1) * SH + DH * (KH - 1) + 1 - H - PT;
  const PR = (OW - 1) * SW + DW * (KW - 1) + 1 - W - PL;
  const imageBase = ix.add(...[...f.coef].filter(([v]) => batch.has(v)).map(([v, c]) => ix.mul(ix.c(c), ix.v(v))));
  return { x: load.expr.buffer, base: imageBase, C, H, W, M, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G: depthwise ? M : 1 };
}

// ---- rendering ----

/** `axes` as locals decomposed from a flat row-major index expression `flat` (`ext` spells an extent). */
function decompose(axes: readonly Axis[], flat: string, name: (a: string) => string, ext: (a: Axis) => string): string[] {
  const out: string[] = [];
  let stride = '1';
  for (let i = axes.length - 1; i >= 0; i--) {
    const a = axes[i]!;
    const q = stride === '1' ? flat : `(${flat} / (${stride}))`;
    out.push(`[[maybe_unused]] const index_t ${name(a.name)} = ${i === 0 ? q : `${q} % (${ext(a)})`};`);
    stride = stride === '1' ? ext(a) : `${stride} * ${ext(a)}`;
  }
  return out.reverse();
}

/** Rewrite index expressions in statements. */
function mapIndices(stmts: readonly Stmt[], f: (e: IndexExpr) => IndexExpr): Stmt[] {
  return stmts.map((s): Stmt => {
    switch (s.kind) {
      case 'let': {
        const e = s.expr;
        if (e.op === 'load') return { ...s, expr: { ...e, index: f(e.index) } };
        if (e.op === 'index') return { ...s, expr: { ...e, index: f(e.index) } };
        if (e.op === 'inbounds') return { ...s, expr: { ...e, index: f(e.index), extent: f(e.extent) } };
        return s;
      }
      case 'store': return { ...s, index: f(s.index) };
      default: return s;
    }
  });
}

/** Replace the terms of `axes` in an affine index by stride * flat (when they flatten), else leave it. */
function flattenTerms(e: IndexExpr, axes: readonly Axis[], flat: string): IndexExpr {
  const f = affine(e);
  if (!f || axes.length === 0) return e;
  const s = flatStride(f, axes);
  if (s === undefined) return e;
  const names = new Set(axes.map((a) => a.name));
  const keep = new Set([...f.coef.keys()].filter((v) => !names.has(v)));
  return ix.add(partOf(f, keep), ix.mul(ix.c(s), ix.v(flat)));
}

const kname = (k: LoopKernel): string => k.name.replace(/[^A-Za-z0-9_]/g, '_');

/** The kernel function (and its source and epilogue structs). */
export function renderGemmKernel(g: GemmMatch, ctx: KernelContext, needs: GemmNeeds): RenderedGemm {
  const k = g.kernel;
  const name = kname(k);
  const { names, decl } = kernelParams(k, ctx);
  const unitZero = new Map(g.unit.map((a) => [a.name, ix.c(0)]));
  const zeroUnits = (stmts: readonly Stmt[]): Stmt[] => (g.unit.length ? mapIndices(stmts, (e) => substitute(e, unitZero)) : [...stmts]);
  const bufferDecls = decl.split(', ').slice(0, names.length).map((p) => p.replace(' AIC_RESTRICT', ''));
  // Outside the structs: batch axes in scope (loop variables of the kernel function).
  const fw = new FragmentWriter(k, ctx, 0);
  fw.scope(g.batch);
  const batchNames = g.batch.map((a) => fw.name(a.name));
  // Sizes as C++: numbers, or products of the size symbols' locals.
  const sizeOf = (axes: readonly Axis[]): string => (axes.every((a) => a.extent.kind === 'const')
    ? String(axes.reduce((p, a) => p * extentOf(a), 1)) : axes.map((a) => `static_cast<index_t>(${fw.idx(a.extent)})`).join(' * '));
  const Ms = sizeOf(g.m);
  const Ns = sizeOf(g.n);
  const symLocals = (indent: string, from: string): string[] => [...kernelSymbols(k)].map((x) => `${indent}[[maybe_unused]] const index_t ${ctx.symbols.get(x)!} = ${from}[${ctx.symbolIndex.get(x)!}];`);
  const members = [...bufferDecls.map((m) => `  ${m};`), ...batchNames.map((b) => `  index_t ${b};`)];
  const init = (struct: string, extra: readonly string[] = []): string => `${struct}{${[...names.map((n) => bufferParam(n)), ...batchNames, ...extra, 'S'].join(', ')}}`;
  const structs: string[] = [];
  const extraArgs: string[] = [];
  const packedParams: string[] = [];
  const packOnce = (floats: string, pack: (dst: string, pointer: (b: string) => string) => string): string => {
    const i = needs.packed.length;
    needs.packed.push({ floats, pack });
    const param = `packed_${packedParams.length}`;
    packedParams.push(`const float* ${param}`);
    extraArgs.push(`m->packed[${i}]`);
    return param;
  };

  // A computed operand: a source struct that packs panels by running the operand's statements.
  const sourceStruct = (struct: string, op: Extract<Operand, { kind: 'gen' }>, outer: readonly Axis[], kAxes: readonly Axis[]): string => {
    const w = new FragmentWriter(k, ctx, 5);
    w.scope([...outer, ...kAxes, ...g.batch]);
    for (const s of zeroUnits(op.stmts)) w.let_(s as LetStmt);
    return [
      `struct ${struct} {`,
      ...members,
      '  const index_t* S;',
      '  static constexpr bool kPrepacked = false;',
      '  bool transposed() const { return false; }',
      '  template <int P>',
      '  const float* panels(index_t o0, index_t n, index_t p0, index_t kc, float* buf) const {',
      ...g.batch.map((a) => `    [[maybe_unused]] const index_t ${w.name(a.name)} = this->${w.name(a.name)};`),
      ...symLocals('    ', 'this->S'),
      '    for (index_t o = 0; o < n; o += P) {',
      '      float* dst = buf + o * kc;',
      '      const int width = static_cast<int>(std::min<index_t>(P, n - o));',
      ...outer.map((a) => `      index_t ov_${w.name(a.name)}[P];`),
      '      for (int j = 0; j < P; ++j) {',
      '        const index_t of = o0 + o + (j < width ? j : width - 1);',
      ...decompose(outer, 'of', (x) => `o_${w.name(x)}`, (a) => w.idx(a.extent)).map((l) => `        ${l}`),
      ...outer.map((a) => `        ov_${w.name(a.name)}[j] = o_${w.name(a.name)};`),
      '      }',
      '      for (index_t kk = 0; kk < kc; ++kk) {',
      ...decompose(kAxes, '(p0 + kk)', (x) => w.name(x), (a) => w.idx(a.extent)).map((l) => `        ${l}`),
      '        float* d = dst + kk * P;',
      '        #pragma omp simd',
      '        for (int j = 0; j < P; ++j) {',
      ...outer.map((a) => `          const index_t ${w.name(a.name)} = ov_${w.name(a.name)}[j];`),
      ...w.text(),
      `          d[j] = j < width ? v${op.value} : 0.0f;`,
      '        }',
      '      }',
      '    }',
      '    return buf;',
      '  }',
      '};',
    ].join('\n');
  };

  /** The call computing stage i into C (ldc), with an epilogue (or none). */
  const stageCall = (i: number, st: Stage, C: string, ldc: string, epi: string | undefined, pre: string[]): string => {
    const Ks = sizeOf(st.reduce.axes);
    if (g.gemv) {
      // The weights read in place (a stream: packing them would only add a pass).
      const x = st.left as Extract<Operand, { kind: 'raw' }>;
      const w = st.right as Extract<Operand, { kind: 'raw' }>;
      return `aic::cpu::sgemv_rows(${bufferParam(x.buffer)} + ${fw.idx(x.base)}, ${bufferParam(w.buffer)} + ${fw.idx(w.base)}, ${w.ld}, ${Ns}, ${Ks}, ${C}${epi ? `, ${epi}` : ''});`;
    }
    // Weights are packed when the model is created, for the orientation the GEMM will pick; with a symbolic
    // size that is not known then, so they are packed (and the GEMM run) in the normal orientation.
    const mode = Number.isNaN(g.M * g.N * st.K) ? 'false' : `aic::cpu::sgemm_transposed_mode(${g.M}, ${g.N}, ${st.K})`;
    const operandExpr = (side: 'L' | 'R', op: Operand, outer: readonly Axis[]): string => {
      if (op.kind === 'gen') {
        const struct = `Src_${name}_${side}${i}`;
        structs.push(sourceStruct(struct, op, outer, st.reduce.axes));
        return init(struct);
      }
      const isA = side === 'L';
      // A weight is packed once, when the model is created (where its sizes must be known); one whose base
      // moves with the batch axes (a grouped 1x1 convolution as a batched product: ShuffleNet) once per item.
      const staticSizes = [...outer, ...st.reduce.axes].every((a) => a.extent.kind === 'const');
      // Per item only where every item has its own weight (else the packed copies would repeat one).
      const baseVars = varsOf(op.base);
      const batched = baseVars.size > 0;
      const perItem = !batched || g.batch.every((a) => a.extent.kind === 'const' && (extentOf(a) === 1 || baseVars.has(a.name)));
      if (op.weight && staticSizes && perItem) {
        const per = isA ? `aic::cpu::sgemm_packed_a_floats(${Ms}, ${Ks})` : `aic::cpu::sgemm_packed_b_floats(${Ks}, ${Ns})`;
        const pack = (src: string, dst: string): string =>
          `aic::cpu::sgemm_pack_${isA ? 'a' : 'b'}(${op.trans}, ${isA ? `${Ms}, ${Ks}` : `${Ks}, ${Ns}`}, ${src}, ${op.ld}, ${dst}, ${mode})`;
        const items = g.batch.reduce((p, a) => p * extentOf(a), 1);
        const param = batched
          ? packOnce(`${items} * ${per}`, (dst, pointer) => [
            `for (index_t batch_ = 0; batch_ < ${items}; ++batch_) {`,
            ...decompose(g.batch, 'batch_', (x) => fw.name(x), (a) => fw.idx(a.extent)),
            `${pack(`${pointer(op.buffer)} + ${fw.idx(op.base)}`, `${dst} + batch_ * ${per}`)}; }`,
          ].join(' '))
          : packOnce(per, (dst, pointer) => pack(`${pointer(op.buffer)} + ${fw.idx(op.base)}`, dst));
        // The item's panels: its row-major index over the batch axes.
        const item = g.batch.reduce((acc, a) => (acc === '' ? fw.name(a.name) : `(${acc}) * ${extentOf(a)} + ${fw.name(a.name)}`), '');
        const at = batched ? `${param} + (${item}) * ${per}` : param;
        return isA ? `aic::cpu::PackedA(${at}, ${Ms}, ${mode})` : `aic::cpu::PackedB(${at}, ${Ns}, ${mode})`;
      }
      return `aic::cpu::Raw${isA ? 'A' : 'B'}{${bufferParam(op.buffer)} + ${fw.idx(op.base)}, ${op.ld}, ${op.trans}}`;
    };
    if (st.conv) {
      const c = st.conv;
      const left = st.left as Extract<Operand, { kind: 'raw' }>;
      const shape = `aic::cpu::Conv2dShape{1, ${c.C * c.G}, ${c.H}, ${c.W}, ${c.M}, ${c.KH}, ${c.KW}, ${c.SH}, ${c.SW}, ${c.PT}, ${c.PL}, ${c.PB}, ${c.PR}, ${c.DH}, ${c.DW}, ${c.G}}`;
      pre.push(`const aic::cpu::Conv2dShape shape${i} = ${shape};`);
      let w: string;
      let packed = false;
      if (left.weight && varsOf(left.base).size === 0) {
        w = packOnce(`aic::cpu::conv2d_packed_weights_floats(${shape})`, (dst, pointer) => `aic::cpu::conv2d_pack_weights(${shape}, ${pointer(left.buffer)} + ${fw.idx(left.base)}, ${dst})`);
        packed = true;
      } else w = `${bufferParam(left.buffer)} + ${fw.idx(left.base)}`;
      const e = epi ?? 'aic::cpu::epi::None{}';
      return `aic::cpu::conv2d(shape${i}, ${bufferParam(c.x)} + ${fw.idx(c.base)}, ${w}, ${C}, ${e}${packed ? ', nullptr, true' : ''});`;
    }
    const left = operandExpr('L', st.left, g.m);
    const right = operandExpr('R', st.right, g.n);
    return `aic::cpu::sgemm(${left}, ${right}, ${Ms}, ${Ns}, ${Ks}, 1.0f, 0.0f, ${C}, ${ldc}${epi ? `, ${epi}` : ''});`;
  };

  // ---- the epilogue: the kernel's statements, on each final piece of the last stage's C ----
  const last = g.stages.length - 1;
  const direct = g.out.mode === 'direct';
  const ew = new FragmentWriter(k, ctx, 3);
  const flatAxis: Axis = { name: 'f0', extent: ix.mul(...g.n.map((a) => a.extent)) };
  ew.scope([...g.m, ...g.n, ...g.batch, flatAxis]);
  g.stages.forEach((st, i) => ew.defineValue(st.reduce.id, 'f32', i === last ? 'c[jj]' : `scr${i}[row * ${Ns} + f0]`));
  const epiStmts = mapIndices(zeroUnits(k.body.filter((s) => s.kind !== 'reduce')), (e) => flattenTerms(e, g.n, 'f0'));
  for (const s of epiStmts) {
    if (s.kind === 'store' && direct) ew.line(`c[jj] = v${s.value};`);
    else ew.stmts([s]);
  }
  const scratchMembers = g.stages.slice(0, last).map((_, i) => `  const float* scr${i};`);
  const epiName = sharedStruct(needs.epilogues, `Epi_${name}`, names.map((n) => bufferParam(n)), [
    '{',
    ...members,
    ...scratchMembers,
    '  const index_t* S;',
    '  void operator()(index_t row, index_t col, float* c, int count) const {',
    '    (void)row;',
    ...g.batch.map((a) => `    [[maybe_unused]] const index_t ${ew.name(a.name)} = this->${ew.name(a.name)};`),
    ...symLocals('    ', 'this->S'),
    ...decompose(g.m, 'row', (x) => ew.name(x), (a) => ew.idx(a.extent)).map((l) => `    ${l}`),
    '    #pragma omp simd',
    '    for (int jj = 0; jj < count; ++jj) {',
    '      const index_t f0 = col + jj;',
    ...decompose(g.n, 'f0', (x) => ew.name(x), (a) => ew.idx(a.extent)).map((l) => `      ${l}`),
    ...ew.text(),
    '    }',
    '  }',
    '};',
  ], structs);

  // ---- the kernel function: batch loops around the GEMMs (or convolutions) ----
  const head: string[] = [];
  const body: string[] = [];
  head.push(...symLocals('', 'S'));
  // Per-thread scratch (declared where the stage calls run: inside the batch loop's lambda when it is parallel).
  const scratchDecls: string[] = [];
  const scratch = (i: number | string): string => {
    const size = `static_cast<std::size_t>(${Ms}) * static_cast<std::size_t>(${Ns})`;
    scratchDecls.push(`static thread_local std::vector<float> scratch${i};`, `if (scratch${i}.size() < ${size}) scratch${i}.resize(${size});`);
    return `scratch${i}.data()`;
  };
  g.stages.slice(0, last).forEach((st, i) => body.push(stageCall(i, st, scratch(i), Ns, undefined, head)));
  let C: string;
  let ldc: string;
  if (g.out.mode === 'direct') {
    C = `${bufferParam(g.out.buffer)} + ${fw.idx(g.out.base)}`;
    ldc = String(g.out.ldc);
  } else {
    C = scratch('C');
    ldc = Ns;
  }
  const epi = init(epiName, g.stages.slice(0, last).map((_, i) => `scratch${i}.data()`));
  body.push(stageCall(last, g.stages[last]!, C, ldc, epi, head));
  const params = [...decl.split(', ').slice(0, names.length), ...packedParams, 'const index_t* S', 'aic::Status* st'].join(', ');
  const par = batchThreads(g);
  let nest: string[];
  if (par) {
    // One GEMM (or convolution) per batch item, the items on the threads (each GEMM then runs on its own).
    nest = [
      `aic::threads::parallel_for(${par.items}, ${par.cap}, [&](index_t batch_, int) {`,
      ...decompose(g.batch, 'batch_', (x) => fw.name(x), (a) => fw.idx(a.extent)),
      ...scratchDecls, ...body, '});',
    ];
  } else {
    const loops = g.batch.map((a) => `for (index_t ${fw.name(a.name)} = 0; ${fw.name(a.name)} < ${fw.idx(a.extent)}; ++${fw.name(a.name)}) {`);
    nest = [...scratchDecls, ...loops, ...body, ...loops.map(() => '}')];
  }
  const fn = [`static void kernel_${name}(${params}) {`, '  (void)S; (void)st;', ...indent([...head, ...nest], 1), '}'].join('\n');
  return { source: [...structs, fn].join('\n\n'), extraArgs };
}

/** The name of a struct with `body` (its text after the name, members named as the kernel's buffers), new in
 * `out` unless an earlier kernel made one that differs only in its buffers. Every GEMM and convolution is a
 * template over its epilogue, and instantiating them is most of a model's build time: ResNet-50's 49
 * epilogues are 10 distinct ones. Members are renamed by position (the struct is built with positional
 * aggregate initialisation), and index locals the body does not read are dropped (they would differ in
 * constants only). */
function sharedStruct(known: Map<string, string>, name: string, members: readonly string[], body: readonly string[], out: string[]): string {
  const position = new Map(members.map((m, i) => [m, `m_${i}`]));
  const word = new RegExp(`\\b(${members.join('|') || '(?!)'})\\b`, 'g');
  const text = dropUnusedLocals(body.join('\n').replace(word, (m) => position.get(m)!));
  const seen = known.get(text);
  if (seen) return seen;
  known.set(text, name);
  out.push(`struct ${name} ${text}`);
  return name;
}

/** Remove `[[maybe_unused]] const index_t x = ...;` lines whose local nothing else reads (to a fixed point). */
function dropUnusedLocals(text: string): string {
  let lines = text.split('\n');
  for (;;) {
    const kept = lines.filter((l, i) => {
      const m = /\[\[maybe_unused\]\] const index_t (\w+) =/.exec(l);
      if (!m) return true;
      const use = new RegExp(`\\b${m[1]!}\\b`);
      return lines.some((o, j) => j !== i && use.test(o));
    });
    if (kept.length === lines.length) return kept.join('\n');
    lines = kept;
  }
}

/** GEMMs below this many flops run on one thread (gemm.h's worth_threads): their batch items are the work to share. */
const GEMM_PARALLEL_FLOPS = 2e6;

/** The batch items and thread cap (C++) of a kernel whose batch items run in parallel, or undefined for a
 * serial batch loop (a single item, symbolic sizes, too little work: then each GEMM shares its own tiles
 * among the threads). Items that are small GEMMs always go to the threads; big ones only when they split evenly. */
function batchThreads(g: GemmMatch): { items: number; cap: string } | undefined {
  const items = g.batch.reduce((p, a) => p * extentOf(a), 1);
  const each = 2 * g.M * g.N * g.stages.reduce((s, st) => s + st.K, 0);
  if (!(items >= 2) || !(each * items >= GEMM_PARALLEL_FLOPS)) return undefined;
  const cap = each < 4 * GEMM_PARALLEL_FLOPS ? 'aic::threads::max_threads()' : `${items} % aic::threads::max_threads() == 0 ? aic::threads::max_threads() : 1`;
  return { items, cap };
}

function indent(lines: readonly string[], depth: number): string[] {
  const out: string[] = [];
  let d = depth;
  for (const l of lines) {
    if (l.startsWith('}')) d--;
    out.push(`${'  '.repeat(d)}${l}`);
    if (l.endsWith('{')) d++;
  }
  return out;
}
