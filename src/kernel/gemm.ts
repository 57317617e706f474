// Recognizing a GEMM in the kernel IR: a loop kernel whose one reduce stage is a `dot` and whose operands
// each depend on their own part of the domain. Backends match this to hand a kernel to a GEMM micro-kernel
// (the kernel-IR interpreter packs both operands into panels and multiplies them; a C++ backend would call
// its tiled routine). The rest of the kernel is the epilogue, run on each result.
//
//   kernel k1 "pad dot add max" (i1 < 64, i3 < 224, i4 < 224) {       batch: -     m: i1    n: i3, i4
//     %1 = reduce dot f32 (r0 < 64, r1 < 3, r2 < 3) {                  k: r0, r1, r2
//       %2 = load f32 @w2[576*i1 + 9*r0 + 3*r1 + r2]                   operand a: reads i1 (and k)
//       … %7 = where f32 %5, %6, %0                                    operand b: reads i3, i4 (and k)
//     } -> %2, %7
//     %9 = add f32 %1, %8 …  store …                                   epilogue
//   }
import { isFloat } from '../ir/dtype.js';
import { refsOf, varsOf, type IndexExpr } from './index-expr.js';
import type { Axis, LoopKernel, Stmt } from './kernel.js';

type Reduce = Extract<Stmt, { kind: 'reduce' }>;
type Let = Extract<Stmt, { kind: 'let' }>;

export interface GemmPattern {
  readonly stage: Reduce;
  /** The statements computing the two operands (top-level ones first), in order; `a` is the side with the
   * smaller free extent (packed whole), `b` the other (packed in column chunks). */
  readonly a: { readonly operand: number; readonly stmts: readonly Let[] };
  readonly b: { readonly operand: number; readonly stmts: readonly Let[] };
  /** The domain split: axes both operands read (batch), only a (m), only b (n), neither (rest). */
  readonly batch: readonly Axis[];
  readonly m: readonly Axis[];
  readonly n: readonly Axis[];
  readonly rest: readonly Axis[];
  /** Every top-level statement but the stage, in order: the epilogue (it may recompute what the operands used). */
  readonly epilogue: readonly Stmt[];
}

/** The GEMM inside a kernel, or undefined when the kernel is not one. */
export function matchGemm(k: LoopKernel): GemmPattern | undefined {
  const stages = k.body.filter((s): s is Reduce => s.kind === 'reduce');
  if (stages.length !== 1 || k.body.some((s) => s.kind === 'loop' || s.kind === 'check')) return undefined;
  const stage = stages[0]!;
  if (stage.combiner !== 'dot' || !isFloat(stage.dtype) || stage.body.some((s) => s.kind !== 'let')) return undefined;
  const lets = new Map<number, Let>();
  const order = new Map<number, number>();
  const top = k.body.slice(0, k.body.indexOf(stage));
  [...top, ...stage.body].forEach((s, i) => {
    if (s.kind === 'let') {
      lets.set(s.id, s);
      order.set(s.id, i);
    }
  });
  const domainVars = new Set(k.domain.map((a) => a.name));
  const chain = (operand: number): { stmts: Let[]; vars: Set<string> } | undefined => {
    const seen = new Set<number>();
    const vars = new Set<string>();
    const stack = [operand];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      const s = lets.get(id);
      if (!s) return undefined; // not computed before the stage: not a plain operand
      seen.add(id);
      const deps: number[] = [];
      const index = (e: IndexExpr): void => {
        for (const v of varsOf(e)) if (domainVars.has(v)) vars.add(v);
        for (const r of refsOf(e)) deps.push(r);
      };
      const e = s.expr;
      if (e.op === 'load') {
        index(e.index);
        if (e.mask !== undefined) deps.push(e.mask);
      } else if (e.op === 'index') index(e.index);
      else if (e.op === 'inbounds') {
        index(e.index);
        index(e.extent);
      } else if (e.op === 'prim') deps.push(...e.args);
      stack.push(...deps);
    }
    const stmts = [...seen].sort((x, y) => order.get(x)! - order.get(y)!).map((id) => lets.get(id)!);
    return { stmts, vars };
  };
  const [x, y] = stage.operands as [number, number];
  const cx = chain(x);
  const cy = chain(y);
  if (!cx || !cy) return undefined;
  const free = (mine: Set<string>, other: Set<string>): Axis[] => k.domain.filter((a) => mine.has(a.name) && !other.has(a.name));
  const size = (axes: readonly Axis[]): number => axes.reduce((p, a) => p * (a.extent.kind === 'const' ? a.extent.value : Infinity), 1);
  const fx = free(cx.vars, cy.vars);
  const fy = free(cy.vars, cx.vars);
  const swap = size(fy) < size(fx);
  const [a, b] = swap ? [{ operand: y, ...cy }, { operand: x, ...cx }] : [{ operand: x, ...cx }, { operand: y, ...cy }];
  return {
    stage,
    a: { operand: a.operand, stmts: a.stmts },
    b: { operand: b.operand, stmts: b.stmts },
    batch: k.domain.filter((ax) => a.vars.has(ax.name) && b.vars.has(ax.name)),
    m: free(a.vars, b.vars),
    n: free(b.vars, a.vars),
    rest: k.domain.filter((ax) => !a.vars.has(ax.name) && !b.vars.has(ax.name)),
    epilogue: k.body.filter((s) => s !== stage),
  };
}

/**
 * c[m·N + n] = Σ_k a[m·K + k]·b[k·N + n] in doubles, k ascending for every element (so the result is the
 * plain loop's, bit for bit). 4×4 tiles keep sixteen sums in registers; edges take the plain loop.
 */
export function gemmF64(a: Float64Array, b: Float64Array, c: Float64Array, M: number, K: number, N: number): void {
  const m4 = M - (M % 4);
  const n4 = N - (N % 4);
  for (let m = 0; m < m4; m += 4) {
    const a0 = m * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    for (let n = 0; n < n4; n += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, bk = n; k < K; k++, bk += N) {
        const b0 = b[bk]!, b1 = b[bk + 1]!, b2 = b[bk + 2]!, b3 = b[bk + 3]!;
        const x0 = a[a0 + k]!, x1 = a[a1 + k]!, x2 = a[a2 + k]!, x3 = a[a3 + k]!;
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      const r0 = m * N + n;
      const r1 = r0 + N;
      const r2 = r1 + N;
      const r3 = r2 + N;
      c[r0] = c00; c[r0 + 1] = c01; c[r0 + 2] = c02; c[r0 + 3] = c03;
      c[r1] = c10; c[r1 + 1] = c11; c[r1 + 2] = c12; c[r1 + 3] = c13;
      c[r2] = c20; c[r2 + 1] = c21; c[r2 + 2] = c22; c[r2 + 3] = c23;
      c[r3] = c30; c[r3 + 1] = c31; c[r3 + 2] = c32; c[r3 + 3] = c33;
    }
  }
  // Edges: the rows past the last tile of four, and the columns past it in the tiled rows.
  for (let m = 0; m < M; m++) {
    const from = m < m4 ? n4 : 0;
    for (let n = from; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[m * K + k]! * b[k * N + n]!;
      c[m * N + n] = s;
    }
  }
}
