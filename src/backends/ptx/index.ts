// The PTX backend: a Program as PTX for NVIDIA GPUs (sm_80 by default, up to sm_90) with a launch plan and
// a C++ host runner on the CUDA driver API. The files:
//   types.ts    how each dtype lives in registers and memory
//   builder.ts  virtual registers, instructions, labels of one function
//   prims.ts    the pointwise prims, casts and bitcasts
//   math.ts     exp, log, sin/cos, atan, tanh, erf, pow, fmod as instruction sequences
//   smallfloat.ts  the float8/float4 formats: rounding, bit patterns, decoding tables
//   kernel.ts   a loop kernel as an .entry: the walk, a thread per point
//   group.ts    a block per point, reductions through shfl.sync and shared memory
//   gemm.ts     GEMM-shaped kernels as 32x32 shared-memory tiles
//   mapping.ts  which of the three a kernel gets
//   scatter.ts  prim.scatter as two loop kernels (a copy, then the updates in order)
//   module.ts   the .ptx module and the launch plan
//   runner.ts   runner.cpp and its Makefile
//   emit.ts     the artifact
//   host.ts     a Program in steps: modules, and If/Loop/Scan, TopK, NonZero, Unique on the host between
//   ptxas.ts    assembling with ptxas (validation without a GPU)
//
// `build` assembles kernels.ptx with ptxas for sm_80 and sm_90. With no GPU in reach, `run` runs the same
// Program on the kernel-IR interpreter and says so in every result's note.
import { ProgramRunner } from '../../kernel/interpreter.js';
import { fail } from '../../ir/error.js';
import type { Backend, BuildOptions, Built } from '../backend.js';
import { emitPtx, type PtxEmitOptions } from './emit.js';
import { assemble, ptxasPath } from './ptxas.js';

/** The targets `build` assembles for. */
export const VALIDATED_TARGETS = ['sm_80', 'sm_90'] as const;

export const INTERPRETER_NOTE = 'ptx: no GPU here; every kernel was assembled by ptxas for sm_80 and sm_90, and the numbers came from the kernel-IR interpreter running the same Program';

/** The note of a run whose Program has host steps (ops like `prim.loop`), naming them. */
export function hostStepsNote(ops: readonly string[]): string {
  if (ops.length === 0) return INTERPRETER_NOTE;
  const control = ops.some((op) => op === 'prim.if' || op === 'prim.loop' || op === 'prim.scan');
  return `ptx: no GPU here; every kernel was assembled by ptxas for sm_80 and sm_90${control ? ', those of every branch and body too' : ''}, and the numbers came from the kernel-IR interpreter running them; the extern steps ${ops.join(', ')} ran on the host between them`;
}

const runners = new WeakMap<object, ProgramRunner>();

export const ptxBackend: Backend = {
  name: 'ptx',
  description: 'PTX for NVIDIA GPUs (sm_80..sm_90), a launch plan and a CUDA driver API runner',
  emit: (p, opts = {}) => emitPtx(p, opts as PtxEmitOptions),
  async build(a, dir, _opts: BuildOptions = {}): Promise<Built> {
    const ptx = a.files.get('kernels.ptx');
    if (typeof ptx !== 'string') return fail('E_BUILD', 'ptx: the artifact has no kernels.ptx');
    for (const t of VALIDATED_TARGETS) assemble(ptx.replace(/^\.target sm_\d+$/m, `.target ${t}`), t);
    return { dir, entry: 'kernels.ptx', note: INTERPRETER_NOTE };
  },
  async run(_b, p, inputs) {
    let r = runners.get(p);
    if (!r) {
      r = new ProgramRunner(p);
      runners.set(p, r);
    }
    return r.run(inputs);
  },
  unavailable: () => (ptxasPath() ? undefined : 'ptxas not found (install the CUDA toolkit, or set PTXAS)'),
};
