// How the CPU backend spells the prims in C++: one row per op, per dtype class. The semantics are the
// interpreter's (src/ir/prims/elementwise.ts, select.ts); the helpers named here are in cxx/aic_support.h
// (wrapping integer arithmetic, f16/bf16 rounding, NaN-propagating max/min) and runtime/vecmath.h
// (vectorizable exp, log, tanh, erf).
//
//   add f32 %0, %1          (v0 + v1)
//   add i32 %0, %1          aic::wadd(v0, v1)
//   add f16 %0, %1          aic::rnd_f16((double)v0 + (double)v1)
//   exp f32 %0              aic::cpu::vexp(v0)
//   cast i64 %0 (from f32)  aic::f2i<std::int64_t>((double)v0)
import { DTYPE_INFO, isFloat, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';

/** The dtypes the CPU backend computes with (the narrow float8/float4 and sub-byte int formats are refused). */
export const CPU_DTYPES: readonly DType[] = ['f32', 'f64', 'f16', 'bf16', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool'];

export function checkDType(t: DType, where: string): void {
  if (!CPU_DTYPES.includes(t)) fail('E_UNSUPPORTED', `cpu: dtype ${t} is not supported yet (${where})`);
}

const ELEMENT: Partial<Record<DType, string>> = {
  f32: 'float', f64: 'double', f16: 'std::uint16_t', bf16: 'std::uint16_t',
  i8: 'std::int8_t', i16: 'std::int16_t', i32: 'std::int32_t', i64: 'std::int64_t',
  u8: 'std::uint8_t', u16: 'std::uint16_t', u32: 'std::uint32_t', u64: 'std::uint64_t', bool: 'std::uint8_t',
};

/** The C++ type of a buffer element (f16/bf16 as their 16-bit patterns, bool as a byte). */
export function elementType(t: DType): string {
  return ELEMENT[t] ?? fail('E_UNSUPPORTED', `cpu: dtype ${t} is not supported yet`);
}

/** The C++ type of a scalar value (f16/bf16 as the float they equal, bool as bool). */
export function valueType(t: DType): string {
  if (t === 'f16' || t === 'bf16') return 'float';
  if (t === 'bool') return 'bool';
  return elementType(t);
}

const isNarrowFloat = (t: DType): boolean => t === 'f16' || t === 'bf16';

/** A buffer element (an lvalue expression) as a value. */
export function fromElement(t: DType, e: string): string {
  if (t === 'f16') return `aic::f16_value(${e})`;
  if (t === 'bf16') return `aic::bf16_value(${e})`;
  if (t === 'bool') return `(${e} != 0)`;
  return e;
}

/** A value as a buffer element. */
export function toElement(t: DType, v: string): string {
  if (t === 'f16') return `aic::f16_bits(${v})`;
  if (t === 'bf16') return `aic::bf16_bits(${v})`;
  if (t === 'bool') return `static_cast<std::uint8_t>(${v})`;
  return v;
}

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
  const ty = elementType(t);
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

/** Unary float ops on a double or float operand `x` of C type `ty`. */
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

/** Ops that are exact in float (no double detour needed for f32). */
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

const COMPARE: Record<string, (a: string, b: string) => string> = {
  lt: (a, b) => `(${a} < ${b})`,
  eq: (a, b) => `(${a} == ${b})`,
};

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
    if (op === 'not') return t === 'bool' ? `(!${x})` : `(~${x})`;
    if (isFloat(t)) {
      const f = FLOAT_UNARY[op] ?? unknown(op, t);
      if (t === 'f64') return f(x, 'double');
      if (t === 'f32') {
        if (F32_FAST[op]) return F32_FAST[op](x);
        return F32_EXACT.has(op) ? f(x, 'float') : `static_cast<float>(${f(`static_cast<double>(${x})`, 'double')})`;
      }
      // f16, bf16: compute in double, round once
      return `${rounder(t)}(${f(`static_cast<double>(${x})`, 'double')})`;
    }
    if (op === 'neg') return `aic::wneg(${x})`;
    if (op === 'abs') return `aic::wabs(${x})`;
    return unknown(op, t);
  }
  if (args.length === 2) {
    const [a, b] = [args[0]!, args[1]!];
    if (COMPARE[op]) return COMPARE[op](a, b);
    if (t === 'bool') {
      const f = ({ and: (x: string, y: string) => `(${x} && ${y})`, or: (x: string, y: string) => `(${x} || ${y})`, xor: (x: string, y: string) => `(${x} != ${y})`,
        max: (x: string, y: string) => `(${x} || ${y})`, min: (x: string, y: string) => `(${x} && ${y})` } as Record<string, (x: string, y: string) => string>)[op];
      return f ? f(a, b) : unknown(op, t);
    }
    if (isFloat(t)) {
      const f = FLOAT_BINARY[op] ?? unknown(op, t);
      if (t === 'f64') return f(a, b);
      if (t === 'f32') return op === 'pow' ? `static_cast<float>(${f(`static_cast<double>(${a})`, `static_cast<double>(${b})`)})` : f(a, b);
      if (op === 'max' || op === 'min') return f(a, b); // exact
      return `${rounder(t)}(${f(`static_cast<double>(${a})`, `static_cast<double>(${b})`)})`;
    }
    const f = INT_BINARY[op] ?? unknown(op, t);
    return f(a, b);
  }
  return unknown(op, t);
}

const unknown = (op: string, t: DType): never => fail('E_UNSUPPORTED', `cpu: the scalar op '${op}' on ${t} is not supported yet`);

const rounder = (t: DType): string => (t === 'f16' ? 'aic::rnd_f16' : 'aic::rnd_bf16');

/** Value conversion (castScalar in src/ir/prims/select.ts). */
export function cast(from: DType, to: DType, x: string): string {
  if (from === to) return x;
  if (to === 'bool') return `(${x} != 0)`;
  const big = DTYPE_INFO[from].big;
  if (isFloat(to)) {
    if (to === 'f32') return `static_cast<float>(${x})`;
    if (to === 'f64') return `static_cast<double>(${x})`;
    const wide = big ? `aic::sticky_double(${x})` : `static_cast<double>(${x})`;
    return `${rounder(to)}(${wide})`;
  }
  const ty = elementType(to);
  if (isFloat(from)) return `aic::f2i<${ty}>(static_cast<double>(${x}))`;
  return `static_cast<${ty}>(${x})`;
}

/** Reinterpretation of the bits (same width). */
function bitcast(from: DType, to: DType, x: string): string {
  if (from === to) return x;
  const bits = (t: DType, v: string): string => (t === 'f16' ? `aic::f16_bits(${v})` : t === 'bf16' ? `aic::bf16_bits(${v})` : t === 'bool' ? `static_cast<std::uint8_t>(${v})` : v);
  const src = bits(from, x);
  if (to === 'bool') return `(${src} != 0)`;
  if (to === 'f16') return `aic::f16_value(static_cast<std::uint16_t>(${src}))`;
  if (to === 'bf16') return `aic::bf16_value(static_cast<std::uint16_t>(${src}))`;
  const srcType = from === 'f16' || from === 'bf16' ? 'std::uint16_t' : from === 'bool' ? 'std::uint8_t' : elementType(from);
  return `aic::bitcast<${elementType(to)}, ${srcType}>(${src})`;
}

/** An integer index (int64) as dtype t, as Tensor.set stores it (floats rounded, ints wrapped, bool: the low bit). */
export function indexAs(t: DType, i: string): string {
  if (t === 'bool') return `((${i} & 1) != 0)`;
  if (t === 'f32') return `static_cast<float>(${i})`;
  if (t === 'f64') return `static_cast<double>(${i})`;
  if (isNarrowFloat(t)) return `${rounder(t)}(static_cast<double>(${i}))`;
  return `static_cast<${elementType(t)}>(${i})`;
}
