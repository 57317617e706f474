// Running a Program whose extern kernels the PTX module cannot hold (If, Loop, Scan, TopK, NonZero,
// Unique): the Program is cut into steps (../steps.ts) — runs of loop kernels (and scatter) for the GPU,
// each a Program of its own rendered as one PTX module, and between them host steps:
//
//   If, Loop, Scan   the host picks the branch and decides whether to iterate again (../control.ts);
//                    every branch and body is a Program of its own (a PtxRunner here), whose kernels are
//                    GPU steps like the main Program's;
//   TopK, NonZero,   the prims' reference semantics on the values read back (their sizes must come back
//   Unique           to the host anyway: the modules after them are rendered for those sizes).
//
// A GPU step is compiled by the caller's `compile` (src/driver/ptx.ts: render, assemble with ptxas for
// sm_80 and sm_90, cached) once per set of sizes, since the PTX renders static shapes: a step after a
// NonZero is assembled when its count is known. Without a GPU a compiled step runs on the kernel-IR
// interpreter; the runner.cpp artifact does not run host steps yet (module.ts refuses them by name).
import { AicError, fail } from '../../ir/error.js';
import { subgraphsOf, type Graph, type Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import type { Kernel } from '../../kernel/kernel.js';
import { bufferMap, type Buffer, type Program } from '../../kernel/program.js';
import { programSymbols, specializeProgram } from '../../passes/specialize.js';
import { bodyProgram, controlNode, runHostKernel } from '../control.js';
import { bindShape, cutProgram, hostOp, isScatter, type CutStep } from '../steps.js';

/** A GPU step made runnable for fixed sizes; `entries` is how many kernels its module assembled. */
export interface CompiledStep {
  readonly entries: number;
  run(inputs: readonly Tensor[]): Promise<Tensor[]>;
}

export type CompileStep = (p: Program) => Promise<CompiledStep>;

type Step = CutStep<'gpu'>;

/** Sets of sizes a step keeps compiled (a loop whose carried values grow would otherwise keep one per iteration). */
const MAX_COMPILED = 16;

/** Where a kernel runs: loop kernels and scatter (two loop kernels) in the module, other externs on the host. */
const placeKernel = (k: Kernel): 'gpu' | 'host' => (k.kind === 'loop' || isScatter(k) ? 'gpu' : 'host');

interface Body {
  readonly runner: PtxRunner;
  readonly captures: readonly Value[];
}

export class PtxRunner {
  readonly steps: readonly Step[];
  private readonly buffers: Map<string, Buffer>;
  private readonly compiled = new Map<string, Promise<CompiledStep>>();
  private readonly bodies = new Map<Graph, Body>();
  private entries = 0;

  /** Cut the Program into steps and schedule the bodies of its control ops (so that a body that cannot be
   * compiled is refused now, not when it first runs). */
  constructor(readonly program: Program, private readonly compile: CompileStep) {
    this.buffers = bufferMap(program);
    this.steps = program.kernels.every((k) => placeKernel(k) === 'gpu') ? [{ kind: 'gpu', program }] : cutProgram(program, placeKernel);
    for (const s of this.steps) {
      if (s.kind !== 'host') continue;
      const node = controlNode(s.kernel);
      if (!node) continue;
      for (const g of subgraphsOf(node)) {
        const { program: p, captures } = bodyProgram(g, s.kernel, 'ptx');
        this.bodies.set(g, { runner: new PtxRunner(p, compile), captures });
      }
    }
  }

  /** The ops of the host steps, here and in every branch and body (sorted, once each). */
  get hostOps(): string[] {
    const ops = new Set<string>();
    for (const s of this.steps) if (s.kind === 'host') ops.add(hostOp(s.kernel));
    for (const b of this.bodies.values()) for (const op of b.runner.hostOps) ops.add(op);
    return [...ops].sort();
  }

  /** Kernels assembled so far (every module once per set of sizes), here and in every branch and body. */
  get assembledEntries(): number {
    return this.entries + [...this.bodies.values()].reduce((n, b) => n + b.runner.assembledEntries, 0);
  }

  /** Steps never assembled yet, here and in every branch and body: a step whose sizes only a run decides,
   * in a branch no run has taken. */
  get unassembledSteps(): number {
    const here = this.steps.filter((s, i) => s.kind === 'gpu' && ![...this.compiled.keys()].some((k) => k.startsWith(`${i}:`))).length;
    return here + [...this.bodies.values()].reduce((n, b) => n + b.runner.unassembledSteps, 0);
  }

  /** Assemble every step whose sizes are already known, and those of every branch and body (taken or not). */
  async prepare(): Promise<void> {
    for (const [i, s] of this.steps.entries()) if (s.kind === 'gpu' && programSymbols(s.program).length === 0) await this.load(i, s.program, new Map());
    for (const b of this.bodies.values()) await b.runner.prepare();
  }

  /** Run on inputs in the order of the Program's inputs; outputs in the order of its outputs. */
  async run(inputs: readonly Tensor[]): Promise<Tensor[]> {
    const p = this.program;
    if (inputs.length !== p.inputs.length) fail('E_RUNTIME', `program @${p.name} takes ${p.inputs.length} inputs, got ${inputs.length}`);
    const sizes = new Map<string, number>();
    const values = new Map<string, Tensor>();
    p.inputs.forEach((name, i) => {
      const b = this.buffers.get(name)!;
      const t = inputs[i]!;
      if (t.dtype !== b.dtype) fail('E_RUNTIME', `input ${i} (@${name}${b.label ? `, ${b.label}` : ''}): expected ${b.dtype}, got ${t.dtype}`);
      bindShape(sizes, b.shape, t.shape, `input ${i} (@${name})`);
      values.set(name, t);
    });
    const value = (name: string): Tensor => values.get(name) ?? this.buffers.get(name)?.data
      ?? fail('E_RUNTIME', `program @${p.name}: buffer @${name} has no value when it is read`);
    for (const [i, s] of this.steps.entries()) {
      if (s.kind === 'gpu') {
        const step = await this.load(i, s.program, sizes);
        const outs = await step.run(s.program.inputs.map(value));
        s.program.outputs.forEach((n, j) => values.set(n, outs[j]!));
        continue;
      }
      const k = s.kernel;
      let results: Tensor[];
      try {
        const body = (g: Graph): Body => this.bodies.get(g) ?? fail('E_VERIFY', `ptx: ${k.name}: the body ${g.name} was not compiled`);
        results = await runHostKernel(k, k.inputs.map(value), sizes, (g) => body(g).captures, (g, ins) => body(g).runner.run(ins), 'ptx');
      } catch (e) {
        throw e instanceof AicError ? e.withContext(`extern kernel ${k.name} (${hostOp(k)})`) : e;
      }
      k.outputs.forEach((n, j) => {
        const t = results[j]!;
        bindShape(sizes, this.buffers.get(n)!.shape, t.shape, `extern kernel ${k.name} result ${j} (@${n})`);
        values.set(n, t);
      });
    }
    return p.outputs.map(value);
  }

  /** A GPU step compiled for the sizes its symbols have now, kept for the MAX_COMPILED most recent sets. */
  private load(step: number, program: Program, sizes: ReadonlyMap<string, number>): Promise<CompiledStep> {
    const syms = programSymbols(program);
    const key = `${step}:${syms.map((s) => `${s}=${sizes.get(s) ?? '?'}`).join(',')}`;
    let c = this.compiled.get(key);
    if (c) {
      this.compiled.delete(key);
      this.compiled.set(key, c);
      return c;
    }
    const same = [...this.compiled.keys()].filter((k) => k.startsWith(`${step}:`));
    if (same.length >= MAX_COMPILED) this.compiled.delete(same[0]!);
    c = this.compile(syms.length > 0 ? specializeProgram(program, sizes) : program).then((done) => {
      this.entries += done.entries;
      return done;
    });
    this.compiled.set(key, c);
    c.catch(() => this.compiled.delete(key));
    return c;
  }
}
