// Pointwise ops and activations (ops/elementwise.ts, ops/activation.ts) where the conformance cases do
// not reach: accuracy of the composed functions over the whole f32 range (tiny, near 1, huge, ±inf,
// NaN) against double-precision references, f16 rounding, opset variants (legacy broadcast, Cast's
// string `to`, Clip's attributes, PRelu's per-channel slope, Dropout's mask), integer semantics
// (Python-style Mod, BitShift, Pow with mixed dtypes) on random data, symbolic dims, error codes, and
// ONNX Runtime as an oracle on edge values and random operands.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DTYPE_INFO, type DType } from '../../../src/ir/dtype.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { roundToDType } from '../../../src/ir/numeric.js';
import { erf } from '../../../src/ir/prims/math.js';
import { T, errorCode, expectTensor, expectValues } from '../../support/check.js';
import { init, input, lowerNode, ortNode, runNode, type AttrValue, type Operand } from '../../support/onnx-node.js';

const run = runNode;
const lowered = lowerNode;
const run1 = (op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[]): Tensor => run(op, opset, attrs, operands)[0]!;
const f32 = (values: number[]): Tensor => T('f32', [values.length], values);

// ---- accuracy of the composed functions ----

/** f32 inputs across the range: ±(tiny … huge), values near 1 and 2, and the specials. */
const SWEEP: number[] = (() => {
  const xs = new Set<number>();
  for (let e = -40; e <= 40; e += 0.25) {
    const v = Math.fround(10 ** e);
    xs.add(v);
    xs.add(-v);
  }
  for (let i = -64; i <= 64; i++) {
    for (const c of [1, 2]) xs.add(Math.fround(c + i * 2 ** -24));
    xs.add(Math.fround(-1 + i * 2 ** -24));
  }
  for (let i = -100; i <= 100; i++) xs.add(Math.fround(i / 7));
  [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38, -3.4028234663852886e38, 1e-45].forEach((v) => xs.add(v));
  return [...xs];
})();

const softplusRef = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Op, opset, attributes, the double-precision reference (infinite/NaN where it is), and for formulas
 * that cancel by design (1 + erf(x) for x ≪ 0, as ONNX Runtime computes Gelu) an absolute tolerance
 * (by default the smallest normal f32: subnormal intermediates lose relative precision). */
const ACCURACY: [string, number, Record<string, AttrValue>, (x: number) => number, number?][] = [
  ['Tan', 22, {}, Math.tan],
  ['Asin', 22, {}, Math.asin],
  ['Acos', 22, {}, Math.acos],
  ['Sinh', 22, {}, Math.sinh],
  ['Cosh', 22, {}, Math.cosh],
  ['Asinh', 22, {}, Math.asinh],
  ['Acosh', 22, {}, Math.acosh],
  ['Atanh', 22, {}, Math.atanh],
  ['Sigmoid', 13, {}, (x) => 1 / (1 + Math.exp(-x))],
  ['Softplus', 22, {}, softplusRef],
  ['Mish', 22, {}, (x) => x * Math.tanh(softplusRef(x))],
  ['Softsign', 22, {}, (x) => x / (1 + Math.abs(x))],
  ['Elu', 22, { alpha: { f: 2 } }, (x) => (x < 0 ? 2 * Math.expm1(x) : x)],
  ['Selu', 22, {}, (x) => 1.0507010221481323 * (x < 0 ? 1.6732631921768188 * Math.expm1(x) : x)],
  ['Celu', 22, { alpha: { f: 0.5 } }, (x) => Math.max(0, x) + Math.min(0, 0.5 * Math.expm1(x / 0.5))],
  ['Gelu', 20, { approximate: 'tanh' }, (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))), 1e-7],
  ['Gelu', 20, {}, (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), 1e-7],
];

/** Error in units of the f32 spacing at the reference (so a correctly rounded result is ≤ 0.5). */
function ulps(got: number, want: number): number {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  if (!Number.isFinite(want) || Math.abs(want) > 3.4028234663852886e38) return got === Math.fround(want) ? 0 : Infinity;
  const spacing = 2 ** Math.max(Math.floor(Math.log2(Math.abs(want) || 2 ** -149)) - 23, -149);
  return Math.abs(got - want) / spacing;
}

describe('composed unary functions', () => {
  it.each(ACCURACY)('%s (opset %i, %o) is within a few f32 ulps over the whole range', (op, opset, attrs, ref, atol = 2 ** -126) => {
    const y = run1(op, opset, attrs, [input(f32(SWEEP))]);
    const worst = SWEEP.map((x, i) => ({ x, got: y.num(i), want: ref(x), err: ulps(y.num(i), ref(x)) }))
      .filter((r) => !(Math.abs(r.got - r.want) <= atol))
      .sort((a, b) => b.err - a.err)[0];
    expect(worst === undefined || worst.err <= 3 ? 'ok' : worst).toBe('ok');
  });

  it('f16 formulas run in f32 and round once', () => {
    const xs = [-8, -1.5, -0.75, -0.001, 0, 0.0004, 0.6, 0.99, 1.7, 4, 9].map((v) => roundToDType('f16', v));
    const x = T('f16', [xs.length], xs);
    for (const [op, ref] of [['Asinh', Math.asinh], ['Sinh', Math.sinh], ['Softplus', softplusRef], ['Tan', Math.tan]] as const) {
      const y = run1(op, 22, {}, [input(x)]);
      expect(y.dtype).toBe('f16');
      y.toNumbers().forEach((v, i) => {
        const want = roundToDType('f16', ref(xs[i]!));
        expect(Math.abs(v - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -10);
      });
    }
  });
});

// ---- opset variants ----

describe('opset variants', () => {
  it('before opset 7, broadcast=1 aligns B at axis (Add, Less)', () => {
    const a = T('f32', [2, 3, 2], Array.from({ length: 12 }, (_, i) => i));
    const y = run1('Add', 6, { broadcast: 1, axis: 1 }, [input(a), input(f32([100, 200, 300]))]);
    expectTensor(y, 'f32', [2, 3, 2], [100, 101, 202, 203, 304, 305, 106, 107, 208, 209, 310, 311]);
    const lt = run1('Less', 1, { broadcast: 1, axis: 0 }, [input(a), input(f32([5, 5]))]);
    expectTensor(lt, 'bool', [2, 3, 2], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    // Without axis: suffix matching, which numpy broadcasting already does.
    expectValues(run1('Mul', 6, { broadcast: 1 }, [input(a), input(f32([1, -1]))]), [0, -1, 2, -3, 4, -5, 6, -7, 8, -9, 10, -11]);
  });

  it("Cast reads `to` as a type name before opset 6 and as a number after; complex targets are unsupported", () => {
    const x = f32([1.7, -2.5, 300]);
    expectTensor(run1('Cast', 1, { to: 'INT32' }, [input(x)]), 'i32', [3], [1, -2, 300]);
    expectTensor(run1('Cast', 13, { to: 3 }, [input(x)]), 'i8', [3], [1, -2, 44]);
    expectTensor(run1('Cast', 19, { to: 10, saturate: 0 }, [input(f32([65520, 1 / 3]))]), 'f16', [2], [Infinity, roundToDType('f16', 1 / 3)]);
    expect(errorCode(() => lowered('Cast', 19, { to: 14 }, [input(x)]))).toBe('E_UNSUPPORTED'); // complex64
    expect(errorCode(() => lowered('Cast', 1, { to: 'NOT_A_TYPE' }, [input(x)]))).toBe('E_TYPE');
  });

  it('CastLike takes the dtype of its second operand; BitCast reinterprets bits', () => {
    expectTensor(run1('CastLike', 15, {}, [input(f32([2.9, -1])), input(T('i64', [0], []))]), 'i64', [2], [2n, -1n]);
    expectTensor(run1('BitCast', 26, { to: 6 }, [input(f32([1, -2]))]), 'i32', [2], [0x3f800000, -0x40000000]);
  });

  it('Clip: attributes before opset 11, optional operands after; min > max gives max', () => {
    const x = f32([-3, -0.5, 0.5, 3, NaN]);
    // An omitted bound is the lowest/largest finite value of the dtype, so infinities clamp to it.
    const max = 3.4028234663852886e38;
    expectValues(run1('Clip', 13, {}, [input(f32([-Infinity, Infinity]))]), [-max, max]);
    expectValues(run1('Clip', 6, { min: { f: 0 } }, [input(f32([-Infinity, Infinity]))]), [0, max]);
    expectValues(run1('Clip', 6, { min: { f: -1 }, max: { f: 1 } }, [input(x)]), [-1, -0.5, 0.5, 1, NaN]);
    expectValues(run1('Clip', 6, { max: { f: 0 } }, [input(x)]), [-3, -0.5, 0, 0, NaN]);
    expectValues(run1('Clip', 13, {}, [input(x), null, init(T('f32', [], [0]))]), [-3, -0.5, 0, 0, NaN]);
    expectValues(run1('Clip', 13, {}, [input(x), init(T('f32', [], [2])), init(T('f32', [], [1]))]), [1, 1, 1, 1, NaN]);
    expectValues(run1('Clip', 13, {}, [input(T('i8', [4], [-128, -5, 5, 127])), init(T('i8', [], [-10])), init(T('i8', [], [10]))]), [-10, -5, 5, 10]);
  });

  it('PRelu: per-channel 1-D slope before opset 7, numpy broadcasting after, and never past X', () => {
    const x = T('f32', [1, 2, 2], [-1, -2, -3, 4]);
    const slope = T('f32', [2], [10, 100]);
    expectValues(run1('PRelu', 6, {}, [input(x), init(slope)]), [-10, -20, -300, 4]);
    expectValues(run1('PRelu', 9, {}, [input(x), init(slope)]), [-10, -200, -30, 4]);
    expect(errorCode(() => lowered('PRelu', 16, {}, [input(f32([-1])), init(slope)]))).toBe('E_TYPE');
  });

  it('Dropout is the identity at inference; its mask is all true (x-typed ones before opset 10)', () => {
    const x = T('f32', [2, 2], [1, -2, 3, NaN]);
    const [y, mask] = run('Dropout', 13, {}, [input(x, ['n', 2])], 2);
    expectValues(y!, [1, -2, 3, NaN]);
    expectTensor(mask!, 'bool', [2, 2], [1, 1, 1, 1]);
    expectTensor(run('Dropout', 7, { ratio: { f: 0.3 } }, [input(x)], 2)[1]!, 'f32', [2, 2], [1, 1, 1, 1]);
    expectTensor(run('Dropout', 10, { ratio: { f: 0.3 } }, [input(x)], 2)[1]!, 'bool', [2, 2], [1, 1, 1, 1]);
  });

  it('Dropout in training mode: ratio 0 is the identity, ratio > 0 or an unknown mode is unsupported', () => {
    const x = f32([1, 2]);
    const on = init(T('bool', [], [true]));
    expectValues(run('Dropout', 22, {}, [input(x), init(T('f32', [], [0])), on], 2)[1]!, [1, 1]);
    expect(errorCode(() => lowered('Dropout', 22, {}, [input(x), init(T('f32', [], [0.5])), on]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowered('Dropout', 22, {}, [input(x), null, on]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowered('Dropout', 22, {}, [input(x), init(T('f32', [], [0.5])), input(T('bool', [], [true]))]))).toBe('E_UNSUPPORTED');
    expectValues(run1('Dropout', 22, {}, [input(x), init(T('f32', [], [0.5])), init(T('bool', [], [false]))]), [1, 2]);
  });
});

// ---- detection, comparison, selection ----

describe('predicates', () => {
  const x = f32([-Infinity, -1, -0, 0, 2, Infinity, NaN]);

  it('IsInf honours detect_positive / detect_negative, even on symbolic shapes', () => {
    expectValues(run1('IsInf', 20, {}, [input(x)]), [1, 0, 0, 0, 0, 1, 0]);
    expectValues(run1('IsInf', 20, { detect_negative: 0 }, [input(x)]), [0, 0, 0, 0, 0, 1, 0]);
    expectValues(run1('IsInf', 20, { detect_positive: 0 }, [input(x)]), [1, 0, 0, 0, 0, 0, 0]);
    expectTensor(run1('IsInf', 20, { detect_positive: 0, detect_negative: 0 }, [input(x, ['n'])]), 'bool', [7], [0, 0, 0, 0, 0, 0, 0]);
  });

  it('Sign: NaN stays NaN; integers, signed and unsigned', () => {
    expectValues(run1('Sign', 13, {}, [input(x)]), [-1, -1, -0, 0, 1, 1, NaN]);
    expectValues(run1('Sign', 13, {}, [input(T('i8', [3], [-128, 0, 127]))]), [-1, 0, 1]);
    expectValues(run1('Sign', 13, {}, [input(T('u8', [3], [0, 1, 255]))]), [0, 1, 1]);
    expectValues(run1('Sign', 13, {}, [input(T('i64', [2], [-(2n ** 62n), 5n]))]), [-1n, 1n]);
  });

  it('LessOrEqual / GreaterOrEqual are false on NaN', () => {
    const y = f32([0, 0, 0, 0, 2, Infinity, 0]);
    expectValues(run1('LessOrEqual', 16, {}, [input(x), input(y)]), [1, 1, 1, 1, 1, 1, 0]);
    expectValues(run1('GreaterOrEqual', 16, {}, [input(x), input(y)]), [0, 0, 1, 1, 1, 1, 0]);
  });

  it('Max / Min / Sum / Mean fold over any number of broadcasting operands; NaN propagates', () => {
    const a = f32([1, NaN, 3]);
    const b = T('f32', [2, 1], [2, -2]);
    const c = T('f32', [], [0]);
    expectTensor(run1('Max', 13, {}, [input(a), input(b), input(c)]), 'f32', [2, 3], [2, NaN, 3, 1, NaN, 3]);
    expectTensor(run1('Min', 13, {}, [input(a), input(b), input(c)]), 'f32', [2, 3], [0, NaN, 0, -2, NaN, -2]);
    expectTensor(run1('Sum', 13, {}, [input(a), input(b), input(c)]), 'f32', [2, 3], [3, NaN, 5, -1, NaN, 1]);
    expectTensor(run1('Mean', 13, {}, [input(a), input(b)]), 'f32', [2, 3], [1.5, NaN, 2.5, -0.5, NaN, 0.5]);
    expectValues(run1('Max', 13, {}, [input(T('u64', [2], [2n ** 63n, 1n])), input(T('u64', [2], [1n, 2n ** 64n - 1n]))]), [2n ** 63n, 2n ** 64n - 1n]);
  });

  it('Shrink on integers compares with the thresholds rounded inward', () => {
    expectValues(run1('Shrink', 9, { lambd: { f: 1.5 }, bias: { f: 1 } }, [input(T('i32', [5], [-3, -2, -1, 1, 2]))]), [-2, -1, 0, 0, 1]);
    expectValues(run1('Shrink', 9, { lambd: { f: 1.5 }, bias: { f: 1 } }, [input(T('u8', [3], [0, 1, 200]))]), [0, 0, 199]);
    expectValues(run1('Shrink', 9, { lambd: { f: 1.5 }, bias: { f: 0.25 } }, [input(f32([-2, -1.5, 1.5, 2]))]), [-1.75, 0, 0, 1.75]);
  });
});

// ---- integer semantics ----

const i32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const nonZeroI32 = i32.filter((v) => v !== 0);

describe('integer arithmetic', () => {
  test.prop([fc.array(fc.tuple(i32, nonZeroI32), { minLength: 1, maxLength: 20 })], { numRuns: 25 })('Mod fmod=0 is Python % and fmod=1 is C %, exactly', (pairs) => {
    const a = T('i32', [pairs.length], pairs.map((p) => p[0]));
    const b = T('i32', [pairs.length], pairs.map((p) => p[1]));
    const py = pairs.map(([x, y]) => {
      const r = x % y;
      return r !== 0 && (r < 0) !== (y < 0) ? r + y : r + 0; // + 0: no -0 in integers
    });
    expectValues(run1('Mod', 13, {}, [input(a), input(b)]), py);
    expectValues(run1('Mod', 13, { fmod: 1 }, [input(a), input(b)]), pairs.map(([x, y]) => x % y || 0));
    const big = run1('Mod', 13, {}, [input(T('i64', [pairs.length], pairs.map((p) => BigInt(p[0])))), input(T('i64', [pairs.length], pairs.map((p) => BigInt(p[1]))))]);
    expectValues(big, py.map(BigInt));
  });

  it('Mod on floats (fmod=1) keeps the sign of the dividend', () => {
    expectValues(run1('Mod', 13, { fmod: 1 }, [input(f32([-4.5, 4.5, -4.5, 4.5])), input(f32([2, -2, -2, 2]))]), [-0.5, 0.5, -0.5, 0.5]);
  });

  test.prop([fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 70 })), { minLength: 1, maxLength: 20 }), fc.constantFrom<DType>('u8', 'u16', 'u32', 'u64')], { numRuns: 25 })(
    'BitShift equals shifting with wrap-around (0 past the width)', (pairs, dtype) => {
      const bits = BigInt(DTYPE_INFO[dtype].bytes * 8);
      const vals = pairs.map(([v, s]) => [BigInt.asUintN(Number(bits), v), BigInt(s) % (bits + 2n)] as const);
      const big = DTYPE_INFO[dtype].big;
      const tensor = (xs: bigint[]): Tensor => T(dtype, [xs.length], big ? xs : xs.map(Number));
      const x = tensor(vals.map((p) => p[0]));
      const s = tensor(vals.map((p) => p[1]));
      const out = (xs: bigint[]): (number | bigint)[] => (big ? xs : xs.map(Number));
      expectValues(run1('BitShift', 11, { direction: 'LEFT' }, [input(x), input(s)]), out(vals.map(([v, k]) => (k >= bits ? 0n : BigInt.asUintN(Number(bits), v << k)))));
      expectValues(run1('BitShift', 11, { direction: 'RIGHT' }, [input(x), input(s)]), out(vals.map(([v, k]) => (k >= bits ? 0n : v >> k))));
    });

  it('BitShift needs unsigned operands and a direction', () => {
    const x = T('i32', [1], [1]);
    expect(errorCode(() => lowered('BitShift', 11, { direction: 'LEFT' }, [input(x), input(x)]))).toBe('E_TYPE');
    const u = T('u8', [1], [1]);
    expect(errorCode(() => lowered('BitShift', 11, { direction: 'UP' }, [input(u), input(u)]))).toBe('E_TYPE');
  });

  it('Pow with an exponent of another dtype computes as numpy promotes, then casts to the base dtype', () => {
    expectTensor(run1('Pow', 15, {}, [input(f32([2, -2, 9])), input(T('i64', [3], [3n, 3n, -1n]))]), 'f32', [3], [8, -8, Math.fround(1 / 9)]);
    expectTensor(run1('Pow', 15, {}, [input(T('i32', [3], [2, 9, -8])), input(f32([0.5, 0.5, 1 / 3]))]), 'i32', [3], [1, 3, 0]);
    expectTensor(run1('Pow', 15, {}, [input(T('i64', [2], [3n, 2n])), input(T('i32', [2], [40, 62]))]), 'i64', [2], [BigInt.asIntN(64, 3n ** 40n), 2n ** 62n]); // wraps like int64
    // An f16 base with an f32 exponent: the exponent keeps its precision (computed in f32, rounded once).
    const y = run1('Pow', 15, {}, [input(T('f16', [1], [1000])), input(f32([0.1]))]);
    expectTensor(y, 'f16', [1], [roundToDType('f16', 1000 ** Math.fround(0.1))]);
  });

  it('BitwiseNot / BitwiseAnd / Xor / Not work bitwise on integers and logically on bools', () => {
    expectValues(run1('BitwiseNot', 18, {}, [input(T('u8', [2], [0, 0xf0]))]), [255, 0x0f]);
    expectValues(run1('BitwiseNot', 18, {}, [input(T('u64', [1], [0n]))]), [2n ** 64n - 1n]);
    expectValues(run1('BitwiseAnd', 18, {}, [input(T('i16', [2], [-1, 0x0ff0])), input(T('i16', [2], [0x1234, 0x00ff]))]), [0x1234, 0x00f0]);
    expectValues(run1('Xor', 7, {}, [input(T('bool', [4], [0, 0, 1, 1])), input(T('bool', [4], [0, 1, 0, 1]))]), [0, 1, 1, 0]);
    expectValues(run1('Not', 1, {}, [input(T('bool', [2], [0, 1]))]), [1, 0]);
  });
});

describe('errors', () => {
  it('Gelu rejects an unknown approximation; float-only ops reject integers', () => {
    expect(errorCode(() => lowered('Gelu', 20, { approximate: 'erf' }, [input(f32([1]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowered('Asinh', 22, {}, [input(T('i32', [1], [1]))]))).toBe('E_TYPE');
  });
});

// ---- ONNX Runtime as the oracle ----

/** f32 values that find edge cases: signed zeros, tiny, near ±1, large, the infinities and NaN. */
const EDGE = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 3e-4, -3e-4, 0.5, -0.5, 0.999, -0.999, 1, -1, 1.001, 2, -2, 3.7, -3.7,
  20, -20, 88, -88, 100, -100, 1e30, -1e30, Infinity, -Infinity, NaN].map(Math.fround);

/** Same dtype and shape; elements within rtol (NaN matches NaN, infinities exactly). */
function expectClose(got: Tensor, want: Tensor, rtol: number, atol = 0): void {
  expect(`${got.dtype}[${got.shape.join(',')}]`).toBe(`${want.dtype}[${want.shape.join(',')}]`);
  const bad: string[] = [];
  for (let i = 0; i < got.size; i++) {
    const g = Number(got.data[i]);
    const w = Number(want.data[i]);
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  expect(bad).toEqual([]);
}

/** Unary float ops against ONNX Runtime on EDGE (opset, attributes). ORT's own formulas are less
 * accurate in places (e^x − 1 cancels in Elu/Selu/Celu, its sigmoid flushes below −18, its tanh
 * approximation), so the tolerance is ORT's error there: rtol 1e-4, atol 3e-7. */
const ORT_UNARY: [string, number, Record<string, AttrValue>][] = [
  ['Abs', 13, {}], ['Neg', 13, {}], ['Exp', 13, {}], ['Log', 13, {}], ['Sqrt', 13, {}], ['Reciprocal', 13, {}],
  ['Sin', 7, {}], ['Cos', 7, {}], ['Tan', 7, {}], ['Asin', 7, {}], ['Acos', 7, {}], ['Atan', 7, {}],
  ['Sinh', 9, {}], ['Cosh', 9, {}], ['Asinh', 9, {}], ['Acosh', 9, {}], ['Atanh', 9, {}], ['Tanh', 13, {}], ['Erf', 13, {}],
  ['Floor', 13, {}], ['Ceil', 13, {}], ['Round', 11, {}], ['Sign', 13, {}], ['IsNaN', 20, {}], ['IsInf', 20, {}],
  ['Relu', 14, {}], ['LeakyRelu', 16, { alpha: { f: 0.1 } }], ['Elu', 6, { alpha: { f: 2 } }], ['Selu', 6, {}], ['Celu', 12, { alpha: { f: 0.5 } }],
  ['Sigmoid', 13, {}], ['HardSigmoid', 6, {}], ['HardSwish', 14, {}], ['Softplus', 1, {}], ['Softsign', 1, {}],
  ['ThresholdedRelu', 10, { alpha: { f: 0.9 } }], ['Gelu', 20, {}], ['Gelu', 20, { approximate: 'tanh' }], ['Mish', 18, {}],
  ['Shrink', 9, { lambd: { f: 1.5 }, bias: { f: 0.5 } }], ['Clip', 13, {}], ['Clip', 6, { min: { f: -2 } }],
];

/** A deterministic pseudo-random stream (xorshift32). */
function stream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** n values of a dtype: integers in [lo, hi], or floats in [lo, hi] (every fourth a small integer). */
function values(dtype: DType, n: number, lo: number, hi: number, seed: number): Tensor {
  const r = stream(seed);
  const xs = Array.from({ length: n }, (_, i) => {
    const v = DTYPE_INFO[dtype].kind === 'float' && i % 4 !== 0 ? lo + (hi - lo) * r() : Math.floor(lo + (hi - lo + 1) * r());
    return dtype === 'bool' ? v > 0 : DTYPE_INFO[dtype].big ? BigInt(v) : v;
  });
  return T(dtype, [n], xs);
}

/** Binary and n-ary ops against ONNX Runtime on random operands (op, opset, attributes, operands). */
const ORT_NARY: [string, string, number, Record<string, AttrValue>, Tensor[]][] = [
  ['f32 ^ f32', 'Pow', 15, {}, [values('f32', 24, -4, 4, 1), values('f32', 24, -3, 3, 2)]],
  ['f32 ^ i32', 'Pow', 15, {}, [values('f32', 24, -4, 4, 3), values('i32', 24, -3, 5, 4)]],
  ['f32 ^ i64', 'Pow', 15, {}, [values('f32', 24, -4, 4, 5), values('i64', 24, -3, 5, 6)]],
  ['i32 ^ f32', 'Pow', 15, {}, [values('i32', 24, 0, 9, 7), values('f32', 24, 0, 3, 8)]],
  ['i64 ^ f32', 'Pow', 15, {}, [values('i64', 24, 0, 9, 9), values('f32', 24, 0, 3, 10)]],
  ['i64 ^ i64', 'Pow', 15, {}, [values('i64', 24, -9, 9, 11), values('i64', 24, 0, 12, 12)]],
  ['f64 ^ f32', 'Pow', 15, {}, [values('f64', 24, 0, 9, 13), values('f32', 24, -2, 2, 14)]],
  ['i32 % i32', 'Mod', 13, {}, [values('i32', 24, -50, 50, 15), values('i32', 24, 1, 9, 16).toNumbers().map((v, i) => (i % 2 ? -v : v))].map((t) => (t instanceof Tensor ? t : T('i32', [24], t)))],
  ['i64 fmod i64', 'Mod', 13, { fmod: 1 }, [values('i64', 24, -50, 50, 17), T('i64', [24], values('i64', 24, 1, 9, 18).toNumbers().map((v, i) => BigInt(i % 2 ? -v : v)))]],
  ['u8 % u8', 'Mod', 13, {}, [values('u8', 24, 0, 255, 19), values('u8', 24, 1, 255, 20)]],
  ['f32 fmod f32', 'Mod', 13, { fmod: 1 }, [values('f32', 24, -50, 50, 21), values('f32', 24, -9, 9, 22)]],
  ['u32 << u32', 'BitShift', 11, { direction: 'LEFT' }, [values('u32', 24, 0, 2 ** 32 - 1, 23), values('u32', 24, 0, 31, 24)]],
  ['u8 >> u8', 'BitShift', 11, { direction: 'RIGHT' }, [values('u8', 24, 0, 255, 25), values('u8', 24, 0, 7, 26)]],
  ['u64 << u64', 'BitShift', 11, { direction: 'LEFT' }, [values('u64', 24, 0, 2 ** 40, 27), values('u64', 24, 0, 63, 28)]],
  ['i32 / i32', 'Div', 14, {}, [values('i32', 24, -100, 100, 29), values('i32', 24, 1, 9, 30)]],
  ['i8 * i8 (wraps)', 'Mul', 14, {}, [values('i8', 24, -128, 127, 31), values('i8', 24, -128, 127, 32)]],
  ['f32 max (NaN)', 'Max', 13, {}, [f32(EDGE), f32(EDGE.map((v) => -v).reverse())]],
  ['f32 min (NaN)', 'Min', 13, {}, [f32(EDGE), f32(EDGE.map((v) => -v).reverse())]],
  ['i64 max', 'Max', 13, {}, [values('i64', 24, -99, 99, 33), values('i64', 24, -99, 99, 34), values('i64', 24, -99, 99, 35)]],
  ['f32 sum', 'Sum', 13, {}, [values('f32', 24, -9, 9, 36), values('f32', 24, -9, 9, 37), values('f32', 24, -9, 9, 38)]],
  ['f32 mean', 'Mean', 13, {}, [values('f32', 24, -9, 9, 39), values('f32', 24, -9, 9, 40)]],
  ['f32 <=', 'LessOrEqual', 16, {}, [f32(EDGE), f32(EDGE.map((v) => -v).reverse())]],
  ['f32 >=', 'GreaterOrEqual', 16, {}, [f32(EDGE), f32(EDGE.map((v) => -v).reverse())]],
  ['f32 ==', 'Equal', 13, {}, [f32(EDGE), f32(EDGE.map((v) => -v).reverse())]],
  ['i32 >', 'Greater', 13, {}, [values('i32', 24, -3, 3, 41), values('i32', 24, -3, 3, 42)]],
  ['bool xor', 'Xor', 7, {}, [values('bool', 24, -1, 1, 43), values('bool', 24, -1, 1, 44)]],
  ['i32 bitwise or', 'BitwiseOr', 18, {}, [values('i32', 24, -(2 ** 31), 2 ** 31 - 1, 45), values('i32', 24, -(2 ** 31), 2 ** 31 - 1, 46)]],
  ['u16 bitwise not', 'BitwiseNot', 18, {}, [values('u16', 24, 0, 65535, 47)]],
  ['where', 'Where', 16, {}, [values('bool', 24, -1, 1, 48), values('f32', 24, -9, 9, 49), values('f32', 24, -9, 9, 50)]],
  ['i32 clip', 'Clip', 13, {}, [values('i32', 24, -20, 20, 51), T('i32', [], [-5]), T('i32', [], [7])]],
  ['i8 sign', 'Sign', 13, {}, [values('i8', 24, -128, 127, 52)]],
  ['i64 abs', 'Abs', 13, {}, [values('i64', 24, -99, 99, 53)]],
];

describe('against ONNX Runtime', () => {
  it.each(ORT_UNARY)('%s (opset %i, %o) on edge values', async (op, opset, attrs) => {
    // ORT's erf gives 1 for NaN; ours keeps NaN.
    const x = [input(f32(op === 'Erf' ? EDGE.filter((v) => !Number.isNaN(v)) : EDGE))];
    expectClose(run1(op, opset, attrs, x), (await ortNode(op, opset, attrs, x))[0]!, 1e-4, 3e-7);
  });

  it.each(ORT_NARY)('%s', async (_name, op, opset, attrs, operands) => {
    const xs = operands.map((t) => input(t));
    expectClose(run1(op, opset, attrs, xs), (await ortNode(op, opset, attrs, xs))[0]!, 1e-6);
  });

  it.each(['f64', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool'] as DType[])('Cast f32 → %s and back', async (to) => {
    const lo = to === 'bool' || DTYPE_INFO[to].kind === 'uint' ? 0 : -100;
    const x = [input(values('f32', 24, lo, 100, 54))];
    const y = run1('Cast', 13, { to: DTYPE_INFO[to].onnx }, x);
    expectClose(y, (await ortNode('Cast', 13, { to: DTYPE_INFO[to].onnx }, x))[0]!, 0);
    const back = [input(y)];
    expectClose(run1('Cast', 13, { to: 1 }, back), (await ortNode('Cast', 13, { to: 1 }, back))[0]!, 0);
  });
});
