// The registry of targets (what `--target NAME` names), apart from the targets themselves so that a module
// that registers one (backend-target.ts, a plugin) does not import them all. targets.ts re-exports it.
import { fail } from '../ir/error.js';
import type { Tensor } from '../ir/tensor.js';
import type { Graph } from '../ir/graph.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import { optimizeModel } from './pipeline.js';

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
