// Reductions and argmax/argmin: random axes checked against numpy 2.4 (literals below), identities over
// zero-size axes, an empty axes list, keepdims, NaN and -0, wrap of integer sums and products, and floats
// accumulated in double precision and rounded once.
import { describe, expect, it } from 'vitest';
import { A } from '../../src/ir/attr.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { T, errorCode, evalOp1, expectTensor, expectValues } from '../support/check.js';

const reduce = (kind: string, x: Tensor, axes: number[], keepdims = false): Tensor =>
  evalOp1(`prim.reduce_${kind}`, [x], { axes: A.ints(axes), keepdims: A.int(keepdims ? 1 : 0) });
const arg = (kind: 'argmax' | 'argmin', x: Tensor, axis: number, opts: { keepdims?: boolean; last?: boolean } = {}): Tensor =>
  evalOp1(`prim.${kind}`, [x], {
    axis: A.int(axis), keepdims: A.int(opts.keepdims ? 1 : 0), select_last_index: A.int(opts.last ? 1 : 0),
  });

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

// numpy: rng = default_rng(0) (after drawing the dot operands); X = rng.integers(-9, 10, (2, 3, 4)).
const X = [8, -4, 8, 3, 7, -6, 5, 8, -9, -3, 3, -7, 0, 2, 5, 8, -2, -1, 0, 9, -6, 0, -9, -1];

describe('reduce_sum, reduce_prod, reduce_max, reduce_min', () => {
  it('match numpy over several axes sets (i64 and i32)', () => {
    const x = T('i64', [2, 3, 4], X.map(BigInt));
    expectTensor(reduce('sum', x, [0, 2]), 'i64', [3], [30n, 20n, -32n]);
    expectTensor(reduce('prod', x, [1]), 'i64', [2, 4], [-504n, -72n, 120n, -168n, 0n, 0n, 0n, -72n]);
    expectTensor(reduce('max', x, [1, 2]), 'i64', [2], [8n, 9n]);
    expectTensor(reduce('min', x, [0]), 'i64', [3, 4], [0n, -4n, 5n, 3n, -2n, -6n, 0n, 8n, -9n, -3n, -9n, -7n]);
    expectTensor(reduce('sum', x, [0, 1, 2]), 'i64', [], [18n]);
    const y = T('i32', [2, 3, 4], X);
    expectTensor(reduce('sum', y, [0, 2], true), 'i32', [1, 3, 1], [30, 20, -32]);
    expectTensor(reduce('max', y, [1, 2], true), 'i32', [2, 1, 1], [8, 9]);
    // As floats, 0 times a negative is -0.
    expectTensor(reduce('prod', T('f32', [2, 3, 4], X), [1], true), 'f32', [2, 1, 4], [-504, -72, 120, -168, 0, -0, -0, -72]);
  });

  it('with no axes reduce nothing (each element meets the identity once, as numpy add.reduce(axis=()))', () => {
    const x = T('f32', [2, 2], [1, -0, NaN, -Infinity]);
    expectTensor(reduce('sum', x, []), 'f32', [2, 2], [1, 0, NaN, -Infinity]);
    expectTensor(reduce('max', x, [], true), 'f32', [2, 2], [1, -0, NaN, -Infinity]);
    expectTensor(reduce('prod', x, []), 'f32', [2, 2], [1, -0, NaN, -Infinity]);
    expectTensor(reduce('sum', T('u32', [1], [2 ** 32 - 1]), []), 'u32', [1], [2 ** 32 - 1]);
    expectTensor(reduce('sum', T('f32', [], [5]), []), 'f32', [], [5]);
    expectTensor(reduce('min', T('i64', [], [I64_MIN]), [], true), 'i64', [], [I64_MIN]);
  });

  it('over zero-size axes give the identity element of each dtype', () => {
    const f = T('f32', [2, 0], []);
    expectTensor(reduce('sum', f, [1]), 'f32', [2], [0, 0]);
    expectTensor(reduce('prod', f, [1], true), 'f32', [2, 1], [1, 1]);
    expectTensor(reduce('max', f, [1]), 'f32', [2], [-Infinity, -Infinity]);
    expectTensor(reduce('min', f, [1]), 'f32', [2], [Infinity, Infinity]);
    expectTensor(reduce('max', T('f16', [0], []), [0]), 'f16', [], [-Infinity]);
    expectTensor(reduce('max', T('i8', [0], []), [0]), 'i8', [], [-128]);
    expectTensor(reduce('min', T('i8', [0], []), [0]), 'i8', [], [127]);
    expectTensor(reduce('min', T('u8', [0], []), [0]), 'u8', [], [255]);
    expectTensor(reduce('min', T('i16', [0], []), [0]), 'i16', [], [32767]);
    expectTensor(reduce('max', T('i32', [0], []), [0]), 'i32', [], [-(2 ** 31)]);
    expectTensor(reduce('min', T('u32', [0], []), [0]), 'u32', [], [2 ** 32 - 1]);
    expectTensor(reduce('max', T('i64', [0], []), [0]), 'i64', [], [I64_MIN]);
    expectTensor(reduce('min', T('i64', [0], []), [0]), 'i64', [], [I64_MAX]);
    expectTensor(reduce('max', T('u64', [0], []), [0]), 'u64', [], [0n]);
    expectTensor(reduce('min', T('u64', [0], []), [0]), 'u64', [], [U64_MAX]);
    expectTensor(reduce('prod', T('i64', [0], []), [0]), 'i64', [], [1n]);
    expectTensor(reduce('sum', T('u8', [0, 4], []), [0]), 'u8', [4], [0, 0, 0, 0]);
    expectTensor(reduce('max', T('bool', [0], []), [0]), 'bool', [], [0]);
    expectTensor(reduce('min', T('bool', [0], []), [0]), 'bool', [], [1]);
  });

  it('keep a zero-size result when a kept axis is empty', () => {
    expectTensor(reduce('sum', T('f32', [0, 3], []), [1]), 'f32', [0], []);
    expectTensor(reduce('max', T('f32', [0, 3], []), [1], true), 'f32', [0, 1], []);
    expectTensor(reduce('sum', T('f32', [3, 0, 2], []), [0]), 'f32', [0, 2], []);
  });

  it('propagate NaN; max and min order -0 below +0 (as prim.max and prim.min do)', () => {
    const x = T('f32', [2, 3], [1, NaN, 3, Infinity, -Infinity, 1]);
    expectValues(reduce('max', x, [1]), [NaN, Infinity]);
    expectValues(reduce('min', x, [1]), [NaN, -Infinity]);
    expectValues(reduce('sum', x, [1]), [NaN, NaN]);
    expectValues(reduce('prod', T('f32', [2], [0, Infinity]), [0]), [NaN]);
    expectValues(reduce('max', T('f32', [2, 2], [-0, 0, 0, -0]), [1]), [0, 0]);
    expectValues(reduce('min', T('f32', [2, 2], [-0, 0, 0, -0]), [1]), [-0, -0]);
    expectValues(reduce('max', T('f32', [2], [-0, -0]), [0]), [-0]);
    expectValues(reduce('max', T('bool', [2, 2], [0, 1, 0, 0]), [1]), [1, 0]); // any
    expectValues(reduce('min', T('bool', [2, 2], [1, 1, 0, 1]), [1]), [1, 0]); // all
  });

  it('wrap integer sums and products at every width', () => {
    expectValues(reduce('sum', T('i32', [2], [2 ** 31 - 1, 1]), [0]), [-(2 ** 31)]);
    expectValues(reduce('sum', T('u8', [2], [200, 100]), [0]), [44]);
    expectValues(reduce('sum', T('u32', [2], [2 ** 32 - 1, 2 ** 32 - 1]), [0]), [2 ** 32 - 2]);
    expectValues(reduce('sum', T('i16', [3], [30000, 30000, -1]), [0]), [-5537]);
    expectValues(reduce('prod', T('i8', [2], [16, 16]), [0]), [0]);
    expectValues(reduce('prod', T('i32', [3], [65536, 65535, 3]), [0]), [-196608]);
    expectValues(reduce('prod', T('u32', [2], [2 ** 32 - 1, 2 ** 32 - 1]), [0]), [1]);
    expectValues(reduce('sum', T('i64', [2], [I64_MAX, 1n]), [0]), [I64_MIN]);
    expectValues(reduce('sum', T('i64', [3], [I64_MAX, 1n, -1n]), [0]), [I64_MAX]);
    expectValues(reduce('prod', T('u64', [2], [2n ** 32n, 2n ** 32n]), [0]), [0n]);
    expectValues(reduce('max', T('u64', [2], [U64_MAX, 1n]), [0]), [U64_MAX]);
    expectValues(reduce('sum', T('i64', [2], [2n ** 53n, 1n]), [0]), [2n ** 53n + 1n]);
  });

  it('accumulate floats in double precision and round once', () => {
    expectValues(reduce('sum', T('f32', [3], [1, 2 ** -24, 2 ** -24]), [0]), [1 + 2 ** -23]);
    expectValues(reduce('sum', T('f16', [3], [2048, 1, 1]), [0]), [2050]);
    expectValues(reduce('sum', T('f16', [2], [65504, 65504]), [0]), [Infinity]);
    expectValues(reduce('prod', T('bf16', [2], [1 + 2 ** -4, 1 + 2 ** -4]), [0]), [1.125]);
    expectValues(reduce('sum', T('f32', [3], [3e38, 3e38, -3e38]), [0]), [Math.fround(3e38)]);
  });

  it('reject bad axes and dtypes (E_TYPE) and a missing axes attribute (E_VERIFY)', () => {
    const x = T('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(errorCode(() => reduce('sum', x, [1, 0]))).toBe('E_TYPE');
    expect(errorCode(() => reduce('sum', x, [1, 1]))).toBe('E_TYPE');
    expect(errorCode(() => reduce('sum', x, [2]))).toBe('E_TYPE');
    expect(errorCode(() => reduce('sum', x, [-1]))).toBe('E_TYPE');
    expect(errorCode(() => reduce('sum', T('bool', [1], [1]), [0]))).toBe('E_TYPE');
    expect(errorCode(() => reduce('prod', T('bool', [1], [1]), [0]))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.reduce_max', [x]))).toBe('E_VERIFY');
  });
});

describe('argmax and argmin', () => {
  it('match numpy (first of ties) and give i64', () => {
    const x = T('f32', [2, 3, 4], X);
    expectTensor(arg('argmax', x, 1), 'i64', [2, 4], [0n, 2n, 0n, 1n, 0n, 0n, 0n, 1n]);
    expectTensor(arg('argmin', x, 2), 'i64', [2, 3], [1n, 1n, 0n, 0n, 0n, 2n]);
    expectTensor(arg('argmax', x, 1, { keepdims: true }), 'i64', [2, 1, 4], [0n, 2n, 0n, 1n, 0n, 0n, 0n, 1n]);
    expectTensor(arg('argmin', T('i8', [3], [5, -128, 0]), 0), 'i64', [], [1n]);
    expectTensor(arg('argmax', T('f32', [1], [NaN]), 0, { keepdims: true }), 'i64', [1], [0n]);
  });

  it('choose the first or, with select_last_index, the last of ties', () => {
    const x = T('i32', [4], [1, 3, 3, 2]);
    expectValues(arg('argmax', x, 0), [1n]);
    expectValues(arg('argmax', x, 0, { last: true }), [2n]);
    expectValues(arg('argmin', T('f32', [3], [1, 0, 0]), 0), [1n]);
    expectValues(arg('argmin', T('f32', [3], [1, 0, 0]), 0, { last: true }), [2n]);
    expectValues(arg('argmax', T('f32', [2], [-0, 0]), 0), [0n]); // -0 and +0 tie
    expectValues(arg('argmax', T('f32', [2], [-0, 0]), 0, { last: true }), [1n]);
  });

  it('let the first NaN win (numpy), also with select_last_index', () => {
    const x = T('f32', [5], [1, NaN, 5, NaN, Infinity]);
    expectValues(arg('argmax', x, 0), [1n]);
    expectValues(arg('argmin', x, 0), [1n]);
    expectValues(arg('argmax', x, 0, { last: true }), [1n]);
    expectValues(arg('argmin', T('f64', [3], [-Infinity, 0, NaN]), 0), [2n]);
  });

  it('compare 64-bit integers exactly', () => {
    expectValues(arg('argmax', T('i64', [2], [2n ** 53n, 2n ** 53n + 1n]), 0), [1n]);
    expectValues(arg('argmin', T('i64', [2], [2n ** 53n + 1n, 2n ** 53n]), 0), [1n]);
    expectValues(arg('argmin', T('u64', [2], [U64_MAX, 0n]), 0), [1n]);
    expectValues(arg('argmax', T('u64', [2], [U64_MAX, 0n]), 0), [0n]);
  });

  it('give an empty result when another axis is empty, and reject an empty reduced axis (E_TYPE)', () => {
    expectTensor(arg('argmax', T('f32', [0, 3], []), 1), 'i64', [0], []);
    expect(errorCode(() => arg('argmax', T('f32', [3, 0], []), 1))).toBe('E_TYPE');
    expect(errorCode(() => arg('argmax', T('f32', [3], [1, 2, 3]), 1))).toBe('E_TYPE');
    expect(errorCode(() => arg('argmax', T('f32', [], [1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => arg('argmin', T('bool', [2], [1, 0]), 0))).toBe('E_TYPE');
  });
});
