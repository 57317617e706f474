// The kernel IR's interpreter: runs a Program and is checked against the graph interpreter. Each loop
// kernel is compiled once to a JavaScript function (nested for-loops over typed arrays, the body as
// straight-line code), so running is as fast as V8 makes plain loops; the scalar semantics are the prims'
// own rows (src/ir/prims), so a Program gives the graph interpreter's numbers bit for bit. Temps live in
// one ArrayBuffer at the planner's offsets, so a planning mistake shows up as wrong numbers.
import { DTYPE_INFO, isFloat, type DType, type Storage } from '../ir/dtype.js';
import { AicError, fail } from '../ir/error.js';
import { formatShape, numel, type Dim } from '../ir/shape.js';
import { evalDim, isPlainSymbol } from '../ir/dim-expr.js';
import { Tensor } from '../ir/tensor.js';
import { narrowing, roundToDType } from '../ir/numeric.js';
import { BINARY_ROWS, REDUCE_ROWS, UNARY_ROWS, bitcastScalar, castScalar } from '../ir/prims/index.js';
import { interpret } from '../runtime/interpreter.js';
import { floorMod, rangeOf, type Extents, type IndexExpr } from './index-expr.js';
import type { Axis, ExternKernel, Kernel, LoopKernel, Stmt } from './kernel.js';
import { gemmF64, matchGemm, type GemmPattern } from './gemm.js';
import { printKernel } from './printer.js';
import type { Buffer, Program } from './program.js';

/** Run a Program on inputs in the order of `p.inputs`. */
export function runProgram(p: Program, inputs: readonly Tensor[], opts: ProgramRunOptions = {}): Tensor[] {
  return new ProgramRunner(p).run(inputs, opts);
}

export interface ProgramRunOptions {
  /** Called after each kernel with its wall time (profiling). */
  onKernel?: (k: Kernel, ms: number) => void;
}

type KernelFn = (buffers: readonly Storage[], syms: readonly number[]) => void;

interface CompiledLoop {
  readonly kernel: LoopKernel;
  readonly fn: KernelFn;
  /** Buffer names in the order the function takes them. */
  readonly buffers: readonly string[];
}

/** A Program with every kernel compiled; `run` may be called many times. */
export class ProgramRunner {
  private readonly buffers: Map<string, Buffer>;
  private readonly symbols: string[];
  private readonly compiled: (CompiledLoop | ExternKernel)[];
  /** Storage bytes per planned byte: f16/bf16 (and float8/float4) elements are held as float32 values. */
  private readonly scale: number;

  constructor(readonly program: Program) {
    this.buffers = new Map(program.buffers.map((b) => [b.name, b]));
    const syms = new Set<string>();
    for (const b of program.buffers) for (const d of b.shape) for (const s of symbolsOf(d)) syms.add(s);
    this.symbols = [...syms];
    this.scale = Math.max(1, ...program.buffers.filter((b) => b.role === 'temp' && b.offset !== undefined)
      .map((b) => new DTYPE_INFO[b.dtype].array(0).BYTES_PER_ELEMENT / DTYPE_INFO[b.dtype].bytes));
    this.compiled = program.kernels.map((k) => (k.kind === 'extern' ? k : compileLoopKernel(k, this.buffers, this.symbols)));
  }

  run(inputs: readonly Tensor[], opts: ProgramRunOptions = {}): Tensor[] {
    const p = this.program;
    if (inputs.length !== p.inputs.length) fail('E_RUNTIME', `program @${p.name} takes ${p.inputs.length} inputs, got ${inputs.length}`);
    const sizes = new Map<string, number>();
    const bind = (declared: readonly Dim[], actual: readonly number[], where: string): void => {
      if (declared.length !== actual.length) fail('E_RUNTIME', `${where}: expected rank ${declared.length}, got ${formatShape(actual)}`);
      declared.forEach((d, i) => {
        if (isPlainSymbol(d)) {
          const known = sizes.get(d);
          if (known === undefined) sizes.set(d, actual[i]!);
          else if (known !== actual[i]) fail('E_RUNTIME', `${where}: dim ${d} is ${actual[i]} here but ${known} elsewhere`);
          return;
        }
        const want = evalDim(d, (sym) => sizes.get(sym));
        if (want !== undefined && want !== actual[i]) fail('E_RUNTIME', `${where}: expected shape ${formatShape(declared)}, got ${formatShape(actual)}`);
      });
    };
    const resolve = (b: Buffer): number[] => b.shape.map((d) => evalDim(d, (sym) => sizes.get(sym)) ?? fail('E_RUNTIME', `buffer @${b.name}: the size of dim ${d} is not known yet`));
    const storage = new Map<string, Storage>();
    p.inputs.forEach((name, i) => {
      const b = this.buffers.get(name)!;
      const t = inputs[i]!;
      if (t.dtype !== b.dtype) fail('E_RUNTIME', `input ${i} (@${name}): expected ${b.dtype}, got ${t.dtype}`);
      bind(b.shape, t.shape, `input ${i} (@${name})`);
      storage.set(name, t.data);
    });
    for (const b of p.buffers) if (b.role === 'weight') storage.set(b.name, b.data!.data);
    const arena = new ArrayBuffer(p.arenaBytes * this.scale);
    /** Storage of a buffer, allocated (or placed in the arena) on first use. */
    const get = (name: string): Storage => {
      const have = storage.get(name);
      if (have) return have;
      const b = this.buffers.get(name) ?? fail('E_RUNTIME', `program @${p.name}: no buffer @${name}`);
      const n = numel(resolve(b));
      let s: Storage;
      if (b.role === 'temp' && b.offset !== undefined) {
        const Ctor = DTYPE_INFO[b.dtype].array as unknown as new (buf: ArrayBuffer, off: number, len: number) => Storage;
        s = new Ctor(arena, b.offset * this.scale, n);
      } else s = new DTYPE_INFO[b.dtype].array(n);
      storage.set(name, s);
      return s;
    };
    for (const c of this.compiled) {
      const start = opts.onKernel ? performance.now() : 0;
      if ('fn' in c) {
        const bufs = c.buffers.map(get);
        const syms = this.symbols.map((s) => sizes.get(s) ?? 0);
        try {
          c.fn(bufs, syms);
        } catch (e) {
          if (e instanceof AicError) throw e.withContext(`kernel ${c.kernel.name}${c.kernel.note ? ` (${c.kernel.note})` : ''}`);
          if (e instanceof RangeError) fail('E_LIMIT', `kernel ${c.kernel.name}: ${e.message}`);
          throw e;
        }
      } else {
        this.runExtern(c, get, resolve, bind, storage);
      }
      opts.onKernel?.('fn' in c ? c.kernel : c, performance.now() - start);
    }
    return p.outputs.map((name) => {
      const b = this.buffers.get(name)!;
      return new Tensor(b.dtype, resolve(b), get(name).slice());
    });
  }

  private runExtern(k: ExternKernel, get: (n: string) => Storage, resolve: (b: Buffer) => number[],
    bind: (d: readonly Dim[], a: readonly number[], w: string) => void, storage: Map<string, Storage>): void {
    const args = k.inputs.map((name) => {
      const b = this.buffers.get(name)!;
      return new Tensor(b.dtype, resolve(b), get(name));
    });
    let results: Tensor[];
    try {
      results = interpret(k.graph, args);
    } catch (e) {
      if (e instanceof AicError) throw e.withContext(`extern kernel ${k.name}`);
      throw e;
    }
    k.outputs.forEach((name, i) => {
      const b = this.buffers.get(name)!;
      const t = results[i]!;
      bind(b.shape, t.shape, `extern kernel ${k.name} result ${i} (@${name})`);
      if (storage.has(name) || (b.role === 'temp' && b.offset !== undefined)) get(name).set(t.data as unknown as ArrayLike<number> & ArrayLike<bigint>);
      else storage.set(name, t.data.slice());
    });
  }
}

/** The symbols a dim reads (`2*N*T+1` reads N and T). */
const symbolsOf = (d: Dim): string[] => (typeof d === 'number' ? [] : d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);

// ---- compiling a loop kernel to JavaScript ----

/** Values JavaScript code needs besides Math: the prims' scalar rows and conversions. */
const HELPERS = {
  unary: UNARY_ROWS,
  binary: BINARY_ROWS,
  reduce: REDUCE_ROWS,
  cast: castScalar,
  bitcast: bitcastScalar,
  round: roundToDType,
  narrowing,
  floorMod,
  gemm: gemmF64,
  fail(message: string): never {
    return fail('E_RUNTIME', message);
  },
};

/** JavaScript for storing a number into dtype `t`'s typed array (which wraps integers and rounds f32);
 * the prims' evals round f16/bf16 explicitly, which `round(t, x)` does. */
function convert(t: DType, x: string): string {
  if (t === 'bool') return `(${x} & 1)`;
  switch (DTYPE_INFO[t].array) {
    case Float32Array: return `Math.fround(${x})`;
    case Float64Array: return x;
    case Int32Array: return `(${x} | 0)`;
    case Uint32Array: return `(${x} >>> 0)`;
    case Int16Array: return `((${x} << 16) >> 16)`;
    case Uint16Array: return `(${x} & 65535)`;
    case Int8Array: return `((${x} << 24) >> 24)`;
    case Uint8Array: return `(${x} & 255)`;
    case BigInt64Array: return `BigInt.asIntN(64, ${x})`;
    case BigUint64Array: return `BigInt.asUintN(64, ${x})`;
    default: return fail('E_UNSUPPORTED', `the kernel interpreter cannot store ${t}`);
  }
}

function literal(v: number | bigint | boolean): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v < 0 ? `(${v})` : String(v);
}

/** A literal converted to its dtype as Tensor.set would (the scheduler writes exact ones; this is a guard). */
function exactLiteral(t: DType, v: number | bigint): number | bigint {
  return Tensor.scalar(t, v).data[0]!;
}

class KernelCodegen {
  private readonly lines: string[] = [];
  private readonly prelude: string[] = [];
  private readonly bufLocal = new Map<string, string>();
  readonly bufOrder: string[] = [];
  private readonly axisLocal = new Map<string, string>();
  private readonly axisExtent = new Map<string, IndexExpr>();
  private readonly dtypes = new Map<number, DType>();
  private readonly helperCache = new Map<string, string>();
  private depth = 1;
  private tmp = 0;

  constructor(private readonly k: LoopKernel, private readonly buffers: ReadonlyMap<string, Buffer>, private readonly symbols: readonly string[]) {}

  generate(): string {
    const gemm = matchGemm(this.k);
    if (gemm) this.gemm(gemm);
    else this.loops(this.k.domain, () => this.body(this.k.body));
    const head = this.bufOrder.map((n, i) => `  const ${this.bufLocal.get(n)!} = B[${i}];`);
    const syms = this.symbols.map((_s, i) => `  const s${i} = S[${i}];`);
    return ['"use strict";', 'const { round } = H;', ...this.prelude, 'return function kernel(B, S) {', ...head, ...syms, ...this.lines, '};'].join('\n');
  }

  private emit(line: string): void {
    this.lines.push(`${'  '.repeat(this.depth)}${line}`);
  }

  private helper(key: string, expr: string): string {
    let name = this.helperCache.get(key);
    if (!name) {
      name = `h${this.helperCache.size}`;
      this.helperCache.set(key, name);
      this.prelude.push(`const ${name} = ${expr};`);
    }
    return name;
  }

  private buf(name: string): string {
    let local = this.bufLocal.get(name);
    if (!local) {
      if (!this.buffers.has(name)) fail('E_VERIFY', `kernel ${this.k.name}: no buffer @${name}`);
      local = `b${this.bufOrder.length}`;
      this.bufLocal.set(name, local);
      this.bufOrder.push(name);
    }
    return local;
  }

  private loops(axes: readonly Axis[], inner: () => void): void {
    const opened: number[] = [];
    for (const a of axes) {
      if (this.axisLocal.has(a.name)) fail('E_VERIFY', `kernel ${this.k.name}: axis ${a.name} is defined twice`);
      const local = `x${this.axisLocal.size}`;
      this.axisLocal.set(a.name, local);
      this.axisExtent.set(a.name, a.extent);
      this.emit(`for (let ${local} = 0, n_${local} = ${this.index(a.extent)}; ${local} < n_${local}; ${local}++) {`);
      this.depth++;
      opened.push(0);
    }
    inner();
    for (const _ of opened) {
      this.depth--;
      this.emit('}');
    }
  }

  private readonly extents: Extents = (name) => this.axisExtent.get(name);

  /** An index expression as JavaScript (floor division and modulo). */
  private index(e: IndexExpr): string {
    switch (e.kind) {
      case 'const': return literal(e.value);
      case 'var': return this.axisLocal.get(e.name) ?? fail('E_VERIFY', `kernel ${this.k.name}: axis ${e.name} is not in scope`);
      case 'sym': {
        const i = this.symbols.indexOf(e.name);
        return i >= 0 ? `s${i}` : fail('E_VERIFY', `kernel ${this.k.name}: size symbol ${e.name} is not a dim of any buffer`);
      }
      case 'ref': {
        const t = this.dtypes.get(e.id) ?? fail('E_VERIFY', `kernel ${this.k.name}: %${e.id} is used before it is defined`);
        return DTYPE_INFO[t].big ? `Number(v${e.id})` : `v${e.id}`;
      }
      case 'add': return `(${e.terms.map((t) => this.index(t)).join(' + ')})`;
      case 'mul': return `(${e.factors.map((f) => this.index(f)).join(' * ')})`;
      case 'div': return `Math.floor(${this.index(e.a)} / ${this.index(e.b)})`;
      case 'mod': {
        const nonNeg = rangeOf(e.a, this.extents).lo >= 0 && rangeOf(e.b, this.extents).lo > 0;
        return nonNeg ? `(${this.index(e.a)} % ${this.index(e.b)})` : `H.floorMod(${this.index(e.a)}, ${this.index(e.b)})`;
      }
    }
  }

  private define(id: number, t: DType): string {
    if (this.dtypes.has(id)) fail('E_VERIFY', `kernel ${this.k.name}: %${id} is defined twice`);
    this.dtypes.set(id, t);
    return `v${id}`;
  }

  private ref(id: number): string {
    if (!this.dtypes.has(id)) fail('E_VERIFY', `kernel ${this.k.name}: %${id} is used before it is defined`);
    return `v${id}`;
  }

  private typeOf(id: number): DType {
    return this.dtypes.get(id) ?? fail('E_VERIFY', `kernel ${this.k.name}: %${id} is used before it is defined`);
  }

  private body(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      switch (s.kind) {
        case 'let': this.let(s); break;
        case 'store': {
          const b = this.buffers.get(s.buffer);
          if (b && b.dtype !== this.typeOf(s.value)) fail('E_VERIFY', `kernel ${this.k.name}: storing a ${this.typeOf(s.value)} into @${s.buffer} (${b.dtype})`);
          this.emit(`${this.buf(s.buffer)}[${this.index(s.index)}] = ${this.ref(s.value)};`);
          break;
        }
        case 'check':
          this.emit(`if (!${this.ref(s.cond)}) H.fail(${JSON.stringify(s.message)});`);
          break;
        case 'loop':
          this.loops(s.axes, () => this.body(s.body));
          this.forgetAxes(s.axes);
          this.forgetBody(s.body);
          break;
        case 'reduce':
          this.reduce(s);
          break;
      }
    }
  }

  private let(s: Extract<Stmt, { kind: 'let' }>): void {
    const e = s.expr;
    const t = s.dtype;
    let js: string;
    switch (e.op) {
      case 'load': {
        const b = this.buffers.get(e.buffer);
        if (b && b.dtype !== t) fail('E_VERIFY', `kernel ${this.k.name}: loading a ${t} from @${e.buffer} (${b.dtype})`);
        const read = `${this.buf(e.buffer)}[${this.index(e.index)}]`;
        js = e.mask !== undefined ? `(${this.ref(e.mask)} ? ${read} : ${DTYPE_INFO[t].big ? '0n' : '0'})` : read;
        break;
      }
      case 'const':
        js = literal(exactLiteral(t, e.value));
        break;
      case 'index': {
        // As Tensor.set stores an index: rounded to a float dtype, wrapped to an integer one.
        const i = this.index(e.index);
        const narrow = narrowing(t);
        js = DTYPE_INFO[t].big ? `BigInt(${i})` : narrow ? `${this.helper(`narrow:${t}`, `H.narrowing(${JSON.stringify(t)})`)}(${i})` : convert(t, i);
        break;
      }
      case 'inbounds': {
        const tmp = `t${this.tmp++}`;
        this.emit(`const ${tmp} = ${this.index(e.index)};`);
        js = `(${tmp} >= 0 && ${tmp} < ${this.index(e.extent)} ? 1 : 0)`;
        break;
      }
      case 'prim':
        js = this.prim(e.prim, e.args, t);
        break;
    }
    this.emit(`const ${this.define(s.id, t)} = ${js};`);
  }

  /** A pointwise prim, as the prim's eval computes it (see mapUnary / mapBinary in src/ir/prims). */
  private prim(op: string, args: readonly number[], out: DType): string {
    const a = args.map((r) => this.ref(r));
    const types = args.map((r) => this.typeOf(r));
    const t0 = types[0]!;
    const big = DTYPE_INFO[t0].big;
    const narrow = out === 'f16' || out === 'bf16';
    const finish = (x: string): string => (narrow ? `round(${JSON.stringify(out)}, ${x})` : big ? (out === 'bool' ? x : convert(out, x)) : convert(out, x));
    if (op === 'where') {
      if (args.length !== 3) fail('E_VERIFY', `kernel ${this.k.name}: where takes 3 operands`);
      return `(${a[0]} ? ${a[1]} : ${a[2]})`;
    }
    if (op === 'cast') return `${this.helper(`cast:${t0}:${out}`, `H.cast(${JSON.stringify(t0)}, ${JSON.stringify(out)})`)}(${a[0]})`;
    if (op === 'bitcast') return `${this.helper(`bitcast:${t0}:${out}`, `H.bitcast(${JSON.stringify(t0)}, ${JSON.stringify(out)})`)}(${a[0]})`;
    const unary = UNARY_ROWS[op];
    if (unary && args.length === 1) {
      const x = a[0]!;
      if (big) {
        if (!unary.big) fail('E_TYPE', `kernel ${this.k.name}: ${op} is not defined on ${t0}`);
        const inline: Record<string, string> = { neg: `(-${x})`, not: `(~${x})` };
        return finish(inline[op] ?? `${this.helper(`u:${op}:big`, `H.unary[${JSON.stringify(op)}].big`)}(${x})`);
      }
      const inline: Record<string, string> = {
        neg: `(-${x})`, abs: `Math.abs(${x})`, exp: `Math.exp(${x})`, log: `Math.log(${x})`, sqrt: `Math.sqrt(${x})`,
        recip: `(1 / ${x})`, sin: `Math.sin(${x})`, cos: `Math.cos(${x})`, atan: `Math.atan(${x})`, tanh: `Math.tanh(${x})`,
        floor: `Math.floor(${x})`, ceil: `Math.ceil(${x})`, not: `(~${x})`, isnan: `(${x} !== ${x} ? 1 : 0)`,
      };
      const js = inline[op] ?? `${this.helper(`u:${op}`, `H.unary[${JSON.stringify(op)}].num`)}(${x})`;
      // mapUnary: bool -> bool is masked to one bit, f16/bf16 round, everything else is a typed-array store.
      return finish(js);
    }
    const binary = BINARY_ROWS[op];
    if (binary && args.length === 2) {
      const [x, y] = [a[0]!, a[1]!];
      if (types[1] !== t0) fail('E_VERIFY', `kernel ${this.k.name}: ${op} of ${t0} and ${types[1]}`);
      if (big) {
        if (!binary.big) fail('E_TYPE', `kernel ${this.k.name}: ${op} is not defined on ${t0}`);
        const inline: Record<string, string> = {
          add: `(${x} + ${y})`, sub: `(${x} - ${y})`, mul: `(${x} * ${y})`, max: `(${x} > ${y} ? ${x} : ${y})`, min: `(${x} < ${y} ? ${x} : ${y})`,
          lt: `(${x} < ${y} ? 1 : 0)`, eq: `(${x} === ${y} ? 1 : 0)`, and: `(${x} & ${y})`, or: `(${x} | ${y})`, xor: `(${x} ^ ${y})`,
        };
        const js = inline[op] ?? `${this.helper(`b:${op}:big`, `H.binary[${JSON.stringify(op)}].big`)}(${x}, ${y})`;
        if (out === 'bool') return inline[op] ? js : `Number(${js})`;
        return finish(js);
      }
      const useInt32 = !isFloat(t0) && t0 !== 'bool' && binary.int32 !== undefined;
      const inline: Record<string, string> = {
        add: `(${x} + ${y})`, sub: `(${x} - ${y})`, max: `Math.max(${x}, ${y})`, min: `Math.min(${x}, ${y})`,
        lt: `(${x} < ${y} ? 1 : 0)`, eq: `(${x} === ${y} ? 1 : 0)`, and: `(${x} & ${y})`, or: `(${x} | ${y})`, xor: `(${x} ^ ${y})`,
        ...(useInt32 ? { mul: `Math.imul(${x}, ${y})` } : { mul: `(${x} * ${y})`, div: `(${x} / ${y})` }),
      };
      const js = inline[op] ?? `${this.helper(`b:${op}:${useInt32 ? 'int32' : 'num'}`, `H.binary[${JSON.stringify(op)}].${useInt32 ? 'int32' : 'num'}`)}(${x}, ${y})`;
      return finish(js);
    }
    return fail('E_UNSUPPORTED', `kernel ${this.k.name}: the kernel interpreter has no scalar op '${op}' with ${args.length} operands`);
  }

  /** A `{ … }` block of its own (names declared in it may be declared again after it). */
  private block(inner: () => void): void {
    this.emit('{');
    this.depth++;
    inner();
    this.depth--;
    this.emit('}');
  }

  /**
   * A GEMM kernel (src/kernel/gemm.ts): operand a packed for all (m, k), operand b in chunks of columns
   * (n, k), their product accumulated in doubles with k in the stage's order (so every sum is the one the
   * plain loop makes), then the epilogue on each result. Masks and index arithmetic run once per packed
   * element instead of once per multiply-add.
   */
  private gemm(p: GemmPattern): void {
    const ext = (axes: readonly Axis[]): string => (axes.length === 0 ? '1' : axes.map((a) => `(${this.index(a.extent)})`).join(' * '));
    const n0 = p.n[0];
    const nRest = p.n.slice(1);
    const st = p.stage;
    this.emit(`const MA = ${ext(p.m)}, K = ${ext(st.axes)}, NB0 = ${n0 ? this.index(n0.extent) : '1'}, NI = ${ext(nRest)};`);
    // Columns per chunk: about 2^20 packed elements of b at most (and at least 16 columns).
    this.emit('const T = Math.max(1, Math.floor(Math.max(16, Math.floor(1048576 / Math.max(1, K))) / Math.max(1, NI)));');
    this.emit('const pa = new Float64Array(MA * K), pb = new Float64Array(K * Math.min(NB0, T) * NI), pc = new Float64Array(MA * Math.min(NB0, T) * NI);');
    const columns = (inner: () => void): void => {
      if (n0) {
        const local = `x${this.axisLocal.size}`;
        this.axisLocal.set(n0.name, local);
        this.axisExtent.set(n0.name, n0.extent);
        this.emit(`for (let ${local} = c0; ${local} < c1; ${local}++) {`);
        this.depth++;
        this.loops(nRest, inner);
        this.forgetAxes(nRest);
        this.depth--;
        this.emit('}');
        this.forgetAxes([n0]);
      } else inner();
    };
    this.loops(p.batch, () => {
      this.emit('let pp = 0;');
      this.loops([...p.m, ...st.axes], () => this.block(() => {
        this.body(p.a.stmts);
        this.emit(`pa[pp++] = ${this.ref(p.a.operand)};`);
      }));
      this.forgetAxes([...p.m, ...st.axes]);
      this.forgetBody(p.a.stmts);
      this.emit('for (let c0 = 0; c0 < NB0; c0 += T) {');
      this.depth++;
      this.emit('const c1 = Math.min(NB0, c0 + T), nc = (c1 - c0) * NI;');
      this.emit('let nn = 0;');
      columns(() => {
        this.emit('let kk = 0;');
        this.loops(st.axes, () => this.block(() => {
          this.body(p.b.stmts);
          this.emit(`pb[kk++ * nc + nn] = ${this.ref(p.b.operand)};`);
        }));
        this.forgetAxes(st.axes);
        this.forgetBody(p.b.stmts);
        this.emit('nn++;');
      });
      this.emit('H.gemm(pa, pb, pc, MA, K, nc);');
      this.emit('let mm = 0;');
      this.loops(p.m, () => {
        this.emit('let nn2 = 0;');
        columns(() => {
          this.loops(p.rest, () => this.block(() => {
            const acc = `a${st.id}`;
            const t = st.dtype;
            this.emit(`const ${acc} = pc[mm * nc + nn2];`);
            const final = t === 'f64' ? acc : t === 'f32' ? `Math.fround(${acc})` : `round(${JSON.stringify(t)}, ${acc})`;
            this.emit(`const ${this.define(st.id, t)} = ${final};`);
            this.body(p.epilogue);
            this.forgetBody(p.epilogue);
            this.dtypes.delete(st.id);
          }));
          this.forgetAxes(p.rest);
          this.emit('nn2++;');
        });
        this.emit('mm++;');
      });
      this.forgetAxes(p.m);
      this.depth--;
      this.emit('}');
    });
  }

  /** A reduce stage, accumulating as the prim's eval does (floats in double, ints wrapping, NaN propagating). */
  private reduce(s: Extract<Stmt, { kind: 'reduce' }>): void {
    const acc = `a${s.id}`;
    const t = s.dtype;
    const big = DTYPE_INFO[t].big;
    if (s.combiner === 'argmax' || s.combiner === 'argmin') {
      if (s.axes.length !== 1) fail('E_VERIFY', `kernel ${this.k.name}: ${s.combiner} folds exactly one axis`);
      const bv = `bv${s.id}`;
      const first = `f${s.id}`;
      this.emit(`let ${acc} = 0, ${bv}, ${first} = true;`);
      this.loops(s.axes, () => {
        this.body(s.body);
        const v = this.ref(s.operands[0]!);
        const pos = this.axisLocal.get(s.axes[0]!.name)!;
        const better = s.combiner === 'argmax' ? `${v} > ${bv}` : `${v} < ${bv}`;
        const tie = s.selectLast ? ` || ${v} === ${bv}` : '';
        this.emit(`if (${first}) { ${bv} = ${v}; ${acc} = ${pos}; ${first} = false; }`);
        this.emit(`else if (${bv} === ${bv} && (${v} !== ${v} || ${better}${tie})) { ${bv} = ${v}; ${acc} = ${pos}; }`);
      });
      this.forgetAxes(s.axes);
      this.forgetBody(s.body);
      this.emit(`const ${this.define(s.id, t)} = ${t === 'i64' ? `BigInt(${acc})` : acc};`);
      return;
    }
    const opT = this.bodyDtype(s);
    let init: string;
    let step: (v: string, w?: string) => string;
    let final: string;
    if (s.combiner === 'dot') {
      const float = isFloat(t);
      init = big ? '0n' : '0';
      step = big ? (v, w) => `${acc} += ${v} * ${w!};` : float ? (v, w) => `${acc} += ${v} * ${w!};` : (v, w) => `${acc} = (${acc} + Math.imul(${v}, ${w!})) | 0;`;
      final = float ? (t === 'f64' ? acc : t === 'f32' ? `Math.fround(${acc})` : `round(${JSON.stringify(t)}, ${acc})`) : convert(t, acc);
    } else {
      const row = REDUCE_ROWS[`reduce_${s.combiner}`] ?? fail('E_VERIFY', `kernel ${this.k.name}: unknown combiner ${s.combiner}`);
      if (opT !== t) fail('E_VERIFY', `kernel ${this.k.name}: reduce ${s.combiner} of ${opT} into ${t}`);
      init = literal(row.init(t));
      if (big) {
        const f: Record<string, (v: string) => string> = {
          sum: (v) => `${acc} += ${v};`, prod: (v) => `${acc} *= ${v};`,
          max: (v) => `if (${v} > ${acc}) ${acc} = ${v};`, min: (v) => `if (${v} < ${acc}) ${acc} = ${v};`,
        };
        step = f[s.combiner]!;
        final = convert(t, acc);
      } else {
        const float = isFloat(t);
        const f: Record<string, (v: string) => string> = {
          sum: float ? (v) => `${acc} += ${v};` : (v) => `${acc} = (${acc} + ${v}) | 0;`,
          prod: float ? (v) => `${acc} *= ${v};` : (v) => `${acc} = Math.imul(${acc}, ${v});`,
          max: (v) => `${acc} = Math.max(${acc}, ${v});`,
          min: (v) => `${acc} = Math.min(${acc}, ${v});`,
        };
        step = f[s.combiner]!;
        final = t === 'f16' || t === 'bf16' ? `round(${JSON.stringify(t)}, ${acc})` : convert(t, acc);
      }
    }
    this.emit(`let ${acc} = ${init};`);
    this.loops(s.axes, () => {
      this.body(s.body);
      const [v, w] = s.operands.map((r) => this.ref(r));
      this.emit(step(v!, w));
    });
    this.forgetAxes(s.axes);
    this.forgetBody(s.body);
    this.emit(`const ${this.define(s.id, t)} = ${final};`);
  }

  private bodyDtype(s: Extract<Stmt, { kind: 'reduce' }>): DType {
    const find = (body: readonly Stmt[], id: number): DType | undefined => {
      for (const st of body) {
        if ((st.kind === 'let' || st.kind === 'reduce') && st.id === id) return st.dtype;
        if (st.kind === 'reduce' || st.kind === 'loop') {
          const d = find(st.body, id);
          if (d) return d;
        }
      }
      return undefined;
    };
    const id = s.operands[0] ?? fail('E_VERIFY', `kernel ${this.k.name}: reduce %${s.id} has no operand`);
    return find(s.body, id) ?? this.typeOf(id);
  }

  /** Names defined in a closed scope go out of scope (JavaScript's block scoping agrees). */
  private forgetBody(body: readonly Stmt[]): void {
    for (const st of body) {
      if (st.kind === 'let' || st.kind === 'reduce') this.dtypes.delete(st.id);
      if (st.kind === 'reduce' || st.kind === 'loop') this.forgetBody(st.body);
    }
  }

  private forgetAxes(axes: readonly Axis[]): void {
    for (const a of axes) {
      this.axisLocal.delete(a.name);
      this.axisExtent.delete(a.name);
    }
  }
}

function compileLoopKernel(k: LoopKernel, buffers: ReadonlyMap<string, Buffer>, symbols: readonly string[]): CompiledLoop {
  const gen = new KernelCodegen(k, buffers, symbols);
  const src = gen.generate();
  let fn: KernelFn;
  try {
    fn = (new Function('H', src) as (h: typeof HELPERS) => KernelFn)(HELPERS);
  } catch (e) {
    return fail('E_VERIFY', `kernel ${k.name}: generated JavaScript does not compile (${(e as Error).message})\n${printKernel(k)}`);
  }
  return { kernel: k, fn, buffers: gen.bufOrder };
}

/** The JavaScript a loop kernel compiles to (for debugging and docs). */
export function kernelJavaScript(k: LoopKernel, buffers: readonly Buffer[]): string {
  const syms = new Set<string>();
  for (const b of buffers) for (const d of b.shape) for (const s of symbolsOf(d)) syms.add(s);
  return new KernelCodegen(k, new Map(buffers.map((b) => [b.name, b])), [...syms]).generate();
}
