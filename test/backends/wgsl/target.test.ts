// The `wgsl` target as `aic run/test` use it: a model with a symbolic batch is specialized to each set of
// input shapes it runs with; what WGSL cannot run is refused with E_UNSUPPORTED naming it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../../src/driver/model-file.js';
import { compileForTarget, lowerModel } from '../../../src/driver/targets.js';
import { compileKir } from '../../../src/driver/kir.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { AicError } from '../../../src/ir/error.js';
import { emitWgsl } from '../../../src/backends/wgsl/emit.js';
import { gpu } from './gpu.js';

const tinyCnn = fileURLToPath(new URL('../../../examples/models/tiny-cnn/model.onnx', import.meta.url));

const image = (n: number): Tensor => {
  const shape = [n, 3, 32, 32];
  const count = shape.reduce((p, d) => p * d, 1);
  return Tensor.from('f32', shape, Array.from({ length: count }, (_, i) => Math.sin(i * 0.01)));
};

describe('the wgsl target', () => {
  it('refuses to write an artifact for symbolic shapes, saying how to get static ones', () => {
    const { program } = compileKir(lowerModel(loadModel(tinyCnn), 'wgsl'));
    let err: unknown;
    try {
      emitWgsl(program);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_UNSUPPORTED');
    expect((err as AicError).message).toContain('symbolic shape [N,3,32,32]');
  });

  it.skipIf(!gpu)('specializes a symbolic batch to each input shape it runs with', async () => {
    const model = loadModel(tinyCnn);
    const compiled = await compileForTarget('wgsl', model);
    const g = lowerModel(model);
    for (const n of [1, 3, 1]) {
      const x = image(n);
      const [got] = await compiled.run([x]);
      const [want] = interpret(g, [x]);
      const c = compareTensors(got!, want!, { rtol: 1e-4, atol: 1e-6 });
      expect(c.ok, `N=${n}: ${c.reason}`).toBe(true);
    }
  });
});
