// Reductions over a sorted list of axes (an empty list reduces nothing), and argmax/argmin along one axis.
// Float sums and products accumulate in double precision and round once; integer ones wrap.
import { DTYPE_INFO, isFloat, type DType } from '../dtype.js';
import { registerOp, type OpDef } from '../op.js';
import type { Node, TensorType } from '../graph.js';
import type { Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { narrowing } from '../numeric.js';
import { fail } from '../error.js';
import { checkAxes, expectDType, operand, type DTypeClass } from './common.js';

export interface ReduceRow {
  readonly summary: string;
  readonly accepts: DTypeClass;
  /** Identity element (the result over an empty set). */
  readonly init: (t: DType) => number | bigint;
  readonly num: (acc: number, x: number) => number;
  readonly big: (acc: bigint, x: bigint) => bigint;
}

function lowest(t: DType): number | bigint {
  if (isFloat(t)) return -Infinity;
  if (t === 'bool') return 0;
  if (t === 'u64') return 0n;
  if (t === 'i64') return -(2n ** 63n);
  const info = DTYPE_INFO[t];
  return info.kind === 'uint' ? 0 : -(2 ** (info.bits - 1));
}

function highest(t: DType): number | bigint {
  if (isFloat(t)) return Infinity;
  if (t === 'bool') return 1;
  if (t === 'u64') return 2n ** 64n - 1n;
  if (t === 'i64') return 2n ** 63n - 1n;
  const info = DTYPE_INFO[t];
  return info.kind === 'uint' ? 2 ** info.bits - 1 : 2 ** (info.bits - 1) - 1;
}

// Math.max/min propagate NaN and order -0 below +0, as the binary prim.max/prim.min do.
const NAN_MAX = Math.max;
const NAN_MIN = Math.min;

const REDUCE: Record<string, ReduceRow> = {
  reduce_sum: { summary: 'sum', accepts: 'numeric', init: (t) => (DTYPE_INFO[t].big ? 0n : 0), num: (a, x) => a + x, big: (a, x) => a + x },
  reduce_prod: { summary: 'product', accepts: 'numeric', init: (t) => (DTYPE_INFO[t].big ? 1n : 1), num: (a, x) => a * x, big: (a, x) => a * x },
  reduce_max: { summary: 'maximum (NaN propagates; -inf or the lowest integer over none)', accepts: 'any', init: lowest, num: NAN_MAX, big: (a, x) => (x > a ? x : a) },
  reduce_min: { summary: 'minimum (NaN propagates; +inf or the highest integer over none)', accepts: 'any', init: highest, num: NAN_MIN, big: (a, x) => (x < a ? x : a) },
};

/** The semantics of each reduction (identity and step), for the kernel IR's interpreter. */
export const REDUCE_ROWS: Readonly<Record<string, ReduceRow>> = REDUCE;

/** Output shape of a reduction over `axes`. */
export function reducedShape(shape: readonly Dim[], axes: readonly number[], keepdims: boolean): Dim[] {
  const out: Dim[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/** Split a shape around reduced axes: element (o, r) of the reduction is at `keptOffsets[o] + redOffsets[r]`
 * of the operand, o running over the kept axes and r over the reduced ones (both row-major). */
interface ReductionPlan {
  readonly outer: number;
  readonly inner: number;
  readonly keptOffsets: Int32Array;
  readonly redOffsets: Int32Array;
}

function reductionPlan(shape: readonly number[], axes: readonly number[]): ReductionPlan {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    strides[i] = acc;
    acc *= shape[i]!;
  }
  const keptAxes = [...Array(rank).keys()].filter((i) => !axes.includes(i));
  const keptShape = keptAxes.map((i) => shape[i]!);
  const redShape = axes.map((i) => shape[i]!);
  const outer = keptShape.reduce((a, b) => a * b, 1);
  const inner = redShape.reduce((a, b) => a * b, 1);
  // Precompute the source offset of every kept and every reduced multi-index.
  const offsets = (dims: number[], which: number[]): Int32Array => {
    const n = dims.reduce((a, b) => a * b, 1);
    const off = new Int32Array(n);
    const idx = new Array<number>(dims.length).fill(0);
    for (let k = 0; k < n; k++) {
      let o = 0;
      for (let j = 0; j < dims.length; j++) o += idx[j]! * strides[which[j]!]!;
      off[k] = o;
      for (let j = dims.length - 1; j >= 0; j--) {
        if (++idx[j]! < dims[j]!) break;
        idx[j] = 0;
      }
    }
    return off;
  };
  // When the operand is empty, no offset is ever read: skip building the (possibly large) other table.
  if (outer * inner === 0) return { outer, inner, keptOffsets: new Int32Array(0), redOffsets: new Int32Array(0) };
  return { outer, inner, keptOffsets: offsets(keptShape, keptAxes), redOffsets: offsets(redShape, [...axes]) };
}

function inferReduce(row: { accepts: DTypeClass }, node: Node, inputs: readonly (TensorType | null)[]): TensorType[] {
  const x = operand(node, inputs, 0);
  expectDType(node, x, row.accepts);
  const axes = node.ints('axes');
  checkAxes(node, axes, x.shape.length);
  return [{ dtype: x.dtype, shape: reducedShape(x.shape, axes, node.int('keepdims', 0) !== 0) }];
}

for (const [name, row] of Object.entries(REDUCE)) {
  const def: OpDef = {
    name: `prim.${name}`,
    summary: `${row.summary} over \`axes\` (sorted; empty reduces nothing); keepdims 0 or 1`,
    arity: { min: 1, max: 1 },
    attrs: { axes: { kind: 'ints', required: true }, keepdims: { kind: 'int' } },
    infer: (node, inputs) => inferReduce(row, node, inputs),
    eval(node, [x]) {
      const t = x!;
      const axes = node.ints('axes');
      const keep = node.int('keepdims', 0) !== 0;
      const { outer, inner, keptOffsets: ko, redOffsets: ro } = reductionPlan(t.shape, axes);
      const outShape = reducedShape(t.shape, axes, keep) as number[];
      const out = Tensor.zeros(t.dtype, outShape);
      if (DTYPE_INFO[t.dtype].big) {
        const s = t.data as BigInt64Array;
        const d = out.data as BigInt64Array;
        const init = row.init(t.dtype) as bigint;
        for (let o = 0; o < outer; o++) {
          let acc = init;
          const base = ko[o]!;
          for (let r = 0; r < inner; r++) acc = row.big(acc, s[base + ro[r]!]!);
          d[o] = acc;
        }
        return [out];
      }
      const s = t.data as Float64Array;
      const d = out.data as Float64Array;
      const float = isFloat(t.dtype);
      // Integer sums and products wrap modulo 2^32 at every step so the low bits stay exact.
      const step = float || name === 'reduce_max' || name === 'reduce_min' ? row.num
        : name === 'reduce_prod' ? Math.imul : (a: number, b: number) => (a + b) | 0;
      const init = row.init(t.dtype) as number;
      const narrow = narrowing(t.dtype);
      for (let o = 0; o < outer; o++) {
        let acc = init;
        const base = ko[o]!;
        for (let r = 0; r < inner; r++) acc = step(acc, s[base + ro[r]!]!);
        d[o] = narrow ? narrow(acc) : acc;
      }
      return [out];
    },
  };
  registerOp(def);
}

for (const [name, better] of [['argmax', (a: number | bigint, b: number | bigint) => a > b], ['argmin', (a: number | bigint, b: number | bigint) => a < b]] as const) {
  registerOp({
    name: `prim.${name}`,
    summary: `index (i64) of the ${name === 'argmax' ? 'largest' : 'smallest'} element along \`axis\` (first NaN wins; first or last of ties by select_last_index)`,
    arity: { min: 1, max: 1 },
    attrs: { axis: { kind: 'int', required: true }, keepdims: { kind: 'int' }, select_last_index: { kind: 'int' } },
    infer(node, inputs) {
      const x = operand(node, inputs, 0);
      expectDType(node, x, 'numeric');
      const axis = node.int('axis');
      checkAxes(node, [axis], x.shape.length, 'axis');
      if (x.shape[axis] === 0) fail('E_TYPE', `${node.describe()}: ${name} over an empty axis`);
      return [{ dtype: 'i64', shape: reducedShape(x.shape, [axis], node.int('keepdims', 0) !== 0) }];
    },
    eval(node, [x]) {
      const t = x!;
      const axis = node.int('axis');
      const last = node.int('select_last_index', 0) !== 0;
      const { outer, inner, keptOffsets: ko, redOffsets: ro } = reductionPlan(t.shape, [axis]);
      if (inner === 0 && outer > 0) fail('E_RUNTIME', `${node.describe()}: ${name} over an empty axis`);
      const out = Tensor.zeros('i64', reducedShape(t.shape, [axis], node.int('keepdims', 0) !== 0) as number[]);
      const s = t.data as ArrayLike<number | bigint>;
      const d = out.data as BigInt64Array;
      for (let o = 0; o < outer; o++) {
        const base = ko[o]!;
        let bi = 0;
        let bv = s[base]!;
        for (let r = 1; r < inner; r++) {
          const v = s[base + ro[r]!]!;
          if (typeof bv === 'number' && Number.isNaN(bv)) break;
          if ((typeof v === 'number' && Number.isNaN(v)) || better(v, bv) || (last && v === bv)) {
            bi = r;
            bv = v;
          }
        }
        d[o] = BigInt(bi);
      }
      return [out];
    },
  });
}
