// The `ptx` target (registered in targets.ts): lower → schedule → plan → PTX, assembled by ptxas for sm_80
// and sm_90 (once per artifact, under the cache folder), then — with no GPU in reach — the same Program run
// on the kernel-IR interpreter, which every result's note says. The PTX backend renders static shapes, so a
// model with a symbolic batch is specialized to its inputs' shapes when it first runs with them.
import type { ImportedModel } from '../frontend/onnx/import.js';
import { INTERPRETER_NOTE, ptxBackend } from '../backends/ptx/index.js';
import { refuseExtern } from '../backends/ptx/module.js';
import { bindSymbols, programSymbols, specializeProgram } from '../passes/specialize.js';
import { compileProgram, programFor, type BackendModel } from './backend-target.js';
import type { CompiledModel } from './target-registry.js';

export async function compilePtx(model: ImportedModel): Promise<CompiledModel> {
  const program = programFor(model, ptxBackend.name);
  // Refused before anything runs: a size an extern decides would not be known otherwise.
  for (const k of program.kernels) if (k.kind === 'extern' && k.graph.nodes[0]?.op !== 'prim.scatter') refuseExtern(k);
  if (programSymbols(program).length === 0) return compileProgram(ptxBackend, program);
  const bySizes = new Map<string, Promise<BackendModel>>();
  return {
    note: INTERPRETER_NOTE,
    async run(inputs) {
      const sizes = bindSymbols(program, inputs.map((t) => t.shape));
      const key = JSON.stringify([...sizes]);
      let compiled = bySizes.get(key);
      if (!compiled) {
        compiled = compileProgram(ptxBackend, specializeProgram(program, sizes));
        bySizes.set(key, compiled);
      }
      return (await compiled).run(inputs);
    },
  };
}
