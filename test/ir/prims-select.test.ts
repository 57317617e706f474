// where, cast and bitcast. The cast matrix pins the conversions numpy leaves undefined (float to int out
// of range wraps after truncation, NaN and ±inf become 0) and the ones it defines (round to nearest even,
// including the f64 → f16 and i64 → f32 paths, where rounding twice would be wrong).
import { describe, expect, it } from 'vitest';
import { A } from '../../src/ir/attr.js';
import type { DType } from '../../src/ir/dtype.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { T, errorCode, evalOp1, expectTensor, expectValues } from '../support/check.js';

const cast = (x: Tensor, to: DType): Tensor => evalOp1('prim.cast', [x], { to: A.dtype(to) });
const bitcast = (x: Tensor, to: DType): Tensor => evalOp1('prim.bitcast', [x], { to: A.dtype(to) });
const where = (c: Tensor, a: Tensor, b: Tensor): Tensor => evalOp1('prim.where', [c, a, b]);

const I64_MIN = -(2n ** 63n);
const U64_MAX = 2n ** 64n - 1n;

describe('prim.where', () => {
  it('selects with numpy broadcasting over all three operands', () => {
    const r = where(T('bool', [2, 1], [1, 0]), T('f32', [1, 3], [1, 2, 3]), T('f32', [], [0]));
    expectTensor(r, 'f32', [2, 3], [1, 2, 3, 0, 0, 0]);
    expectTensor(where(T('bool', [], [1]), T('i32', [2], [1, 2]), T('i32', [2, 1], [7, 8])), 'i32', [2, 2], [1, 2, 1, 2]);
  });

  it('passes values through untouched: NaN, -0, int64 extremes, bools', () => {
    expectValues(where(T('bool', [3], [1, 0, 1]), T('f32', [3], [-0, 1, Infinity]), T('f32', [3], [NaN, NaN, 0])), [-0, NaN, Infinity]);
    expectValues(where(T('bool', [2], [0, 1]), T('i64', [2], [1n, I64_MIN]), T('i64', [2], [I64_MIN, 2n])), [I64_MIN, I64_MIN]);
    expectValues(where(T('bool', [2], [0, 1]), T('u64', [2], [0n, U64_MAX]), T('u64', [2], [U64_MAX, 0n])), [U64_MAX, U64_MAX]);
    expectValues(where(T('bool', [2], [0, 1]), T('bool', [2], [1, 1]), T('bool', [2], [0, 0])), [0, 1]);
    expectValues(where(T('bool', [1], [1]), T('f16', [1], [65504]), T('f16', [1], [0])), [65504]);
  });

  it('handles empty and rank-0 operands', () => {
    expectTensor(where(T('bool', [0], []), T('f32', [1], [1]), T('f32', [], [2])), 'f32', [0], []);
    expectTensor(where(T('bool', [], [0]), T('f32', [], [1]), T('f32', [], [2])), 'f32', [], [2]);
  });

  it('needs a bool condition and one dtype for both branches (E_TYPE)', () => {
    expect(errorCode(() => where(T('i32', [1], [1]), T('f32', [1], [1]), T('f32', [1], [2])))).toBe('E_TYPE');
    expect(errorCode(() => where(T('bool', [1], [1]), T('f32', [1], [1]), T('f64', [1], [2])))).toBe('E_TYPE');
    expect(errorCode(() => where(T('bool', [2], [1, 0]), T('f32', [3], [1, 2, 3]), T('f32', [1], [2])))).toBe('E_TYPE');
  });
});

describe('prim.cast: float to integer truncates toward zero, then wraps; NaN and ±inf give 0', () => {
  it('to i32, i8, u8', () => {
    const x = [1.9, -1.9, 0.5, -0.5, NaN, Infinity, -Infinity, 2 ** 31, 3e9, -0];
    expectValues(cast(T('f32', [x.length], x), 'i32'), [1, -1, 0, 0, 0, 0, 0, -(2 ** 31), -1294967296, 0]);
    expectValues(cast(T('f32', [4], [127.9, 128, -129, 200]), 'i8'), [127, -128, 127, -56]);
    expectValues(cast(T('f32', [5], [255.9, 256, -1, 300.5, -0.9]), 'u8'), [255, 0, 255, 44, 0]);
    expectValues(cast(T('f64', [2], [2 ** 53 + 2, -(2 ** 60) - 2 ** 10]), 'u16'), [2, 64512]);
    expectValues(cast(T('f16', [3], [65504, -2.5, 0.75]), 'i16'), [-32, -2, 0]);
  });

  it('to i64 and u64, past 2^53 exactly', () => {
    expectValues(cast(T('f32', [6], [1e10, -2.5, NaN, 2 ** 63, 1e19, -Infinity]), 'i64'), [10000000000n, -2n, 0n, I64_MIN, -8446744093203103744n, 0n]);
    expectValues(cast(T('f64', [3], [-1, 1.5, 2 ** 64 + 2 ** 12]), 'u64'), [U64_MAX, 1n, 4096n]);
    expectValues(cast(T('f64', [1], [2 ** 53 + 2]), 'i64'), [2n ** 53n + 2n]);
  });
});

describe('prim.cast: to floats, rounding once to nearest even', () => {
  it('f32 and f64 to f16 (numpy reference), no double rounding from f64', () => {
    const x = [65504, 65519.99, 65520, 1e-8, 6e-8, 0.1, -0, NaN, 3e-8, 2.9802322e-8];
    expectValues(cast(T('f32', [x.length], x), 'f16'), [65504, 65504, Infinity, 0, 5.960464477539063e-8, 0.0999755859375, -0, NaN, 5.960464477539063e-8, 0]);
    // 1 + 2^-11 + 2^-40 is just above the tie between 1 and 1 + 2^-10; through f32 it would become the tie itself.
    expectValues(cast(T('f64', [3], [1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -11, -(1 + 2 ** -11 + 2 ** -40)]), 'f16'), [1 + 2 ** -10, 1, -(1 + 2 ** -10)]);
  });

  it('f32 and f64 to bf16', () => {
    expectValues(cast(T('f32', [6], [1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, 3.3e38, NaN, -0]), 'bf16'), [1, 1 + 2 ** -6, Infinity, 3.2964854295465914e38, NaN, -0]);
    expectValues(cast(T('f64', [2], [1 + 2 ** -8 + 2 ** -40, 1e39]), 'bf16'), [1 + 2 ** -7, Infinity]);
  });

  it('f64 to f32 and back', () => {
    expectValues(cast(T('f64', [4], [0.1, 1e40, -1e-50, NaN]), 'f32'), [Math.fround(0.1), Infinity, -0, NaN]);
    expectValues(cast(T('f32', [2], [0.1, -0]), 'f64'), [Math.fround(0.1), -0]);
    expectValues(cast(T('f16', [2], [0.1, -Infinity]), 'f32'), [0.0999755859375, -Infinity]);
    expectValues(cast(T('bf16', [2], [1 + 2 ** -7, 3e38]), 'f16'), [1 + 2 ** -7, Infinity]);
  });

  it('integers to floats: i32 to f32, and 64-bit ints to f32/f16 without double rounding', () => {
    expectValues(cast(T('i32', [3], [16777217, 16777219, -(2 ** 31)]), 'f32'), [16777216, 16777220, -(2 ** 31)]);
    const big = [2n ** 60n + 2n ** 36n + 1n, 2n ** 60n + 2n ** 36n, -(2n ** 60n + 2n ** 36n + 1n), 2n ** 63n - 1n];
    expectValues(cast(T('i64', [4], big), 'f32'), [2 ** 60 + 2 ** 37, 2 ** 60, -(2 ** 60 + 2 ** 37), 2 ** 63]);
    expectValues(cast(T('i64', [2], [2n ** 53n + 1n, 2n ** 53n + 3n]), 'f64'), [2 ** 53, 2 ** 53 + 4]);
    expectValues(cast(T('u64', [2], [U64_MAX, 2n ** 63n + 2n ** 39n + 1n]), 'f32'), [2 ** 64, 2 ** 63 + 2 ** 40]);
    expectValues(cast(T('i64', [5], [2049n, 2051n, 65520n, 65519n, 2n ** 40n + 1n]), 'f16'), [2048, 2052, Infinity, 65504, Infinity]);
    expectValues(cast(T('i64', [1], [2n ** 40n + 2n ** 32n + 1n]), 'bf16'), [2 ** 40 + 2 ** 33]);
    expectValues(cast(T('u32', [1], [2 ** 32 - 1]), 'f32'), [2 ** 32]);
  });
});

describe('prim.cast: between integers (wrap), to and from bool', () => {
  it('wraps modulo 2^bits of the target', () => {
    expectValues(cast(T('i64', [3], [2n ** 32n + 5n, 2n ** 31n, -1n]), 'i32'), [5, -(2 ** 31), -1]);
    expectValues(cast(T('i64', [2], [-1n, 263n]), 'u8'), [255, 7]);
    expectValues(cast(T('i64', [1], [-1n]), 'u64'), [U64_MAX]);
    expectValues(cast(T('u64', [2], [U64_MAX, 2n ** 63n]), 'i64'), [-1n, I64_MIN]);
    expectValues(cast(T('u64', [1], [2n ** 63n]), 'i32'), [0]);
    expectValues(cast(T('i32', [1], [-1]), 'u32'), [2 ** 32 - 1]);
    expectValues(cast(T('u32', [1], [2 ** 32 - 1]), 'i32'), [-1]);
    expectValues(cast(T('i8', [1], [-1]), 'u16'), [65535]);
    expectValues(cast(T('u16', [1], [300]), 'i8'), [44]);
    expectValues(cast(T('i32', [1], [-5]), 'i64'), [-5n]);
    expectValues(cast(T('u32', [1], [2 ** 32 - 1]), 'u64'), [2n ** 32n - 1n]);
  });

  it('to bool is x != 0 (NaN is true, -0 is false); from bool is 0 or 1', () => {
    expectTensor(cast(T('f32', [5], [0, -0, NaN, 0.1, -Infinity]), 'bool'), 'bool', [5], [0, 0, 1, 1, 1]);
    expectValues(cast(T('i64', [2], [0n, 2n ** 40n]), 'bool'), [0, 1]);
    expectValues(cast(T('u8', [2], [0, 255]), 'bool'), [0, 1]);
    expectValues(cast(T('bool', [2], [1, 0]), 'f16'), [1, 0]);
    expectValues(cast(T('bool', [2], [1, 0]), 'i64'), [1n, 0n]);
    expectValues(cast(T('bool', [2], [1, 0]), 'u32'), [1, 0]);
  });

  it('to the same dtype copies', () => {
    const x = T('f32', [2], [1, NaN]);
    const y = cast(x, 'f32');
    expectValues(y, [1, NaN]);
    expect(y.data).not.toBe(x.data);
  });

  it('keeps empty and rank-0 shapes', () => {
    expectTensor(cast(T('f32', [0, 2], []), 'i64'), 'i64', [0, 2], []);
    expectTensor(cast(T('i64', [], [-7n]), 'f16'), 'f16', [], [-7]);
  });
});

describe('prim.bitcast', () => {
  it('reinterprets floats as integers and back', () => {
    expectValues(bitcast(T('f32', [4], [1, -0, Infinity, NaN]), 'i32'), [0x3f800000, -(2 ** 31), 0x7f800000, 0x7fc00000]);
    expectValues(bitcast(T('i32', [3], [0x3f800000, -(2 ** 31), 0x7f800000]), 'f32'), [1, -0, Infinity]);
    expectValues(bitcast(T('f32', [1], [-1]), 'u32'), [0xbf800000]);
    expectValues(bitcast(T('f64', [2], [1, -0]), 'i64'), [0x3ff0000000000000n, I64_MIN]);
    expectValues(bitcast(T('u64', [1], [0x7ff0000000000000n]), 'f64'), [Infinity]);
  });

  it('uses the 16-bit patterns of f16 and bf16', () => {
    expectValues(bitcast(T('f16', [5], [1, -2, 65504, -0, Infinity]), 'u16'), [0x3c00, 0xc000, 0x7bff, 0x8000, 0x7c00]);
    expectValues(bitcast(T('u16', [3], [0x0001, 0x7c01, 0xfc00]), 'f16'), [2 ** -24, NaN, -Infinity]);
    expectValues(bitcast(T('bf16', [2], [1, -2]), 'i16'), [0x3f80, -16384]);
    expectValues(bitcast(T('f16', [1], [1]), 'bf16'), [2 ** -7]); // 0x3c00 read as bf16
  });

  it('between same-width integers and bool (a nonzero byte reads as true)', () => {
    expectValues(bitcast(T('i8', [2], [-1, 5]), 'u8'), [255, 5]);
    expectValues(bitcast(T('i64', [1], [-1n]), 'u64'), [U64_MAX]);
    expectTensor(bitcast(T('u8', [3], [0, 1, 2]), 'bool'), 'bool', [3], [0, 1, 1]);
    expectValues(bitcast(T('bool', [2], [1, 0]), 'i8'), [1, 0]);
    expectTensor(bitcast(T('f32', [0, 3], []), 'i32'), 'i32', [0, 3], []);
    expectTensor(bitcast(T('f32', [], [2]), 'u32'), 'u32', [], [0x40000000]);
  });

  it('rejects different widths (E_TYPE) and a missing target (E_VERIFY)', () => {
    expect(errorCode(() => bitcast(T('f32', [1], [1]), 'i16'))).toBe('E_TYPE');
    expect(errorCode(() => bitcast(T('f64', [1], [1]), 'f32'))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.cast', [T('f32', [1], [1])]))).toBe('E_VERIFY');
  });
});
