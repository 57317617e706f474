// A loop kernel as a C++ function: the shared walk (../kernel-writer.ts) with the CPU's spelling. A
// parallel domain (past a size where threads pay) becomes a function of a range [lo_, hi_) of its outer
// axes, flattened, that the kernel proper runs on aic's thread pool (runtime/threads.h); the innermost axis
// of a pointwise kernel or an inner loop carries `#pragma omp simd`; a reduction keeps vector accumulators
// through `omp simd reduction(...)` on its innermost axis.
//
//   kernel k0 "exp → %y" (i0 < 64, i1 < 1024) { %0 = load f32 @in0[1024*i0 + i1]; %1 = exp f32 %0; store @out0[1024*i0 + i1] = %1 }
// becomes
//   static void kernel_k0_part(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st, index_t lo_, index_t hi_) {
//     for (index_t i0 = lo_; i0 < hi_; ++i0) {
//       #pragma omp simd
//       for (index_t i1 = 0; i1 < 1024; ++i1) {
//         const float v0 = b_in0[(1024 * i0 + i1)];
//         const float v1 = aic::cpu::vexp(v0);
//         b_out0[(1024 * i0 + i1)] = v1;
//       }
//     }
//   }
//   static void kernel_k0(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
//     aic::threads::parallel_range((64), aic::threads::max_threads(), [&](index_t lo_, index_t hi_) { kernel_k0_part(b_in0, b_out0, S, st, lo_, hi_); });
//   }
import { DTYPE_INFO, isFloat, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { rangeOf, refsOf, symsOf, varsOf, type IndexExpr } from '../../kernel/index-expr.js';
import { allStmts, hasStages, kernelReads, kernelWrites, type Axis, type LoopKernel, type Stmt } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import { KernelWriter, type LoopRole, type LoopStmt, type ReduceSpelling, type ReduceStmt } from '../kernel-writer.js';
import { cast, checkDType, cxxPrim, elementType, fromElement, indexAs, isNarrowFloat, isSubByteInt, literal, rounder, toElement, valueType, zero } from './spelling.js';

/** What a kernel function needs from the program around it. */
export interface KernelContext {
  readonly buffers: ReadonlyMap<string, Buffer>;
  /** The C++ name of each size symbol (a local of the kernel function, read from S). */
  readonly symbols: ReadonlyMap<string, string>;
  /** Index of each size symbol in S. */
  readonly symbolIndex: ReadonlyMap<string, number>;
  /** Whether two buffers share memory (temps the planner placed in place of each other): a kernel that
   * uses both gets no __restrict__ on them. */
  readonly overlap: (a: string, b: string) => boolean;
  /** Element count of a buffer as a C++ expression of the size locals. */
  readonly elements: (b: Buffer) => string;
  /** Compile a graph (a loop body, a branch) as a model of its own in the same source; its ABI prefix. */
  readonly subModel?: (g: import('../../ir/graph.js').Graph, tag: string) => string;
}

/** Bytes before and after the arena that masked loads may read (and discard). */
export const ARENA_GUARD_BYTES = 1 << 16;

/** Work (points times statements) below which a kernel runs on one thread: a loop on runtime/threads.h's
 * pool costs a few µs (its workers spin between kernels), and a thread reading what the other core just
 * wrote pays for the cache lines crossing over. 2^18 is some 50-100 µs on one core; 2^21, chosen with
 * libgomp, left SqueezeNet's max pools and concatenations on one thread. */
export const PARALLEL_WORK = 1 << 18;

export const bufferParam = (name: string): string => `b_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** A C string literal. */
export function cString(s: string): string {
  let out = '"';
  for (const ch of Buffer.from(s, 'utf8')) {
    if (ch === 0x22) out += '\\"';
    else if (ch === 0x5c) out += '\\\\';
    else if (ch === 0x3f) out += '\\?'; // no trigraphs
    else if (ch >= 0x20 && ch < 0x7f) out += String.fromCharCode(ch);
    else out += `\\${ch.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The parameters a kernel function takes: its buffers in order of first use, then S and st. */
export function kernelParams(k: LoopKernel, ctx: KernelContext): { names: string[]; decl: string } {
  const writes = kernelWrites(k);
  const order: string[] = [];
  const seen = new Set<string>();
  for (const s of allStmts(k.body)) {
    const name = s.kind === 'let' && s.expr.op === 'load' ? s.expr.buffer : s.kind === 'store' ? s.buffer : undefined;
    if (name !== undefined && !seen.has(name)) {
      seen.add(name);
      order.push(name);
    }
  }
  for (const n of [...kernelReads(k), ...writes]) if (!seen.has(n)) order.push(n);
  const params = order.map((n) => {
    const b = ctx.buffers.get(n) ?? fail('E_VERIFY', `kernel ${k.name}: no buffer @${n}`);
    checkDType(b.dtype, `buffer @${n}`);
    const restrict = order.some((o) => o !== n && ctx.overlap(o, n)) ? '' : ' AIC_RESTRICT';
    return `${writes.has(n) ? '' : 'const '}${elementType(b.dtype)}*${restrict} ${bufferParam(n)}`;
  });
  return { names: order, decl: [...params, 'const index_t* S', 'aic::Status* st'].join(', ') };
}

/** The symbols an index expression, an axis extent or a buffer's size reads, for declaring their locals. */
export function kernelSymbols(k: LoopKernel): Set<string> {
  const out = new Set<string>();
  const idx = (e: IndexExpr): void => void symsOf(e, out);
  for (const a of k.domain) idx(a.extent);
  for (const s of allStmts(k.body)) {
    if (s.kind === 'let') {
      const e = s.expr;
      if (e.op === 'load' || e.op === 'index') idx(e.index);
      if (e.op === 'inbounds') {
        idx(e.index);
        idx(e.extent);
      }
    } else if (s.kind === 'store') idx(s.index);
    else if (s.kind === 'reduce' || s.kind === 'loop') for (const a of s.axes) idx(a.extent);
  }
  return out;
}

/** In a value's axis dependencies: it may depend on any axis. */
const ANY = '*';

/** Static work estimate of a body (statements times trip counts), or undefined where a size is symbolic. */
function work(stmts: readonly Stmt[]): number | undefined {
  let total = 0;
  for (const s of stmts) {
    if (s.kind === 'reduce' || s.kind === 'loop') {
      let trips = 1;
      for (const a of s.axes) {
        if (a.extent.kind !== 'const') return undefined;
        trips *= a.extent.value;
      }
      const inner = work(s.body);
      if (inner === undefined) return undefined;
      total += trips * (inner + 1);
    } else total += 1;
  }
  return total;
}

export class CpuKernelWriter extends KernelWriter {
  constructor(kernel: LoopKernel, private readonly ctx: KernelContext, depth = 1) {
    super(kernel, ctx.buffers, depth);
  }

  /** The whole function. */
  render(): string {
    const k = this.kernel;
    const { names, decl } = kernelParams(k, this.ctx);
    this.emitSymbols(kernelSymbols(k));
    const symbols = [...this.lines];
    this.domain();
    const fn = `kernel_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const range = this.parallelRange;
    if (range === undefined) return [`static void ${fn}(${decl}) {`, '  (void)S; (void)st;', ...this.lines, '}'].join('\n');
    // The body as a function of a range of the parallel axes (its pointers keep __restrict__, which a
    // lambda's captures would lose), run on the thread pool by the kernel proper.
    const args = [...names.map(bufferParam), 'S', 'st'].join(', ');
    return [
      `static void ${fn}_part(${decl}, index_t lo_, index_t hi_) {`, '  (void)S; (void)st;', ...this.lines, '}', '',
      `static void ${fn}(${decl}) {`, '  (void)S; (void)st;', ...symbols,
      `  aic::threads::parallel_range(${range.extent}, ${range.cap}, [&](index_t lo_, index_t hi_) { ${fn}_part(${args}, lo_, hi_); });`, '}',
    ].join('\n');
  }

  /** Declare the size symbols a body uses as locals. */
  emitSymbols(syms: Iterable<string>): void {
    for (const s of syms) {
      const i = this.ctx.symbolIndex.get(s) ?? fail('E_UNSUPPORTED', `cpu: size $${s} is not fixed by the inputs' shapes (kernel ${this.kernel.name}); not supported yet`);
      this.emit(`[[maybe_unused]] const index_t ${this.symbol(s)} = S[${i}];`);
    }
  }

  /** The axis of the loop that carries `#pragma omp simd`, while it is open (at most one: only innermost loops do). */
  private simdAxis: string | undefined;
  /** The loop axes each value depends on (through its index expressions and operands), filled on first use. */
  private axisDeps: Map<number, ReadonlySet<string>> | undefined;

  /** Reduce stages whose trip count is this small or less are unrolled, so that the innermost domain axis
   * (a pooling window's output row, a small convolution's) is the one vectorized. */
  static readonly UNROLL_TRIPS = 64;
  private unrollReduces = false;
  /** Set by domain() for a parallel kernel: the flat extent of its parallel axes and the thread cap. */
  private parallelRange: { extent: string; cap: string } | undefined;

  /** The parallel domain, then the body inside it. */
  domain(): void {
    const k = this.kernel;
    const axes = k.domain;
    const checks = [...allStmts(k.body)].some((s) => s.kind === 'check');
    const smallStages = hasStages(k) && k.body.every((s) => s.kind !== 'loop' && (s.kind !== 'reduce' || (s.combiner !== 'argmax' && s.combiner !== 'argmin' &&
      s.body.every((x) => x.kind === 'let') && s.axes.every((a) => a.extent.kind === 'const') &&
      s.axes.reduce((p, a) => p * (a.extent.kind === 'const' ? a.extent.value : Infinity), 1) <= CpuKernelWriter.UNROLL_TRIPS)));
    this.unrollReduces = smallStages && !checks;
    const pointwise = (!hasStages(k) || this.unrollReduces) && !checks;
    const w = work(k.body);
    let points = 1;
    let symbolic = false;
    for (const a of axes) {
      if (a.extent.kind === 'const') points *= a.extent.value;
      else symbolic = true;
    }
    // Parallel when the work is big enough (or not known until run time: then the thread cap decides).
    let cap: string | undefined;
    if (axes.length > 0) {
      if (!symbolic && w !== undefined) {
        if (points * w >= PARALLEL_WORK && points > 1) cap = 'aic::threads::max_threads()';
      } else {
        const size = axes.map((a) => this.index(a.extent)).join(' * ');
        cap = `${size} * ${w ?? 64} >= ${PARALLEL_WORK} ? aic::threads::max_threads() : 1`;
      }
    }
    if (axes.length === 0) {
      this.loops([], 'domain', () => this.body(k.body));
      return;
    }
    const simdInner = pointwise;
    // The parallel axes: all of them (the only one, vectorized, for a 1-D pointwise kernel), or all but the
    // vectorized innermost one; they run as one flat range [lo_, hi_) of the function render() wraps.
    const split = cap === undefined ? 0 : Math.max(simdInner ? axes.length - 1 : axes.length, 1);
    const par = axes.slice(0, split);
    const ext = par.map((a) => this.index(a.extent));
    const names = par.map((a) => this.axisName(a.name));
    if (cap !== undefined) {
      this.parallelRange = { extent: ext.map((e) => `(${e})`).join(' * '), cap };
      if (par.length === 1) {
        if (simdInner && axes.length === 1) {
          this.emit('#pragma omp simd');
          this.simdAxis = par[0]!.name;
        }
        this.emit(`for (index_t ${names[0]} = lo_; ${names[0]} < hi_; ++${names[0]}) {`);
      } else {
        // An odometer over the axes from the position of lo_ (one division per axis per range, not per point).
        names.forEach((n, j) => {
          const inner = ext.slice(j + 1).map((e) => `(${e})`).join(' * ');
          const q = inner ? `lo_ / (${inner})` : 'lo_';
          this.emit(`index_t ${n} = ${j === 0 ? q : `(${q}) % (${ext[j]})`};`);
        });
        this.emit('for (index_t f_ = lo_; f_ < hi_; ++f_) {');
      }
      par.forEach((a) => this.axes.set(a.name, a.extent));
      this.depth++;
    }
    axes.slice(split).forEach((a, j) => {
      const innermost = split + j === axes.length - 1;
      if (innermost && simdInner) {
        this.emit('#pragma omp simd');
        this.simdAxis = a.name;
      }
      this.emit(`for (index_t ${this.axisName(a.name)} = 0; ${this.axisName(a.name)} < ${this.index(a.extent)}; ++${this.axisName(a.name)}) {`);
      this.axes.set(a.name, a.extent);
      this.depth++;
    });
    this.body(k.body);
    for (const _ of axes.slice(split)) {
      this.depth--;
      this.emit('}');
    }
    if (split > 1) {
      const step = (j: number): string => (j === 0 ? `++${names[0]};` : `if (++${names[j]} == (${ext[j]})) { ${names[j]} = 0; ${step(j - 1)} }`);
      this.emit(step(split - 1));
    }
    if (split > 0) {
      this.depth--;
      this.emit('}');
    }
    for (const a of axes) this.axes.delete(a.name);
  }

  // ---- spelling ----

  protected valueType(t: DType): string {
    return valueType(t);
  }

  protected literal(t: DType, v: number | bigint): string {
    return literal(t, v);
  }

  protected prim(op: string, args: readonly string[], types: readonly DType[], out: DType): string {
    return cxxPrim(op, args, types, out);
  }

  /** A load; a masked one reads at an index clamped into the buffer whatever the mask says (the mask only
   * picks the value), so that the load is unconditional and the loop around it vectorizes. Where the mask
   * does not vary along the vectorized loop (which operand of a concat along an outer axis, a padded row),
   * it is a plain branch instead: the compiler hoists it out of that loop, whose loads then stay contiguous
   * rather than becoming gathers at clamped indices. */
  protected load(buffer: string, index: IndexExpr, t: DType, mask: string | undefined, maskId: number | undefined): string {
    if (mask !== undefined && maskId !== undefined && this.simdAxis !== undefined && this.axes.has(this.simdAxis) &&
      !this.dependsOn(maskId, this.simdAxis)) {
      return `(${mask} ? ${fromElement(t, `${bufferParam(buffer)}[${this.safeIndex(buffer, index)}]`)} : ${zero(t)})`;
    }
    const read = fromElement(t, `${bufferParam(buffer)}[${this.safeIndex(buffer, index, mask !== undefined)}]`);
    if (mask === undefined) return read;
    const b = this.ctx.buffers.get(buffer)!;
    const n = b.shape.every((d) => typeof d === 'number') ? (b.shape as number[]).reduce((x, y) => x * y, 1) : undefined;
    if (n === 0) return zero(t); // nothing to read: the mask is never true
    // A buffer whose size is symbolic may be empty: then only a conditional load is safe.
    return n === undefined ? `(${mask} ? ${read} : ${zero(t)})` : `aic::pick(${mask}, ${read}, ${zero(t)})`;
  }

  /** An index that reads data (a gather) or is masked is clamped into the buffer, unless its range proves it inside. */
  private safeIndex(buffer: string, index: IndexExpr, masked = false): string {
    const text = this.index(index);
    if (refsOf(index).size === 0 && !masked) return text;
    const b = this.ctx.buffers.get(buffer)!;
    const r = rangeOf(index, this.extents);
    const n = b.shape.every((d) => typeof d === 'number') ? (b.shape as number[]).reduce((x, y) => x * y, 1) : undefined;
    if (n !== undefined && r.lo >= 0 && r.hi < n) return text;
    // A temp in the arena may be read a little outside (what a mask then discards): the arena has guard
    // bytes on both sides, and an unclamped index stays affine, so the loop vectorizes with plain loads.
    const guard = Math.floor(ARENA_GUARD_BYTES / DTYPE_INFO[b.dtype].bytes);
    if (masked && n !== undefined && b.role === 'temp' && b.offset !== undefined && r.lo >= -guard && r.hi < n + guard) return text;
    return `aic::clamp_index(${text}, ${this.ctx.elements(b)})`;
  }

  protected store(buffer: string, index: IndexExpr, value: string, t: DType): string {
    return `${bufferParam(buffer)}[${this.index(index)}] = ${toElement(t, value)};`;
  }

  protected indexValue(t: DType, index: string): string {
    return indexAs(t, index);
  }

  protected inbounds(index: string, extent: string): string {
    return `(static_cast<std::uint64_t>(${index}) < static_cast<std::uint64_t>(${extent}))`;
  }

  protected check(cond: string, message: string): string {
    return `if (!${cond}) st->fail(${cString(message)});`;
  }

  protected symbol(name: string): string {
    return this.ctx.symbols.get(name) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: unknown size $${name}`);
  }

  protected floorDiv(a: string, b: string): string {
    return `aic::floordiv(${a}, ${b})`;
  }

  protected floorMod(a: string, b: string): string {
    return `aic::floormod(${a}, ${b})`;
  }

  /** Whether value `id` depends on loop axis `axis`. */
  private dependsOn(id: number, axis: string): boolean {
    if (!this.axisDeps) {
      // A value that is not a let (a reduction's result) counts as depending on every axis: ANY.
      const deps = new Map<number, ReadonlySet<string>>();
      const use = (id: number, out: Set<string>): void => {
        for (const v of deps.get(id) ?? [ANY]) out.add(v);
      };
      const ofIndex = (e: IndexExpr, out: Set<string>): void => {
        for (const v of varsOf(e)) out.add(v);
        for (const r of refsOf(e)) use(r, out);
      };
      for (const st of allStmts(this.kernel.body)) {
        if (st.kind !== 'let') continue;
        const out = new Set<string>();
        const e = st.expr;
        if (e.op === 'load') {
          ofIndex(e.index, out);
          if (e.mask !== undefined) use(e.mask, out);
        } else if (e.op === 'index') ofIndex(e.index, out);
        else if (e.op === 'inbounds') {
          ofIndex(e.index, out);
          ofIndex(e.extent, out);
        } else if (e.op === 'prim') for (const a of e.args) use(a, out);
        deps.set(st.id, out);
      }
      this.axisDeps = deps;
    }
    const d = this.axisDeps.get(id);
    return d === undefined || d.has(ANY) || d.has(axis);
  }

  protected loopHeader(axis: Axis, role: LoopRole, _innermost: boolean, pragma: string | undefined): string[] {
    const v = this.axisName(axis.name);
    const head = role === 'reduce' && this.unrollReduces ? [`#pragma GCC unroll ${CpuKernelWriter.UNROLL_TRIPS}`] : pragma ? [pragma] : [];
    if (head.some((l) => l.includes('omp simd'))) this.simdAxis = axis.name;
    return [...head, `for (index_t ${v} = 0; ${v} < ${this.index(axis.extent)}; ++${v}) {`];
  }

  protected override innerLoopPragma(s: LoopStmt): string | undefined {
    return [...allStmts(s.body)].every((x) => x.kind === 'let' || x.kind === 'store') ? '#pragma omp simd' : undefined;
  }

  protected reduction(s: ReduceStmt, opType: DType): ReduceSpelling {
    const t = s.dtype;
    const acc = `a${s.id}`;
    checkDType(t, `reduce ${s.combiner}`);
    const vectorizable = [...allStmts(s.body)].every((x) => x.kind === 'let');
    const pragma = (op: string): string | undefined => (vectorizable && s.axes.length > 0 ? `#pragma omp simd reduction(${op}:${acc})` : undefined);
    const float = isFloat(t);
    const big = DTYPE_INFO[t].big;
    const wideInt = big ? 'std::uint64_t' : 'std::uint32_t';
    const finish = (a: string): string => {
      if (t === 'f32') return `static_cast<float>(${a})`;
      if (t === 'f64') return a;
      if (isNarrowFloat(t)) return `${rounder(t)}(${a})`;
      if (isSubByteInt(t)) return cast('i64', t, `static_cast<std::int64_t>(${a})`);
      return `static_cast<${elementType(t)}>(${a})`;
    };
    switch (s.combiner) {
      case 'sum': case 'prod': case 'dot': {
        if (t === 'bool') fail('E_UNSUPPORTED', `cpu: reduce ${s.combiner} on bool`);
        const accType = float ? 'double' : wideInt;
        const init = s.combiner === 'prod' ? (float ? '1.0' : `${accType}(1)`) : (float ? '0.0' : `${accType}(0)`);
        const widen = (v: string): string => `static_cast<${accType}>(${v})`;
        return {
          init: [`${accType} ${acc} = ${init};`],
          step: ([v, w]) => [s.combiner === 'sum' ? `${acc} += ${widen(v!)};` : s.combiner === 'prod' ? `${acc} *= ${widen(v!)};` : `${acc} += ${widen(v!)} * ${widen(w!)};`],
          result: finish(acc),
          innerPragma: pragma(s.combiner === 'prod' ? '*' : '+'),
        };
      }
      case 'max': case 'min': {
        const vt = valueType(t);
        const init = reduceInit(s.combiner, t);
        const max = s.combiner === 'max';
        if (float) {
          return {
            init: [`${vt} ${acc} = ${init};`],
            step: ([v]) => [`${acc} = aic::${max ? 'fmax_nan' : 'fmin_nan'}(${acc}, ${v!});`],
            result: acc,
            innerPragma: pragma(max ? 'aic_max' : 'aic_min'),
          };
        }
        if (t === 'bool') {
          return {
            init: [`bool ${acc} = ${init};`],
            step: ([v]) => [`${acc} = ${max ? `${acc} || ${v!}` : `${acc} && ${v!}`};`],
            result: acc,
            innerPragma: pragma(max ? '||' : '&&'),
          };
        }
        return {
          init: [`${vt} ${acc} = ${init};`],
          step: ([v]) => [`${acc} = ${v!} ${max ? '>' : '<'} ${acc} ? ${v!} : ${acc};`],
          result: acc,
          innerPragma: pragma(max ? 'max' : 'min'),
        };
      }
      case 'argmax': case 'argmin': {
        if (s.axes.length !== 1) fail('E_VERIFY', `kernel ${this.kernel.name}: ${s.combiner} folds exactly one axis`);
        const bv = `bv${s.id}`;
        const first = `f${s.id}`;
        const better = s.combiner === 'argmax' ? '>' : '<';
        checkDType(opType, s.combiner);
        return {
          init: [`index_t ${acc} = 0;`, `${valueType(opType)} ${bv} = ${zero(opType)};`, `bool ${first} = true;`],
          step: ([v], pos) => [
            `if (${first}) { ${bv} = ${v!}; ${acc} = ${pos}; ${first} = false; }`,
            `else if (${bv} == ${bv} && (${v!} != ${v!} || ${v!} ${better} ${bv}${s.selectLast ? ` || ${v!} == ${bv}` : ''})) { ${bv} = ${v!}; ${acc} = ${pos}; }`,
          ],
          result: `static_cast<${elementType(t)}>(${acc})`,
        };
      }
    }
  }
}

/** The identity of max/min over none (REDUCE_ROWS in src/ir/prims/reduce.ts). */
function reduceInit(combiner: 'max' | 'min', t: DType): string {
  const max = combiner === 'max';
  if (isFloat(t)) return literal(t === 'f64' ? 'f64' : 'f32', max ? -Infinity : Infinity);
  if (t === 'bool') return max ? 'false' : 'true';
  if (isSubByteInt(t)) {
    const bits = DTYPE_INFO[t].bits;
    const signed = t.startsWith('i');
    return literal(t, max ? (signed ? -(2 ** (bits - 1)) : 0) : (signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1));
  }
  const ty = elementType(t);
  return `std::numeric_limits<${ty}>::${max ? 'lowest' : 'max'}()`;
}
