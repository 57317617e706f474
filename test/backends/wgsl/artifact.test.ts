// `aic compile --target wgsl -o DIR` writes the shaders, plan.json, weights.bin and run.js; run.js loads them
// without aic and runs the model on a GPUDevice with the interpreter's results.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { loadModel } from '../../../src/driver/model-file.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { WgslModel as Model, WgslPlan } from '../../../src/backends/wgsl/runtime.js';
import { gpu } from './gpu.js';

const model = fileURLToPath(new URL('../../../../shared/onnx-tests/light/light_squeezenet.onnx', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'aic-wgsl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const io = { out: (): void => undefined, err: (): void => undefined, interactive: false };

describe('the wgsl artifact', () => {
  it('holds one shader per kernel, the plan, the weights and run.js', async () => {
    const dir = join(tmp, 'squeezenet');
    expect(await main(['node', 'aic', 'compile', model, '--target', 'wgsl', '-o', dir], io)).toBe(0);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['plan.json', 'weights.bin', 'run.js', 'k0.wgsl']));
  });

  it.skipIf(!gpu)('run.js runs it on a device, matching the interpreter', async () => {
    const dir = join(tmp, 'squeezenet');
    const mod = (await import(pathToFileURL(join(dir, 'run.js')).href)) as {
      loadArtifact(): Promise<{ plan: WgslPlan; shaders: Map<string, string>; weights: Uint8Array }>;
      WgslModel: typeof Model;
    };
    const { plan, shaders, weights } = await mod.loadArtifact();
    const wm = await mod.WgslModel.create(gpu!.device, plan, (f) => shaders.get(f)!, weights);
    const m = loadModel(model);
    const inputs = m.graph.inputs.map((v) => {
      const shape = v.shape as number[];
      const n = shape.reduce((p, d) => p * d, 1);
      return Tensor.from('f32', shape, Array.from({ length: n }, (_, i) => i / n));
    });
    const { outputs } = await wm.run(inputs.map((t) => t.data as Float32Array));
    wm.destroy();
    const want = interpret(lowerModel(m), inputs)[0]!;
    const c = compareTensors(new Tensor('f32', want.shape, outputs[0] as Float32Array), want, { rtol: 1e-3, atol: 1e-6 });
    expect(c.ok, c.reason).toBe(true);
  });
});
