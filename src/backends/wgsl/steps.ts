// A Program as steps the WGSL runtime takes in turn (host.ts):
//
//   gpu   a run of kernels the GPU runs (loop kernels and scatter over dtypes WGSL holds), as a Program;
//   kir   a run of loop kernels over a dtype WGSL has not (f64), as a Program for the host's kernel
//         interpreter (src/kernel/interpreter.ts), as ONNX Runtime Web hands such ops to its CPU provider;
//   host  an extern kernel the host runs (If, Loop, Scan, TopK, NonZero, Unique).
//
// Cutting the Program there is what lets a size the data decides (a NonZero count, a loop's trip count) be
// known before the shaders after it are rendered.
//
//   kernels  k0 (loop)  k1 (loop)  k2 (nonzero)  k3 (loop)
//   steps    gpu{k0,k1: in0 -> t1}  host{k2: t1 -> t2}  gpu{k3: t2 -> out0}
//
// A gpu or kir step's Program reads, as inputs, what earlier steps (or the caller) made, keeps the weights
// it reads, and yields as outputs what later steps or the caller read; its temps are planned again.
import { allStmts, kernelReads, kernelWrites, type ExternKernel, type Kernel } from '../../kernel/kernel.js';
import type { Buffer, Program } from '../../kernel/program.js';
import { planMemory } from '../../passes/memory-plan.js';
import { unsupportedReason } from './spelling.js';

export type Step =
  | { readonly kind: 'gpu'; readonly program: Program }
  | { readonly kind: 'kir'; readonly program: Program }
  | { readonly kind: 'host'; readonly kernel: ExternKernel };

/** The op a host step runs (`prim.loop`). */
export const hostOp = (k: ExternKernel): string => k.graph.nodes.find((n) => n.op !== 'prim.const')?.op ?? k.graph.name;

/** Whether every dtype a kernel touches (its buffers, its scalars) is one WGSL holds. */
function wgslTypes(k: Kernel, buffers: ReadonlyMap<string, Buffer>): boolean {
  for (const b of [...kernelReads(k), ...kernelWrites(k)]) if (unsupportedReason(buffers.get(b)!.dtype)) return false;
  if (k.kind === 'loop') for (const st of allStmts(k.body)) if ((st.kind === 'let' || st.kind === 'reduce') && unsupportedReason(st.dtype)) return false;
  return true;
}

/** Where a kernel runs: the GPU (loop nests and scatter over WGSL's dtypes), the kernel interpreter (loop
 * nests over other dtypes), or the host's reference semantics (every other extern). */
export function placeKernel(k: Kernel, buffers: ReadonlyMap<string, Buffer>): Step['kind'] {
  const scatter = k.kind === 'extern' && k.graph.nodes.length === 1 && k.graph.nodes[0]!.op === 'prim.scatter';
  if (k.kind === 'extern' && !scatter) return 'host';
  if (wgslTypes(k, buffers)) return 'gpu';
  return k.kind === 'loop' ? 'kir' : 'host';
}

/** The Program as steps; a Program the GPU runs whole is one step, itself. */
export function splitProgram(p: Program): Step[] {
  const buffers = new Map(p.buffers.map((b) => [b.name, b]));
  const places = p.kernels.map((k) => placeKernel(k, buffers));
  if (places.every((w) => w === 'gpu') && p.buffers.every((b) => !unsupportedReason(b.dtype))) return [{ kind: 'gpu', program: p }];
  const steps: Step[] = [];
  let run: Kernel[] = [];
  let runKind: 'gpu' | 'kir' = 'gpu';
  const close = (after: number): void => {
    if (run.length === 0) return;
    const program = subProgram(p, run, after, steps.length);
    steps.push(runKind === 'gpu' ? { kind: 'gpu', program } : { kind: 'kir', program });
    run = [];
  };
  p.kernels.forEach((k, i) => {
    const where = places[i]!;
    if (where === 'host') {
      close(i);
      steps.push({ kind: 'host', kernel: k as ExternKernel });
      return;
    }
    if (where !== runKind) close(i);
    runKind = where;
    run.push(k);
  });
  close(p.kernels.length);
  return steps;
}

/** The kernels of one gpu or kir step as a Program: `after` is the index of the first kernel after them. */
function subProgram(p: Program, kernels: readonly Kernel[], after: number, step: number): Program {
  const reads = new Set<string>();
  const writes = new Set<string>();
  for (const k of kernels) {
    for (const b of kernelReads(k)) reads.add(b);
    for (const b of kernelWrites(k)) writes.add(b);
  }
  const later = new Set<string>(p.outputs);
  for (const k of p.kernels.slice(after)) for (const b of kernelReads(k)) later.add(b);
  const used = p.buffers.filter((b) => reads.has(b.name) || writes.has(b.name));
  const inputs = used.filter((b) => !writes.has(b.name) && b.role !== 'weight').map((b) => b.name);
  const outputs = used.filter((b) => writes.has(b.name) && later.has(b.name)).map((b) => b.name);
  const buffers = used.map((b): Buffer => {
    const role = inputs.includes(b.name) ? 'input' : outputs.includes(b.name) ? 'output' : b.role === 'weight' ? 'weight' : 'temp';
    const { offset: _replanned, ...rest } = b;
    return { ...rest, role };
  });
  const program: Program = { name: `${p.name}_step${step}`, buffers, inputs, outputs, kernels, arenaBytes: 0 };
  // A temp with a symbolic size stays unplanned until the step is specialized (host.ts).
  return planMemory(program).program;
}
