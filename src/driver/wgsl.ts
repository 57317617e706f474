// The `wgsl` target (registered in targets.ts, loaded on first use): lower → schedule → plan → WGSL shaders, run on this thread's WebGPU device (Node's
// `webgpu` package: a GPU through Vulkan, or Mesa's software OpenGL without one).
import { AicError, fail } from '../ir/error.js';
import { Tensor } from '../ir/tensor.js';
import { emitWgsl } from '../backends/wgsl/emit.js';
import '../backends/wgsl/index.js';
import { WgslModel, type HostArray } from '../backends/wgsl/runtime.js';
import { compileKir } from './kir.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import { lowerModel, type CompiledModel } from './targets.js';
import { webgpuDevice } from './webgpu.js';

/** A runtime error as an AicError: a failed kernel check is E_RUNTIME, anything WebGPU rejects E_BUILD. */
export function wgslError(e: unknown): AicError {
  if (e instanceof AicError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  if (err.name === 'WgslCheckError') return new AicError('E_RUNTIME', err.message);
  return new AicError('E_BUILD', `wgsl: ${err.message}`);
}

// GPU buffers of a compiled model are freed when the model is collected.
const models = new FinalizationRegistry<WgslModel>((m) => m.destroy());

/** Compile an imported model for the `wgsl` target (registered in targets.ts). */
export async function compileWgsl(model: ImportedModel): Promise<CompiledModel> {
  const { program } = compileKir(lowerModel(model, 'wgsl'));
  const artifact = emitWgsl(program);
  const { device } = await webgpuDevice();
  let wm: WgslModel;
  try {
    wm = await WgslModel.create(device, artifact.plan, (f) => artifact.shaders.get(f) ?? fail('E_BUILD', `wgsl: no shader ${f}`), artifact.weights);
  } catch (e) {
    throw wgslError(e);
  }
  const byName = new Map(program.buffers.map((b) => [b.name, b]));
  const compiled: CompiledModel = {
    async run(inputs) {
      let r;
      try {
        r = await wm.run(inputs.map((t) => t.data as HostArray));
      } catch (e) {
        throw wgslError(e);
      }
      return r.outputs.map((data, i) => {
        const b = byName.get(program.outputs[i]!)!;
        return new Tensor(b.dtype, b.shape as number[], data);
      });
    },
  };
  models.register(compiled, wm);
  return compiled;
}
