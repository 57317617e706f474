// Transcendental functions as PTX sequences, for f32 and f64 registers. f32 uses the hardware's
// ex2.approx/lg2.approx with the range handling that keeps them within the conformance tolerances (the
// product x·log2(e) split into two parts, log near 1 from a series); f64 has no hardware approximation,
// so it reduces the argument and sums a series to double precision. sin/cos reduce by π/2 in f64;
// tanh, erf and atan switch between a series near 0 and a closed form (from exp) away from it.
import type { PtxBuilder } from './builder.js';
import { floatImm } from './types.js';

type F = 'f32' | 'f64';

/** Terms of the Taylor series of tanh (x, x³, x⁵, …) from sinh/cosh, computed once. */
function tanhSeries(terms: number): number[] {
  const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
  const sinh = Array.from({ length: terms }, (_, k) => 1 / fact(2 * k + 1));
  const cosh = Array.from({ length: terms }, (_, k) => 1 / fact(2 * k));
  const q: number[] = [];
  for (let k = 0; k < terms; k++) {
    let s = sinh[k]!;
    for (let j = 0; j < k; j++) s -= q[j]! * cosh[k - j]!;
    q.push(s / cosh[0]!);
  }
  return q;
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** Floating-point helpers over one builder, for one register class. */
export class FloatMath {
  readonly reg: () => string;

  constructor(readonly b: PtxBuilder, readonly f: F) {
    this.reg = () => b.reg(f);
  }

  imm(v: number): string {
    return floatImm(this.f, v);
  }

  op(text: string, ...args: string[]): string {
    const d = this.reg();
    this.b.ins(`${text} ${[d, ...args].join(', ')}`);
    return d;
  }

  pred(cmp: string, a: string, c: string): string {
    const p = this.b.reg('pred');
    this.b.ins(`setp.${cmp}.${this.f} ${p}, ${a}, ${c}`);
    return p;
  }

  select(p: string, a: string, c: string): string {
    return this.op(`selp.${this.f}`, a, c, p);
  }

  add(a: string, c: string): string { return this.op(`add.rn.${this.f}`, a, c); }
  sub(a: string, c: string): string { return this.op(`sub.rn.${this.f}`, a, c); }
  mul(a: string, c: string): string { return this.op(`mul.rn.${this.f}`, a, c); }
  fma(a: string, c: string, d: string): string { return this.op(`fma.rn.${this.f}`, a, c, d); }
  div(a: string, c: string): string { return this.op(`div.rn.${this.f}`, a, c); }
  abs(a: string): string { return this.op(`abs.${this.f}`, a); }
  neg(a: string): string { return this.op(`neg.${this.f}`, a); }
  /** |a| with the sign of s. */
  copysign(s: string, a: string): string { return this.op(`copysign.${this.f}`, s, a); }

  /** Σ c[k]·x^k by Horner (coefficients lowest first). */
  horner(x: string, c: readonly number[]): string {
    let acc = this.op(`mov.${this.f}`, this.imm(c[c.length - 1]!));
    for (let k = c.length - 2; k >= 0; k--) acc = this.fma(acc, x, this.imm(c[k]!));
    return acc;
  }

  // ---- exp and log ----

  exp(x: string): string {
    return this.f === 'f32' ? this.exp32(x) : this.exp64(x);
  }

  private exp32(x: string): string {
    const l2e = Math.fround(Math.LOG2E);
    const t = this.mul(x, this.imm(l2e));
    // The rounding error of x·log2(e), and log2(e)'s own: e^x = 2^t · 2^r ≈ 2^t · (1 + r·ln 2).
    let r = this.fma(x, this.imm(l2e), this.neg(t));
    r = this.fma(x, this.imm(Math.LOG2E - l2e), r);
    const inRange = this.pred('lt', this.abs(x), this.imm(64));
    r = this.select(inRange, r, this.imm(0));
    const e = this.op('ex2.approx.f32', t);
    return this.fma(e, this.mul(r, this.imm(Math.LN2)), e);
  }

  private exp64(x: string): string {
    const b = this.b;
    const n = this.op('cvt.rni.f64.f64', this.mul(x, this.imm(Math.LOG2E)));
    const ln2Hi = 0.6931471803691238;
    let r = this.fma(this.neg(n), this.imm(ln2Hi), x);
    r = this.fma(this.neg(n), this.imm(Math.LN2 - ln2Hi), r);
    const poly = this.horner(r, Array.from({ length: 15 }, (_, k) => 1 / factorial(k)));
    // 2^n as two factors, so that neither leaves the exponent range.
    const ni = b.reg('b32');
    b.ins(`cvt.rzi.s32.f64 ${ni}, ${n}`);
    b.ins(`max.s32 ${ni}, ${ni}, -2100`);
    b.ins(`min.s32 ${ni}, ${ni}, 2100`);
    const n1 = b.reg('b32');
    b.ins(`shr.s32 ${n1}, ${ni}, 1`);
    const n2 = b.reg('b32');
    b.ins(`sub.s32 ${n2}, ${ni}, ${n1}`);
    const scale = (k: string): string => {
      const bits = b.reg('b64');
      b.ins(`add.s32 ${k}, ${k}, 1023`);
      b.ins(`cvt.s64.s32 ${bits}, ${k}`);
      b.ins(`shl.b64 ${bits}, ${bits}, 52`);
      return this.op('mov.b64', bits);
    };
    let y = this.mul(this.mul(poly, scale(n1)), scale(n2));
    y = this.select(this.pred('gt', x, this.imm(709.8)), this.imm(Infinity), y);
    return this.select(this.pred('lt', x, this.imm(-745.2)), this.imm(0), y);
  }

  log(x: string): string {
    return this.f === 'f32' ? this.log32(x) : this.log64(x);
  }

  /** 2·atanh(s) = log((1+s)/(1-s)) as a series in s² (|s| small). */
  private atanhSeries(s: string, terms: number): string {
    const s2 = this.mul(s, s);
    const sum = this.horner(s2, Array.from({ length: terms }, (_, k) => 2 / (2 * k + 1)));
    return this.mul(s, sum);
  }

  private log32(x: string): string {
    // Near 1, lg2.approx's absolute error is a large relative one: log(1+u) = 2·atanh(u/(2+u)) there.
    const u = this.sub(x, this.imm(1));
    const near = this.pred('lt', this.abs(u), this.imm(0.0625));
    const s = this.div(u, this.add(u, this.imm(2)));
    const series = this.atanhSeries(s, 5);
    const far = this.mul(this.op('lg2.approx.f32', x), this.imm(Math.LN2));
    return this.select(near, series, far);
  }

  private log64(x: string): string {
    const b = this.b;
    // Subnormals first scaled into the normal range.
    const sub = this.pred('lt', x, this.imm(2.2250738585072014e-308));
    const xs = this.select(sub, this.mul(x, this.imm(2 ** 54)), x);
    const bits = b.reg('b64');
    b.ins(`mov.b64 ${bits}, ${xs}`);
    const eb = b.reg('b64');
    b.ins(`shr.u64 ${eb}, ${bits}, 52`);
    b.ins(`and.b64 ${eb}, ${eb}, 2047`);
    const e = b.reg('b32');
    b.ins(`cvt.u32.u64 ${e}, ${eb}`);
    b.ins(`sub.s32 ${e}, ${e}, 1023`);
    const adj = b.reg('b32');
    b.ins(`selp.s32 ${adj}, 54, 0, ${sub}`);
    b.ins(`sub.s32 ${e}, ${e}, ${adj}`);
    const mb = b.reg('b64');
    b.ins(`and.b64 ${mb}, ${bits}, 4503599627370495`);
    b.ins(`or.b64 ${mb}, ${mb}, 4607182418800017408`);
    let m = this.op('mov.b64', mb);
    // m in [1, 2): fold to [√½, √2) so the series converges fast.
    const high = this.pred('gt', m, this.imm(Math.SQRT2));
    m = this.select(high, this.mul(m, this.imm(0.5)), m);
    const inc = b.reg('b32');
    b.ins(`selp.s32 ${inc}, 1, 0, ${high}`);
    b.ins(`add.s32 ${e}, ${e}, ${inc}`);
    const s = this.div(this.sub(m, this.imm(1)), this.add(m, this.imm(1)));
    const logm = this.atanhSeries(s, 12);
    const ef = this.op('cvt.rn.f64.s32', e);
    const ln2Hi = 0.6931471803691238;
    let y = this.fma(ef, this.imm(ln2Hi), this.fma(ef, this.imm(Math.LN2 - ln2Hi), logm));
    y = this.select(this.pred('eq', x, this.imm(Infinity)), x, y);
    y = this.select(this.pred('eq', x, this.imm(0)), this.imm(-Infinity), y);
    y = this.select(this.pred('lt', x, this.imm(0)), this.imm(NaN), y);
    return this.select(this.pred('nan', x, x), x, y);
  }

  // ---- trigonometric ----

  /** sin (cos with `cosine`): reduced by π/2 in f64, a Taylor polynomial on [-π/4, π/4], the quadrant. */
  sincos(x: string, cosine: boolean): string {
    const b = this.b;
    const d = new FloatMath(b, 'f64');
    const xd = this.f === 'f64' ? x : d.op('cvt.f64.f32', x);
    const q = d.op('cvt.rni.f64.f64', d.mul(xd, d.imm(2 / Math.PI)));
    const pio2Hi = Math.PI / 2;
    let r = d.fma(d.neg(q), d.imm(pio2Hi), xd);
    r = d.fma(d.neg(q), d.imm(6.123233995736766e-17), r);
    const rr = this.f === 'f64' ? r : this.op('cvt.rn.f32.f64', r);
    const terms = this.f === 'f32' ? 6 : 12;
    const r2 = this.mul(rr, rr);
    const sinR = this.mul(rr, this.horner(r2, Array.from({ length: terms }, (_, k) => (k % 2 ? -1 : 1) / factorial(2 * k + 1))));
    const cosR = this.horner(r2, Array.from({ length: terms }, (_, k) => (k % 2 ? -1 : 1) / factorial(2 * k)));
    const qi = b.reg('b64');
    b.ins(`cvt.rzi.s64.f64 ${qi}, ${q}`);
    if (cosine) b.ins(`add.s64 ${qi}, ${qi}, 1`);
    const k = b.reg('b32');
    b.ins(`cvt.u32.u64 ${k}, ${qi}`);
    b.ins(`and.b32 ${k}, ${k}, 3`);
    const odd = b.reg('pred');
    const k1 = b.reg('b32');
    b.ins(`and.b32 ${k1}, ${k}, 1`);
    b.ins(`setp.ne.u32 ${odd}, ${k1}, 0`);
    const negate = b.reg('pred');
    b.ins(`setp.ge.u32 ${negate}, ${k}, 2`);
    const v = this.select(odd, cosR, sinR);
    return this.select(negate, this.neg(v), v);
  }

  atan(x: string): string {
    const a = this.abs(x);
    const inv = this.pred('gt', a, this.imm(1));
    const t = this.select(inv, this.div(this.imm(1), a), a);
    const red = this.pred('gt', t, this.imm(Math.SQRT2 - 1));
    const u = this.select(red, this.div(this.sub(t, this.imm(1)), this.add(t, this.imm(1))), t);
    const terms = this.f === 'f32' ? 10 : 23;
    const poly = this.mul(u, this.horner(this.mul(u, u), Array.from({ length: terms }, (_, k) => (k % 2 ? -1 : 1) / (2 * k + 1))));
    let r = this.select(red, this.add(poly, this.imm(Math.PI / 4)), poly);
    r = this.select(inv, this.sub(this.imm(Math.PI / 2), r), r);
    return this.copysign(x, r);
  }

  // ---- hyperbolic and error function ----

  tanh(x: string): string {
    const a = this.abs(x);
    const near = this.pred('lt', a, this.imm(0.3));
    const series = this.mul(a, this.horner(this.mul(a, a), tanhSeries(this.f === 'f32' ? 7 : 14)));
    // Away from 0: 1 - 2/(e^{2a} + 1), which is 1 where e^{2a} overflows.
    const e = this.exp(this.add(a, a));
    const far = this.sub(this.imm(1), this.div(this.imm(2), this.add(e, this.imm(1))));
    return this.copysign(x, this.select(near, series, far));
  }

  erf(x: string): string {
    const a = this.abs(x);
    const near = this.pred('lt', a, this.imm(1));
    const terms = this.f === 'f32' ? 13 : 21;
    const series = this.mul(this.mul(a, this.imm(2 / Math.sqrt(Math.PI))),
      this.horner(this.mul(a, a), Array.from({ length: terms }, (_, n) => (n % 2 ? -1 : 1) / (factorial(n) * (2 * n + 1)))));
    // erfc by a Chebyshev fit with relative error below 1.2e-7 (Numerical Recipes' erfcc), for |x| >= 1.
    const t = this.div(this.imm(1), this.fma(a, this.imm(0.5), this.imm(1)));
    const fit = this.horner(t, [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]);
    const erfc = this.mul(t, this.exp(this.sub(fit, this.mul(a, a))));
    const far = this.sub(this.imm(1), erfc);
    return this.copysign(x, this.select(near, series, far));
  }

  /** C pow for floats: 1^y = 1, x^0 = 1, a negative base only with an integer exponent (sign from its parity). */
  pow(x: string, y: string): string {
    const mag = this.exp(this.mul(y, this.log(this.abs(x))));
    const yi = this.op(`cvt.rzi.${this.f}.${this.f}`, y);
    const isInt = this.pred('eq', yi, y);
    const half = this.mul(y, this.imm(0.5));
    const odd = this.b.reg('pred');
    this.b.ins(`setp.neu.${this.f} ${odd}, ${this.op(`cvt.rzi.${this.f}.${this.f}`, half)}, ${half}`);
    this.b.ins(`and.pred ${odd}, ${odd}, ${isInt}`);
    const signed = this.select(odd, this.neg(mag), mag);
    const negBase = this.select(isInt, signed, this.imm(NaN));
    let r = this.select(this.pred('lt', x, this.imm(0)), negBase, mag);
    const one = this.b.reg('pred');
    this.b.ins(`setp.eq.${this.f} ${one}, ${x}, ${this.imm(1)}`);
    const zeroExp = this.pred('eq', y, this.imm(0));
    this.b.ins(`or.pred ${one}, ${one}, ${zeroExp}`);
    const minusOne = this.pred('eq', x, this.imm(-1));
    const infExp = this.pred('eq', this.abs(y), this.imm(Infinity));
    this.b.ins(`and.pred ${minusOne}, ${minusOne}, ${infExp}`);
    this.b.ins(`or.pred ${one}, ${one}, ${minusOne}`);
    r = this.select(one, this.imm(1), r);
    return r;
  }

  /** C fmod: a - trunc(a/b)·b, computed in f64 (an f32 operand's quotient is then exact enough). */
  fmod(a: string, c: string): string {
    const d = new FloatMath(this.b, 'f64');
    const ad = this.f === 'f64' ? a : d.op('cvt.f64.f32', a);
    const cd = this.f === 'f64' ? c : d.op('cvt.f64.f32', c);
    const q = d.op('cvt.rzi.f64.f64', d.div(ad, cd));
    let r = d.fma(d.neg(q), cd, ad);
    // a finite, b infinite: a (the product above would be 0·inf).
    const binf = d.pred('eq', d.abs(cd), d.imm(Infinity));
    const afin = d.pred('lt', d.abs(ad), d.imm(Infinity));
    this.b.ins(`and.pred ${binf}, ${binf}, ${afin}`);
    r = d.select(binf, ad, r);
    // The sign of a, also for a zero remainder.
    r = d.copysign(ad, r);
    return this.f === 'f64' ? r : this.op('cvt.rn.f32.f64', r);
  }
}
