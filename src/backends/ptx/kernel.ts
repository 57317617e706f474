// A loop kernel as one PTX `.entry`. The walk mirrors the interpreter's: statements in order, each SSA value
// in a virtual register of its dtype's class (./types.ts), loops as labelled branches, index expressions as
// integer arithmetic — 32-bit where every buffer and extent of the kernel fits in 2^31 elements, 64-bit
// otherwise. Three ways to map the domain onto threads (./mapping.ts):
//
//   threads  one thread per point; a global index past the domain returns at once (the bounds check);
//   groups   one block per point, reductions shared by the block through shfl.sync and shared memory
//            (./group.ts, a subclass);
//   tiled    GEMM-shaped kernels: 32x32 output tiles through shared memory (./gemm.ts, a subclass).
//
//   kernel k0 (i0 < 1000) { %0 = load f32 @in0[i0]; %1 = neg f32 %0; store @out0[i0] = %1 }
// becomes (parameters, then)
//   mov.u32 %r1, %ctaid.x; … mul.wide.u32 %rd3, %r1, %r2; … setp.ge.u64 %p1, %rd3, 1000; @%p1 ret;
//   … ld.global.nc.f32 %f1, [%rd6]; neg.f32 %f2, %f1; … st.global.f32 [%rd8], %f2;
import type { DType } from '../../ir/dtype.js';
import { AicError, fail } from '../../ir/error.js';
import { REDUCE_ROWS } from '../../ir/prims/index.js';
import { printIndex, rangeOf, type Extents, type IndexExpr } from '../../kernel/index-expr.js';
import { allStmts, kernelReads, kernelWrites, type Axis, type LoopKernel, type Stmt } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import { PtxBuilder } from './builder.js';
import { bf16ToF32, finish, renderPrim, type Operand } from './prims.js';
import { decodeSmall, encodeSmall, isSmallFloatType } from './smallfloat.js';
import { elementBytes, f32Imm, f64Imm, familyOf, isHeld, isFloatFamily, memType, opType, regClassOf, type Family } from './types.js';

type Reduce = Extract<Stmt, { kind: 'reduce' }>;
type Let = Extract<Stmt, { kind: 'let' }>;

/** How the domain maps onto the grid. */
export type Mapping = 'threads' | 'groups' | 'tiled';

export interface RenderedKernel {
  /** The `.entry` text. */
  readonly text: string;
  readonly entry: string;
  /** Parameters in order: buffer names, then `status` where the kernel has checks. */
  readonly params: readonly string[];
  readonly mapping: Mapping;
  /** Points of the domain (threads) or blocks (groups). */
  readonly points: number;
  readonly block: number;
  readonly sharedBytes: number;
}

export interface KernelContext {
  readonly buffers: ReadonlyMap<string, Buffer>;
  /** Messages of the program's checks; a failed check stores its position + 1 in the status word. */
  readonly checks: string[];
}

const MAPPING_NOTE: Record<Mapping, string> = {
  threads: 'one thread per point', groups: 'one block per point, reductions shared', tiled: 'GEMM tiles through shared memory, blocks',
};

/** Threads per block. */
export const BLOCK = 256;

const staticExtent = (a: Axis, k: LoopKernel): number => a.extent.kind === 'const' ? a.extent.value
  : fail('E_UNSUPPORTED', `ptx: kernel ${k.name} has a symbolic extent (${a.name} < ${printIndex(a.extent)}); the PTX backend renders static shapes`);

export const pointsOf = (axes: readonly Axis[], k: LoopKernel): number => axes.reduce((p, a) => p * staticExtent(a, k), 1);

export class PtxKernelWriter {
  readonly b: PtxBuilder;
  protected readonly values = new Map<number, Operand>();
  protected readonly axes = new Map<string, string>();
  protected readonly axisExtent = new Map<string, IndexExpr>();
  protected readonly bases = new Map<string, string>();
  protected readonly written: Set<string>;
  protected readonly params: string[] = [];
  protected status: string | undefined;
  /** Index expressions already in a register, per open scope (a register set in a loop is not valid after it). */
  protected readonly cache: Map<string, string>[] = [new Map()];
  /** 32-bit index arithmetic (every buffer and extent below 2^31), else 64-bit. */
  protected readonly wide: boolean;
  protected readonly ity: 's32' | 's64';
  protected readonly icls: 'b32' | 'b64';
  protected readonly extents: Extents = (n) => this.axisExtent.get(n);
  /** groups: the thread's lane in the block, and whether this thread owns the point's stores. */
  protected tid = '';
  protected owner: string | undefined;
  protected sharedBytes = 0;
  protected readonly sharedDecls: string[] = [];

  constructor(protected readonly k: LoopKernel, protected readonly ctx: KernelContext, readonly entry: string) {
    this.b = new PtxBuilder(entry);
    this.written = kernelWrites(k);
    const big = (n: number): boolean => n >= 2 ** 31;
    let wide = big(pointsOf(k.domain, k));
    for (const name of [...kernelReads(k), ...this.written]) {
      const buf = ctx.buffers.get(name) ?? fail('E_VERIFY', `kernel ${k.name}: no buffer @${name}`);
      const n = buf.shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : fail('E_UNSUPPORTED', `ptx: kernel ${k.name}: buffer @${name} has a symbolic shape; the PTX backend renders static shapes`)), 1);
      if (big(n * elementBytes(buf.dtype))) wide = true;
    }
    for (const s of allStmts(k.body)) {
      if ((s.kind === 'reduce' || s.kind === 'loop') && big(pointsOf(s.axes, k))) wide = true;
      if ((s.kind === 'let' || s.kind === 'reduce') && !isHeld(s.dtype)) {
        const op = s.kind === 'reduce' ? `reduce ${s.combiner}` : s.expr.op === 'prim' ? s.expr.prim : s.expr.op;
        fail('E_UNSUPPORTED', `ptx: kernel ${k.name}: ${op} on ${s.dtype} is not supported yet (the float8/float4 formats)`);
      }
    }
    this.wide = wide;
    this.ity = wide ? 's64' : 's32';
    this.icls = wide ? 'b64' : 'b32';
  }

  render(mapping: Mapping): RenderedKernel {
    const k = this.k;
    const b = this.b;
    for (const name of [...kernelReads(k), ...this.written]) this.base(name);
    if (k.body.some(function has(s: Stmt): boolean {
      return s.kind === 'check' || ((s.kind === 'reduce' || s.kind === 'loop') && s.body.some(has));
    })) {
      const p = b.reg('b64');
      this.params.push('status');
      b.ins(`ld.param.u64 ${p}, [${this.entry}_param_${this.params.length - 1}]`);
      this.status = b.reg('b64');
      b.ins(`cvta.to.global.u64 ${this.status}, ${p}`);
    }
    const [ctaid, ntid, tid] = [b.reg('b32'), b.reg('b32'), b.reg('b32')];
    b.ins(`mov.u32 ${ctaid}, %ctaid.x`);
    b.ins(`mov.u32 ${ntid}, %ntid.x`);
    b.ins(`mov.u32 ${tid}, %tid.x`);
    let points = pointsOf(k.domain, k);
    if (mapping === 'tiled') points = this.tiledBody(ctaid, tid);
    else {
      const gid = b.reg('b64');
      if (mapping === 'threads') {
        b.ins(`mul.wide.u32 ${gid}, ${ctaid}, ${ntid}`);
        const t64 = b.reg('b64');
        b.ins(`cvt.u64.u32 ${t64}, ${tid}`);
        b.ins(`add.u64 ${gid}, ${gid}, ${t64}`);
      } else {
        b.ins(`cvt.u64.u32 ${gid}, ${ctaid}`);
        this.tid = tid;
        const own = b.reg('pred');
        b.ins(`setp.eq.u32 ${own}, ${tid}, 0`);
        this.owner = own;
      }
      const out = b.reg('pred');
      b.ins(`setp.ge.u64 ${out}, ${gid}, ${points}`);
      b.ins(`@${out} ret`);
      this.decode(gid, k.domain);
      if (mapping === 'threads') this.body(k.body);
      else this.groupBody(k.body);
    }
    b.ins('ret');
    const paramDecls = this.params.map((_, i) => `\t.param .u64 ${this.entry}_param_${i}`).join(',\n');
    const text = [
      `// ${k.name}${k.note ? `: ${k.note}` : ''}`,
      `// ${MAPPING_NOTE[mapping]} of ${points}; ${this.wide ? '64' : '32'}-bit indices`,
      `.visible .entry ${this.entry}(`,
      paramDecls,
      ')',
      `.maxntid ${BLOCK}, 1, 1`,
      '{',
      ...this.sharedDecls,
      ...b.declarations(),
      '',
      ...b.lines,
      '}',
    ].join('\n');
    return { text, entry: this.entry, params: this.params, mapping, points, block: BLOCK, sharedBytes: this.sharedBytes };
  }

  /** The body of a block-per-point kernel (./group.ts). */
  protected groupBody(_stmts: readonly Stmt[]): void {
    fail('E_VERIFY', `kernel ${this.k.name}: not a block-per-point kernel`);
  }

  /** The body of a tiled GEMM kernel (./gemm.ts); returns the number of blocks. */
  protected tiledBody(_ctaid: string, _tid: string): number {
    return fail('E_VERIFY', `kernel ${this.k.name}: not a tiled GEMM`);
  }

  // ---- buffers ----

  /** A buffer's global address, loaded from its parameter once at the top. */
  protected base(name: string): string {
    const have = this.bases.get(name);
    if (have) return have;
    const p = this.b.reg('b64');
    this.params.push(name);
    this.b.ins(`ld.param.u64 ${p}, [${this.entry}_param_${this.params.length - 1}]`);
    const g = this.b.reg('b64');
    this.b.ins(`cvta.to.global.u64 ${g}, ${p}`);
    this.bases.set(name, g);
    return g;
  }

  protected address(buffer: string, index: IndexExpr): string {
    const buf = this.ctx.buffers.get(buffer)!;
    const bytes = elementBytes(buf.dtype);
    const base = this.base(buffer);
    const a = this.b.reg('b64');
    if (index.kind === 'const') {
      this.b.ins(`add.s64 ${a}, ${base}, ${index.value * bytes}`);
      return a;
    }
    const i = this.index(index);
    if (this.wide) this.b.ins(`mad.lo.s64 ${a}, ${i}, ${bytes}, ${base}`);
    else {
      const off = this.b.reg('b64');
      this.b.ins(`mul.wide.s32 ${off}, ${i}, ${bytes}`);
      this.b.ins(`add.s64 ${a}, ${base}, ${off}`);
    }
    return a;
  }

  protected load(s: Let, buffer: string, index: IndexExpr, mask: number | undefined): string {
    const b = this.b;
    const t = s.dtype;
    const a = this.address(buffer, index);
    const cls = regClassOf(t);
    const d = b.reg(cls);
    // Buffers the kernel does not write go through the read-only data cache.
    const space = this.written.has(buffer) ? 'global' : 'global.nc';
    let guard = '';
    if (mask !== undefined) {
      const p = b.reg('pred');
      b.ins(`setp.ne.u32 ${p}, ${this.value(mask).reg}, 0`);
      guard = `@${p} `;
      b.ins(cls === 'f32' ? `mov.f32 ${d}, ${f32Imm(0)}` : cls === 'f64' ? `mov.f64 ${d}, ${f64Imm(0)}` : `mov.b${cls.slice(1)} ${d}, 0`);
    }
    if (isSmallFloatType(t)) {
      const bits = b.reg('b32');
      b.ins(`mov.b32 ${bits}, 0`);
      b.ins(`${guard}ld.${space}.u8 ${bits}, [${a}]`);
      b.ins(`mov.f32 ${d}, ${decodeSmall(b, t, bits)}`);
    } else if (t === 'f16' || t === 'bf16') {
      const h = b.reg('b16');
      b.ins(`mov.b16 ${h}, 0`);
      b.ins(`${guard}ld.${space}.b16 ${h}, [${a}]`);
      if (t === 'f16') b.ins(`cvt.f32.f16 ${d}, ${h}`);
      else bf16ToF32(b, h, d);
    } else b.ins(`${guard}ld.${space}.${memType(t)} ${d}, [${a}]`);
    return d;
  }

  protected store(buffer: string, index: IndexExpr, v: Operand): void {
    const b = this.b;
    const a = this.address(buffer, index);
    const guard = this.owner && this.inTopLevel ? `@${this.owner} ` : '';
    if (isSmallFloatType(v.dtype)) b.ins(`${guard}st.global.u8 [${a}], ${encodeSmall(b, v.dtype, v.reg)}`);
    else if (v.dtype === 'f16' || v.dtype === 'bf16') {
      const h = b.reg('b16');
      b.ins(`cvt.rn.${v.dtype}.f32 ${h}, ${v.reg}`);
      b.ins(`${guard}st.global.b16 [${a}], ${h}`);
    } else b.ins(`${guard}st.global.${memType(v.dtype)} [${a}], ${v.reg}`);
  }

  // ---- index arithmetic ----

  /** An index expression in a register of the index type (or an immediate). */
  protected index(e: IndexExpr): string {
    if (e.kind === 'const') return String(e.value);
    const key = printIndex(e);
    for (const scope of this.cache) {
      const r = scope.get(key);
      if (r) return r;
    }
    const r = this.indexUncached(e);
    this.cache[this.cache.length - 1]!.set(key, r);
    return r;
  }

  protected indexUncached(e: IndexExpr): string {
    const b = this.b;
    const t = this.ity;
    const d = (): string => b.reg(this.icls);
    switch (e.kind) {
      case 'const': return String(e.value);
      case 'var': return this.axes.get(e.name) ?? fail('E_VERIFY', `kernel ${this.k.name}: axis ${e.name} is not in scope`);
      case 'sym': return fail('E_UNSUPPORTED', `ptx: kernel ${this.k.name} reads size symbol $${e.name}; the PTX backend renders static shapes`);
      case 'ref': {
        const v = this.value(e.id);
        const f = familyOf(v.dtype);
        const r = d();
        const from64 = f === 's64' || f === 'u64';
        if (this.wide) b.ins(from64 ? `mov.b64 ${r}, ${v.reg}` : `cvt.${f === 's32' ? 's64.s32' : 'u64.u32'} ${r}, ${v.reg}`);
        else b.ins(from64 ? `cvt.u32.u64 ${r}, ${v.reg}` : `mov.b32 ${r}, ${v.reg}`);
        return r;
      }
      case 'add': {
        let acc = this.index(e.terms[0]!);
        for (const term of e.terms.slice(1)) {
          const r = d();
          const x = this.index(term);
          if (/^-?\d+$/.test(acc)) b.ins(`add.${t} ${r}, ${x}, ${acc}`);
          else b.ins(`add.${t} ${r}, ${acc}, ${x}`);
          acc = r;
        }
        return this.reg(acc);
      }
      case 'mul': {
        const consts = e.factors.filter((f) => f.kind === 'const').reduce((p, f) => p * (f as { value: number }).value, 1);
        const rest = e.factors.filter((f) => f.kind !== 'const');
        let acc = this.index(rest[0]!);
        for (const f of rest.slice(1)) {
          const r = d();
          b.ins(`mul.lo.${t} ${r}, ${acc}, ${this.index(f)}`);
          acc = r;
        }
        if (consts !== 1) {
          const r = d();
          b.ins(`mul.lo.${t} ${r}, ${acc}, ${consts}`);
          acc = r;
        }
        return acc;
      }
      case 'div': case 'mod': {
        const a = this.reg(this.index(e.a));
        const c = this.index(e.b);
        const q = d();
        const r = d();
        b.ins(`div.${t} ${q}, ${a}, ${c}`);
        b.ins(`rem.${t} ${r}, ${a}, ${c}`);
        if (rangeOf(e.a, this.extents).lo < 0) {
          // Floor semantics for a negative dividend (the divisor is a positive size).
          const p = b.reg('pred');
          b.ins(`setp.lt.${t} ${p}, ${r}, 0`);
          b.ins(`@${p} sub.${t} ${q}, ${q}, 1`);
          b.ins(`@${p} add.${t} ${r}, ${r}, ${c}`);
        }
        return e.kind === 'div' ? q : r;
      }
    }
  }

  /** An immediate moved into a register (where an instruction needs one). */
  protected reg(x: string): string {
    if (!/^-?\d+$/.test(x)) return x;
    const r = this.b.reg(this.icls);
    this.b.ins(`mov.${this.ity === 's32' ? 'b32' : 'b64'} ${r}, ${x}`);
    return r;
  }

  /** Split a flat point number (u64) into the axes' index registers (row-major). */
  protected decode(gid: string, axes: readonly Axis[]): void {
    const b = this.b;
    let g = gid;
    if (!this.wide) {
      g = b.reg('b32');
      b.ins(`cvt.u32.u64 ${g}, ${gid}`);
    }
    const t = this.wide ? 'u64' : 'u32';
    for (let i = axes.length - 1; i >= 0; i--) {
      const a = axes[i]!;
      const n = staticExtent(a, this.k);
      const r = b.reg(this.icls);
      if (i === 0) b.ins(`mov.b${this.wide ? 64 : 32} ${r}, ${g}`);
      else {
        b.ins(`rem.${t} ${r}, ${g}, ${n}`);
        const q = b.reg(this.icls);
        b.ins(`div.${t} ${q}, ${g}, ${n}`);
        g = q;
      }
      this.axes.set(a.name, r);
      this.axisExtent.set(a.name, a.extent);
    }
  }

  // ---- statements ----

  protected value(id: number): Operand {
    return this.values.get(id) ?? fail('E_VERIFY', `kernel ${this.k.name}: %${id} is used before it is defined`);
  }

  protected define(id: number, v: Operand): void {
    if (this.values.has(id)) fail('E_VERIFY', `kernel ${this.k.name}: %${id} is defined twice`);
    this.values.set(id, v);
  }

  /** Whether statements being written run once per point (groups: thread 0 stores them). */
  protected inTopLevel = true;

  protected body(stmts: readonly Stmt[]): void {
    for (const s of stmts) this.stmt(s);
  }

  protected stmt(s: Stmt): void {
    const b = this.b;
    switch (s.kind) {
      case 'let': this.let(s); break;
      case 'store': {
        const buf = this.ctx.buffers.get(s.buffer) ?? fail('E_VERIFY', `kernel ${this.k.name}: no buffer @${s.buffer}`);
        const v = this.value(s.value);
        if (buf.dtype !== v.dtype) fail('E_VERIFY', `kernel ${this.k.name}: storing a ${v.dtype} into @${s.buffer} (${buf.dtype})`);
        this.store(s.buffer, s.index, v);
        break;
      }
      case 'check': {
        this.ctx.checks.push(s.message);
        const p = b.reg('pred');
        b.ins(`setp.eq.u32 ${p}, ${this.value(s.cond).reg}, 0`);
        b.ins(`@${p} st.global.u32 [${this.status!}], ${this.ctx.checks.length}`);
        b.ins(`@${p} ret`);
        break;
      }
      case 'loop': this.loops(s.axes, () => this.body(s.body)); break;
      case 'reduce': this.serialReduce(s); break;
    }
  }

  protected let(s: Let): void {
    const e = s.expr;
    const b = this.b;
    let reg: string;
    switch (e.op) {
      case 'load': {
        const buf = this.ctx.buffers.get(e.buffer) ?? fail('E_VERIFY', `kernel ${this.k.name}: no buffer @${e.buffer}`);
        if (buf.dtype !== s.dtype) fail('E_VERIFY', `kernel ${this.k.name}: loading a ${s.dtype} from @${e.buffer} (${buf.dtype})`);
        reg = this.load(s, e.buffer, e.index, e.mask);
        break;
      }
      case 'const': reg = this.constant(s.dtype, e.value); break;
      case 'index': {
        const i = this.reg(this.index(e.index));
        reg = renderPrim(b, 'cast', [{ reg: i, dtype: this.wide ? 'i64' : 'i32' }], s.dtype);
        break;
      }
      case 'inbounds': {
        const i = this.reg(this.index(e.index));
        const n = this.index(e.extent);
        const p = b.reg('pred');
        const q = b.reg('pred');
        b.ins(`setp.ge.${this.ity} ${p}, ${i}, 0`);
        b.ins(`setp.lt.${this.ity} ${q}, ${i}, ${n}`);
        b.ins(`and.pred ${p}, ${p}, ${q}`);
        reg = b.reg('b32');
        b.ins(`selp.u32 ${reg}, 1, 0, ${p}`);
        break;
      }
      case 'prim': {
        try {
          reg = renderPrim(b, e.prim, e.args.map((a) => this.value(a)), s.dtype);
        } catch (err) {
          if (err instanceof AicError && err.code === 'E_UNSUPPORTED') {
            fail('E_UNSUPPORTED', `${err.message} (kernel ${this.k.name}, op ${e.prim})`);
          }
          throw err;
        }
        break;
      }
    }
    this.define(s.id, { reg, dtype: s.dtype });
  }

  protected constant(t: DType, v: number | bigint): string {
    const b = this.b;
    const f = familyOf(t);
    const d = b.reg(regClassOf(t));
    if (f === 'f32') b.ins(`mov.f32 ${d}, ${f32Imm(Number(v))}`);
    else if (f === 'f64') b.ins(`mov.f64 ${d}, ${f64Imm(Number(v))}`);
    else if (f === 's64' || f === 'u64') b.ins(`mov.b64 ${d}, ${BigInt.asIntN(64, BigInt(v))}`);
    else b.ins(`mov.b32 ${d}, ${Number(BigInt.asIntN(32, BigInt(v)))}`);
    return d;
  }

  /** Nested counted loops over axes (from `start` by `step` on the innermost when given: a block's share). */
  protected loops(axes: readonly Axis[], inner: () => void): void {
    const b = this.b;
    const ends: [string, string, string][] = [];
    for (const a of axes) {
      const n = staticExtent(a, this.k);
      const i = b.reg(this.icls);
      b.ins(`mov.b${this.wide ? 64 : 32} ${i}, 0`);
      const head = b.label();
      const end = b.label();
      b.place(head);
      const p = b.reg('pred');
      b.ins(`setp.ge.${this.ity} ${p}, ${i}, ${n}`);
      b.ins(`@${p} bra ${end}`);
      this.axes.set(a.name, i);
      this.axisExtent.set(a.name, a.extent);
      this.cache.push(new Map());
      ends.push([i, head, end]);
    }
    inner();
    for (let j = ends.length - 1; j >= 0; j--) {
      const [i, head, end] = ends[j]!;
      this.cache.pop();
      b.ins(`add.${this.ity} ${i}, ${i}, 1`);
      b.ins(`bra ${head}`);
      b.place(end);
    }
    for (const a of axes) {
      this.axes.delete(a.name);
      this.axisExtent.delete(a.name);
    }
  }

  protected forget(body: readonly Stmt[]): void {
    for (const st of allStmts(body)) if (st.kind === 'let' || st.kind === 'reduce') this.values.delete(st.id);
  }

  protected operandType(s: Reduce): Let['dtype'] {
    const id = s.operands[0] ?? fail('E_VERIFY', `kernel ${this.k.name}: reduce %${s.id} has no operand`);
    for (const st of allStmts(s.body)) if ((st.kind === 'let' || st.kind === 'reduce') && st.id === id) return st.dtype;
    return this.value(id).dtype;
  }

  /** A reduce stage in one thread: an accumulator in a register, loops over the stage's axes. */
  protected serialReduce(s: Reduce): void {
    const acc = this.accumulator(s);
    const wasTop = this.inTopLevel;
    this.loops(s.axes, () => {
      this.body(s.body);
      acc.step(s.operands.map((o) => this.value(o)), this.axes.get(s.axes[s.axes.length - 1]?.name ?? '') ?? '0');
    });
    this.inTopLevel = wasTop;
    this.forget(s.body);
    this.define(s.id, { reg: acc.result(), dtype: s.dtype });
  }

  /** The accumulator of a reduce stage: f32 for f32/f16/bf16, 32-bit for the small integers (wrapped once
   * at the end), the dtype itself otherwise. */
  protected accumulator(s: Reduce): Accumulator {
    const b = this.b;
    const opT = this.operandType(s);
    const fam = familyOf(opT);
    const t = opType(fam);
    const cls = regClassOf(opT);
    const imm = (v: number | bigint): string => fam === 'f32' ? f32Imm(Number(v)) : fam === 'f64' ? f64Imm(Number(v))
      : String(fam === 's64' || fam === 'u64' ? BigInt.asIntN(64, BigInt(v)) : Number(BigInt.asIntN(32, BigInt(v))));
    const mov = (d: string, x: string): void => b.ins(`mov.${cls === 'f32' || cls === 'f64' ? cls : `b${cls.slice(1)}`} ${d}, ${x}`);
    if (s.combiner === 'argmax' || s.combiner === 'argmin') {
      if (s.axes.length !== 1) fail('E_VERIFY', `kernel ${this.k.name}: ${s.combiner} folds exactly one axis`);
      const best = b.reg(cls);
      mov(best, imm(0));
      const pos = b.reg(this.icls);
      b.ins(`mov.b${this.wide ? 64 : 32} ${pos}, 0`);
      const first = b.reg('b32');
      b.ins('mov.b32 ' + first + ', 1');
      return {
        step: ([v], at) => {
          const x = v!.reg;
          const take = b.reg('pred');
          b.ins(`setp.${s.combiner === 'argmax' ? (s.selectLast ? 'ge' : 'gt') : (s.selectLast ? 'le' : 'lt')}.${t} ${take}, ${x}, ${best}`);
          if (isFloatFamily(fam)) {
            // The first NaN wins: a NaN candidate is taken unless the best is NaN already.
            const xn = b.reg('pred');
            b.ins(`setp.nan.${t} ${xn}, ${x}, ${x}`);
            b.ins(`or.pred ${take}, ${take}, ${xn}`);
            const bn = b.reg('pred');
            b.ins(`setp.num.${t} ${bn}, ${best}, ${best}`);
            b.ins(`and.pred ${take}, ${take}, ${bn}`);
          }
          const isFirst = b.reg('pred');
          b.ins(`setp.ne.u32 ${isFirst}, ${first}, 0`);
          b.ins(`or.pred ${take}, ${take}, ${isFirst}`);
          b.ins(`@${take} ${`mov.${cls === 'f32' || cls === 'f64' ? cls : `b${cls.slice(1)}`}`} ${best}, ${x}`);
          b.ins(`@${take} mov.b${this.wide ? 64 : 32} ${pos}, ${at}`);
          b.ins(`mov.b32 ${first}, 0`);
        },
        result: () => {
          const r = b.reg('b64');
          b.ins(this.wide ? `mov.b64 ${r}, ${pos}` : `cvt.s64.s32 ${r}, ${pos}`);
          return r;
        },
      };
    }
    const a = b.reg(cls);
    if (s.combiner === 'dot' || s.combiner === 'sum') mov(a, imm(0));
    else if (s.combiner === 'prod') mov(a, imm(1));
    else {
      const row = REDUCE_ROWS[`reduce_${s.combiner}`] ?? fail('E_VERIFY', `kernel ${this.k.name}: unknown combiner ${s.combiner}`);
      mov(a, imm(row.init(s.dtype)));
    }
    const combine = (x: string): void => combineInto(b, s.combiner, fam, a, x);
    return {
      step: ([v, w]) => {
        if (s.combiner === 'dot') {
          if (isFloatFamily(fam)) b.ins(`fma.rn.${t} ${a}, ${v!.reg}, ${w!.reg}, ${a}`);
          else b.ins(`mad.lo.${t} ${a}, ${v!.reg}, ${w!.reg}, ${a}`);
        } else combine(v!.reg);
      },
      result: () => {
        const r = b.reg(regClassOf(s.dtype));
        mov(r, a);
        finish(b, r, s.dtype);
        return r;
      },
      partial: a,
      family: fam,
      dtype: opT,
    };
  }
}

export interface Accumulator {
  step(operands: readonly Operand[], position: string): void;
  result(): string;
  /** The running register, its family and dtype (shared reductions combine them across threads). */
  readonly partial?: string;
  readonly family?: Family;
  readonly dtype?: Let['dtype'];
}

/** acc = acc ⊕ x for sum, prod, max, min (floats: NaN propagates). */
export function combineInto(b: PtxBuilder, combiner: string, fam: Family, acc: string, x: string): void {
  const t = opType(fam);
  switch (combiner) {
    case 'sum': case 'dot': b.ins(isFloatFamily(fam) ? `add.rn.${t} ${acc}, ${acc}, ${x}` : `add.${t} ${acc}, ${acc}, ${x}`); break;
    case 'prod': b.ins(isFloatFamily(fam) ? `mul.rn.${t} ${acc}, ${acc}, ${x}` : `mul.lo.${t} ${acc}, ${acc}, ${x}`); break;
    case 'max': case 'min':
      if (fam === 'f32') b.ins(`${combiner}.NaN.f32 ${acc}, ${acc}, ${x}`);
      else if (fam === 'f64') {
        // max.f64 drops a NaN; where either side is one, the sum keeps it.
        const nan = b.reg('pred');
        b.ins(`setp.nan.f64 ${nan}, ${acc}, ${x}`);
        b.ins(`@${nan} add.rn.f64 ${acc}, ${acc}, ${x}`);
        b.ins(`@!${nan} ${combiner}.f64 ${acc}, ${acc}, ${x}`);
      } else b.ins(`${combiner}.${t} ${acc}, ${acc}, ${x}`);
      break;
    default: fail('E_VERIFY', `ptx: cannot combine with ${combiner}`);
  }
}

