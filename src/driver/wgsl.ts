// The `wgsl` target (registered in targets.ts, loaded on first use): lower → schedule → plan → WGSL shaders,
// run on this thread's WebGPU device (Node's `webgpu` package: a GPU through Vulkan, or Mesa's software
// OpenGL without one). A Program with symbolic sizes (a batch dim N) is specialized to the shapes of the
// inputs when it first runs with them, and compiled once per set of shapes.
import { AicError, fail } from '../ir/error.js';
import { Tensor } from '../ir/tensor.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import type { Program } from '../kernel/program.js';
import { bindSymbols, programSymbols, specializeProgram } from '../passes/specialize.js';
import { checkRenderable, emitWgsl } from '../backends/wgsl/emit.js';
import '../backends/wgsl/index.js';
import { WgslModel, type HostArray } from '../backends/wgsl/runtime.js';
import { compileKir } from './kir.js';
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

/** A static Program on the device: the WgslModel, and the output types. */
async function load(program: Program): Promise<{ wm: WgslModel; program: Program }> {
  const artifact = emitWgsl(program);
  const { device } = await webgpuDevice();
  try {
    const wm = await WgslModel.create(device, artifact.plan, (f) => artifact.shaders.get(f) ?? fail('E_BUILD', `wgsl: no shader ${f}`), artifact.weights);
    return { wm, program };
  } catch (e) {
    throw wgslError(e);
  }
}

/** Compile an imported model for the `wgsl` target. */
export async function compileWgsl(model: ImportedModel): Promise<CompiledModel> {
  const { program } = compileKir(lowerModel(model, 'wgsl'));
  checkRenderable(program);
  const symbolic = programSymbols(program).length > 0;
  const loaded = new Map<string, Promise<{ wm: WgslModel; program: Program }>>();
  if (!symbolic) loaded.set('', load(program));
  await loaded.get('');
  const compiled: CompiledModel = {
    async run(inputs) {
      const key = symbolic ? inputs.map((t) => t.shape.join('x')).join(',') : '';
      let l = loaded.get(key);
      if (!l) {
        const sizes = bindSymbols(program, inputs.map((t) => t.shape));
        l = load(specializeProgram(program, sizes));
        loaded.set(key, l);
        l.then(({ wm }) => models.register(compiled, wm), () => undefined);
      }
      const { wm, program: p } = await l;
      let r;
      try {
        r = await wm.run(inputs.map((t) => t.data as HostArray));
      } catch (e) {
        throw wgslError(e);
      }
      const byName = new Map(p.buffers.map((b) => [b.name, b]));
      return r.outputs.map((data, i) => {
        const b = byName.get(p.outputs[i]!)!;
        return new Tensor(b.dtype, b.shape as number[], data);
      });
    },
  };
  if (!symbolic) models.register(compiled, (await loaded.get('')!).wm);
  return compiled;
}
