// Pooling kernels through the runtime's plane pooling (src/backends/cpu/pool.ts, runtime/pool.h) against the
// graph interpreter: MaxPool and AveragePool unpadded (read in place), padded, with ceil mode, dilations and
// strides, averages with and without the padding counted (the division is the kernel's tail), a Relu fused
// after the pool, pools reading a concat, inputs with NaNs and signed zeros, and planes enough to run on the
// threads. Each case is checked to take the runtime call it is meant to test, so a matcher that stops
// matching fails.
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
import { graphModel, input, nodeModel, type AttrValue, type GraphNode } from '../../support/onnx-node.js';
import { buildBatch, NO_GXX, type Batch } from './harness.js';

let seed = 777;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
/** Values in [-1, 1); with `special`, one in 16 a NaN and one in 16 a -0. */
const randn = (shape: number[], special = false): Tensor => Tensor.from('f32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
  const u = rand();
  if (special && u < 1 / 16) return NaN;
  if (special && u < 2 / 16) return -0;
  return rand() * 2 - 1;
}));

interface Case {
  name: string;
  model: ImportedModel;
  feed: Tensor[];
  /** The runtime call the rendered model must contain. */
  call: 'maxpool_plane' | 'sumpool_plane';
  /** Whether the planes run on the threads. */
  threaded?: boolean;
}

const cases: Case[] = [];
const add = (name: string, bytes: Uint8Array, feed: Tensor[], call: Case['call'], threaded = false): void => {
  cases.push({ name, model: importModel(decodeModelProto(bytes, `${name}.onnx`)), feed, call, threaded });
};
const pool = (name: string, op: 'MaxPool' | 'AveragePool', attrs: Record<string, AttrValue>, x: Tensor, threaded = false): void =>
  add(name, nodeModel(op, 19, attrs, [input(x)]), [x], op === 'MaxPool' ? 'maxpool_plane' : 'sumpool_plane', threaded);

pool('max 3x3/2 unpadded (in place)', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2] }, randn([1, 5, 23, 29]));
pool('max 3x3/1 padded', 'MaxPool', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, randn([1, 4, 17, 19]));
pool('max 3x3/2 ceil mode', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }, randn([1, 3, 20, 26]));
pool('max 2x3 dilated, strides 3x1', 'MaxPool', { kernel_shape: [2, 3], strides: [3, 1], dilations: [2, 2], pads: [1, 0, 0, 2] }, randn([1, 3, 19, 33]));
pool('max NaN and -0, unpadded', 'MaxPool', { kernel_shape: [2, 2], strides: [2, 2] }, randn([1, 6, 16, 40], true));
pool('max NaN and -0, padded', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, randn([1, 6, 15, 21], true));
pool('max planes on the threads', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2] }, randn([1, 64, 57, 57]), true);
pool('average 3x3/2, padding not counted', 'AveragePool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, randn([1, 6, 28, 28]));
pool('average 3x3/1, padding counted', 'AveragePool', { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 1 }, randn([1, 5, 14, 17]));
pool('average 2x2/2 unpadded (in place)', 'AveragePool', { kernel_shape: [2, 2], strides: [2, 2] }, randn([1, 7, 30, 22]));
pool('average 5x5/3 ceil mode', 'AveragePool', { kernel_shape: [5, 5], strides: [3, 3], ceil_mode: 1 }, randn([1, 3, 26, 31]));
pool('average planes on the threads', 'AveragePool', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, randn([1, 48, 56, 56]), true);

/** op(concat(a, b)), then Relu: a pool reading two sources, a fused activation in the tail. */
const concatPool = (name: string, op: 'MaxPool' | 'AveragePool', attrs: Record<string, AttrValue>): void => {
  const nodes: GraphNode[] = [
    { op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: 1 } },
    { op, inputs: ['c'], outputs: ['p'], attrs },
    { op: 'Relu', inputs: ['p'], outputs: ['y'] },
  ];
  const [a, b] = [randn([1, 3, 18, 18]), randn([1, 5, 18, 18])];
  add(name, graphModel(19, nodes, { a: input(a), b: input(b) }, ['y']), [a, b], op === 'MaxPool' ? 'maxpool_plane' : 'sumpool_plane');
};
concatPool('concat, max 3x3/2, relu', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2] });
concatPool('concat, average 3x3/1 padded, relu', 'AveragePool', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });

const programs: Program[] = cases.map((c) => programFor(c.model, 'cpu'));
let batch: Batch | undefined;
afterAll(() => batch?.dispose());

describe('cpu: pooling kernels', () => {
  test('each case takes the runtime call it tests', () => {
    cases.forEach((c, i) => {
      const src = renderModel(programs[i]!, { prefix: 'probe' }).source;
      expect(src.includes(`aic::cpu::${c.call}(`), `${c.name} should call ${c.call}`).toBe(true);
      expect(src.includes('aic::threads::parallel_for('), `${c.name}: planes on the threads`).toBe(c.threaded === true);
    });
  });

  test.skipIf(NO_GXX !== undefined)('match the interpreter', async () => {
    batch = await buildBatch(programs);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const want = interpret(lowerModel(c.model), c.feed);
      const got = await batch.run(i, c.feed);
      want.forEach((w, k) => {
        const cmp = compareTensors(got[k]!, w, { rtol: 1e-6, atol: 0 });
        if (!cmp.ok) failures.push(`${c.name}: ${cmp.reason} (max abs err ${cmp.maxAbsErr})`);
      });
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
