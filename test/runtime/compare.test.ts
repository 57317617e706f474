import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import { Tensor } from '../../src/ir/tensor.js';
import { compareTensors, formatComparison } from '../../src/runtime/compare.js';
import { tensorArb } from './tensor-arb.js';

const f32 = (...v: number[]): Tensor => Tensor.from('f32', [v.length], v);
const f64 = (...v: number[]): Tensor => Tensor.from('f64', [v.length], v);

describe('compareTensors', () => {
  test.prop([tensorArb()])('a tensor equals itself', (t) => {
    const c = compareTensors(t, t);
    expect(c.ok).toBe(true);
    expect(c.mismatches).toBe(0);
  });

  it('uses |a-e| <= atol + rtol*|e|', () => {
    expect(compareTensors(f64(1000.9), f64(1000), { rtol: 1e-3, atol: 0 }).ok).toBe(true);
    expect(compareTensors(f64(1001.1), f64(1000), { rtol: 1e-3, atol: 0 }).ok).toBe(false);
    expect(compareTensors(f64(0.5), f64(0), { rtol: 1e-3, atol: 0.5 }).ok).toBe(true);
    // Relative to the expected value, not the actual one.
    expect(compareTensors(f64(0), f64(1), { rtol: 1, atol: 0 }).ok).toBe(true);
    expect(compareTensors(f64(1), f64(0), { rtol: 1, atol: 0 }).ok).toBe(false);
    const c = compareTensors(f64(1, 2.5), f64(1, 2));
    expect([c.maxAbsErr, c.maxRelErr]).toEqual([0.5, 0.25]);
  });

  it('defaults to rtol 1e-3, atol 1e-7', () => {
    const c = compareTensors(f32(0), f32(0));
    expect([c.rtol, c.atol]).toEqual([1e-3, 1e-7]);
    expect(compareTensors(f64(1e-7), f64(0)).ok).toBe(true);
    expect(compareTensors(f64(2e-7), f64(0)).ok).toBe(false);
  });

  it('NaN equals NaN; an infinity only itself; -0 equals 0', () => {
    expect(compareTensors(f32(NaN, Infinity, -Infinity, -0), f32(NaN, Infinity, -Infinity, 0)).ok).toBe(true);
    const nan = compareTensors(f32(NaN), f32(1));
    expect([nan.ok, nan.maxAbsErr]).toEqual([false, Infinity]);
    expect(compareTensors(f32(1), f32(NaN)).ok).toBe(false);
    expect(compareTensors(f32(Infinity), f32(-Infinity)).ok).toBe(false);
    expect(compareTensors(f32(3.4e38), f32(Infinity), { rtol: 1, atol: 1 }).ok).toBe(false);
    expect(compareTensors(f32(Infinity), f32(NaN)).ok).toBe(false);
  });

  it('compares integers exactly, whatever the tolerance', () => {
    const i32 = (...v: number[]): Tensor => Tensor.from('i32', [v.length], v);
    expect(compareTensors(i32(1, 2), i32(1, 3), { atol: 10, rtol: 10 }).mismatches).toBe(1);
    // 2^53 and 2^53+1 are the same double but different int64 values.
    const a = Tensor.from('i64', [1], [2n ** 53n]);
    const b = Tensor.from('i64', [1], [2n ** 53n + 1n]);
    const c = compareTensors(a, b, { atol: 1 });
    expect([c.ok, c.maxAbsErr, c.firstMismatch?.actual, c.firstMismatch?.expected]).toEqual([false, 1, 2n ** 53n, 2n ** 53n + 1n]);
    const u = Tensor.from('u64', [1], [2n ** 64n - 1n]);
    expect(compareTensors(u, Tensor.from('u64', [1], [2n ** 64n - 2n])).ok).toBe(false);
    const bools = compareTensors(Tensor.from('bool', [2], [true, false]), Tensor.from('bool', [2], [true, true]));
    expect([bools.ok, bools.firstMismatch]).toEqual([false, { index: [1], actual: false, expected: true }]);
  });

  it('requires equal shapes and dtypes', () => {
    const shape = compareTensors(Tensor.zeros('f32', [2, 3]), Tensor.zeros('f32', [3, 2]));
    expect([shape.ok, shape.reason]).toEqual([false, 'shape [2,3] differs from the expected [3,2]']);
    const dtype = compareTensors(Tensor.zeros('f32', [2]), Tensor.zeros('f64', [2]));
    expect([dtype.ok, dtype.reason]).toEqual([false, 'dtype f32 differs from the expected f64']);
    expect(formatComparison(dtype)).toBe('mismatch: dtype f32 differs from the expected f64');
    expect(compareTensors(Tensor.zeros('f32', []), Tensor.zeros('f32', [1])).ok).toBe(false);
    expect(compareTensors(Tensor.zeros('f32', [0, 2]), Tensor.zeros('f32', [0, 2])).ok).toBe(true);
  });

  it('reports the first mismatch by its multi-index, and counts them all', () => {
    const e = Tensor.from('f32', [2, 3], [0, 1, 2, 3, 4, 5]);
    const a = Tensor.from('f32', [2, 3], [0, 1, 2, 3, 4.5, 6]);
    const c = compareTensors(a, e);
    expect([c.ok, c.mismatches, c.size, c.firstMismatch]).toEqual([false, 2, 6, { index: [1, 1], actual: 4.5, expected: 4 }]);
    expect(c.reason).toBe('2 of 6 elements differ');
  });
});

describe('formatComparison', () => {
  it('says ok with the errors', () => {
    expect(formatComparison(compareTensors(f64(1, 2.0001), f64(1, 2)))).toBe(
      'ok: 2 elements match (max abs err 0.0001, max rel err 0.00005, rtol 0.001, atol 1e-7)');
  });

  it('names the first mismatch', () => {
    const c = compareTensors(Tensor.from('f32', [2, 2], [1, 2, 3, 5]), Tensor.from('f32', [2, 2], [1, 2, 3, 4]));
    expect(formatComparison(c)).toBe(
      'mismatch: 1 of 4 elements differ (max abs err 1, max rel err 0.25, rtol 0.001, atol 1e-7); first at [1,1]: got 5, expected 4');
    const big = compareTensors(Tensor.from('i32', [1], [123456789]), Tensor.from('i32', [1], [123456788]));
    expect(formatComparison(big)).toMatch(/got 123456789, expected 123456788$/);
    const nan = compareTensors(f32(NaN), f32(-0));
    expect(formatComparison(nan)).toMatch(/max abs err Infinity.*got NaN, expected -0$/);
  });
});
