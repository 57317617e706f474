// The float8 and float4 formats (src/ir/float8.ts): held as the f32 they equal, rounded to the format after
// every op, stored as their bit patterns (one byte each). Rounding is the reference's arithmetic — the
// spacing 2^(e - mant) of the format around |x| (e clamped at the subnormal range), round half to even,
// then the format's overflow rule (inf, NaN or saturation) — on f32 bits; E8M0 rounds up to a power of two
// and saturates. Decoding reads a 256-entry table of the format's values in the module's constant bank.
import { smallFloatFromBits, smallFloatMax, type SmallFloat } from '../../ir/float8.js';
import type { PtxBuilder } from './builder.js';
import { f32Imm } from './types.js';

interface Format { readonly exp: number; readonly mant: number; readonly bias: number; readonly overflow: 'inf' | 'nan' | 'saturate'; readonly uz: boolean }

const FORMATS: Readonly<Record<Exclude<SmallFloat, 'f8e8m0'>, Format>> = {
  f8e4m3fn: { exp: 4, mant: 3, bias: 7, overflow: 'nan', uz: false },
  f8e4m3fnuz: { exp: 4, mant: 3, bias: 8, overflow: 'nan', uz: true },
  f8e5m2: { exp: 5, mant: 2, bias: 15, overflow: 'inf', uz: false },
  f8e5m2fnuz: { exp: 5, mant: 2, bias: 16, overflow: 'nan', uz: true },
  f4e2m1: { exp: 2, mant: 1, bias: 1, overflow: 'saturate', uz: false },
};

export const SMALL_FLOATS: readonly SmallFloat[] = ['f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz', 'f4e2m1', 'f8e8m0'];
export const isSmallFloatType = (t: string): t is SmallFloat => (SMALL_FLOATS as readonly string[]).includes(t);

/** The name of a format's decoding table. */
export const tableName = (t: SmallFloat): string => `aic_decode_${t}`;

/** The module-level table of a format's values by bit pattern. */
export function decodeTable(t: SmallFloat): string {
  const n = t === 'f4e2m1' ? 16 : 256;
  const values = Array.from({ length: n }, (_, bits) => f32Imm(smallFloatFromBits(t, bits)));
  return `.const .align 4 .f32 ${tableName(t)}[${n}] = {${values.join(', ')}};`;
}

/** f32 value of the bit pattern in a b32 register. */
export function decodeSmall(b: PtxBuilder, t: SmallFloat, bits: string): string {
  const addr = b.reg('b64');
  const base = b.reg('b64');
  b.ins(`mov.u64 ${base}, ${tableName(t)}`);
  b.ins(`mul.wide.u32 ${addr}, ${bits}, 4`);
  b.ins(`add.u64 ${addr}, ${addr}, ${base}`);
  const d = b.reg('f32');
  b.ins(`ld.const.f32 ${d}, [${addr}]`);
  return d;
}

/** Round an f32 register to the format, in place. */
export function roundSmall(b: PtxBuilder, t: SmallFloat, x: string): void {
  const bits = b.reg('b32');
  const a = b.reg('f32');
  b.ins(`abs.f32 ${a}, ${x}`);
  b.ins(`mov.b32 ${bits}, ${a}`);
  const nan = b.reg('pred');
  b.ins(`testp.notanumber.f32 ${nan}, ${x}`);
  const e = b.reg('b32');
  b.ins(`shr.u32 ${e}, ${bits}, 23`);
  if (t === 'f8e8m0') {
    // Up to the next power of two (an exact one stays), within [2^-127, 2^127].
    const m = b.reg('b32');
    b.ins(`and.b32 ${m}, ${bits}, 8388607`);
    const up = b.reg('pred');
    b.ins(`setp.ne.u32 ${up}, ${m}, 0`);
    b.ins(`@${up} add.u32 ${e}, ${e}, 1`);
    b.ins(`min.u32 ${e}, ${e}, 254`);
    b.ins(`shl.b32 ${e}, ${e}, 23`);
    const tiny = b.reg('pred');
    b.ins(`setp.le.f32 ${tiny}, ${a}, ${f32Imm(2 ** -127)}`);
    b.ins(`@${tiny} mov.b32 ${e}, 4194304`);
    b.ins(`mov.b32 ${x}, ${e}`);
    b.ins(`@${nan} mov.f32 ${x}, ${f32Imm(NaN)}`);
    return;
  }
  const f = FORMATS[t];
  // q = 2^(max(e, 1 - bias) - mant): the spacing of the format's values around |x|.
  b.ins(`sub.s32 ${e}, ${e}, 127`);
  b.ins(`max.s32 ${e}, ${e}, ${1 - f.bias}`);
  const qb = b.reg('b32');
  b.ins(`add.s32 ${qb}, ${e}, ${127 - f.mant}`);
  b.ins(`shl.b32 ${qb}, ${qb}, 23`);
  const inv = b.reg('b32');
  b.ins(`sub.s32 ${inv}, ${127 + f.mant}, ${e}`);
  b.ins(`shl.b32 ${inv}, ${inv}, 23`);
  const q = b.reg('f32');
  const qi = b.reg('f32');
  b.ins(`mov.b32 ${q}, ${qb}`);
  b.ins(`mov.b32 ${qi}, ${inv}`);
  const r = b.reg('f32');
  b.ins(`mul.rn.f32 ${r}, ${a}, ${qi}`);
  b.ins(`cvt.rni.f32.f32 ${r}, ${r}`);
  b.ins(`mul.rn.f32 ${r}, ${r}, ${q}`);
  const inf = b.reg('pred');
  b.ins(`testp.infinite.f32 ${inf}, ${a}`);
  b.ins(`@${inf} mov.f32 ${r}, ${a}`);
  const over = b.reg('pred');
  b.ins(`setp.gt.f32 ${over}, ${r}, ${f32Imm(smallFloatMax(t))}`);
  const beyond = f.overflow === 'nan' ? NaN : f.overflow === 'inf' ? Infinity : smallFloatMax(t);
  b.ins(`@${over} mov.f32 ${r}, ${f32Imm(beyond)}`);
  if (f.uz) {
    // No -0: a zero is +0, and keeps no sign.
    const z = b.reg('pred');
    b.ins(`setp.eq.f32 ${z}, ${r}, ${f32Imm(0)}`);
    b.ins(`@!${z} copysign.f32 ${r}, ${x}, ${r}`);
  } else b.ins(`copysign.f32 ${r}, ${x}, ${r}`);
  // NaN stays NaN, except in E2M1, which has none: -0 (the reference's conversion).
  b.ins(`@${nan} mov.f32 ${r}, ${f32Imm(f.overflow === 'saturate' ? -0 : NaN)}`);
  b.ins(`mov.f32 ${x}, ${r}`);
}

/** The bit pattern (in a b32 register) of an f32 register that holds a value of the format. */
export function encodeSmall(b: PtxBuilder, t: SmallFloat, v: string): string {
  const bits = b.reg('b32');
  b.ins(`mov.b32 ${bits}, ${v}`);
  const nan = b.reg('pred');
  b.ins(`testp.notanumber.f32 ${nan}, ${v}`);
  const out = b.reg('b32');
  const e = b.reg('b32');
  b.ins(`shr.u32 ${e}, ${bits}, 23`);
  b.ins(`and.b32 ${e}, ${e}, 255`);
  if (t === 'f8e8m0') {
    b.ins(`mov.b32 ${out}, ${e}`);
    b.ins(`@${nan} mov.b32 ${out}, 255`);
    return out;
  }
  const f = FORMATS[t];
  const width = f.exp + f.mant;
  const sign = b.reg('b32');
  b.ins(`shr.u32 ${sign}, ${bits}, 31`);
  b.ins(`shl.b32 ${sign}, ${sign}, ${width}`);
  const a = b.reg('f32');
  b.ins(`abs.f32 ${a}, ${v}`);
  // Normal in the format: the exponent rebiased, the top mantissa bits.
  b.ins(`add.s32 ${e}, ${e}, ${f.bias - 127}`);
  const m = b.reg('b32');
  b.ins(`shr.u32 ${m}, ${bits}, ${23 - f.mant}`);
  b.ins(`and.b32 ${m}, ${m}, ${(1 << f.mant) - 1}`);
  b.ins(`shl.b32 ${out}, ${e}, ${f.mant}`);
  b.ins(`or.b32 ${out}, ${out}, ${m}`);
  // Subnormal in the format (exponent field 0): |v| / 2^(1 - bias - mant), an exact integer.
  const sub = b.reg('pred');
  b.ins(`setp.lt.s32 ${sub}, ${e}, 1`);
  const scaled = b.reg('f32');
  b.ins(`mul.rn.f32 ${scaled}, ${a}, ${f32Imm(2 ** (f.bias - 1 + f.mant))}`);
  const si = b.reg('b32');
  b.ins(`cvt.rzi.u32.f32 ${si}, ${scaled}`);
  b.ins(`@${sub} mov.b32 ${out}, ${si}`);
  if (f.overflow === 'inf') {
    const inf = b.reg('pred');
    b.ins(`testp.infinite.f32 ${inf}, ${v}`);
    b.ins(`@${inf} mov.b32 ${out}, ${((1 << f.exp) - 1) << f.mant}`);
  }
  if (f.uz) {
    const z = b.reg('pred');
    b.ins(`setp.ne.u32 ${z}, ${out}, 0`);
    b.ins(`@${z} or.b32 ${out}, ${out}, ${sign}`);
  } else b.ins(`or.b32 ${out}, ${out}, ${sign}`);
  b.ins(`@${nan} mov.b32 ${out}, ${f.uz ? 0x80 : (1 << width) - 1}`);
  return out;
}
