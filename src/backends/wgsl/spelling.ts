// How the WGSL backend spells the prims: one row per op, per dtype class, with the interpreter's semantics
// (src/ir/prims/elementwise.ts, select.ts). The helpers a spelling names (NaN-propagating max, C-style
// integer division, f16 rounding, 64-bit integers) are WGSL functions in HELPERS, pulled into a shader only
// when used.
//
//   add f32 %0, %1          (v0 + v1)
//   max f32 %0, %1          fmax_nan(v0, v1)
//   add f16 %0, %1          round_f16((v0 + v1))          f16 computes in f32 and rounds every result
//   add i8 %0, %1           wrap_i8((v0 + v1))            small ints compute in i32/u32 and wrap
//   add i64 %0, %1          i64_add(v0, v1)               64-bit ints are vec2<u32> (low word, high word)
//   cast i32 %0 (from f32)  f32_to_i32(v0)                truncates, wraps, NaN and ±inf give 0
//
// Every dtype lives in GPU memory as 32-bit words: f32, i32, u32 as themselves; f16 and bf16 as the f32 they
// equal; bool, i8, u8, i16, u16 widened to one word; i64 and u64 as two words (the host's little-endian
// layout). f64 and the narrow formats (float8, float4, 4- and 2-bit ints) are refused.
import { DTYPE_INFO, isFloat, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { I64_HELPERS } from './i64.js';

/** The dtypes the WGSL backend computes with. */
export const WGSL_DTYPES: readonly DType[] = [
  'f32', 'f16', 'bf16', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool',
  'f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz', 'f4e2m1', 'f8e8m0', 'i4', 'u4', 'i2', 'u2',
];

/** Why a dtype cannot run on WGSL (the README lists these). */
export function unsupportedReason(t: DType): string | undefined {
  if (WGSL_DTYPES.includes(t)) return undefined;
  return t === 'f64' ? 'WGSL has no 64-bit float' : 'not rendered yet';
}

export function checkDType(t: DType, where: string): void {
  const why = unsupportedReason(t);
  if (why) fail('E_UNSUPPORTED', `wgsl: dtype ${t} is not supported (${why}) in ${where}`);
}

/** Words of GPU memory per element. */
export const wordsPer = (t: DType): number => (DTYPE_INFO[t].big ? 2 : 1);

const isWide = (t: DType): boolean => DTYPE_INFO[t].big;
const SMALL_INT: Partial<Record<DType, string>> = {
  i8: 'wrap_i8', i16: 'wrap_i16', u8: 'wrap_u8', u16: 'wrap_u16', i4: 'wrap_i4', u4: 'wrap_u4', i2: 'wrap_i2', u2: 'wrap_u2',
};

/** The float formats narrower than f32, computed in f32 and rounded after every operation. */
const ROUNDING: Partial<Record<DType, string>> = {
  f16: 'round_f16', bf16: 'round_bf16', f8e4m3fn: 'round_f8e4m3fn', f8e4m3fnuz: 'round_f8e4m3fnuz',
  f8e5m2: 'round_f8e5m2', f8e5m2fnuz: 'round_f8e5m2fnuz', f4e2m1: 'round_f4e2m1', f8e8m0: 'round_f8e8m0',
};

/** The WGSL type of a scalar value of dtype t. */
export function valueType(t: DType): string {
  checkDType(t, 'a kernel');
  if (isFloat(t)) return 'f32';
  if (t === 'bool') return 'bool';
  if (isWide(t)) return 'vec2<u32>';
  return DTYPE_INFO[t].kind === 'uint' ? 'u32' : 'i32';
}

/** A value read from a word of memory (`w` is a u32 expression; `w2` the high word of a 64-bit element). */
export function fromWord(t: DType, w: string, w2?: string): string {
  if (isWide(t)) return `vec2<u32>(${w}, ${w2!})`;
  switch (valueType(t)) {
    case 'f32': return `bitcast<f32>(${w})`;
    case 'i32': return `bitcast<i32>(${w})`;
    case 'bool': return `(${w} != 0u)`;
    default: return w;
  }
}

/** A value as the word(s) stored: one u32 expression, or for 64-bit ints the vec2's `.x` and `.y`. */
export function toWord(t: DType, v: string): string {
  switch (valueType(t)) {
    case 'f32': case 'i32': return `bitcast<u32>(${v})`;
    case 'bool': return `select(0u, 1u, ${v})`;
    default: return v;
  }
}

/** The zero of a value type (what a masked load reads). */
export function zero(t: DType): string {
  switch (valueType(t)) {
    case 'f32': return '0.0f';
    case 'i32': return '0i';
    case 'u32': return '0u';
    case 'bool': return 'false';
    default: return 'vec2<u32>(0u, 0u)';
  }
}

/** Shortest decimal that reads back as the same float32. */
function f32Decimal(v: number): string {
  for (let p = 1; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return s;
  }
  return v.toPrecision(9);
}

const f32Bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const hex = (n: number): string => `0x${(n >>> 0).toString(16)}u`;

/** A literal of dtype t (v is exact for t). Non-finite floats, -0 and subnormals are spelled by their bits
 * (WGSL forbids non-finite const-expressions and may flush subnormal literals); a non-finite one needs the
 * helper f32_from_bits (Spelling.literal records it). */
export function literal(t: DType, v: number | bigint): string {
  if (t === 'bool') return Number(v) !== 0 ? 'true' : 'false';
  if (isFloat(t)) {
    const x = Math.fround(Number(v));
    if (!Number.isFinite(x)) return `f32_from_bits(${hex(f32Bits(x))})`;
    if (Object.is(x, -0) || (x !== 0 && Math.abs(x) < 2 ** -126)) return `bitcast<f32>(${hex(f32Bits(x))})`;
    const s = f32Decimal(x);
    // WGSL rejects a decimal past the largest f32 even when it rounds to it (3.4028235e38).
    if (Math.abs(Number(s)) > 3.4028234663852886e38) return `bitcast<f32>(${hex(f32Bits(x))})`;
    return `${/[.eE]/.test(s) ? s : `${s}.0`}f`;
  }
  if (isWide(t)) {
    const n = BigInt.asUintN(64, BigInt(v));
    return `vec2<u32>(${hex(Number(n & 0xffffffffn))}, ${hex(Number(n >> 32n))})`;
  }
  const n = Number(v);
  if (valueType(t) === 'u32') return `${n >>> 0}u`;
  return n === -(2 ** 31) ? 'i32(-2147483647 - 1)' : `${n}i`;
}

// ---- the helper library ----

export interface Helper {
  readonly code: string;
  readonly deps?: readonly string[];
}

const CORE_HELPERS: Record<string, Helper> = {
  // NaN and ±inf spelled by their bits: a call is not a const-expression, and a const-expression that is
  // not finite does not compile.
  f32_from_bits: { code: 'fn f32_from_bits(b: u32) -> f32 { return bitcast<f32>(b); }' },
  is_nan: { code: 'fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }' },
  is_finite: { code: 'fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }' },
  fmax_nan: {
    deps: ['is_nan'],
    code: 'fn fmax_nan(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return f32_from_bits(0x7fc00000u); } return max(a, b); }',
  },
  fmin_nan: {
    deps: ['is_nan'],
    code: 'fn fmin_nan(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return f32_from_bits(0x7fc00000u); } return min(a, b); }',
  },
  // IEEE binary16 rounding (to nearest even) of an f32, staying in f32: overflow to ±inf, subnormals kept.
  round_f16: {
    deps: ['is_finite'],
    code: `fn round_f16(x: f32) -> f32 {
  if (!is_finite(x)) { return x; }
  let a = abs(x);
  if (a >= 65520.0f) { return sign(x) * f32_from_bits(0x7f800000u); }
  if (a < 6.103515625e-5f) { return round(x * 16777216.0f) * 5.9604644775390625e-8f; }
  let b = bitcast<u32>(x);
  return bitcast<f32>((b + 0xfffu + ((b >> 13u) & 1u)) & 0xffffe000u);
}`,
  },
  round_bf16: {
    deps: ['is_nan'],
    code: `fn round_bf16(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let b = bitcast<u32>(x);
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`,
  },
  wrap_i8: { code: 'fn wrap_i8(x: i32) -> i32 { return (x << 24u) >> 24u; }' },
  wrap_i16: { code: 'fn wrap_i16(x: i32) -> i32 { return (x << 16u) >> 16u; }' },
  wrap_u8: { code: 'fn wrap_u8(x: u32) -> u32 { return x & 0xffu; }' },
  wrap_u16: { code: 'fn wrap_u16(x: u32) -> u32 { return x & 0xffffu; }' },
  wrap_i4: { code: 'fn wrap_i4(x: i32) -> i32 { return (x << 28u) >> 28u; }' },
  wrap_u4: { code: 'fn wrap_u4(x: u32) -> u32 { return x & 0xfu; }' },
  wrap_i2: { code: 'fn wrap_i2(x: i32) -> i32 { return (x << 30u) >> 30u; }' },
  wrap_u2: { code: 'fn wrap_u2(x: u32) -> u32 { return x & 0x3u; }' },
  // float8 and float4 (src/ir/float8.ts): to nearest, ties to even, at the format's spacing (2^(e - mant),
  // e clamped to the subnormal binade); past the largest finite value: inf (mode 0), NaN (1) or the largest
  // (2, and NaN becomes -0); the uz formats have no -0.
  round_small: {
    deps: ['is_nan'],
    code: `fn round_small(x: f32, mant: i32, emin: i32, maxv: f32, mode: u32, uz: bool) -> f32 {
  if (is_nan(x)) { return select(f32_from_bits(0x7fc00000u), bitcast<f32>(0x80000000u), mode == 2u); }
  let a = abs(x);
  let inf = f32_from_bits(0x7f800000u);
  var r = inf;
  if (a != inf) {
    let e = max(i32((bitcast<u32>(a) >> 23u) & 0xffu) - 127i, emin);
    r = ldexp(round(ldexp(a, mant - e)), e - mant);
  }
  if (r > maxv) {
    if (mode == 1u) { return f32_from_bits(0x7fc00000u); }
    r = select(maxv, inf, mode == 0u);
  }
  if (r == 0.0f && uz) { return 0.0f; }
  return select(r, -r, (bitcast<u32>(x) >> 31u) != 0u);
}`,
  },
  round_f8e4m3fn: { deps: ['round_small'], code: 'fn round_f8e4m3fn(x: f32) -> f32 { return round_small(x, 3i, -6i, 448.0f, 1u, false); }' },
  round_f8e4m3fnuz: { deps: ['round_small'], code: 'fn round_f8e4m3fnuz(x: f32) -> f32 { return round_small(x, 3i, -7i, 240.0f, 1u, true); }' },
  round_f8e5m2: { deps: ['round_small'], code: 'fn round_f8e5m2(x: f32) -> f32 { return round_small(x, 2i, -14i, 57344.0f, 0u, false); }' },
  round_f8e5m2fnuz: { deps: ['round_small'], code: 'fn round_f8e5m2fnuz(x: f32) -> f32 { return round_small(x, 2i, -15i, 57344.0f, 1u, true); }' },
  round_f4e2m1: { deps: ['round_small'], code: 'fn round_f4e2m1(x: f32) -> f32 { return round_small(x, 1i, 0i, 6.0f, 2u, false); }' },
  // E8M0: the power of two at or above |x|, within [2^-127, 2^127]; NaN stays NaN.
  round_f8e8m0: {
    deps: ['is_nan'],
    code: `fn round_f8e8m0(x: f32) -> f32 {
  if (is_nan(x)) { return x; }
  let a = abs(x);
  if (a > 1.7014118e38f) { return 1.7014118e38f; }
  if (a <= ldexp(1.0f, -127i)) { return ldexp(1.0f, -127i); }
  let e = i32((bitcast<u32>(a) >> 23u) & 0xffu) - 127i;
  return ldexp(1.0f, select(e + 1i, e, a == ldexp(1.0f, e)));
}`,
  },
  // C semantics, as the interpreter's int32 rows: truncating division, remainder with the dividend's sign,
  // both 0 for a zero divisor (WGSL would give the dividend).
  div_i32: { code: 'fn div_i32(a: i32, b: i32) -> i32 { if (b == 0i) { return 0i; } if (b == -1i) { return -a; } return a / b; }' },
  mod_i32: { code: 'fn mod_i32(a: i32, b: i32) -> i32 { if (b == 0i || b == -1i) { return 0i; } return a % b; }' },
  // Floor division and modulo of index arithmetic (the divisor is a positive size).
  floor_div_i32: { code: 'fn floor_div_i32(a: i32, b: i32) -> i32 { let q = a / b; return select(q, q - 1i, (a % b != 0i) && ((a < 0i) != (b < 0i))); }' },
  floor_mod_i32: { code: 'fn floor_mod_i32(a: i32, b: i32) -> i32 { let r = a % b; return select(r, r + b, r != 0i && ((r < 0i) != (b < 0i))); }' },
  div_u32: { code: 'fn div_u32(a: u32, b: u32) -> u32 { if (b == 0u) { return 0u; } return a / b; }' },
  mod_u32: { code: 'fn mod_u32(a: u32, b: u32) -> u32 { if (b == 0u) { return 0u; } return a % b; }' },
  pow_i32: {
    code: `fn pow_i32(a: i32, b: i32) -> i32 {
  if (b < 0i) { if (a == 1i) { return 1i; } if (a == -1i) { return select(-1i, 1i, (b & 1i) == 0i); } return 0i; }
  var r = 1i; var base = a; var e = b;
  loop { if (e == 0i) { break; } if ((e & 1i) != 0i) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}`,
  },
  pow_u32: {
    code: `fn pow_u32(a: u32, b: u32) -> u32 {
  var r = 1u; var base = a; var e = b;
  loop { if (e == 0u) { break; } if ((e & 1u) != 0u) { r = r * base; } base = base * base; e = e >> 1u; }
  return r;
}`,
  },
  // C/IEEE pow: 1^y = 1, x^0 = 1, (-1)^±inf = 1, a negative base needs an integer exponent, 0^y by its sign.
  pow_f32: {
    deps: ['is_nan'],
    code: `fn pow_f32(a: f32, b: f32) -> f32 {
  if (a == 1.0f || b == 0.0f) { return 1.0f; }
  if (is_nan(a) || is_nan(b)) { return f32_from_bits(0x7fc00000u); }
  let inf = f32_from_bits(0x7f800000u);
  if (abs(b) == inf) {
    let m = abs(a);
    if (m == 1.0f) { return 1.0f; }
    if ((m > 1.0f) == (b > 0.0f)) { return inf; }
    return 0.0f;
  }
  let odd = b == floor(b) && fract(b * 0.5f) != 0.0f;
  if (a == 0.0f) {
    let s = select(1.0f, sign(bitcast<f32>(bitcast<u32>(a) | 0x3f800000u)), odd);
    return select(s * 0.0f, s * inf, b < 0.0f);
  }
  let m = abs(a);
  var r: f32;
  if (m == inf) { r = select(inf, 0.0f, b < 0.0f); } else { r = exp2(b * log2(m)); }
  if (a < 0.0f) {
    if (b != floor(b)) { return f32_from_bits(0x7fc00000u); }
    if (odd) { return -r; }
  }
  return r;
}`,
  },
  // C fmod, exactly: subtract b scaled by powers of two (each step exact, by Sterbenz), the sign of a.
  mod_f32: {
    deps: ['is_nan', 'is_finite'],
    code: `fn mod_f32(a: f32, b: f32) -> f32 {
  if (is_nan(a) || is_nan(b) || !is_finite(a) || b == 0.0f) { return f32_from_bits(0x7fc00000u); }
  if (!is_finite(b)) { return a; }
  let m = abs(b);
  var r = abs(a);
  for (var i = 0; i < 300 && r >= m; i++) {
    var d = ldexp(m, frexp(r).exp - frexp(m).exp);
    if (d > r) { d = d * 0.5f; }
    r = r - d;
  }
  return select(r, -r, (bitcast<u32>(a) >> 31u) != 0u);
}`,
  },
  // Abramowitz-Stegun 7.1.26 away from 0, the Taylor series near it (relative error < 1e-6 throughout).
  erf_f32: {
    code: `fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5f) {
    let x2 = x * x;
    return x * (1.1283791671f + x2 * (-0.3761263890f + x2 * (0.1128379167f + x2 * (-0.0268661706f + x2 * 0.0052239776f))));
  }
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * exp(-a * a);
  return select(y, -y, x < 0.0f);
}`,
  },
  // WGSL's log is only good to 2^-21 absolute near 1 (and sin/cos to 2^-11): near 1, log(1 + d) is
  // 2·atanh(d / (2 + d)) by its series (x - 1 is exact there).
  log_f32: {
    deps: ['is_nan'],
    code: `fn log_f32(x: f32) -> f32 {
  if (is_nan(x) || x < 0.0f) { return f32_from_bits(0x7fc00000u); }
  if (x == 0.0f) { return f32_from_bits(0xff800000u); }
  if (x > 0.75f && x < 1.5f) {
    let d = x - 1.0f;
    let s = d / (2.0f + d);
    let s2 = s * s;
    return 2.0f * s * (1.0f + s2 * (0.333333333f + s2 * (0.2f + s2 * (0.142857143f + s2 * (0.111111111f + s2 * 0.0909090909f)))));
  }
  return log(x);
}`,
  },
  // sin and cos: x - k·π/2 in three parts (Cody-Waite), then Taylor polynomials on [-π/4, π/4].
  sincos_f32: {
    deps: ['is_finite'],
    code: `fn sincos_f32(x: f32, cosine: bool) -> f32 {
  if (!is_finite(x)) { return f32_from_bits(0x7fc00000u); }
  if (abs(x) > 65536.0f) { return select(sin(x), cos(x), cosine); }
  let k = round(x * 0.636619772f);
  let r = ((x - k * 1.5703125f) - k * 4.837512969970703125e-4f) - k * 7.549789948768648e-8f;
  let r2 = r * r;
  let sr = r + r * r2 * (-0.166666667f + r2 * (0.00833333333f + r2 * (-0.000198412698f + r2 * 2.75573192e-6f)));
  let cr = 1.0f + r2 * (-0.5f + r2 * (0.0416666667f + r2 * (-0.00138888889f + r2 * 2.48015873e-5f)));
  let q = (i32(k) + select(0i, 1i, cosine)) & 3i;
  if (q == 0i) { return sr; }
  if (q == 1i) { return cr; }
  if (q == 2i) { return -sr; }
  return -cr;
}`,
  },
  // NaN in, NaN out: WGSL lets builtins assume finite operands, the interpreter propagates NaN.
  keep_nan: { deps: ['is_nan'], code: 'fn keep_nan(x: f32, y: f32) -> f32 { return select(y, x, is_nan(x)); }' },
  sqrt_f32: {
    deps: ['is_nan'],
    code: 'fn sqrt_f32(x: f32) -> f32 { if (is_nan(x) || x < 0.0f) { return f32_from_bits(0x7fc00000u); } return sqrt(x); }',
  },
  // Near 0 by its series (a builtin through exp loses the relative precision there), else 1 - 2/(e^2|x| + 1).
  tanh_f32: {
    code: `fn tanh_f32(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.3f) {
    let x2 = x * x;
    return x * (1.0f + x2 * (-0.33333333333f + x2 * (0.13333333333f + x2 * (-0.05396825397f + x2 * (0.02186948854f + x2 * -0.00886323552f)))));
  }
  let t = 1.0f - 2.0f / (exp(2.0f * min(a, 20.0f)) + 1.0f);
  return select(t, -t, x < 0.0f);
}`,
  },
  // Truncation toward zero, wrapped modulo 2^32 as the interpreter's cast does; NaN and ±inf give 0.
  f32_to_u32: {
    deps: ['is_finite'],
    code: `fn f32_to_u32(x: f32) -> u32 {
  if (!is_finite(x)) { return 0u; }
  let t = trunc(x);
  if (t >= 0.0f && t < 4294967296.0f) { return u32(t); }
  if (t < 0.0f && t > -2147483648.0f) { return bitcast<u32>(i32(t)); }
  return u32(t - floor(t / 4294967296.0f) * 4294967296.0f);
}`,
  },
  f32_to_i32: { deps: ['f32_to_u32'], code: 'fn f32_to_i32(x: f32) -> i32 { return bitcast<i32>(f32_to_u32(x)); }' },
  ...I64_HELPERS,
};

export const HELPERS: Readonly<Record<string, Helper>> = CORE_HELPERS;

/** The helpers a shader uses, with their dependencies, in an order where each follows what it calls. */
export function helperSource(used: Iterable<string>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const h = HELPERS[name] ?? fail('E_VERIFY', `wgsl: no helper ${name}`);
    for (const d of h.deps ?? []) visit(d);
    if (name !== 'f32_from_bits' && h.code.includes('f32_from_bits(')) visit('f32_from_bits');
    out.push(h.code);
  };
  for (const n of [...used].sort()) visit(n);
  return out.join('\n');
}

/** Spells prims, recording the helpers it names. */
export class Spelling {
  readonly used = new Set<string>();

  call(helper: string, ...args: string[]): string {
    if (!HELPERS[helper]) fail('E_VERIFY', `wgsl: no helper ${helper}`);
    this.used.add(helper);
    return `${helper}(${args.join(', ')})`;
  }

  /** A literal, recording the helper a non-finite one needs. */
  literal(t: DType, v: number | bigint): string {
    const s = literal(t, v);
    if (s.startsWith('f32_from_bits')) this.used.add('f32_from_bits');
    return s;
  }

  /** The result of float arithmetic rounded to t (f16 and bf16 compute in f32 and round every result). */
  private roundFloat(t: DType, x: string): string {
    const r = ROUNDING[t];
    return r ? this.call(r, x) : x;
  }

  /** The result of integer arithmetic wrapped to t's width. */
  private wrapInt(t: DType, x: string): string {
    const w = SMALL_INT[t];
    return w ? this.call(w, x) : x;
  }

  /** A pointwise prim of operand expressions, as the interpreter computes it. */
  prim(op: string, args: readonly string[], types: readonly DType[], out: DType): string {
    const t = types[0]!;
    for (const x of [...types, out]) checkDType(x, `prim ${op}`);
    if (op === 'where') return `select(${args[2]}, ${args[1]}, ${args[0]})`;
    if (op === 'cast') return this.cast(t, out, args[0]!);
    if (op === 'bitcast') return this.bitcast(t, out, args[0]!);
    if (args.length === 1) return this.unary(op, args[0]!, t, out);
    if (args.length === 2) return this.binary(op, args[0]!, args[1]!, t, out);
    return unknown(op, t);
  }

  private unary(op: string, x: string, t: DType, out: DType): string {
    if (op === 'isnan') return isFloat(t) ? this.call('is_nan', x) : 'false';
    if (t === 'bool') return op === 'not' ? `(!${x})` : op === 'abs' ? x : unknown(op, t);
    if (isWide(t)) {
      const f: Record<string, string> = { neg: 'i64_neg', abs: t === 'i64' ? 'i64_abs' : '', not: '' };
      if (op === 'not') return `(~${x})`;
      if (op === 'abs' && t === 'u64') return x;
      return f[op] ? this.call(f[op], x) : unknown(op, t);
    }
    if (isFloat(t)) {
      const f = FLOAT_UNARY[op] ?? unknown(op, t);
      return this.roundFloat(out, f(x, this));
    }
    const unsigned = valueType(t) === 'u32';
    switch (op) {
      case 'neg': return this.wrapInt(t, unsigned ? `(0u - ${x})` : `(-${x})`);
      case 'abs': return unsigned ? x : this.wrapInt(t, `abs(${x})`);
      case 'not': return this.wrapInt(t, `(~${x})`);
      default: return unknown(op, t);
    }
  }

  private binary(op: string, a: string, b: string, t: DType, out: DType): string {
    if (op === 'lt' || op === 'eq') {
      if (isWide(t)) return op === 'eq' ? `all(${a} == ${b})` : this.call(t === 'i64' ? 'i64_lt' : 'u64_lt', a, b);
      if (t === 'bool') return op === 'eq' ? `(${a} == ${b})` : `(!${a} && ${b})`;
      return op === 'eq' ? `(${a} == ${b})` : `(${a} < ${b})`;
    }
    if (t === 'bool') {
      const f: Record<string, string> = { and: '&&', or: '||', xor: '!=', max: '||', min: '&&' };
      return f[op] ? `(${a} ${f[op]} ${b})` : unknown(op, t);
    }
    if (isWide(t)) {
      const s = t === 'i64' ? 'i64' : 'u64';
      const f: Record<string, string> = {
        add: 'i64_add', sub: 'i64_sub', mul: 'i64_mul', div: `${s}_div`, mod: `${s}_mod`, max: `${s}_max`, min: `${s}_min`, pow: `${s}_pow`,
      };
      if (op === 'and' || op === 'or' || op === 'xor') return `(${a} ${op === 'and' ? '&' : op === 'or' ? '|' : '^'} ${b})`;
      return f[op] ? this.call(f[op], a, b) : unknown(op, t);
    }
    if (isFloat(t)) {
      const f = FLOAT_BINARY[op] ?? unknown(op, t);
      const r = f(a, b, this);
      return op === 'max' || op === 'min' ? r : this.roundFloat(out, r);
    }
    const s = valueType(t) === 'u32' ? 'u32' : 'i32';
    switch (op) {
      case 'add': return this.wrapInt(t, `(${a} + ${b})`);
      case 'sub': return this.wrapInt(t, `(${a} - ${b})`);
      case 'mul': return this.wrapInt(t, `(${a} * ${b})`);
      case 'div': case 'mod': case 'pow': return this.wrapInt(t, this.call(`${op}_${s}`, a, b));
      case 'max': case 'min': return `${op}(${a}, ${b})`;
      case 'and': return `(${a} & ${b})`;
      case 'or': return `(${a} | ${b})`;
      case 'xor': return `(${a} ^ ${b})`;
      default: return unknown(op, t);
    }
  }

  /** Value conversion (castScalar in src/ir/prims/select.ts). */
  cast(from: DType, to: DType, x: string): string {
    checkDType(from, 'cast');
    checkDType(to, 'cast');
    if (from === to) return x;
    if (to === 'bool') {
      if (isWide(from)) return `any(${x} != vec2<u32>(0u, 0u))`;
      return from === 'bool' ? x : `(${x} != ${zero(from)})`;
    }
    if (from === 'bool') return this.cast('i32', to, `select(0i, 1i, ${x})`);
    if (isFloat(to)) {
      if (isFloat(from)) return this.roundFloat(to, x); // f16/bf16 values are f32 values
      if (isWide(from)) return this.roundFloat(to, this.call(from === 'i64' ? 'i64_to_f32' : 'u64_to_f32', x));
      return this.roundFloat(to, `f32(${x})`);
    }
    if (isWide(to)) {
      if (isWide(from)) return x;
      if (isFloat(from)) return this.call(to === 'i64' ? 'f32_to_i64' : 'f32_to_u64', x);
      return valueType(from) === 'u32' ? `vec2<u32>(${x}, 0u)` : this.call('i64_from_i32', x);
    }
    const target = valueType(to);
    let v: string;
    if (isFloat(from)) v = this.call(target === 'u32' ? 'f32_to_u32' : 'f32_to_i32', x);
    else if (isWide(from)) v = target === 'u32' ? `${x}.x` : `bitcast<i32>(${x}.x)`;
    else v = valueType(from) === target ? x : `bitcast<${target}>(${x})`;
    return this.wrapInt(to, v);
  }

  /** Reinterpretation of the bits (same width): through the bits as a u32 (the low 8, 16 or 32). */
  bitcast(from: DType, to: DType, x: string): string {
    if (from === to) return x;
    if (isWide(from) || isWide(to)) {
      if (isWide(from) && isWide(to)) return x;
      return fail('E_UNSUPPORTED', `wgsl: bitcast from ${from} to ${to} is not supported`);
    }
    if (DTYPE_INFO[from].bits !== DTYPE_INFO[to].bits) fail('E_UNSUPPORTED', `wgsl: bitcast from ${from} to ${to} changes the width`);
    if ((isFloat(from) && !word16(from)) || (isFloat(to) && !word16(to))) fail('E_UNSUPPORTED', `wgsl: bitcast from ${from} to ${to} is not supported yet`);
    let bits: string;
    switch (from) {
      case 'f16': bits = `(pack2x16float(vec2<f32>(${x}, 0.0f)) & 0xffffu)`; break;
      case 'bf16': bits = `(bitcast<u32>(${x}) >> 16u)`; break;
      case 'bool': bits = `select(0u, 1u, ${x})`; break;
      default: bits = valueType(from) === 'u32' ? x : `bitcast<u32>(${x})`;
    }
    switch (to) {
      case 'f16': return `unpack2x16float(${bits} & 0xffffu).x`;
      case 'bf16': return `bitcast<f32>(${bits} << 16u)`;
      case 'bool': return `(${bits} != 0u)`;
      case 'f32': return `bitcast<f32>(${bits})`;
      default: return valueType(to) === 'u32' ? this.wrapInt(to, bits) : this.wrapInt(to, `bitcast<i32>(${bits})`);
    }
  }

  /** An integer index (an i32 expression) as dtype t, as Tensor.set stores it (floats rounded, ints wrapped,
   * bool: the low bit). */
  indexAs(t: DType, i: string): string {
    if (t === 'bool') return `((${i} & 1i) != 0i)`;
    return this.cast('i32', t, i);
  }
}

/** Floats whose bits the bitcast spells: f32, f16, bf16. */
const word16 = (t: DType): boolean => t === 'f32' || t === 'f16' || t === 'bf16';

const unknown = (op: string, t: DType): never => fail('E_UNSUPPORTED', `wgsl: the scalar op '${op}' on ${t} is not supported yet`);

const FLOAT_UNARY: Record<string, (x: string, s: Spelling) => string> = {
  neg: (x) => `(-${x})`,
  abs: (x) => `abs(${x})`,
  exp: (x, s) => s.call('keep_nan', x, `exp(${x})`),
  log: (x, s) => s.call('log_f32', x),
  sqrt: (x, s) => s.call('sqrt_f32', x),
  recip: (x) => `(1.0f / ${x})`,
  sin: (x, s) => s.call('sincos_f32', x, 'false'),
  cos: (x, s) => s.call('sincos_f32', x, 'true'),
  atan: (x, s) => s.call('keep_nan', x, `atan(${x})`),
  tanh: (x, s) => s.call('keep_nan', x, s.call('tanh_f32', x)),
  erf: (x, s) => s.call('keep_nan', x, s.call('erf_f32', x)),
  floor: (x) => `floor(${x})`,
  ceil: (x) => `ceil(${x})`,
  round: (x) => `round(${x})`,
};

const FLOAT_BINARY: Record<string, (a: string, b: string, s: Spelling) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b, s) => s.call('pow_f32', a, b),
  max: (a, b, s) => s.call('fmax_nan', a, b),
  min: (a, b, s) => s.call('fmin_nan', a, b),
  mod: (a, b, s) => s.call('mod_f32', a, b),
};
