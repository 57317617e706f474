// A sample of generated models built with -fsanitize=address,undefined and run clean: no out-of-bounds
// access (masked loads, gathers, the GEMM's packing of ragged edges), no signed overflow or bad shift in the
// integer semantics, no leak of what create allocates. Any report makes the runner fail, and the test.
import { afterAll, describe, expect, test } from 'vitest';
import { AicError } from '../../../src/ir/error.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { scheduleGraph } from '../../../src/passes/schedule/index.js';
import { planMemory } from '../../../src/passes/memory-plan.js';
import type { Program } from '../../../src/kernel/program.js';
import { renderModel } from '../../../src/backends/cpu/emit.js';
import { generatePrimGraph } from '../../support/random-graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { programFor } from '../../../src/driver/backend-target.js';
import { init, input, nodeModel, type AttrValue, type Operand } from '../../support/onnx-node.js';
import { buildBatch, gxxAccepts, NO_GXX, type Batch } from './harness.js';

const SANITIZE = ['-fsanitize=address,undefined'];
const usable = NO_GXX === undefined && gxxAccepts(SANITIZE);
if (NO_GXX === undefined && !usable) console.log('skipped: g++ cannot build with -fsanitize=address,undefined here');

let batch: Batch | undefined;
afterAll(() => batch?.dispose());

describe.skipIf(!usable)('cpu: generated code under ASan and UBSan', () => {
  test('random graphs (every dtype, specials) and dots through the GEMM', async () => {
    const programs: Program[] = [];
    const inputs: Tensor[][] = [];
    const wants: Tensor[][] = [];
    const add = (seed: number, opts: Parameters<typeof generatePrimGraph>[1], emit = {}): void => {
      const c = generatePrimGraph(seed, opts);
      let want: Tensor[];
      try {
        want = interpret(c.graph, c.inputs);
      } catch (e) {
        if (e instanceof AicError) return;
        throw e;
      }
      const { program } = planMemory(scheduleGraph(c.fresh().graph).program);
      try {
        renderModel(program, { prefix: 'probe', ...emit });
      } catch (e) {
        if (e instanceof AicError && e.code === 'E_UNSUPPORTED') return;
        throw e;
      }
      programs.push(program);
      inputs.push(c.inputs);
      wants.push(want);
    };
    for (let s = 0; s < 16; s++) add(700 + s, { maxNodes: 12, maxRank: 4 });
    for (let s = 0; s < 8; s++) add(900 + s, { maxNodes: 8, numericallyTame: true, dtypes: ['f32'], ops: ['dot', 'add', 'exp', 'reduce_sum', 'permute', 'reshape', 'const', 'pad', 'slice'], maxDim: 20, maxElements: 2048 });
    // GEMM and convolution kernels with ragged edges (packing, masked stores, the epilogue's pieces).
    const ramp = (shape: number[]): Tensor => Tensor.from('f32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i)));
    const onnx = (op: string, attrs: Record<string, AttrValue>, operands: Operand[]): void => {
      const m = importModel(decodeModelProto(nodeModel(op, 17, attrs, operands), `${op}.onnx`));
      const feed = operands.filter((o) => !o.init).map((o) => o.value);
      programs.push(programFor(m, 'cpu'));
      inputs.push(feed);
      wants.push(interpret(lowerModel(m), feed));
    };
    onnx('MatMul', {}, [input(ramp([37, 19])), init(ramp([19, 45]))]);
    onnx('Gemm', { transA: 1, transB: 1 }, [input(ramp([23, 9])), input(ramp([33, 23]))]);
    onnx('Conv', { pads: [1, 2, 0, 1], strides: [2, 1], dilations: [1, 2] }, [input(ramp([1, 3, 13, 11])), init(ramp([10, 3, 3, 3])), init(ramp([10]))]);
    onnx('Conv', { group: 2, pads: [1, 1, 1, 1] }, [input(ramp([2, 4, 7, 9])), init(ramp([6, 2, 3, 3]))]);
    expect(programs.length).toBeGreaterThan(12);
    batch = await buildBatch(programs, { emit: { gemmMinMacs: 1 }, cxx: { sanitize: true, opt: '-O1' } });
    const failures: string[] = [];
    for (let i = 0; i < programs.length; i++) {
      try {
        const got = await batch.run(i, inputs[i]!);
        wants[i]!.forEach((w, k) => {
          const cmp = compareTensors(got[k]!, w, { rtol: 1e-4, atol: 1e-5 });
          if (!cmp.ok) failures.push(`case ${i} output ${k}: ${cmp.reason}`);
        });
      } catch (e) {
        failures.push(`case ${i}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  }, 900_000);
});
