/// <reference types="@webgpu/types" />
// Running a whole Program on a GPUDevice, externs included: the Program is cut into steps (steps.ts, on ../steps.ts); each
// GPU step is a WgslModel (runtime.ts) compiled for the sizes known when it runs, and between them the host
// runs the extern kernels on the values read back:
//
//   If, Loop, Scan   the host decides which branch and how many iterations (../control.ts); every run of a
//                    branch or a body is a Program of its own (scheduled once, here) on the GPU;
//   TopK, NonZero,   the prims' reference semantics on the host (src/ir/prims/structured.ts), as ONNX
//   Unique, …        Runtime Web falls back to its CPU for such ops: NonZero's and Unique's result sizes
//                    must come back to the host anyway (the shaders after them are rendered for those
//                    sizes), and the suite's TopKs sort a few dozen values, less work than a dispatch.
//                    It also keeps their tie and NaN rules the reference's, bit for bit.
//
// Loop kernels over a dtype WGSL has not (f64) run on the host too, on aic's kernel interpreter (exact:
// the interpreter's own numbers), between GPU steps: WGSL has no 64-bit float, and demoting one to f32
// would change results silently.
//
// A size the data decides is a symbol bound when its step has run; the GPU steps after it are specialized
// to it (compiled once per set of sizes). A Program with no extern (every light model) is one GPU step, run
// as before in one compute pass. It uses only the WebGPU API and aic's compiler core, so it runs in a
// browser as well as in Node. (A written artifact, run.js, runs GPU kernels only: aic compile refuses a
// Program with host steps, emit.ts.)
import { AicError, fail } from '../../ir/error.js';
import { subgraphsOf, type Graph, type Value } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import type { ExternKernel } from '../../kernel/kernel.js';
import { bufferMap, type Buffer, type Program } from '../../kernel/program.js';
import { programSymbols, specializeProgram } from '../../passes/specialize.js';
import { ProgramRunner } from '../../kernel/interpreter.js';
import { bodyProgram, controlNode, runHostKernel } from '../control.js';
import { bindShape as bind } from '../steps.js';
import { emitWgsl, type WgslEmitOptions } from './emit.js';
import { WgslModel, type HostArray } from './runtime.js';
import { hostOp, splitProgram, type Step } from './steps.js';

/** Sets of sizes a step keeps compiled. */
const MAX_COMPILED = 16;

interface Loaded {
  readonly model: WgslModel;
  /** The step's Program with static shapes (its outputs' shapes). */
  readonly program: Program;
}

/** A kir step for the sizes known when it runs. */
interface LoadedKir {
  readonly runner: ProgramRunner;
  readonly program: Program;
}

/** A branch or a body compiled as a Program: its inputs are the graph's, then the values it captures. */
interface Body {
  readonly runner: WgslRunner;
  readonly captures: readonly Value[];
}

export class WgslRunner {
  private readonly steps: readonly Step[];
  private readonly buffers: Map<string, Buffer>;
  /** GPU steps by step index and the sizes of their symbols. */
  private readonly loaded = new Map<string, Promise<Loaded>>();
  private readonly kirs = new Map<string, LoadedKir>();
  private readonly bodies = new Map<Graph, Body>();

  /** Cut the Program into steps and schedule the bodies of its control ops (so a body that cannot be
   * compiled is refused now, not when it first runs). */
  constructor(readonly device: GPUDevice, readonly program: Program, private readonly opts: WgslEmitOptions = {}) {
    this.buffers = bufferMap(program);
    this.steps = splitProgram(program);
    for (const s of this.steps) {
      if (s.kind !== 'host') continue;
      const node = controlNode(s.kernel);
      if (node) for (const g of subgraphsOf(node)) this.bodies.set(g, this.compileBody(g, s.kernel));
    }
  }

  /** Whether some loop kernels run on the host's kernel interpreter (f64), here or in a body. */
  get hostKernels(): boolean {
    return this.steps.some((s) => s.kind === 'kir') || [...this.bodies.values()].some((b) => b.runner.hostKernels);
  }

  /** GPU steps compiled now (a step once per set of sizes it keeps). */
  get compiledSteps(): number {
    return this.loaded.size;
  }

  /** Compile the shaders of every step whose sizes are already known (so that errors show before a run). */
  async prepare(): Promise<void> {
    const sizes = new Map<string, number>();
    for (const [i, s] of this.steps.entries()) if (s.kind === 'gpu' && programSymbols(s.program).length === 0) await this.load(i, s.program, sizes);
    for (const b of this.bodies.values()) await b.runner.prepare();
  }

  /** Run on inputs in the order of the Program's inputs; outputs in the order of its outputs. */
  run(inputs: readonly Tensor[]): Promise<Tensor[]> {
    // One run at a time, so that a step evicted from the cache (load) is never one a run still holds.
    const turn = this.busy.then(() => this.runNow(inputs));
    this.busy = turn.catch(() => undefined);
    return turn;
  }

  private busy: Promise<unknown> = Promise.resolve();

  private async runNow(inputs: readonly Tensor[]): Promise<Tensor[]> {
    const p = this.program;
    if (inputs.length !== p.inputs.length) fail('E_RUNTIME', `program @${p.name} takes ${p.inputs.length} inputs, got ${inputs.length}`);
    const sizes = new Map<string, number>();
    const values = new Map<string, Tensor>();
    p.inputs.forEach((name, i) => {
      const b = this.buffers.get(name)!;
      const t = inputs[i]!;
      if (t.dtype !== b.dtype) fail('E_RUNTIME', `input ${i} (@${name}${b.label ? `, ${b.label}` : ''}): expected ${b.dtype}, got ${t.dtype}`);
      bind(sizes, b.shape, t.shape, `input ${i} (@${name})`);
      values.set(name, t);
    });
    const value = (name: string): Tensor => {
      const have = values.get(name);
      if (have) return have;
      const b = this.buffers.get(name);
      return b?.data ?? fail('E_RUNTIME', `program @${p.name}: buffer @${name} has no value when it is read`);
    };
    for (const [i, s] of this.steps.entries()) {
      if (s.kind === 'gpu') {
        const { model, program } = await this.load(i, s.program, sizes);
        const r = await model.run(program.inputs.map((n) => value(n).data as HostArray));
        const out = bufferMap(program);
        program.outputs.forEach((n, j) => values.set(n, new Tensor(out.get(n)!.dtype, out.get(n)!.shape as number[], r.outputs[j]!)));
      } else if (s.kind === 'kir') {
        const { runner, program } = this.loadKir(i, s.program, sizes);
        const outs = runner.run(program.inputs.map(value));
        program.outputs.forEach((n, j) => values.set(n, outs[j]!));
      } else {
        const k = s.kernel;
        let results: Tensor[];
        try {
          results = await this.runHost(k, k.inputs.map(value), sizes);
        } catch (e) {
          throw e instanceof AicError ? e.withContext(`extern kernel ${k.name} (${hostOp(k)})`) : e;
        }
        k.outputs.forEach((n, j) => {
          const t = results[j]!;
          bind(sizes, this.buffers.get(n)!.shape, t.shape, `extern kernel ${k.name} result ${j} (@${n})`);
          values.set(n, t);
        });
      }
    }
    return p.outputs.map(value);
  }

  /** Free the GPU buffers of every compiled step and body. */
  destroy(): void {
    for (const l of this.loaded.values()) l.then(({ model }) => model.destroy(), () => undefined);
    this.loaded.clear();
    for (const b of this.bodies.values()) b.runner.destroy();
  }

  /** A GPU step compiled for the sizes its symbols have now. Each step keeps its MAX_COMPILED most recently
   * used sets of sizes: a loop whose carried values grow would otherwise keep one model per iteration. */
  private load(step: number, program: Program, sizes: ReadonlyMap<string, number>): Promise<Loaded> {
    const syms = programSymbols(program);
    const key = `${step}:${syms.map((s) => `${s}=${sizes.get(s) ?? '?'}`).join(',')}`;
    let l = this.loaded.get(key);
    if (l) {
      this.loaded.delete(key);
      this.loaded.set(key, l);
    } else {
      const same = [...this.loaded.keys()].filter((k) => k.startsWith(`${step}:`));
      if (same.length >= MAX_COMPILED) {
        this.loaded.get(same[0]!)!.then(({ model }) => model.destroy(), () => undefined);
        this.loaded.delete(same[0]!);
      }
      l = (async () => {
        const fixed = syms.length > 0 ? specializeProgram(program, sizes) : program;
        const a = emitWgsl(fixed, this.opts);
        const model = await WgslModel.create(this.device, a.plan, (f) => a.shaders.get(f) ?? fail('E_BUILD', `wgsl: no shader ${f}`), a.weights);
        return { model, program: fixed };
      })();
      this.loaded.set(key, l);
      l.catch(() => this.loaded.delete(key));
    }
    return l;
  }

  /** A kir step specialized to the sizes its symbols have now (so that sizes bound by externs are known). */
  private loadKir(step: number, program: Program, sizes: ReadonlyMap<string, number>): LoadedKir {
    const syms = programSymbols(program);
    const key = `${step}:${syms.map((s) => `${s}=${sizes.get(s) ?? '?'}`).join(',')}`;
    let l = this.kirs.get(key);
    if (!l) {
      const same = [...this.kirs.keys()].filter((k) => k.startsWith(`${step}:`));
      if (same.length >= MAX_COMPILED) this.kirs.delete(same[0]!);
      const fixed = syms.length > 0 ? specializeProgram(program, sizes) : program;
      l = { runner: new ProgramRunner(fixed), program: fixed };
      this.kirs.set(key, l);
    }
    return l;
  }

  private runHost(k: ExternKernel, args: readonly Tensor[], sizes: ReadonlyMap<string, number>): Promise<Tensor[]> {
    const body = (g: Graph): Body => this.bodies.get(g) ?? fail('E_VERIFY', `wgsl: ${k.name}: the body ${g.name} was not compiled`);
    return runHostKernel(k, args, sizes, (g) => body(g).captures, (g, ins) => body(g).runner.run(ins), 'wgsl');
  }

  /** A branch or body as a Program of its own, on the same device. */
  private compileBody(g: Graph, k: ExternKernel): Body {
    const { program, captures } = bodyProgram(g, k, 'wgsl');
    return { runner: new WgslRunner(this.device, program, this.opts), captures };
  }
}
