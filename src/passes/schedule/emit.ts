// Emitting one kernel: the loop nest that stores a root value, with everything the fusion plan inlines
// computed in its body. `read(v, index)` gives the scalar of v at a multi-index: a load for a value in a
// buffer, an index rewrite for a movement op, a pointwise op on the reads of its operands, a reduce stage
// for a reduction. Statements are placed at the outermost level where their operands exist (a reduction's
// prologue hoists what does not depend on its axes), and are shared when equal (CSE).
//
// A kernel whose reduce stages depend on only some of its axes O (softmax: the row) becomes a row kernel:
//
//   kernel (O) { stages and what depends only on O; loop (other axes) { the epilogue; store } }
//
// A reduction is inlined only where each of its elements is then computed once: read at one index, at the
// kernel's outer level, one-to-one with the points of O. Otherwise the emitter throws EmitFailure, and the
// scheduler materializes that value and tries again.
import type { DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import type { Node, Value } from '../../ir/graph.js';
import type { Dim } from '../../ir/shape.js';
import { sliceAxis } from '../../ir/prims/index.js';
import { Tensor } from '../../ir/tensor.js';
import {
  dimExpr, flatten, ix, printIndex, rangeOf, refsOf, simplify, unflatten, varsOf, type Extents, type IndexExpr,
} from '../../kernel/index-expr.js';
import { renumber, type Axis, type Combiner, type Expr, type LoopKernel, type Stmt } from '../../kernel/kernel.js';
import type { FusionPlan, Role } from './plan.js';
import { splitAxes } from './split-axes.js';

/** The emitter cannot fuse `value` into this kernel after all: materialize it and try again. Thrown and
 * caught inside the scheduler only (not an Error: no stack trace to capture). */
export class EmitFailure {
  constructor(readonly value: Value, readonly reason: string) {}
}

export interface EmitEnv {
  readonly plan: FusionPlan;
  /** The buffer of a value that lives in one (input, weight, root, extern result). */
  bufferOf(v: Value): string;
}

interface Scope {
  readonly stmts: Stmt[];
  readonly memo: Map<string, number>;
}

type Reduce = Extract<Stmt, { kind: 'reduce' }>;

export interface EmittedKernel {
  readonly kernel: LoopKernel;
  /** The roles it was built on (a later round reuses it while they hold). */
  readonly consulted: ReadonlyMap<Value, Role | undefined>;
  /** Graph outputs it stores besides its root (side outputs). */
  readonly stored: readonly Value[];
}

/** Emit the kernel that computes `root` into `buffer`. */
export function emitKernel(env: EmitEnv, root: Value, name: string, buffer: string): EmittedKernel {
  const e = new KernelEmitter(env, name);
  const kernel = e.root(root, buffer);
  return { kernel, consulted: e.consulted, stored: [...e.sideReads.keys()] };
}

class KernelEmitter {
  private readonly scopes: Scope[] = [{ stmts: [], memo: new Map() }];
  private readonly varLevel = new Map<string, number>();
  private readonly axisExtent = new Map<string, IndexExpr>();
  private readonly refLevel = new Map<number, number>();
  /** Reduction inlined here → the index it was read at. */
  private readonly stages = new Map<Value, string>();
  /** Reduce statement id → the value it computes (to check one-to-one-ness). */
  private readonly stageValue = new Map<number, Value>();
  /** Reduce statement id → the kernel axes its read index names (a zero-size dim can hide one from the body). */
  private readonly stageVars = new Map<number, Set<string>>();
  private nextId = 0;
  private nextReduceVar = 0;
  private readonly ops: string[] = [];

  private readonly extents: Extents = (n) => this.axisExtent.get(n);
  /** The role of every value this kernel's shape depends on (a later round reuses the kernel if they hold). */
  readonly consulted = new Map<Value, Role | undefined>();
  /** Side outputs read here: where (one index only) and the scalar. */
  readonly sideReads = new Map<Value, { key: string; idx: readonly IndexExpr[]; ref: number }>();

  private role(v: Value): Role | undefined {
    const r = this.env.plan.roles.get(v);
    this.consulted.set(v, r);
    return r;
  }

  constructor(private readonly env: EmitEnv, private readonly name: string) {}

  root(v: Value, buffer: string): LoopKernel {
    const domain: Axis[] = [];
    const idx = v.shape.map((d, i) => {
      if (d === 1) return ix.c(0);
      const a: Axis = { name: `i${i}`, extent: dimExpr(d) };
      domain.push(a);
      this.varLevel.set(a.name, 0);
      this.axisExtent.set(a.name, a.extent);
      return ix.v(a.name);
    });
    if (v.shape.includes(0)) return { kind: 'loop', name: this.name, domain, body: [], note: `nothing: ${label(v)} is empty` };
    const value = this.read(v, idx, undefined, true);
    this.push(0, { kind: 'store', buffer, index: this.simp(flatten(idx, v.shape)), value });
    const sides: { v: Value; store: Stmt; vars: Set<string> }[] = [];
    for (const [s, at] of this.sideReads) {
      const vars = new Set<string>();
      const injective = at.idx.every((e) => e.kind === 'const' || (e.kind === 'var' && this.varLevel.get(e.name) === 0 && !vars.has(e.name) && vars.add(e.name)));
      if (!injective || this.refLevel.get(at.ref) !== 0) throw new EmitFailure(s, 'graph output the kernel that reads it cannot store (not read once per element at its outer level)');
      const store: Stmt = { kind: 'store', buffer: this.env.bufferOf(s), index: this.simp(flatten(at.idx, s.shape)), value: at.ref };
      this.push(0, store);
      sides.push({ v: s, store, vars });
    }
    const ops = [...new Set(this.ops)];
    const note = `${ops.length > 0 ? `${ops.join(' ')} ` : 'copy '}→ ${[v, ...sides.map((x) => x.v)].map(label).join(', ')}`;
    const { domain: outer, body } = this.split(domain);
    // Each side output element is stored exactly once: by the loop level whose axes are its index's.
    for (const { v: s, store, vars } of sides) {
      const executes = body.includes(store) ? outer : domain;
      const size = this.simp(ix.mul(...s.shape.map(dimExpr)));
      const points = this.simp(ix.mul(...executes.map((a) => a.extent)));
      if (executes.length !== vars.size || !executes.every((a) => vars.has(a.name)) || printIndex(size) !== printIndex(points)) {
        throw new EmitFailure(s, 'graph output the kernel that reads it cannot store once per element');
      }
    }
    return splitAxes({ kind: 'loop', name: this.name, domain: outer, body: renumber(body), note });
  }

  // ---- placing statements ----

  private simp(e: IndexExpr): IndexExpr {
    return simplify(e, this.extents);
  }

  /** The innermost scope whose axes or scalars an index expression reads. */
  private levelOf(e: IndexExpr): number {
    switch (e.kind) {
      case 'const': case 'sym': return 0;
      case 'var': return this.varLevel.get(e.name) ?? fail('E_VERIFY', `kernel ${this.name}: axis ${e.name} is not in scope`);
      case 'ref': return this.refLevel.get(e.id)!;
      case 'add': return e.terms.reduce((l, t) => Math.max(l, this.levelOf(t)), 0);
      case 'mul': return e.factors.reduce((l, f) => Math.max(l, this.levelOf(f)), 0);
      case 'div': case 'mod': return Math.max(this.levelOf(e.a), this.levelOf(e.b));
    }
  }

  private push(level: number, s: Stmt): void {
    this.scopes[level]!.stmts.push(s);
  }

  /** A `let`, placed at the outermost level its operands allow, or an equal one already there. */
  private let(dtype: DType, expr: Expr): number {
    let level = 0;
    let key: string;
    switch (expr.op) {
      case 'load':
        level = this.levelOf(expr.index);
        if (expr.mask !== undefined) level = Math.max(level, this.refLevel.get(expr.mask)!);
        key = `load ${expr.buffer}[${printIndex(expr.index)}] ${expr.mask ?? ''}`;
        break;
      case 'const':
        key = `const ${typeof expr.value === 'number' && Object.is(expr.value, -0) ? '-0' : String(expr.value)}`;
        break;
      case 'index':
        level = this.levelOf(expr.index);
        key = `index ${printIndex(expr.index)}`;
        break;
      case 'inbounds':
        level = Math.max(this.levelOf(expr.index), this.levelOf(expr.extent));
        key = `inbounds ${printIndex(expr.index)} ${printIndex(expr.extent)}`;
        break;
      case 'prim':
        for (const a of expr.args) level = Math.max(level, this.refLevel.get(a)!);
        key = `${expr.prim} ${expr.args.join(',')}`;
        break;
    }
    key = `${dtype} ${key}`;
    const scope = this.scopes[level]!;
    const hit = scope.memo.get(key);
    if (hit !== undefined) return hit;
    const id = this.nextId++;
    scope.stmts.push({ kind: 'let', id, dtype, expr });
    scope.memo.set(key, id);
    this.refLevel.set(id, level);
    return id;
  }

  private konst(dtype: DType, value: number | bigint | boolean): number {
    return this.let(dtype, { op: 'const', value: Tensor.scalar(dtype, value).data[0]! });
  }

  private prim(dtype: DType, prim: string, args: number[]): number {
    return this.let(dtype, { op: 'prim', prim, args });
  }

  private and(a: number | undefined, b: number | undefined): number | undefined {
    if (a === undefined) return b;
    if (b === undefined || a === b) return a;
    return this.prim('bool', 'and', [a, b]);
  }

  // ---- reading a value at a multi-index ----

  /** The scalar of `v` at `idx`; loads are masked by `guard` (a bool scalar) where one is given. */
  private read(v: Value, idx: readonly IndexExpr[], guard: number | undefined, isRoot = false): number {
    const sidx = idx.map((e) => this.simp(e));
    const key = `read ${v.id} [${sidx.map(printIndex).join(', ')}] ${guard ?? ''}`;
    let level = guard !== undefined ? this.refLevel.get(guard)! : 0;
    for (const e of sidx) level = Math.max(level, this.levelOf(e));
    for (let l = 0; l <= level; l++) {
      const hit = this.scopes[l]!.memo.get(key);
      if (hit !== undefined) return hit;
    }
    const r = this.compute(v, sidx, guard, isRoot);
    this.scopes[this.refLevel.get(r)!]!.memo.set(key, r);
    if (!isRoot && this.env.plan.sideStores.has(v)) {
      const prior = this.sideReads.get(v);
      if (prior && prior.key !== key) throw new EmitFailure(v, 'graph output read at several indices by the kernel that would store it');
      this.sideReads.set(v, { key, idx: sidx, ref: r });
    }
    return r;
  }

  private compute(v: Value, idx: readonly IndexExpr[], guard: number | undefined, isRoot: boolean): number {
    const role = this.role(v) ?? fail('E_VERIFY', `kernel ${this.name}: value %${v.name ?? v.id} has no role`);
    const n = v.producer;
    if (role === 'literal') return this.konst(v.dtype, n!.tensor('value').data[0]!);
    if (role === 'input' || role === 'weight' || role === 'extern' || (role === 'root' && !isRoot)) {
      return this.load(v, this.simp(flatten(idx, v.shape)), guard);
    }
    if (!n) return fail('E_VERIFY', `kernel ${this.name}: graph input %${v.name ?? v.id} has no buffer`);
    const kind = this.env.plan.kinds.get(n);
    switch (kind) {
      case 'movement': return this.movement(n, idx, guard);
      case 'pointwise': return this.pointwise(n, idx, guard);
      case 'reduce': case 'dot': return this.stage(n, idx, guard);
      case 'gather': return this.gather(n, idx, guard);
      case 'source':
        if (n.opName === 'iota') return this.let(v.dtype, { op: 'index', index: idx[n.int('axis')]! });
        break;
      default: break;
    }
    return fail('E_VERIFY', `kernel ${this.name}: cannot compute ${n.describe()} inside a kernel`);
  }

  private load(v: Value, flat: IndexExpr, guard: number | undefined): number {
    const buffer = this.env.bufferOf(v);
    return this.let(v.dtype, { op: 'load', buffer, index: flat, ...(guard !== undefined ? { mask: guard } : {}) });
  }

  /** Read through reshapes by flat index (no div/mod when the source is a buffer). */
  private readFlat(v: Value, flat: IndexExpr, guard: number | undefined): number {
    const role = this.role(v);
    if (role === 'input' || role === 'weight' || role === 'extern' || role === 'root') return this.load(v, this.simp(flat), guard);
    if (role === 'view' && v.producer?.opName === 'reshape') return this.readFlat(v.producer.input(0), flat, guard);
    return this.read(v, unflatten(this.simp(flat), v.shape), guard);
  }

  private movement(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const x = n.input(0);
    const out = n.output.shape;
    switch (n.opName) {
      case 'reshape':
        return this.readFlat(x, flatten(idx, out), guard);
      case 'permute': {
        const perm = n.ints('perm');
        const src = new Array<IndexExpr>(perm.length);
        perm.forEach((p, k) => (src[p] = idx[k]!));
        return this.read(x, src, guard);
      }
      case 'broadcast': {
        const off = out.length - x.shape.length;
        return this.read(x, x.shape.map((d, j) => (d === 1 ? ix.c(0) : idx[j + off]!)), guard);
      }
      case 'slice': {
        const src = [...idx];
        const axes = n.ints('axes');
        const [starts, stops, steps] = [n.ints('starts'), n.ints('stops'), n.ints('steps')];
        axes.forEach((a, i) => {
          const d = x.shape[a]!;
          if (typeof d !== 'number') return; // whole symbolic dim (the only slice of one inference allows)
          const { start } = sliceAxis(d, starts[i]!, stops[i]!, steps[i]!);
          src[a] = ix.add(ix.c(start), ix.mul(ix.c(steps[i]!), idx[a]!));
        });
        return this.read(x, src, guard);
      }
      case 'pad': return this.pad(n, idx, guard);
      case 'concat': return this.concat(n, idx, guard);
      default: return fail('E_VERIFY', `kernel ${this.name}: unknown movement op ${n.op}`);
    }
  }

  private pad(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const x = n.input(0);
    const pads = n.ints('pads');
    const r = x.shape.length;
    let mask: number | undefined;
    const src = idx.map((e, a) => {
      const s = this.simp(ix.sub(e, ix.c(pads[a]!)));
      const d = x.shape[a]!;
      const range = rangeOf(s, this.extents);
      const inside = range.lo >= 0 && (typeof d === 'number' ? range.hi < d : false);
      if (!inside && (pads[a]! > 0 || pads[a + r]! > 0)) {
        mask = this.and(mask, this.let('bool', { op: 'inbounds', index: s, extent: dimExpr(d) }));
      }
      return s;
    });
    if (mask === undefined) return this.read(x, src, guard);
    const v = this.read(x, src, this.and(guard, mask));
    const fill = this.konst(x.dtype, Tensor.scalar(x.dtype, n.float('value', 0)).data[0]!);
    this.ops.push('pad');
    return this.prim(x.dtype, 'where', [mask, v, fill]);
  }

  private concat(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const axis = n.int('axis');
    const at = idx[axis]!;
    const parts: { x: Value; local: IndexExpr; len: Dim }[] = [];
    let off: IndexExpr = ix.c(0);
    // A concat of concats (views) along the same axis reads as one concat of all their operands.
    const flat = (xs: readonly (Value | null)[]): Value[] => xs.flatMap((x) => {
      const p = x!.producer;
      return this.role(x!) === 'view' && p?.opName === 'concat' && p.int('axis') === axis ? flat(p.inputs) : [x!];
    });
    for (const x of flat(n.inputs)) {
      const len = x.shape[axis]!;
      const local = this.simp(ix.sub(at, off));
      off = ix.add(off, dimExpr(len));
      if (len === 0) continue;
      const r = rangeOf(local, this.extents);
      if (r.hi < 0 || (typeof len === 'number' && r.lo >= len)) continue; // never read here
      parts.push({ x, local, len });
    }
    const readPart = (p: { x: Value; local: IndexExpr }, g: number | undefined): number =>
      this.read(p.x, idx.map((e, a) => (a === axis ? p.local : e)), g);
    if (parts.length === 1) return readPart(parts[0]!, guard);
    if (parts.length === 0) return this.konst(n.output.dtype, 0); // only in a loop that never runs (an empty result)
    // Read along a reduction axis, every element would test which operand it is in, and a GEMM could not
    // read the operand as a matrix (its packing would go element by element): one copy is cheaper.
    if (this.scopes.length > 1 && this.levelOf(at) > 0) {
      throw new EmitFailure(n.output, `a concat of ${parts.length} operands read along a reduction axis (materialized, so the reduction reads one load)`);
    }
    this.ops.push('concat');
    const conds = parts.map((p) => this.let('bool', { op: 'inbounds', index: p.local, extent: dimExpr(p.len) }));
    let acc = readPart(parts[parts.length - 1]!, this.and(guard, conds[conds.length - 1]));
    for (let k = parts.length - 2; k >= 0; k--) {
      const v = readPart(parts[k]!, this.and(guard, conds[k]));
      acc = this.prim(n.output.dtype, 'where', [conds[k]!, v, acc]);
    }
    return acc;
  }

  private pointwise(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const out = n.output.shape;
    const args = n.inputs.map((x) => this.read(x!, broadcastIndex(x!.shape, out, idx), guard));
    this.ops.push(n.opName);
    return this.prim(n.output.dtype, n.opName, args);
  }

  private gather(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const data = n.input(0);
    const indices = n.input(1);
    const axis = n.int('axis');
    const q = indices.shape.length;
    const j = this.read(indices, idx.slice(axis, axis + q), guard);
    const dim = dimExpr(data.shape[axis]!);
    // -dim <= j < dim, else the reference stops with an error; normalized by floor modulo.
    const ok = this.let('bool', { op: 'inbounds', index: ix.add(ix.ref(j), dim), extent: ix.mul(ix.c(2), dim) });
    const cond = guard === undefined ? ok : this.prim('bool', 'or', [this.prim('bool', 'not', [guard]), ok]);
    this.push(this.refLevel.get(cond)!, { kind: 'check', cond, message: `${n.describe()}: an index is out of range for a dim of ${printIndex(dim)}` });
    const src = [...idx.slice(0, axis), ix.mod(ix.ref(j), dim), ...idx.slice(axis + q)];
    this.ops.push('gather');
    return this.read(data, src, guard);
  }

  /** A reduction or dot as a reduce stage at the kernel's outer level. */
  private stage(n: Node, idx: readonly IndexExpr[], guard: number | undefined): number {
    const v = n.output;
    const key = idx.map(printIndex).join(', ');
    const prior = this.stages.get(v);
    if (prior !== undefined && prior !== `${key} ${guard ?? ''}`) {
      throw new EmitFailure(v, `read at several indices in one kernel (each would compute the reduction again)`);
    }
    let level = guard !== undefined ? this.refLevel.get(guard)! : 0;
    for (const e of idx) level = Math.max(level, this.levelOf(e));
    if (level > 0) throw new EmitFailure(v, `read inside another reduction's loop (it would be computed once per iteration)`);
    this.stages.set(v, `${key} ${guard ?? ''}`);
    const bodyLevel = this.scopes.length;
    this.scopes.push({ stmts: [], memo: new Map() });
    const axes: Axis[] = [];
    const newVar = (extent: Dim): IndexExpr => {
      if (extent === 1) return ix.c(0);
      const a: Axis = { name: `r${this.nextReduceVar++}`, extent: dimExpr(extent) };
      axes.push(a);
      this.varLevel.set(a.name, bodyLevel);
      this.axisExtent.set(a.name, a.extent);
      return ix.v(a.name);
    };
    let combiner: Combiner;
    let operands: number[];
    let selectLast = false;
    if (n.opName === 'dot') {
      const [lb, rb, lc, rc] = [n.ints('lhs_batch', []), n.ints('rhs_batch', []), n.ints('lhs_contract'), n.ints('rhs_contract')];
      const a = n.input(0);
      const b = n.input(1);
      const rvars = lc.map((ax) => newVar(a.shape[ax]!));
      const aFree = a.shape.map((_, i) => i).filter((i) => !lb.includes(i) && !lc.includes(i));
      const bFree = b.shape.map((_, i) => i).filter((i) => !rb.includes(i) && !rc.includes(i));
      const aIdx = a.shape.map((_, i) => (lb.includes(i) ? idx[lb.indexOf(i)]! : lc.includes(i) ? rvars[lc.indexOf(i)]! : idx[lb.length + aFree.indexOf(i)]!));
      const bIdx = b.shape.map((_, i) => (rb.includes(i) ? idx[rb.indexOf(i)]! : rc.includes(i) ? rvars[rc.indexOf(i)]! : idx[lb.length + aFree.length + bFree.indexOf(i)]!));
      operands = [this.read(a, aIdx, guard), this.read(b, bIdx, guard)];
      combiner = 'dot';
    } else {
      const x = n.input(0);
      const isArg = n.opName === 'argmax' || n.opName === 'argmin';
      const axes0 = isArg ? [n.int('axis')] : n.ints('axes');
      const keep = n.int('keepdims', 0) !== 0;
      let pos = 0;
      const src = x.shape.map((d, i) => {
        if (axes0.includes(i)) {
          if (keep) pos++;
          if (isArg) {
            const a: Axis = { name: `r${this.nextReduceVar++}`, extent: dimExpr(d) };
            axes.push(a);
            this.varLevel.set(a.name, bodyLevel);
            this.axisExtent.set(a.name, a.extent);
            return ix.v(a.name);
          }
          return newVar(d);
        }
        return idx[pos++]!;
      });
      operands = [this.read(x, src, guard)];
      combiner = n.opName.replace('reduce_', '') as Combiner;
      selectLast = isArg && n.int('select_last_index', 0) !== 0;
    }
    const scope = this.scopes.pop()!;
    for (const a of axes) {
      this.varLevel.delete(a.name);
      this.axisExtent.delete(a.name);
    }
    const id = this.nextId++;
    const stmt: Reduce = { kind: 'reduce', id, dtype: v.dtype, combiner, axes, body: scope.stmts, operands, ...(selectLast ? { selectLast } : {}) };
    this.push(level, stmt);
    this.refLevel.set(id, level);
    this.stageValue.set(id, v);
    const named = new Set<string>();
    for (const e of idx) for (const x of varsOf(e)) named.add(x);
    this.stageVars.set(id, named);
    this.ops.push(n.opName);
    return id;
  }

  // ---- the row-kernel split ----

  /** Parallelize over the axes the reduce stages depend on; loop over the others inside. */
  private split(domain: Axis[]): { domain: Axis[]; body: Stmt[] } {
    const top = this.scopes[0]!.stmts;
    const domainVars = new Set(domain.map((a) => a.name));
    const deps = new Map<number, Set<string>>();
    const depsOf = (s: Stmt): Set<string> => {
      const out = new Set<string>();
      const addIndex = (e: IndexExpr): void => {
        for (const v of varsOf(e)) if (domainVars.has(v)) out.add(v);
        for (const r of refsOf(e)) for (const v of deps.get(r) ?? []) out.add(v);
      };
      const addRef = (r: number): void => {
        for (const v of deps.get(r) ?? []) out.add(v);
      };
      const walk = (st: Stmt): void => {
        switch (st.kind) {
          case 'let': {
            const e = st.expr;
            if (e.op === 'load') {
              addIndex(e.index);
              if (e.mask !== undefined) addRef(e.mask);
            } else if (e.op === 'index') addIndex(e.index);
            else if (e.op === 'inbounds') {
              addIndex(e.index);
              addIndex(e.extent);
            } else if (e.op === 'prim') e.args.forEach(addRef);
            break;
          }
          case 'reduce':
            for (const x of this.stageVars.get(st.id) ?? []) if (domainVars.has(x)) out.add(x);
            st.operands.forEach(addRef);
            st.body.forEach(walk);
            break;
          case 'loop': st.body.forEach(walk); break;
          case 'store': addIndex(st.index); addRef(st.value); break;
          case 'check': addRef(st.cond); break;
        }
      };
      walk(s);
      return out;
    };
    const stmtDeps = top.map((s) => {
      const d = depsOf(s);
      if (s.kind === 'let' || s.kind === 'reduce') deps.set(s.id, d);
      return d;
    });
    const stages = top.filter((s): s is Reduce => s.kind === 'reduce');
    const outerVars = new Set<string>();
    top.forEach((s, i) => {
      if (s.kind === 'reduce') for (const v of stmtDeps[i]!) outerVars.add(v);
    });
    const outer = domain.filter((a) => outerVars.has(a.name));
    const points = this.simp(ix.mul(...outer.map((a) => a.extent)));
    for (const s of stages) {
      const r = this.stageValue.get(s.id)!;
      const size = this.simp(ix.mul(...r.shape.map(dimExpr)));
      if (printIndex(size) !== printIndex(points)) {
        throw new EmitFailure(r, `not one-to-one with the consumer's loop (${printIndex(size)} results, ${printIndex(points)} iterations): it would be computed again`);
      }
    }
    if (stages.length === 0 || outer.length === domain.length) return { domain, body: top };
    const inner = domain.filter((a) => !outerVars.has(a.name));
    const outerStmts: Stmt[] = [];
    const innerStmts: Stmt[] = [];
    top.forEach((s, i) => {
      const d = stmtDeps[i]!;
      if ([...d].every((v) => outerVars.has(v))) outerStmts.push(s);
      else if (s.kind === 'reduce') fail('E_VERIFY', `kernel ${this.name}: a reduce stage depends on an inner axis`);
      else innerStmts.push(s);
    });
    return { domain: outer, body: [...outerStmts, { kind: 'loop', axes: inner, body: innerStmts }] };
  }
}

/** numpy broadcasting: the operand's index for the result's index (size-1 dims read element 0). */
function broadcastIndex(shape: readonly Dim[], out: readonly Dim[], idx: readonly IndexExpr[]): IndexExpr[] {
  const off = out.length - shape.length;
  return shape.map((d, j) => (d === 1 ? ix.c(0) : idx[j + off]!));
}

export const label = (v: Value): string => `%${v.name ?? v.id}`;
