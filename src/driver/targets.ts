// Targets: how an imported model becomes something that runs. `interp` lowers to prims and runs the
// reference interpreter; compiled targets (kir, cpu, wgsl, ptx, plugins) register here as they land.
import { fail } from '../ir/error.js';
import type { Tensor } from '../ir/tensor.js';
import type { Graph } from '../ir/graph.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import { optimizeModel } from './pipeline.js';
import { interpret } from '../runtime/interpreter.js';
import { ProgramRunner } from '../kernel/interpreter.js';
import { compileKir } from './kir.js';
// Sets EGL_PLATFORM in the main thread, before any worker could load Dawn.
import './webgpu.js';
import { registerBackend } from './backend-target.js';
import { cpuBackend } from '../backends/cpu/index.js';

export interface CompiledModel {
  /** Run on inputs in the order of the compiled graph's inputs. */
  run(inputs: readonly Tensor[]): Promise<Tensor[]>;
  /** Said with every result when the numbers do not come from the target itself. */
  note?: string;
}

export type TargetCompiler = (model: ImportedModel) => Promise<CompiledModel>;

const targets = new Map<string, TargetCompiler>();

export function registerTarget(name: string, compile: TargetCompiler): void {
  targets.set(name, compile);
}

export const targetNames = (): string[] => [...targets.keys()];

/** The compiler of a target, or a usage error listing the known ones. */
export function targetCompiler(name: string): TargetCompiler {
  return targets.get(name) ?? fail('E_USAGE', `unknown target '${name}'`, `targets: ${targetNames().join(', ')}`);
}

export async function compileForTarget(name: string, model: ImportedModel): Promise<CompiledModel> {
  return targetCompiler(name)(model);
}

/** The imported graph through the target's default pipeline (lowering, canonicalization), verified. */
export function lowerModel(model: ImportedModel, target = 'interp'): Graph {
  return optimizeModel(model, { target }).graph;
}

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
