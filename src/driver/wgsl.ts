// The `wgsl` target (registered in targets.ts, loaded on first use): lower → schedule → plan → WGSL shaders,
// run on this thread's WebGPU device (Node's `webgpu` package: a GPU through Vulkan, or Mesa's software
// OpenGL without one) by WgslRunner: GPU steps compiled once per set of sizes (a symbolic batch dim N is
// specialized to the inputs' shapes; a size the data decides, to its value), and the extern kernels
// (If/Loop/Scan, TopK, NonZero, Unique) and the loop kernels over f64 run on the host between them
// (src/backends/wgsl/host.ts).
import { AicError } from '../ir/error.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import '../backends/wgsl/index.js';
import { WgslRunner } from '../backends/wgsl/host.js';
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
const runners = new FinalizationRegistry<WgslRunner>((r) => r.destroy());

/** Compile an imported model for the `wgsl` target. */
export async function compileWgsl(model: ImportedModel): Promise<CompiledModel> {
  const { program } = compileKir(lowerModel(model, 'wgsl'));
  const { device } = await webgpuDevice();
  const runner = new WgslRunner(device, program);
  try {
    await runner.prepare();
  } catch (e) {
    runner.destroy();
    throw wgslError(e);
  }
  const compiled: CompiledModel = {
    // Said with the results: some numbers come from the host, not the GPU.
    ...(runner.hostKernels ? { note: 'wgsl: kernels over f64 ran on the host\'s kernel interpreter (WGSL has no 64-bit float)' } : {}),
    async run(inputs) {
      try {
        return await runner.run(inputs);
      } catch (e) {
        throw wgslError(e);
      }
    },
  };
  runners.register(compiled, runner);
  return compiled;
}
