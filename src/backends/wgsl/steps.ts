// A Program as steps the WGSL runtime takes in turn (host.ts), cut by the shared ../steps.ts:
//
//   gpu   a run of kernels the GPU runs (loop kernels and scatter over dtypes WGSL holds), as a Program;
//   kir   a run of loop kernels over a dtype WGSL has not (f64), as a Program for the host's kernel
//         interpreter (src/kernel/interpreter.ts), as ONNX Runtime Web hands such ops to its CPU provider;
//   host  an extern kernel the host runs (If, Loop, Scan, TopK, NonZero, Unique).
import { allStmts, kernelReads, kernelWrites, type Kernel } from '../../kernel/kernel.js';
import type { Buffer, Program } from '../../kernel/program.js';
import { cutProgram, isScatter, type CutStep } from '../steps.js';
import { unsupportedReason } from './spelling.js';

export { hostOp } from '../steps.js';

export type Step = CutStep<'gpu' | 'kir'>;

/** Whether every dtype a kernel touches (its buffers, its scalars) is one WGSL holds. */
function wgslTypes(k: Kernel, buffers: ReadonlyMap<string, Buffer>): boolean {
  for (const b of [...kernelReads(k), ...kernelWrites(k)]) if (unsupportedReason(buffers.get(b)!.dtype)) return false;
  if (k.kind === 'loop') for (const st of allStmts(k.body)) if ((st.kind === 'let' || st.kind === 'reduce') && unsupportedReason(st.dtype)) return false;
  return true;
}

/** Where a kernel runs: the GPU (loop nests and scatter over WGSL's dtypes), the kernel interpreter (loop
 * nests over other dtypes), or the host's reference semantics (every other extern). */
export function placeKernel(k: Kernel, buffers: ReadonlyMap<string, Buffer>): Step['kind'] {
  if (k.kind === 'extern' && !isScatter(k)) return 'host';
  if (wgslTypes(k, buffers)) return 'gpu';
  return k.kind === 'loop' ? 'kir' : 'host';
}

/** The Program as steps; a Program the GPU runs whole is one step, itself. */
export function splitProgram(p: Program): Step[] {
  const buffers = new Map(p.buffers.map((b) => [b.name, b]));
  const places = new Map(p.kernels.map((k) => [k, placeKernel(k, buffers)]));
  if ([...places.values()].every((w) => w === 'gpu') && p.buffers.every((b) => !unsupportedReason(b.dtype))) return [{ kind: 'gpu', program: p }];
  return cutProgram(p, (k) => places.get(k)!);
}
