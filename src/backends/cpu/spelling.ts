// How the CPU backend spells the prims in C++: one row per op, per class of dtype. The semantics are the
// interpreter's (src/ir/prims/elementwise.ts, select.ts); the helpers named here are in cxx/aic_support.h
// (wrapping integer arithmetic, rounding to the narrow float formats, NaN-propagating max/min) and
// runtime/vecmath.h (vectorizable exp, log, tanh, erf).
//
//   add f32 %0, %1          (v0 + v1)
//   add i32 %0, %1          aic::wadd(v0, v1)
//   add f16 %0, %1          aic::rnd_f16(static_cast<double>(v0) + static_cast<double>(v1))
//   add i4 %0, %1           aic::wrap_bits<4, true>(aic::wadd(std::int32_t(v0), std::int32_t(v1)))
//   exp f32 %0              aic::cpu::vexp(v0)
//   cast i64 %0 (from f32)  aic::f2i<std::int64_t>(static_cast<double>(v0))
//
// Dtype classes. f32, f64: native. The narrow floats (f16, bf16, float8, float4, e8m0): a float value the
// format holds exactly, each op computed in double and rounded once (as the interpreter does); elements are
// the format's bit patterns. int4/int2 (signed and unsigned): the wrapped value in a byte, ops computed in
// int32 and wrapped. The other ints: their C types, wrapping (never signed overflow). bool: bool, a byte.
import { DTYPE_INFO, isFloat, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';

/** The dtypes the CPU backend computes with: all of them. */
export function checkDType(t: DType, where: string): void {
  if (!(t in ELEMENT)) fail('E_UNSUPPORTED', `cpu: dtype ${t} is not supported yet (${where})`);
}

const ELEMENT: Partial<Record<DType, string>> = {
  f32: 'float', f64: 'double', f16: 'std::uint16_t', bf16: 'std::uint16_t',
  i8: 'std::int8_t', i16: 'std::int16_t', i32: 'std::int32_t', i64: 'std::int64_t',
  u8: 'std::uint8_t', u16: 'std::uint16_t', u32: 'std::uint32_t', u64: 'std::uint64_t', bool: 'std::uint8_t',
  f8e4m3fn: 'std::uint8_t', f8e4m3fnuz: 'std::uint8_t', f8e5m2: 'std::uint8_t', f8e5m2fnuz: 'std::uint8_t',
  f8e8m0: 'std::uint8_t', f4e2m1: 'std::uint8_t', i4: 'std::uint8_t', u4: 'std::uint8_t', i2: 'std::uint8_t', u2: 'std::uint8_t',
};

/** f16, bf16 and the float8/float4 formats: float values, rounded by `rounder` after every op. */
export const isNarrowFloat = (t: DType): boolean => isFloat(t) && t !== 'f32' && t !== 'f64';
/** int4, uint4, int2, uint2: wrapped to their width after every op. */
export const isSubByteInt = (t: DType): boolean => t === 'i4' || t === 'u4' || t === 'i2' || t === 'u2';

const SMALL_FLOAT: Partial<Record<DType, string>> = {
  f8e4m3fn: 'aic::kF8E4M3FN', f8e4m3fnuz: 'aic::kF8E4M3FNUZ', f8e5m2: 'aic::kF8E5M2', f8e5m2fnuz: 'aic::kF8E5M2FNUZ', f4e2m1: 'aic::kF4E2M1',
};

/** The C++ type of a buffer element (narrow floats as their bit patterns, bool as a byte). */
export function elementType(t: DType): string {
  return ELEMENT[t] ?? fail('E_UNSUPPORTED', `cpu: dtype ${t} is not supported yet`);
}

/** The C++ type of a scalar value. */
export function valueType(t: DType): string {
  if (isNarrowFloat(t)) return 'float';
  if (t === 'bool') return 'bool';
  if (t === 'i4' || t === 'i2') return 'std::int8_t';
  return elementType(t);
}

/** Bytes of one element in memory (and in weights.bin): one per byte for the sub-byte formats. */
export const elementBytes = (t: DType): number => DTYPE_INFO[t].bytes;

/** The function that rounds a double to a narrow float dtype (the result a float). */
export function rounder(t: DType): string {
  if (t === 'f16') return 'aic::rnd_f16';
  if (t === 'bf16') return 'aic::rnd_bf16';
  if (isNarrowFloat(t)) return `aic::rnd_${t}`;
  return fail('E_VERIFY', `cpu: no rounding to ${t}`);
}

/** Wrapping an int32 expression to a sub-byte int dtype. */
function wrapper(t: DType): string {
  return `aic::wrap_bits<${DTYPE_INFO[t].bits}, ${t.startsWith('i') ? 'true' : 'false'}>`;
}

/** The bit pattern of a value, as an unsigned int (for stores and bitcasts). */
function bitsOf(t: DType, v: string): string {
  if (t === 'f16') return `aic::f16_bits(${v})`;
  if (t === 'bf16') return `aic::bf16_bits(${v})`;
  if (t === 'f8e8m0') return `aic::e8m0_bits(${v})`;
  if (SMALL_FLOAT[t]) return `aic::small_bits(${SMALL_FLOAT[t]}, ${v})`;
  if (isSubByteInt(t)) return `static_cast<std::uint8_t>(static_cast<std::uint8_t>(${v}) & ${(1 << DTYPE_INFO[t].bits) - 1}u)`;
  if (t === 'bool') return `static_cast<std::uint8_t>(${v})`;
  return v;
}

/** The value of a bit pattern. */
function valueOf(t: DType, bits: string): string {
  if (t === 'f16') return `aic::f16_value(${bits})`;
  if (t === 'bf16') return `aic::bf16_value(${bits})`;
  if (t === 'f8e8m0') return `aic::e8m0_value(${bits})`;
  if (SMALL_FLOAT[t]) return `aic::small_value(${SMALL_FLOAT[t]}, ${bits})`;
  if (isSubByteInt(t)) return `${wrapper(t)}(${bits})`;
  if (t === 'bool') return `(${bits} != 0)`;
  return bits;
}

/** A buffer element (an lvalue expression) as a value. */
export const fromElement = (t: DType, e: string): string => valueOf(t, e);

/** A value as a buffer element. */
export const toElement = (t: DType, v: string): string => bitsOf(t, v);

/** The zero of a value type. */
export function zero(t: DType): string {
  if (t === 'bool') return 'false';
  if (t === 'f32' || isNarrowFloat(t)) return '0.0f';
  if (t === 'f64') return '0.0';
  return `${valueType(t)}(0)`;
}

/** Shortest decimal that reads back as the same float32. */
function f32Decimal(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return s;
  }
  return v.toPrecision(9);
}

const withPoint = (s: string): string => (/[.eE]/.test(s) ? s : `${s}.0`);

/** A literal of dtype t (v is exact for t). */
export function literal(t: DType, v: number | bigint): string {
  if (t === 'bool') return Number(v) !== 0 ? 'true' : 'false';
  if (isFloat(t)) {
    const x = Number(v);
    const single = t !== 'f64';
    const ty = single ? 'float' : 'double';
    if (Number.isNaN(x)) return `std::numeric_limits<${ty}>::quiet_NaN()`;
    if (x === Infinity) return `std::numeric_limits<${ty}>::infinity()`;
    if (x === -Infinity) return `(-std::numeric_limits<${ty}>::infinity())`;
    if (Object.is(x, -0)) return single ? '(-0.0f)' : '(-0.0)';
    const s = single ? `${withPoint(f32Decimal(x))}f` : withPoint(String(x));
    return x < 0 ? `(${s})` : s;
  }
  const info = DTYPE_INFO[t];
  const n = BigInt(v);
  const ty = valueType(t);
  if (t === 'i64') return n === -(2n ** 63n) ? 'INT64_MIN' : `INT64_C(${n})`;
  if (t === 'u64') return `UINT64_C(${n})`;
  if (info.kind === 'uint') return `${ty}(${n}u)`;
  return n === -(2n ** 31n) ? 'INT32_MIN' : `${ty}(${n})`;
}

const F32_FAST: Record<string, (x: string) => string> = {
  exp: (x) => `aic::cpu::vexp(${x})`,
  log: (x) => `aic::cpu::vlog(${x})`,
  tanh: (x) => `aic::cpu::vtanh(${x})`,
  erf: (x) => `aic::cpu::verf(${x})`,
};

/** Unary float ops on an operand `x` of C type `ty` (float or double). */
const FLOAT_UNARY: Record<string, (x: string, ty: string) => string> = {
  neg: (x) => `(-${x})`,
  abs: (x) => `std::fabs(${x})`,
  exp: (x) => `std::exp(${x})`,
  log: (x) => `std::log(${x})`,
  sqrt: (x) => `std::sqrt(${x})`,
  recip: (x, ty) => `(${ty === 'float' ? '1.0f' : '1.0'} / ${x})`,
  sin: (x) => `std::sin(${x})`,
  cos: (x) => `std::cos(${x})`,
  atan: (x) => `std::atan(${x})`,
  tanh: (x) => `std::tanh(${x})`,
  erf: (x) => `std::erf(${x})`,
  floor: (x) => `std::floor(${x})`,
  ceil: (x) => `std::ceil(${x})`,
  round: (x) => `std::nearbyint(${x})`,
};

/** Ops that are correctly rounded in float (no double detour needed for f32). */
const F32_EXACT = new Set(['neg', 'abs', 'sqrt', 'recip', 'floor', 'ceil', 'round']);

const FLOAT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `std::pow(${a}, ${b})`,
  max: (a, b) => `aic::fmax_nan(${a}, ${b})`,
  min: (a, b) => `aic::fmin_nan(${a}, ${b})`,
  mod: (a, b) => `std::fmod(${a}, ${b})`,
};

const INT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `aic::wadd(${a}, ${b})`,
  sub: (a, b) => `aic::wsub(${a}, ${b})`,
  mul: (a, b) => `aic::wmul(${a}, ${b})`,
  div: (a, b) => `aic::idiv(${a}, ${b})`,
  pow: (a, b) => `aic::ipow(${a}, ${b})`,
  mod: (a, b) => `aic::imod(${a}, ${b})`,
  max: (a, b) => `(${a} > ${b} ? ${a} : ${b})`,
  min: (a, b) => `(${a} < ${b} ? ${a} : ${b})`,
  and: (a, b) => `(${a} & ${b})`,
  or: (a, b) => `(${a} | ${b})`,
  xor: (a, b) => `(${a} ^ ${b})`,
};

const BOOL_BINARY: Record<string, (a: string, b: string) => string> = {
  and: (a, b) => `(${a} && ${b})`,
  or: (a, b) => `(${a} || ${b})`,
  xor: (a, b) => `(${a} != ${b})`,
  max: (a, b) => `(${a} || ${b})`,
  min: (a, b) => `(${a} && ${b})`,
};

const COMPARE: Record<string, (a: string, b: string) => string> = {
  lt: (a, b) => `(${a} < ${b})`,
  eq: (a, b) => `(${a} == ${b})`,
};

const i32 = (x: string): string => `static_cast<std::int32_t>(${x})`;
const f64 = (x: string): string => `static_cast<double>(${x})`;

/** A pointwise prim in C++, as the interpreter computes it. */
export function cxxPrim(op: string, args: readonly string[], types: readonly DType[], out: DType): string {
  const t = types[0]!;
  for (const x of [...types, out]) checkDType(x, op);
  if (op === 'where') return `(${args[0]} ? ${args[1]} : ${args[2]})`;
  if (op === 'cast') return cast(t, out, args[0]!);
  if (op === 'bitcast') return bitcast(t, out, args[0]!);
  if (args.length === 1) {
    const x = args[0]!;
    if (op === 'isnan') return isFloat(t) ? `(${x} != ${x})` : 'false';
    if (t === 'bool' && op === 'not') return `(!${x})`;
    if (isFloat(t)) {
      const f = FLOAT_UNARY[op] ?? unknown(op, t);
      if (t === 'f64') return f(x, 'double');
      if (t === 'f32') {
        if (F32_FAST[op]) return F32_FAST[op](x);
        return F32_EXACT.has(op) ? f(x, 'float') : `static_cast<float>(${f(f64(x), 'double')})`;
      }
      return `${rounder(t)}(${f(f64(x), 'double')})`;
    }
    const intOp = op === 'neg' ? (y: string) => `aic::wneg(${y})` : op === 'abs' ? (y: string) => `aic::wabs(${y})` : op === 'not' ? (y: string) => `(~${y})` : undefined;
    if (!intOp) return unknown(op, t);
    return isSubByteInt(t) ? `${wrapper(t)}(${intOp(i32(x))})` : intOp(x);
  }
  if (args.length === 2) {
    const [a, b] = [args[0]!, args[1]!];
    if (COMPARE[op]) return COMPARE[op](a, b);
    if (t === 'bool') return (BOOL_BINARY[op] ?? unknown(op, t))(a, b);
    if (isFloat(t)) {
      const f = FLOAT_BINARY[op] ?? unknown(op, t);
      if (t === 'f64') return f(a, b);
      if (t === 'f32') return op === 'pow' ? `static_cast<float>(${f(f64(a), f64(b))})` : f(a, b);
      if (op === 'max' || op === 'min') return f(a, b); // exact
      return `${rounder(t)}(${f(f64(a), f64(b))})`;
    }
    const f = INT_BINARY[op] ?? unknown(op, t);
    return isSubByteInt(t) ? `${wrapper(t)}(${f(i32(a), i32(b))})` : f(a, b);
  }
  return unknown(op, t);
}

const unknown = (op: string, t: DType): never => fail('E_UNSUPPORTED', `cpu: the scalar op '${op}' on ${t} is not supported yet`);

/** Value conversion (castScalar in src/ir/prims/select.ts). */
export function cast(from: DType, to: DType, x: string): string {
  if (from === to) return x;
  if (to === 'bool') return `(${x} != 0)`;
  const big = DTYPE_INFO[from].big;
  if (isFloat(to)) {
    if (to === 'f32') return `static_cast<float>(${x})`;
    if (to === 'f64') return `static_cast<double>(${x})`;
    return `${rounder(to)}(${big ? `aic::sticky_double(${x})` : f64(x)})`;
  }
  if (isSubByteInt(to)) {
    const wide = isFloat(from) ? `aic::f2i<std::int64_t>(${f64(x)})` : `static_cast<std::int64_t>(${x})`;
    return `${wrapper(to)}(${wide})`;
  }
  const ty = elementType(to);
  if (isFloat(from)) return `aic::f2i<${ty}>(${f64(x)})`;
  return `static_cast<${ty}>(${x})`;
}

/** Reinterpretation of the bits (same width). */
function bitcast(from: DType, to: DType, x: string): string {
  if (from === to) return x;
  const bits = bitsOf(from, x);
  const narrowBits = isNarrowFloat(to) || isSubByteInt(to) || to === 'bool';
  if (narrowBits) return valueOf(to, `static_cast<${elementType(to)}>(${bits})`);
  const srcType = isNarrowFloat(from) || isSubByteInt(from) || from === 'bool' ? elementType(from) : elementType(from);
  return `aic::bitcast<${elementType(to)}, ${srcType}>(static_cast<${srcType}>(${bits}))`;
}

/** An integer index (int64) as dtype t, as Tensor.set stores it (floats rounded, ints wrapped, bool: the low bit). */
export function indexAs(t: DType, i: string): string {
  if (t === 'bool') return `((${i} & 1) != 0)`;
  if (t === 'f32') return `static_cast<float>(${i})`;
  if (t === 'f64') return `static_cast<double>(${i})`;
  if (isNarrowFloat(t)) return `${rounder(t)}(${f64(i)})`;
  if (isSubByteInt(t)) return `${wrapper(t)}(${i})`;
  return `static_cast<${elementType(t)}>(${i})`;
}
