// A loop kernel as a WGSL compute shader: the shared walk (../kernel-writer.ts) with WGSL's spelling
// (./spelling.ts). Two ways to map the parallel domain onto invocations:
//
//   threads  one invocation per point of the domain; reduce stages and inner loops run in it. For
//            pointwise kernels and for reductions that are short next to the number of points.
//   groups   one workgroup per point; each top-level reduce stage is shared by the workgroup's invocations
//            (a strided partial each, then a tree in workgroup memory), an inner loop's points are spread
//            over them, and invocation 0 does the stores of the point. For few points with long reductions
//            (softmax rows, a sum over everything).
//
//   kernel k0 "exp → %y" (i0 < 1000) { %0 = load f32 @in0[i0]; %1 = exp f32 %0; store @out0[i0] = %1 }
// becomes (io holds the inputs and outputs; @out0 starts at word 1008 of it)
//   @group(0) @binding(0) var<storage, read_write> io: array<u32>;
//   override WG: u32 = 64u;
//   @compute @workgroup_size(WG)
//   fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
//     let gid = gid3.x + (gid3.y + gid3.z * nwg.y) * nwg.x * WG;
//     if (gid >= 1000u) { return; }
//     let i0 = i32(gid);
//     let v0: f32 = bitcast<f32>(io[i0]);
//     let v1: f32 = exp(v0);
//     io[1008 + i0] = bitcast<u32>(v1);
//   }
//
// The workgroup size is an override constant the host sets from the device's limits (a power of two).
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { rangeOf, type IndexExpr, type Range } from '../../kernel/index-expr.js';
import type { Axis, LoopKernel, Stmt } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import { REDUCE_ROWS } from '../../ir/prims/index.js';
import { KernelWriter, type LetStmt, type LoopRole, type ReduceSpelling, type ReduceStmt } from '../kernel-writer.js';
import type { Layout, Placement } from './layout.js';
import { fromWord, helperSource, Spelling, toWord, valueType, wordsPer, zero } from './spelling.js';

export type Access = 'read' | 'read_write';

export interface BindingInfo {
  readonly binding: number;
  /** A segment of the layout, or `status` (the word a failed check sets). */
  readonly segment: string;
  readonly access: Access;
}

export interface Dispatch {
  /** `threads`: one invocation per point; `groups`: one workgroup per point (or per tile). */
  readonly kind: 'threads' | 'groups';
  readonly count: number;
}

export interface KernelShader {
  readonly name: string;
  readonly note?: string;
  readonly code: string;
  readonly bindings: readonly BindingInfo[];
  readonly dispatch: Dispatch;
  /** A workgroup size fixed by the shader (tiled kernels); otherwise the host picks WG. */
  readonly workgroupSize?: number;
}

export interface RenderContext {
  readonly buffers: ReadonlyMap<string, Buffer>;
  readonly layout: Layout;
  /** Messages of the program's checks; a failed check stores its position + 1 in the status word. */
  readonly checks: string[];
}

/** The accumulator type of a reduction of dtype t (narrow floats sum in f32 and round once; small ints
 * wrap once). */
function accumulatorType(t: DType): DType {
  const info = DTYPE_INFO[t];
  if (info.big || info.bits === 32 || t === 'bool') return t;
  if (info.kind === 'float') return 'f32';
  return info.kind === 'int' ? 'i32' : 'u32';
}

const COMBINE_PRIM: Record<string, string> = { sum: 'add', dot: 'add', prod: 'mul', max: 'max', min: 'min' };

const constExtent = (a: Axis, kernel: string): number =>
  a.extent.kind === 'const' ? a.extent.value : fail('E_UNSUPPORTED', `wgsl: kernel ${kernel} has a symbolic extent (${a.name}); the WGSL backend needs static shapes`);

const pointsOf = (axes: readonly Axis[], kernel: string): number => axes.reduce((p, a) => p * constExtent(a, kernel), 1);

/** Reduction length past which one workgroup per point pays, when the points alone do not fill the GPU. */
const GROUP_REDUCTION = 64;
/** Points below which a kernel with long reductions runs one workgroup per point. */
const GROUP_POINTS = 16384;
/** Reduction length past which a workgroup per point pays however many points there are. */
const GROUP_ALWAYS = 4096;

/** How to map a kernel's domain: one invocation per point, or a workgroup per point. */
export function chooseMapping(k: LoopKernel): 'threads' | 'groups' {
  let longest = 0;
  for (const s of k.body) {
    if (s.kind === 'reduce' || s.kind === 'loop') longest = Math.max(longest, pointsOf(s.axes, k.name));
  }
  if (longest === 0) return 'threads';
  const points = pointsOf(k.domain, k.name);
  if (longest >= GROUP_ALWAYS) return 'groups';
  return longest >= GROUP_REDUCTION && points <= GROUP_POINTS ? 'groups' : 'threads';
}

export class WgslKernelWriter extends KernelWriter {
  readonly sp = new Spelling();
  /** Segments this kernel touches, and whether it writes them. */
  protected readonly access = new Map<string, Access>();
  /** Workgroup scratch arrays (name → element type) for shared reductions. */
  protected readonly scratch = new Map<string, string>();
  protected usesStatus = false;
  protected tmp = 0;

  constructor(kernel: LoopKernel, protected readonly ctx: RenderContext) {
    super(kernel, ctx.buffers, 1);
  }

  /** The whole shader. */
  render(mapping = chooseMapping(this.kernel)): KernelShader {
    const k = this.kernel;
    const points = pointsOf(k.domain, k.name);
    if (mapping === 'threads') {
      this.emit('let gid = gid3.x + (gid3.y + gid3.z * nwg.y) * nwg.x * WG;');
      this.emit(`if (gid >= ${points}u) { return; }`);
      this.decode('gid', k.domain);
      this.body(k.body);
    } else {
      this.emit('let gid = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;');
      this.emit(`if (gid >= ${points}u) { return; }`);
      this.decode('gid', k.domain);
      this.shared(k.body);
    }
    const params = mapping === 'threads'
      ? '@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>'
      : '@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32';
    const fn = [`@compute @workgroup_size(WG)`, `fn main(${params}) {`, ...this.lines, '}'];
    const { decls, bindings } = this.declarations();
    const code = [
      `// aic wgsl kernel ${k.name}${k.note ? `: ${k.note}` : ''}`,
      `// ${mapping === 'threads' ? 'one invocation per point' : 'one workgroup per point, reductions shared'} of (${k.domain.map((a) => `${a.name} < ${constExtent(a, k.name)}`).join(', ')})`,
      ...decls,
      'override WG: u32 = 64u;',
      ...[...this.scratch].map(([name, type]) => `var<workgroup> ${name}: array<${type}, WG>;`),
      ...(this.sp.used.size > 0 ? [helperSource(this.sp.used)] : []),
      ...fn,
    ].join('\n');
    return {
      name: k.name,
      ...(k.note !== undefined ? { note: k.note } : {}),
      code: `${code}\n`,
      bindings,
      dispatch: { kind: mapping, count: points },
    };
  }

  /** Binding declarations, in the layout's segment order, then the status word. */
  protected declarations(): { decls: string[]; bindings: BindingInfo[] } {
    const decls: string[] = [];
    const bindings: BindingInfo[] = [];
    for (const s of this.ctx.layout.segments) {
      const access = this.access.get(s.name);
      if (!access) continue;
      decls.push(`@group(0) @binding(${bindings.length}) var<storage, ${access}> ${s.name}: array<u32>;`);
      bindings.push({ binding: bindings.length, segment: s.name, access });
    }
    if (this.usesStatus) {
      decls.push(`@group(0) @binding(${bindings.length}) var<storage, read_write> status: array<atomic<u32>>;`);
      bindings.push({ binding: bindings.length, segment: 'status', access: 'read_write' });
    }
    return { decls, bindings };
  }

  /** `let` the axes of a flat point number (a u32 expression below the points of `axes`). */
  protected decode(flat: string, axes: readonly Axis[]): void {
    let stride = 1;
    const strides = axes.map(() => 0);
    for (let j = axes.length - 1; j >= 0; j--) {
      strides[j] = stride;
      stride *= constExtent(axes[j]!, this.kernel.name);
    }
    axes.forEach((a, j) => {
      if (this.axes.has(a.name)) fail('E_VERIFY', `kernel ${this.kernel.name}: axis ${a.name} is defined twice`);
      const q = strides[j] === 1 ? flat : `${flat} / ${strides[j]}u`;
      const v = j === 0 ? q : `${strides[j] === 1 ? q : `(${q})`} % ${constExtent(a, this.kernel.name)}u`;
      this.emit(`let ${this.axisName(a.name)} = i32(${v});`);
      this.axes.set(a.name, a.extent);
    });
  }

  // ---- the spelling ----

  protected valueType(t: DType): string {
    return valueType(t);
  }

  protected literal(t: DType, v: number | bigint): string {
    return this.sp.literal(t, v);
  }

  protected prim(op: string, args: readonly string[], types: readonly DType[], out: DType): string {
    return this.sp.prim(op, args, types, out);
  }

  protected place(buffer: string, access: Access): Placement {
    const p = this.ctx.layout.placement.get(buffer) ?? fail('E_VERIFY', `wgsl: kernel ${this.kernel.name}: buffer @${buffer} has no place`);
    if (this.access.get(p.segment) !== 'read_write') this.access.set(p.segment, access);
    return p;
  }

  protected isEmpty(buffer: string): boolean {
    return this.ctx.layout.placement.get(buffer)?.words === 0;
  }

  /** The word address of element `index` of a placed buffer (for 64-bit elements, of its low word). */
  protected address(p: Placement, index: string, t: DType): string {
    const scaled = wordsPer(t) === 1 ? index : `2 * ${index}`;
    return p.offset === 0 ? scaled : `${p.offset} + ${scaled}`;
  }

  protected temp(expr: string): string {
    const name = `t${this.tmp++}`;
    this.emit(`let ${name} = ${expr};`);
    return name;
  }

  protected load(buffer: string, index: IndexExpr, t: DType, mask: string | undefined): string {
    if (this.isEmpty(buffer)) return zero(t); // a loop over nothing reads it: no segment holds it
    const p = this.place(buffer, 'read');
    // A masked load may address outside its buffer where the mask is false (a pad's border): clamped at 0,
    // as WGSL rejects a negative constant index (robust access makes any other address safe to read).
    const at = mask !== undefined ? `max(${this.address(p, this.index(index), t)}, 0i)` : this.address(p, this.index(index), t);
    let read: string;
    if (wordsPer(t) === 2) {
      const a = this.temp(at);
      read = fromWord(t, `${p.segment}[${a}]`, `${p.segment}[${a} + 1]`);
    } else read = fromWord(t, `${p.segment}[${at}]`);
    return mask !== undefined ? `select(${zero(t)}, ${read}, ${mask})` : read;
  }

  protected store(buffer: string, index: IndexExpr, value: string, t: DType): string {
    if (this.isEmpty(buffer)) return `// @${buffer} is empty`;
    const p = this.place(buffer, 'read_write');
    const at = this.address(p, this.index(index), t);
    if (wordsPer(t) === 2) {
      const a = this.temp(at);
      return `${p.segment}[${a}] = ${value}.x; ${p.segment}[${a} + 1] = ${value}.y;`;
    }
    return `${p.segment}[${at}] = ${toWord(t, value)};`;
  }

  protected indexValue(t: DType, index: string): string {
    return this.sp.indexAs(t, index);
  }

  protected inbounds(index: string, extent: string): string {
    const i = this.temp(index);
    return `(${i} >= 0i && ${i} < ${extent})`;
  }

  protected check(cond: string, message: string): string {
    this.ctx.checks.push(message);
    this.usesStatus = true;
    return `if (!${cond}) { atomicMax(&status[0], ${this.ctx.checks.length}u); }`;
  }

  protected symbol(name: string): string {
    return fail('E_UNSUPPORTED', `wgsl: kernel ${this.kernel.name} uses the size symbol ${name}; the WGSL backend needs static shapes`);
  }

  protected floorDiv(a: string, b: string): string {
    this.sp.used.add('floor_div_i32');
    return `floor_div_i32(${a}, ${b})`;
  }

  protected floorMod(a: string, b: string): string {
    this.sp.used.add('floor_mod_i32');
    return `floor_mod_i32(${a}, ${b})`;
  }

  protected loopHeader(axis: Axis, _role: LoopRole, _innermost: boolean, _pragma: string | undefined): string[] {
    const n = this.axisName(axis.name);
    return [`for (var ${n} = 0i; ${n} < ${this.index(axis.extent)}; ${n}++) {`];
  }

  /** Index arithmetic is i32; a body scalar used in an index is converted to it. */
  protected override index(e: IndexExpr): string {
    if (e.kind === 'const') return e.value < 0 ? `(${e.value})` : String(e.value);
    if (e.kind !== 'ref') return super.index(e);
    if (this.narrow.has(e.id)) return this.narrowValue(e.id);
    const v = this.value(e.id);
    const t = this.typeOf(e.id);
    switch (valueType(t)) {
      case 'i32': return v;
      case 'u32': return `i32(${v})`;
      case 'bool': return `select(0i, 1i, ${v})`;
      case 'vec2<u32>': return this.sp.call(t === 'i64' ? 'i64_to_index' : 'u64_to_index', v);
      default: return fail('E_VERIFY', `kernel ${this.kernel.name}: %${e.id} (${t}) is used as an index`);
    }
  }

  protected override let(s: LetStmt): void {
    if (this.letNarrow(s)) return;
    const e = s.expr;
    let text: string;
    switch (e.op) {
      case 'load': {
        const b = this.buffers.get(e.buffer) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: no buffer @${e.buffer}`);
        if (b.dtype !== s.dtype) fail('E_VERIFY', `kernel ${this.kernel.name}: loading a ${s.dtype} from @${e.buffer} (${b.dtype})`);
        text = this.load(e.buffer, e.index, s.dtype, e.mask !== undefined ? this.value(e.mask) : undefined);
        break;
      }
      case 'const': text = this.literal(s.dtype, e.value); break;
      case 'index': text = this.indexValue(s.dtype, this.index(e.index)); break;
      case 'inbounds': text = this.inbounds(this.index(e.index), this.index(e.extent)); break;
      case 'prim': text = this.prim(e.prim, e.args.map((a) => this.value(a)), e.args.map((a) => this.typeOf(a)), s.dtype); break;
    }
    this.define(s.id, s.dtype);
    this.emit(`let v${s.id}: ${this.valueType(s.dtype)} = ${text};`);
  }

  // ---- reductions ----

  protected reduction(s: ReduceStmt, opType: DType): ReduceSpelling {
    const acc = `a${s.id}`;
    const t = s.dtype;
    if (s.combiner === 'argmax' || s.combiner === 'argmin') {
      if (s.axes.length !== 1) fail('E_VERIFY', `kernel ${this.kernel.name}: ${s.combiner} folds exactly one axis`);
      const best = `b${s.id}`;
      return {
        init: [`var ${acc} = -1i;`, `var ${best}: ${valueType(opType)};`],
        step: ([v], pos) => [`if (${acc} < 0i || ${this.argBetter(s, opType, v!, best)}) { ${best} = ${v}; ${acc} = ${pos}; }`],
        result: this.sp.indexAs(t, `max(${acc}, 0i)`),
      };
    }
    const accT = accumulatorType(t);
    const op = COMBINE_PRIM[s.combiner] ?? fail('E_VERIFY', `kernel ${this.kernel.name}: unknown combiner ${s.combiner}`);
    const init = s.combiner === 'dot' ? zero(accT) : this.sp.literal(accT, REDUCE_ROWS[`reduce_${s.combiner}`]!.init(t));
    const operand = (v: string): string => (opType === accT ? v : this.sp.cast(opType, accT, v));
    let step: (ops: readonly string[]) => string[];
    if (s.combiner === 'dot') {
      step = ([v, w]) => {
        const [x, y] = [operand(v!), operand(w!)];
        if (valueType(accT) === 'f32') return [`${acc} = fma(${x}, ${y}, ${acc});`];
        return [`${acc} = ${this.sp.prim('add', [acc, this.sp.prim('mul', [x, y], [accT, accT], accT)], [accT, accT], accT)};`];
      };
    } else step = ([v]) => [`${acc} = ${this.sp.prim(op, [acc, operand(v!)], [accT, accT], accT)};`];
    return { init: [`var ${acc}: ${valueType(accT)} = ${init};`], step, result: this.sp.cast(accT, t, acc) };
  }

  /** argmax/argmin: does candidate v replace the best so far (NaN wins and stays; ties by selectLast)? */
  protected argBetter(s: ReduceStmt, opType: DType, v: string, best: string): string {
    const lt = (a: string, b: string): string => this.sp.prim('lt', [a, b], [opType, opType], 'bool');
    const better = s.combiner === 'argmax' ? lt(best, v) : lt(v, best);
    const tie = s.selectLast ? ` || ${this.sp.prim('eq', [v, best], [opType, opType], 'bool')}` : '';
    if (valueType(opType) !== 'f32') return `(${better}${tie})`;
    return `(!${this.sp.call('is_nan', best)} && (${this.sp.call('is_nan', v)} || ${better}${tie}))`;
  }

  protected override reduce(s: ReduceStmt): void {
    const opType = this.operandType(s);
    const r = this.reduction(s, opType);
    for (const l of r.init) this.emit(l);
    const position = s.axes.length > 0 ? this.axisName(s.axes[s.axes.length - 1]!.name) : '0i';
    this.loops(s.axes, 'reduce', () => {
      this.body(s.body);
      for (const l of r.step(s.operands.map((o) => this.value(o)), position)) this.emit(l);
    });
    this.forget(s.body);
    this.defineReduce(s, r.result);
  }

  /** A reduce stage's result; an argmax/argmin position into i64 stays an i32 (it is below the extent). */
  protected defineReduce(s: ReduceStmt, result: string): void {
    this.define(s.id, s.dtype);
    const arg = s.combiner === 'argmax' || s.combiner === 'argmin';
    if (arg && s.dtype === 'i64' && s.axes[0]?.extent.kind === 'const') {
      this.narrow.set(s.id, { lo: 0, hi: Math.max(0, s.axes[0].extent.value - 1) });
      this.emit(`let v${s.id}: i32 = max(a${s.id}, 0i);`);
      return;
    }
    this.emit(`let v${s.id}: ${this.valueType(s.dtype)} = ${result};`);
  }

  // ---- i64 values held as i32 where their range is known to fit ----

  /** i64 values held as i32, with their bounds. */
  protected readonly narrow = new Map<number, Range>();
  private readonly weightRanges = new Map<string, Range | undefined>();

  /** A value as its dtype's register type (an i64 held as i32 is widened to vec2<u32>). */
  protected override value(id: number): string {
    const v = super.value(id);
    return this.narrow.has(id) ? this.sp.call('i64_from_i32', v) : v;
  }

  protected narrowValue(id: number): string {
    return super.value(id);
  }

  /** The bounds of the values of a weight (i64), when they fit in i32. */
  private weightRange(buffer: string): Range | undefined {
    if (this.weightRanges.has(buffer)) return this.weightRanges.get(buffer);
    const data = this.buffers.get(buffer)?.data?.data;
    let r: Range | undefined;
    if (data instanceof BigInt64Array && data.length > 0) {
      let lo = data[0]!;
      let hi = data[0]!;
      for (const x of data) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      r = { lo: Number(lo), hi: Number(hi) };
    }
    this.weightRanges.set(buffer, r);
    return r;
  }

  /** Bounds of an operand: an i64 held narrow, or a small integer type. */
  private operandRange(id: number): Range | undefined {
    const n = this.narrow.get(id);
    if (n) return n;
    const t = this.typeOf(id);
    const info = DTYPE_INFO[t];
    if (t === 'bool') return { lo: 0, hi: 1 };
    if (info.kind === 'int' && info.bits <= 32) return { lo: -(2 ** (info.bits - 1)), hi: 2 ** (info.bits - 1) - 1 };
    if (info.kind === 'uint' && info.bits < 32) return { lo: 0, hi: 2 ** info.bits - 1 };
    return undefined;
  }

  /** An i64 let whose range fits in i32, written as an i32; false when it is not one. */
  protected letNarrow(s: LetStmt): boolean {
    if (s.dtype !== 'i64') return false;
    const e = s.expr;
    let range: Range | undefined;
    let text = '';
    const fits = (r: Range | undefined): r is Range => r !== undefined && Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.lo >= -(2 ** 31) && r.hi < 2 ** 31;
    switch (e.op) {
      case 'const': {
        const v = Number(e.value);
        range = { lo: v, hi: v };
        text = this.sp.literal('i32', v);
        break;
      }
      case 'index':
        range = rangeOf(e.index, this.extents);
        text = this.index(e.index);
        break;
      case 'load': {
        if (this.buffers.get(e.buffer)?.role !== 'weight') return false;
        range = this.weightRange(e.buffer);
        if (e.mask !== undefined && range) range = { lo: Math.min(0, range.lo), hi: Math.max(0, range.hi) };
        if (fits(range)) text = `bitcast<i32>(${this.load(e.buffer, e.index, 'i64', e.mask !== undefined ? super.value(e.mask) : undefined)}.x)`;
        break;
      }
      case 'prim': {
        const args = e.args;
        const ranges = args.map((a) => this.operandRange(a));
        const narrowArg = (a: number): string => (this.narrow.has(a) ? this.narrowValue(a) : this.sp.cast(this.typeOf(a), 'i32', super.value(a)));
        const [x, y] = [ranges[0], ranges[1]];
        if (e.prim === 'cast' && this.typeOf(args[0]!) !== 'u32') {
          range = x;
          if (fits(range)) text = narrowArg(args[0]!);
          break;
        }
        if (args.some((a) => this.typeOf(a) !== 'i64' && e.prim !== 'where')) return false;
        const i32Prim = (op: string): string => this.sp.prim(op, args.map(narrowArg), args.map(() => 'i32'), 'i32');
        switch (e.prim) {
          case 'where': {
            const [a, b] = [ranges[1], ranges[2]];
            if (!this.narrow.has(args[1]!) || !this.narrow.has(args[2]!) || !a || !b) return false;
            range = { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
            text = `select(${this.narrowValue(args[2]!)}, ${this.narrowValue(args[1]!)}, ${super.value(args[0]!)})`;
            break;
          }
          case 'add': if (x && y) range = { lo: x.lo + y.lo, hi: x.hi + y.hi }; break;
          case 'sub': if (x && y) range = { lo: x.lo - y.hi, hi: x.hi - y.lo }; break;
          case 'mul': if (x && y) {
            const c = [x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi];
            range = { lo: Math.min(...c), hi: Math.max(...c) };
          } break;
          case 'max': case 'min': if (x && y) range = { lo: Math[e.prim](x.lo, y.lo), hi: Math[e.prim](x.hi, y.hi) }; break;
          case 'neg': if (x) range = { lo: -x.hi, hi: -x.lo }; break;
          case 'abs': if (x) range = { lo: x.lo <= 0 && x.hi >= 0 ? 0 : Math.min(Math.abs(x.lo), Math.abs(x.hi)), hi: Math.max(Math.abs(x.lo), Math.abs(x.hi)) }; break;
          default: return false;
        }
        if (e.prim !== 'where' && fits(range)) text = i32Prim(e.prim);
        break;
      }
      default: return false;
    }
    if (!fits(range) || text === '') return false;
    this.define(s.id, s.dtype);
    this.narrow.set(s.id, range);
    this.emit(`let v${s.id}: i32 = ${text};`);
    return true;
  }

  // ---- one workgroup per point ----

  /** The top level of a kernel run by a whole workgroup. */
  protected shared(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      switch (s.kind) {
        case 'let': this.let(s); break;
        case 'check': this.emit(this.check(this.value(s.cond), s.message)); break;
        case 'store': {
          const b = this.buffers.get(s.buffer) ?? fail('E_VERIFY', `kernel ${this.kernel.name}: no buffer @${s.buffer}`);
          this.emit('if (lid == 0u) {');
          this.depth++;
          this.emit(this.store(s.buffer, s.index, this.value(s.value), b.dtype));
          this.depth--;
          this.emit('}');
          break;
        }
        case 'loop': {
          this.strided(s.axes, () => this.body(s.body));
          this.forget(s.body);
          break;
        }
        case 'reduce': this.sharedReduce(s); break;
      }
    }
  }

  /** A loop over the points of `axes` spread over the workgroup's invocations. */
  protected strided(axes: readonly Axis[], inner: () => void): void {
    const n = `p${this.tmp++}`;
    this.emit(`for (var ${n} = lid; ${n} < ${pointsOf(axes, this.kernel.name)}u; ${n} = ${n} + WG) {`);
    this.depth++;
    this.decode(n, axes);
    inner();
    this.depth--;
    this.emit('}');
    for (const a of axes) this.axes.delete(a.name);
  }

  protected scratchArray(type: string): string {
    const name = `red_${type.replace(/[^a-z0-9]/g, '')}`;
    this.scratch.set(name, type);
    return name;
  }

  /** A reduce stage shared by the workgroup: strided partials, then a tree in workgroup memory. */
  protected sharedReduce(s: ReduceStmt): void {
    const opType = this.operandType(s);
    const r = this.reduction(s, opType);
    for (const l of r.init) this.emit(l);
    const position = this.axisName(s.axes[s.axes.length - 1]?.name ?? '');
    this.strided(s.axes, () => {
      this.body(s.body);
      for (const l of r.step(s.operands.map((o) => this.value(o)), s.axes.length > 0 ? position : '0i')) this.emit(l);
    });
    this.forget(s.body);
    const acc = `a${s.id}`;
    const st = `s${this.tmp++}`;
    const tree = (combine: string[]): void => {
      this.emit('workgroupBarrier();');
      this.emit(`for (var ${st} = WG / 2u; ${st} > 0u; ${st} = ${st} >> 1u) {`);
      this.depth++;
      this.emit(`if (lid < ${st}) {`);
      this.depth++;
      for (const l of combine) this.emit(l);
      this.depth--;
      this.emit('}');
      this.emit('workgroupBarrier();');
      this.depth--;
      this.emit('}');
    };
    if (s.combiner === 'argmax' || s.combiner === 'argmin') {
      const vals = this.scratchArray(valueType(opType));
      const idx = this.scratchArray('i32');
      const best = `b${s.id}`;
      this.emit(`${vals}[lid] = ${best};`);
      this.emit(`${idx}[lid] = ${acc};`);
      const [ja, jb, va, vb] = ['ja', 'jb', 'va', 'vb'].map((x) => `${x}${s.id}`) as [string, string, string, string];
      const lt = (a: string, b: string): string => this.sp.prim('lt', [a, b], [opType, opType], 'bool');
      const better = s.combiner === 'argmax' ? lt(va, vb) : lt(vb, va);
      const tieIdx = s.selectLast ? `${jb} > ${ja}` : `${jb} < ${ja}`;
      const plain = `${better} || (${this.sp.prim('eq', [va, vb], [opType, opType], 'bool')} && ${tieIdx})`;
      const take = valueType(opType) === 'f32'
        ? `select(${plain}, ${this.sp.call('is_nan', vb)} && (!${this.sp.call('is_nan', va)} || ${jb} < ${ja}), ${this.sp.call('is_nan', va)} || ${this.sp.call('is_nan', vb)})`
        : plain;
      tree([
        `let ${ja} = ${idx}[lid]; let ${jb} = ${idx}[lid + ${st}];`,
        `let ${va} = ${vals}[lid]; let ${vb} = ${vals}[lid + ${st}];`,
        `if (${jb} >= 0i && (${ja} < 0i || ${take})) { ${vals}[lid] = ${vb}; ${idx}[lid] = ${jb}; }`,
      ]);
      this.emit(`${acc} = workgroupUniformLoad(&${idx}[0]);`);
    } else {
      const accT = accumulatorType(s.dtype);
      const arr = this.scratchArray(valueType(accT));
      this.emit(`${arr}[lid] = ${acc};`);
      const op = COMBINE_PRIM[s.combiner]!;
      tree([`${arr}[lid] = ${this.sp.prim(op, [`${arr}[lid]`, `${arr}[lid + ${st}]`], [accT, accT], accT)};`]);
      this.emit(`${acc} = workgroupUniformLoad(&${arr}[0]);`);
    }
    this.emit('workgroupBarrier();');
    this.defineReduce(s, r.result);
  }
}

/** Render one loop kernel. */
export function renderKernel(k: LoopKernel, ctx: RenderContext, mapping?: 'threads' | 'groups'): KernelShader {
  return new WgslKernelWriter(k, ctx).render(mapping);
}
