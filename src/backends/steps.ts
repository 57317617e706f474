// A Program cut into steps that a GPU backend's host side takes in turn (WGSL: wgsl/steps.ts and host.ts;
// PTX: ptx/host.ts): runs of kernels the device runs, each a Program of its own, and between them the
// extern kernels the host runs (If, Loop, Scan, TopK, NonZero, Unique). Cutting there is what lets a size
// the data decides (a NonZero count, a loop's trip count) be known before the kernels after it are
// rendered for it.
//
//   kernels  k0 (loop)  k1 (loop)  k2 (nonzero)  k3 (loop)
//   steps    run{k0,k1: in0 -> t1}  host{k2: t1 -> t2}  run{k3: t2 -> out0}
//
// A run's Program reads, as inputs, what earlier steps (or the caller) made, keeps the weights it reads,
// and yields as outputs what later steps or the caller read; its temps are planned again.
import { fail } from '../ir/error.js';
import { evalDim, isPlainSymbol } from '../ir/dim-expr.js';
import { formatShape, type Dim } from '../ir/shape.js';
import { kernelReads, kernelWrites, type ExternKernel, type Kernel } from '../kernel/kernel.js';
import type { Buffer, Program } from '../kernel/program.js';
import { planMemory } from '../passes/memory-plan.js';

/** A run of kernels of one place (`gpu`, `kir`, …) as a Program, or an extern kernel for the host. */
export type CutStep<P extends string> =
  | { [K in P]: { readonly kind: K; readonly program: Program } }[P]
  | { readonly kind: 'host'; readonly kernel: ExternKernel };

/** The op a host step runs (`prim.loop`). */
export const hostOp = (k: ExternKernel): string => k.graph.nodes.find((n) => n.op !== 'prim.const')?.op ?? k.graph.name;

/** Whether a kernel is a scatter extern (which GPU backends render as loop kernels of their own). */
export const isScatter = (k: Kernel): boolean => k.kind === 'extern' && k.graph.nodes.length === 1 && k.graph.nodes[0]!.op === 'prim.scatter';

/** Cut the Program where `place` changes; consecutive kernels of one place (not `host`) form one step. */
export function cutProgram<P extends string>(p: Program, place: (k: Kernel) => P | 'host'): CutStep<P>[] {
  const steps: CutStep<P>[] = [];
  let run: Kernel[] = [];
  let runKind: P | undefined;
  const close = (after: number): void => {
    if (run.length === 0 || runKind === undefined) return;
    steps.push({ kind: runKind, program: subProgram(p, run, after, steps.length) } as CutStep<P>);
    run = [];
  };
  p.kernels.forEach((k, i) => {
    const where = place(k);
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

/** The kernels of one run as a Program: `after` is the index of the first kernel after them. */
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
  // A temp with a symbolic size stays unplanned until the step is specialized.
  return planMemory(program).program;
}

/** Check an actual shape against a declared one, binding its symbols seen for the first time. */
export function bindShape(sizes: Map<string, number>, declared: readonly Dim[], actual: readonly number[], where: string): void {
  if (declared.length !== actual.length) fail('E_RUNTIME', `${where}: expected rank ${declared.length}, got ${formatShape(actual)}`);
  declared.forEach((d, i) => {
    if (isPlainSymbol(d)) {
      const known = sizes.get(d);
      if (known === undefined) sizes.set(d, actual[i]!);
      else if (known !== actual[i]) fail('E_RUNTIME', `${where}: dim ${d} is ${actual[i]} here but ${known} elsewhere`);
      return;
    }
    const want = evalDim(d, (s) => sizes.get(s));
    if (want !== undefined && want !== actual[i]) fail('E_RUNTIME', `${where}: expected shape ${formatShape(declared)}, got ${formatShape(actual)}`);
  });
}
