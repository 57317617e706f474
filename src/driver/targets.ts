// Targets: how an imported model becomes something that runs. `interp` lowers to prims and runs the
// reference interpreter; compiled targets (kir, cpu, wgsl, ptx, plugins) register here as they land.
import { registerTarget, lowerModel } from './target-registry.js';
import { interpret } from '../runtime/interpreter.js';
import { ProgramRunner } from '../kernel/interpreter.js';
import { compileKir } from './kir.js';
// Sets EGL_PLATFORM in the main thread, before any worker could load Dawn.
import './webgpu.js';
import { registerBackend } from './backend-target.js';
import { cpuBackend } from '../backends/cpu/index.js';
import { ptxBackend } from '../backends/ptx/index.js';
import { addBackend } from '../backends/backend.js';

export { registerTarget, targetNames, targetCompiler, compileForTarget, lowerModel, type CompiledModel, type TargetCompiler } from './target-registry.js';

registerTarget('interp', async (model) => {
  const g = lowerModel(model);
  return { run: async (inputs) => interpret(g, inputs) };
});

// The scheduled Program on the kernel-IR interpreter: lower → schedule → plan → run.
registerTarget('kir', async (model) => {
  const runner = new ProgramRunner(compileKir(lowerModel(model, 'kir')).program);
  return { run: async (inputs) => runner.run(inputs) };
});

// The CPU backend: C++ built by g++ once per artifact (under the cache folder), run by its runner.
registerBackend(cpuBackend);

// WGSL compute shaders on this thread's WebGPU device (src/driver/wgsl.ts).
registerTarget('wgsl', async (model) => (await import('./wgsl.js')).compileWgsl(model));

// PTX: assembled by ptxas for sm_80 and sm_90; without a GPU the numbers come from the kernel-IR interpreter
// (src/driver/ptx.ts; symbolic sizes specialized to the inputs).
addBackend(ptxBackend);
registerTarget('ptx', async (model) => (await import('./ptx.js')).compilePtx(model));
