// Neural-network ops (ops/conv.ts, pool.ts, resize.ts, nn.ts) where the conformance cases do not reach:
// random convolution and pooling geometries against ONNX Runtime (groups, dilations, auto_pad, ceil_mode,
// Indices in both storage orders), Resize across opsets 10–19 (Resize-10's rounding, axes, aspect-ratio
// policies, antialias), Upsample's attribute form, symbolic batch dims, the decomposition's shape (a
// window view and one dot), the tiled dot kernel against a naive contraction, and the errors.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { evalDot } from '../../../src/ir/prims/dot.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { T, errorCode, expectTensor, sameTensor } from '../../support/check.js';
import { forEachIndex } from '../../support/naive.js';
import { init, input, lowerNode, ortNode, runNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

/** Deterministic pseudo-random numbers in [lo, hi) (whole numbers when `whole`, to make ties). */
function random(shape: readonly number[], seed: number, lo = -2, hi = 2, whole = false): Tensor {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  const n = shape.reduce((a, b) => a * b, 1);
  return T('f32', shape, Array.from({ length: n }, () => (whole ? Math.floor(lo + next() * (hi - lo)) : lo + next() * (hi - lo))));
}

/** aic and ONNX Runtime agree on a one-node model: dtypes, shapes, and values within `tol`. */
async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1, tol = 1e-4): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands, outputs);
  const got = runNode(op, opset, attrs, operands, outputs);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect(`${g.dtype}[${g.shape.join(',')}]`).toBe(`${w.dtype}[${w.shape.join(',')}]`);
    const gv = g.toNumbers();
    const bad = w.toNumbers().findIndex((v, k) => !(Math.abs(gv[k]! - v) <= tol * (1 + Math.abs(v))));
    if (bad >= 0) expect({ index: bad, got: gv[bad], want: w.toNumbers()[bad] }).toBeUndefined();
  });
}

/** A random convolution geometry: spatial rank 1–3, small sizes, strides, dilations, pads. */
const geometry = fc.record({
  rank: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
  stride: fc.integer({ min: 1, max: 3 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  kernel: fc.integer({ min: 1, max: 3 }),
  pad: fc.integer({ min: 0, max: 2 }),
  extra: fc.integer({ min: 0, max: 3 }),
});

describe('Conv', () => {
  test.prop([geometry, fc.constantFrom(1, 2), fc.boolean(), fc.constantFrom('NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID')], { numRuns: 25 })(
    'agrees with ONNX Runtime on random geometries, groups and auto_pad',
    async (g, group, bias, autoPad) => {
      const size = Array.from({ length: g.rank }, (_, i) => (g.kernel - 1) * g.dilation + 1 + g.extra + i);
      const C = 2 * group;
      const M = 3 * group;
      const attrs: Record<string, AttrValue> = {
        strides: size.map(() => g.stride), dilations: size.map(() => g.dilation), group, auto_pad: autoPad,
      };
      if (autoPad === 'NOTSET') attrs.pads = [...size.map(() => g.pad), ...size.map((_, i) => (g.pad + i) % 3)];
      // ONNX Runtime rejects SAME padding with dilation > 1.
      if (autoPad.startsWith('SAME') && g.dilation > 1) attrs.dilations = size.map(() => 1);
      const operands: Operand[] = [input(random([2, C, ...size], g.seed)), init(random([M, C / group, ...size.map(() => g.kernel)], g.seed + 1))];
      if (bias) operands.push(init(random([M], g.seed + 2)));
      await agreesWithOrt('Conv', 11, attrs, operands);
    },
  );

  it('is a window view of movement prims and one dot (no gather, no copy of the weights)', () => {
    const g = lowerNode('Conv', 11, { pads: [1, 1, 1, 1] }, [input(random([1, 4, 5, 5], 1)), input(random([8, 4, 3, 3], 2))]);
    const ops = g.nodes.map((n) => n.op);
    expect(ops.filter((o) => o === 'prim.dot')).toHaveLength(1);
    expect(ops.every((o) => ['prim.pad', 'prim.reshape', 'prim.broadcast', 'prim.slice', 'prim.dot', 'prim.permute'].includes(o))).toBe(true);
  });

  it('keeps a symbolic batch dim', async () => {
    const x = random([3, 2, 6], 7);
    const w = random([4, 2, 3], 8);
    const g = lowerNode('Conv', 11, { strides: [2] }, [input(x, ['N', 2, 6]), init(w)]);
    expect(g.outputs[0]!.shape).toEqual(['N', 4, 2]);
    const want = (await ortNode('Conv', 11, { strides: [2] }, [input(x), init(w)]))[0]!;
    const got = interpret(g, [x])[0]!;
    got.toNumbers().forEach((v, i) => expect(v).toBeCloseTo(want.toNumbers()[i]!, 4));
  });

  it('rejects weights that do not match the channels (E_TYPE) and symbolic spatial dims (E_UNSUPPORTED)', () => {
    expect(errorCode(() => runNode1('Conv', 11, {}, [input(random([1, 3, 5], 1)), init(random([2, 2, 3], 2))]))).toBe('E_TYPE');
    expect(errorCode(() => runNode1('Conv', 11, { group: 2 }, [input(random([1, 3, 5], 1)), init(random([2, 1, 3], 2))]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Conv', 11, {}, [input(random([1, 2, 5], 1), [1, 2, 'L']), init(random([2, 2, 3], 2))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => runNode1('Conv', 11, {}, [input(random([1, 2, 2], 1)), init(random([2, 2, 3], 2))]))).toBe('E_TYPE');
  });
});

describe('ConvTranspose', () => {
  test.prop([geometry, fc.constantFrom(1, 2), fc.integer({ min: 0, max: 2 })], { numRuns: 20 })(
    'agrees with ONNX Runtime with strides, dilations, pads, output_padding and groups',
    async (g, group, outPad) => {
      const size = Array.from({ length: g.rank }, (_, i) => 2 + ((g.extra + i) % 3));
      const attrs: Record<string, AttrValue> = {
        strides: size.map(() => g.stride), dilations: size.map(() => g.dilation), group,
        pads: [...size.map(() => Math.min(g.pad, g.kernel - 1)), ...size.map(() => 0)],
        // Below the stride: beyond it ONNX Runtime lays the output out wrongly (stride 1, dilation 2).
        output_padding: size.map(() => Math.min(outPad, g.stride - 1)),
      };
      const operands = [input(random([1, 2 * group, ...size], g.seed)), init(random([2 * group, 3, ...size.map(() => g.kernel)], g.seed + 1)), init(random([3 * group], g.seed + 2))];
      await agreesWithOrt('ConvTranspose', 11, attrs, operands);
    },
  );

  it('takes output_shape (with or without the batch and channel dims) and SAME_LOWER', async () => {
    const operands = [input(random([1, 1, 3, 3], 3)), init(random([1, 2, 3, 3], 4))];
    await agreesWithOrt('ConvTranspose', 11, { strides: [3, 2], output_shape: [10, 8] }, operands);
    await agreesWithOrt('ConvTranspose', 11, { strides: [2, 2], output_shape: [6, 5] }, operands);
    await agreesWithOrt('ConvTranspose', 11, { strides: [2, 2], auto_pad: 'SAME_LOWER' }, operands);
    expect(runNode1('ConvTranspose', 11, { strides: [3, 2], output_shape: [1, 2, 10, 8] }, operands).shape).toEqual([1, 2, 10, 8]);
  });
});

describe('pools', () => {
  const poolGeometry = fc.record({
    rank: fc.integer({ min: 1, max: 3 }),
    seed: fc.integer(),
    stride: fc.integer({ min: 1, max: 3 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    pad: fc.integer({ min: 0, max: 1 }),
    ceil: fc.boolean(),
    extra: fc.integer({ min: 0, max: 3 }),
  });
  const poolAttrs = (g: { rank: number; stride: number; dilation: number; kernel: number; pad: number; ceil: boolean }, dilations = true): Record<string, AttrValue> => ({
    kernel_shape: Array(g.rank).fill(g.kernel),
    strides: Array(g.rank).fill(g.stride),
    ...(dilations ? { dilations: Array(g.rank).fill(g.dilation) } : {}),
    pads: [...Array(g.rank).fill(Math.min(g.pad, g.kernel - 1)), ...Array(g.rank).fill(0)],
    ceil_mode: g.ceil ? 1 : 0,
  });
  const sizeOf = (g: { rank: number; kernel: number; dilation: number; extra: number }): number[] =>
    Array.from({ length: g.rank }, (_, i) => (g.kernel - 1) * g.dilation + 1 + g.extra + i);

  test.prop([poolGeometry, fc.boolean()], { numRuns: 25 })('MaxPool agrees with ONNX Runtime, Indices in both storage orders', async (g, columnMajor) => {
    const x = random([2, 2, ...sizeOf(g)], g.seed, -4, 4, true); // whole numbers: ties pick the first
    const outputs = g.rank === 2 ? 2 : 1; // ONNX Runtime computes Indices for 1-D to 3-D; test the 2-D case
    await agreesWithOrt('MaxPool', 12, { ...poolAttrs(g), storage_order: columnMajor ? 1 : 0 }, [input(x)], outputs, 0);
  });

  test.prop([poolGeometry, fc.boolean()], { numRuns: 25 })('AveragePool agrees with ONNX Runtime, padding counted or not', async (g, includePad) => {
    const x = random([1, 2, ...sizeOf(g)], g.seed);
    const attrs: Record<string, AttrValue> = { ...poolAttrs(g), count_include_pad: includePad ? 1 : 0 };
    // ONNX Runtime bounds a ceil_mode window that counts padding by the begin pads; with equal pads it
    // agrees with the reference (whose end pads bound it, as in PyTorch).
    if (g.ceil && includePad) attrs.pads = Array(2 * g.rank).fill(Math.min(g.pad, g.kernel - 1));
    await agreesWithOrt('AveragePool', 19, attrs, [input(x)]);
  });

  it('AveragePool with ceil_mode divides by the window inside the pads, not the overhang', () => {
    // x = [1 2 3 4], k=2, s=2, pads [1, 0], ceil: windows [-1,0], [1,2], [3,4]; the last overhangs the end.
    const x = T('f32', [1, 1, 4], [1, 2, 3, 4]);
    const attrs = { kernel_shape: [2], strides: [2], pads: [1, 0], ceil_mode: 1 };
    expectTensor(runNode1('AveragePool', 19, { ...attrs, count_include_pad: 1 }, [input(x)]), 'f32', [1, 1, 3], [0.5, 2.5, 4]);
    expectTensor(runNode1('AveragePool', 19, attrs, [input(x)]), 'f32', [1, 1, 3], [1, 2.5, 4]);
  });

  test.prop([poolGeometry, fc.constantFrom(1, 2, 3)], { numRuns: 15 })('LpPool agrees with ONNX Runtime', async (g, p) => {
    const x = random([1, 2, ...sizeOf(g)], g.seed);
    await agreesWithOrt('LpPool', 18, { ...poolAttrs({ ...g, ceil: false }), p }, [input(x)]);
  });

  it('MaxPool pads i8 and u8 with their lowest value (opset 12); padding never wins a tie for Indices', async () => {
    const x = T('i8', [1, 1, 2, 2], [-128, -128, 5, -128]);
    // ONNX Runtime's i8 kernel reports a padded position (-3) for the first window; the spec says
    // indices do not consider padding.
    const [y, idx] = runNode('MaxPool', 12, { kernel_shape: [2, 2], pads: [1, 1, 0, 0] }, [input(x)], 2);
    expectTensor(y!, 'i8', [1, 1, 2, 2], [-128, -128, 5, 5]);
    expectTensor(idx!, 'i64', [1, 1, 2, 2], [0n, 0n, 2n, 2n]);
    await agreesWithOrt('MaxPool', 12, { kernel_shape: [2, 2], pads: [0, 0, 1, 1] }, [input(T('i8', [1, 1, 2, 2], [-7, 3, 9, -128]))], 1, 0);
    const u = T('u8', [1, 1, 3], [0, 7, 0]);
    await agreesWithOrt('MaxPool', 12, { kernel_shape: [2], pads: [1, 1] }, [input(u)], 1, 0);
    expect(errorCode(() => runNode1('MaxPool', 11, { kernel_shape: [2] }, [input(u)]))).toBe('E_TYPE');
  });

  it('AveragePool before opset 7 and LpPool before opset 2 read the attributes of their version', () => {
    const x = T('f32', [1, 1, 3], [1, 2, 4]);
    expectTensor(runNode1('AveragePool', 1, { kernel_shape: [2], pads: [1, 0], count_include_pad: 1 }, [input(x)]), 'f32', [1, 1, 3], [1, 1.5, 3]);
    expectTensor(runNode1('AveragePool', 7, { kernel_shape: [2], pads: [1, 0], count_include_pad: 1 }, [input(x)]), 'f32', [1, 1, 3], [0.5, 1.5, 3]);
    expectTensor(runNode1('LpPool', 1, { kernel_shape: [2], p: { f: 1 } }, [input(x)]), 'f32', [1, 1, 2], [3, 6]);
  });

  it('Global pools reduce every spatial axis', async () => {
    const x = random([2, 3, 4, 5], 9);
    await agreesWithOrt('GlobalAveragePool', 11, {}, [input(x)]);
    await agreesWithOrt('GlobalMaxPool', 11, {}, [input(x)]);
    await agreesWithOrt('GlobalLpPool', 11, { p: 3 }, [input(x)]);
  });

  it('MaxUnpool inverts MaxPool, padding the end to output_shape', async () => {
    const x = random([1, 2, 4, 4], 11);
    const [y, idx] = runNode('MaxPool', 11, { kernel_shape: [2, 2], strides: [2, 2] }, [input(x)], 2);
    await agreesWithOrt('MaxUnpool', 11, { kernel_shape: [2, 2], strides: [2, 2] }, [input(y!), input(idx!)]);
    // The reference (and the conformance data) reads the indices in the inferred shape and pads the
    // end; ONNX Runtime reads them in output_shape instead.
    const v = T('f32', [1, 1, 1, 2], [5, 6]);
    const i = Tensor.from('i64', [1, 1, 1, 2], [1n, 3n]);
    const shape = init(Tensor.from('i64', [4], [1n, 1n, 3n, 5n]));
    expectTensor(runNode1('MaxUnpool', 11, { kernel_shape: [2, 2], strides: [2, 2] }, [input(v), input(i), shape]), 'f32', [1, 1, 3, 5],
      [0, 5, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('Resize and Upsample', () => {
  const x = random([1, 2, 4, 8], 21);
  const f32 = (v: number[]): Operand => init(T('f32', [v.length], v));
  const i64 = (v: number[]): Operand => init(Tensor.from('i64', [v.length], v.map(BigInt)));
  const modes = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'half_pixel_symmetric'];

  // Scales whose output lengths are whole: there the reference's fractional output width (which the
  // conformance data follows) and ONNX Runtime's integer length agree.
  test.prop([fc.constantFrom(...modes), fc.constantFrom('nearest', 'linear', 'cubic'), fc.constantFrom(0.5, 0.75, 1.5, 2, 3),
    fc.constantFrom(0.25, 0.5, 0.75, 1.25, 2, 3), fc.constantFrom('round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'), fc.boolean()], { numRuns: 40 })(
    'agrees with ONNX Runtime on coordinate modes, interpolation modes and scales (opset 19)',
    async (ctm, mode, sh, sw, nearest, exclude) => {
      const attrs: Record<string, AttrValue> = { coordinate_transformation_mode: ctm, mode, nearest_mode: nearest, exclude_outside: exclude && mode === 'cubic' ? 1 : 0 };
      await agreesWithOrt('Resize', 19, attrs, [input(x), null, f32([1, 1, sh, sw])], 1, 1e-4);
    },
  );

  it('align_corners measures the output in fractional units, as the reference does', () => {
    // in 4 → out floor(4·0.6) = 2, width 2.4: x_ori(1) = 3 / 1.4 (ONNX Runtime would use 3 / 1).
    const y = runNode1('Resize', 19, { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, [input(T('f32', [4], [1, 2, 3, 4])), null, f32([0.6])]);
    expect(y.toNumbers()[1]).toBeCloseTo(1 + 3 / 1.4, 5);
  });

  it('opset 10 rounds nearest up when downsampling and truncates when upsampling (asymmetric)', async () => {
    for (const s of [[1, 1, 0.6, 0.6], [1, 1, 2.5, 1.5]]) {
      await agreesWithOrt('Resize', 10, { mode: 'nearest' }, [input(x), f32(s)], 1, 0);
      await agreesWithOrt('Resize', 10, { mode: 'linear' }, [input(x), f32(s)]);
    }
  });

  it('opsets 11 and 13 take sizes, roi and an empty scales tensor', async () => {
    await agreesWithOrt('Resize', 11, { mode: 'linear' }, [input(x), f32([]), f32([]), i64([1, 2, 7, 3])]);
    await agreesWithOrt('Resize', 11, { coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, [input(x), f32([]), f32([1, 1, 1.5, 0.75])], 1, 0);
    await agreesWithOrt('Resize', 13, { mode: 'cubic', cubic_coeff_a: { f: -0.5 } }, [input(x), null, null, i64([1, 2, 3, 9])]);
    const roi = f32([0, 0, 0.1, 0.2, 1, 1, 0.9, 1.3]);
    await agreesWithOrt('Resize', 13, { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: { f: -7 } }, [input(x), roi, null, i64([1, 2, 5, 4])]);
  });

  it('opset 18 resizes only `axes`, keeps the aspect ratio by policy, and antialiases', async () => {
    await agreesWithOrt('Resize', 18, { axes: [3, 2], mode: 'nearest' }, [input(x), null, f32([2, 0.5])], 1, 0);
    for (const policy of ['not_larger', 'not_smaller']) {
      await agreesWithOrt('Resize', 18, { axes: [2, 3], keep_aspect_ratio_policy: policy, mode: 'linear' }, [input(x), null, null, i64([7, 7])]);
    }
    await agreesWithOrt('Resize', 18, { antialias: 1, mode: 'linear' }, [input(x), null, f32([1, 1, 0.5, 0.4])]);
    await agreesWithOrt('Resize', 18, { antialias: 1, mode: 'cubic' }, [input(x), null, f32([1, 1, 0.6, 0.3])]);
  });

  it('nearest resizes any dtype; linear of integers is unsupported', () => {
    const u = T('u8', [1, 1, 2], [3, 9]);
    expectTensor(runNode1('Resize', 13, { mode: 'nearest' }, [input(u), null, f32([1, 1, 2])]), 'u8', [1, 1, 4], [3, 3, 9, 9]);
    expect(errorCode(() => runNode1('Resize', 13, { mode: 'linear' }, [input(u), null, f32([1, 1, 2])]))).toBe('E_UNSUPPORTED');
  });

  it('rejects scales and sizes together, and resizing a symbolic dim', () => {
    expect(errorCode(() => runNode1('Resize', 13, {}, [input(x), null, f32([1, 1, 2, 2]), i64([1, 2, 8, 10])]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Resize', 13, {}, [input(x, [1, 2, 'H', 5]), null, f32([1, 1, 2, 2])]))).toBe('E_UNSUPPORTED');
    // A symbolic batch left at scale 1 is fine.
    expect(lowerNode('Resize', 13, {}, [input(x, ['N', 2, 4, 5]), null, f32([1, 1, 2, 2])]).outputs[0]!.shape).toEqual(['N', 2, 8, 10]);
  });

  it('Upsample reads scales as an attribute at opset 7 and as an input at opset 9', async () => {
    await agreesWithOrt('Upsample', 7, { scales: { fs: [1, 1, 2, 3] } }, [input(x)], 1, 0);
    await agreesWithOrt('Upsample', 9, { mode: 'linear' }, [input(x), f32([1, 1, 2, 1.5])]);
    expect(errorCode(() => runNode1('Upsample', 9, {}, [input(x), f32([1, 1, 0.5, 1])]))).toBe('E_TYPE');
  });
});

describe('rearrangement and sampling', () => {
  it('DepthToSpace (DCR, CRD) and SpaceToDepth agree with ONNX Runtime', async () => {
    const x = random([2, 8, 2, 3], 31);
    await agreesWithOrt('DepthToSpace', 13, { blocksize: 2 }, [input(x)], 1, 0);
    await agreesWithOrt('DepthToSpace', 13, { blocksize: 2, mode: 'CRD' }, [input(x)], 1, 0);
    await agreesWithOrt('SpaceToDepth', 13, { blocksize: 2 }, [input(random([2, 3, 4, 6], 32))], 1, 0);
  });

  // Bicubic with border or reflection padding follows the reference (the coordinate is clamped or
  // reflected first); ONNX Runtime pads each tap instead, so those pairs are left out here.
  test.prop([fc.constantFrom('bilinear', 'nearest', 'bicubic'), fc.constantFrom('zeros', 'border', 'reflection'), fc.boolean(), fc.integer()], { numRuns: 20 })(
    'GridSample agrees with ONNX Runtime (opset 16 mode names), grids reaching past the borders',
    async (mode, padding, align, seed) => {
      if (mode === 'bicubic' && padding !== 'zeros') return;
      const x = random([2, 3, 4, 5], seed);
      const grid = random([2, 3, 2, 2], seed + 1, -1.7, 1.7);
      await agreesWithOrt('GridSample', 16, { mode, padding_mode: padding, align_corners: align ? 1 : 0 }, [input(x), input(grid)]);
    },
  );

  it('RoiAlign: adaptive sampling needs the rois as constants', async () => {
    const x = random([2, 3, 8, 8], 41, 0, 1);
    const rois = T('f32', [3, 4], [0, 0, 7, 7, 1.5, 2, 6, 5.5, 3, 1, 4, 2]);
    const idx = Tensor.from('i64', [3], [0n, 1n, 1n]);
    for (const mode of ['avg', 'max']) {
      await agreesWithOrt('RoiAlign', 16, { output_height: 3, output_width: 2, mode, spatial_scale: { f: 0.9 } }, [input(x), init(rois), init(idx)]);
      await agreesWithOrt('RoiAlign', 16, { output_height: 2, output_width: 2, sampling_ratio: 3, mode }, [input(x), input(rois), input(idx)]);
    }
    expect(errorCode(() => lowerNode('RoiAlign', 16, {}, [input(x), input(rois), input(idx)]))).toBe('E_UNSUPPORTED');
  });

  it('AffineGrid agrees with ONNX Runtime in 2-D and 3-D', async () => {
    for (const align of [0, 1]) {
      await agreesWithOrt('AffineGrid', 20, { align_corners: align }, [input(random([2, 2, 3], 51)), init(Tensor.from('i64', [4], [2n, 1n, 3n, 4n]))]);
      await agreesWithOrt('AffineGrid', 20, { align_corners: align }, [input(random([1, 3, 4], 52)), init(Tensor.from('i64', [5], [1n, 1n, 2n, 3n, 2n]))]);
    }
  });
});

describe('prim.dot tiling', () => {
  /** The naive contraction: every output element summed in double over k in order. */
  function naiveDot(a: Tensor, b: Tensor, rc: number): Tensor {
    const [M, K] = a.shape as [number, number];
    const N = rc === 0 ? b.shape[1]! : b.shape[0]!;
    const out = Tensor.zeros(a.dtype, [M, N]);
    forEachIndex([M, N], ([m, n]) => {
      let s = 0;
      for (let k = 0; k < K; k++) s += a.num(m! * K + k) * b.num(rc === 0 ? k * N + n! : n! * K + k);
      out.set(m! * N + n!, s);
    });
    return out;
  }

  test.prop([fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 11 }), fc.boolean(), fc.integer()], { numRuns: 60 })(
    'equals the naive contraction exactly for every tile remainder and rhs layout',
    (M, K, N, transposed, seed) => {
      const a = random([M, K], seed);
      const b = random(transposed ? [N, K] : [K, N], seed + 1);
      const rc = transposed ? 1 : 0;
      const got = evalDot(a, b, { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [rc] });
      expect(sameTensor(got, naiveDot(a, b, rc))).toBe(true);
    },
  );

  it('keeps NaN from 0 · inf, and batches', () => {
    const got = evalDot(T('f32', [1, 2], [0, 1]), T('f32', [2, 1], [Infinity, 2]), { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] });
    expect(Number.isNaN(got.num(0))).toBe(true);
    const a = random([3, 2, 4], 61);
    const b = random([3, 4, 5], 62);
    const batched = evalDot(a, b, { lhsBatch: [0], rhsBatch: [0], lhsContract: [2], rhsContract: [1] });
    expect(batched.shape).toEqual([3, 2, 5]);
    const first = evalDot(T('f32', [2, 4], a.toNumbers().slice(8, 16)), T('f32', [4, 5], b.toNumbers().slice(20, 40)), { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] });
    expect(batched.toNumbers().slice(10, 20)).toEqual(first.toNumbers());
  });

  it('wraps small integers and keeps int64 exact', () => {
    const i32 = evalDot(T('i32', [1, 2], [2 ** 30, 2 ** 30]), T('i32', [2, 1], [4, 4]), { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] });
    expect(i32.num(0)).toBe(0);
    const i64 = evalDot(Tensor.from('i64', [1, 1], [2n ** 40n]), Tensor.from('i64', [1, 1], [2n ** 20n + 1n]), { lhsBatch: [], rhsBatch: [], lhsContract: [1], rhsContract: [0] });
    expect(i64.big(0)).toBe(2n ** 60n + 2n ** 40n);
  });
});
