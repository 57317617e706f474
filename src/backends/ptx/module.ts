// A Program as one PTX module (`kernels.ptx`: `.version`, `.target`, `.address_size 64`, one `.entry` per
// loop kernel) and its launch plan: the grid, block and parameters of each kernel, where every buffer lives
// (inputs and outputs apart, weights at offsets of weights.bin, temps at the planner's arena offsets), and
// the messages of the checks. Scatter becomes two loop kernels (./scatter.ts); the other extern kernels
// (If/Loop/Scan, TopK, NonZero, Unique) run on the host between modules (host.ts), which the artifact's
// runner.cpp does not do yet: a module with one, and what the renderer cannot express, are refused with
// E_UNSUPPORTED naming the kernel and the op.
import { fail } from '../../ir/error.js';
import { bufferBytes, type Program } from '../../kernel/program.js';
import type { ExternKernel } from '../../kernel/kernel.js';
import { PtxKernelWriter, type Mapping, type RenderedKernel } from './kernel.js';
import { chooseMapping } from './mapping.js';
import { scatterKernels } from './scatter.js';
import { hostOp } from '../steps.js';
import { SMALL_FLOATS, decodeTable, tableName } from './smallfloat.js';
import { PtxGemmKernelWriter, tileableGemm } from './gemm.js';
import { PtxGroupKernelWriter } from './group.js';

/** Targets the backend writes for; sm_80 (Ampere) is the default. */
export const SM_TARGETS = ['sm_80', 'sm_86', 'sm_89', 'sm_90'] as const;
export type SmTarget = (typeof SM_TARGETS)[number];
export const PTX_VERSION = '8.0';

export interface PlanBuffer {
  readonly name: string;
  readonly role: 'input' | 'output' | 'weight' | 'temp';
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
  /** Weights: byte offset in weights.bin; temps: byte offset in the arena. */
  readonly offset?: number;
}

export interface PlanKernel {
  readonly name: string;
  readonly entry: string;
  readonly note?: string;
  readonly mapping: Mapping;
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  readonly sharedBytes: number;
  /** Buffer names (device pointers), or `status` (the check word). */
  readonly params: readonly string[];
}

export interface LaunchPlan {
  readonly format: 'aic-ptx-plan/1';
  readonly program: string;
  readonly target: SmTarget;
  readonly ptx: string;
  readonly weights: string;
  readonly arenaBytes: number;
  readonly weightsBytes: number;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly buffers: readonly PlanBuffer[];
  readonly kernels: readonly PlanKernel[];
  /** A failed check stores its position + 1 here in the status word. */
  readonly checks: readonly string[];
}

export interface PtxModule {
  readonly ptx: string;
  readonly plan: LaunchPlan;
  readonly kernels: readonly RenderedKernel[];
}

/** Weights are placed at multiples of this many bytes in weights.bin (and in the device allocation). */
export const WEIGHT_ALIGN = 256;

/** Extern kernels other than scatter (If/Loop/Scan, TopK, NonZero, Unique) are host steps (host.ts), which
 * a module cannot hold and runner.cpp does not run yet: refused by name. */
export function refuseExtern(k: ExternKernel): never {
  return fail('E_UNSUPPORTED', `ptx: kernel ${k.name} runs ${hostOp(k)} on the host between GPU steps; aic run/test do, the artifact's runner.cpp cannot yet`,
    'aic run/test/conformance --target ptx run it (host steps between assembled modules)');
}

export function renderModule(p: Program, target: SmTarget = 'sm_80'): PtxModule {
  if (!SM_TARGETS.includes(target)) fail('E_USAGE', `ptx: unknown target ${target}`, `--sm takes ${SM_TARGETS.join(', ')}`);
  const buffers = new Map(p.buffers.map((b) => [b.name, b]));
  const checks: string[] = [];
  const kernels: RenderedKernel[] = [];
  const planKernels: PlanKernel[] = [];
  const loops = p.kernels.flatMap((k) => (k.kind === 'loop' ? [k] : scatterKernels(k, buffers) ?? refuseExtern(k)));
  for (const k of loops) {
    const entry = `aic_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const mapping = chooseMapping(k);
    const gemm = mapping === 'tiled' ? tileableGemm(k) : undefined;
    const ctx = { buffers, checks };
    const writer = gemm ? new PtxGemmKernelWriter(k, ctx, entry, gemm)
      : mapping === 'groups' ? new PtxGroupKernelWriter(k, ctx, entry) : new PtxKernelWriter(k, ctx, entry);
    const r = writer.render(mapping);
    kernels.push(r);
    const blocks = r.mapping === 'threads' ? Math.ceil(r.points / r.block) : r.points;
    planKernels.push({
      name: k.name, entry, ...(k.note !== undefined ? { note: k.note } : {}), mapping: r.mapping,
      grid: [blocks, 1, 1], block: [r.block, 1, 1], sharedBytes: r.sharedBytes, params: r.params,
    });
  }
  let weightsBytes = 0;
  const planBuffers: PlanBuffer[] = p.buffers.map((b) => {
    const shape = b.shape.map((d) => (typeof d === 'number' ? d : fail('E_UNSUPPORTED', `ptx: buffer @${b.name} has a symbolic shape; the PTX backend renders static shapes`)));
    const bytes = bufferBytes(b) ?? 0;
    let offset: number | undefined;
    if (b.role === 'weight') {
      offset = weightsBytes;
      weightsBytes += Math.ceil(bytes / WEIGHT_ALIGN) * WEIGHT_ALIGN;
    } else if (b.role === 'temp') offset = b.offset ?? fail('E_UNSUPPORTED', `ptx: temp @${b.name} is sized at run time`);
    return { name: b.name, role: b.role, dtype: b.dtype, shape, bytes, ...(offset !== undefined ? { offset } : {}) };
  });
  // ptxas reads ASCII only: kernel notes say `→`.
  const ptx = [
    `// aic: program @${p.name}, ${kernels.length} kernel${kernels.length === 1 ? '' : 's'}`,
    `.version ${PTX_VERSION}`,
    `.target ${target}`,
    '.address_size 64',
    '',
    ...SMALL_FLOATS.filter((t) => kernels.some((k) => k.text.includes(tableName(t)))).map(decodeTable),
    '',
    ...kernels.map((k) => `${k.text}\n`),
  ].join('\n').replace(/→/g, '->').replace(/[^\x00-\x7f]/g, '?');
  const plan: LaunchPlan = {
    format: 'aic-ptx-plan/1', program: p.name, target, ptx: 'kernels.ptx', weights: 'weights.bin',
    arenaBytes: p.arenaBytes, weightsBytes, inputs: p.inputs, outputs: p.outputs, buffers: planBuffers, kernels: planKernels, checks,
  };
  return { ptx, plan, kernels };
}
