// The kernel IR: what the scheduler makes and every backend renders. A loop kernel is an iteration domain
// (parallel axes: every point independent) and a scalar body run once per point. The body is SSA: `let`
// statements compute scalars (loads, constants, index values, pointwise prims), `reduce` stages fold an
// inner domain into one scalar, `loop` runs an inner parallel domain (the epilogue of a row kernel), `store`
// writes a buffer, `check` stops the program with an error. An extern kernel runs a prim's reference
// semantics (scatter, structured ops) on whole buffers. docs/KERNEL-IR.md describes it with an example.
import type { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import { ix, refsOf, substitute, type IndexExpr } from './index-expr.js';

/** A loop: `i0 < 8`. Names are unique within a kernel. The extent may be symbolic (`i0 < $N`). */
export interface Axis {
  readonly name: string;
  readonly extent: IndexExpr;
}

/** The value of a `let`: a scalar of the statement's dtype. Operands are SSA numbers of earlier statements. */
export type Expr =
  /** `buffer[index]`; with a mask, read only where the mask (a bool scalar) holds, else 0. */
  | { readonly op: 'load'; readonly buffer: string; readonly index: IndexExpr; readonly mask?: number }
  /** A literal of the statement's dtype. */
  | { readonly op: 'const'; readonly value: number | bigint }
  /** An integer index value converted to the statement's dtype (iota). */
  | { readonly op: 'index'; readonly index: IndexExpr }
  /** bool: 0 <= index < extent (pad and concat guard their loads with it). */
  | { readonly op: 'inbounds'; readonly index: IndexExpr; readonly extent: IndexExpr }
  /** A pointwise prim (`add`, `exp`, `where`, `cast`, …) on scalars; cast and bitcast convert to the statement's dtype. */
  | { readonly op: 'prim'; readonly prim: string; readonly args: readonly number[] };

/** How a reduce stage folds its operand over its axes. `dot` accumulates the product of its two operands
 * (without rounding the product: a GEMM); `argmax`/`argmin` give the position (i64) along their one axis. */
export const COMBINERS = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin', 'dot'] as const;
export type Combiner = (typeof COMBINERS)[number];

export type Stmt =
  | { readonly kind: 'let'; readonly id: number; readonly dtype: DType; readonly expr: Expr }
  /** `%id = reduce combiner dtype (axes) { body } -> operands`: the body runs for every point of the axes;
   * its result (dtype: the result's; operands have the body's dtype) is visible after the stage. */
  | {
    readonly kind: 'reduce'; readonly id: number; readonly dtype: DType; readonly combiner: Combiner;
    readonly axes: readonly Axis[]; readonly body: readonly Stmt[]; readonly operands: readonly number[];
    /** argmax/argmin: the last of equal candidates wins (ONNX select_last_index). */
    readonly selectLast?: boolean;
  }
  | { readonly kind: 'loop'; readonly axes: readonly Axis[]; readonly body: readonly Stmt[] }
  | { readonly kind: 'store'; readonly buffer: string; readonly index: IndexExpr; readonly value: number }
  /** Fail the program with `message` where `cond` (bool) is false (gather's out-of-range index). */
  | { readonly kind: 'check'; readonly cond: number; readonly message: string };

export interface LoopKernel {
  readonly kind: 'loop';
  readonly name: string;
  /** The parallel domain: nested loops, outermost first. */
  readonly domain: readonly Axis[];
  readonly body: readonly Stmt[];
  /** What it computes, for readers: the graph values it stores and the ops fused into it. */
  readonly note?: string;
}

/** A kernel that runs the reference semantics of a graph (one node, usually) on whole buffers: for ops
 * that are not loop nests (scatter, If/Loop/Scan, TopK, NonZero, Unique). */
export interface ExternKernel {
  readonly kind: 'extern';
  readonly name: string;
  /** Buffers bound to the graph's inputs and outputs, in order. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly graph: Graph;
  readonly note?: string;
}

export type Kernel = LoopKernel | ExternKernel;

// ---- walking ----

/** Every statement, nested bodies included, in order. */
export function* allStmts(body: readonly Stmt[]): Generator<Stmt> {
  for (const s of body) {
    yield s;
    if (s.kind === 'reduce' || s.kind === 'loop') yield* allStmts(s.body);
  }
}

/** Buffers a kernel reads. */
export function kernelReads(k: Kernel): Set<string> {
  if (k.kind === 'extern') return new Set(k.inputs);
  const out = new Set<string>();
  for (const s of allStmts(k.body)) if (s.kind === 'let' && s.expr.op === 'load') out.add(s.expr.buffer);
  return out;
}

/** Buffers a kernel writes. */
export function kernelWrites(k: Kernel): Set<string> {
  if (k.kind === 'extern') return new Set(k.outputs);
  const out = new Set<string>();
  for (const s of allStmts(k.body)) if (s.kind === 'store') out.add(s.buffer);
  return out;
}

/** Has the kernel a reduce stage or an inner loop (it is not purely pointwise over its domain)? */
export const hasStages = (k: LoopKernel): boolean => k.body.some((s) => s.kind === 'reduce' || s.kind === 'loop');

/** The same body with its scalars numbered %0, %1, … in the order they appear in the text. */
export function renumber(body: readonly Stmt[]): Stmt[] {
  const ids = new Map<number, number>();
  const assign = (stmts: readonly Stmt[]): void => {
    for (const s of stmts) {
      if (s.kind === 'let') ids.set(s.id, ids.size);
      else if (s.kind === 'reduce') {
        ids.set(s.id, ids.size);
        assign(s.body);
      } else if (s.kind === 'loop') assign(s.body);
    }
  };
  assign(body);
  const r = (id: number): number => ids.get(id) ?? id;
  const refMap = new Map([...ids].map(([from, to]) => [from, ix.ref(to)]));
  const idx = (e: IndexExpr): IndexExpr => (refsOf(e).size === 0 ? e : substitute(e, new Map(), refMap));
  const expr = (e: Expr): Expr => {
    switch (e.op) {
      case 'load': return { ...e, index: idx(e.index), ...(e.mask !== undefined ? { mask: r(e.mask) } : {}) };
      case 'index': return { ...e, index: idx(e.index) };
      case 'inbounds': return { ...e, index: idx(e.index), extent: idx(e.extent) };
      case 'prim': return { ...e, args: e.args.map(r) };
      default: return e;
    }
  };
  const walk = (stmts: readonly Stmt[]): Stmt[] => stmts.map((s): Stmt => {
    switch (s.kind) {
      case 'let': return { ...s, id: r(s.id), expr: expr(s.expr) };
      case 'reduce': return { ...s, id: r(s.id), body: walk(s.body), operands: s.operands.map(r) };
      case 'loop': return { ...s, body: walk(s.body) };
      case 'store': return { ...s, index: idx(s.index), value: r(s.value) };
      case 'check': return { ...s, cond: r(s.cond) };
    }
  });
  return walk(body);
}
