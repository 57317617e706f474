// Softmax family and normalizations (ops/norm.ts) where the conformance cases do not reach: softmax's
// 2-D coercion before opset 13, Hardmax ties, stash_type, GroupNormalization 18 vs 21, BatchNormalization's
// training outputs, rows whose variance or norm is 0, symbolic dims, and random inputs against ONNX Runtime.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode, expectTensor } from '../../support/check.js';
import { init, input, lowerNode, ortNode, runNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

const close = (t: Tensor, want: number[], tol = 1e-5): void => {
  expect(t.size).toBe(want.length);
  t.toNumbers().forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(v).toBe(w);
    else expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
};

/** aic agrees with ONNX Runtime on a one-node model: dtypes, shapes, and values within `tol`. */
async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: Operand[], outputs = 1, tol = 1e-4): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands, outputs);
  const got = runNode(op, opset, attrs, operands, outputs);
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

const shapes = (minRank: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: minRank, maxLength: 4 });
/** An axis in [-rank, rank) from a seed. */
const pickAxis = (rank: number, seed: number): number => (seed % (2 * rank)) - rank;

describe('Softmax, LogSoftmax, Hardmax', () => {
  const x = T('f32', [1, 2, 2], [0, 1, 2, 3]);
  const softmax = (v: number[]): number[] => {
    const m = Math.max(...v);
    const s = v.reduce((a, u) => a + Math.exp(u - m), 0);
    return v.map((u) => Math.exp(u - m) / s);
  };

  it('before opset 13 normalize over every axis from `axis` on (default 1); from 13 over one axis (default -1)', () => {
    close(runNode1('Softmax', 11, {}, [input(x)]), softmax([0, 1, 2, 3]));
    const [a, b] = [softmax([0, 2]), softmax([1, 3])];
    close(runNode1('Softmax', 13, { axis: 1 }, [input(x)]), [a[0]!, b[0]!, a[1]!, b[1]!]);
    close(runNode1('Softmax', 13, {}, [input(x)]), [...softmax([0, 1]), ...softmax([2, 3])]);
    close(runNode1('LogSoftmax', 11, { axis: 2 }, [input(x)]), [...softmax([0, 1]), ...softmax([2, 3])].map(Math.log));
  });

  it('stay finite for large inputs', () => {
    close(runNode1('Softmax', 13, {}, [input(T('f32', [3], [1e30, 1e30, 0]))]), [0.5, 0.5, 0]);
    close(runNode1('LogSoftmax', 13, {}, [input(T('f32', [2], [10000, 0]))]), [0, -10000]);
  });

  it('Hardmax is a one-hot of the first maximum (over the flattened trailing axes before 13)', () => {
    const y = T('f32', [2, 2, 2], [3, 1, 3, 0, 1, 2, 2, 2]);
    expectTensor(runNode1('Hardmax', 11, {}, [input(y)]), 'f32', [2, 2, 2], [1, 0, 0, 0, 0, 1, 0, 0]);
    expectTensor(runNode1('Hardmax', 13, {}, [input(y)]), 'f32', [2, 2, 2], [1, 0, 1, 0, 0, 1, 1, 0]);
    expectTensor(runNode1('Hardmax', 13, { axis: 1 }, [input(y, [2, 2, 'n'])]), 'f32', [2, 2, 2], [1, 1, 0, 0, 0, 1, 1, 0]);
  });
});

describe('normalizations', () => {
  it('LayerNormalization computes stage one in stash_type (f32 for f16 input) and returns Mean and InvStdDev', () => {
    const v = [1000, 1001, 1002, 1003];
    const [y, mean, inv] = runNode('LayerNormalization', 17, {}, [input(T('f16', [1, 4], v)), init(T('f16', [4], [1, 1, 1, 1]))], 3);
    const sd = Math.sqrt(1.25 + 1e-5);
    expect(`${y!.dtype} ${mean!.dtype} ${inv!.dtype}`).toBe('f16 f32 f32');
    close(y!, v.map((u) => (u - 1001.5) / sd), 1e-3);
    close(mean!, [1001.5]);
    close(inv!, [1 / sd]);
  });

  it('RMSNormalization divides by the root mean square over the axes from `axis` on', () => {
    const y = runNode1('RMSNormalization', 23, { axis: 1, epsilon: { f: 0 } }, [input(T('f32', [2, 2], [1, 1, 1, 5])), init(T('f32', [2], [1, 2]))]);
    close(y, [1, 2, 1 / Math.sqrt(13), 10 / Math.sqrt(13)]);
  });

  it('GroupNormalization scales per group at opset 18 and per channel at 21', () => {
    const x = T('f32', [1, 4, 2], [0, 2, 4, 6, 1, 1, 3, 5]);
    const std = (v: number[]): number[] => {
      const m = v.reduce((a, u) => a + u, 0) / v.length;
      const s = Math.sqrt(v.reduce((a, u) => a + (u - m) ** 2, 0) / v.length + 1e-5);
      return v.map((u) => (u - m) / s);
    };
    const [a, b] = [std([0, 2, 4, 6]), std([1, 1, 3, 5])];
    const want = [...a.map((u) => 2 * u + 1), ...b.map((u) => 3 * u - 1)];
    close(runNode1('GroupNormalization', 18, { num_groups: 2 }, [input(x), init(T('f32', [2], [2, 3])), init(T('f32', [2], [1, -1]))]), want);
    close(runNode1('GroupNormalization', 21, { num_groups: 2 }, [input(x), init(T('f32', [4], [2, 2, 3, 3])), init(T('f32', [4], [1, 1, -1, -1]))]), want);
    expect(errorCode(() => lowerNode('GroupNormalization', 21, { num_groups: 3 }, [input(x), init(T('f32', [4], [1, 1, 1, 1])), init(T('f32', [4], [0, 0, 0, 0]))]))).toBe('E_TYPE');
  });

  it('BatchNormalization in training mode uses batch statistics and updates the running ones with momentum', () => {
    const x = T('f32', [2, 1, 2], [1, 3, 5, 7]);
    const c = (v: number): Tensor => T('f32', [1], [v]);
    const [y, runMean, runVar] = runNode('BatchNormalization', 15, { training_mode: 1, epsilon: { f: 0 }, momentum: { f: 0.5 } },
      [input(x), init(c(1)), init(c(0)), init(c(2)), init(c(1))], 3);
    const sd = Math.sqrt(5);
    close(y!, [-3 / sd, -1 / sd, 1 / sd, 3 / sd]);
    close(runMean!, [3]); // 2·0.5 + 4·0.5
    close(runVar!, [3]); // 1·0.5 + 5·0.5
    // Inference: the given statistics, per channel.
    close(runNode1('BatchNormalization', 9, {}, [input(x), init(c(2)), init(c(1)), init(c(3)), init(c(4))]), [1, 3, 5, 7].map((u) => (2 * (u - 3)) / Math.sqrt(4 + 1e-5) + 1));
  });

  it('InstanceNormalization, LpNormalization and MVN give 0, not NaN, for constant or zero rows', () => {
    const x = T('f32', [1, 2, 3], [2, 2, 2, 0, 3, 6]);
    close(runNode1('InstanceNormalization', 6, {}, [input(x), init(T('f32', [2], [1, 1])), init(T('f32', [2], [5, 0]))]), [5, 5, 5, ...[-3, 0, 3].map((u) => u / Math.sqrt(6 + 1e-5))]);
    close(runNode1('MeanVarianceNormalization', 13, { axes: [2] }, [input(x)]), [0, 0, 0, ...[-3, 0, 3].map((u) => u / Math.sqrt(6))]);
    const z = T('f32', [2, 2], [0, 0, 3, -4]);
    close(runNode1('LpNormalization', 22, {}, [input(z)]), [0, 0, 0.6, -0.8]);
    close(runNode1('LpNormalization', 22, { p: 1, axis: 0 }, [input(z)]), [0, 0, 1, -1]);
  });

  it('LRN sums squares over a window of channels clipped at the edges', () => {
    const v = [1, 2, 3, 4];
    const x = T('f32', [1, 4, 1], v);
    const want = v.map((u, c) => {
      const window = v.slice(Math.max(0, c - 1), Math.min(4, c + 2 + 1)); // size 4: 1 before, 2 after
      return u / (2 + (0.5 / 4) * window.reduce((a, w) => a + w * w, 0)) ** 0.75;
    });
    close(runNode1('LRN', 13, { size: 4, alpha: { f: 0.5 }, bias: { f: 2 } }, [input(x)]), want);
  });
});

describe('random inputs against ONNX Runtime', () => {
  // ONNX Runtime's LayerNormalization and GroupNormalization take the variance in one f32 pass
  // (E[x²] − E[x]²), which loses about 1e-4 relative when a row's values are close together; aic
  // subtracts the mean first. The comparison allows for ORT's error, not ours.
  const NORM_TOL = 1e-3;
  test.prop([fc.constantFrom('Softmax', 'LogSoftmax', 'Hardmax'), fc.constantFrom(11, 13), shapes(1), fc.nat(), fc.integer()], { numRuns: 60 })(
    'Softmax, LogSoftmax, Hardmax (ties in Hardmax)',
    async (op, opset, shape, axisSeed, seed) => {
      const x = randomF32(shape, seed, -5, 5, op === 'Hardmax');
      await agreesWithOrt(op, opset, { axis: pickAxis(shape.length, axisSeed) }, [input(x)]);
    },
  );

  test.prop([shapes(1), fc.nat(), fc.integer(), fc.boolean()], { numRuns: 40 })(
    'LayerNormalization with its Mean and InvStdDev',
    async (shape, axisSeed, seed, withBias) => {
      const axis = pickAxis(shape.length, axisSeed);
      const normalized = shape.slice(axis < 0 ? axis + shape.length : axis);
      fc.pre(normalized.reduce((p, d) => p * d, 1) > 1); // ONNX Runtime refuses a single element
      const operands = [input(randomF32(shape, seed, -3, 3)), init(randomF32(normalized, seed + 1, -2, 2)), ...(withBias ? [init(randomF32(normalized, seed + 2, -2, 2))] : [])];
      await agreesWithOrt('LayerNormalization', 17, { axis, epsilon: { f: 1e-3 } }, operands, 3, NORM_TOL);
    },
  );

  test.prop([shapes(2), fc.integer(), fc.constantFrom('BatchNormalization', 'InstanceNormalization')], { numRuns: 40 })(
    'BatchNormalization (inference) and InstanceNormalization',
    async (shape, seed, op) => {
      fc.pre(op === 'BatchNormalization' || shape.length >= 3); // ONNX Runtime's InstanceNormalization wants rank 3+
      const c = shape[1]!;
      const params = op === 'BatchNormalization'
        ? [randomF32([c], seed + 1, -2, 2), randomF32([c], seed + 2, -2, 2), randomF32([c], seed + 3, -2, 2), randomF32([c], seed + 4, 0.1, 2)]
        : [randomF32([c], seed + 1, -2, 2), randomF32([c], seed + 2, -2, 2)];
      await agreesWithOrt(op, 15, { epsilon: { f: 1e-3 } }, [input(randomF32(shape, seed, -3, 3)), ...params.map(init)]);
    },
  );

  const nchw = fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }));
  test.prop([shapes(2), fc.nat(), fc.constantFrom(18, 21), fc.integer()], { numRuns: 40 })(
    'GroupNormalization (per group at 18, per channel at 21)',
    async (shape, groupSeed, opset, seed) => {
      const c = shape[1]!;
      const divisors = Array.from({ length: c }, (_, i) => i + 1).filter((g) => c % g === 0);
      const g = divisors[groupSeed % divisors.length]!;
      const n = opset === 18 ? g : c;
      const operands = [input(randomF32(shape, seed, -3, 3)), init(randomF32([n], seed + 1, -2, 2)), init(randomF32([n], seed + 2, -2, 2))];
      await agreesWithOrt('GroupNormalization', opset, { num_groups: g, epsilon: { f: 1e-3 } }, operands, 1, NORM_TOL);
    },
  );

  test.prop([shapes(1), fc.nat(), fc.integer()], { numRuns: 40 })('RMSNormalization', async (shape, axisSeed, seed) => {
    const axis = pickAxis(shape.length, axisSeed);
    const normalized = shape.slice(axis < 0 ? axis + shape.length : axis);
    fc.pre(normalized.reduce((p, d) => p * d, 1) > 1); // ONNX Runtime refuses a single element
    await agreesWithOrt('RMSNormalization', 23, { axis }, [input(randomF32(shape, seed, -3, 3)), init(randomF32(normalized, seed + 1, -2, 2))]);
  });

  // ONNX Runtime takes rank 4 and odd sizes only (the even window is tested above).
  test.prop([nchw, fc.constantFrom(1, 3, 5), fc.integer()], { numRuns: 40 })('LRN', async (shape, size, seed) => {
    await agreesWithOrt('LRN', 13, { size, alpha: { f: 0.01 }, beta: { f: 0.6 }, bias: { f: 1.5 } }, [input(randomF32(shape, seed, -3, 3))]);
  });

  test.prop([shapes(1), fc.nat(), fc.constantFrom(1, 2), fc.integer()], { numRuns: 40 })('LpNormalization', async (shape, axisSeed, p, seed) => {
    await agreesWithOrt('LpNormalization', 13, { axis: pickAxis(shape.length, axisSeed), p }, [input(randomF32(shape, seed, -3, 3))]);
  });

  test.prop([shapes(1), fc.nat(15), fc.integer()], { numRuns: 40 })('MeanVarianceNormalization', async (shape, mask, seed) => {
    const axes = shape.map((_, a) => a).filter((a) => (mask >> a) & 1);
    // ONNX Runtime divides 0 by 0 where the spec adds 1e-9 (a constant row is NaN there, 0 here): avoid those.
    fc.pre(axes.reduce((p, a) => p * shape[a]!, 1) > 1);
    await agreesWithOrt('MeanVarianceNormalization', 13, { axes }, [input(randomF32(shape, seed, -3, 3))], 1, 1e-3);
  });
});
