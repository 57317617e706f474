// Structured prims: control flow with nested graphs (if, loop, scan), a sort (topk), and the ops whose
// result shape depends on the data (nonzero, unique). They do not fit the pointwise/reduction mould, so
// each is one op with a plain reference semantics, and a backend says clearly which of them it cannot run.
//
//   %r = prim.if(%c) {else_branch=graph @e() -> (%b: f32[3]) {…}, then_branch=graph @t() -> (%a: f32[3]) {…}} : f32[3]
//   %s, %ys = prim.loop(%n, _, %s0) {body=graph @b(%i: i64[], %c: bool[], %s: f32[2]) -> (%c, %s1, %y) {…}} : (f32[2], f32[_loop0,2])
//   %idx = prim.nonzero(%x) : i64[2,_nonzero1]
//
// A dim the types cannot know before running (a loop's trip count, a nonzero count, a branch-dependent
// size) is a fresh symbol; the interpreter binds it when the result appears. Subgraphs run in a child
// symbol scope, so a symbol local to a body may take a new size in every iteration.
import { registerOp, type EvalContext } from '../op.js';
import { fail } from '../error.js';
import { formatType, subgraphsOf, type Graph, type Node, type TensorType, type Value } from '../graph.js';
import { formatShape, numel, stridesOf, type Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkAxes, operand } from './common.js';

// ---------------------------------------------------------------------------------------------------
// Shared pieces: fresh symbols, symbols fixed outside a node, body signatures, stacking.

let freshCount = 0;

/** Dim `axis` of result `result`: the symbol the node already declares there (so inference is stable
 * under the verifier and the parser), else a fresh one. */
function resultSymbol(node: Node, result: number, axis: number, hint: string): string {
  const d = node.outputs[result]?.type.shape[axis];
  return typeof d === 'string' ? d : `_${hint}${freshCount++}`;
}

/** Symbols whose size is fixed for the whole evaluation of `node`: those of its operands and of the
 * outer values its subgraphs read. Any other symbol in a body's types is local to one run of it. */
function outerSymbols(node: Node, inputs: readonly (TensorType | null)[]): Set<string> {
  const syms = new Set<string>();
  const add = (t: TensorType): void => {
    for (const d of t.shape) if (typeof d === 'string') syms.add(d);
  };
  for (const t of inputs) if (t) add(t);
  for (const g of subgraphsOf(node)) for (const v of capturedValues(g)) add(v.type);
  return syms;
}

/** Values a graph (or a graph nested in it) reads without defining them. */
export function capturedValues(g: Graph): Value[] {
  const defined = new Set<Value>();
  const out = new Set<Value>();
  const visit = (sub: Graph): void => {
    for (const v of sub.inputs) defined.add(v);
    for (const n of sub.nodes) {
      for (const v of n.inputs) if (v && !defined.has(v)) out.add(v);
      for (const s of subgraphsOf(n)) visit(s);
      for (const o of n.outputs) defined.add(o);
    }
    for (const v of sub.outputs) if (!defined.has(v)) out.add(v);
  };
  visit(g);
  return [...out];
}

/** A dim of a body's result as seen from outside: kept when static or fixed outside, else fresh. */
function outerDim(d: Dim, outer: ReadonlySet<string>, node: Node, result: number, axis: number, hint: string): Dim {
  return typeof d === 'number' || outer.has(d) ? d : resultSymbol(node, result, axis, hint);
}

/** A single-element operand (a condition, a trip count): rank 0 or all dims 1 (a symbol is checked at run time). */
function expectSingle(node: Node, t: TensorType, dtype: string, what: string): void {
  if (t.dtype !== dtype || t.shape.some((d) => typeof d === 'number' && d !== 1)) {
    fail('E_TYPE', `${node.describe()}: ${what} has type ${formatType(t)}, expected a single ${dtype} element`);
  }
}

function singleValue(node: Node, t: Tensor, what: string): number | bigint {
  if (t.size !== 1) fail('E_RUNTIME', `${node.describe()}: ${what} has shape ${formatShape(t.shape)}, expected one element`);
  return t.data[0]!;
}

/**
 * A loop-carried value: its type at entry (`init`), as the body declares it (`bodyIn`), and as the body
 * yields it (`bodyOut`). Static dims of the body's input must hold at entry and after every iteration;
 * a symbolic dim may change. Returns the type after the loop.
 */
function carriedResult(node: Node, k: number, init: TensorType, bodyIn: TensorType, bodyOut: TensorType,
  outer: ReadonlySet<string>, result: number, hint: string): TensorType {
  const what = `loop-carried value ${k}`;
  if (init.dtype !== bodyIn.dtype || bodyOut.dtype !== bodyIn.dtype || init.shape.length !== bodyIn.shape.length || bodyOut.shape.length !== bodyIn.shape.length) {
    fail('E_TYPE', `${node.describe()}: ${what} enters as ${formatType(init)}, the body takes ${formatType(bodyIn)} and yields ${formatType(bodyOut)}`);
  }
  const shape = bodyIn.shape.map((d, i) => {
    const a = init.shape[i]!;
    const b = bodyOut.shape[i]!;
    if (typeof d === 'number') {
      if ((typeof a === 'number' && a !== d) || (typeof b === 'number' && b !== d)) {
        fail('E_TYPE', `${node.describe()}: ${what} enters as ${formatType(init)}, the body takes ${formatType(bodyIn)} and yields ${formatType(bodyOut)}`);
      }
      return d;
    }
    return a === b ? outerDim(a, outer, node, result, i, hint) : resultSymbol(node, result, i, hint);
  });
  return { dtype: bodyIn.dtype, shape };
}

/** The elements of `ts` (one shape) stacked along a new leading axis. */
function stack(node: Node, ts: readonly Tensor[], dtype: TensorType['dtype'], elemShape: readonly number[], what: string): Tensor {
  const out = Tensor.zeros(dtype, [ts.length, ...elemShape]);
  const size = numel(elemShape);
  ts.forEach((t, i) => {
    if (t.shape.length !== elemShape.length || t.shape.some((d, j) => d !== elemShape[j])) {
      fail('E_RUNTIME', `${node.describe()}: ${what} has shape ${formatShape(t.shape)} in iteration ${i}, ${formatShape(elemShape)} before`);
    }
    (out.data as Float64Array).set(t.data as Float64Array, i * size);
  });
  return out;
}

/** The shape of a body result that never got a value (zero iterations): known dims, 0 for the rest. */
function emptyElemShape(shape: readonly Dim[], ctx: EvalContext): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    try {
      return ctx.resolveShape([d])[0]!;
    } catch {
      return 0;
    }
  });
}

/** Element t of x along axis 0. */
function slice0(x: Tensor, t: number): Tensor {
  const inner = numel(x.shape.slice(1));
  return new Tensor(x.dtype, x.shape.slice(1), x.data.slice(t * inner, (t + 1) * inner));
}

function scalarLike(dtype: TensorType['dtype'], shape: readonly Dim[], v: number | bigint | boolean): Tensor {
  return Tensor.from(dtype, shape.map(() => 1), [v]);
}

// ---------------------------------------------------------------------------------------------------
// if

registerOp({
  name: 'prim.if',
  summary: 'run then_branch or else_branch (graphs without inputs) by a single bool; results are the branch outputs',
  arity: { min: 1, max: 1 },
  attrs: { then_branch: { kind: 'graph', required: true }, else_branch: { kind: 'graph', required: true } },
  infer(node, inputs) {
    expectSingle(node, operand(node, inputs, 0), 'bool', 'the condition');
    const then = node.graph('then_branch');
    const els = node.graph('else_branch');
    if (then.inputs.length > 0 || els.inputs.length > 0) fail('E_TYPE', `${node.describe()}: branches take no inputs`);
    if (then.outputs.length !== els.outputs.length) {
      fail('E_TYPE', `${node.describe()}: then_branch yields ${then.outputs.length} values, else_branch ${els.outputs.length}`);
    }
    const outer = outerSymbols(node, inputs);
    return then.outputs.map((tv, k) => {
      const a = tv.type;
      const b = els.outputs[k]!.type;
      if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) {
        fail('E_TYPE', `${node.describe()}: result ${k} is ${formatType(a)} in then_branch but ${formatType(b)} in else_branch (dtype and rank must agree)`);
      }
      return { dtype: a.dtype, shape: a.shape.map((d, i) => (d === b.shape[i] ? outerDim(d, outer, node, k, i, 'if') : resultSymbol(node, k, i, 'if'))) };
    });
  },
  eval(node, [cond], ctx) {
    const c = singleValue(node, cond!, 'the condition');
    return ctx.runGraph(node.graph(c ? 'then_branch' : 'else_branch'), []);
  },
});

// ---------------------------------------------------------------------------------------------------
// loop

registerOp({
  name: 'prim.loop',
  summary: 'ONNX Loop: operands (max trip count?, cond?, carried…); body (iter i64, cond bool, carried…) -> (cond, carried…, scan…); runs while i < max and cond (the body\'s cond always counts); results: final carried values, then scan values stacked on a new leading axis',
  arity: { min: 2, max: Infinity },
  attrs: { body: { kind: 'graph', required: true } },
  infer(node, inputs) {
    const body = node.graph('body');
    const n = inputs.length - 2;
    if (inputs[0]) expectSingle(node, inputs[0], 'i64', 'the trip count');
    if (inputs[1]) expectSingle(node, inputs[1], 'bool', 'the condition');
    if (!inputs[0] && !inputs[1]) fail('E_TYPE', `${node.describe()}: a loop with neither a trip count nor a condition never ends`);
    if (body.inputs.length !== n + 2) fail('E_TYPE', `${node.describe()}: the body takes ${body.inputs.length} inputs, expected ${n + 2} (iteration, condition, ${n} carried)`);
    if (body.outputs.length < n + 1) fail('E_TYPE', `${node.describe()}: the body yields ${body.outputs.length} values, expected at least ${n + 1} (condition, ${n} carried)`);
    expectSingle(node, body.inputs[0]!.type, 'i64', 'the body\'s iteration input');
    expectSingle(node, body.inputs[1]!.type, 'bool', 'the body\'s condition input');
    expectSingle(node, body.outputs[0]!.type, 'bool', 'the body\'s condition output');
    const outer = outerSymbols(node, inputs);
    const results: TensorType[] = [];
    for (let k = 0; k < n; k++) {
      results.push(carriedResult(node, k, operand(node, inputs, k + 2), body.inputs[k + 2]!.type, body.outputs[k + 1]!.type, outer, k, 'loop'));
    }
    // Scan outputs share one leading dim, the trip count, known only when the loop has run.
    const scans = body.outputs.slice(n + 1);
    const trips = scans.length > 0 ? resultSymbol(node, n, 0, 'loop') : '';
    scans.forEach((v, j) => {
      results.push({ dtype: v.dtype, shape: [trips, ...v.shape.map((d, i) => outerDim(d, outer, node, n + j, i + 1, 'loop'))] });
    });
    return results;
  },
  eval(node, inputs, ctx) {
    const body = node.graph('body');
    const n = inputs.length - 2;
    const k = body.outputs.length - 1 - n;
    const max = inputs[0] ? BigInt(singleValue(node, inputs[0], 'the trip count')) : null;
    let cond = inputs[1] ? Boolean(singleValue(node, inputs[1], 'the condition')) : true;
    let carried = inputs.slice(2) as Tensor[];
    const scans: Tensor[][] = Array.from({ length: k }, () => []);
    const iterType = body.inputs[0]!.type;
    const condType = body.inputs[1]!.type;
    for (let i = 0n; (max === null || i < max) && cond; i++) {
      const outs = ctx.runGraph(body, [scalarLike('i64', iterType.shape, i), scalarLike('bool', condType.shape, cond), ...carried]);
      // The body's condition ends the loop even without a condition operand, as ONNX Runtime and the ONNX
      // reference evaluator do (the operator text calls it ignored in that case).
      cond = Boolean(singleValue(node, outs[0]!, 'the body\'s condition'));
      carried = outs.slice(1, n + 1);
      outs.slice(n + 1).forEach((t, j) => scans[j]!.push(t));
    }
    return [
      ...carried,
      ...scans.map((ts, j) => {
        const o = body.outputs[n + 1 + j]!;
        const elem = ts[0]?.shape ?? emptyElemShape(o.shape, ctx);
        return stack(node, ts, o.dtype, elem, `scan output ${j}`);
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------
// scan

registerOp({
  name: 'prim.scan',
  summary: 'for t in 0..T-1: (state…, y_t…) = body(state…, x_t…), x_t = x[t] along axis 0 of each of the last num_scan_inputs operands; results: final states, then each y stacked on a new leading axis',
  arity: { min: 1, max: Infinity },
  attrs: { body: { kind: 'graph', required: true }, num_scan_inputs: { kind: 'int', required: true } },
  infer(node, inputs) {
    const body = node.graph('body');
    const m = node.int('num_scan_inputs');
    const n = inputs.length - m;
    if (m < 1 || n < 0) fail('E_TYPE', `${node.describe()}: num_scan_inputs ${m} must be in 1..${inputs.length}`);
    if (body.inputs.length !== inputs.length) fail('E_TYPE', `${node.describe()}: the body takes ${body.inputs.length} inputs, expected ${inputs.length} (${n} states, ${m} scan elements)`);
    if (body.outputs.length < n) fail('E_TYPE', `${node.describe()}: the body yields ${body.outputs.length} values, expected at least ${n} states`);
    const xs = inputs.slice(n).map((_, j) => operand(node, inputs, n + j));
    let length: Dim | undefined;
    xs.forEach((x, j) => {
      const d = x.shape[0];
      if (d === undefined) fail('E_TYPE', `${node.describe()}: scan input ${j} is a scalar`);
      if (length === undefined || typeof length === 'string') length = d;
      else if (typeof d === 'number' && d !== length) fail('E_TYPE', `${node.describe()}: scan inputs have lengths ${length} and ${d}`);
      const elem = body.inputs[n + j]!.type;
      const want = { dtype: x.dtype, shape: x.shape.slice(1) };
      if (elem.dtype !== want.dtype || elem.shape.length !== want.shape.length ||
        elem.shape.some((e, i) => typeof e === 'number' && typeof want.shape[i] === 'number' && e !== want.shape[i])) {
        fail('E_TYPE', `${node.describe()}: the body takes scan element ${j} as ${formatType(elem)}, the scan input gives ${formatType(want)}`);
      }
    });
    const outer = outerSymbols(node, inputs);
    const results: TensorType[] = [];
    for (let k = 0; k < n; k++) {
      results.push(carriedResult(node, k, operand(node, inputs, k), body.inputs[k]!.type, body.outputs[k]!.type, outer, k, 'scan'));
    }
    body.outputs.slice(n).forEach((v, j) => {
      const r = n + j;
      results.push({ dtype: v.dtype, shape: [length!, ...v.shape.map((d, i) => outerDim(d, outer, node, r, i + 1, 'scan'))] });
    });
    return results;
  },
  eval(node, inputs, ctx) {
    const body = node.graph('body');
    const m = node.int('num_scan_inputs');
    const n = inputs.length - m;
    const xs = inputs.slice(n) as Tensor[];
    const length = xs[0]!.shape[0]!;
    xs.forEach((x, j) => {
      if (x.shape[0] !== length) fail('E_RUNTIME', `${node.describe()}: scan input ${j} has length ${x.shape[0]}, scan input 0 has ${length}`);
    });
    let states = inputs.slice(0, n) as Tensor[];
    const ys: Tensor[][] = Array.from({ length: body.outputs.length - n }, () => []);
    for (let t = 0; t < length; t++) {
      const outs = ctx.runGraph(body, [...states, ...xs.map((x) => slice0(x, t))]);
      states = outs.slice(0, n);
      outs.slice(n).forEach((y, j) => ys[j]!.push(y));
    }
    return [
      ...states,
      ...ys.map((ts, j) => {
        const o = body.outputs[n + j]!;
        return stack(node, ts, o.dtype, ts[0]?.shape ?? emptyElemShape(o.shape, ctx), `scan output ${j}`);
      }),
    ];
  },
});

// ---------------------------------------------------------------------------------------------------
// topk

type Elem = number | bigint;

/** Ascending order with NaN last (numpy's sort order); equal elements compare 0. */
function ascending(a: Elem, b: Elem): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Call f(o, i) for each lane along `axis` of a shape: o indexes the dims before it, i those after. */
function forEachLane(shape: readonly number[], axis: number, f: (o: number, i: number) => void): void {
  const inner = numel(shape.slice(axis + 1));
  const outer = numel(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) f(o, i);
}

registerOp({
  name: 'prim.topk',
  summary: 'the k largest (or smallest) elements along `axis` and their indices (i64), sorted; equal elements keep the lower index first, NaN ranks last',
  arity: { min: 1, max: 1 },
  attrs: { axis: { kind: 'int', required: true }, k: { kind: 'int', required: true }, largest: { kind: 'int' }, sorted: { kind: 'int' } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const axis = node.int('axis');
    checkAxes(node, [axis], x.shape.length, 'axis');
    const k = node.int('k');
    const dim = x.shape[axis]!;
    if (!Number.isInteger(k) || k < 0 || (typeof dim === 'number' && k > dim)) {
      fail('E_TYPE', `${node.describe()}: k = ${k} is out of range for a dim of ${dim}`);
    }
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [{ dtype: x.dtype, shape }, { dtype: 'i64', shape }];
  },
  eval(node, [x]) {
    const t = x!;
    const axis = node.int('axis');
    const k = node.int('k');
    const largest = node.int('largest', 1) !== 0;
    const dim = t.shape[axis]!;
    if (k > dim) fail('E_RUNTIME', `${node.describe()}: k = ${k} is more than the ${dim} elements along axis ${axis}`);
    const shape = t.shape.map((d, i) => (i === axis ? k : d));
    const values = Tensor.zeros(t.dtype, shape);
    const indices = Tensor.zeros('i64', shape);
    const src = t.data as ArrayLike<Elem>;
    const dv = values.data as unknown as Elem[];
    const di = indices.data as BigInt64Array;
    const inner = numel(t.shape.slice(axis + 1));
    const order = new Array<number>(dim);
    const lane: Elem[] = new Array<Elem>(dim);
    forEachLane(t.shape, axis, (o, i) => {
      const base = o * dim * inner + i;
      for (let j = 0; j < dim; j++) {
        order[j] = j;
        lane[j] = src[base + j * inner]!;
      }
      // Array.prototype.sort is stable, so equal elements keep their index order.
      order.sort((a, b) => {
        const va = lane[a]!;
        const vb = lane[b]!;
        if (largest && !(typeof va === 'number' && Number.isNaN(va)) && !(typeof vb === 'number' && Number.isNaN(vb))) return ascending(vb, va);
        return ascending(va, vb);
      });
      const ob = o * k * inner + i;
      for (let j = 0; j < k; j++) {
        dv[ob + j * inner] = lane[order[j]!]!;
        di[ob + j * inner] = BigInt(order[j]!);
      }
    });
    return [values, indices];
  },
});

// ---------------------------------------------------------------------------------------------------
// nonzero

const isNonzero = (v: Elem): boolean => (typeof v === 'bigint' ? v !== 0n : v !== 0);

registerOp({
  name: 'prim.nonzero',
  summary: 'indices (i64[rank, count]) of the nonzero elements in row-major order (NaN is nonzero; a scalar counts as rank 1)',
  arity: { min: 1, max: 1 },
  attrs: {},
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    return [{ dtype: 'i64', shape: [Math.max(x.shape.length, 1), resultSymbol(node, 0, 1, 'nonzero')] }];
  },
  eval(_node, [x]) {
    const t = x!;
    const shape = t.rank === 0 ? [1] : t.shape;
    const src = t.data as ArrayLike<Elem>;
    const hits: number[] = [];
    for (let i = 0; i < t.size; i++) if (isNonzero(src[i]!)) hits.push(i);
    const rank = shape.length;
    const out = Tensor.zeros('i64', [rank, hits.length]);
    const d = out.data as BigInt64Array;
    const st = stridesOf(shape);
    hits.forEach((flat, c) => {
      for (let ax = 0; ax < rank; ax++) d[ax * hits.length + c] = BigInt(Math.floor(flat / st[ax]!) % shape[ax]!);
    });
    return [out];
  },
});

// ---------------------------------------------------------------------------------------------------
// unique

registerOp({
  name: 'prim.unique',
  summary: 'ONNX Unique: unique elements (or slices along `axis`), sorted ascending or in order of first occurrence; results Y, first indices, inverse indices, counts (i64)',
  arity: { min: 1, max: 1 },
  attrs: { axis: { kind: 'int' }, sorted: { kind: 'int' } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    let y: Dim[];
    let inverse: Dim;
    let u: string;
    if (node.has('axis')) {
      const axis = node.int('axis');
      checkAxes(node, [axis], x.shape.length, 'axis');
      u = resultSymbol(node, 0, axis, 'unique');
      y = x.shape.map((d, i) => (i === axis ? u : d));
      inverse = x.shape[axis]!;
    } else {
      u = resultSymbol(node, 0, 0, 'unique');
      y = [u];
      inverse = x.shape.every((d) => typeof d === 'number') ? numel(x.shape as number[]) : resultSymbol(node, 2, 0, 'unique');
    }
    return [{ dtype: x.dtype, shape: y }, { dtype: 'i64', shape: [u] }, { dtype: 'i64', shape: [inverse] }, { dtype: 'i64', shape: [u] }];
  },
  eval(node, [x]) {
    const t = x!;
    const hasAxis = node.has('axis');
    const axis = hasAxis ? node.int('axis') : 0;
    const shape = hasAxis ? t.shape : [t.size];
    const dim = shape[axis]!;
    const outerN = numel(shape.slice(0, axis));
    const innerN = numel(shape.slice(axis + 1));
    const src = t.data as ArrayLike<Elem>;
    // Slice s along the axis, as the row-major list of its elements.
    const sliceOf = (s: number): Elem[] => {
      const out: Elem[] = [];
      for (let o = 0; o < outerN; o++) for (let i = 0; i < innerN; i++) out.push(src[(o * dim + s) * innerN + i]!);
      return out;
    };
    // NaN equals NaN and -0 equals 0 here, as in numpy.unique.
    const keyOf = (e: readonly Elem[]): string => e.map((v) => (typeof v === 'number' && Object.is(v, -0) ? '0' : String(v))).join(',');
    const firsts: number[] = [];
    const slices: Elem[][] = [];
    const counts: number[] = [];
    const slot = new Map<string, number>();
    const inverse: number[] = [];
    for (let s = 0; s < dim; s++) {
      const e = sliceOf(s);
      const key = keyOf(e);
      let u = slot.get(key);
      if (u === undefined) {
        u = firsts.length;
        slot.set(key, u);
        firsts.push(s);
        slices.push(e);
        counts.push(0);
      }
      counts[u]!++;
      inverse.push(u);
    }
    let order = firsts.map((_, u) => u);
    if (node.int('sorted', 1) !== 0) {
      order = order.sort((a, b) => {
        const ea = slices[a]!;
        const eb = slices[b]!;
        for (let i = 0; i < ea.length; i++) {
          const c = ascending(ea[i]!, eb[i]!);
          if (c !== 0) return c;
        }
        return 0;
      });
    }
    const rank = new Array<number>(order.length);
    order.forEach((u, r) => {
      rank[u] = r;
    });
    const nU = order.length;
    const yShape = shape.map((d, i) => (i === axis ? nU : d));
    const y = Tensor.zeros(t.dtype, hasAxis ? yShape : [nU]);
    const dy = y.data as unknown as Elem[];
    order.forEach((u, r) => {
      const e = slices[u]!;
      let j = 0;
      for (let o = 0; o < outerN; o++) for (let i = 0; i < innerN; i++) dy[(o * nU + r) * innerN + i] = e[j++]!;
    });
    const i64 = (vals: readonly number[]): Tensor => Tensor.from('i64', [vals.length], vals.map((v) => BigInt(v)));
    return [y, i64(order.map((u) => firsts[u]!)), i64(inverse.map((u) => rank[u]!)), i64(order.map((u) => counts[u]!))];
  },
});

