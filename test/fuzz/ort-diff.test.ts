// Differential testing against ONNX Runtime: random models of the common ops, run by ORT and by aic's
// interpreter, compared within rtol 1e-3 / atol 1e-5. A mismatch is shrunk by fast-check and reported as
// the op, its shapes and attributes, and aic's lowered graph. Seeded and short in `npm test`; set
// AIC_FUZZ_RUNS (e.g. `npm run fuzz:ort`) for a long run with fresh seeds.
import { describe, test } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../../src/ir/tensor.js';
import { printGraph } from '../../src/ir/printer.js';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { importModel } from '../../src/frontend/onnx/import.js';
import { lowerModel } from '../../src/driver/targets.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { compareTensors } from '../../src/runtime/compare.js';
import { FUZZ_OPS, type FuzzCase } from './ort-models.js';

const long = process.env['AIC_FUZZ_RUNS'] !== undefined;
const numRuns = long ? Number(process.env['AIC_FUZZ_RUNS']) : 25;

async function check(c: FuzzCase): Promise<void> {
  const session = await ort.InferenceSession.create(c.model, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  const feeds: Record<string, ort.Tensor> = {};
  session.inputNames.forEach((name, i) => {
    feeds[name] = new ort.Tensor('float32', c.inputs[i]!.data as Float32Array, [...c.inputs[i]!.shape]);
  });
  const expected = await session.run(feeds);
  const model = importModel(decodeModelProto(c.model, 'fuzz'), { where: 'fuzz' });
  const g = lowerModel(model);
  const actual = interpret(g, c.inputs);
  session.outputNames.forEach((name, i) => {
    const e = expected[name]!;
    const want = new Tensor('f32', [...e.dims], Float32Array.from(e.data as Float32Array));
    const cmp = compareTensors(actual[i]!, want, { rtol: 1e-3, atol: 1e-5 });
    if (!cmp.ok) throw new Error(`aic and ONNX Runtime differ on: ${c.describe}\n${cmp.reason}; max abs err ${cmp.maxAbsErr}\naic's graph:\n${printGraph(g, { elideTensorsOver: 16 })}`);
  });
  await session.release();
}

describe('aic agrees with ONNX Runtime on random models', () => {
  for (const [name, arb] of Object.entries(FUZZ_OPS)) {
    test(name, async () => {
      await fc.assert(fc.asyncProperty(arb, check), { numRuns, ...(long ? {} : { seed: 0xd1ff + name.length }) });
    }, 600_000);
  }
});
