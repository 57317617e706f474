// Pointwise prims: one table row per op, with its scalar semantics for floats, small ints and 64-bit ints.
// Floats are computed in double precision and rounded once to the result dtype; integers wrap.
import { DTYPE_INFO, isFloat, type DType } from '../dtype.js';
import { registerOp } from '../op.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { narrowing } from '../numeric.js';
import { fail } from '../error.js';
import { broadcastConcrete, broadcastIndex, expectDType, operand, sameDType, type DTypeClass } from './common.js';
import { erf, roundHalfEven } from './math.js';

type F = (x: number) => number;
type B = (x: bigint) => bigint;

export interface UnaryRow {
  readonly summary: string;
  readonly accepts: DTypeClass;
  /** Semantics on JS numbers (floats; ints that fit in a double). */
  readonly num: F;
  /** Semantics on BigInts (i64/u64), where the op accepts them. */
  readonly big?: B;
  /** Result dtype, when not the operand's. */
  readonly result?: DType;
}

const UNARY: Record<string, UnaryRow> = {
  neg: { summary: '-x', accepts: 'numeric', num: (x) => -x, big: (x) => -x },
  abs: { summary: '|x|', accepts: 'numeric', num: Math.abs, big: (x) => (x < 0n ? -x : x) },
  exp: { summary: 'e^x', accepts: 'float', num: Math.exp },
  log: { summary: 'natural logarithm', accepts: 'float', num: Math.log },
  sqrt: { summary: 'square root', accepts: 'float', num: Math.sqrt },
  recip: { summary: '1/x', accepts: 'float', num: (x) => 1 / x },
  sin: { summary: 'sine', accepts: 'float', num: Math.sin },
  cos: { summary: 'cosine', accepts: 'float', num: Math.cos },
  atan: { summary: 'arc tangent', accepts: 'float', num: Math.atan },
  tanh: { summary: 'hyperbolic tangent', accepts: 'float', num: Math.tanh },
  erf: { summary: 'error function', accepts: 'float', num: erf },
  floor: { summary: 'round toward -inf', accepts: 'float', num: Math.floor },
  ceil: { summary: 'round toward +inf', accepts: 'float', num: Math.ceil },
  round: { summary: 'round half to even', accepts: 'float', num: roundHalfEven },
  not: { summary: 'logical not (bool), bitwise not (ints)', accepts: 'intOrBool', num: (x) => ~x, big: (x) => ~x },
  isnan: { summary: 'x is NaN', accepts: 'float', num: (x) => (Number.isNaN(x) ? 1 : 0), result: 'bool' },
};

export interface BinaryRow {
  readonly summary: string;
  readonly accepts: DTypeClass;
  readonly num: (a: number, b: number) => number;
  /** Exact 32-bit variant where `num` would lose bits (integer multiply). */
  readonly int32?: (a: number, b: number) => number;
  readonly big?: (a: bigint, b: bigint) => bigint;
  readonly result?: DType;
}

// Integer division and remainder truncate toward zero (C semantics); division by zero gives 0.
const idiv = (a: number, b: number): number => (b === 0 ? 0 : Math.trunc(a / b));
const imod = (a: number, b: number): number => (b === 0 ? 0 : a % b);

function ipow(a: number, b: number, mul: (x: number, y: number) => number): number {
  if (b < 0) return a === 1 ? 1 : a === -1 ? (b % 2 === 0 ? 1 : -1) : 0;
  let r = 1;
  let base = a;
  let e = b;
  while (e > 0) {
    if (e & 1) r = mul(r, base);
    base = mul(base, base);
    e = Math.floor(e / 2);
  }
  return r;
}

function bigpow(a: bigint, b: bigint): bigint {
  if (b < 0n) return a === 1n ? 1n : a === -1n ? (b % 2n === 0n ? 1n : -1n) : 0n;
  let r = 1n;
  let base = BigInt.asIntN(64, a);
  let e = b;
  while (e > 0n) {
    if (e & 1n) r = BigInt.asIntN(64, r * base);
    base = BigInt.asIntN(64, base * base);
    e >>= 1n;
  }
  return r;
}

/** C/IEEE pow: 1^y = 1 and (-1)^±inf = 1, even for a NaN y (JavaScript's Math.pow gives NaN). */
const fpow = (a: number, b: number): number => (a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b));

const BINARY: Record<string, BinaryRow> = {
  add: { summary: 'a + b', accepts: 'numeric', num: (a, b) => a + b, big: (a, b) => a + b },
  sub: { summary: 'a - b', accepts: 'numeric', num: (a, b) => a - b, big: (a, b) => a - b },
  mul: { summary: 'a * b', accepts: 'numeric', num: (a, b) => a * b, int32: Math.imul, big: (a, b) => a * b },
  div: { summary: 'a / b (integers truncate)', accepts: 'numeric', num: (a, b) => a / b, int32: idiv, big: (a, b) => (b === 0n ? 0n : a / b) },
  pow: { summary: 'a ^ b', accepts: 'numeric', num: fpow, int32: (a, b) => ipow(a, b, Math.imul), big: bigpow },
  max: { summary: 'maximum (NaN propagates)', accepts: 'any', num: Math.max, big: (a, b) => (a > b ? a : b) },
  min: { summary: 'minimum (NaN propagates)', accepts: 'any', num: Math.min, big: (a, b) => (a < b ? a : b) },
  mod: { summary: 'remainder with the sign of a (C fmod)', accepts: 'numeric', num: (a, b) => a % b, int32: imod, big: (a, b) => (b === 0n ? 0n : a % b) },
  lt: { summary: 'a < b', accepts: 'any', num: (a, b) => (a < b ? 1 : 0), big: (a, b) => (a < b ? 1n : 0n), result: 'bool' },
  eq: { summary: 'a == b', accepts: 'any', num: (a, b) => (a === b ? 1 : 0), big: (a, b) => (a === b ? 1n : 0n), result: 'bool' },
  and: { summary: 'logical and (bool), bitwise and (ints)', accepts: 'intOrBool', num: (a, b) => a & b, big: (a, b) => a & b },
  or: { summary: 'logical or (bool), bitwise or (ints)', accepts: 'intOrBool', num: (a, b) => a | b, big: (a, b) => a | b },
  xor: { summary: 'logical xor (bool), bitwise xor (ints)', accepts: 'intOrBool', num: (a, b) => a ^ b, big: (a, b) => a ^ b },
};

export const UNARY_PRIMS = Object.keys(UNARY);
/** The scalar semantics of each pointwise prim (the kernel IR's interpreter computes with these rows). */
export const UNARY_ROWS: Readonly<Record<string, UnaryRow>> = UNARY;
export const BINARY_ROWS: Readonly<Record<string, BinaryRow>> = BINARY;
export const BINARY_PRIMS = Object.keys(BINARY);

for (const [name, row] of Object.entries(UNARY)) {
  registerOp({
    name: `prim.${name}`,
    summary: row.summary,
    arity: { min: 1, max: 1 },
    attrs: {},
    infer(node, inputs) {
      const x = operand(node, inputs, 0);
      expectDType(node, x, row.accepts);
      return [{ dtype: row.result ?? x.dtype, shape: x.shape }];
    },
    eval(node, [x]) {
      const t = x!;
      const outType = row.result ?? t.dtype;
      const out = Tensor.zeros(outType, t.shape);
      mapUnary(t, out, row, node.op);
      return [out];
    },
  });
}

function mapUnary(x: Tensor, out: Tensor, row: UnaryRow, op: string): void {
  const n = x.size;
  const src = x.data;
  const dst = out.data;
  if (DTYPE_INFO[x.dtype].big) {
    if (!row.big) fail('E_TYPE', `${op} is not defined on ${x.dtype}`);
    const s = src as BigInt64Array;
    const d = dst as BigInt64Array;
    for (let i = 0; i < n; i++) d[i] = row.big(s[i]!);
    return;
  }
  const s = src as Float64Array;
  const d = dst as Float64Array;
  if (x.dtype === 'bool' && out.dtype === 'bool') {
    for (let i = 0; i < n; i++) d[i] = row.num(s[i]!) & 1; // `not` on bools is logical
    return;
  }
  const narrow = narrowing(out.dtype); // f16, bf16, float8, float4: round; 4- and 2-bit ints: wrap
  if (narrow) {
    for (let i = 0; i < n; i++) d[i] = narrow(row.num(s[i]!));
    return;
  }
  for (let i = 0; i < n; i++) d[i] = row.num(s[i]!);
}

for (const [name, row] of Object.entries(BINARY)) {
  registerOp({
    name: `prim.${name}`,
    summary: `${row.summary}, numpy broadcasting`,
    arity: { min: 2, max: 2 },
    attrs: {},
    infer(node, inputs) {
      const a = operand(node, inputs, 0);
      const b = operand(node, inputs, 1);
      const dtype = sameDType(node, [a, b]);
      expectDType(node, a, row.accepts);
      let shape;
      try {
        shape = broadcastShapes(a.shape, b.shape);
      } catch {
        return fail('E_TYPE', `${node.describe()}: shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] do not broadcast`);
      }
      return [{ dtype: row.result ?? dtype, shape }];
    },
    eval(node, [a, b]) {
      return [mapBinary(a!, b!, row, node.op)];
    },
  });
}

function mapBinary(a: Tensor, b: Tensor, row: BinaryRow, op: string): Tensor {
  const shape = broadcastConcrete([a.shape, b.shape]);
  const out = Tensor.zeros(row.result ?? a.dtype, shape);
  const ia = broadcastIndex(a.shape, shape);
  const ib = broadcastIndex(b.shape, shape);
  const n = out.size;
  if (DTYPE_INFO[a.dtype].big) {
    const f = row.big ?? fail('E_TYPE', `${op} is not defined on ${a.dtype}`);
    const x = a.data as BigInt64Array;
    const y = b.data as BigInt64Array;
    if (out.dtype === 'bool') {
      const d = out.data as Uint8Array;
      for (let i = 0; i < n; i++) d[i] = Number(f(x[ia ? ia[i]! : i]!, y[ib ? ib[i]! : i]!));
    } else {
      const d = out.data as BigInt64Array;
      for (let i = 0; i < n; i++) d[i] = f(x[ia ? ia[i]! : i]!, y[ib ? ib[i]! : i]!);
    }
    return out;
  }
  const f = !isFloat(a.dtype) && a.dtype !== 'bool' && row.int32 ? row.int32 : row.num;
  const x = a.data as Float64Array;
  const y = b.data as Float64Array;
  const d = out.data as Float64Array;
  const narrow = narrowing(out.dtype);
  const boolOut = a.dtype === 'bool' && out.dtype === 'bool';
  if (!ia && !ib && !narrow && !boolOut) {
    for (let i = 0; i < n; i++) d[i] = f(x[i]!, y[i]!);
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = f(x[ia ? ia[i]! : i]!, y[ib ? ib[i]! : i]!);
    d[i] = narrow ? narrow(v) : boolOut ? v & 1 : v;
  }
  return out;
}
