// gather, scatter, dot, and the sources (const, iota, shape). Negative indices count from the end; an
// index out of range is E_RUNTIME. Dot is checked by hand, against numpy (batch dims and two contracting
// dims at once), and as a property against a naive sum over random dimension layouts.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { A } from '../../src/ir/attr.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { DType } from '../../src/ir/dtype.js';
import { Tensor } from '../../src/ir/tensor.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { T, errorCode, evalOp1, expectTensor, expectValues, ramp, sameTensor } from '../support/check.js';
import { at, build, naiveGather } from '../support/naive.js';

const gather = (x: Tensor, idx: Tensor, axis: number): Tensor => evalOp1('prim.gather', [x, idx], { axis: A.int(axis) });
const scatter = (x: Tensor, idx: Tensor, upd: Tensor, axis: number, reduction?: string): Tensor =>
  evalOp1('prim.scatter', [x, idx, upd], reduction === undefined ? { axis: A.int(axis) } : { axis: A.int(axis), reduction: A.string(reduction) });
interface Dims { lb?: number[]; rb?: number[]; lc: number[]; rc: number[] }
const dot = (a: Tensor, b: Tensor, d: Dims): Tensor => evalOp1('prim.dot', [a, b], {
  lhs_batch: A.ints(d.lb ?? []), rhs_batch: A.ints(d.rb ?? []), lhs_contract: A.ints(d.lc), rhs_contract: A.ints(d.rc),
});
const iota = (dtype: DType, shape: number[], axis: number): Tensor => evalOp1('prim.iota', [], { axis: A.int(axis) }, { dtype, shape });

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

describe('prim.gather', () => {
  const x = ramp('f32', [3, 4]);

  it('takes slices along the axis (numpy take), negative indices from the end', () => {
    expectTensor(gather(x, T('i64', [3], [2n, -1n, 0n]), 0), 'f32', [3, 4], [8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3]);
    expectTensor(gather(x, T('i32', [2, 2], [1, -4, 3, 3]), 1), 'f32', [3, 2, 2], [1, 0, 3, 3, 5, 4, 7, 7, 9, 8, 11, 11]);
    expectTensor(gather(x, T('i64', [], [1n]), 1), 'f32', [3], [1, 5, 9]);
    expectTensor(gather(T('i64', [2], [I64_MIN, I64_MAX]), T('i64', [3], [1n, 0n, 1n]), 0), 'i64', [3], [I64_MAX, I64_MIN, I64_MAX]);
  });

  it('handles empty indices and empty data', () => {
    expectTensor(gather(x, T('i64', [0], []), 0), 'f32', [0, 4], []);
    expectTensor(gather(x, T('i64', [2, 0], []), 1), 'f32', [3, 2, 0], []);
    expectTensor(gather(T('f32', [0], []), T('i64', [0], []), 0), 'f32', [0], []);
    expectTensor(gather(T('f32', [2, 0], []), T('i64', [1], [1n]), 0), 'f32', [1, 0], []);
  });

  it('fails at run time on an index out of range (E_RUNTIME), even when the result is empty', () => {
    expect(errorCode(() => gather(x, T('i64', [1], [3n]), 0))).toBe('E_RUNTIME');
    expect(errorCode(() => gather(x, T('i64', [1], [-4n]), 0))).toBe('E_RUNTIME');
    expect(errorCode(() => gather(x, T('i32', [2], [0, 4]), 1))).toBe('E_RUNTIME');
    expect(errorCode(() => gather(x, T('i64', [1], [2n ** 40n]), 1))).toBe('E_RUNTIME');
    expect(errorCode(() => gather(T('f32', [0, 3], []), T('i64', [1], [7n]), 1))).toBe('E_RUNTIME');
    expect(errorCode(() => gather(T('f32', [0], []), T('i64', [1], [0n]), 0))).toBe('E_RUNTIME');
  });

  it('needs i32/i64 indices and an axis in range (E_TYPE)', () => {
    expect(errorCode(() => gather(x, T('f32', [1], [0]), 0))).toBe('E_TYPE');
    expect(errorCode(() => gather(x, T('u8', [1], [0]), 0))).toBe('E_TYPE');
    expect(errorCode(() => gather(x, T('i64', [1], [0n]), 2))).toBe('E_TYPE');
    expect(errorCode(() => gather(T('f32', [], [1]), T('i64', [], [0n]), 0))).toBe('E_TYPE');
  });

  it('agrees with the naive reference on random shapes and indices', () => {
    const arb = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 })))
      .chain(([shape, axis, ishape]) => {
        const dim = shape[axis]!;
        const n = ishape.reduce((a, b) => a * b, 1);
        const idx = dim === 0 ? fc.constant([] as number[]) : fc.array(fc.integer({ min: -dim, max: dim - 1 }), { minLength: n, maxLength: n });
        return fc.tuple(fc.constant(shape), fc.constant(axis), fc.constant(dim === 0 && n > 0 ? [0] : ishape), idx);
      });
    fc.assert(fc.property(arb, ([shape, axis, ishape, idx]) => {
      const data = ramp('i64', shape, 1);
      const indices = T('i64', ishape, idx.map(BigInt));
      expect(sameTensor(gather(data, indices, axis), naiveGather(data, indices, axis))).toBe(true);
    }), { seed: 201, numRuns: 300 });
  });
});

describe('prim.scatter (ONNX ScatterElements)', () => {
  it('writes updates at indices along the axis (the ONNX examples)', () => {
    const r = scatter(T('f32', [3, 3], [0, 0, 0, 0, 0, 0, 0, 0, 0]), T('i64', [2, 3], [1n, 0n, 2n, 0n, 2n, 1n]), T('f32', [2, 3], [1, 1.1, 1.2, 2, 2.1, 2.2]), 0);
    expectTensor(r, 'f32', [3, 3], [2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2].map(Math.fround));
    expectTensor(scatter(T('f32', [1, 5], [1, 2, 3, 4, 5]), T('i64', [1, 2], [1n, 3n]), T('f32', [1, 2], [1.1, 2.1]), 1), 'f32', [1, 5], [1, 1.1, 3, 2.1, 5].map(Math.fround));
    expectValues(scatter(T('f32', [1, 5], [1, 2, 3, 4, 5]), T('i32', [1, 2], [-1, -5]), T('f32', [1, 2], [9, 8]), 1), [8, 2, 3, 4, 9]);
  });

  it('applies duplicates in order: the last write wins, reductions accumulate', () => {
    expectValues(scatter(T('i32', [4], [0, 0, 0, 0]), T('i64', [2], [1n, 1n]), T('i32', [2], [5, 7]), 0), [0, 7, 0, 0]);
    expectValues(scatter(T('i32', [4], [1, 2, 3, 4]), T('i64', [3], [1n, 1n, 3n]), T('i32', [3], [10, 20, 30]), 0, 'add'), [1, 32, 3, 34]);
    expectValues(scatter(T('f32', [2], [2, 3]), T('i64', [2], [0n, 0n]), T('f32', [2], [3, 4]), 0, 'mul'), [24, 3]);
    expectValues(scatter(T('f32', [2], [1, 5]), T('i64', [3], [0n, 1n, 1n]), T('f32', [3], [3, NaN, 2]), 0, 'max'), [3, NaN]);
    expectValues(scatter(T('f32', [2], [1, 5]), T('i64', [2], [0n, 1n]), T('f32', [2], [-0, 7]), 0, 'min'), [-0, 5]);
    expectValues(scatter(T('f32', [1], [0]), T('i64', [1], [0n]), T('f32', [1], [-0]), 0, 'max'), [0]);
    expectValues(scatter(T('bool', [3], [0, 1, 0]), T('i64', [2], [0n, 1n]), T('bool', [2], [1, 0]), 0, 'max'), [1, 1, 0]);
    expectValues(scatter(T('bool', [3], [0, 1, 1]), T('i64', [2], [0n, 1n]), T('bool', [2], [1, 0]), 0, 'min'), [0, 0, 1]);
  });

  it('wraps integers and rounds f16 at every step', () => {
    expectValues(scatter(T('i32', [1], [65536]), T('i64', [1], [0n]), T('i32', [1], [65536]), 0, 'mul'), [0]);
    expectValues(scatter(T('u8', [1], [250]), T('i64', [1], [0n]), T('u8', [1], [10]), 0, 'add'), [4]);
    expectValues(scatter(T('i64', [1], [I64_MAX]), T('i64', [1], [0n]), T('i64', [1], [1n]), 0, 'add'), [I64_MIN]);
    expectValues(scatter(T('i64', [1], [2n ** 40n]), T('i64', [1], [0n]), T('i64', [1], [2n ** 40n]), 0, 'mul'), [0n]);
    expectValues(scatter(T('u64', [2], [1n, 2n ** 64n - 1n]), T('i64', [2], [0n, 1n]), T('u64', [2], [2n ** 63n, 0n]), 0, 'max'), [2n ** 63n, 2n ** 64n - 1n]);
    expectValues(scatter(T('f16', [1], [2048]), T('i64', [2], [0n, 0n]), T('f16', [2], [1, 1]), 0, 'add'), [2048]);
  });

  it('copies the data when there is nothing to write, and never changes its operand', () => {
    const data = T('f32', [2, 2], [1, 2, 3, 4]);
    expectTensor(scatter(data, T('i64', [0, 2], []), T('f32', [0, 2], []), 0), 'f32', [2, 2], [1, 2, 3, 4]);
    scatter(data, T('i64', [1, 1], [0n]), T('f32', [1, 1], [9]), 0);
    expectValues(data, [1, 2, 3, 4]);
  });

  it('fails at run time on an index out of range (E_RUNTIME)', () => {
    expect(errorCode(() => scatter(T('f32', [3], [0, 0, 0]), T('i64', [1], [3n]), T('f32', [1], [1]), 0))).toBe('E_RUNTIME');
    expect(errorCode(() => scatter(T('f32', [3], [0, 0, 0]), T('i64', [1], [-4n]), T('f32', [1], [1]), 0))).toBe('E_RUNTIME');
  });

  it('rejects bad operands (E_TYPE)', () => {
    const d = T('f32', [2, 2], [0, 0, 0, 0]);
    expect(errorCode(() => scatter(T('bool', [2], [0, 0]), T('i64', [1], [0n]), T('bool', [1], [1]), 0, 'add'))).toBe('E_TYPE');
    expect(errorCode(() => scatter(T('bool', [2], [0, 0]), T('i64', [1], [0n]), T('bool', [1], [1]), 0, 'mul'))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1, 1], [0n]), T('f64', [1, 1], [1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1, 2], [0n, 0n]), T('f32', [1, 1], [1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1], [0n]), T('f32', [1], [1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1, 3], [0n, 0n, 0n]), T('f32', [1, 3], [1, 1, 1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('f32', [1, 1], [0]), T('f32', [1, 1], [1]), 0))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1, 1], [0n]), T('f32', [1, 1], [1]), 0, 'sub'))).toBe('E_TYPE');
    expect(errorCode(() => scatter(d, T('i64', [1, 1], [0n]), T('f32', [1, 1], [1]), 2))).toBe('E_TYPE');
  });
});

/** Σ over contracting dims, one output element at a time, from the definition (in f64; small values). */
function naiveDot(a: Tensor, b: Tensor, d: Required<Dims>): Tensor {
  const free = (rank: number, used: number[]): number[] => [...Array(rank).keys()].filter((i) => !used.includes(i));
  const af = free(a.rank, [...d.lb, ...d.lc]);
  const bf = free(b.rank, [...d.rb, ...d.rc]);
  const shape = [...d.lb.map((i) => a.shape[i]!), ...af.map((i) => a.shape[i]!), ...bf.map((i) => b.shape[i]!)];
  const kShape = d.lc.map((i) => a.shape[i]!);
  return build(Tensor.zeros('f64', [0]), shape, (idx) => {
    const ai = new Array<number>(a.rank);
    const bi = new Array<number>(b.rank);
    d.lb.forEach((ax, j) => { ai[ax] = idx[j]!; bi[d.rb[j]!] = idx[j]!; });
    af.forEach((ax, j) => { ai[ax] = idx[d.lb.length + j]!; });
    bf.forEach((ax, j) => { bi[ax] = idx[d.lb.length + af.length + j]!; });
    let acc = 0;
    const kIdx = kShape.map(() => 0);
    const total = kShape.reduce((p, q) => p * q, 1);
    for (let k = 0; k < total; k++) {
      let r = k;
      for (let j = kShape.length - 1; j >= 0; j--) { kIdx[j] = r % kShape[j]!; r = Math.floor(r / kShape[j]!); }
      d.lc.forEach((ax, j) => { ai[ax] = kIdx[j]!; });
      d.rc.forEach((ax, j) => { bi[ax] = kIdx[j]!; });
      acc += Number(at(a, ai)) * Number(at(b, bi));
    }
    return acc;
  });
}

describe('prim.dot (general contraction)', () => {
  it('is a matmul with one contracting dim', () => {
    const r = dot(T('f32', [2, 2], [1, 2, 3, 4]), T('f32', [2, 3], [5, 6, 7, 8, 9, 10]), { lc: [1], rc: [0] });
    expectTensor(r, 'f32', [2, 3], [21, 24, 27, 47, 54, 61]);
    // Contracting lhs dim 0 is a transposed matmul.
    expectTensor(dot(T('f32', [2, 2], [1, 2, 3, 4]), T('f32', [2, 1], [1, 1]), { lc: [0], rc: [0] }), 'f32', [2, 1], [4, 6]);
  });

  it('handles batch dims and several contracting dims (numpy einsum bmkl,klbn->bmn)', () => {
    const a = T('i64', [2, 3, 4, 2], [4, 2, 0, -3, -2, -5, -5, -5, -4, 3, 2, 5, 0, 1, 5, 3, 1, 0, 1, 5, -2, 3, 2, -5, -1, 4, 1, -5, 3, 3, 4, -4, -5, 4, -5, 0, -5, -2, 0, -1, -1, -5, -5, -4, -5, 2, 0, 2].map(BigInt));
    const b = T('i64', [4, 2, 2, 5], [-3, 1, 3, -1, 0, 5, 3, 5, -1, 2, 5, 2, 4, 2, 2, -1, 4, -4, 1, 2, 4, 0, -1, -2, -1, 0, 2, 4, -5, 5, 0, -2, 2, 1, -3, -2, 2, 1, 0, -2, 3, -1, -2, 4, -3, -3, 2, 1, -5, -5, -1, 4, -1, 3, -2, -3, 3, 4, -5, -5, 2, -2, 1, -4, 4, -1, 4, 3, 2, -3, 3, -5, 1, -1, 5, -3, 5, -5, 1, 1].map(BigInt));
    const want = [-28, 31, 13, -1, -16, 53, -29, 15, -9, 22, -19, 26, 10, 0, -33, -9, 16, 25, -26, -25, -5, -30, -69, 68, 7, 11, -35, -16, 38, -12];
    const dims = { lb: [0], rb: [2], lc: [2, 3], rc: [0, 1] };
    expectTensor(dot(a, b, dims), 'i64', [2, 3, 5], want.map(BigInt));
    expectTensor(dot(castTo(a, 'f32'), castTo(b, 'f32'), dims), 'f32', [2, 3, 5], want);
    expectTensor(dot(castTo(a, 'i8'), castTo(b, 'i8'), dims), 'i8', [2, 3, 5], want.map((v) => ((v + 128) & 255) - 128));
  });

  it('covers outer products, elementwise batches, empty and rank-0 operands', () => {
    expectTensor(dot(T('f32', [2], [1, 2]), T('f32', [3], [1, 10, 100]), { lc: [], rc: [] }), 'f32', [2, 3], [1, 10, 100, 2, 20, 200]);
    expectTensor(dot(T('i32', [3], [1, 2, 3]), T('i32', [3], [4, 5, 6]), { lb: [0], rb: [0], lc: [], rc: [] }), 'i32', [3], [4, 10, 18]);
    expectTensor(dot(T('f32', [2, 0], []), T('f32', [0, 3], []), { lc: [1], rc: [0] }), 'f32', [2, 3], [0, 0, 0, 0, 0, 0]);
    expectTensor(dot(T('f32', [0, 3], []), ramp('f32', [3, 2]), { lc: [1], rc: [0] }), 'f32', [0, 2], []);
    expectTensor(dot(T('f32', [], [3]), T('f32', [], [-2]), { lc: [], rc: [] }), 'f32', [], [-6]);
    expectTensor(dot(T('f32', [3], [1, 2, 3]), T('f32', [3], [1, 1, 1]), { lc: [0], rc: [0] }), 'f32', [], [6]);
  });

  it('propagates NaN and inf, accumulates floats in double and rounds once', () => {
    expectValues(dot(T('f32', [1, 2], [0, 1]), T('f32', [2, 1], [Infinity, 1]), { lc: [1], rc: [0] }), [NaN]);
    expectValues(dot(T('f32', [1, 2], [0, 1]), T('f32', [2, 1], [NaN, 1]), { lc: [1], rc: [0] }), [NaN]);
    expectValues(dot(T('f32', [1, 2], [Infinity, 1]), T('f32', [2, 1], [1, -Infinity]), { lc: [1], rc: [0] }), [NaN]);
    expectValues(dot(T('f32', [3], [1, 2 ** -24, 2 ** -24]), T('f32', [3], [1, 1, 1]), { lc: [0], rc: [0] }), [1 + 2 ** -23]);
    expectValues(dot(T('f16', [3], [2048, 1, 1]), T('f16', [3], [1, 1, 1]), { lc: [0], rc: [0] }), [2050]);
    expectValues(dot(T('bf16', [2], [256, 1]), T('bf16', [2], [1, 1]), { lc: [0], rc: [0] }), [256]);
  });

  it('wraps integer sums of products', () => {
    expectValues(dot(T('i32', [2], [65536, 65536]), T('i32', [2], [65536, 1]), { lc: [0], rc: [0] }), [65536]);
    expectValues(dot(T('u8', [2], [16, 1]), T('u8', [2], [16, 1]), { lc: [0], rc: [0] }), [1]);
    expectValues(dot(T('u32', [1], [2 ** 32 - 1]), T('u32', [1], [2 ** 32 - 1]), { lc: [0], rc: [0] }), [1]);
    expectValues(dot(T('i64', [2], [2n ** 53n, 1n]), T('i64', [2], [1n, 1n]), { lc: [0], rc: [0] }), [2n ** 53n + 1n]);
    expectValues(dot(T('i64', [2], [2n ** 62n, 2n ** 62n]), T('i64', [2], [1n, 1n]), { lc: [0], rc: [0] }), [I64_MIN]);
    expectValues(dot(T('u64', [1], [2n ** 63n]), T('u64', [1], [2n]), { lc: [0], rc: [0] }), [0n]);
  });

  it('rejects mismatched dims and dtypes (E_TYPE)', () => {
    const a = ramp('f32', [2, 3]);
    expect(errorCode(() => dot(a, ramp('f32', [2, 3]), { lc: [1], rc: [0] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(a, ramp('f64', [3, 2]), { lc: [1], rc: [0] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(a, ramp('f32', [3, 2]), { lc: [1], rc: [] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(a, ramp('f32', [3, 2]), { lc: [2], rc: [0] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(a, ramp('f32', [3, 3]), { lc: [1, 1], rc: [0, 1] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(a, ramp('f32', [2, 3]), { lb: [0], rb: [0], lc: [0], rc: [1] }))).toBe('E_TYPE');
    expect(errorCode(() => dot(T('bool', [1], [1]), T('bool', [1], [1]), { lc: [0], rc: [0] }))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.dot', [a, a], { lhs_contract: A.ints([]) }))).toBe('E_VERIFY');
  });

  it('agrees with the naive sum on random dimension layouts', () => {
    const sizes = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 });
    const arb = fc.tuple(sizes, sizes, sizes, sizes, fc.constantFrom<DType>('i32', 'f64', 'i64')).chain(([bs, cs, lf, rf, dtype]) => {
      // Lay out each operand's axes in a random order and record where the batch and contracting ones land.
      const lRoles = [...bs.map((_, i) => ['b', i] as const), ...cs.map((_, i) => ['c', i] as const), ...lf.map((_, i) => ['f', i] as const)];
      const rRoles = [...bs.map((_, i) => ['b', i] as const), ...cs.map((_, i) => ['c', i] as const), ...rf.map((_, i) => ['f', i] as const)];
      return fc.tuple(
        fc.shuffledSubarray(lRoles, { minLength: lRoles.length, maxLength: lRoles.length }),
        fc.shuffledSubarray(rRoles, { minLength: rRoles.length, maxLength: rRoles.length }),
      ).map(([lo, ro]) => {
        const size = (r: readonly ['b' | 'c' | 'f', number], free: number[]): number => (r[0] === 'b' ? bs : r[0] === 'c' ? cs : free)[r[1]]!;
        const pos = (order: typeof lo, kind: 'b' | 'c'): number[] => (kind === 'b' ? bs : cs).map((_, i) => order.findIndex((r) => r[0] === kind && r[1] === i));
        return {
          dtype,
          lshape: lo.map((r) => size(r, lf)), rshape: ro.map((r) => size(r, rf)),
          dims: { lb: pos(lo, 'b'), rb: pos(ro, 'b'), lc: pos(lo, 'c'), rc: pos(ro, 'c') },
        };
      });
    });
    fc.assert(fc.property(arb, ({ dtype, lshape, rshape, dims }) => {
      const a = ramp(dtype, lshape, -2);
      const b = ramp(dtype, rshape, -3);
      expect(sameTensor(dot(a, b, dims), castTo(naiveDot(a, b, dims), dtype))).toBe(true);
    }), { seed: 202, numRuns: 300 });
  });
});

/** Convert through the interpreter's cast (the naive dot computes in JS numbers). */
function castTo(t: Tensor, dtype: DType): Tensor {
  const out = Tensor.zeros(dtype, t.shape);
  for (let i = 0; i < t.size; i++) out.set(i, t.data[i]!);
  return out;
}

describe('sources', () => {
  it('iota counts along its axis, converted to the dtype', () => {
    expectTensor(iota('f32', [2, 3], 1), 'f32', [2, 3], [0, 1, 2, 0, 1, 2]);
    expectTensor(iota('i64', [2, 3], 0), 'i64', [2, 3], [0n, 0n, 0n, 1n, 1n, 1n]);
    expectTensor(iota('i32', [2, 2, 2], 1), 'i32', [2, 2, 2], [0, 0, 1, 1, 0, 0, 1, 1]);
    expectTensor(iota('u8', [1], 0), 'u8', [1], [0]);
    expectValues(gather(iota('u8', [300], 0), T('i64', [2], [255n, 299n]), 0), [255, 43]);
    expectValues(gather(iota('f16', [2050], 0), T('i64', [2], [2049n, 2047n]), 0), [2048, 2047]);
    expectTensor(iota('f32', [0, 4], 1), 'f32', [0, 4], []);
    expectTensor(iota('f32', [3, 0], 0), 'f32', [3, 0], []);
  });

  it('iota rejects bool, a missing axis or one out of range', () => {
    expect(errorCode(() => iota('bool', [2], 0))).toBe('E_TYPE');
    expect(errorCode(() => iota('f32', [2], 1))).toBe('E_TYPE');
    expect(errorCode(() => iota('f32', [], 0))).toBe('E_TYPE');
    expect(errorCode(() => evalOp1('prim.iota', [], {}, { dtype: 'f32', shape: [2] }))).toBe('E_VERIFY');
  });

  it('shape gives the run-time shape as i64', () => {
    expectTensor(evalOp1('prim.shape', [ramp('f32', [2, 0, 3])]), 'i64', [3], [2n, 0n, 3n]);
    expectTensor(evalOp1('prim.shape', [T('bool', [], [1])]), 'i64', [0], []);
  });

  it('shape and iota resolve symbolic dims at run time', () => {
    const b = new GraphBuilder('sym');
    const x = b.input('x', 'f32', ['N', 2]);
    b.output(b.op1('prim.shape', [x]), 's');
    b.output(b.iota('i32', ['N', 2], 0), 'i');
    const [s, i] = interpret(b.build(), [ramp('f32', [3, 2])]);
    expectTensor(s!, 'i64', [2], [3n, 2n]);
    expectTensor(i!, 'i32', [3, 2], [0, 0, 1, 1, 2, 2]);
  });

  it('const gives its tensor', () => {
    const b = new GraphBuilder('c');
    b.output(b.const(T('f16', [2], [NaN, -0])));
    expectTensor(interpret(b.build(), [])[0]!, 'f16', [2], [NaN, -0]);
  });
});
