// The shared walk of a loop kernel for backends that print C-like source (C++, C99, CUDA, …). It owns what
// every such renderer does the same way — the order of statements, SSA values as named locals with their
// dtypes, loop variables in scope, index expressions as integer arithmetic — and asks its subclass only how
// things are *spelled*: a scalar type, a literal, a prim, a load, a store, a loop header, a reduction.
//
//   kernel k0 (i0 < 4) { %0 = load f32 @in0[i0]; %1 = exp f32 %0; store @out0[i0] = %1 }
// becomes, with the CPU backend's spelling,
//   for (index_t i0 = 0; i0 < 4; ++i0) {
//     const float v0 = b_in0[i0];
//     const float v1 = aic::cpu::vexp(v0);
//     b_out0[i0] = v1;
//   }
import type { DType } from '../ir/dtype.js';
import { fail } from '../ir/error.js';
import { rangeOf, type Extents, type IndexExpr } from '../kernel/index-expr.js';
import type { Axis, Combiner, LoopKernel, Stmt } from '../kernel/kernel.js';
import type { Buffer } from '../kernel/program.js';

export type LetStmt = Extract<Stmt, { kind: 'let' }>;
export type ReduceStmt = Extract<Stmt, { kind: 'reduce' }>;
export type LoopStmt = Extract<Stmt, { kind: 'loop' }>;

/** Where a loop sits: the kernel's parallel domain, an inner (epilogue) loop, or a reduction's axes. */
export type LoopRole = 'domain' | 'inner' | 'reduce';

/** How a reduction is written: an accumulator, a step per point, the result. */
export interface ReduceSpelling {
  /** Declarations before the loops (`double a3 = 0.0;`). */
  readonly init: readonly string[];
  /** Statements run at every point, after the body (`a3 += (double)v5;`). */
  step(operands: readonly string[], position: string): string[];
  /** The result's value, of the reduce statement's dtype. */
  readonly result: string;
  /** Extra text for the innermost reduce loop's header (a vectorizing pragma), if the step allows one. */
  readonly innerPragma?: string;
}

export abstract class KernelWriter {
  protected readonly lines: string[] = [];
  protected depth: number;
  /** The dtype of every SSA value in scope. */
  protected readonly types = new Map<number, DType>();
  /** Loop variables in scope, with their extents. */
  protected readonly axes = new Map<string, IndexExpr>();
  protected readonly extents: Extents = (name) => this.axes.get(name);

  constructor(protected readonly kernel: LoopKernel, protected readonly buffers: ReadonlyMap<string, Buffer>, depth = 1) {
    this.depth = depth;
  }

  // ---- the spelling a subclass supplies ----

  /** The type of a scalar value of dtype t. */
  protected abstract valueType(t: DType): string;
  /** A literal of dtype t (the value is exact for t). */
  protected abstract literal(t: DType, v: number | bigint): string;
  /** A pointwise prim (`add`, `exp`, `where`, `cast`, …) of operand expressions. */
  protected abstract prim(op: string, args: readonly string[], types: readonly DType[], out: DType): string;
  /** A buffer element as a value (`mask` is an expression of type bool, or undefined; `maskId` its value). */
  protected abstract load(buffer: string, index: IndexExpr, t: DType, mask: string | undefined, maskId: number | undefined): string;
  /** The statement storing a value. */
  protected abstract store(buffer: string, index: IndexExpr, value: string, t: DType): string;
  /** An integer index converted to dtype t (iota). */
  protected abstract indexValue(t: DType, index: string): string;
  /** `0 <= index < extent` as a bool expression. */
  protected abstract inbounds(index: string, extent: string): string;
  /** Stop the program with a message where cond is false. */
  protected abstract check(cond: string, message: string): string;
  /** How a reduce stage folds its operands. */
  protected abstract reduction(s: ReduceStmt, operandType: DType): ReduceSpelling;
  /** A size symbol's local name. */
  protected abstract symbol(name: string): string;
  /** Floor division and modulo where an operand may be negative. */
  protected abstract floorDiv(a: string, b: string): string;
  protected abstract floorMod(a: string, b: string): string;
  /** The header of one loop (`for (index_t i0 = 0; i0 < n; ++i0)`), and lines to put before it. */
  protected abstract loopHeader(axis: Axis, role: LoopRole, innermost: boolean, pragma: string | undefined): string[];

  // ---- names ----

  protected value(id: number): string {
    if (!this.types.has(id)) fail('E_VERIFY', `kernel ${this.kernel.name}: %${id} is used before it is defined`);
    return `v${id}`;
  }

  protected axisName(name: string): string {
    return /^[a-z][0-9]+$/.test(name) ? name : `x_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }

  protected typeOf(id: number): DType {
    return this.types.get(id) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: %${id} is used before it is defined`);
  }

  protected emit(line: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${line}`);
  }

  // ---- index expressions: 64-bit integer arithmetic, floor division and modulo ----

  protected index(e: IndexExpr): string {
    switch (e.kind) {
      case 'const': return e.value < 0 ? `(${this.int(e.value)})` : this.int(e.value);
      case 'var': {
        if (!this.axes.has(e.name)) fail('E_VERIFY', `kernel ${this.kernel.name}: axis ${e.name} is not in scope`);
        return this.axisName(e.name);
      }
      case 'sym': return this.symbol(e.name);
      case 'ref': return `((index_t)${this.value(e.id)})`;
      case 'add': {
        // `a - 3`, `a - 2 * b` rather than `a + (-3)`
        let out = '';
        e.terms.forEach((t, i) => {
          const neg = t.kind === 'const' && t.value < 0 ? this.int(-t.value)
            : t.kind === 'mul' && t.factors[0]?.kind === 'const' && t.factors[0].value < 0
              ? [this.int(-t.factors[0].value), ...t.factors.slice(1).map((f) => this.index(f))].join(' * ') : undefined;
          if (i === 0) out = this.index(t);
          else out += neg !== undefined ? ` - ${neg}` : ` + ${this.index(t)}`;
        });
        return `(${out})`;
      }
      case 'mul': return e.factors.map((f) => this.index(f)).join(' * ');
      case 'div': case 'mod': {
        const a = this.index(e.a);
        const b = this.index(e.b);
        const nonNeg = rangeOf(e.a, this.extents).lo >= 0 && e.b.kind === 'const' && e.b.value > 0;
        if (nonNeg) return e.kind === 'div' ? `(${a} / ${b})` : `(${a} % ${b})`;
        return e.kind === 'div' ? this.floorDiv(a, b) : this.floorMod(a, b);
      }
    }
  }

  /** An integer literal of the index type. */
  protected int(v: number): string {
    return Math.abs(v) < 2 ** 31 ? String(v) : `${v}LL`;
  }

  // ---- statements ----

  /** Write statements in order; values they define stay in scope until `forget`. */
  protected body(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      switch (s.kind) {
        case 'let': this.let(s); break;
        case 'store': {
          const b = this.buffers.get(s.buffer) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: no buffer @${s.buffer}`);
          if (b.dtype !== this.typeOf(s.value)) fail('E_VERIFY', `kernel ${this.kernel.name}: storing a ${this.typeOf(s.value)} into @${s.buffer} (${b.dtype})`);
          this.emit(this.store(s.buffer, s.index, this.value(s.value), b.dtype));
          break;
        }
        case 'check': this.emit(this.check(this.value(s.cond), s.message)); break;
        case 'loop': this.loop(s); break;
        case 'reduce': this.reduce(s); break;
      }
    }
  }

  protected let(s: LetStmt): void {
    const e = s.expr;
    let text: string;
    switch (e.op) {
      case 'load': {
        const b = this.buffers.get(e.buffer) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: no buffer @${e.buffer}`);
        if (b.dtype !== s.dtype) fail('E_VERIFY', `kernel ${this.kernel.name}: loading a ${s.dtype} from @${e.buffer} (${b.dtype})`);
        text = this.load(e.buffer, e.index, s.dtype, e.mask !== undefined ? this.value(e.mask) : undefined, e.mask);
        break;
      }
      case 'const': text = this.literal(s.dtype, e.value); break;
      case 'index': text = this.indexValue(s.dtype, this.index(e.index)); break;
      case 'inbounds': text = this.inbounds(this.index(e.index), this.index(e.extent)); break;
      case 'prim': text = this.prim(e.prim, e.args.map((a) => this.value(a)), e.args.map((a) => this.typeOf(a)), s.dtype); break;
    }
    this.define(s.id, s.dtype);
    this.emit(`const ${this.valueType(s.dtype)} v${s.id} = ${text};`);
  }

  protected define(id: number, t: DType): void {
    if (this.types.has(id)) fail('E_VERIFY', `kernel ${this.kernel.name}: %${id} is defined twice`);
    this.types.set(id, t);
  }

  /** Open nested loops over `axes` (outermost first), run `inner`, close them. */
  protected loops(axes: readonly Axis[], role: LoopRole, inner: () => void, innerPragma?: string): void {
    axes.forEach((a, i) => {
      if (this.axes.has(a.name)) fail('E_VERIFY', `kernel ${this.kernel.name}: axis ${a.name} is defined twice`);
      for (const l of this.loopHeader(a, role, i === axes.length - 1, i === axes.length - 1 ? innerPragma : undefined)) this.emit(l);
      this.axes.set(a.name, a.extent);
      this.depth++;
    });
    if (axes.length === 0) {
      this.emit('{');
      this.depth++;
    }
    inner();
    for (let i = 0; i < Math.max(1, axes.length); i++) {
      this.depth--;
      this.emit('}');
    }
    for (const a of axes) this.axes.delete(a.name);
  }

  protected loop(s: LoopStmt): void {
    this.loops(s.axes, 'inner', () => this.body(s.body), this.innerLoopPragma(s));
    this.forget(s.body);
  }

  /** A pragma for the innermost axis of an inner loop (none by default). */
  protected innerLoopPragma(_s: LoopStmt): string | undefined {
    return undefined;
  }

  protected reduce(s: ReduceStmt): void {
    const opType = this.operandType(s);
    const r = this.reduction(s, opType);
    for (const l of r.init) this.emit(l);
    const position = s.axes.length > 0 ? this.axisName(s.axes[s.axes.length - 1]!.name) : '0';
    this.loops(s.axes, 'reduce', () => {
      this.body(s.body);
      for (const l of r.step(s.operands.map((o) => this.value(o)), position)) this.emit(l);
    }, r.innerPragma);
    this.forget(s.body);
    this.define(s.id, s.dtype);
    this.emit(`const ${this.valueType(s.dtype)} v${s.id} = ${r.result};`);
  }

  /** The dtype of a reduce stage's (first) operand. */
  protected operandType(s: ReduceStmt): DType {
    const id = s.operands[0] ?? fail('E_VERIFY', `kernel ${this.kernel.name}: reduce %${s.id} has no operand`);
    const find = (body: readonly Stmt[]): DType | undefined => {
      for (const st of body) {
        if ((st.kind === 'let' || st.kind === 'reduce') && st.id === id) return st.dtype;
        if (st.kind === 'reduce' || st.kind === 'loop') {
          const d = find(st.body);
          if (d) return d;
        }
      }
      return undefined;
    };
    return find(s.body) ?? this.typeOf(id);
  }

  /** Values defined in a closed block go out of scope (as they do in C). */
  protected forget(body: readonly Stmt[]): void {
    for (const st of body) {
      if (st.kind === 'let' || st.kind === 'reduce') this.types.delete(st.id);
      if (st.kind === 'reduce' || st.kind === 'loop') this.forget(st.body);
    }
  }
}

/** Every combiner a renderer must spell. */
export type { Combiner };
