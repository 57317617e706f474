// The pointwise prims in PTX: arithmetic with explicit rounding modes, comparisons, casts and bitcasts
// between every dtype the backend holds (./types.ts), and the transcendentals of ./math.ts. Each result is
// rounded (f16, bf16) or wrapped (8- and 16-bit integers) to its dtype, as the interpreter does.
import type { DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import type { PtxBuilder } from './builder.js';
import { FloatMath } from './math.js';
import { decodeSmall, encodeSmall, isSmallFloatType, roundSmall } from './smallfloat.js';
import { familyOf, f32Imm, isFloatFamily, isSignedFamily, opType, regClassOf, wrapBits, type Family } from './types.js';

export interface Operand {
  readonly reg: string;
  readonly dtype: DType;
}

/** Round an f32-held value to f16/bf16, or wrap a 32-bit-held integer to its width, in place. */
export function finish(b: PtxBuilder, reg: string, t: DType): void {
  if (isSmallFloatType(t)) roundSmall(b, t, reg);
  else if (t === 'f16') {
    const h = b.reg('b16');
    b.ins(`cvt.rn.f16.f32 ${h}, ${reg}`);
    b.ins(`cvt.f32.f16 ${reg}, ${h}`);
  } else if (t === 'bf16') {
    const h = b.reg('b16');
    b.ins(`cvt.rn.bf16.f32 ${h}, ${reg}`);
    bf16ToF32(b, h, reg);
  } else {
    const bits = wrapBits(t);
    if (bits === undefined) return;
    if (familyOf(t) === 's32') b.ins(`bfe.s32 ${reg}, ${reg}, 0, ${bits}`);
    else b.ins(`and.b32 ${reg}, ${reg}, ${2 ** bits - 1}`);
  }
}

/** The f32 a bf16 bit pattern (in a b16 register) stands for: its bits are the high half (cvt.f32.bf16 needs sm_90). */
export function bf16ToF32(b: PtxBuilder, h: string, dst: string): void {
  const w = b.reg('b32');
  b.ins(`cvt.u32.u16 ${w}, ${h}`);
  b.ins(`shl.b32 ${w}, ${w}, 16`);
  b.ins(`mov.b32 ${dst}, ${w}`);
}

const UNSUPPORTED = (op: string, t: DType): never => fail('E_UNSUPPORTED', `ptx: ${op} on ${t} is not supported`);

export function renderPrim(b: PtxBuilder, op: string, args: readonly Operand[], out: DType): string {
  if (op === 'cast') return cast(b, args[0]!, out);
  if (op === 'bitcast') return bitcast(b, args[0]!, out);
  if (op === 'where') {
    const [c, x, y] = args as [Operand, Operand, Operand];
    const p = b.reg('pred');
    b.ins(`setp.ne.u32 ${p}, ${c.reg}, 0`);
    const d = b.reg(regClassOf(out));
    b.ins(`selp.${selType(familyOf(out))} ${d}, ${x.reg}, ${y.reg}, ${p}`);
    return d;
  }
  const a = args[0]!;
  const fam = familyOf(a.dtype);
  if (args.length === 1) {
    const d = unary(b, op, a, fam);
    if (op !== 'isnan') finish(b, d, out);
    return d;
  }
  const c = args[1]!;
  const d = binary(b, op, a.reg, c.reg, fam, a.dtype);
  if (out !== 'bool') finish(b, d, out);
  return d;
}

const selType = (f: Family): string => (f === 'f32' || f === 'f64' ? f : f === 's64' || f === 'u64' ? 'b64' : 'b32');

function unary(b: PtxBuilder, op: string, a: Operand, f: Family): string {
  const t = opType(f);
  const cls = regClassOf(a.dtype);
  const one = (text: string): string => {
    const d = b.reg(cls);
    b.ins(`${text} ${d}, ${a.reg}`);
    return d;
  };
  if (isFloatFamily(f)) {
    const m = new FloatMath(b, f);
    switch (op) {
      case 'neg': return one(`neg.${t}`);
      case 'abs': return one(`abs.${t}`);
      case 'sqrt': return one(`sqrt.rn.${t}`);
      case 'recip': return one(`rcp.rn.${t}`);
      case 'floor': return one(`cvt.rmi.${t}.${t}`);
      case 'ceil': return one(`cvt.rpi.${t}.${t}`);
      case 'round': return one(`cvt.rni.${t}.${t}`);
      case 'exp': return m.exp(a.reg);
      case 'log': return m.log(a.reg);
      case 'sin': return m.sincos(a.reg, false);
      case 'cos': return m.sincos(a.reg, true);
      case 'atan': return m.atan(a.reg);
      case 'tanh': return m.tanh(a.reg);
      case 'erf': return m.erf(a.reg);
      case 'isnan': {
        const p = b.reg('pred');
        b.ins(`testp.notanumber.${t} ${p}, ${a.reg}`);
        const d = b.reg('b32');
        b.ins(`selp.u32 ${d}, 1, 0, ${p}`);
        return d;
      }
      default: return UNSUPPORTED(op, a.dtype);
    }
  }
  switch (op) {
    case 'neg': return one(f === 'u32' || f === 'u64' ? `neg.s${t.slice(1)}` : `neg.${t}`);
    case 'abs': return f === 'u32' || f === 'u64' || f === 'bool' ? one(`mov.b${t.slice(1)}`) : one(`abs.${t}`);
    case 'not': {
      // Logical on bool (one bit), bitwise on integers.
      if (f !== 'bool') return one(`not.b${t.slice(1)}`);
      const d = b.reg('b32');
      b.ins(`xor.b32 ${d}, ${a.reg}, 1`);
      return d;
    }
    default: return UNSUPPORTED(op, a.dtype);
  }
}

function binary(b: PtxBuilder, op: string, x: string, y: string, f: Family, dtype: DType): string {
  const t = opType(f);
  const bits = t.slice(1);
  const cls = regClassOf(dtype);
  const two = (text: string): string => {
    const d = b.reg(cls);
    b.ins(`${text} ${d}, ${x}, ${y}`);
    return d;
  };
  const compare = (cmp: string): string => {
    const p = b.reg('pred');
    b.ins(`setp.${cmp}.${t} ${p}, ${x}, ${y}`);
    const d = b.reg('b32');
    b.ins(`selp.u32 ${d}, 1, 0, ${p}`);
    return d;
  };
  if (op === 'lt') return compare('lt');
  if (op === 'eq') return compare('eq');
  if (isFloatFamily(f)) {
    const m = new FloatMath(b, f);
    switch (op) {
      case 'add': return two(`add.rn.${t}`);
      case 'sub': return two(`sub.rn.${t}`);
      case 'mul': return two(`mul.rn.${t}`);
      case 'div': return two(`div.rn.${t}`);
      case 'max': case 'min': {
        if (f === 'f32') return two(`${op}.NaN.f32`);
        // f64 has no .NaN variant: a NaN operand wins.
        const r = two(`${op}.f64`);
        const nan = b.reg('pred');
        b.ins(`setp.nan.f64 ${nan}, ${x}, ${y}`);
        return m.select(nan, m.imm(NaN), r);
      }
      case 'pow': return m.pow(x, y);
      case 'mod': return m.fmod(x, y);
      default: return UNSUPPORTED(op, dtype);
    }
  }
  const zeroGuard = (text: string): string => {
    // Integer division and remainder by zero give 0 (the reference's rule; PTX leaves it undefined).
    const r = two(text);
    const z = b.reg('pred');
    b.ins(`setp.eq.${t} ${z}, ${y}, 0`);
    const d = b.reg(cls);
    b.ins(`selp.b${bits} ${d}, 0, ${r}, ${z}`);
    return d;
  };
  switch (op) {
    case 'add': return two(`add.${t}`);
    case 'sub': return two(`sub.${t}`);
    case 'mul': return two(`mul.lo.${t}`);
    case 'div': return zeroGuard(`div.${t}`);
    case 'mod': return zeroGuard(`rem.${t}`);
    case 'max': return two(`max.${t}`);
    case 'min': return two(`min.${t}`);
    case 'and': return two(`and.b${bits}`);
    case 'or': return two(`or.b${bits}`);
    case 'xor': return two(`xor.b${bits}`);
    case 'pow': return intPow(b, x, y, f, cls);
    default: return UNSUPPORTED(op, dtype);
  }
}

/** Integer power by squaring; a negative exponent gives 1/x truncated (1, ±1 for -1, else 0). */
function intPow(b: PtxBuilder, x: string, y: string, f: Family, cls: 'b32' | 'b64' | 'f32' | 'f64' | 'pred' | 'b16'): string {
  const t = opType(f);
  const bits = t.slice(1);
  const r = b.reg(cls);
  const base = b.reg(cls);
  const e = b.reg(cls);
  const p = b.reg('pred');
  const done = b.label();
  const loop = b.label();
  b.ins(`mov.b${bits} ${r}, 1`);
  b.ins(`mov.b${bits} ${base}, ${x}`);
  b.ins(`mov.b${bits} ${e}, ${y}`);
  if (isSignedFamily(f)) {
    // Negative exponent: x == 1 -> 1; x == -1 -> ±1 by parity; else 0.
    const neg = b.reg('pred');
    b.ins(`setp.lt.${t} ${neg}, ${e}, 0`);
    const isOne = b.reg('pred');
    b.ins(`setp.eq.${t} ${isOne}, ${x}, 1`);
    const isMinus = b.reg('pred');
    b.ins(`setp.eq.${t} ${isMinus}, ${x}, -1`);
    const par = b.reg(cls);
    b.ins(`and.b${bits} ${par}, ${e}, 1`);
    const odd = b.reg('pred');
    b.ins(`setp.ne.${t} ${odd}, ${par}, 0`);
    const m1 = b.reg(cls);
    b.ins(`selp.b${bits} ${m1}, -1, 1, ${odd}`);
    const v = b.reg(cls);
    b.ins(`selp.b${bits} ${v}, ${m1}, 0, ${isMinus}`);
    b.ins(`selp.b${bits} ${v}, 1, ${v}, ${isOne}`);
    b.ins(`@${neg} mov.b${bits} ${r}, ${v}`);
    b.ins(`@${neg} bra ${done}`);
  }
  b.place(loop);
  b.ins(`setp.eq.${t} ${p}, ${e}, 0`);
  b.ins(`@${p} bra ${done}`);
  const lsb = b.reg(cls);
  b.ins(`and.b${bits} ${lsb}, ${e}, 1`);
  const set = b.reg('pred');
  b.ins(`setp.ne.${t} ${set}, ${lsb}, 0`);
  b.ins(`@${set} mul.lo.${t} ${r}, ${r}, ${base}`);
  b.ins(`mul.lo.${t} ${base}, ${base}, ${base}`);
  b.ins(`shr.u${bits} ${e}, ${e}, 1`);
  b.ins(`bra ${loop}`);
  b.place(done);
  return r;
}

// ---- conversions ----

/** `cast`: value conversion with the interpreter's rules (floats to ints truncate, NaN and ±inf give 0,
 * integers wrap; anything to bool is `!= 0`, NaN included). */
export function cast(b: PtxBuilder, a: Operand, to: DType): string {
  const from = familyOf(a.dtype);
  const tf = familyOf(to);
  const d = b.reg(regClassOf(to));
  if (tf === 'bool') {
    const p = b.reg('pred');
    if (isFloatFamily(from)) b.ins(`setp.neu.${from} ${p}, ${a.reg}, ${from === 'f32' ? f32Imm(0) : '0d0000000000000000'}`);
    else b.ins(`setp.ne.${opType(from)} ${p}, ${a.reg}, 0`);
    b.ins(`selp.u32 ${d}, 1, 0, ${p}`);
    return d;
  }
  if (isFloatFamily(tf)) {
    if (from === tf) b.ins(`mov.${tf} ${d}, ${a.reg}`);
    else if (isFloatFamily(from)) b.ins(tf === 'f64' ? `cvt.f64.f32 ${d}, ${a.reg}` : `cvt.rn.f32.f64 ${d}, ${a.reg}`);
    else b.ins(`cvt.rn.${tf}.${opType(from)} ${d}, ${a.reg}`);
    finish(b, d, to);
    return d;
  }
  if (isFloatFamily(from)) {
    // Truncate through s64 (then wrap), and give 0 where the value is not finite.
    const w = b.reg('b64');
    b.ins(`cvt.rzi.s64.${from} ${w}, ${a.reg}`);
    const fin = b.reg('pred');
    b.ins(`testp.finite.${from} ${fin}, ${a.reg}`);
    b.ins(`selp.b64 ${w}, ${w}, 0, ${fin}`);
    if (tf === 's64' || tf === 'u64') b.ins(`mov.b64 ${d}, ${w}`);
    else {
      b.ins(`cvt.u32.u64 ${d}, ${w}`);
      finish(b, d, to);
    }
    return d;
  }
  const from64 = from === 's64' || from === 'u64';
  const to64 = tf === 's64' || tf === 'u64';
  if (from64 && to64) b.ins(`mov.b64 ${d}, ${a.reg}`);
  else if (from64) {
    b.ins(`cvt.u32.u64 ${d}, ${a.reg}`);
    finish(b, d, to);
  } else if (to64) b.ins(from === 's32' ? `cvt.s64.s32 ${d}, ${a.reg}` : `cvt.u64.u32 ${d}, ${a.reg}`);
  else {
    b.ins(`mov.b32 ${d}, ${a.reg}`);
    finish(b, d, to);
  }
  return d;
}

/** The bits of a value, zero-extended into a b32 or b64 register. */
function bitsOf(b: PtxBuilder, a: Operand): string {
  switch (a.dtype) {
    case 'f32': case 'f64': {
      const d = b.reg(a.dtype === 'f64' ? 'b64' : 'b32');
      b.ins(`mov.b${a.dtype.slice(1)} ${d}, ${a.reg}`);
      return d;
    }
    case 'f16': {
      const h = b.reg('b16');
      b.ins(`cvt.rn.f16.f32 ${h}, ${a.reg}`);
      const d = b.reg('b32');
      b.ins(`cvt.u32.u16 ${d}, ${h}`);
      return d;
    }
    case 'bf16': {
      const d = b.reg('b32');
      b.ins(`mov.b32 ${d}, ${a.reg}`);
      b.ins(`shr.u32 ${d}, ${d}, 16`);
      return d;
    }
    default: {
      if (isSmallFloatType(a.dtype)) return encodeSmall(b, a.dtype, a.reg);
      const d = b.reg(regClassOf(a.dtype));
      const w = regClassOf(a.dtype) === 'b64' ? 64 : 32;
      b.ins(`mov.b${w} ${d}, ${a.reg}`);
      const bits = wrapBits(a.dtype);
      if (bits !== undefined) b.ins(`and.b32 ${d}, ${d}, ${2 ** bits - 1}`);
      return d;
    }
  }
}

/** `bitcast`: the same bits read as another dtype of the same width. */
export function bitcast(b: PtxBuilder, a: Operand, to: DType): string {
  const bits = bitsOf(b, a);
  if (isSmallFloatType(to)) {
    b.ins(`and.b32 ${bits}, ${bits}, ${to === 'f4e2m1' ? 15 : 255}`);
    return decodeSmall(b, to, bits);
  }
  const d = b.reg(regClassOf(to));
  switch (to) {
    case 'f32': case 'f64': b.ins(`mov.b${to.slice(1)} ${d}, ${bits}`); break;
    case 'f16': {
      const h = b.reg('b16');
      b.ins(`cvt.u16.u32 ${h}, ${bits}`);
      b.ins(`cvt.f32.f16 ${d}, ${h}`);
      break;
    }
    case 'bf16': {
      const w = b.reg('b32');
      b.ins(`shl.b32 ${w}, ${bits}, 16`);
      b.ins(`mov.b32 ${d}, ${w}`);
      break;
    }
    default:
      b.ins(`mov.b${regClassOf(to) === 'b64' ? 64 : 32} ${d}, ${bits}`);
      finish(b, d, to);
  }
  return d;
}
