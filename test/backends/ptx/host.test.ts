// Programs with host steps on the ptx target (PtxRunner): the loop kernels are cut into modules assembled by
// ptxas for sm_80 and sm_90, If/Loop/Scan run on the host with every branch and body a Program whose
// kernels are assembled too (before the first run, taken or not), TopK/NonZero/Unique run on the host, a
// size the data decides specializes the modules after it, and the numbers are the interpreter's.
import { describe, expect, it } from 'vitest';
import { AicError } from '../../../src/ir/error.js';
import { parseGraph } from '../../../src/ir/parser.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { Graph } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { scheduleGraph } from '../../../src/passes/schedule/index.js';
import { planMemory } from '../../../src/passes/memory-plan.js';
import { programSymbols } from '../../../src/passes/specialize.js';
import type { Program } from '../../../src/kernel/program.js';
import { PtxRunner, type CompileStep } from '../../../src/backends/ptx/host.js';
import { emitPtx } from '../../../src/backends/ptx/emit.js';
import { assembleStep } from '../../../src/driver/ptx.js';
import { NO_PTXAS } from './ptxas.js';

const programOf = (g: Graph): Program => planMemory(scheduleGraph(g).program).program;

/** assembleStep, recording every Program it was given (each must have static shapes). */
function recording(): { compile: CompileStep; programs: Program[] } {
  const programs: Program[] = [];
  return {
    programs,
    compile: (p) => {
      expect(programSymbols(p), `step @${p.name} reached the assembler with symbolic sizes`).toEqual([]);
      programs.push(p);
      return assembleStep(p);
    },
  };
}

/** Run a graph through PtxRunner and on the interpreter; the outputs must agree. */
async function matches(runner: PtxRunner, g: Graph, ...runs: Tensor[][]): Promise<void> {
  for (const inputs of runs) {
    const want = interpret(g, inputs);
    const got = await runner.run(inputs);
    expect(got.length).toBe(want.length);
    want.forEach((w, i) => {
      expect(got[i]!.shape, `output ${i}`).toEqual(w.shape);
      const c = compareTensors(got[i]!, w, { rtol: 1e-5, atol: 1e-6 });
      expect(c.ok, `output ${i}: ${c.reason}\ngot  ${got[i]!.toString()}\nwant ${w.toString()}`).toBe(true);
    });
  }
}

const f32 = (shape: number[], v: number[]): Tensor => Tensor.from('f32', shape, v);

const NONZERO = `graph @nz(%x: f32[3,4]) -> (%y: f32[2,_nonzero0]) {
  %a = prim.abs(%x) : f32[3,4]
  %nz = prim.nonzero(%a) : i64[2,_nonzero0]
  %c = prim.cast(%nz) {to=f32} : f32[2,_nonzero0]
  %two = prim.const() {value=dense<f32[]: [2]>} : f32[]
  %y = prim.mul(%c, %two) : f32[2,_nonzero0]
}`;

// The branches capture outer values (one computed by a kernel first) and yield different sizes.
const IF = `graph @branch(%c: bool[], %x: f32[3]) -> (%r: f32[_if0]) {
  %e = prim.exp(%x) : f32[3]
  %r = prim.if(%c) {else_branch=graph @no() -> (%z: f32[2]) {
    %z = prim.slice(%x) {axes=[0], starts=[1], steps=[1], stops=[3]} : f32[2]
  }, then_branch=graph @yes() -> (%t: f32[3]) {
    %t = prim.add(%e, %x) : f32[3]
  }} : f32[_if0]
}`;

// for i < 3: s += |nonzero(x >= i)|: a NonZero inside a loop body, its count a fresh size every iteration.
const COUNT_LOOP = `graph @count(%x: i64[4]) -> (%2: i64[]) {
  %0 = prim.const() {value=dense<i64[]: [3]>} : i64[]
  %1 = prim.const() {value=dense<i64[]: [0]>} : i64[]
  %2 = prim.loop(%0, _, %1) {body=graph @body(%i: i64[], %c: bool[], %s: i64[]) -> (%c: bool[], %11: i64[]) {
    %4 = prim.lt(%x, %i) : bool[4]
    %5 = prim.not(%4) : bool[4]
    %6 = prim.nonzero(%5) : i64[1,_nonzero0]
    %7 = prim.shape(%6) : i64[2]
    %8 = prim.const() {value=dense<i64[]: [1]>} : i64[]
    %9 = prim.gather(%7, %8) {axis=0} : i64[]
    %10 = prim.reduce_sum(%9) {axes=ints[], keepdims=0} : i64[]
    %11 = prim.add(%s, %10) : i64[]
  }} : i64[]
}`;

// A running sum and its history (Scan), then the two largest of the history per column (TopK).
const SCAN_TOPK = `graph @st(%s0: f32[2], %xs: f32[5,2]) -> (%s: f32[2], %ys: f32[5,2], %v: f32[2,2], %i: i64[2,2]) {
  %s, %ys = prim.scan(%s0, %xs) {body=graph @b(%a: f32[2], %x: f32[2]) -> (%n: f32[2], %y: f32[2]) {
    %n = prim.add(%a, %x) : f32[2]
    %h = prim.const() {value=dense<f32[]: [0.5]>} : f32[]
    %y = prim.mul(%n, %h) : f32[2]
  }, num_scan_inputs=1} : (f32[2], f32[5,2])
  %v, %i = prim.topk(%ys) {axis=0, k=2, largest=1} : (f32[2,2], i64[2,2])
}`;

const UNIQUE = `graph @u(%x: f32[8]) -> (%y: f32[_unique0], %first: i64[_unique0], %inv: i64[8], %n: i64[_unique0]) {
  %e = prim.exp(%x) : f32[8]
  %y, %first, %inv, %n = prim.unique(%e) {sorted=1} : (f32[_unique0], i64[_unique0], i64[8], i64[_unique0])
}`;

describe('ptx host steps (PtxRunner)', () => {
  it('cuts a Program at its host kernels; a Program without one is one step, itself', () => {
    const never: CompileStep = () => Promise.reject(new Error('not compiled here'));
    const runner = new PtxRunner(programOf(parseGraph(NONZERO)), never);
    expect(runner.steps.map((s) => s.kind)).toEqual(['gpu', 'host', 'gpu']);
    expect(runner.hostOps).toEqual(['prim.nonzero']);
    const plain = programOf(parseGraph('graph @p(%x: f32[4]) -> (%y: f32[4]) {\n  %y = prim.exp(%x) : f32[4]\n}'));
    expect(new PtxRunner(plain, never).steps).toEqual([{ kind: 'gpu', program: plain }]);
  });

  it('the artifact refuses a host step by name, before its sizes', () => {
    const p = programOf(parseGraph(NONZERO));
    const k = p.kernels.find((x) => x.kind === 'extern')!;
    let err: unknown;
    try {
      emitPtx(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_UNSUPPORTED');
    expect((err as AicError).message).toContain(`kernel ${k.name} runs prim.nonzero on the host`);
  });

  it('a body that cannot be assembled is refused before the first run, even a branch not taken', async () => {
    const failing: CompileStep = (p) => (p.name.startsWith('no') ? Promise.reject(new AicError('E_BUILD', `ptxas rejected @${p.name}`)) : Promise.resolve({ entries: 1, run: () => Promise.resolve([]) }));
    const runner = new PtxRunner(programOf(parseGraph(IF)), failing);
    await expect(runner.prepare()).rejects.toThrow(/ptxas rejected @no/);
  });
});

describe.skipIf(NO_PTXAS !== undefined)('ptx host steps through ptxas', () => {
  it('If: both branches are assembled before the first run; the taken one runs', async () => {
    const g = parseGraph(IF);
    const { compile, programs } = recording();
    const runner = new PtxRunner(programOf(g), compile);
    await runner.prepare();
    // The exp before the If, and one module per branch.
    expect(programs.map((p) => p.name).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^no/), expect.stringMatching(/^yes/)]));
    expect(runner.assembledEntries).toBeGreaterThanOrEqual(3);
    expect(runner.unassembledSteps).toBe(0);
    expect(runner.hostOps).toEqual(['prim.if']);
    const x = f32([3], [0.5, -1, 2]);
    await matches(runner, g, [Tensor.from('bool', [], [1]), x], [Tensor.from('bool', [], [0]), x]);
  }, 60_000);

  it('NonZero: the module after it is assembled for the count the data gave, once per count', async () => {
    const g = parseGraph(NONZERO);
    const { compile, programs } = recording();
    const runner = new PtxRunner(programOf(g), compile);
    await runner.prepare();
    const before = programs.length;
    expect(before).toBe(1);
    expect(runner.unassembledSteps, 'the step after the NonZero waits for its count').toBe(1);
    const a = f32([3, 4], [0, 1, 0, 2, 3, 0, 0, 4, 0, 0, 5, 0]);
    const b = f32([3, 4], [1, 1, 0, 2, 3, 0, 0, 4, 0, 0, 5, 0]);
    await matches(runner, g, [a], [b], [a]);
    expect(programs.length).toBe(before + 2);
    expect(runner.assembledEntries).toBe(3);
    expect(runner.unassembledSteps).toBe(0);
  }, 60_000);

  it('Loop: a NonZero inside the body, its modules assembled per count; the counts add up', async () => {
    const g = parseGraph(COUNT_LOOP);
    const { compile, programs } = recording();
    const runner = new PtxRunner(programOf(g), compile);
    await runner.prepare();
    // prim.shape of the count's symbolic shape is an extern too.
    expect(runner.hostOps).toEqual(['prim.loop', 'prim.nonzero', 'prim.shape']);
    await matches(runner, g, [Tensor.from('i64', [4], [0n, 1n, 2n, 5n])]);
    expect(programs.some((p) => p.name.startsWith('body'))).toBe(true);
    expect(runner.assembledEntries).toBeGreaterThan(0);
  }, 60_000);

  it('Scan then TopK: the body\'s kernels are a module of their own; TopK runs on the host', async () => {
    const g = parseGraph(SCAN_TOPK);
    const { compile, programs } = recording();
    const runner = new PtxRunner(programOf(g), compile);
    await runner.prepare();
    const body = programs.find((p) => p.name.startsWith('b'));
    expect(body, 'the scan body was assembled').toBeDefined();
    expect(body!.kernels.length).toBeGreaterThan(0);
    expect(runner.hostOps).toEqual(['prim.scan', 'prim.topk']);
    await matches(runner, g, [f32([2], [0, 1]), f32([5, 2], [1, -2, 3, 0.5, -1, 4, 2, 2, 0, -3])]);
  }, 60_000);

  it('Unique: its results size the run; the kernel before it is assembled', async () => {
    const g = parseGraph(UNIQUE);
    const { compile, programs } = recording();
    const runner = new PtxRunner(programOf(g), compile);
    await runner.prepare();
    expect(programs).toHaveLength(1);
    await matches(runner, g, [f32([8], [2, 1, 2, 0, 1, 3, 3, 0])]);
  }, 60_000);
});
