// Quantization ops (ops/quant.ts) where the conformance cases do not reach: rounding ties and saturation
// of every quantized dtype, per-axis on other axes, blocked with a short last block, int32 dequantization,
// the integer kernels with strides, groups and per-channel parameters against ONNX Runtime, and the
// errors for types that are not quantized types (float8e8m0, int32) or parameter shapes that do not fit.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../src/ir/dtype.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { AicError } from '../../../src/ir/error.js';
import { T, errorCode, expectTensor } from '../../support/check.js';
import { init, input, ortNode, runNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

/** Deterministic pseudo-random numbers in [lo, hi). */
function random(n: number, seed: number, lo: number, hi: number, whole = false): number[] {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => (whole ? Math.floor(lo + next() * (hi - lo)) : lo + next() * (hi - lo)));
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** aic and ONNX Runtime give the same tensors (exactly for integers, to `tol` for floats). */
async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: Operand[], outputs = 1, tol = 0): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands, outputs);
  const got = runNode(op, opset, attrs, operands, outputs);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(`${g.dtype}[${g.shape.join(',')}]`).toBe(`${w.dtype}[${w.shape.join(',')}]`);
    const gv = g.toNumbers();
    w.toNumbers().forEach((v, k) => expect(Math.abs(gv[k]! - v)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
  });
}

describe('QuantizeLinear', () => {
  it('rounds half to even and saturates to each quantized dtype', () => {
    const x = T('f32', [8], [0.5, 1.5, 2.5, -0.5, -1.5, 1e9, -1e9, NaN]);
    const cases: [DType, number[]][] = [
      ['u8', [10, 12, 12, 10, 8, 255, 0]],
      ['i8', [10, 12, 12, 10, 8, 127, -128]],
      ['u16', [10, 12, 12, 10, 8, 65535, 0]],
      ['i16', [10, 12, 12, 10, 8, 32767, -32768]],
    ];
    for (const [dtype, want] of cases) {
      const y = runNode1('QuantizeLinear', 21, {}, [input(x), input(T('f32', [], [1])), input(T(dtype, [], [10]))]);
      expect(y.dtype).toBe(dtype);
      expect(y.toNumbers().slice(0, 7)).toEqual(want);
    }
  });

  it('defaults to uint8 with zero point 0, or output_dtype', () => {
    expectTensor(runNode1('QuantizeLinear', 21, {}, [input(T('f32', [3], [-3, 3, 300])), input(T('f32', [], [1]))]), 'u8', [3], [0, 3, 255]);
    expectTensor(runNode1('QuantizeLinear', 21, { output_dtype: 3 }, [input(T('f32', [3], [-3, 3, 300])), input(T('f32', [], [1]))]), 'i8', [3], [-3, 3, 127]);
  });

  it('quantizes per axis on any axis, including a negative one', () => {
    const x = T('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const y = runNode1('QuantizeLinear', 13, { axis: -2 }, [input(x), input(T('f32', [2], [1, 2])), input(T('i8', [2], [0, 100]))]);
    expectTensor(y, 'i8', [2, 3], [1, 2, 3, 102, 102, 103]);
  });

  it('quantizes in blocks, the last block possibly short', () => {
    // x [2, 5], blocks of 2 along axis 1: scales [2, 3].
    const x = T('f32', [2, 5], [2, 4, 6, 8, 10, 2, 4, 6, 8, 10]);
    const s = T('f32', [2, 3], [1, 2, 10, 2, 1, 0.5]);
    const y = runNode1('QuantizeLinear', 21, { axis: 1, block_size: 2 }, [input(x), input(s)]);
    expectTensor(y, 'u8', [2, 5], [2, 4, 3, 4, 1, 1, 2, 6, 8, 20]);
  });

  test.prop([fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer()], { numRuns: 12 })(
    'agrees with ONNX Runtime per tensor, per axis and blocked', async (mode, block, seed) => {
      const shape = [3, 4, 2];
      const x = T('f32', shape, random(24, seed, -300, 300));
      if (mode === 0) {
        await agreesWithOrt('QuantizeLinear', 21, {}, [input(x), input(T('f32', [], [1.7])), input(T('i8', [], [-3]))]);
      } else if (mode === 1) {
        await agreesWithOrt('QuantizeLinear', 21, { axis: 1 }, [input(x), input(T('f32', [4], random(4, seed + 1, 0.5, 3))), input(T('u8', [4], random(4, seed + 2, 0, 255, true)))]);
      } else {
        const blocks = Math.ceil(4 / block);
        const s = T('f32', [3, blocks, 2], random(3 * blocks * 2, seed + 3, 0.5, 4));
        const z = T('i16', [3, blocks, 2], random(3 * blocks * 2, seed + 4, -100, 100, true));
        await agreesWithOrt('QuantizeLinear', 21, { axis: 1, block_size: block }, [input(x), input(s), input(z)]);
      }
    });

  it('refuses output types that are not quantized types, naming them', () => {
    const x = input(T('f32', [2], [1, 2]));
    const s = input(T('f32', [], [1]));
    let err: unknown;
    try {
      runNode1('QuantizeLinear', 25, { output_dtype: 24 }, [x, s]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_UNSUPPORTED');
    expect((err as AicError).message).toContain('f8e8m0');
    expect(errorCode(() => runNode1('QuantizeLinear', 21, { output_dtype: 6 }, [x, s]))).toBe('E_UNSUPPORTED');
  });

  it('rejects scales that are neither per-tensor, per-axis nor blocked', () => {
    const x = input(T('f32', [2, 4], random(8, 1, 0, 1)));
    expect(errorCode(() => runNode1('QuantizeLinear', 21, { axis: 1 }, [x, input(T('f32', [3], [1, 1, 1]))]))).toBe('E_TYPE');
    expect(errorCode(() => runNode1('QuantizeLinear', 21, { axis: 1, block_size: 3 }, [x, input(T('f32', [2, 1], [1, 1]))]))).toBe('E_TYPE');
  });
});

describe('DequantizeLinear', () => {
  it('dequantizes int32 without a zero point, and every integer dtype with one', () => {
    expectTensor(runNode1('DequantizeLinear', 21, {}, [input(T('i32', [3], [-(2 ** 20), 0, 7])), input(T('f32', [], [0.5]))]), 'f32', [3], [-(2 ** 19), 0, 3.5]);
    for (const dtype of ['u8', 'i8', 'u16', 'i16'] as const) {
      const y = runNode1('DequantizeLinear', 21, {}, [input(T(dtype, [2], [10, 120])), input(T('f32', [], [2])), input(T(dtype, [], [20]))]);
      expectTensor(y, 'f32', [2], [-20, 200]);
    }
  });

  it('takes its output type from the scale, or output_dtype', () => {
    const y = runNode1('DequantizeLinear', 21, {}, [input(T('u8', [2], [1, 3])), init(T('f16', [], [0.1]))]);
    expect(y.dtype).toBe('f16');
    const z = runNode1('DequantizeLinear', 21, { output_dtype: 1 }, [input(T('u8', [2], [1, 3])), init(T('f32', [], [0.25]))]);
    expectTensor(z, 'f32', [2], [0.25, 0.75]);
  });

  test.prop([fc.integer({ min: 1, max: 5 }), fc.integer()], { numRuns: 8 })('agrees with ONNX Runtime when blocked', async (block, seed) => {
    const x = T('i8', [2, 5], random(10, seed, -128, 127, true));
    const blocks = Math.ceil(5 / block);
    await agreesWithOrt('DequantizeLinear', 21, { axis: 1, block_size: block }, [
      input(x), input(T('f32', [2, blocks], random(2 * blocks, seed + 1, 0.1, 2))), input(T('i8', [2, blocks], random(2 * blocks, seed + 2, -10, 10, true))),
    ], 1, 1e-6);
  });
});

describe('DynamicQuantizeLinear', () => {
  test.prop([fc.integer(), fc.integer({ min: 1, max: 20 })], { numRuns: 10 })('agrees with ONNX Runtime', async (seed, n) => {
    await agreesWithOrt('DynamicQuantizeLinear', 11, {}, [input(T('f32', [n], random(n, seed, -5, 7)))], 3, 1e-6);
  });
});

describe('QLinearMatMul, MatMulInteger, ConvInteger, QLinearConv', () => {
  const q = (dtype: DType, shape: number[], seed: number): Tensor =>
    T(dtype, shape, random(size(shape), seed, dtype === 'i8' ? -128 : 0, dtype === 'i8' ? 127 : 255, true));

  test.prop([fc.constantFrom<DType>('u8', 'i8'), fc.integer()], { numRuns: 8 })('QLinearMatMul agrees with ONNX Runtime, batch broadcast', async (dtype, seed) => {
    const a = q(dtype, [2, 3, 4], seed);
    const b = q(dtype, [4, 5], seed + 1);
    const s = (v: number): Operand => input(T('f32', [], [v]));
    const z = (v: number): Operand => input(T(dtype, [], [v]));
    await agreesWithOrt('QLinearMatMul', 21, {}, [input(a), s(0.02), z(3), input(b), s(0.03), z(-2 + (dtype === 'u8' ? 130 : 0)), s(0.5), z(1)]);
  });

  test.prop([fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer()], { numRuns: 8 })(
    'ConvInteger agrees with ONNX Runtime with strides, pads and groups', async (stride, group, seed) => {
      const x = q('u8', [1, 2, 5, 6], seed);
      const w = q('u8', [2, 2 / group, 3, 2], seed + 1);
      await agreesWithOrt('ConvInteger', 10, { strides: [stride, 1], pads: [1, 0, 1, 1], group }, [input(x), input(w), input(T('u8', [], [7])), input(T('u8', [], [100]))]);
    });

  it('QLinearConv applies per-channel weight scales and zero points along the output channels', async () => {
    const x = q('u8', [1, 2, 4, 4], 5);
    const w = q('u8', [3, 2, 2, 2], 6);
    const s = (v: number[]): Operand => input(T('f32', v.length === 1 ? [] : [v.length], v));
    await agreesWithOrt('QLinearConv', 10, { pads: [1, 1, 0, 0] }, [
      input(x), s([0.01]), input(T('u8', [], [128])), input(w), s([0.02, 0.03, 0.005]), input(T('u8', [3], [0, 0, 0])), s([0.05]), input(T('u8', [], [10])),
    ]);
  });
});
