// The `ptx` target (registered in targets.ts): lower → schedule → plan → PTX, assembled by ptxas for sm_80
// and sm_90 (once per module, under the cache folder), then — with no GPU in reach — run on the kernel-IR
// interpreter, which every result's note says. The Program runs in steps (src/backends/ptx/host.ts): its
// loop kernels as modules, and between them If/Loop/Scan (their branches and bodies Programs of their own,
// assembled too), TopK, NonZero and Unique on the host, named in the note. The PTX backend renders static
// shapes, so a step with a symbolic size (a batch, a NonZero count) is specialized when the size is known.
import type { ImportedModel } from '../frontend/onnx/import.js';
import { hostStepsNote, ptxBackend } from '../backends/ptx/index.js';
import { PtxRunner, type CompileStep } from '../backends/ptx/host.js';
import { compileProgram, programFor } from './backend-target.js';
import type { CompiledModel } from './target-registry.js';

/** Entries in a module's text (scatter is two). */
const entries = (ptx: string | Uint8Array | undefined): number => (typeof ptx === 'string' ? ptx.match(/^\.visible \.entry /gm)?.length ?? 0 : 0);

/** A GPU step: rendered, assembled for sm_80 and sm_90 (cached), run on the kernel-IR interpreter. */
export const assembleStep: CompileStep = async (p) => {
  const m = await compileProgram(ptxBackend, p);
  return { entries: entries(m.artifact.files.get('kernels.ptx')), run: m.run };
};

/** A Program for the ptx target, its static steps (and every branch's and body's) already assembled. */
export async function ptxRunner(model: ImportedModel): Promise<PtxRunner> {
  const runner = new PtxRunner(programFor(model, ptxBackend.name), assembleStep);
  await runner.prepare();
  return runner;
}

export async function compilePtx(model: ImportedModel): Promise<CompiledModel> {
  const runner = await ptxRunner(model);
  return { note: hostStepsNote(runner.hostOps), run: (inputs) => runner.run(inputs) };
}
