// Dot kernels through the runtime's GEMM, GEMV and convolution (src/backends/cpu/gemm.ts) against the graph
// interpreter: MatMul/Gemm of ragged sizes with the weight as an initializer (packed when the model is
// created) or as an input, transposed operands, batches, fused epilogues (bias, Relu, residual Add of two
// convolutions), and 2-D convolutions with seeded random strides, pads and dilations. Each case is checked
// to take the path it is meant to test (gemm.h, gemv.h, conv.h, or loops), so a matcher that stops matching fails.
import { afterAll, describe, expect, test } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel, type ImportedModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { programFor } from '../../../src/driver/backend-target.js';
import { renderModel } from '../../../src/backends/cpu/emit.js';
import type { Program } from '../../../src/kernel/program.js';
import { graphModel, init, input, nodeModel, type AttrValue, type GraphNode, type Operand } from '../../support/onnx-node.js';
import { buildBatch, NO_GXX, type Batch } from './harness.js';

let seed = 4242;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const randn = (shape: number[]): Tensor => Tensor.from('f32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

interface Case {
  name: string;
  model: ImportedModel;
  feed: Tensor[];
  /** The call the rendered model must contain. */
  path: 'sgemm' | 'conv2d' | 'sgemv' | 'loops';
}

const cases: Case[] = [];
const add = (name: string, bytes: Uint8Array, feed: Tensor[], path: Case['path']): void => {
  cases.push({ name, model: importModel(decodeModelProto(bytes, `${name}.onnx`)), feed, path });
};
const one = (name: string, op: string, attrs: Record<string, AttrValue>, operands: Operand[], path: Case['path']): void =>
  add(name, nodeModel(op, 17, attrs, operands), operands.filter((o) => !o.init).map((o) => o.value), path);

// MatMul: ragged sizes, weight as an initializer (packed at create) and as an input (read in place).
for (const [m, k, n] of [[7, 13, 9], [33, 65, 17], [64, 64, 64], [5, 300, 130], [129, 40, 3 * 33]] as const) {
  one(`matmul ${m}x${k}x${n} weight`, 'MatMul', {}, [input(randn([m, k])), init(randn([k, n]))], 'sgemm');
  one(`matmul ${m}x${k}x${n} inputs`, 'MatMul', {}, [input(randn([m, k])), input(randn([k, n]))], 'sgemm');
}
// Gemm with transposes, bias and alpha.
one('gemm transA transB bias', 'Gemm', { transA: 1, transB: 1, alpha: { f: 0.5 } }, [input(randn([40, 24])), init(randn([36, 40])), init(randn([36]))], 'sgemm');
one('gemm transB bias (fully connected)', 'Gemm', { transB: 1 }, [input(randn([16, 128])), init(randn([64, 128])), init(randn([64]))], 'sgemm');
// Batched: a batch loop around the GEMM.
one('batched matmul 3x20x30x25', 'MatMul', {}, [input(randn([3, 20, 30])), input(randn([3, 30, 25]))], 'sgemm');
one('batched matmul broadcast weight', 'MatMul', {}, [input(randn([2, 4, 12, 16])), init(randn([16, 20]))], 'sgemm');
// A weight per batch item (a grouped 1x1 convolution lowered to a batched product) is packed at create, item
// by item: one batch axis, and two (the weight broadcast over the first, folded to one per item).
const PER_ITEM = new Set(['batched matmul, a weight per item', 'batched matmul 2x3 items, a weight per item']);
one('batched matmul, a weight per item', 'MatMul', {}, [input(randn([3, 20, 30])), init(randn([3, 30, 25]))], 'sgemm');
one('batched matmul 2x3 items, a weight per item', 'MatMul', {}, [input(randn([2, 3, 20, 30])), init(randn([3, 30, 25]))], 'sgemm');
// A symbolic number of rows (the batch): sizes read at run time, the weight read in place.
one('matmul symbolic rows', 'Gemm', { transB: 1 }, [input(randn([9, 40]), ['N', 40]), init(randn([24, 40])), init(randn([24]))], 'sgemm');
one('batched matmul symbolic batch', 'MatMul', {}, [input(randn([3, 8, 16]), ['B', 8, 16]), input(randn([3, 16, 12]), ['B', 16, 12])], 'sgemm');
// Too small for the GEMM: loops.
one('matmul 3x4x3', 'MatMul', {}, [input(randn([3, 4])), input(randn([4, 3]))], 'loops');
// One row: a fully connected layer whose weight rows are contiguous goes to gemv.h (ragged sizes: the
// four-row blocks' tail, a depth that is no multiple of the vector width); a K x N weight stays loops.
{
  const nodes: GraphNode[] = [
    { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } },
    { op: 'Relu', inputs: ['h'], outputs: ['y'] },
  ];
  const x = randn([1, 300]);
  add('one row: Gemm transB + bias + Relu', graphModel(17, nodes, { x: input(x), w: init(randn([70, 300])), b: init(randn([70])) }, ['y']), [x], 'sgemv');
}
one('one row: Gemm transB 1x203 by 37x203', 'Gemm', { transB: 1 }, [input(randn([1, 203])), init(randn([37, 203]))], 'sgemv');
one('one row: MatMul 1x64 by 64x48', 'MatMul', {}, [input(randn([1, 64])), init(randn([64, 48]))], 'loops');
{
  // A batch of one-row products (attention over one query): the batch loop around sgemv_rows.
  const nodes: GraphNode[] = [
    { op: 'Transpose', inputs: ['k'], outputs: ['kt'], attrs: { perm: [0, 2, 1] } },
    { op: 'MatMul', inputs: ['q', 'kt'], outputs: ['y'] },
  ];
  const q = randn([3, 1, 64]);
  const kk = randn([3, 40, 64]);
  add('one row, batched: MatMul 3x1x64 by (3x40x64)^T', graphModel(17, nodes, { q: input(q), k: input(kk) }, ['y']), [q, kk], 'sgemv');
}

// MatMul + bias + Relu: the epilogue.
{
  const nodes: GraphNode[] = [
    { op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
    { op: 'Add', inputs: ['h', 'b'], outputs: ['hb'] },
    { op: 'Relu', inputs: ['hb'], outputs: ['y'] },
  ];
  const x = randn([24, 48]);
  add('matmul bias relu', graphModel(17, nodes, { x: input(x), w: init(randn([48, 40])), b: init(randn([40])) }, ['y']), [x], 'sgemm');
}

// Convolutions: seeded random shapes.
for (let i = 0; i < 10; i++) {
  const C = pick([1, 3, 8, 16]);
  const M = pick([4, 8, 16, 24]);
  const KH = pick([1, 2, 3, 5]);
  const KW = pick([1, 3, 3, 4]);
  const S = [pick([1, 1, 2]), pick([1, 2])];
  const D = [pick([1, 1, 2]), pick([1, 1, 2])];
  const P = [pick([0, 1, 2]), pick([0, 1]), pick([0, 1, 2]), pick([0, 1])];
  const H = 6 + Math.floor(rand() * 20);
  const W = 6 + Math.floor(rand() * 20);
  const x = randn([1, C, H, W]);
  const attrs: Record<string, AttrValue> = { strides: S, dilations: D, pads: P, kernel_shape: [KH, KW] };
  const OH = Math.floor((H + P[0]! + P[2]! - D[0]! * (KH - 1) - 1) / S[0]!) + 1;
  const OW = Math.floor((W + P[1]! + P[3]! - D[1]! * (KW - 1) - 1) / S[1]!) + 1;
  if (OH < 1 || OW < 1) continue;
  const small = M * OH * OW * C * KH * KW < 256 || OH * OW < 4;
  one(`conv ${C}->${M} ${H}x${W} k${KH}x${KW} s${S} d${D} p${P}`, 'Conv', attrs, [input(x), init(randn([M, C, KH, KW])), init(randn([M]))], small ? 'loops' : 'sgemm');
}
// Batch of two images; a residual block (two convolutions summed, then Relu) in one kernel.
one('conv batch 2', 'Conv', { pads: [1, 1, 1, 1] }, [input(randn([2, 8, 12, 12])), init(randn([16, 8, 3, 3]))], 'conv2d');
/** Relu(conv3x3(x) + conv1x1(x) + bias): two dot stages in one kernel, C -> M channels. */
const residual = (name: string, [N, C, H]: readonly [number, number, number], M: number): void => {
  const nodes: GraphNode[] = [
    { op: 'Conv', inputs: ['x', 'w1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Conv', inputs: ['x', 'w2', 'b2'], outputs: ['s'] },
    { op: 'Add', inputs: ['a', 's'], outputs: ['sum'] },
    { op: 'Relu', inputs: ['sum'], outputs: ['y'] },
  ];
  const x = randn([N, C, H, H]);
  add(name, graphModel(17, nodes, { x: input(x), w1: init(randn([M, C, 3, 3])), w2: init(randn([M, C, 1, 1])), b2: init(randn([M])) }, ['y']), [x], 'sgemm');
};
residual('residual: conv3x3 + conv1x1, relu', [1, 8, 14], 16);
// Two convolutions with bias and Relu: their epilogues differ only in their buffers, so they share one struct.
const SHARED = 'two conv + bias + relu, one epilogue struct';
{
  const nodes: GraphNode[] = [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['a'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['a'], outputs: ['ra'] },
    { op: 'Conv', inputs: ['ra', 'w2', 'b2'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', inputs: ['c'], outputs: ['y'] },
  ];
  const x = randn([1, 8, 12, 12]);
  const weights = { w1: init(randn([8, 8, 3, 3])), b1: init(randn([8])), w2: init(randn([8, 8, 3, 3])), b2: init(randn([8])) };
  add(SHARED, graphModel(17, nodes, { x: input(x), ...weights }, ['y']), [x], 'conv2d');
}
// Grouped convolution: a convolution per group (the group is a batch axis); depthwise: conv.h's depthwise loop.
one('conv groups 2', 'Conv', { group: 2, pads: [1, 1, 1, 1] }, [input(randn([1, 8, 10, 10])), init(randn([8, 4, 3, 3]))], 'conv2d');
one('conv depthwise', 'Conv', { group: 8, pads: [1, 1, 1, 1], strides: [2, 2] }, [input(randn([1, 8, 10, 10])), init(randn([8, 1, 3, 3]))], 'conv2d');
// Batch items shared among the threads (each GEMM on one): 15 products of 1 MFLOP, and two images of a
// residual block, whose first convolution goes to a per-thread scratch matrix.
const threaded = new Set(['batched matmul, the items on the threads', 'residual block, the images on the threads']);
one('batched matmul, the items on the threads', 'MatMul', {}, [input(randn([3, 5, 64, 96])), input(randn([3, 5, 96, 80]))], 'sgemm');
residual('residual block, the images on the threads', [2, 16, 24], 32);

const programs: Program[] = cases.map((c) => programFor(c.model, 'cpu'));
/** Small dots too go through the GEMM here (the default threshold keeps tiny ones as loops). */
const EMIT = { gemmMinMacs: 256 };
let batch: Batch | undefined;
afterAll(() => batch?.dispose());

describe('cpu: dot kernels', () => {
  test('each case takes the path it tests', () => {
    cases.forEach((c, i) => {
      const src = renderModel(programs[i]!, { prefix: 'probe', ...EMIT }).source;
      const sgemv = src.includes('aic::cpu::sgemv_rows(');
      const sgemm = src.includes('aic::cpu::sgemm(') || src.includes('aic::cpu::conv2d(');
      const has = { sgemm, conv2d: src.includes('aic::cpu::conv2d('), sgemv, loops: !sgemm && !sgemv };
      const took = has.conv2d ? 'conv2d' : has.sgemm ? 'sgemm' : has.sgemv ? 'sgemv' : 'loops';
      expect(has[c.path], `${c.name} should use ${c.path}, takes ${took}`).toBe(true);
      expect(src.includes('aic::threads::parallel_for('), `${c.name}: batch items on the threads`).toBe(threaded.has(c.name));
      if (PER_ITEM.has(c.name)) expect(src, c.name).toMatch(/aic::cpu::PackedB\(packed_0 \+ \(/);
      if (c.name === SHARED) {
        expect(src.match(/^struct Epi_\w+ \{/gm)?.length, `${c.name}: epilogue structs`).toBe(1);
        expect(src.match(/aic::cpu::conv2d\(/g)?.length, `${c.name}: convolutions`).toBe(2);
      }
    });
  });

  test.skipIf(NO_GXX !== undefined)('match the interpreter', async () => {
    batch = await buildBatch(programs, { emit: EMIT });
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const want = interpret(lowerModel(c.model), c.feed);
      const got = await batch.run(i, c.feed);
      want.forEach((w, k) => {
        const cmp = compareTensors(got[k]!, w, { rtol: 1e-4, atol: 1e-5 });
        if (!cmp.ok) failures.push(`${c.name}: ${cmp.reason} (max abs err ${cmp.maxAbsErr})`);
      });
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
