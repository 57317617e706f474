// `aic compile`: a model through the graph pipeline, then the target's own steps, into an artifact (files in
// memory) and the stats object of CLI.md. The `kir` target's artifact is the Program's text; a registered
// backend renders the same Program into its files.
import { mkdtempSync, renameSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../ir/error.js';
import type { Graph } from '../ir/graph.js';
import { DTYPE_INFO } from '../ir/dtype.js';
import { isStatic, numel } from '../ir/shape.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import type { Instrumentation } from '../passes/manager.js';
import { printProgram } from '../kernel/printer.js';
import { kernelReads, kernelWrites } from '../kernel/kernel.js';
import { bufferMap, type Program } from '../kernel/program.js';
import type { FusionDecision } from '../passes/schedule/index.js';
import type { ArenaPlan } from '../passes/memory-plan.js';
import { findBackend, type EmitOptions } from '../backends/backend.js';
import { optimizeModel } from './pipeline.js';
import { compileKir } from './kir.js';

export interface CompileStats {
  nodes: number;
  prims: number;
  nodesAfterOpt: number;
  kernels: number;
  arenaBytes: number;
  naiveBytes: number;
  lowerBoundBytes: number;
  bytesMoved: number;
  bytesMovedUnfused: number;
  passes: { name: string; ms: number; nodes: number }[];
}

export interface CompileRequest {
  /** Run the IR verifier after every graph pass. */
  verifyEach?: boolean;
  target: string;
  passes?: string;
  instrumentations?: readonly Instrumentation[];
  /** Called with each kernel-IR stage (`schedule`, `plan`) for --print-ir-after and --dump-dir. */
  onProgram?: (stage: string, p: Program) => void;
  /** The backend's emit options (`embedWeights`, target-specific knobs). */
  emit?: EmitOptions;
}

export interface CompileResult {
  files: Map<string, string | Uint8Array>;
  stats: CompileStats;
  program: Program;
  decisions: readonly FusionDecision[];
  plan: ArenaPlan;
}

/** Compile an imported model for a target that renders kernel IR (`kir`, or a registered backend). */
export function compileModel(model: ImportedModel, req: CompileRequest, importMs = 0): CompileResult {
  const backend = req.target === 'kir' ? undefined : findBackend(req.target);
  if (req.target !== 'kir' && !backend) fail('E_USAGE', `target '${req.target}' has no compiler that writes an artifact`, 'targets: kir, or a backend loaded with --plugin');
  const { graph, timings } = optimizeModel(model, {
    target: req.target, ...(req.passes !== undefined ? { passes: req.passes } : {}),
    instrumentations: req.instrumentations ?? [], verifyEach: req.verifyEach ?? false,
  });
  const kir = compileKir(graph);
  req.onProgram?.('schedule', kir.unplanned);
  req.onProgram?.('plan', kir.program);
  const files = new Map<string, string | Uint8Array>();
  if (backend) for (const [name, content] of backend.emit(kir.program, req.emit ?? {}).files) files.set(name, content);
  else files.set('program.kir', printProgram(kir.program));
  const lowered = timings.find((t) => t.name === 'lower');
  const stats: CompileStats = {
    nodes: model.onnxNodes,
    prims: lowered?.nodes ?? timings[0]?.nodes ?? graph.nodes.length,
    nodesAfterOpt: timings.length > 0 ? timings[timings.length - 1]!.nodes : graph.nodes.length,
    kernels: kir.program.kernels.length,
    arenaBytes: kir.plan.arenaBytes,
    naiveBytes: kir.plan.naiveBytes,
    lowerBoundBytes: kir.plan.lowerBoundBytes,
    bytesMoved: bytesMoved(kir.program),
    bytesMovedUnfused: bytesMovedUnfused(graph),
    passes: [
      { name: 'import', ms: round(importMs), nodes: model.onnxNodes },
      ...timings.map((t) => ({ name: t.name, ms: round(t.ms), nodes: t.nodes })),
      ...kir.timings.map((t) => ({ name: t.name, ms: round(t.ms), nodes: t.nodes })),
    ],
  };
  return { files, stats, program: kir.program, decisions: kir.decisions, plan: kir.plan };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

const valueBytes = (dtype: keyof typeof DTYPE_INFO, shape: readonly (number | string)[]): number =>
  isStatic(shape) ? numel(shape) * DTYPE_INFO[dtype].bytes : 0;

/** Estimated bytes each kernel moves: every buffer it reads once, every buffer it writes once. */
export function bytesMoved(p: Program): number {
  const buffers = bufferMap(p);
  let total = 0;
  for (const k of p.kernels) {
    const touched = new Set<string>();
    for (const b of kernelReads(k)) touched.add(b);
    for (const b of kernelWrites(k)) touched.add(b);
    for (const name of touched) {
      const b = buffers.get(name);
      if (b) total += valueBytes(b.dtype, b.shape);
    }
  }
  return total;
}

/** The same estimate for the graph run one prim at a time (every node reads its operands, writes its result). */
export function bytesMovedUnfused(g: Graph): number {
  let total = 0;
  for (const n of g.nodes) {
    if (n.op === 'prim.const') continue;
    for (const v of n.inputs) if (v) total += valueBytes(v.dtype, v.shape);
    for (const o of n.outputs) total += valueBytes(o.dtype, o.shape);
  }
  return total;
}

/** Write files into `dir` atomically: into a temp folder beside it, renamed at the end. With `build`, the
 * files are built in the temp folder first; when that fails, the sources are left in `DIR.failed` (the
 * error names them) and no DIR remains that could pass for a good artifact. */
export async function writeArtifact(dir: string, files: ReadonlyMap<string, string | Uint8Array>,
  build?: (tmp: string, shownDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.${basename(dir)}.tmp-`));
  try {
    for (const [name, content] of files) {
      const path = join(tmp, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    fail('E_IO', `${dir}: cannot write the artifact (${(e as Error).message})`);
  }
  if (build) {
    const failed = `${dir}.failed`;
    try {
      await build(tmp, failed);
    } catch (e) {
      rmSync(failed, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
      try {
        renameSync(tmp, failed);
      } catch {
        rmSync(tmp, { recursive: true, force: true });
      }
      throw e;
    }
  }
  try {
    if (existsSync(dir)) {
      const old = `${tmp}.old`;
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    fail('E_IO', `${dir}: cannot write the artifact (${(e as Error).message})`);
  }
}
