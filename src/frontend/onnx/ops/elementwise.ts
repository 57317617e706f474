// ONNX pointwise math: unary and binary ops that map to one prim (or a short formula), comparisons,
// logic, bit operations, Where, Cast. Rules are table rows where they can be: `Add` is `prim.add`.
//
// Numerics: a formula of several prims on f16/bf16 runs in f32 and rounds once at the end (as ONNX
// Runtime and numpy's half loops do); functions JavaScript's Math has but the prims lack (asinh, atanh,
// …) are composed so that they keep full relative accuracy near 0 and do not overflow early.
import { A } from '../../../ir/attr.js';
import type { DType } from '../../../ir/dtype.js';
import { dtypeFromOnnx, isFloat, DTYPE_INFO } from '../../../ir/dtype.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import type { Value } from '../../../ir/graph.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps, type OnnxOp } from '../registry.js';
import { narrowCast, narrowCastOptions } from './narrow-cast.js';

// ---- shared helpers (activation.ts uses them too) ----

/** Floats narrower than f32 (f16, bf16): formulas on them run in f32. */
const isNarrowFloat = (t: DType): boolean => isFloat(t) && DTYPE_INFO[t].bytes < 4;

/** Run a multi-prim formula on a float value: f16/bf16 are widened to f32 and rounded once at the end. */
export function inF32(b: GraphBuilder, x: Value, f: (x: Value) => Value): Value {
  if (!isNarrowFloat(x.dtype)) return f(x);
  return b.cast(f(b.cast(x, 'f32')), x.dtype);
}

/** log(1 + u), accurate for small u (Goldberg's trick: log(w)·u/(w−1) with w = 1 + u rounded). */
export function log1p(b: GraphBuilder, u: Value): Value {
  const one = b.like(u, 1);
  const w = b.add(one, u);
  const lw = b.log(w);
  const corrected = b.mul(lw, b.div(u, b.sub(w, one)));
  // w = 1: u itself; u = +inf (or NaN): log(w) (the correction would be inf/inf).
  return b.where(b.eq(w, one), u, b.where(b.lt(u, b.like(u, Infinity)), corrected, lw));
}

/** e^x − 1, accurate near 0 (Kahan: (u − 1)·x / log u with u = e^x rounded). */
export function expm1(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  const u = b.exp(x);
  const um1 = b.sub(u, one);
  const corrected = b.mul(um1, b.div(x, b.log(u)));
  // u = 1: x itself; u = 0 (x ≪ 0): −1; u = inf (or NaN): u − 1.
  return b.where(b.eq(u, one), x, b.where(b.eq(um1, b.neg(one)), um1, b.where(b.lt(u, b.like(x, Infinity)), corrected, um1)));
}

/** x with the sign of s where s < 0 (x is non-negative): how odd functions are built from |x|. */
function withSignOf(b: GraphBuilder, s: Value, x: Value): Value {
  return b.where(b.lt(s, b.like(s, 0)), b.neg(x), x);
}

/** x != y (true for NaN). */
const ne = (b: GraphBuilder, x: Value, y: Value): Value => b.not(b.eq(x, y));

/** x <= y, false when either is NaN (so not ¬(y < x)). */
const le = (b: GraphBuilder, x: Value, y: Value): Value => b.or(b.lt(x, y), b.eq(x, y));

/** A constant of x's dtype that works for float and integer dtypes (integer values only for ints). */
function constLike(b: GraphBuilder, x: Value, v: number): Value {
  return b.like(x, isFloat(x.dtype) ? v : Math.trunc(v));
}

/** Operands of a broadcasting binary op. Before opset 7 the second operand broadcasts only with
 * `broadcast=1`, aligned at `axis` (or at the end): B of shape (3,4) with axis=1 against A (2,3,4,5). */
function binaryOperands(ctx: LowerContext): [Value, Value] {
  const a = ctx.arg(0);
  let b = ctx.arg(1);
  if (ctx.opset < 7 && ctx.node.int('broadcast', 0) === 1 && ctx.node.has('axis')) {
    const axis = ctx.axis(ctx.node.int('axis'), a.shape.length);
    const trailing = a.shape.length - axis - b.shape.length;
    if (trailing < 0) ctx.fail(`B of shape [${b.shape.join(',')}] does not fit A of shape [${a.shape.join(',')}] at axis ${axis}`);
    b = ctx.b.reshape(b, [...b.shape, ...new Array<number>(trailing).fill(1)]);
  }
  return [a, b];
}

// ---- table builders ----

/** An ONNX op that is exactly one unary prim. */
const unary = (type: string, prim: string, since = 1): OnnxOp => ({
  type, since, lower: (ctx) => [ctx.b.unary(prim, ctx.arg(0))],
});

/** A broadcasting binary op written over the builder (legacy broadcast handled). */
const binary = (type: string, since: number, f: (b: GraphBuilder, x: Value, y: Value, ctx: LowerContext) => Value): OnnxOp => ({
  type, since, lower: (ctx) => {
    const [x, y] = binaryOperands(ctx);
    return [f(ctx.b, x, y, ctx)];
  },
});

/** A unary float formula of several prims (computed in f32 for f16/bf16). */
const math = (type: string, since: number, f: (b: GraphBuilder, x: Value) => Value): OnnxOp => ({
  type, since, lower: (ctx) => [inF32(ctx.b, ctx.arg(0), (x) => f(ctx.b, x))],
});

/** A variadic op folding a binary prim over its operands (numpy broadcasting from opset 8). */
const variadic = (type: string, f: (b: GraphBuilder, x: Value, y: Value) => Value, finish?: (b: GraphBuilder, acc: Value, n: number) => Value): OnnxOp => ({
  type, since: 1, lower: (ctx) => {
    if (ctx.numInputs === 0) ctx.fail('takes at least one operand');
    let acc = ctx.arg(0);
    for (let i = 1; i < ctx.numInputs; i++) acc = f(ctx.b, acc, ctx.arg(i));
    return [finish ? finish(ctx.b, acc, ctx.numInputs) : acc];
  },
});

// ---- formulas ----

/** e^{|x|}/2 as e^{|x|/2}·(½·e^{|x|/2}): finite wherever the result is, and no rounding of |x| − ln 2. */
function halfExpAbs(b: GraphBuilder, x: Value): Value {
  const e = b.exp(b.mul(b.abs(x), b.like(x, 0.5)));
  return b.mul(e, b.mul(e, b.like(x, 0.5)));
}

/** sinh: 2t/((1−t)(1+t)) with t = tanh(x/2) below |x| = 1 (no cancellation), ±(h − 1/(4h)) with
 * h = e^{|x|}/2 above. */
function sinh(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  const t = b.tanh(b.mul(x, b.like(x, 0.5)));
  const small = b.div(b.add(t, t), b.mul(b.sub(one, t), b.add(one, t)));
  const h = halfExpAbs(b, x);
  const big = withSignOf(b, x, b.sub(h, b.div(b.like(x, 0.25), h)));
  return b.where(b.lt(b.abs(x), one), small, big);
}

/** cosh = h + 1/(4h) with h = e^{|x|}/2. */
function cosh(b: GraphBuilder, x: Value): Value {
  const h = halfExpAbs(b, x);
  return b.add(h, b.div(b.like(x, 0.25), h));
}

/** asinh |x| = log1p(a + a²/(1 + √(1 + a²))) below 1; log a + log(1 + √(1 + 1/a²)) above (no a² overflow). */
function asinh(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  const a = b.abs(x);
  const a2 = b.mul(a, a);
  const small = log1p(b, b.add(a, b.div(a2, b.add(one, b.sqrt(b.add(one, a2))))));
  const big = b.add(b.log(a), b.log(b.add(one, b.sqrt(b.add(one, b.recip(a2))))));
  return withSignOf(b, x, b.where(b.lt(a, one), small, big));
}

/** acosh x = log1p((x−1) + √(x−1)·√(x+1)) below 2 (NaN below 1); log x + log(1 + √(1 − 1/x²)) above. */
function acosh(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  const xm1 = b.sub(x, one);
  const small = log1p(b, b.add(xm1, b.mul(b.sqrt(xm1), b.sqrt(b.add(x, one)))));
  const big = b.add(b.log(x), b.log(b.add(one, b.sqrt(b.sub(one, b.recip(b.mul(x, x)))))));
  return b.where(b.lt(x, b.like(x, 2)), small, big);
}

/** atanh |x| = ½·log1p(2a/(1−a)). */
function atanh(b: GraphBuilder, x: Value): Value {
  const a = b.abs(x);
  const r = b.mul(b.like(x, 0.5), log1p(b, b.div(b.add(a, a), b.sub(b.like(x, 1), a))));
  return withSignOf(b, x, r);
}

/** asin x = atan(x / √((1−x)(1+x))). */
function asin(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  return b.unary('atan', b.div(x, b.sqrt(b.mul(b.sub(one, x), b.add(one, x)))));
}

/** acos x = 2·atan(√((1−x)/(1+x))): accurate near both ends. */
function acos(b: GraphBuilder, x: Value): Value {
  const one = b.like(x, 1);
  return b.mul(b.like(x, 2), b.unary('atan', b.sqrt(b.div(b.sub(one, x), b.add(one, x)))));
}

/** Sign: 1, −1 or 0 (NaN stays NaN; unsigned integers have no −1). */
function sign(b: GraphBuilder, x: Value): Value {
  const zero = b.like(x, 0);
  const pos = b.where(b.lt(zero, x), b.like(x, 1), x);
  return DTYPE_INFO[x.dtype].kind === 'uint' ? pos : b.where(b.lt(x, zero), b.like(x, -1), pos);
}

/** Pow with the exponent's own dtype (opset 12+), computed in a dtype both fit and cast back to the
 * base's dtype: two floats in the wider (f32 at least); a float base with an integer exponent in the
 * base's dtype (f32 for f16/bf16); an integer base with a float exponent in f64 and truncated, as
 * numpy's promotion and ONNX Runtime's std::pow do; two integers in the base's dtype. */
function pow(b: GraphBuilder, x: Value, y: Value): Value {
  if (x.dtype === y.dtype) return b.pow(x, y);
  let t: DType;
  if (isFloat(x.dtype) && isFloat(y.dtype)) t = x.dtype === 'f64' || y.dtype === 'f64' ? 'f64' : 'f32';
  else if (isFloat(x.dtype)) t = isNarrowFloat(x.dtype) ? 'f32' : x.dtype;
  else if (isFloat(y.dtype)) t = 'f64';
  else t = x.dtype;
  return b.cast(b.pow(b.cast(x, t), b.cast(y, t)), x.dtype);
}

/** Mod: fmod=1 is C fmod (the sign of the dividend); fmod=0 is Python's % (the sign of the divisor). */
function mod(b: GraphBuilder, x: Value, y: Value, ctx: LowerContext): Value {
  const r = b.binary('mod', x, y);
  if (ctx.node.int('fmod', 0) === 1 || DTYPE_INFO[x.dtype].kind === 'uint') return r;
  const zero = b.like(x, 0);
  const fix = b.and(b.binary('xor', b.lt(r, zero), b.lt(y, zero)), ne(b, r, zero));
  return b.where(fix, b.add(r, y), r);
}

/** BitShift on unsigned integers: x·2^y or x / 2^y (a shift by the width or more gives 0). */
function bitShift(b: GraphBuilder, x: Value, y: Value, ctx: LowerContext): Value {
  const dir = ctx.node.str('direction');
  if (DTYPE_INFO[x.dtype].kind !== 'uint') ctx.fail(`operands must be unsigned integers, got ${x.dtype}`);
  const p = b.pow(b.like(y, 2), y);
  if (dir === 'LEFT') return b.mul(x, p);
  if (dir === 'RIGHT') return b.div(x, p);
  return ctx.fail(`direction must be LEFT or RIGHT, got '${dir}'`);
}

/** IsInf with detect_positive / detect_negative. */
function isInf(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const pos = ctx.node.int('detect_positive', 1) !== 0;
  const neg = ctx.node.int('detect_negative', 1) !== 0;
  const isPos = b.eq(x, b.like(x, Infinity));
  const isNeg = b.eq(x, b.like(x, -Infinity));
  if (pos && neg) return b.or(isPos, isNeg);
  if (pos) return isPos;
  if (neg) return isNeg;
  return b.broadcast(b.scalar('bool', false), x.shape);
}

/** The largest finite value of a float dtype. */
const FLOAT_MAX: Partial<Record<DType, number>> = { f32: 3.4028234663852886e38, f64: Number.MAX_VALUE, f16: 65504, bf16: 3.3895313892515355e38 };

/** Clip: min/max attributes before opset 11, optional operands from 11. An omitted bound is the
 * dtype's lowest/largest finite value (so ±inf clamp to it, as the spec and ONNX Runtime say);
 * min > max gives max. */
function clip(ctx: LowerContext): Value {
  const { b } = ctx;
  let x = ctx.arg(0);
  const big = FLOAT_MAX[x.dtype];
  const bound = (i: number, name: 'min' | 'max', sign: number): Value | null => {
    if (ctx.opset >= 11 && ctx.input(i)) return ctx.input(i);
    if (ctx.opset < 11 && ctx.node.has(name)) return b.like(x, ctx.node.float(name));
    return big === undefined ? null : b.like(x, sign * big);
  };
  const lo = bound(1, 'min', -1);
  const hi = bound(2, 'max', 1);
  if (lo) x = b.max(x, lo);
  if (hi) x = b.min(x, hi);
  return x;
}

/** ONNX TensorProto.DataType names, as Cast's `to` spells them before opset 6. */
const ONNX_TYPE_NAMES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
};

/** Cast's target dtype: an ONNX element type number (a name before opset 6). */
function castTarget(ctx: LowerContext): DType {
  const attr = ctx.node.attrs['to'];
  if (attr?.kind === 'string') {
    const code = ONNX_TYPE_NAMES[attr.value.toUpperCase()] ?? ctx.fail(`unknown element type '${attr.value}'`);
    return dtypeFromOnnx(code, 'attribute to');
  }
  return dtypeFromOnnx(ctx.node.int('to'), 'attribute to');
}

defineOnnxOps(
  // unary math
  unary('Neg', 'neg'),
  unary('Abs', 'abs'),
  unary('Exp', 'exp'),
  unary('Log', 'log'),
  unary('Sqrt', 'sqrt'),
  unary('Reciprocal', 'recip'),
  unary('Sin', 'sin', 7),
  unary('Cos', 'cos', 7),
  unary('Atan', 'atan', 7),
  unary('Tanh', 'tanh'),
  unary('Erf', 'erf', 9),
  unary('Floor', 'floor'),
  unary('Ceil', 'ceil'),
  unary('Round', 'round', 11),
  unary('IsNaN', 'isnan', 9),
  math('Tan', 7, (b, x) => b.div(b.unary('sin', x), b.unary('cos', x))),
  math('Asin', 7, asin),
  math('Acos', 7, acos),
  math('Sinh', 9, sinh),
  math('Cosh', 9, cosh),
  math('Asinh', 9, asinh),
  math('Acosh', 9, acosh),
  math('Atanh', 9, atanh),
  { type: 'Sign', since: 9, lower: (ctx) => [sign(ctx.b, ctx.arg(0))] },
  { type: 'IsInf', since: 10, lower: (ctx) => [isInf(ctx)] },

  // arithmetic
  binary('Add', 1, (b, x, y) => b.add(x, y)),
  binary('Sub', 1, (b, x, y) => b.sub(x, y)),
  binary('Mul', 1, (b, x, y) => b.mul(x, y)),
  binary('Div', 1, (b, x, y) => b.div(x, y)),
  binary('Pow', 1, pow),
  binary('Mod', 10, mod),
  variadic('Max', (b, x, y) => b.max(x, y)),
  variadic('Min', (b, x, y) => b.min(x, y)),
  variadic('Sum', (b, x, y) => b.add(x, y)),
  variadic('Mean', (b, x, y) => b.add(x, y), (b, acc, n) => b.div(acc, constLike(b, acc, n))),
  { type: 'Clip', since: 1, lower: (ctx) => [clip(ctx)] },

  // comparisons and logic
  binary('Equal', 1, (b, x, y) => b.eq(x, y)),
  binary('Less', 1, (b, x, y) => b.lt(x, y)),
  binary('Greater', 1, (b, x, y) => b.lt(y, x)),
  binary('LessOrEqual', 12, (b, x, y) => le(b, x, y)),
  binary('GreaterOrEqual', 12, (b, x, y) => le(b, y, x)),
  binary('And', 1, (b, x, y) => b.and(x, y)),
  binary('Or', 1, (b, x, y) => b.or(x, y)),
  binary('Xor', 1, (b, x, y) => b.binary('xor', x, y)),
  unary('Not', 'not'),

  // bits
  binary('BitwiseAnd', 18, (b, x, y) => b.and(x, y)),
  binary('BitwiseOr', 18, (b, x, y) => b.or(x, y)),
  binary('BitwiseXor', 18, (b, x, y) => b.binary('xor', x, y)),
  unary('BitwiseNot', 'not', 18),
  binary('BitShift', 11, bitShift),

  // selection, conversion, identity
  { type: 'Where', since: 9, lower: (ctx) => [ctx.b.where(ctx.arg(0), ctx.arg(1), ctx.arg(2))] },
  { type: 'Cast', since: 1, lower: (ctx) => [narrowCast(ctx.b, ctx.arg(0), castTarget(ctx), narrowCastOptions(ctx))] },
  { type: 'CastLike', since: 15, lower: (ctx) => [narrowCast(ctx.b, ctx.arg(0), ctx.arg(1).dtype, narrowCastOptions(ctx))] },
  {
    type: 'BitCast', since: 26, lower: (ctx) => {
      const x = ctx.arg(0);
      const to = dtypeFromOnnx(ctx.node.int('to'), 'attribute to');
      return [to === x.dtype ? x : ctx.b.op1('prim.bitcast', [x], { to: A.dtype(to) })];
    },
  },
  { type: 'Identity', since: 1, lower: (ctx) => [ctx.arg(0)] },
);
