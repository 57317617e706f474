// Random well-typed prim graphs, with matching random inputs, for the equivalence properties of every pass.
//
//   import fc from 'fast-check';
//   import { arbPrimGraph } from '../support/random-graph.js';
//
//   fc.assert(fc.property(arbPrimGraph({ numericallyTame: true }), (c) => {
//     const before = interpret(c.graph, c.inputs);
//     myPass.run(c.graph);                          // may mutate c.graph; c.fresh() rebuilds the case
//     expectClose(interpret(c.graph, c.inputs), before);
//   }), { seed: 42, numRuns: 200 });
//
// What it makes. Every prim that can be generated sensibly, on every dtype it accepts (f32 most of the
// time; f16, bf16, f64, the signed and unsigned integers and bool now and then): unary and binary
// pointwise ops with numpy broadcasting on either side (and x∘x), where, cast (identity casts included),
// bitcast, the four reductions with random axes sets (empty ones too) and keepdims, argmax/argmin with
// select_last_index, reshape, permute, broadcast, slice (negative steps, clamped and INT_MIN/INT_MAX
// bounds), pad (negative pads crop), concat (empty operands included), gather and scatter with in-range
// indices (negative ones too) built from consts or iotas (unique per line for scatter's 'none', so the
// result is order-independent), dot with batch and several contracting dims in any layout (x·x too),
// const, iota and shape. Ranks 0 to 5, dims of 0 and 1 included; graphs of 1..maxNodes nodes whose values
// are read by several consumers, dead values, several outputs (now and then an input, a constant or the
// same value twice as an output).
//
// How. A graph is a pure function of (seed, nodes): a small PRNG drives the builder, so generation is
// fast (hundreds of graphs a second) and exact to reproduce — `generatePrimGraph(seed, { nodes })` gives
// the failing case again. fast-check shrinks `nodes`, and a graph with fewer nodes is a prefix of the
// bigger one (the outputs are chosen afterwards), so counterexamples shrink to the first node that
// breaks. Inputs are random per dtype: floats mix uniform values with small integers, halves, huge
// magnitudes and the specials (NaN, ±inf, ±0); integers are small or span their whole range.
//
// numericallyTame: float inputs and constants in [-2, 2], no specials, small integers; each value carries
// a bound on its magnitude and any op whose float result could exceed 1e4 (exp of exp, pow, recip, log,
// division by anything but a constant away from 0, long products, bitcasts to floats) is not generated.
import fc from 'fast-check';
import { A } from '../../src/ir/attr.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { CORE_DTYPES, DTYPE_INFO, isFloat, type DType } from '../../src/ir/dtype.js';
import type { Graph, Value } from '../../src/ir/graph.js';
import { printGraph } from '../../src/ir/printer.js';
import '../../src/ir/prims/index.js';
import { numel } from '../../src/ir/shape.js';
import { Tensor } from '../../src/ir/tensor.js';

// ---- options ----

export interface PrimGraphOptions {
  /** Element types of inputs and computed values (default: all). Index operands of gather and scatter are
   * i32/i64 constants or iotas whatever this says; they enter the pool of reusable values only if allowed. */
  dtypes?: readonly DType[];
  /** Prim names without the `prim.` prefix that may appear as nodes (default: GENERATED_PRIMS). Without
   * `const` every leaf is a graph input (and gather/scatter need `iota` for their indices). */
  ops?: readonly string[];
  /** Largest number of nodes, leaves (const, iota) included (default 12). */
  maxNodes?: number;
  /** Largest number of graph inputs (default 4); past it, leaves are constants. */
  maxInputs?: number;
  /** Largest number of graph outputs (default 3). */
  maxOutputs?: number;
  /** Largest rank (default 4, at most 5). */
  maxRank?: number;
  /** Largest dim (default 4). */
  maxDim?: number;
  /** Largest element count of any value (default 256). */
  maxElements?: number;
  /** Float inputs in [-2, 2], no specials, no amplifying ops (see the header). */
  numericallyTame?: boolean;
  /** Probability that a generated dim is 0 (default 0.04). */
  zeroDimRate?: number;
}

/** Every prim the generator can make; prims not listed here are ones it deliberately leaves out. */
export const GENERATED_PRIMS: readonly string[] = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'recip', 'sin', 'cos', 'atan', 'tanh', 'erf', 'floor', 'ceil', 'round', 'not', 'isnan',
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'lt', 'eq', 'and', 'or', 'xor',
  'where', 'cast', 'bitcast',
  'reduce_sum', 'reduce_prod', 'reduce_max', 'reduce_min', 'argmax', 'argmin',
  'reshape', 'permute', 'broadcast', 'slice', 'pad', 'concat',
  'gather', 'scatter', 'dot',
  'const', 'iota', 'shape',
];

/** A generated graph and inputs for it. */
export interface PrimGraphCase {
  readonly graph: Graph;
  /** One tensor per graph input, in order. */
  readonly inputs: Tensor[];
  readonly seed: number;
  readonly nodes: number;
  /** The same case built anew (passes may mutate `graph`). */
  fresh(): PrimGraphCase;
}

/** fast-check arbitrary of random well-typed prim graphs with inputs (see the header). */
export function arbPrimGraph(options: PrimGraphOptions = {}): fc.Arbitrary<PrimGraphCase> {
  const o = resolveOptions(options);
  return fc.record({
    seed: fc.noShrink(fc.integer()),
    nodes: fc.integer({ min: 1, max: o.maxNodes }),
  }).map(({ seed, nodes }) => generatePrimGraph(seed, { ...options, maxNodes: nodes }));
}

/** The graph for one seed, with exactly `opts.maxNodes` nodes (deterministic). */
export function generatePrimGraph(seed: number, options: PrimGraphOptions = {}): PrimGraphCase {
  const o = resolveOptions(options);
  const gen = new Gen(new Rng(seed), o);
  const graph = gen.run();
  const made: PrimGraphCase = {
    graph,
    inputs: gen.inputs,
    seed,
    nodes: o.maxNodes,
    fresh: () => generatePrimGraph(seed, options),
    // fast-check clones a value it reads twice, and prints a failing case as IR text: the case as it was
    // generated, rebuilt, since the property may have mutated this copy.
    [fc.cloneMethod]: () => generatePrimGraph(seed, options),
    [fc.toStringMethod]: () => describeCase(generatePrimGraph(seed, options)),
  } as PrimGraphCase;
  return made;
}

function describeCase(c: PrimGraphCase): string {
  let text: string;
  try {
    text = printGraph(c.graph);
  } catch (e) {
    text = `(the printer failed: ${(e as Error).message})`;
  }
  return `generatePrimGraph(${c.seed}, { maxNodes: ${c.nodes}, … })\n${text}inputs: ${c.inputs.map((t) => t.toString()).join('; ')}`;
}

/** fast-check arbitrary of one tensor of a dtype and shape (specials included unless `tame`). */
export function arbTensor(dtype: DType, shape: readonly number[], opts: { tame?: boolean } = {}): fc.Arbitrary<Tensor> {
  const n = numel(shape);
  return fc.array(scalarArb(dtype, opts.tame ?? false), { minLength: n, maxLength: n }).map((vs) => Tensor.from(dtype, shape, vs));
}

function scalarArb(dtype: DType, tame: boolean): fc.Arbitrary<number | bigint | boolean> {
  const info = DTYPE_INFO[dtype];
  if (dtype === 'bool') return fc.boolean();
  if (isFloat(dtype)) {
    if (tame) return fc.double({ min: -2, max: 2, noNaN: true });
    return fc.oneof(
      { weight: 6, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
      { weight: 2, arbitrary: fc.integer({ min: -8, max: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, 2.5) },
      { weight: 1, arbitrary: dtype === 'f64' ? fc.double() : fc.float() },
    );
  }
  const bits = BigInt(info.bytes * 8);
  const signed = info.kind === 'int';
  const lo = signed ? -(1n << (bits - 1n)) : 0n;
  const hi = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const small = signed ? fc.bigInt({ min: -8n, max: 8n }) : fc.bigInt({ min: 0n, max: 16n });
  const any = tame ? small : fc.oneof({ weight: 3, arbitrary: small }, { weight: 1, arbitrary: fc.bigInt({ min: lo, max: hi }) }, { weight: 1, arbitrary: fc.constantFrom(lo, hi) });
  return info.big ? any : any.map((v) => Number(v));
}

// ---- internals ----

interface Resolved {
  dtypes: DType[];
  ops: Set<string>;
  maxNodes: number;
  maxInputs: number;
  maxOutputs: number;
  maxRank: number;
  maxDim: number;
  maxElements: number;
  tame: boolean;
  zeroDimRate: number;
}

function resolveOptions(o: PrimGraphOptions): Resolved {
  const ops = new Set(o.ops ?? GENERATED_PRIMS);
  for (const op of ops) if (!GENERATED_PRIMS.includes(op)) throw new Error(`arbPrimGraph: cannot generate prim.${op}`);
  const dtypes = [...(o.dtypes ?? CORE_DTYPES)];
  if (dtypes.length === 0) throw new Error('arbPrimGraph: no dtypes');
  return {
    dtypes,
    ops,
    maxNodes: Math.max(1, o.maxNodes ?? 12),
    maxInputs: o.maxInputs ?? 4,
    maxOutputs: Math.max(1, o.maxOutputs ?? 3),
    maxRank: Math.min(5, Math.max(0, o.maxRank ?? 4)),
    maxDim: Math.max(1, o.maxDim ?? 4),
    maxElements: Math.max(1, o.maxElements ?? 256),
    tame: o.numericallyTame ?? false,
    zeroDimRate: o.zeroDimRate ?? 0.04,
  };
}

/** mulberry32: tiny, fast, good enough to drive a generator. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(xs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of xs) total += w;
    let r = this.next() * total;
    for (const [x, w] of xs) {
      r -= w;
      if (r < 0) return x;
    }
    return xs[xs.length - 1]![0];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
  /** A random subset, in increasing order. */
  subset(n: number, p = 0.5): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (this.bool(p)) out.push(i);
    return out;
  }
  u32(): number {
    return Math.floor(this.next() * 4294967296);
  }
}

type Cls = 'any' | 'float' | 'numeric' | 'intOrBool' | 'int';
const inClass = (t: DType, c: Cls): boolean =>
  c === 'any' ? true : c === 'float' ? isFloat(t) : c === 'numeric' ? t !== 'bool' : c === 'intOrBool' ? !isFloat(t) : !isFloat(t) && t !== 'bool';

const UNARY_CLASS: Record<string, Cls> = {
  neg: 'numeric', abs: 'numeric', not: 'intOrBool',
  exp: 'float', log: 'float', sqrt: 'float', recip: 'float', sin: 'float', cos: 'float', atan: 'float', tanh: 'float',
  erf: 'float', floor: 'float', ceil: 'float', round: 'float', isnan: 'float',
};
const BINARY_CLASS: Record<string, Cls> = {
  add: 'numeric', sub: 'numeric', mul: 'numeric', div: 'numeric', pow: 'numeric', mod: 'numeric',
  max: 'any', min: 'any', lt: 'any', eq: 'any', and: 'intOrBool', or: 'intOrBool', xor: 'intOrBool',
};

const WEIGHTS: Record<string, number> = {
  neg: 1, abs: 1, exp: 1, log: 0.5, sqrt: 0.5, recip: 0.5, sin: 0.4, cos: 0.4, atan: 0.3, tanh: 1, erf: 0.5,
  floor: 0.4, ceil: 0.4, round: 0.5, not: 0.6, isnan: 0.4,
  add: 3, sub: 2, mul: 3, div: 1.5, pow: 0.7, max: 1.5, min: 1, mod: 0.6, lt: 1, eq: 0.7, and: 0.5, or: 0.5, xor: 0.4,
  where: 1.5, cast: 2, bitcast: 0.5,
  reduce_sum: 2, reduce_max: 1.5, reduce_min: 1, reduce_prod: 0.5, argmax: 0.7, argmin: 0.5,
  reshape: 1.5, permute: 1.5, broadcast: 1.2, slice: 1.5, pad: 1, concat: 1.2,
  gather: 1, scatter: 0.8, dot: 1.5, const: 0.4, iota: 0.3, shape: 0.2,
};

/** Ops that need an operand or result of rank >= 1. */
const NEEDS_RANK = new Set(['argmax', 'argmin', 'concat', 'gather', 'scatter', 'iota']);

/** Largest float magnitude a value may reach in tame mode. */
const TAME_LIMIT = 1e4;
const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);

/** A value of the pool with a bound on its magnitude (used in tame mode; Infinity when unknown). */
interface Slot {
  readonly v: Value;
  readonly mag: number;
  readonly shape: readonly number[];
}

const isUnsigned = (t: DType): boolean => DTYPE_INFO[t].kind === 'uint';

const dtypeMax = (t: DType): number =>
  isFloat(t) ? Infinity : t === 'bool' ? 1 : 2 ** (DTYPE_INFO[t].bytes * 8 - (DTYPE_INFO[t].kind === 'int' ? 1 : 0));

class Gen {
  readonly inputs: Tensor[] = [];
  private readonly b = new GraphBuilder('random');
  private readonly pool: Slot[] = [];
  private readonly opTable: (readonly [string, number])[];
  private made = 0;

  constructor(private readonly rng: Rng, private readonly o: Resolved) {
    this.opTable = [...o.ops].map((op) => [op, WEIGHTS[op] ?? 0.5] as const);
  }

  run(): Graph {
    let attempts = 0;
    while (this.made < this.o.maxNodes) {
      if (++attempts > 200 * this.o.maxNodes) {
        throw new Error(`arbPrimGraph: cannot make ${this.o.maxNodes} nodes from ops [${[...this.o.ops].join(',')}] and dtypes [${this.o.dtypes.join(',')}]`);
      }
      const op = this.rng.weighted(this.opTable);
      const before = this.b.nodes.length;
      // A failed attempt may have made constant operands already: drop them with it. (The last op may
      // overshoot maxNodes by its constant operands; cutting it would break the prefix property.)
      if (!this.tryOp(op)) this.rollback(before);
      this.made = this.b.nodes.length;
    }
    this.chooseOutputs();
    return this.b.build();
  }

  /** Undo nodes (and their pool entries and inputs) made after `n` nodes existed. */
  private rollback(n: number): void {
    const dropped = new Set(this.b.nodes.splice(n).flatMap((node) => node.outputs));
    for (let i = this.pool.length - 1; i >= 0; i--) if (dropped.has(this.pool[i]!.v)) this.pool.splice(i, 1);
    this.made = this.b.nodes.length;
  }

  private chooseOutputs(): void {
    const last = this.b.nodes[this.b.nodes.length - 1]!.outputs[0]!;
    const outs: Value[] = [last];
    const k = this.rng.int(1, this.o.maxOutputs);
    const computed = this.pool.filter((s) => s.v.producer && s.v.producer.op !== 'prim.const' && s.v !== last).map((s) => s.v);
    // Prefer values nobody reads, so that more of the graph is live.
    const read = new Set(this.b.nodes.flatMap((n) => n.inputs));
    const sinks = computed.filter((v) => !read.has(v));
    for (let i = 1; i < k; i++) {
      const r = this.rng.next();
      if (r < 0.06 && this.pool.length > 0) outs.push(this.rng.pick(this.pool).v); // an input or a constant, now and then
      else if (r < 0.1) outs.push(this.rng.pick(outs)); // the same value twice
      else if (sinks.length > 0 && r < 0.75) outs.push(sinks.splice(this.rng.int(0, sinks.length - 1), 1)[0]!);
      else if (computed.length > 0) outs.push(this.rng.pick(computed));
    }
    outs.forEach((v, i) => this.b.output(v, `y${i}`));
  }

  // ---- the op generators: each returns false when it cannot make its op here ----

  private tryOp(op: string): boolean {
    if (this.o.maxRank === 0 && NEEDS_RANK.has(op)) return false;
    if (op in UNARY_CLASS) return this.unary(op);
    if (op in BINARY_CLASS) return this.binary(op);
    switch (op) {
      case 'where': return this.where();
      case 'cast': return this.cast();
      case 'bitcast': return this.bitcast();
      case 'reduce_sum': case 'reduce_prod': case 'reduce_max': case 'reduce_min': return this.reduce(op);
      case 'argmax': case 'argmin': return this.argReduce(op);
      case 'reshape': return this.reshape();
      case 'permute': return this.permute();
      case 'broadcast': return this.broadcast();
      case 'slice': return this.slice();
      case 'pad': return this.pad();
      case 'concat': return this.concat();
      case 'gather': return this.gather();
      case 'scatter': return this.scatter();
      case 'dot': return this.dot();
      case 'const': return this.leafNode('const');
      case 'iota': return this.leafNode('iota');
      case 'shape': return this.shapeOf();
      default: return false;
    }
  }

  private unary(op: string): boolean {
    const cls = UNARY_CLASS[op]!;
    const x = this.operand(cls);
    if (!x) return false;
    let mag: number;
    switch (op) {
      case 'exp': mag = Math.exp(x.mag); break;
      case 'log': case 'recip': mag = Infinity; break;
      case 'sqrt': mag = Math.sqrt(x.mag); break;
      case 'sin': case 'cos': case 'tanh': case 'erf': case 'atan': mag = 2; break;
      case 'floor': case 'ceil': case 'round': mag = x.mag + 1; break;
      case 'isnan': mag = 1; break;
      case 'not': mag = dtypeMax(x.v.dtype); break;
      case 'neg': mag = isUnsigned(x.v.dtype) ? dtypeMax(x.v.dtype) : x.mag; break; // -1 wraps to the top
      default: mag = x.mag;
    }
    return this.emit(`prim.${op}`, [x.v], {}, mag);
  }

  private binary(op: string): boolean {
    const cls = BINARY_CLASS[op]!;
    const a = this.operand(cls);
    if (!a) return false;
    const float = isFloat(a.v.dtype);
    let b: Slot | undefined;
    if (op === 'div' && float && this.o.tame) {
      // Only a constant divisor away from zero keeps a quotient bounded.
      if (!this.o.ops.has('const')) return false;
      b = this.constLeaf(a.v.dtype, this.partnerShape(a.shape), { lo: 0.5, hi: 2 });
    } else {
      b = this.partner(a);
    }
    if (!b) return false;
    const [l, r] = this.rng.bool() ? [a, b] : [b, a];
    let mag: number;
    switch (op) {
      case 'add': mag = l.mag + r.mag; break;
      case 'sub': mag = isUnsigned(a.v.dtype) ? dtypeMax(a.v.dtype) : l.mag + r.mag; break;
      case 'mul': mag = l.mag * r.mag; break;
      case 'div': mag = float ? (this.o.tame ? 2 * a.mag : Infinity) : Math.max(l.mag, r.mag); break;
      case 'pow': mag = float ? Infinity : dtypeMax(a.v.dtype); break;
      case 'mod': case 'max': case 'min': mag = Math.max(l.mag, r.mag); break;
      case 'lt': case 'eq': mag = 1; break;
      default: mag = dtypeMax(a.v.dtype);
    }
    if (op === 'div' && float && this.o.tame) return this.emit('prim.div', [a.v, b.v], {}, mag);
    return this.emit(`prim.${op}`, [l.v, r.v], {}, mag);
  }

  private where(): boolean {
    const a = this.operand('any');
    if (!a) return false;
    const b = this.partner(a);
    if (!b) return false;
    const shape = broadcast(a.shape, b.shape)!;
    if (!this.o.dtypes.includes('bool')) return false;
    const c = this.pickOrLeaf('bool', (s) => s.v.dtype === 'bool' && this.fitsBroadcast(s.shape, shape), () => this.partnerShape(shape));
    if (!c) return false;
    const [x, y] = this.rng.bool() ? [a, b] : [b, a];
    return this.emit('prim.where', [c.v, x.v, y.v], {}, Math.max(x.mag, y.mag));
  }

  private cast(): boolean {
    const x = this.operand('any');
    if (!x) return false;
    const to = this.rng.bool(0.1) ? x.v.dtype : this.dtype('any');
    if (!to) return false;
    // To an unsigned type, a negative value wraps to the top of the range.
    const mayBeNegative = !isUnsigned(x.v.dtype) && x.v.dtype !== 'bool';
    const mag = isFloat(to) ? (to === 'f16' && x.mag > 65504 ? Infinity : x.mag)
      : isUnsigned(to) && mayBeNegative ? dtypeMax(to) : Math.min(dtypeMax(to), x.mag);
    return this.emit('prim.cast', [x.v], { to: A.dtype(to) }, mag);
  }

  private bitcast(): boolean {
    const width = (t: DType): number => DTYPE_INFO[t].bytes;
    const targets = (t: DType): DType[] => this.o.dtypes.filter((d) => d !== t && width(d) === width(t) && !(this.o.tame && isFloat(d)));
    const x = this.pick((s) => targets(s.v.dtype).length > 0);
    if (!x) return false;
    const to = this.rng.pick(targets(x.v.dtype));
    return this.emit('prim.bitcast', [x.v], { to: A.dtype(to) }, dtypeMax(to));
  }

  private reduce(op: string): boolean {
    const x = this.operand(op === 'reduce_sum' || op === 'reduce_prod' ? 'numeric' : 'any');
    if (!x) return false;
    const axes = this.rng.bool(0.1) ? [] : this.rng.subset(x.shape.length, 0.5);
    const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
    // max/min over no elements give ±inf (or the integer extremes).
    const mag = op === 'reduce_sum' ? n * x.mag : op === 'reduce_prod' ? (x.mag <= 1 ? 1 : x.mag ** n) : n === 0 ? Infinity : x.mag;
    return this.emit(`prim.${op}`, [x.v], { axes: A.ints(axes), keepdims: A.int(this.rng.bool() ? 1 : 0) }, mag);
  }

  private argReduce(op: string): boolean {
    const x = this.pickOrLeaf(this.dtype('numeric'), (s) => s.v.dtype !== 'bool' && s.shape.some((d) => d > 0), () => this.shape(1, true));
    if (!x) return false;
    const axis = this.rng.pick([...x.shape.keys()].filter((i) => x.shape[i]! > 0));
    const attrs = { axis: A.int(axis), keepdims: A.int(this.rng.bool() ? 1 : 0), select_last_index: A.int(this.rng.bool(0.3) ? 1 : 0) };
    return this.emit(`prim.${op}`, [x.v], attrs, 0);
  }

  private reshape(): boolean {
    const x = this.operand('any');
    if (!x) return false;
    const shape = this.shapeWithNumel(numel(x.shape));
    return this.emitDeclared('prim.reshape', [x.v], {}, { dtype: x.v.dtype, shape }, x.mag);
  }

  private permute(): boolean {
    const x = this.operand('any');
    if (!x) return false;
    const perm = this.rng.shuffle([...x.shape.keys()]);
    return this.emit('prim.permute', [x.v], { perm: A.ints(perm) }, x.mag);
  }

  private broadcast(): boolean {
    const x = this.operand('any');
    if (!x) return false;
    const lead = Array.from({ length: this.rng.int(0, Math.max(0, Math.min(2, this.o.maxRank - x.shape.length))) }, () => this.dim());
    const shape = [...lead, ...x.shape.map((d) => (d === 1 && this.rng.bool(0.6) ? this.dim() : d))];
    if (numel(shape) > this.o.maxElements) return false;
    return this.emitDeclared('prim.broadcast', [x.v], {}, { dtype: x.v.dtype, shape }, x.mag);
  }

  private slice(): boolean {
    const x = this.pick((s) => s.shape.length > 0) ?? this.operand('any');
    if (!x) return false;
    const axes = this.rng.bool(0.05) ? [] : this.rng.subset(x.shape.length, 0.6);
    const starts: number[] = [];
    const stops: number[] = [];
    const steps: number[] = [];
    for (const a of axes) {
      const d = x.shape[a]!;
      const step = this.rng.pick([1, 1, 1, 2, 3, -1, -1, -2]);
      const bound = (): number => this.rng.int(-d - 2, d + 2);
      starts.push(this.rng.bool(0.1) ? (step > 0 ? INT_MIN : INT_MAX) : bound());
      stops.push(this.rng.bool(0.15) ? (step > 0 ? INT_MAX : INT_MIN) : bound());
      steps.push(step);
    }
    return this.emit('prim.slice', [x.v], { axes: A.ints(axes), starts: A.ints(starts), stops: A.ints(stops), steps: A.ints(steps) }, x.mag);
  }

  private pad(): boolean {
    const x = this.operand('any');
    if (!x) return false;
    const r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      if (!this.rng.bool(0.6)) continue;
      const d = x.shape[i]!;
      pads[i] = this.rng.int(-d, 2);
      pads[i + r] = this.rng.int(-(d + pads[i]!), 2);
    }
    const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
    if (numel(shape) > this.o.maxElements) return false;
    const value = this.padValue(x.v.dtype);
    return this.emit('prim.pad', [x.v], { pads: A.ints(pads), value: A.float(value) }, Math.max(x.mag, Math.abs(value)));
  }

  private padValue(t: DType): number {
    if (t === 'bool') return this.rng.int(0, 1);
    if (this.o.tame) return isFloat(t) ? this.rng.pick([0, 1, -1, 0.5, -2]) : this.rng.int(-2, 2);
    if (isFloat(t) && this.rng.bool(0.15)) return this.rng.pick([NaN, Infinity, -Infinity, -0]);
    return this.rng.pick([0, 0, 1, -1, 2.5, -7, 100]);
  }

  private concat(): boolean {
    const x = this.pick((s) => s.shape.length > 0) ?? this.leafAny(this.dtype('any'), this.shape(1));
    if (!x) return false;
    const axis = this.rng.int(0, x.shape.length - 1);
    const parts: Slot[] = [x];
    let total = numel(x.shape);
    const k = this.rng.int(0, 3);
    for (let i = 0; i < k; i++) {
      const fits = (s: Slot): boolean => s.v.dtype === x.v.dtype && s.shape.length === x.shape.length && s.shape.every((d, j) => j === axis || d === x.shape[j]);
      const p = this.pickOrLeaf(x.v.dtype, fits, () => x.shape.map((d, j) => (j === axis ? (this.rng.bool(0.15) ? 0 : this.rng.int(1, this.o.maxDim)) : d)));
      if (!p) return false;
      total += numel(p.shape);
      if (total > this.o.maxElements) return false;
      parts.push(p);
    }
    const order = this.rng.shuffle(parts);
    return this.emit('prim.concat', order.map((s) => s.v), { axis: A.int(axis) }, Math.max(...order.map((s) => s.mag)));
  }

  private gather(): boolean {
    const data = this.pick((s) => s.shape.length > 0) ?? this.leafAny(this.dtype('any'), this.shape(1));
    if (!data) return false;
    const axis = this.rng.int(0, data.shape.length - 1);
    const dim = data.shape[axis]!;
    const irank = this.rng.weighted([[0, 1], [1, 3], [2, 1]] as const);
    const rest = data.shape.reduce((p, d, i) => (i === axis ? p : p * d), 1);
    let ishape = Array.from({ length: irank }, () => this.dim());
    if (dim === 0) ishape = irank === 0 ? [0] : ishape.map((d, i) => (i === 0 ? 0 : d)); // only an empty index list fits
    if (numel(ishape) * rest > this.o.maxElements || data.shape.length - 1 + ishape.length > this.o.maxRank) return false;
    const idx = this.indices(ishape, dim, false, irank > 0 ? this.rng.int(0, irank - 1) : 0);
    if (!idx) return false;
    return this.emit('prim.gather', [data.v, idx], { axis: A.int(axis) }, data.mag);
  }

  private scatter(): boolean {
    const data = this.pick((s) => s.shape.length > 0) ?? this.leafAny(this.dtype('any'), this.shape(1));
    if (!data) return false;
    const t = data.v.dtype;
    const axis = this.rng.int(0, data.shape.length - 1);
    const dim = data.shape[axis]!;
    const reductions = t === 'bool' ? ['none', 'max', 'min'] : ['none', 'none', 'add', 'mul', 'max', 'min'];
    const reduction = this.rng.pick(reductions);
    const unique = reduction === 'none';
    const ishape = data.shape.map((d, i) => (i !== axis ? this.rng.int(Math.min(1, d), d) : dim === 0 ? 0 : this.rng.int(0, unique ? dim : this.o.maxDim)));
    const idx = this.indices(ishape, dim, unique, axis);
    if (!idx) return false;
    const upd = this.pickOrLeaf(t, (s) => s.v.dtype === t && sameShape(s.shape, ishape), () => ishape);
    if (!upd) return false;
    const count = ishape[axis]!;
    const mag = reduction === 'add' ? data.mag + count * upd.mag : reduction === 'mul' ? data.mag * Math.max(1, upd.mag) ** count : Math.max(data.mag, upd.mag);
    return this.emit('prim.scatter', [data.v, idx, upd.v], { axis: A.int(axis), reduction: A.string(reduction) }, mag);
  }

  /**
   * Indices in range for a dim of `dim`, of shape `shape`: a constant (negative ones too; with `unique`,
   * distinct along `axis`) or an iota along `axis` (always distinct). Not pooled unless its dtype is allowed.
   */
  private indices(shape: readonly number[], dim: number, unique: boolean, axis: number): Value | undefined {
    const dtype: DType = this.rng.bool(0.8) ? 'i64' : 'i32';
    const canIota = this.o.ops.has('iota') && shape.length > 0 && shape[axis]! <= dim;
    const useConst = this.o.ops.has('const') && (!canIota || this.rng.bool(0.7));
    if (!useConst && !canIota) return undefined;
    let v: Value;
    if (useConst) {
      const t = Tensor.zeros(dtype, shape);
      const n = t.size;
      if (unique && shape.length > 0) {
        // For each line along `axis`, distinct positions of the dim.
        const along = shape[axis]!;
        const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const lines = n / Math.max(1, along);
        for (let l = 0; l < lines; l++) {
          const perm = this.rng.shuffle([...Array(dim).keys()]);
          const outer = Math.floor(l / inner);
          const inn = l % inner;
          for (let j = 0; j < along; j++) {
            const p = perm[j]!;
            t.set((outer * along + j) * inner + inn, this.rng.bool(0.3) ? p - dim : p);
          }
        }
      } else {
        for (let i = 0; i < n; i++) t.set(i, this.rng.int(-dim, dim - 1));
      }
      v = this.b.const(t);
    } else {
      v = this.b.iota(dtype, shape, axis);
    }
    if (this.o.dtypes.includes(dtype)) this.pool.push({ v, mag: dim, shape });
    return v;
  }

  private dot(): boolean {
    const lhs = this.pickOrLeaf(this.dtype('numeric'), (s) => s.v.dtype !== 'bool' && s.shape.length <= 4, () => this.shape(0));
    if (!lhs) return false;
    const t = lhs.v.dtype;
    const roles = lhs.shape.map(() => this.rng.weighted([['b', 1], ['c', 1.5], ['f', 1.5]] as const));
    const lb = roles.flatMap((r, i) => (r === 'b' ? [i] : []));
    const lc = roles.flatMap((r, i) => (r === 'c' ? [i] : []));
    const lf = roles.flatMap((r, i) => (r === 'f' ? [i] : []));
    const size = (axes: number[]): number => axes.reduce((p, a) => p * lhs.shape[a]!, 1);
    const K = size(lc);
    let rhs: Slot | undefined;
    let rb: number[];
    let rc: number[];
    let N: number;
    if (this.rng.bool(0.2)) {
      // x·x: the same value on both sides, same batch and contracting axes.
      rhs = lhs;
      rb = lb;
      rc = lc;
      N = size(lf);
    } else {
      const room = Math.min(this.o.maxRank - lb.length - lc.length, this.o.maxRank - lb.length - lf.length);
      const free = Array.from({ length: this.rng.int(0, Math.max(0, Math.min(2, room))) }, () => this.dim());
      const items = this.rng.shuffle([...lb.map((a, i) => ['b', i, lhs.shape[a]!] as const), ...lc.map((a, i) => ['c', i, lhs.shape[a]!] as const), ...free.map((d, i) => ['f', i, d] as const)]);
      const shape = items.map((it) => it[2]);
      rb = lb.map((_, i) => items.findIndex((it) => it[0] === 'b' && it[1] === i));
      rc = lc.map((_, i) => items.findIndex((it) => it[0] === 'c' && it[1] === i));
      N = numel(free);
      rhs = this.pickOrLeaf(t, (s) => s.v.dtype === t && sameShape(s.shape, shape), () => shape);
    }
    if (!rhs) return false;
    const out = size(lb) * size(lf) * N;
    if (out > this.o.maxElements || out * K > 16 * this.o.maxElements) return false;
    const attrs = { lhs_batch: A.ints(lb), rhs_batch: A.ints(rb), lhs_contract: A.ints(lc), rhs_contract: A.ints(rc) };
    return this.emit('prim.dot', [lhs.v, rhs.v], attrs, Math.max(1, K) * lhs.mag * rhs.mag);
  }

  private leafNode(kind: 'const' | 'iota'): boolean {
    if (kind === 'const') {
      const t = this.dtype('any');
      return t !== undefined && this.constLeaf(t, this.shape(0)) !== undefined;
    }
    const t = this.dtype('numeric');
    if (!t) return false;
    const shape = this.shape(1);
    const axis = this.rng.int(0, shape.length - 1);
    return this.emitDeclared('prim.iota', [], { axis: A.int(axis) }, { dtype: t, shape }, shape[axis]!);
  }

  private shapeOf(): boolean {
    if (!this.o.dtypes.includes('i64')) return false;
    const x = this.operand('any');
    if (!x) return false;
    return this.emit('prim.shape', [x.v], {}, Math.max(0, ...x.shape));
  }

  // ---- values ----

  /** Append a node with inferred result types; in tame mode refuse float results that could grow too large. */
  private emit(op: string, inputs: Value[], attrs: Parameters<GraphBuilder['op1']>[2], mag: number): boolean {
    const v = this.b.op1(op, inputs, attrs);
    return this.adopt(v, mag);
  }

  private emitDeclared(op: string, inputs: Value[], attrs: Parameters<GraphBuilder['op1']>[2], declared: { dtype: DType; shape: number[] }, mag: number): boolean {
    return this.adopt(this.b.op1(op, inputs, attrs, declared), mag);
  }

  private adopt(v: Value, mag: number): boolean {
    const shape = v.shape as number[];
    if (numel(shape) > this.o.maxElements || shape.length > this.o.maxRank || !this.o.dtypes.includes(v.dtype)) return false;
    if (this.o.tame && isFloat(v.dtype) && !(mag <= TAME_LIMIT)) return false;
    this.pool.push({ v, mag, shape });
    return true;
  }

  /** A pooled value, biased toward recent ones (chains) but reaching back (several consumers). */
  private pick(pred: (s: Slot) => boolean): Slot | undefined {
    const ok = this.pool.filter(pred);
    if (ok.length === 0) return undefined;
    return this.rng.bool(0.5) ? ok[Math.max(0, ok.length - 1 - this.rng.int(0, 2))]! : this.rng.pick(ok);
  }

  /** A value of a dtype class: pooled, or a new leaf. */
  private operand(cls: Cls): Slot | undefined {
    const fromPool = this.rng.bool(0.85) ? this.pick((s) => inClass(s.v.dtype, cls) && this.o.dtypes.includes(s.v.dtype)) : undefined;
    if (fromPool) return fromPool;
    const t = this.dtype(cls);
    return t === undefined ? undefined : this.leafAny(t, this.shape(0));
  }

  /** A pooled value satisfying pred, or else a new leaf of dtype t and the given shape. */
  private pickOrLeaf(t: DType | undefined, pred: (s: Slot) => boolean, shape: () => number[]): Slot | undefined {
    const p = this.rng.bool(0.6) ? this.pick((s) => pred(s) && this.o.dtypes.includes(s.v.dtype)) : undefined;
    if (p) return p;
    if (t === undefined) return undefined;
    const s = shape();
    return numel(s) > this.o.maxElements ? undefined : this.leafAny(t, s);
  }

  /** A second operand for a broadcasting op: x itself, a pooled value that broadcasts with it, or a new leaf. */
  private partner(x: Slot): Slot | undefined {
    const r = this.rng.next();
    if (r < 0.15) return x;
    if (r < 0.65) {
      const p = this.pick((s) => s !== x && s.v.dtype === x.v.dtype && this.fitsBroadcast(s.shape, x.shape));
      if (p) return p;
    }
    return this.leafAny(x.v.dtype, this.partnerShape(x.shape));
  }

  private fitsBroadcast(a: readonly number[], b: readonly number[]): boolean {
    const s = broadcast(a, b);
    return s !== undefined && numel(s) <= this.o.maxElements;
  }

  /** A shape that broadcasts with `s`: a suffix of it with some dims set to 1, or one that grows its 1s. */
  private partnerShape(s: readonly number[]): number[] {
    const r = this.rng.next();
    if (r < 0.4) return [...s];
    if (r < 0.8) {
      const drop = this.rng.int(0, s.length);
      return s.slice(drop).map((d) => (this.rng.bool(0.3) ? 1 : d));
    }
    const lead = s.length < this.o.maxRank && this.rng.bool(0.5) ? [this.dim()] : [];
    const grown = [...lead, ...s.map((d) => (d === 1 && this.rng.bool(0.5) ? this.dim() : this.rng.bool(0.2) ? 1 : d))];
    return numel(broadcast(grown, s) ?? [Infinity]) <= this.o.maxElements ? grown : [...s];
  }

  /** A new graph input (while there is room) or constant. */
  private leafAny(t: DType | undefined, shape: number[]): Slot | undefined {
    if (t === undefined || numel(shape) > this.o.maxElements) return undefined;
    const inputOk = this.inputs.length < this.o.maxInputs;
    const constOk = this.o.ops.has('const');
    if (inputOk && (!constOk || this.rng.bool(0.75))) {
      const tensor = this.randomTensor(t, shape);
      const v = this.b.input(`x${this.inputs.length}`, t, shape);
      this.inputs.push(tensor);
      const s = { v, mag: this.leafMag(t), shape };
      this.pool.push(s);
      return s;
    }
    return constOk ? this.constLeaf(t, shape) : undefined;
  }

  private constLeaf(t: DType, shape: number[], range?: { lo: number; hi: number }): Slot | undefined {
    if (!this.o.ops.has('const')) return undefined;
    const tensor = range ? this.rangeTensor(t, shape, range) : this.randomTensor(t, shape);
    const v = this.b.const(tensor);
    const s = { v, mag: range ? range.hi : this.leafMag(t), shape };
    this.pool.push(s);
    return s;
  }

  private leafMag(t: DType): number {
    if (isFloat(t)) return this.o.tame ? 2 : Infinity;
    return this.o.tame ? 16 : dtypeMax(t);
  }

  /** Values with |x| in [lo, hi], either sign. */
  private rangeTensor(t: DType, shape: number[], { lo, hi }: { lo: number; hi: number }): Tensor {
    const out = Tensor.zeros(t, shape);
    for (let i = 0; i < out.size; i++) out.set(i, (this.rng.bool() ? 1 : -1) * (lo + this.rng.next() * (hi - lo)));
    return out;
  }

  private randomTensor(t: DType, shape: number[]): Tensor {
    const out = Tensor.zeros(t, shape);
    const n = out.size;
    const info = DTYPE_INFO[t];
    const rng = this.rng;
    if (t === 'bool') {
      const d = out.data as Uint8Array;
      for (let i = 0; i < n; i++) d[i] = rng.bool() ? 1 : 0;
    } else if (isFloat(t)) {
      for (let i = 0; i < n; i++) out.set(i, this.o.tame ? rng.next() * 4 - 2 : this.wildFloat());
    } else if (info.big) {
      const d = out.data as BigInt64Array;
      const signed = info.kind === 'int';
      for (let i = 0; i < n; i++) {
        const r = this.o.tame ? 0 : rng.next();
        if (r < 0.75) d[i] = BigInt(signed ? rng.int(-8, 8) : rng.int(0, 16));
        else if (r < 0.85) d[i] = signed ? rng.pick([-(2n ** 63n), 2n ** 63n - 1n, -1n]) : rng.pick([2n ** 64n - 1n, 2n ** 63n]);
        else d[i] = (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()); // wraps into range on store
      }
    } else {
      const bits = info.bytes * 8;
      const signed = info.kind === 'int';
      const lo = signed ? -(2 ** (bits - 1)) : 0;
      const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
      for (let i = 0; i < n; i++) {
        const r = this.o.tame ? 0 : rng.next();
        out.set(i, r < 0.75 ? (signed ? rng.int(-8, 8) : rng.int(0, 16)) : r < 0.85 ? rng.pick([lo, hi]) : rng.int(lo, hi));
      }
    }
    return out;
  }

  private wildFloat(): number {
    const rng = this.rng;
    const r = rng.next();
    if (r < 0.06) return rng.pick([NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 1.5, 2.5, -2.5]);
    if (r < 0.25) return rng.int(-8, 8);
    if (r < 0.3) return (rng.bool() ? 1 : -1) * 10 ** rng.int(-40, 40) * (1 + rng.next());
    return rng.next() * 8 - 4;
  }

  // ---- dtypes and shapes ----

  /** An allowed dtype of a class: f32 six times as likely as any other. */
  private dtype(cls: Cls): DType | undefined {
    const ok = this.o.dtypes.filter((t) => inClass(t, cls));
    if (ok.length === 0) return undefined;
    return this.rng.weighted(ok.map((t) => [t, t === 'f32' ? 6 : 1] as const));
  }

  private dim(): number {
    const r = this.rng.next();
    if (r < this.o.zeroDimRate) return 0;
    if (r < 0.3) return 1;
    return this.rng.int(2, Math.max(2, this.o.maxDim));
  }

  /** A random shape of rank >= minRank, within maxElements. */
  private shape(minRank: number, nonEmpty = false): number[] {
    const max = this.o.maxRank;
    const rank = Math.max(minRank, Math.min(max, this.rng.weighted([[0, 1], [1, 2.5], [2, 3], [3, 2], [4, 1], [5, 0.5]] as const)));
    const s = Array.from({ length: rank }, () => {
      const d = this.dim();
      return nonEmpty && d === 0 ? 1 : d;
    });
    while (numel(s) > this.o.maxElements) {
      const i = s.indexOf(Math.max(...s));
      s[i] = Math.max(1, s[i]! >> 1);
    }
    return s;
  }

  /** A random shape with n elements (n = 0: some dim is 0). */
  private shapeWithNumel(n: number): number[] {
    const rank = this.rng.int(n === 0 || n > 1 ? 1 : 0, this.o.maxRank);
    if (rank === 0) return [];
    const s = new Array<number>(rank).fill(1);
    if (n === 0) {
      s[this.rng.int(0, rank - 1)] = 0;
      return s.map((d) => (d === 0 ? 0 : this.rng.int(1, this.o.maxDim)));
    }
    let m = n;
    for (let p = 2; m > 1; p++) {
      while (m % p === 0) {
        s[this.rng.int(0, rank - 1)]! *= p;
        m /= p;
      }
      if (p * p > m && m > 1) {
        s[this.rng.int(0, rank - 1)]! *= m;
        m = 1;
      }
    }
    return s;
  }
}

function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out[i] = x === 1 ? y : x;
  }
  return out;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
