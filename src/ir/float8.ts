// The small float formats ONNX adds for quantization: float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ), float4
// E2M1 and the scale format E8M0. Each is a table row (exponent and mantissa widths, bias, which special
// values it has); one rounding function and one pair of bit conversions serve them all.
//
//   format      bias  max     inf  NaN                 -0
//   f8e4m3fn    7     448     no   S.1111.111          yes
//   f8e4m3fnuz  8     240     no   1.0000.000 (the -0)  no
//   f8e5m2      15    57344   yes  S.11111.{01,10,11}  yes
//   f8e5m2fnuz  16    57344   no   1.00000.00 (the -0)  no
//   f4e2m1      1     6       no   none                 yes
//   f8e8m0      127   2^127   no   11111111            no (no sign, no zero: 0x00 is 2^-127)
//
// Rounding is to nearest, ties to even, from a double in one step (no double rounding through float32).
// A result beyond the largest finite value becomes inf where the format has one, else NaN: the IEEE
// behaviour, ONNX's Cast with saturate=0. Saturation (saturate=1) is a clamp before the rounding, done by
// the ONNX rules. float4e2m1 has neither inf nor NaN: it always saturates, and NaN becomes -0 (what the
// ONNX reference's ml_dtypes conversion gives). E8M0 holds only powers of two; it rounds up and saturates,
// as ONNX's Cast does by default (round_mode=up, saturate=1); other modes are composed by the ONNX rule.
import type { DType } from './dtype.js';

export type SmallFloat = 'f8e4m3fn' | 'f8e4m3fnuz' | 'f8e5m2' | 'f8e5m2fnuz' | 'f4e2m1' | 'f8e8m0';

interface Format {
  readonly exp: number;
  readonly mant: number;
  readonly bias: number;
  /** What a value beyond the largest finite one (or an infinity) becomes. */
  readonly overflow: 'inf' | 'nan' | 'saturate';
  /** NaN is the single pattern 0x80 and there is no -0 (the "uz" formats). */
  readonly uz: boolean;
  /** The all-ones pattern S.1111.111 is NaN, and the rest of the top binade is finite (E4M3FN). */
  readonly fn: boolean;
  /** The largest finite value. */
  readonly max: number;
}

const FORMATS: Readonly<Record<Exclude<SmallFloat, 'f8e8m0'>, Format>> = {
  f8e4m3fn: { exp: 4, mant: 3, bias: 7, overflow: 'nan', uz: false, fn: true, max: 448 },
  f8e4m3fnuz: { exp: 4, mant: 3, bias: 8, overflow: 'nan', uz: true, fn: false, max: 240 },
  f8e5m2: { exp: 5, mant: 2, bias: 15, overflow: 'inf', uz: false, fn: false, max: 57344 },
  f8e5m2fnuz: { exp: 5, mant: 2, bias: 16, overflow: 'nan', uz: true, fn: false, max: 57344 },
  f4e2m1: { exp: 2, mant: 1, bias: 1, overflow: 'saturate', uz: false, fn: false, max: 6 },
};

export const isSmallFloat = (t: DType): t is SmallFloat => t in FORMATS || t === 'f8e8m0';

/** The largest finite value of a small float format (what ONNX's saturate=1 clamps to). */
export function smallFloatMax(t: SmallFloat): number {
  return t === 'f8e8m0' ? 2 ** 127 : FORMATS[t].max;
}

/** Round a number to the nearest value of the format (see the header for the special cases). */
export function roundSmallFloat(t: SmallFloat, x: number): number {
  if (t === 'f8e8m0') return roundE8M0(x);
  const f = FORMATS[t];
  if (Number.isNaN(x)) return f.overflow === 'saturate' ? -0 : NaN;
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? -1 : 1;
  let r: number;
  if (a === Infinity) r = Infinity;
  else {
    // The spacing of the format's values around a: 2^(e - mant), with e clamped at the subnormal range.
    const q = 2 ** (Math.max(binade(a), 1 - f.bias) - f.mant);
    r = roundHalfEven(a / q) * q; // a / q is exact: q is a power of two
  }
  if (r > f.max) {
    if (f.overflow === 'nan') return NaN;
    r = f.overflow === 'inf' ? Infinity : f.max;
  }
  if (r === 0 && f.uz) return 0;
  return sign * r;
}

/** The bit pattern of a value of the format (the value is rounded first). NaN is the format's canonical
 * NaN (0x7f for E4M3FN and E5M2, whose sign aic does not keep; 0x80 for the fnuz formats). */
export function smallFloatToBits(t: SmallFloat, x: number): number {
  const v = roundSmallFloat(t, x);
  if (t === 'f8e8m0') return Number.isNaN(v) ? 0xff : binade(v) + 127;
  const f = FORMATS[t];
  if (Number.isNaN(v)) return f.uz ? 0x80 : (1 << (f.exp + f.mant)) - 1;
  const s = v < 0 || Object.is(v, -0) ? 1 << (f.exp + f.mant) : 0;
  const a = Math.abs(v);
  if (a === Infinity) return s | (((1 << f.exp) - 1) << f.mant);
  if (a === 0) return s;
  const e = Math.max(binade(a), 1 - f.bias);
  const m = a / 2 ** (e - f.mant); // an integer below 2^(mant+1); the leading 1 lands in the exponent field
  const biased = a < 2 ** (1 - f.bias) ? 0 : e + f.bias;
  return s | (biased << f.mant) | (m & ((1 << f.mant) - 1));
}

/** The value of a bit pattern of the format (bits above the format's width are ignored). */
export function smallFloatFromBits(t: SmallFloat, bits: number): number {
  if (t === 'f8e8m0') {
    const e = bits & 0xff;
    return e === 0xff ? NaN : 2 ** (e - 127);
  }
  const f = FORMATS[t];
  const width = f.exp + f.mant + 1;
  const b = bits & ((1 << width) - 1);
  const signBit = 1 << (width - 1);
  if (f.uz && b === signBit) return NaN;
  const e = (b >>> f.mant) & ((1 << f.exp) - 1);
  const m = b & ((1 << f.mant) - 1);
  const top = (1 << f.exp) - 1;
  if (e === top && f.overflow === 'inf') return m === 0 ? (b & signBit ? -Infinity : Infinity) : NaN;
  if (e === top && f.fn && m === (1 << f.mant) - 1) return NaN;
  const a = e === 0 ? m * 2 ** (1 - f.bias - f.mant) : (1 + m / 2 ** f.mant) * 2 ** (e - f.bias);
  return b & signBit ? -a : a;
}

/** E8M0: the power of two at or above |x| (round up), saturating at 2^127 and at 2^-127; NaN stays NaN.
 * The sign is ignored (negative values are undefined for E8M0 in ONNX; the reference drops the sign). */
function roundE8M0(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a === Infinity || a > 2 ** 127) return 2 ** 127;
  if (a <= 2 ** -127) return 2 ** -127;
  const e = binade(a);
  return 2 ** (a === 2 ** e ? e : e + 1);
}

/** floor(log2(a)) for a finite a > 0, exactly (Math.log2 may be off by one near powers of two). */
function binade(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}
