// Reductions and scans (ops/reduce.ts) where the conformance cases do not reach: axes as attribute or
// input by opset, noop_with_empty_axes, symbolic dims, a stable ReduceLogSumExp, integer and bool
// inputs, scans checked against a sequential scan on random data, random reductions against ONNX
// Runtime, and error codes.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../src/ir/dtype.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode, expectTensor } from '../../support/check.js';
import { init, input, lowerNode, ortNode, runNode, runNode1 } from '../../support/onnx-node.js';

const ints = (values: number[]): Tensor => T('i64', [values.length], values.map(BigInt));
const close = (t: Tensor, want: number[], tol = 1e-5): void => {
  expect(t.size).toBe(want.length);
  t.toNumbers().forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(v).toBe(w);
    else expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
};

/** aic agrees with ONNX Runtime on a one-node model: dtypes, shapes, and values within `tol`. */
async function agreesWithOrt(op: string, opset: number, attrs: Parameters<typeof runNode>[2], operands: Parameters<typeof runNode>[3], tol = 1e-5): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands);
  const got = runNode(op, opset, attrs, operands);
  got.forEach((g, i) => {
    expect(`${g.dtype}[${g.shape.join(',')}]`).toBe(`${want[i]!.dtype}[${want[i]!.shape.join(',')}]`);
    close(g, want[i]!.toNumbers(), tol);
  });
}

/** f32 values drawn from `seed`: uniform in [lo, hi), or whole numbers there when `whole` (to make ties). */
function randomF32(shape: number[], seed: number, lo: number, hi: number, whole = false): Tensor {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  const n = shape.reduce((p, d) => p * d, 1);
  return T('f32', shape, Array.from({ length: n }, () => (whole ? Math.floor(lo + next() * (hi - lo)) : lo + next() * (hi - lo))));
}

const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });

// x = arange(1, 13).reshape(3, 2, 2)
const X = T('f32', [3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

describe('Reduce*', () => {
  it('take axes as an attribute before opset 13 (ReduceSum) / 18 (others), as an input after', () => {
    expectTensor(runNode1('ReduceSum', 11, { axes: [1], keepdims: 0 }, [input(X)]), 'f32', [3, 2], [4, 6, 12, 14, 20, 22]);
    expectTensor(runNode1('ReduceSum', 13, { keepdims: 0 }, [input(X), init(ints([1]))]), 'f32', [3, 2], [4, 6, 12, 14, 20, 22]);
    expectTensor(runNode1('ReduceMean', 13, { axes: [-1] }, [input(X)]), 'f32', [3, 2, 1], [1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
    expectTensor(runNode1('ReduceMean', 18, {}, [input(X), init(ints([-1]))]), 'f32', [3, 2, 1], [1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
  });

  it('reduce every axis without axes, and nothing with noop_with_empty_axes (composites keep their pointwise steps)', () => {
    expectTensor(runNode1('ReduceSum', 13, { keepdims: 0 }, [input(X)]), 'f32', [], [78]);
    expectTensor(runNode1('ReduceMax', 18, {}, [input(X), init(ints([]))]), 'f32', [1, 1, 1], [12]);
    expectTensor(runNode1('ReduceSum', 13, { noop_with_empty_axes: 1 }, [input(X)]), 'f32', [3, 2, 2], X.toNumbers());
    const x = T('f32', [2], [-3, 4]);
    expectTensor(runNode1('ReduceSumSquare', 18, { noop_with_empty_axes: 1 }, [input(x)]), 'f32', [2], [9, 16]);
    expectTensor(runNode1('ReduceL2', 18, { noop_with_empty_axes: 1 }, [input(x), init(ints([]))]), 'f32', [2], [3, 4]);
  });

  it('count a mean over a symbolic dim at run time', () => {
    const x = T('f32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expectTensor(runNode1('ReduceMean', 18, { keepdims: 0 }, [input(x, ['n', 2]), init(ints([0]))]), 'f32', [2], [4, 5]);
  });

  it('ReduceLogSumExp is stable for large values and exact for -inf rows, +inf and empty sets', () => {
    const x = T('f32', [4, 2], [1000, 1000, -Infinity, -Infinity, Infinity, 1, -1000, -1001]);
    close(runNode1('ReduceLogSumExp', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), [1000 + Math.LN2, -Infinity, Infinity, -1000 + Math.log1p(Math.exp(-1))]);
    expectTensor(runNode1('ReduceLogSumExp', 18, {}, [input(Tensor.zeros('f32', [2, 0])), init(ints([1]))]), 'f32', [2, 1], [-Infinity, -Infinity]);
  });

  it('compute float formulas on integers through f64 and truncate back', () => {
    const x = T('i32', [2, 2], [3, 4, 1, 1]);
    expectTensor(runNode1('ReduceL2', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), 'i32', [2], [5, 1]);
    expectTensor(runNode1('ReduceLogSum', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), 'i32', [2], [1, 0]);
    expectTensor(runNode1('ReduceMean', 13, { axes: [1], keepdims: 0 }, [input(x)]), 'i32', [2], [3, 1]);
  });

  it('ReduceMax and ReduceMin take bools (False < True)', () => {
    const x = T('bool', [3, 2], [true, true, true, false, false, false]);
    expectTensor(runNode1('ReduceMax', 20, { keepdims: 0 }, [input(x), init(ints([1]))]), 'bool', [3], [1, 1, 0]);
    expectTensor(runNode1('ReduceMin', 20, { keepdims: 0 }, [input(x), init(ints([1]))]), 'bool', [3], [1, 0, 0]);
  });

  const REDUCTIONS = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];
  test.prop([fc.constantFrom(...REDUCTIONS), shapes, fc.nat(7), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 60 })(
    'agree with ONNX Runtime on random axes, keepdims and noop_with_empty_axes',
    async (op, shape, mask, keep, noop, seed) => {
      const rank = shape.length;
      const axes = Array.from({ length: rank }, (_, a) => a).filter((a) => (mask >> a) & 1).map((a) => (seed & 1 ? a - rank : a));
      const x = randomF32(shape, seed, op === 'ReduceLogSum' ? 0.1 : -3, 3);
      // ONNX Runtime 1.23 returns the input unchanged for a composite no-op (ReduceL2 of x is x, not |x|);
      // the spec applies the pointwise steps (onnx/onnx#7137, fixed in onnxruntime#26436): tested above.
      const plain = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd'].includes(op);
      await agreesWithOrt(op, 18, { keepdims: keep ? 1 : 0, noop_with_empty_axes: noop && plain ? 1 : 0 }, [input(x), init(ints(axes))]);
    },
  );

  it('reject repeated axes (E_TYPE) and axes fed at run time (E_UNSUPPORTED)', () => {
    expect(errorCode(() => lowerNode('ReduceSum', 13, {}, [input(X), init(ints([1, -2]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('ReduceSum', 13, {}, [input(X), input(ints([1]))]))).toBe('E_UNSUPPORTED');
  });
});

describe('ArgMax, ArgMin', () => {
  it('default to axis 0 with dims kept; select_last_index picks the last of ties', () => {
    const x = T('f32', [2, 3], [1, 5, 5, 5, 0, 5]);
    expectTensor(runNode1('ArgMax', 11, {}, [input(x)]), 'i64', [1, 3], [1n, 0n, 0n]);
    expectTensor(runNode1('ArgMax', 13, { axis: -1, keepdims: 0 }, [input(x)]), 'i64', [2], [1n, 0n]);
    expectTensor(runNode1('ArgMax', 13, { axis: -1, keepdims: 0, select_last_index: 1 }, [input(x)]), 'i64', [2], [2n, 2n]);
    expectTensor(runNode1('ArgMin', 13, { axis: 1, keepdims: 0, select_last_index: 1 }, [input(x)]), 'i64', [2], [0n, 1n]);
  });
});

describe('ArgMax, ArgMin on random data with ties', () => {
  test.prop([fc.constantFrom('ArgMax', 'ArgMin'), shapes, fc.nat(), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 40 })(
    'agree with ONNX Runtime',
    async (op, shape, axisSeed, keep, last, seed) => {
      const axis = (axisSeed % shape.length) - (seed & 1 ? shape.length : 0);
      await agreesWithOrt(op, 13, { axis, keepdims: keep ? 1 : 0, select_last_index: last ? 1 : 0 }, [input(randomF32(shape, seed, 0, 3, true))]);
    },
  );
});

describe('CumSum, CumProd', () => {
  /** The scan done one element after another, as the definition reads (BigInt for i64, wrapping i32). */
  function sequential(x: Tensor, axis: number, op: 'add' | 'mul', exclusive: boolean, reverse: boolean): Tensor {
    const out = Tensor.zeros(x.dtype, x.shape);
    const n = x.shape[axis]!;
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const outer = x.size / Math.max(1, n * inner);
    const big = x.dtype === 'i64';
    const combine = (a: number | bigint, b: number | bigint): number | bigint => {
      if (big) return BigInt.asIntN(64, op === 'add' ? (a as bigint) + (b as bigint) : (a as bigint) * (b as bigint));
      if (x.dtype === 'i32') return op === 'add' ? ((a as number) + (b as number)) | 0 : Math.imul(a as number, b as number);
      return Math.fround(op === 'add' ? (a as number) + (b as number) : (a as number) * (b as number));
    };
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc: number | bigint = big ? (op === 'add' ? 0n : 1n) : op === 'add' ? 0 : 1;
        for (let k = 0; k < n; k++) {
          const j = reverse ? n - 1 - k : k;
          const at = (o * n + j) * inner + i;
          if (!exclusive) acc = combine(acc, x.data[at]!);
          (out.data as unknown as (number | bigint)[])[at] = acc;
          if (exclusive) acc = combine(acc, x.data[at]!);
        }
      }
    }
    return out;
  }

  const cases = fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
    axisSeed: fc.nat(),
    exclusive: fc.boolean(),
    reverse: fc.boolean(),
    seed: fc.integer(),
  });

  test.prop([cases, fc.constantFrom<DType>('i32', 'i64')])('integer scans equal a sequential scan exactly (wrapping)', (c, dtype) => {
    const n = c.shape.reduce((p, d) => p * d, 1);
    let s = c.seed | 0;
    const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) | 0);
    const x = T(dtype, c.shape, Array.from({ length: n }, () => (dtype === 'i64' ? BigInt(next()) * 4294967311n : next())));
    const axis = c.axisSeed % c.shape.length;
    for (const [type, op] of [['CumSum', 'add'], ['CumProd', 'mul']] as const) {
      const got = runNode1(type, 26, { exclusive: c.exclusive ? 1 : 0, reverse: c.reverse ? 1 : 0 }, [input(x), init(T('i32', [], [axis - c.shape.length]))]);
      const want = sequential(x, axis, op, c.exclusive, c.reverse);
      expectTensor(got, want.dtype, want.shape, Array.from(want.data as ArrayLike<number | bigint>));
    }
  });

  test.prop([cases], { numRuns: 40 })('float CumSum agrees with ONNX Runtime (to rounding: the sums associate differently)', async (c) => {
    const axis = c.axisSeed % c.shape.length;
    const attrs = { exclusive: c.exclusive ? 1 : 0, reverse: c.reverse ? 1 : 0 };
    await agreesWithOrt('CumSum', 14, attrs, [input(randomF32(c.shape, c.seed, -3, 3)), init(T('i64', [], [BigInt(axis)]))], 1e-4);
  });

  it('keep infinities and NaN where a sequential scan has them', () => {
    const x = T('f32', [6], [1, Infinity, 2, -Infinity, 3, NaN]);
    expectTensor(runNode1('CumSum', 14, {}, [input(x), init(T('i64', [], [0n]))]), 'f32', [6], [1, Infinity, Infinity, NaN, NaN, NaN]);
    expectTensor(runNode1('CumSum', 14, { reverse: 1, exclusive: 1 }, [input(T('f32', [4], [1, Infinity, 2, 3])), init(T('i64', [], [0n]))]), 'f32', [4], [Infinity, 5, 3, 0]);
  });

  it('need the axis and its extent at compile time (E_UNSUPPORTED)', () => {
    const x = T('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(errorCode(() => lowerNode('CumSum', 14, {}, [input(x), input(T('i64', [], [0n]))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowerNode('CumSum', 14, {}, [input(x, [2, 'n']), init(T('i64', [], [1n]))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowerNode('CumSum', 14, {}, [input(x), init(T('i64', [], [2n]))]))).toBe('E_TYPE');
  });
});
