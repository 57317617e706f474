// The artifact of `aic compile --target ptx`: kernels.ptx, plan.json (the launch plan), weights.bin (every
// weight at a 256-byte-aligned offset, in the device's element format), runner.cpp (the CUDA driver API
// host runner) and its Makefile.
import { fail } from '../../ir/error.js';
import { programSymbols, specializeProgram } from '../../passes/specialize.js';
import { toRawBytes } from '../../ir/raw-bytes.js';
import type { Program } from '../../kernel/program.js';
import type { Artifact, EmitOptions } from '../backend.js';
import { isScatter } from '../steps.js';
import { refuseExtern, renderModule, SM_TARGETS, type LaunchPlan, type SmTarget } from './module.js';
import { makefile, runnerSource } from './runner.js';

export interface PtxEmitOptions extends EmitOptions {
  /** `sm_80` (default) … `sm_90`, or just `80`, `90`. */
  sm?: string | number;
  /** Sizes of symbolic dims (`{ N: 1 }`): the artifact renders static shapes. */
  dims?: Readonly<Record<string, number>>;
}

export function smTarget(sm: unknown): SmTarget {
  if (sm === undefined) return 'sm_80';
  const s = String(sm);
  const t = (s.startsWith('sm_') ? s : `sm_${s}`) as SmTarget;
  return SM_TARGETS.includes(t) ? t : (t as SmTarget); // renderModule refuses an unknown one by name
}

export function emitPtx(program: Program, opts: PtxEmitOptions = {}): Artifact {
  // Before the sizes: a NonZero's count is a symbol that no --dim could fix.
  for (const k of program.kernels) if (k.kind === 'extern' && !isScatter(k)) refuseExtern(k);
  const symbols = programSymbols(program);
  const missing = symbols.filter((s) => opts.dims?.[s] === undefined);
  if (missing.length > 0) {
    fail('E_UNSUPPORTED', `ptx: program @${program.name} has symbolic sizes (${missing.join(', ')}); the PTX artifact renders static shapes`,
      `give their sizes: aic compile --dim ${missing[0]}=1 (aic run/test --target ptx specialize to the inputs)`);
  }
  const p = symbols.length > 0 ? specializeProgram(program, new Map(Object.entries(opts.dims ?? {}))) : program;
  const { ptx, plan } = renderModule(p, smTarget(opts.sm));
  const files = new Map<string, string | Uint8Array>();
  files.set('kernels.ptx', ptx);
  files.set('plan.json', `${JSON.stringify(plan, null, 1)}\n`);
  files.set('weights.bin', weightsFile(p, plan));
  files.set('runner.cpp', runnerSource(plan));
  files.set('Makefile', makefile());
  return { files, main: 'kernels.ptx' };
}

function weightsFile(p: Program, plan: LaunchPlan): Uint8Array {
  const out = new Uint8Array(plan.weightsBytes);
  for (const b of plan.buffers) {
    if (b.role !== 'weight' || b.offset === undefined) continue;
    const data = p.buffers.find((x) => x.name === b.name)?.data;
    if (data) out.set(toRawBytes(data.dtype, data.data).subarray(0, b.bytes), b.offset);
  }
  return out;
}
