// Indexing ops (ops/indexing.ts) against ONNX Runtime on random data: GatherElements, GatherND with
// batch_dims, ScatterElements and ScatterND with every reduction; plus ReverseSequence, Compress's
// constant-condition rule and its refusal otherwise, OneHot's index forms, and the opset variants.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { AicError } from '../../../src/ir/error.js';
import { T, errorCode, expectTensor, ramp } from '../../support/check.js';
import { init, input, lowerNode, ortNode, runNode1, type Operand } from '../../support/onnx-node.js';

const i64 = (values: number[], shape = [values.length]): Tensor => T('i64', shape, values.map(BigInt));

async function sameAsOrt(op: string, opset: number, attrs: Parameters<typeof ortNode>[2], operands: Operand[]): Promise<void> {
  const want = (await ortNode(op, opset, attrs, operands))[0]!;
  expectTensor(runNode1(op, opset, attrs, operands), want.dtype, want.shape, want.data);
}

/** A shape of rank 1-3 with dims 1-4, an axis of it, and a seed. */
const caseArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })
  .chain((dims) => fc.tuple(fc.constant(dims), fc.integer({ min: 0, max: dims.length - 1 }), fc.infiniteStream(fc.integer({ min: -1000, max: 1000 }))));

describe('Gather and GatherElements', () => {
  it('Gather takes negative and scalar indices', () => {
    const x = ramp('f32', [3, 2]);
    expectTensor(runNode1('Gather', 13, {}, [input(x), input(i64([-1, 0]))]), 'f32', [2, 2], [4, 5, 0, 1]);
    expectTensor(runNode1('Gather', 13, { axis: -1 }, [input(x), input(T('i32', [], [1]))]), 'f32', [3], [1, 3, 5]);
    expect(errorCode(() => lowerNode('Gather', 13, {}, [input(x), input(T('f32', [1], [0]))]))).toBe('E_TYPE');
  });

  test.prop([caseArb, fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 3 })], { numRuns: 50 })(
    'GatherElements matches ONNX Runtime (negative indices, smaller index shapes)', async ([dims, axis, rnd], idxDims) => {
      const shape = dims.map((d, i) => (i === axis ? idxDims[i]! : Math.min(d, idxDims[i]!)));
      const n = shape.reduce((a, b) => a * b, 1);
      const it = rnd[Symbol.iterator]();
      const idx = Array.from({ length: n }, () => {
        const d = dims[axis]!;
        return (((it.next().value as number) % (2 * d)) + 2 * d) % (2 * d) - d; // in [-d, d)
      });
      await sameAsOrt('GatherElements', 13, { axis }, [input(ramp('f32', dims)), input(i64(idx, shape))]);
    });
});

describe('GatherND', () => {
  it('matches ONNX Runtime for batch_dims 0, 1 and 2 and negative indices', async () => {
    const data = ramp('f32', [2, 3, 4]);
    await sameAsOrt('GatherND', 13, {}, [input(data), input(i64([1, -1, 0, 2], [2, 2]))]);
    await sameAsOrt('GatherND', 13, {}, [input(data), input(i64([1, 0, 2, 1, 2, 3], [2, 1, 3]))]);
    await sameAsOrt('GatherND', 13, {}, [input(data), input(i64([0, 1], [2, 1, 1]))]);
    await sameAsOrt('GatherND', 13, { batch_dims: 1 }, [input(data), input(i64([2, -1, 0, 0], [2, 2]))]);
    await sameAsOrt('GatherND', 13, { batch_dims: 1 }, [input(data), input(i64([2, 1, 0, 1, 1, -2], [2, 3, 1]))]);
    await sameAsOrt('GatherND', 13, { batch_dims: 2 }, [input(data), input(i64([3, 2, 1, 0, 0, 1], [2, 3, 1]))]);
  });
});

describe('ScatterElements, Scatter, ScatterND', () => {
  for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
    it(`ScatterElements reduction ${reduction} matches ONNX Runtime`, async () => {
      const data = ramp('f32', [3, 3], 1);
      const idx = i64(reduction === 'none' ? [1, 0, 2, -1] : [1, 1, 2, -1], [2, 2]);
      await sameAsOrt('ScatterElements', 18, { axis: 1, reduction }, [input(data), input(idx), input(T('f32', [2, 2], [5, -6, 7, 8]))]);
    });
  }

  it('Scatter (opset 9-10) is ScatterElements without reduction; opset 11 ScatterElements has none', () => {
    const y = runNode1('Scatter', 10, { axis: 0 }, [input(ramp('f32', [2, 2])), input(i64([1, 0], [1, 2])), input(T('f32', [1, 2], [9, 8]))]);
    expectTensor(y, 'f32', [2, 2], [0, 8, 9, 3]);
    const z = runNode1('ScatterElements', 11, { reduction: 'add' }, [input(ramp('f32', [2])), input(i64([1])), input(T('f32', [1], [5]))]);
    expectTensor(z, 'f32', [2], [0, 5]);
  });

  for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
    it(`ScatterND reduction ${reduction} matches ONNX Runtime (slices and single elements)`, async () => {
      const data = ramp('f32', [4, 2, 3], 1);
      const rows = i64(reduction === 'none' ? [0, -1] : [0, 0], [2, 1]);
      await sameAsOrt('ScatterND', 18, { reduction }, [input(data), input(rows), input(ramp('f32', [2, 2, 3], 10))]);
      const elems = i64(reduction === 'none' ? [0, 1, 2, 3, 0, 0] : [0, 1, 2, 0, 1, 2], [2, 3]);
      await sameAsOrt('ScatterND', 18, { reduction }, [input(data), input(elems), input(T('f32', [2], [-4, 9]))]);
    });
  }

  it('ScatterND checks the shape of updates', () => {
    const e = errorCode(() => lowerNode('ScatterND', 18, {}, [input(ramp('f32', [4, 2])), input(i64([1], [1, 1])), input(ramp('f32', [1, 3]))]));
    expect(e).toBe('E_TYPE');
  });
});

describe('ReverseSequence, Compress, OneHot', () => {
  it('ReverseSequence matches ONNX Runtime on either axis layout', async () => {
    const x = ramp('f32', [4, 3, 2]);
    await sameAsOrt('ReverseSequence', 10, {}, [input(x), input(i64([4, 1, 3]))]);
    await sameAsOrt('ReverseSequence', 10, { batch_axis: 0, time_axis: 1 }, [input(ramp('f32', [3, 4, 2])), input(i64([2, 4, 1]))]);
    // A length of 0 copies the sequence (ONNX Runtime leaves it uninitialized).
    expectTensor(runNode1('ReverseSequence', 10, {}, [input(ramp('f32', [2, 2])), input(i64([0, 2]))]), 'f32', [2, 2], [0, 3, 2, 1]);
  });

  it('Compress with a constant condition, with and without axis; a run-time condition is refused', () => {
    const x = ramp('f32', [3, 2]);
    const cond = (v: boolean[]): Tensor => T('bool', [v.length], v);
    expectTensor(runNode1('Compress', 11, { axis: -2 }, [input(x), init(cond([true, false, true]))]), 'f32', [2, 2], [0, 1, 4, 5]);
    expectTensor(runNode1('Compress', 11, {}, [input(x), init(cond([false, true, false, true]))]), 'f32', [2], [1, 3]);
    expectTensor(runNode1('Compress', 11, { axis: 1 }, [input(x), init(cond([false]))]), 'f32', [3, 0], []);
    let err: unknown;
    try {
      lowerNode('Compress', 11, { axis: 0 }, [input(x), input(cond([true, true, true]))]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_UNSUPPORTED');
    expect((err as AicError).message).toContain('condition (input 1) must be a constant');
  });

  it('OneHot: float and negative indices, out of range rows of off values, any axis', async () => {
    const values = input(T('f32', [2], [-1, 5]));
    const depth = init(T('f32', [], [3.7]));
    const idx = input(T('f32', [2, 2], [0, -1, 2.9, 7]));
    const y = runNode1('OneHot', 11, {}, [idx, depth, values]);
    expectTensor(y, 'f32', [2, 2, 3], [5, -1, -1, -1, -1, 5, -1, -1, 5, -1, -1, -1]);
    await sameAsOrt('OneHot', 11, { axis: 0 }, [input(i64([1, -3, 2])), init(i64([3])), values]);
    await sameAsOrt('OneHot', 11, { axis: -2 }, [input(i64([0, 2, 1, 1], [2, 2])), init(i64([4])), values]);
  });
});
