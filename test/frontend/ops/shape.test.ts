// Shape and movement ops (ops/shape.ts) where the conformance cases do not reach: every Constant form,
// opset variants (attributes before inputs), Reshape's 0/-1/allowzero with symbolic dims, Slice and Pad
// against ONNX Runtime on random parameters, Split's uneven chunks, and the errors a rule gives.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatType } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { AicError } from '../../../src/ir/error.js';
import { T, errorCode, expectTensor, ramp } from '../../support/check.js';
import { graphModel, importNode, init, input, lowerNode, ortNode, runNode, runNode1, type GraphNode, type Operand } from '../../support/onnx-node.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { interpret } from '../../../src/runtime/interpreter.js';

const i64 = (values: number[]): Tensor => T('i64', [values.length], values.map(BigInt));
const outType = (op: string, opset: number, attrs: Parameters<typeof importNode>[2], operands: (Operand | null)[]): string =>
  formatType(importNode(op, opset, attrs, operands).graph.outputs[0]!.type);

/** The AicError a call throws. */
function errorOf(f: () => unknown): AicError {
  try {
    f();
  } catch (e) {
    if (e instanceof AicError) return e;
    throw e;
  }
  throw new Error('expected an AicError');
}

describe('Constant', () => {
  it('reads every value attribute form', () => {
    expectTensor(runNode1('Constant', 13, { value_float: { f: 2.5 } }, []), 'f32', [], [2.5]);
    expectTensor(runNode1('Constant', 13, { value_floats: { fs: [1, -2] } }, []), 'f32', [2], [1, -2]);
    expectTensor(runNode1('Constant', 13, { value_int: 7 }, []), 'i64', [], [7n]);
    expectTensor(runNode1('Constant', 13, { value_ints: [3, -4, 5] }, []), 'i64', [3], [3n, -4n, 5n]);
    expectTensor(runNode1('Constant', 1, { value: { t: T('i32', [2, 2], [1, 2, 3, 4]) } }, []), 'i32', [2, 2], [1, 2, 3, 4]);
    const sparse = { dims: [2, 3], indices: [1, 5], values: T('f32', [2], [7, 8]) };
    expectTensor(runNode1('Constant', 13, { sparse_value: { sparse } }, []), 'f32', [2, 3], [0, 7, 0, 0, 0, 8]);
  });

  it('refuses strings and a missing or doubled value', () => {
    expect(errorCode(() => lowerNode('Constant', 13, { value_string: 'hi' }, []))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowerNode('Constant', 13, {}, []))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Constant', 13, { value_int: 1, value_float: { f: 1 } }, []))).toBe('E_TYPE');
  });
});

describe('ConstantOfShape, Shape, Size', () => {
  it('fills a shape with the value (default f32 zero), an empty shape giving a scalar', () => {
    expectTensor(runNode1('ConstantOfShape', 20, {}, [init(i64([2, 1]))]), 'f32', [2, 1], [0, 0]);
    expectTensor(runNode1('ConstantOfShape', 20, { value: { t: T('i32', [1], [9]) } }, [init(i64([3]))]), 'i32', [3], [9, 9, 9]);
    expectTensor(runNode1('ConstantOfShape', 20, { value: { t: T('f32', [1], [4]) } }, [init(T('i64', [0], []))]), 'f32', [], [4]);
  });

  it('Shape with start/end folds the static part and keeps symbolic dims at run time', () => {
    const x = ramp('f32', [2, 3, 4]);
    expectTensor(runNode1('Shape', 15, { start: 1 }, [input(x)]), 'i64', [2], [3n, 4n]);
    expectTensor(runNode1('Shape', 15, { start: -1, end: 5 }, [input(x)]), 'i64', [1], [4n]);
    expectTensor(runNode1('Shape', 15, { start: 2, end: 1 }, [input(x)]), 'i64', [0], []);
    // The static tail of a symbolic shape is a constant; the symbolic head is read at run time.
    const g = lowerNode('Shape', 15, { start: 1 }, [input(x, ['N', 3, 4])]);
    expect(g.nodes.map((n) => n.op)).toEqual(['prim.const']);
    expectTensor(runNode1('Shape', 15, { end: 2 }, [input(x, ['N', 3, 4])]), 'i64', [2], [2n, 3n]);
    expectTensor(runNode1('Size', 13, {}, [input(x, ['N', 3, 'M'])]), 'i64', [], [24n]);
  });
});

describe('Reshape', () => {
  const x = ramp('f32', [2, 3, 4]);
  it('copies 0 dims and infers -1; allowzero (opset 14) keeps a literal 0', () => {
    expectTensor(runNode1('Reshape', 13, {}, [input(x), init(i64([0, -1]))]), 'f32', [2, 12], ramp('f32', [24]).data);
    const empty = ramp('f32', [0, 3]);
    expect(runNode1('Reshape', 14, { allowzero: 1 }, [input(empty), init(i64([3, 0]))]).shape).toEqual([3, 0]);
    expect(runNode1('Reshape', 14, { allowzero: 0 }, [input(empty), init(i64([0, 3]))]).shape).toEqual([0, 3]);
    expect(errorCode(() => lowerNode('Reshape', 14, { allowzero: 0 }, [input(ramp('f32', [2, 3])), init(i64([3, 0]))]))).toBe('E_TYPE');
  });

  it('reads the shape attribute before opset 5', () => {
    expect(runNode1('Reshape', 1, { shape: [4, -1] }, [input(x)]).shape).toEqual([4, 6]);
  });

  it('keeps symbolic dims that 0 copies or -1 carries', () => {
    expect(outType('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([0, -1]))])).toBe('f32[N,12]');
    expect(outType('Reshape', 13, {}, [input(x, ['N', 12]), init(i64([-1, 3, 4]))])).toBe('f32[N,3,4]');
    expect(outType('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([0, 2, 6]))])).toBe('f32[N,2,6]');
    expectTensor(runNode1('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([0, -1]))]), 'f32', [2, 12], ramp('f32', [24]).data);
    // Merged symbolic dims become dim expressions, evaluated once N and M are bound.
    expect(outType('Reshape', 13, {}, [input(x, ['N', 'M', 4]), init(i64([-1]))])).toBe('f32[4*M*N]');
    expectTensor(runNode1('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([-1, 2]))]), 'f32', [12, 2], ramp('f32', [24]).data);
    // A size that cannot be shown to match is refused, not guessed.
    expect(errorCode(() => lowerNode('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([6, 4]))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowerNode('Reshape', 13, {}, [input(x, ['N', 3, 4]), init(i64([-1, 5]))]))).toBe('E_UNSUPPORTED');
  });

  it('names the problem: two -1, a bad count, a shape known only at run time', () => {
    expect(errorOf(() => lowerNode('Reshape', 13, {}, [input(x), init(i64([-1, -1]))])).message).toContain('more than one -1');
    expect(errorCode(() => lowerNode('Reshape', 13, {}, [input(x), init(i64([5, 5]))]))).toBe('E_TYPE');
    const e = errorOf(() => lowerNode('Reshape', 13, {}, [input(x), input(i64([24]))]));
    expect(e.code).toBe('E_UNSUPPORTED');
    expect(e.message).toContain('Reshape');
    expect(e.message).toContain('shape (input 1) must be a constant');
  });
});

describe('Flatten, Squeeze, Unsqueeze, Transpose, Concat', () => {
  const x = ramp('f32', [2, 3, 4]);
  it('Flatten at every axis, symbolic outer dims kept', () => {
    expect(runNode1('Flatten', 13, { axis: 0 }, [input(x)]).shape).toEqual([1, 24]);
    expect(runNode1('Flatten', 13, { axis: 3 }, [input(x)]).shape).toEqual([24, 1]);
    expect(runNode1('Flatten', 13, { axis: -2 }, [input(x)]).shape).toEqual([2, 12]);
    expect(outType('Flatten', 13, {}, [input(x, ['N', 3, 4])])).toBe('f32[N,12]');
    expect(outType('Flatten', 13, { axis: 2 }, [input(x, ['N', 3, 4])])).toBe('f32[3*N,4]');
    expect(runNode1('Flatten', 13, { axis: 2 }, [input(x, ['N', 3, 4])]).shape).toEqual([6, 4]);
    expect(errorCode(() => lowerNode('Flatten', 13, { axis: 4 }, [input(x)]))).toBe('E_TYPE');
  });

  it('Squeeze/Unsqueeze read axes from the attribute before opset 13 and the input from 13', () => {
    const y = ramp('f32', [1, 3, 1]);
    expect(runNode1('Squeeze', 11, { axes: [-1] }, [input(y)]).shape).toEqual([1, 3]);
    expect(runNode1('Squeeze', 13, {}, [input(y), init(i64([0]))]).shape).toEqual([3, 1]);
    expect(runNode1('Squeeze', 13, {}, [input(y)]).shape).toEqual([3]);
    expect(runNode1('Unsqueeze', 11, { axes: [0, -1] }, [input(x)]).shape).toEqual([1, 2, 3, 4, 1]);
    expect(runNode1('Unsqueeze', 13, {}, [input(x), init(i64([3, 0]))]).shape).toEqual([1, 2, 3, 1, 4]);
    expect(errorCode(() => lowerNode('Squeeze', 13, {}, [input(x), init(i64([1]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Unsqueeze', 13, {}, [input(x), init(i64([1, 1]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Squeeze', 13, {}, [input(y, ['N', 3, 1])]))).toBe('E_UNSUPPORTED');
    expect(outType('Squeeze', 13, {}, [input(y, ['N', 3, 1]), init(i64([2]))])).toBe('f32[N,3]');
  });

  it('Transpose defaults to reversing and keeps symbols', () => {
    const t = runNode1('Transpose', 13, {}, [input(ramp('f32', [2, 3]))]);
    expectTensor(t, 'f32', [3, 2], [0, 3, 1, 4, 2, 5]);
    expect(outType('Transpose', 13, { perm: [2, 0, 1] }, [input(x, ['N', 3, 'M'])])).toBe('f32[M,N,3]');
    expect(errorCode(() => lowerNode('Transpose', 13, { perm: [0, 0, 1] }, [input(x)]))).toBe('E_TYPE');
  });

  it('Concat: negative axis, empty operands, symbolic off-axis dims; axis defaults to 1 in opset 1', () => {
    const a = ramp('f32', [2, 2]);
    const e = ramp('f32', [2, 0]);
    expectTensor(runNode1('Concat', 13, { axis: -1 }, [input(a), input(e), input(a)]), 'f32', [2, 4], [0, 1, 0, 1, 2, 3, 2, 3]);
    expect(runNode1('Concat', 1, {}, [input(a), input(a)]).shape).toEqual([2, 4]);
    expect(outType('Concat', 13, { axis: 1 }, [input(a, ['N', 2]), input(a, ['N', 2])])).toBe('f32[N,4]');
    expect(errorCode(() => lowerNode('Concat', 13, { axis: 0 }, [input(a), input(T('i32', [1, 2], [1, 2]))]))).toBe('E_TYPE');
  });
});

describe('Split', () => {
  const x = ramp('f32', [7]);
  const shapes = (ts: Tensor[]): number[][] => ts.map((t) => [...t.shape]);
  it('splits by the attribute (opset 2-12), the input (13+), or num_outputs (18+, last chunk smaller)', () => {
    expect(shapes(runNode('Split', 11, { split: [2, 5] }, [input(x)], 2))).toEqual([[2], [5]]);
    expect(shapes(runNode('Split', 13, {}, [input(x), init(i64([4, 3]))], 2))).toEqual([[4], [3]]);
    const parts = runNode('Split', 18, { num_outputs: 3 }, [input(x)], 3);
    expect(shapes(parts)).toEqual([[3], [3], [1]]);
    expectTensor(parts[2]!, 'f32', [1], [6]);
    expect(shapes(runNode('Split', 18, { num_outputs: 3 }, [input(ramp('f32', [4]))], 3))).toEqual([[2], [2], [0]]);
    expect(shapes(runNode('Split', 13, { axis: -1 }, [input(ramp('f32', [2, 6]))], 3))).toEqual([[2, 2], [2, 2], [2, 2]]);
  });

  it('refuses an uneven equal split and a split that does not add up', () => {
    expect(errorCode(() => lowerNode('Split', 13, {}, [input(x)], 2))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Split', 13, {}, [input(x), init(i64([3, 3]))], 2))).toBe('E_TYPE');
  });
});

describe('Slice', () => {
  it('opset 1 reads attributes (axes default to the leading ones), clamping INT64_MAX-like ends', () => {
    const x = ramp('f32', [3, 4]);
    expectTensor(runNode1('Slice', 1, { starts: [1, 1], ends: [2 ** 62, 3] }, [input(x)]), 'f32', [2, 2], [5, 6, 9, 10]);
    expectTensor(runNode1('Slice', 9, { starts: [-1], ends: [1000], axes: [1] }, [input(x)]), 'f32', [3, 1], [3, 7, 11]);
  });

  it('reverses with negative steps to INT64_MIN, in any axis order', () => {
    const x = ramp('f32', [2, 3]);
    const min = -(2n ** 63n);
    const max = 2n ** 63n - 1n;
    const y = runNode1('Slice', 13, {}, [input(x), init(T('i64', [2], [-1n, 0n])), init(T('i64', [2], [min, max])), init(i64([1, 0])), init(i64([-1, 1]))]);
    expectTensor(y, 'f32', [2, 3], [2, 1, 0, 5, 4, 3]);
  });

  it('keeps a whole-axis slice of a symbolic dim', () => {
    const ends = T('i64', [2], [2n ** 63n - 1n, 3n]);
    expect(outType('Slice', 13, {}, [input(ramp('f32', [2, 5]), ['N', 5]), init(i64([0, 1])), init(ends)])).toBe('f32[N,2]');
  });

  const dimsArb = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 });
  const bound = fc.oneof(fc.integer({ min: -7, max: 7 }), fc.constantFrom(-(2 ** 40), 2 ** 40));
  test.prop([dimsArb.chain((dims) => fc.tuple(fc.constant(dims), fc.array(fc.tuple(fc.integer({ min: 0, max: dims.length - 1 }), bound, bound, fc.constantFrom(-3, -2, -1, 1, 2, 3)), { minLength: 1, maxLength: dims.length })))], { numRuns: 60 })(
    'matches ONNX Runtime on random starts, ends and steps', async ([dims, specs]) => {
      const seen = new Set<number>();
      const uniq = specs.filter(([a]) => !seen.has(a) && Boolean(seen.add(a)));
      const operands = [input(ramp('f32', dims)), init(i64(uniq.map((s) => s[1]))), init(i64(uniq.map((s) => s[2]))), init(i64(uniq.map((s) => s[0] - (s[0] % 2) * dims.length))), init(i64(uniq.map((s) => s[3])))];
      const want = (await ortNode('Slice', 13, {}, operands))[0]!;
      expectTensor(runNode1('Slice', 13, {}, operands), 'f32', want.shape, want.data);
    });
});

describe('Pad', () => {
  it('reads pads and value as attributes before opset 11 (paddings in opset 1)', () => {
    const x = ramp('f32', [2]);
    expectTensor(runNode1('Pad', 2, { pads: [1, 2], value: { f: 9 } }, [input(x)]), 'f32', [5], [9, 0, 1, 9, 9]);
    expectTensor(runNode1('Pad', 1, { paddings: [0, 1], mode: 'edge' }, [input(x)]), 'f32', [3], [0, 1, 1]);
  });

  it('axes (opset 18) pick the padded axes; a run-time constant_value is selected, not folded', () => {
    const x = ramp('f32', [2, 2]);
    expectTensor(runNode1('Pad', 18, {}, [input(x), init(i64([1, 0])), init(T('f32', [], [7])), init(i64([-1]))]), 'f32', [2, 3], [7, 0, 1, 7, 2, 3]);
    expectTensor(runNode1('Pad', 13, {}, [input(x), init(i64([0, 1, 0, 0])), input(T('f32', [], [-5]))]), 'f32', [2, 3], [-5, 0, 1, -5, 2, 3]);
  });

  it('wrap and reflect pads longer than the axis repeat as numpy.pad does', () => {
    const x = ramp('f32', [3], 1);
    expectTensor(runNode1('Pad', 19, { mode: 'wrap' }, [input(x), init(i64([4, 2]))]), 'f32', [9], [3, 1, 2, 3, 1, 2, 3, 1, 2]);
    expectTensor(runNode1('Pad', 19, { mode: 'reflect' }, [input(x), init(i64([5, 4]))]), 'f32', [12], [2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3]);
  });

  it('refuses wrap before opset 19 and an unknown mode', () => {
    const x = ramp('f32', [3]);
    expect(errorCode(() => lowerNode('Pad', 18, { mode: 'wrap' }, [input(x), init(i64([1, 1]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Pad', 18, { mode: 'mirror' }, [input(x), init(i64([1, 1]))]))).toBe('E_TYPE');
  });

  const padArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((dims) =>
    fc.tuple(fc.constant(dims), fc.array(fc.integer({ min: -1, max: 3 }), { minLength: 2 * dims.length, maxLength: 2 * dims.length }),
      fc.constantFrom('constant', 'reflect', 'edge', 'wrap')));
  test.prop([padArb], { numRuns: 80 })('matches ONNX Runtime in every mode, with crops', async ([dims, pads, mode]) => {
    const r = dims.length;
    // Every axis keeps at least one element after cropping (two to reflect). ORT reads out of bounds when
    // a wrap pad exceeds the axis and refuses reflect pads as long as it, so those stay in range here.
    const kept = dims.map((d, i) => d + Math.min(0, pads[i]!) + Math.min(0, pads[i + r]!));
    const longest = (i: number): number => Math.max(pads[i]!, pads[i + r]!);
    if (kept.some((n, i) => n < 1 || (mode === 'reflect' && (n < 2 || longest(i) >= n)) || (mode === 'wrap' && longest(i) > n))) return;
    const operands = [input(ramp('f32', dims, 1)), init(i64(pads)), init(T('f32', [], [-1]))];
    const want = (await ortNode('Pad', 19, { mode }, operands))[0]!;
    expectTensor(runNode1('Pad', 19, { mode }, operands), 'f32', want.shape, want.data);
  });
});

describe('Expand, Tile, Range, EyeLike, Trilu, CenterCropPad', () => {
  it('Expand broadcasts both ways; Tile repeats', () => {
    expect(runNode1('Expand', 13, {}, [input(ramp('f32', [3, 1])), init(i64([2, 1, 4]))]).shape).toEqual([2, 3, 4]);
    expect(outType('Expand', 13, {}, [input(ramp('f32', [2, 1]), ['N', 1]), init(i64([1, 3]))])).toBe('f32[N,3]');
    expectTensor(runNode1('Tile', 13, {}, [input(ramp('f32', [2, 2])), init(i64([1, 2]))]), 'f32', [2, 4], [0, 1, 0, 1, 2, 3, 2, 3]);
    expectTensor(runNode1('Tile', 13, {}, [input(ramp('i64', [2])), init(i64([0]))]), 'i64', [0], []);
    expect(outType('Tile', 13, {}, [input(ramp('f32', [2, 2]), ['N', 2]), init(i64([3, 1]))])).toBe('f32[3*N,2]');
    expectTensor(runNode1('Tile', 13, {}, [input(ramp('f32', [1, 2]), ['N', 2]), init(i64([2, 1]))]), 'f32', [2, 2], [0, 1, 0, 1]);
  });

  it('Range: empty, negative delta, and a long f16 ramp without drift', () => {
    const s = (dtype: 'f32' | 'i32' | 'f16', v: number): Operand => init(T(dtype, [], [v]));
    expectTensor(runNode1('Range', 11, {}, [s('i32', 10), s('i32', 4), s('i32', -3)]), 'i32', [2], [10, 7]);
    expectTensor(runNode1('Range', 11, {}, [s('f32', 1), s('f32', 1), s('f32', 1)]), 'f32', [0], []);
    const r = runNode1('Range', 11, {}, [s('f16', 0), s('f16', 600), s('f16', 0.5)]);
    expect(r.shape).toEqual([1200]);
    expect(r.data[1199]).toBe(599.5);
    expect(errorCode(() => lowerNode('Range', 11, {}, [input(T('f32', [], [0])), s('f32', 3), s('f32', 1)]))).toBe('E_UNSUPPORTED');
  });

  it('EyeLike with k and dtype; Trilu with a run-time k', () => {
    expectTensor(runNode1('EyeLike', 22, { k: 1, dtype: 6 }, [input(ramp('f32', [2, 3]))]), 'i32', [2, 3], [0, 1, 0, 0, 0, 1]);
    const x = ramp('f32', [3, 3], 1);
    expectTensor(runNode1('Trilu', 14, { upper: 0 }, [input(x), input(T('i64', [], [-1n]))]), 'f32', [3, 3], [0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expectTensor(runNode1('Trilu', 14, {}, [input(x)]), 'f32', [3, 3], [1, 2, 3, 0, 5, 6, 0, 0, 9]);
  });

  it('CenterCropPad crops left of center and pads the extra pixel on the right', () => {
    expectTensor(runNode1('CenterCropPad', 18, {}, [input(ramp('f32', [5])), init(i64([2]))]), 'f32', [2], [1, 2]);
    expectTensor(runNode1('CenterCropPad', 18, {}, [input(ramp('f32', [2], 1)), init(i64([5]))]), 'f32', [5], [0, 1, 2, 0, 0]);
    expect(runNode1('CenterCropPad', 18, { axes: [-1] }, [input(ramp('f32', [2, 3])), init(i64([1]))]).shape).toEqual([2, 1]);
  });
});

describe('shape arithmetic over symbolic dims', () => {
  const flattenBatch: GraphNode[] = [
    { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['n', 'zeros'], outputs: ['n1'] },
    { op: 'Concat', inputs: ['n1', 'minus1'], outputs: ['spec'], attrs: { axis: 0 } },
    { op: 'Reshape', inputs: ['x', 'spec'], outputs: ['y'] },
    { op: 'Expand', inputs: ['b', 's'], outputs: ['e'] },
    { op: 'ConstantOfShape', inputs: ['spec2'], outputs: ['c'], attrs: { value: { t: T('f32', [1], [2]) } } },
    { op: 'Slice', inputs: ['s', 'zeros', 'two'], outputs: ['spec2'] },
  ];
  const operands = {
    x: input(ramp('f32', [2, 3, 4]), ['N', 3, 4]),
    b: input(ramp('f32', [4]), [4]),
    zero: init(T('i64', [], [0n])),
    zeros: init(i64([0])),
    two: init(i64([2])),
    minus1: init(i64([-1])),
  };

  it('x.view(x.size(0), -1), Expand and ConstantOfShape to a shape read from x keep the symbol', () => {
    const m = importModel(decodeModelProto(graphModel(13, flattenBatch, operands, ['y', 'e', 'c']), 'trace.onnx'));
    expect(m.graph.outputs.map((v) => formatType(v.type))).toEqual(['f32[N,12]', 'f32[N,3,4]', 'f32[N,3]']);
    const g = lowerModel(m);
    verifyGraph(g);
    const [y, e, c] = interpret(g, [operands.x.value, operands.b.value]);
    expectTensor(y!, 'f32', [2, 12], ramp('f32', [24]).data);
    expect(e!.shape).toEqual([2, 3, 4]);
    expectTensor(c!, 'f32', [2, 3], [2, 2, 2, 2, 2, 2]);
  });
});

describe('shape arithmetic with products of symbolic dims', () => {
  it('x.reshape(x.size(0) * x.size(1), -1) is f32[N*T, 4]', () => {
    const nodes: GraphNode[] = [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Gather', inputs: ['s', 'one'], outputs: ['t'], attrs: { axis: 0 } },
      { op: 'Mul', inputs: ['n', 't'], outputs: ['nt'] },
      { op: 'Unsqueeze', inputs: ['nt', 'zeros'], outputs: ['nt1'] },
      { op: 'Concat', inputs: ['nt1', 'minus1'], outputs: ['spec'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'spec'], outputs: ['y'] },
    ];
    const ops = {
      x: input(ramp('f32', [2, 3, 4]), ['N', 'T', 4]), zero: init(T('i64', [], [0n])), one: init(T('i64', [], [1n])),
      zeros: init(i64([0])), minus1: init(i64([-1])),
    };
    const m = importModel(decodeModelProto(graphModel(13, nodes, ops, ['y']), 'nt.onnx'));
    expect(formatType(m.graph.outputs[0]!.type)).toBe('f32[N*T,4]');
    expectTensor(interpret(lowerModel(m), [ops.x.value])[0]!, 'f32', [6, 4], ramp('f32', [24]).data);
  });
});

describe('Range over a symbolic length', () => {
  it('range(0, x.shape[1], 1) is an iota of the symbolic length', () => {
    const nodes: GraphNode[] = [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'one'], outputs: ['n'], attrs: { axis: 0 } },
      { op: 'Range', inputs: ['zero', 'n', 'one'], outputs: ['r'] },
    ];
    const ops = { x: input(ramp('f32', [2, 3]), [2, 'L']), zero: init(T('i64', [], [0n])), one: init(T('i64', [], [1n])) };
    const m = importModel(decodeModelProto(graphModel(13, nodes, ops, ['r']), 'range.onnx'));
    expect(formatType(m.graph.outputs[0]!.type)).toBe('i64[L]');
    expectTensor(interpret(lowerModel(m), [ops.x.value])[0]!, 'i64', [3], [0n, 1n, 2n]);
  });
});

describe('Slice with run-time bounds a fixed distance apart', () => {
  const nodes: GraphNode[] = [
    { op: 'Add', inputs: ['i', 'two'], outputs: ['j'] },
    { op: 'Unsqueeze', inputs: ['i', 'zeros'], outputs: ['s'] },
    { op: 'Unsqueeze', inputs: ['j', 'zeros'], outputs: ['e'] },
    { op: 'Slice', inputs: ['x', 's', 'e'], outputs: ['y'] },
  ];
  const ops = { x: input(ramp('f32', [5])), i: input(T('i64', [], [0n])), two: init(T('i64', [], [2n])), zeros: init(i64([0])) };
  const g = lowerModel(importModel(decodeModelProto(graphModel(13, nodes, ops, ['y']), 'dyn.onnx')));
  const at = (i: number): Tensor => interpret(g, [ops.x.value, T('i64', [], [BigInt(i)])])[0]!;

  it('x[i : i + 2] is a window of 2 wherever ONNX gives one', () => {
    expect(formatType(g.outputs[0]!.type)).toBe('f32[2]');
    expectTensor(at(0), 'f32', [2], [0, 1]);
    expectTensor(at(3), 'f32', [2], [3, 4]);
    expectTensor(at(-3), 'f32', [2], [2, 3]);
  });

  it('fails at run time where ONNX would clamp to a shorter slice', () => {
    expect(errorCode(() => at(4))).toBe('E_RUNTIME');
    expect(errorCode(() => at(-1))).toBe('E_RUNTIME');
    expect(errorCode(() => at(-9))).toBe('E_RUNTIME');
  });
});
