// Pointwise prims through the builder and the interpreter: IEEE specials (NaN, ±inf, -0), integer wrap
// at every width, integer division by zero (0 here), round half to even, f16/bf16 rounding of results,
// broadcasting, empty and rank-0 tensors. Expected values are hand-derived or computed offline with
// numpy 2.4 (float64 math, then one rounding to the result dtype) and pasted as literals.
import { describe, expect, it } from 'vitest';
import { A } from '../../src/ir/attr.js';
import { BINARY_PRIMS, UNARY_PRIMS } from '../../src/ir/prims/index.js';
import { T, errorCode, evalOp1, expectTensor, expectValues } from '../support/check.js';

const un = (op: string, x: ReturnType<typeof T>) => evalOp1(`prim.${op}`, [x]);
const bin = (op: string, a: ReturnType<typeof T>, b: ReturnType<typeof T>) => evalOp1(`prim.${op}`, [a, b]);

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

describe('the pointwise set', () => {
  it('is the one DESIGN.md names', () => {
    for (const op of ['neg', 'abs', 'exp', 'log', 'sqrt', 'recip', 'sin', 'cos', 'tanh', 'erf', 'floor', 'ceil', 'round', 'not', 'isnan']) {
      expect(UNARY_PRIMS).toContain(op);
    }
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'lt', 'eq', 'and', 'or', 'xor']) {
      expect(BINARY_PRIMS).toContain(op);
    }
  });
});

describe('unary prims', () => {
  it('neg and abs keep IEEE signs and wrap integer minimums', () => {
    expectValues(un('neg', T('f32', [6], [0, -0, 1.5, NaN, Infinity, -Infinity])), [-0, 0, -1.5, NaN, -Infinity, Infinity]);
    expectValues(un('abs', T('f32', [5], [-0, -2, NaN, -Infinity, 3])), [0, 2, NaN, Infinity, 3]);
    expectValues(un('neg', T('i8', [3], [-128, 127, 0])), [-128, -127, 0]);
    expectValues(un('neg', T('u8', [3], [0, 1, 255])), [0, 255, 1]);
    expectValues(un('neg', T('u32', [2], [1, 2 ** 31])), [2 ** 32 - 1, 2 ** 31]);
    expectValues(un('neg', T('i64', [2], [I64_MIN, 5n])), [I64_MIN, -5n]);
    expectValues(un('neg', T('u64', [2], [1n, 0n])), [U64_MAX, 0n]);
    expectValues(un('abs', T('i8', [2], [-128, -5])), [-128, 5]);
    expectValues(un('abs', T('i32', [2], [-(2 ** 31), -7])), [-(2 ** 31), 7]);
    expectValues(un('abs', T('i64', [2], [I64_MIN, -(2n ** 62n)])), [I64_MIN, 2n ** 62n]);
  });

  it('exp, log, sqrt and recip give the IEEE special values', () => {
    expectValues(un('exp', T('f32', [5], [-Infinity, Infinity, NaN, 0, 1])), [0, Infinity, NaN, 1, 2.7182817459106445]);
    expectValues(un('exp', T('f32', [1], [100])), [Infinity]); // overflows f32, not f64: rounds once to f32
    expectValues(un('log', T('f32', [6], [0, -0, -1, Infinity, 1, NaN])), [-Infinity, -Infinity, NaN, Infinity, 0, NaN]);
    expectValues(un('log', T('f32', [4], [0.5, 1, 2, 10])), [-0.6931471824645996, 0, 0.6931471824645996, 2.3025851249694824]);
    expectValues(un('sqrt', T('f32', [5], [-0, -1, 4, Infinity, 2])), [-0, NaN, 2, Infinity, Math.fround(Math.SQRT2)]);
    expectValues(un('recip', T('f32', [5], [0, -0, Infinity, -Infinity, 4])), [Infinity, -Infinity, 0, -0, 0.25]);
    expectValues(un('exp', T('f64', [1], [1])), [Math.E]);
  });

  it('sin, cos, tanh, atan and erf (numpy reference, rounded to f32)', () => {
    const z = T('f32', [5], [-2, -0.5, 0, 0.3, 1.7]);
    expectValues(un('tanh', z), [-0.9640275835990906, -0.46211716532707214, 0, 0.29131263494491577, 0.9354090690612793]);
    expectValues(un('erf', z), [-0.9953222870826721, -0.5204998850822449, 0, 0.3286267817020416, 0.9837904572486877]);
    expectValues(un('sin', z), [-0.9092974066734314, -0.4794255495071411, 0, 0.29552021622657776, 0.9916648268699646]);
    expectValues(un('cos', T('f32', [2], [0, Infinity])), [1, NaN]);
    expectValues(un('atan', T('f32', [3], [Infinity, -0, 1])), [Math.fround(Math.PI / 2), -0, Math.fround(Math.PI / 4)]);
    expectValues(un('erf', T('f64', [6], [-0, Infinity, -Infinity, NaN, 10, -4])), [-0, 1, -1, NaN, 1, -0.9999999845827421]);
    expectValues(un('tanh', T('f32', [3], [-0, Infinity, -Infinity])), [-0, 1, -1]);
  });

  it('floor, ceil and round (half to even) keep the sign of zero', () => {
    const x = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 2.5000002, -0, NaN, Infinity, -Infinity, 3.7, -3.7];
    expectValues(un('round', T('f32', [x.length], x)), [0, 2, 2, -0, -2, -2, 0, 3, -0, NaN, Infinity, -Infinity, 4, -4]);
    expectValues(un('floor', T('f32', [x.length], x)), [0, 1, 2, -1, -2, -3, 0, 2, -0, NaN, Infinity, -Infinity, 3, -4]);
    expectValues(un('ceil', T('f32', [x.length], x)), [1, 2, 3, -0, -1, -2, 1, 3, -0, NaN, Infinity, -Infinity, 4, -3]);
    // Past 2^52 every double is an integer; 0.49999999999999994 is the classic Math.round trap.
    expectValues(un('round', T('f64', [3], [2 ** 52 + 1, 0.49999999999999994, -(2 ** 53)])), [2 ** 52 + 1, 0, -(2 ** 53)]);
  });

  it('not is logical on bool and bitwise on integers; isnan gives bool', () => {
    expectValues(un('not', T('bool', [2], [true, false])), [0, 1]);
    expectValues(un('not', T('i8', [3], [0, -1, 5])), [-1, 0, -6]);
    expectValues(un('not', T('u8', [2], [0, 255])), [255, 0]);
    expectValues(un('not', T('u32', [1], [0])), [2 ** 32 - 1]);
    expectValues(un('not', T('i64', [1], [0n])), [-1n]);
    expectValues(un('not', T('u64', [2], [0n, U64_MAX])), [U64_MAX, 0n]);
    expectTensor(un('isnan', T('f16', [3], [NaN, 1, Infinity])), 'bool', [3], [1, 0, 0]);
  });

  it('rounds f16 and bf16 results once (numpy float64 math, then one rounding)', () => {
    const x = T('f16', [6], [0.1, 1, 2.5, -3.3, 10, 0.333]);
    expectValues(x, [0.0999755859375, 1, 2.5, -3.30078125, 10, 0.3330078125]);
    expectValues(un('exp', x), [1.10546875, 2.71875, 12.1796875, 0.036865234375, 22032, 1.3955078125]);
    expectValues(un('sqrt', un('abs', x)), [0.316162109375, 1, 1.5810546875, 1.81640625, 3.162109375, 0.5771484375]);
    expectValues(un('exp', T('f16', [1], [12])), [Infinity]); // e^12 > 65504
    // bf16 keeps 8 significant bits: 1 + 2^-7 is the next value after 1.
    const p = T('bf16', [3], [1 + 2 ** -4, 1 + 2 ** -4, 1 + 3 * 2 ** -7]);
    const q = T('bf16', [3], [1 + 2 ** -4, 1 + 2 ** -3, 1 + 2 ** -7]);
    expectValues(bin('mul', p, q), [1.125, 1.1953125, 1.03125]); // a tie to even, exact, and rounded down
    expectValues(un('exp', T('bf16', [1], [1])), [2.71875]);
  });

  it('works on empty and rank-0 tensors', () => {
    expectTensor(un('exp', T('f32', [0, 3], [])), 'f32', [0, 3], []);
    expectTensor(un('neg', T('i64', [], [3n])), 'i64', [], [-3n]);
    expectTensor(un('isnan', T('f32', [2, 0], [])), 'bool', [2, 0], []);
  });
});

describe('binary prims: integer wrap', () => {
  it('add and sub wrap at every width', () => {
    expectValues(bin('add', T('i8', [2], [127, -128]), T('i8', [2], [1, -1])), [-128, 127]);
    expectValues(bin('add', T('i16', [1], [32767]), T('i16', [1], [1])), [-32768]);
    expectValues(bin('add', T('i32', [2], [2 ** 31 - 1, -(2 ** 31)]), T('i32', [2], [1, -1])), [-(2 ** 31), 2 ** 31 - 1]);
    expectValues(bin('add', T('u8', [1], [255]), T('u8', [1], [1])), [0]);
    expectValues(bin('add', T('u16', [1], [65535]), T('u16', [1], [3])), [2]);
    expectValues(bin('add', T('u32', [1], [2 ** 32 - 1]), T('u32', [1], [2])), [1]);
    expectValues(bin('add', T('i64', [2], [I64_MAX, 2n ** 53n + 1n]), T('i64', [2], [1n, 2n])), [I64_MIN, 2n ** 53n + 3n]);
    expectValues(bin('add', T('u64', [1], [U64_MAX]), T('u64', [1], [1n])), [0n]);
    expectValues(bin('sub', T('u8', [1], [0]), T('u8', [1], [1])), [255]);
    expectValues(bin('sub', T('u32', [1], [0]), T('u32', [1], [1])), [2 ** 32 - 1]);
    expectValues(bin('sub', T('u64', [1], [0n]), T('u64', [1], [1n])), [U64_MAX]);
    expectValues(bin('sub', T('i64', [1], [I64_MIN]), T('i64', [1], [1n])), [I64_MAX]);
  });

  it('mul keeps the exact low bits', () => {
    expectValues(bin('mul', T('i32', [3], [65536, 2 ** 31 - 1, -(2 ** 31)]), T('i32', [3], [65536, 2, -1])), [0, -2, -(2 ** 31)]);
    expectValues(bin('mul', T('u32', [1], [2 ** 32 - 1]), T('u32', [1], [2 ** 32 - 1])), [1]);
    expectValues(bin('mul', T('i16', [1], [300]), T('i16', [1], [300])), [24464]);
    expectValues(bin('mul', T('u8', [1], [16]), T('u8', [1], [16])), [0]);
    expectValues(bin('mul', T('i64', [2], [3037000500n, 2n ** 62n]), T('i64', [2], [3037000500n, 4n])), [-9223372036709301616n, 0n]);
    expectValues(bin('mul', T('u64', [1], [2n ** 63n + 1n]), T('u64', [1], [2n])), [2n]);
  });

  it('div and mod truncate toward zero; by zero they give 0', () => {
    const a = [7, -7, 7, -7, 5, -(2 ** 31), 0];
    const b = [2, 2, -2, -2, 0, -1, 0];
    expectValues(bin('div', T('i32', [7], a), T('i32', [7], b)), [3, -3, -3, 3, 0, -(2 ** 31), 0]);
    expectValues(bin('mod', T('i32', [7], a), T('i32', [7], b)), [1, -1, 1, -1, 0, 0, 0]);
    expectValues(bin('div', T('i8', [3], [-128, -128, 100]), T('i8', [3], [-1, 0, 7])), [-128, 0, 14]);
    expectValues(bin('mod', T('i8', [2], [-128, -100]), T('i8', [2], [-1, 7])), [0, -2]);
    expectValues(bin('div', T('u8', [2], [200, 200]), T('u8', [2], [0, 7])), [0, 28]);
    expectValues(bin('div', T('u32', [2], [2 ** 32 - 1, 2 ** 32 - 1]), T('u32', [2], [2, 2 ** 32 - 2])), [2 ** 31 - 1, 1]);
    expectValues(bin('mod', T('u32', [1], [2 ** 32 - 1]), T('u32', [1], [10])), [5]);
    const a64 = [7n, -7n, 7n, -7n, 5n, I64_MIN, I64_MIN];
    const b64 = [2n, 2n, -2n, -2n, 0n, -1n, 3n];
    expectValues(bin('div', T('i64', [7], a64), T('i64', [7], b64)), [3n, -3n, -3n, 3n, 0n, I64_MIN, -3074457345618258602n]);
    expectValues(bin('mod', T('i64', [7], a64), T('i64', [7], b64)), [1n, -1n, 1n, -1n, 0n, 0n, -2n]);
    expectValues(bin('div', T('u64', [2], [U64_MAX, 9n]), T('u64', [2], [2n, 0n])), [2n ** 63n - 1n, 0n]);
    expectValues(bin('mod', T('u64', [2], [U64_MAX, 9n]), T('u64', [2], [10n, 0n])), [5n, 0n]);
  });

  it('pow on integers: exact wrap, negative exponents as 1/x^n truncated', () => {
    expectValues(
      bin('pow', T('i32', [10], [2, 3, 2, -2, 1, -1, -1, 0, 5, 2]), T('i32', [10], [10, 0, 31, 3, -5, -3, -4, 0, -1, 32])),
      [1024, 1, -(2 ** 31), -8, 1, -1, 1, 1, 0, 0],
    );
    expectValues(bin('pow', T('i8', [2], [2, -2]), T('i8', [2], [7, 7])), [-128, -128]);
    expectValues(bin('pow', T('u8', [2], [3, 2]), T('u8', [2], [5, 8])), [243, 0]);
    expectValues(bin('pow', T('u32', [1], [3]), T('u32', [1], [21])), [10460353203 % 2 ** 32]);
    expectValues(bin('pow', T('i64', [4], [3n, 2n, -1n, 7n]), T('i64', [4], [40n, -1n, -7n, 0n])), [-6289078614652622815n, 0n, -1n, 1n]);
    expectValues(bin('pow', T('u64', [2], [2n, 3n]), T('u64', [2], [64n, 2n])), [0n, 9n]);
  });
});

describe('binary prims: floats', () => {
  it('div and mod follow IEEE (mod is C fmod: the sign of a)', () => {
    expectValues(bin('div', T('f32', [5], [1, -1, 0, -0, 1]), T('f32', [5], [0, 0, 0, 1, -Infinity])), [Infinity, -Infinity, NaN, -0, -0]);
    expectValues(bin('mod', T('f32', [6], [5.5, -5.5, 1, Infinity, 1, -0]), T('f32', [6], [2, 2, 0, 2, Infinity, 1])), [1.5, -1.5, NaN, NaN, 1, -0]);
    expectValues(bin('mod', T('f64', [1], [-1e-300]), T('f64', [1], [3])), [-1e-300]);
  });

  it('pow follows C pow: 1^y and x^0 are 1 even for NaN', () => {
    expectValues(
      bin('pow', T('f32', [10], [2, 2, 1, -1, NaN, 0, -8, 4, 1, -0]), T('f32', [10], [10, -1, NaN, Infinity, 0, -1, 1 / 3, 0.5, -Infinity, -1])),
      [1024, 0.5, 1, 1, 1, Infinity, NaN, 2, 1, -Infinity],
    );
    expectValues(bin('pow', T('f16', [2], [2, 10]), T('f16', [2], [16, 5])), [Infinity, Infinity]); // 65536 and 1e5 overflow f16
  });

  it('add, sub and mul round once to the dtype', () => {
    expectValues(bin('add', T('f32', [2], [1, 1e8]), T('f32', [2], [2 ** -24, 1])), [1, 1e8]);
    expectValues(bin('add', T('f32', [3], [Infinity, Infinity, -0]), T('f32', [3], [-Infinity, 1, -0])), [NaN, Infinity, -0]);
    expectValues(bin('add', T('f32', [1], [-0]), T('f32', [1], [0])), [0]);
    expectValues(bin('mul', T('f32', [3], [0, -0, 3.4e38]), T('f32', [3], [Infinity, 5, 10])), [NaN, -0, Infinity]);
    expectValues(bin('sub', T('f64', [1], [0.3]), T('f64', [1], [0.1])), [0.3 - 0.1]);
  });

  it('f16 and bf16 results round to nearest even (numpy reference)', () => {
    const x = T('f16', [6], [0.1, 1, 2.5, -3.3, 10, 0.333]);
    const y = T('f16', [6], [3, 7, 0.1, 1.5, 3, 0.7]);
    expectValues(bin('div', x, y), [0.0333251953125, 0.142822265625, 25, -2.201171875, 3.333984375, 0.4755859375]);
    expectValues(bin('mul', x, y), [0.2998046875, 7, 0.25, -4.953125, 30, 0.233154296875]);
    expectValues(bin('add', x, y), [3.099609375, 8, 2.599609375, -1.80078125, 13, 1.033203125]);
    // Ties: 1 + 2^-11 is half an ulp above 1 (to 1, even); 65504 + 16 is half an ulp above the max (to inf).
    expectValues(bin('add', T('f16', [4], [1, 1, 65504, 65504]), T('f16', [4], [2 ** -11, 3 * 2 ** -11, 16, 15])), [1, 1 + 2 ** -9, Infinity, 65504]);
    // Subnormals: the smallest f16 is 2^-24; half of it is a tie to 0.
    expectValues(bin('mul', T('f16', [3], [2 ** -24, 2 ** -24, 2 ** -14]), T('f16', [3], [0.5, 0.75, -0.5])), [0, 2 ** -24, -(2 ** -15)]);
    expectValues(bin('add', T('bf16', [3], [1, 1, 256]), T('bf16', [3], [2 ** -8, 3 * 2 ** -8, 1])), [1, 1 + 2 ** -6, 256]);
  });

  it('max and min propagate NaN and order -0 below +0', () => {
    const a = T('f32', [5], [NaN, 1, -0, 0, -Infinity]);
    const b = T('f32', [5], [1, NaN, 0, -0, 3]);
    expectValues(bin('max', a, b), [NaN, NaN, 0, 0, 3]);
    expectValues(bin('min', a, b), [NaN, NaN, -0, -0, -Infinity]);
    expectValues(bin('max', T('u32', [2], [2 ** 32 - 1, 0]), T('u32', [2], [0, 1])), [2 ** 32 - 1, 1]);
    expectValues(bin('min', T('i64', [2], [I64_MIN, 5n]), T('i64', [2], [0n, 4n])), [I64_MIN, 4n]);
    expectValues(bin('max', T('u64', [1], [U64_MAX]), T('u64', [1], [1n])), [U64_MAX]);
    expectValues(bin('max', T('bool', [4], [0, 0, 1, 1]), T('bool', [4], [0, 1, 0, 1])), [0, 1, 1, 1]);
  });
});

describe('binary prims: comparisons and logic', () => {
  it('lt and eq give bool; NaN is unordered; -0 equals +0', () => {
    const a = T('f32', [5], [NaN, NaN, -0, 1, -Infinity]);
    const b = T('f32', [5], [NaN, 1, 0, 2, -Infinity]);
    expectTensor(bin('lt', a, b), 'bool', [5], [0, 0, 0, 1, 0]);
    expectTensor(bin('eq', a, b), 'bool', [5], [0, 0, 1, 0, 1]);
    expectValues(bin('lt', T('u64', [2], [2n ** 63n, 1n]), T('u64', [2], [1n, 2n ** 63n])), [0, 1]);
    expectValues(bin('lt', T('i64', [2], [I64_MIN, 2n ** 53n]), T('i64', [2], [0n, 2n ** 53n + 1n])), [1, 1]);
    expectValues(bin('eq', T('i64', [1], [2n ** 53n]), T('i64', [1], [2n ** 53n + 1n])), [0]);
    expectValues(bin('lt', T('u32', [1], [2 ** 31]), T('u32', [1], [1])), [0]);
    expectValues(bin('lt', T('bool', [2], [0, 1]), T('bool', [2], [1, 0])), [1, 0]);
    expectValues(bin('eq', T('bool', [2], [1, 0]), T('bool', [2], [1, 1])), [1, 0]);
  });

  it('and, or, xor are logical on bool and bitwise on integers', () => {
    const p = T('bool', [4], [0, 0, 1, 1]);
    const q = T('bool', [4], [0, 1, 0, 1]);
    expectTensor(bin('and', p, q), 'bool', [4], [0, 0, 0, 1]);
    expectTensor(bin('or', p, q), 'bool', [4], [0, 1, 1, 1]);
    expectTensor(bin('xor', p, q), 'bool', [4], [0, 1, 1, 0]);
    expectValues(bin('and', T('u8', [1], [0xf0]), T('u8', [1], [0x3c])), [0x30]);
    expectValues(bin('or', T('i8', [1], [-128]), T('i8', [1], [1])), [-127]);
    expectValues(bin('xor', T('u32', [1], [0xffffffff]), T('u32', [1], [0x0f0f0f0f])), [0xf0f0f0f0]);
    expectValues(bin('and', T('i64', [1], [-1n]), T('i64', [1], [2n ** 62n + 5n])), [2n ** 62n + 5n]);
    expectValues(bin('xor', T('u64', [1], [U64_MAX]), T('u64', [1], [1n])), [U64_MAX - 1n]);
  });
});

describe('broadcasting', () => {
  it('follows numpy: trailing dims align, 1 stretches', () => {
    const a = T('i32', [2, 1, 3], [0, 1, 2, 3, 4, 5]);
    const b = T('i32', [4, 1], [0, 10, 20, 30]);
    const r = bin('add', a, b);
    expectTensor(r, 'i32', [2, 4, 3], [
      0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32,
      3, 4, 5, 13, 14, 15, 23, 24, 25, 33, 34, 35,
    ]);
    expectTensor(bin('sub', T('f32', [], [10]), T('f32', [3], [1, 2, 3])), 'f32', [3], [9, 8, 7]);
    expectTensor(bin('sub', T('f32', [3], [1, 2, 3]), T('f32', [], [10])), 'f32', [3], [-9, -8, -7]);
    expectTensor(bin('mul', T('f32', [], [2]), T('f32', [], [-0])), 'f32', [], [-0]);
    expectTensor(bin('lt', T('i64', [2, 1], [1n, 5n]), T('i64', [1, 3], [0n, 2n, 9n])), 'bool', [2, 3], [0, 1, 1, 0, 0, 1]);
  });

  it('handles zero-size dims (0 broadcasts with 1, not with 3)', () => {
    expectTensor(bin('add', T('f32', [0, 3], []), T('f32', [1, 3], [1, 2, 3])), 'f32', [0, 3], []);
    expectTensor(bin('add', T('f32', [2, 0], []), T('f32', [], [1])), 'f32', [2, 0], []);
    expectTensor(bin('eq', T('f32', [1, 0], []), T('f32', [4, 1], [1, 2, 3, 4])), 'bool', [4, 0], []);
    expect(errorCode(() => bin('add', T('f32', [0], []), T('f32', [3], [1, 2, 3])))).toBe('E_TYPE');
  });

  it('broadcasts a bigger operand on the right too', () => {
    expectTensor(bin('max', T('f32', [3, 1, 1], [1, 5, 9]), T('f32', [1, 2, 2], [0, 6, 3, 10])), 'f32', [3, 2, 2], [1, 6, 3, 10, 5, 6, 5, 10, 9, 9, 9, 10]);
  });
});

describe('pointwise type inference', () => {
  it('rejects mixed dtypes, wrong dtype classes and shapes that do not broadcast (E_TYPE)', () => {
    expect(errorCode(() => bin('add', T('f32', [1], [1]), T('i32', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => bin('add', T('bool', [1], [1]), T('bool', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => bin('and', T('f32', [1], [1]), T('f32', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => bin('add', T('f32', [2, 3], [1, 2, 3, 4, 5, 6]), T('f32', [2], [1, 2])))).toBe('E_TYPE');
    expect(errorCode(() => un('exp', T('i32', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => un('not', T('f32', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => un('neg', T('bool', [1], [1])))).toBe('E_TYPE');
    expect(errorCode(() => un('isnan', T('i64', [1], [1n])))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.add', [T('f32', [1], [1])]))).toBe('E_TYPE'); // arity
    expect(errorCode(() => evalOp1('prim.neg', [T('f32', [1], [1])], { axis: A.int(0) }))).toBe('E_VERIFY'); // unknown attribute
  });
});
