// Movement prims: reshape, permute, broadcast, slice (ONNX clamping, negative steps), pad (negative pads
// crop), concat (empty operands). Hand cases, then properties against the naive one-index-at-a-time
// references of test/support/naive.ts on random shapes with zero and one dims.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { A } from '../../src/ir/attr.js';
import type { DType } from '../../src/ir/dtype.js';
import { Tensor } from '../../src/ir/tensor.js';
import { T, errorCode, evalOp1, expectTensor, expectValues, ramp, sameTensor } from '../support/check.js';
import { naiveBroadcast, naiveConcat, naivePad, naivePermute, naiveSlice } from '../support/naive.js';

const reshape = (x: Tensor, shape: number[]): Tensor => evalOp1('prim.reshape', [x], {}, { dtype: x.dtype, shape });
const permute = (x: Tensor, perm: readonly number[]): Tensor => evalOp1('prim.permute', [x], { perm: A.ints(perm) });
const broadcast = (x: Tensor, shape: readonly number[]): Tensor => evalOp1('prim.broadcast', [x], {}, { dtype: x.dtype, shape });
const slice = (x: Tensor, axes: readonly number[], starts: readonly number[], stops: readonly number[], steps: readonly number[]): Tensor =>
  evalOp1('prim.slice', [x], { axes: A.ints(axes), starts: A.ints(starts), stops: A.ints(stops), steps: A.ints(steps) });
const pad = (x: Tensor, pads: readonly number[], value?: number): Tensor =>
  evalOp1('prim.pad', [x], value === undefined ? { pads: A.ints(pads) } : { pads: A.ints(pads), value: A.float(value) });
const concat = (xs: readonly Tensor[], axis: number): Tensor => evalOp1('prim.concat', xs, { axis: A.int(axis) });

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);

describe('prim.reshape', () => {
  it('keeps the row-major element order', () => {
    const x = ramp('f32', [2, 3]);
    expectTensor(reshape(x, [3, 2]), 'f32', [3, 2], [0, 1, 2, 3, 4, 5]);
    expectTensor(reshape(x, [6]), 'f32', [6], [0, 1, 2, 3, 4, 5]);
    expectTensor(reshape(T('i64', [], [7n]), [1, 1]), 'i64', [1, 1], [7n]);
    expectTensor(reshape(T('i64', [1, 1], [7n]), []), 'i64', [], [7n]);
    expectTensor(reshape(T('f32', [0, 3], []), [3, 0, 5]), 'f32', [3, 0, 5], []);
  });

  it('rejects a different element count or dtype (E_TYPE)', () => {
    expect(errorCode(() => reshape(ramp('f32', [2, 3]), [4]))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.reshape', [ramp('f32', [2])], {}, { dtype: 'f64', shape: [2] }))).toBe('E_TYPE');
  });
});

describe('prim.permute', () => {
  it('puts operand dim perm[i] at result dim i (numpy transpose)', () => {
    // numpy: np.arange(24).reshape(2,3,4).transpose(2,0,1)
    expectTensor(permute(ramp('i32', [2, 3, 4]), [2, 0, 1]), 'i32', [4, 2, 3],
      [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21, 2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23]);
    expectTensor(permute(T('f32', [], [-0]), []), 'f32', [], [-0]);
    expectTensor(permute(T('f32', [2, 0, 3], []), [2, 1, 0]), 'f32', [3, 0, 2], []);
    expectTensor(permute(T('u64', [1, 2], [2n ** 64n - 1n, 1n]), [1, 0]), 'u64', [2, 1], [2n ** 64n - 1n, 1n]);
  });

  it('rejects a perm that is not a permutation of the rank (E_TYPE)', () => {
    expect(errorCode(() => permute(ramp('f32', [2, 3]), [0, 0]))).toBe('E_TYPE');
    expect(errorCode(() => permute(ramp('f32', [2, 3]), [0]))).toBe('E_TYPE');
    expect(errorCode(() => permute(ramp('f32', [2, 3]), [1, 2]))).toBe('E_TYPE');
  });
});

describe('prim.broadcast', () => {
  it('stretches dims of 1 and prepends dims', () => {
    expectTensor(broadcast(T('f32', [3], [1, 2, 3]), [2, 3]), 'f32', [2, 3], [1, 2, 3, 1, 2, 3]);
    expectTensor(broadcast(T('f32', [2, 1], [1, 2]), [2, 3]), 'f32', [2, 3], [1, 1, 1, 2, 2, 2]);
    expectTensor(broadcast(T('i64', [], [5n]), [2, 2]), 'i64', [2, 2], [5n, 5n, 5n, 5n]);
    expectTensor(broadcast(T('f32', [1], [NaN]), [0]), 'f32', [0], []);
    expectTensor(broadcast(T('bool', [1, 2], [1, 0]), [3, 0, 2]), 'bool', [3, 0, 2], []);
  });

  it('rejects a target the operand does not broadcast to (E_TYPE)', () => {
    expect(errorCode(() => broadcast(T('f32', [2], [1, 2]), [3]))).toBe('E_TYPE');
    expect(errorCode(() => broadcast(ramp('f32', [2, 3]), [3]))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.broadcast', [T('f32', [1], [1])], {}, { dtype: 'i32', shape: [2] }))).toBe('E_TYPE');
  });
});

describe('prim.slice', () => {
  it('takes start, start+step, … before stop (numpy reference for negative steps)', () => {
    const x = ramp('i32', [2, 3, 4]);
    // numpy: np.arange(24).reshape(2,3,4)[::-1, 2:0:-1, ::-2]
    expectTensor(slice(x, [0, 1, 2], [-1, 2, -1], [INT_MIN, 0, INT_MIN], [-1, -1, -2]), 'i32', [2, 2, 2], [23, 21, 19, 17, 11, 9, 7, 5]);
    expectTensor(slice(x, [1], [1], [INT_MAX], [1]), 'i32', [2, 2, 4], [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]);
    expectTensor(slice(x, [2], [-3], [-1], [1]), 'i32', [2, 3, 2], [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    expectTensor(slice(ramp('f32', [10]), [0], [1], [100], [3]), 'f32', [3], [1, 4, 7]);
  });

  it('clamps starts and stops by the ONNX rules', () => {
    const x = ramp('f32', [5]);
    expectTensor(slice(x, [0], [-100], [100], [1]), 'f32', [5], [0, 1, 2, 3, 4]);
    expectTensor(slice(x, [0], [100], [-100], [-1]), 'f32', [5], [4, 3, 2, 1, 0]);
    expectTensor(slice(x, [0], [3], [3], [1]), 'f32', [0], []);
    expectTensor(slice(x, [0], [4], [1], [1]), 'f32', [0], []);
    expectTensor(slice(x, [0], [1], [4], [-1]), 'f32', [0], []);
    expectTensor(slice(x, [0], [-1], [-3], [-1]), 'f32', [2], [4, 3]);
    // ONNX clamps a backward start to [0, dim-1]: -7 + 5 = -2 becomes 0, so element 0 is taken
    // (numpy's x[-7::-1] would be empty).
    expectTensor(slice(x, [0], [-7], [INT_MIN], [-1]), 'f32', [1], [0]);
    expectTensor(slice(T('f32', [0], []), [0], [-1], [INT_MIN], [-1]), 'f32', [0], []);
    expectTensor(slice(T('f32', [0], []), [0], [0], [INT_MAX], [1]), 'f32', [0], []);
  });

  it('keeps the values (NaN, -0, int64) and the other axes', () => {
    expectValues(slice(T('f32', [3], [NaN, -0, 1]), [0], [0], [2], [1]), [NaN, -0]);
    expectTensor(slice(T('i64', [2, 2], [1n, 2n ** 62n, 3n, -(2n ** 63n)]), [1], [1], [2], [1]), 'i64', [2, 1], [2n ** 62n, -(2n ** 63n)]);
    expectTensor(slice(T('f32', [], [3]), [], [], [], []), 'f32', [], [3]);
  });

  it('rejects step 0, unsorted axes and mismatched lists (E_TYPE)', () => {
    const x = ramp('f32', [2, 3]);
    expect(errorCode(() => slice(x, [0], [0], [1], [0]))).toBe('E_TYPE');
    expect(errorCode(() => slice(x, [1, 0], [0, 0], [1, 1], [1, 1]))).toBe('E_TYPE');
    expect(errorCode(() => slice(x, [0], [0, 0], [1], [1]))).toBe('E_TYPE');
    expect(errorCode(() => slice(x, [2], [0], [1], [1]))).toBe('E_TYPE');
  });
});

describe('prim.pad', () => {
  it('pads [begin…, end…] with the value; negative pads crop', () => {
    const x = T('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expectTensor(pad(x, [1, 0, 0, 2], 9), 'f32', [3, 5], [9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9]);
    expectTensor(pad(x, [-1, 1, 0, -1], 9), 'f32', [1, 3], [9, 4, 5]);
    expectTensor(pad(x, [0, -3, 0, 1], 9), 'f32', [2, 1], [9, 9]);
    expectTensor(pad(x, [0, 0, 0, 0]), 'f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expectTensor(pad(x, [0, 1, 0, 0]), 'f32', [2, 4], [0, 1, 2, 3, 0, 4, 5, 6]);
    expectTensor(pad(T('f32', [2], [1, 2]), [-2, 0]), 'f32', [0], []);
    expectTensor(pad(T('f32', [0], []), [1, 1], NaN), 'f32', [2], [NaN, NaN]);
    expectTensor(pad(T('f32', [0, 2], []), [0, 1, 0, 0], 3), 'f32', [0, 3], []);
    expectTensor(pad(T('f32', [], [4]), []), 'f32', [], [4]);
  });

  it('converts the fill value as a cast would', () => {
    expectValues(pad(T('i64', [1], [5n]), [1, 0], -1.7), [-1n, 5n]);
    expectValues(pad(T('i64', [1], [5n]), [1, 0], Infinity), [0n, 5n]);
    expectValues(pad(T('u8', [1], [5]), [0, 1], -1), [5, 255]);
    expectValues(pad(T('i32', [1], [5]), [0, 1], NaN), [5, 0]);
    expectValues(pad(T('bool', [1], [0]), [0, 1], 0.5), [0, 1]);
    expectValues(pad(T('f16', [1], [1]), [1, 0], 0.1), [0.0999755859375, 1]);
    expectValues(pad(T('f32', [1], [1]), [1, 0], -0), [-0, 1]);
    expectValues(pad(T('u64', [1], [5n]), [1, 0], 2 ** 60), [2n ** 60n, 5n]);
  });

  it('rejects a pads list of the wrong length or a negative result (E_TYPE)', () => {
    expect(errorCode(() => pad(ramp('f32', [2, 3]), [1, 1]))).toBe('E_TYPE');
    expect(errorCode(() => pad(ramp('f32', [2]), [-2, -1]))).toBe('E_TYPE');
  });
});

describe('prim.concat', () => {
  it('joins along the axis, skipping empty operands', () => {
    expectTensor(concat([T('f32', [2, 1], [1, 2]), T('f32', [2, 2], [3, 4, 5, 6])], 1), 'f32', [2, 3], [1, 3, 4, 2, 5, 6]);
    expectTensor(concat([T('f32', [2, 0], []), T('f32', [2, 1], [1, 2]), T('f32', [2, 0], [])], 1), 'f32', [2, 1], [1, 2]);
    expectTensor(concat([T('f32', [0, 3], []), ramp('f32', [1, 3])], 0), 'f32', [1, 3], [0, 1, 2]);
    expectTensor(concat([T('f32', [0, 3], []), T('f32', [0, 3], [])], 1), 'f32', [0, 6], []);
    expectTensor(concat([T('i64', [1], [2n ** 63n - 1n]), T('i64', [2], [-1n, 0n])], 0), 'i64', [3], [2n ** 63n - 1n, -1n, 0n]);
    expectTensor(concat([T('bool', [1], [1])], 0), 'bool', [1], [1]);
  });

  it('rejects different ranks, off-axis dims or dtypes and a bad axis (E_TYPE)', () => {
    expect(errorCode(() => concat([ramp('f32', [2, 1]), ramp('f32', [2])], 0))).toBe('E_TYPE');
    expect(errorCode(() => concat([ramp('f32', [2, 1]), ramp('f32', [3, 1])], 1))).toBe('E_TYPE');
    expect(errorCode(() => concat([ramp('f32', [2]), ramp('f64', [2])], 0))).toBe('E_TYPE');
    expect(errorCode(() => concat([ramp('f32', [2]), ramp('f32', [2])], 1))).toBe('E_TYPE');
    expect(errorCode(() => concat([T('f32', [], [1]), T('f32', [], [1])], 0))).toBe('E_TYPE');
  });
});

// ---- properties against the naive references ----

const DTYPES_MOVED: DType[] = ['f32', 'i64', 'bool', 'f16', 'u8'];
const shapeArb = (maxRank = 4): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: maxRank });
/** Distinct-ish values so that a wrong index shows. */
const filled = (dtype: DType, shape: readonly number[]): Tensor => ramp(dtype, shape, 1);

describe('movement prims agree with the naive references', () => {
  it('slice', () => {
    const arb = fc.tuple(fc.constantFrom(...DTYPES_MOVED), shapeArb()).chain(([dtype, shape]) =>
      fc.tuple(
        fc.constant(dtype), fc.constant(shape),
        fc.subarray([...shape.keys()]).chain((axes) => fc.tuple(
          fc.constant(axes),
          fc.array(fc.integer({ min: -7, max: 7 }), { minLength: axes.length, maxLength: axes.length }),
          fc.array(fc.oneof(fc.integer({ min: -7, max: 7 }), fc.constantFrom(INT_MIN, INT_MAX)), { minLength: axes.length, maxLength: axes.length }),
          fc.array(fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), { minLength: axes.length, maxLength: axes.length }),
        )),
      ));
    fc.assert(fc.property(arb, ([dtype, shape, [axes, starts, stops, steps]]) => {
      const x = filled(dtype, shape);
      expect(sameTensor(slice(x, axes, starts, stops, steps), naiveSlice(x, axes, starts, stops, steps))).toBe(true);
    }), { seed: 101, numRuns: 300 });
  });

  it('permute', () => {
    const arb = fc.tuple(fc.constantFrom(...DTYPES_MOVED), shapeArb(5)).chain(([dtype, shape]) =>
      fc.tuple(fc.constant(dtype), fc.constant(shape), fc.shuffledSubarray([...shape.keys()], { minLength: shape.length, maxLength: shape.length })));
    fc.assert(fc.property(arb, ([dtype, shape, perm]) => {
      const x = filled(dtype, shape);
      expect(sameTensor(permute(x, perm), naivePermute(x, perm))).toBe(true);
    }), { seed: 102, numRuns: 200 });
  });

  it('broadcast', () => {
    const arb = fc.tuple(fc.constantFrom(...DTYPES_MOVED), shapeArb(), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
      .map(([dtype, target, lead, ones]) => {
        // The operand: a suffix of the target with some dims replaced by 1.
        const shape = [...lead, ...target];
        const from = target.map((d, i) => (ones[i] ? 1 : d));
        return { dtype, from, shape };
      });
    fc.assert(fc.property(arb, ({ dtype, from, shape }) => {
      const x = filled(dtype, from);
      expect(sameTensor(broadcast(x, shape), naiveBroadcast(x, shape))).toBe(true);
    }), { seed: 103, numRuns: 200 });
  });

  it('pad', () => {
    const arb = fc.tuple(fc.constantFrom(...DTYPES_MOVED), shapeArb()).chain(([dtype, shape]) =>
      fc.tuple(fc.constant(dtype), fc.constant(shape),
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 2 * shape.length, maxLength: 2 * shape.length }),
        fc.constantFrom(0, 7, -1.5)))
      .filter(([, shape, pads]) => shape.every((d, i) => d + pads[i]! + pads[i + shape.length]! >= 0));
    fc.assert(fc.property(arb, ([dtype, shape, pads, value]) => {
      const x = filled(dtype, shape);
      const fill = Tensor.scalar(dtype, value).data[0]!;
      expect(sameTensor(pad(x, pads, value), naivePad(x, pads, fill))).toBe(true);
    }), { seed: 104, numRuns: 300 });
  });

  it('concat', () => {
    const arb = fc.tuple(fc.constantFrom(...DTYPES_MOVED), shapeArb().filter((s) => s.length > 0)).chain(([dtype, shape]) =>
      fc.tuple(fc.constant(dtype), fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 })));
    fc.assert(fc.property(arb, ([dtype, shape, axis, sizes]) => {
      let start = 1;
      const xs = sizes.map((n) => {
        const s = shape.map((d, i) => (i === axis ? n : d));
        const t = ramp(dtype, s, start);
        start += t.size;
        return t;
      });
      expect(sameTensor(concat(xs, axis), naiveConcat(xs, axis))).toBe(true);
    }), { seed: 105, numRuns: 200 });
  });
});
