// Scalar number formats JS lacks: float16 and bfloat16, rounded to nearest-even as IEEE says (the
// float8/float4 formats are in float8.ts), and what storing a value in a narrow dtype does to it.
import { DTYPE_INFO, type DType } from './dtype.js';
import { isSmallFloat, roundSmallFloat, smallFloatFromBits, smallFloatToBits } from './float8.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 value -> IEEE binary16 bits, round to nearest even, NaN/inf/-0/subnormals kept. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m === 0 ? sign * Infinity : NaN;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** float32 value -> bfloat16 bits (the upper half of the float32, rounded to nearest even). */
export function f32ToBf16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff; // quiet NaN
  const lsb = (b >>> 16) & 1;
  return ((b + 0x7fff + lsb) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** Round a float to the precision of a float dtype (f64: unchanged). */
export function roundToDType(t: DType, x: number): number {
  switch (t) {
    case 'f32':
      return Math.fround(x);
    case 'f16':
      return f16BitsToF32(f32ToF16Bits(Math.fround(x) === x ? x : roundF64ToF32ForF16(x)));
    case 'bf16':
      return bf16BitsToF32(f32ToBf16Bits(Math.fround(x) === x ? x : roundF64ToF32ForF16(x)));
    default:
      return isSmallFloat(t) ? roundSmallFloat(t, x) : x;
  }
}

/** How a computed number becomes an element of dtype `t` where storing it in t's typed array is not
 * enough: rounding for the floats held widened (f16, bf16, float8, float4), truncating and wrapping to
 * the width for 4- and 2-bit integers. Undefined where the typed array's own conversion is the dtype's. */
export function narrowing(t: DType): ((x: number) => number) | undefined {
  const info = DTYPE_INFO[t];
  if (info.kind === 'float') return t === 'f32' || t === 'f64' ? undefined : (x) => roundToDType(t, x);
  if (info.bits >= 8 || info.kind === 'bool') return undefined;
  const shift = 32 - info.bits;
  const mask = (1 << info.bits) - 1;
  // `<<` and `&` convert to int32 first, which truncates and wraps modulo 2^32 (NaN and inf to 0).
  return info.kind === 'int' ? (x) => ((x << shift) >> shift) : (x) => x & mask;
}

/** The bit patterns of a dtype whose storage is not its format (f16, bf16, float8, float4, 4- and 2-bit
 * integers): `bits` wide, `encode` from a stored element to its unsigned pattern, `decode` back. */
export interface BitCodec {
  readonly bits: number;
  encode(x: number): number;
  decode(bits: number): number;
}

export function bitCodec(t: DType): BitCodec | undefined {
  const bits = DTYPE_INFO[t].bits;
  if (t === 'f16') return { bits, encode: f32ToF16Bits, decode: f16BitsToF32 };
  if (t === 'bf16') return { bits, encode: f32ToBf16Bits, decode: bf16BitsToF32 };
  if (isSmallFloat(t)) return { bits, encode: (x) => smallFloatToBits(t, x), decode: (b) => smallFloatFromBits(t, b) };
  const wrap = narrowing(t);
  if (!wrap) return undefined;
  const mask = (1 << bits) - 1;
  return { bits, encode: (x) => x & mask, decode: wrap };
}

/** Rounding f64 -> f32 -> f16 could round twice; keep a sticky bit so the second rounding is exact. */
function roundF64ToF32ForF16(x: number): number {
  const r = Math.fround(x);
  if (!Number.isFinite(r) || r === x) return r;
  // Truncate toward zero in f32, then set the lowest mantissa bit as a sticky bit.
  f32[0] = Math.abs(r) > Math.abs(x) ? nextTowardZero(r) : r;
  u32[0] = u32[0]! | 1;
  return f32[0]!;
}

function nextTowardZero(r: number): number {
  f32[0] = r;
  u32[0] = u32[0]! - 1;
  return f32[0]!;
}
