// Programs with host steps on WebGPU (WgslRunner): the host runs If/Loop/Scan (their bodies on the GPU),
// TopK/NonZero/Unique and the kernels over f64 between GPU steps, sizes the data decides specialize the
// steps after them, and the numbers are the interpreter's.
import { describe, expect, it } from 'vitest';
import { AicError } from '../../../src/ir/error.js';
import { parseGraph } from '../../../src/ir/parser.js';
import { Tensor } from '../../../src/ir/tensor.js';
import type { Graph } from '../../../src/ir/graph.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { scheduleGraph } from '../../../src/passes/schedule/index.js';
import { planMemory } from '../../../src/passes/memory-plan.js';
import type { Program } from '../../../src/kernel/program.js';
import { WgslRunner } from '../../../src/backends/wgsl/host.js';
import { splitProgram } from '../../../src/backends/wgsl/steps.js';
import { emitWgsl } from '../../../src/backends/wgsl/emit.js';
import { gpu } from './gpu.js';

const programOf = (g: Graph): Program => planMemory(scheduleGraph(g).program).program;

/** Run a graph on the GPU through WgslRunner and on the interpreter; the outputs must agree. */
async function matches(text: string, ...runs: Tensor[][]): Promise<WgslRunner> {
  const g = parseGraph(text);
  const runner = new WgslRunner(gpu!.device, programOf(g));
  await runner.prepare();
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
  return runner;
}

const f32 = (shape: number[], v: number[]): Tensor => Tensor.from('f32', shape, v);

const NONZERO = `graph @nz(%x: f32[3,4]) -> (%y: f32[2,_nonzero0]) {
  %a = prim.abs(%x) : f32[3,4]
  %nz = prim.nonzero(%a) : i64[2,_nonzero0]
  %c = prim.cast(%nz) {to=f32} : f32[2,_nonzero0]
  %two = prim.const() {value=dense<f32[]: [2]>} : f32[]
  %y = prim.mul(%c, %two) : f32[2,_nonzero0]
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

// The branches capture outer values (one computed on the GPU first) and yield different sizes.
const IF = `graph @branch(%c: bool[], %x: f32[3]) -> (%r: f32[_if0]) {
  %e = prim.exp(%x) : f32[3]
  %r = prim.if(%c) {else_branch=graph @no() -> (%z: f32[2]) {
    %z = prim.slice(%x) {axes=[0], starts=[1], steps=[1], stops=[3]} : f32[2]
  }, then_branch=graph @yes() -> (%t: f32[3]) {
    %t = prim.add(%e, %x) : f32[3]
  }} : f32[_if0]
}`;

const UNIQUE = `graph @u(%x: f32[8]) -> (%y: f32[_unique0], %first: i64[_unique0], %inv: i64[8], %n: i64[_unique0]) {
  %y, %first, %inv, %n = prim.unique(%x) {sorted=1} : (f32[_unique0], i64[_unique0], i64[8], i64[_unique0])
}`;

describe.skipIf(!gpu)('wgsl host steps (WgslRunner)', () => {
  it('cuts a Program at its host kernels; a Program without one is one step, itself', () => {
    const steps = splitProgram(programOf(parseGraph(NONZERO)));
    expect(steps.map((s) => s.kind)).toEqual(['gpu', 'host', 'gpu']);
    const [first, , last] = steps as [Extract<typeof steps[number], { kind: 'gpu' }>, unknown, Extract<typeof steps[number], { kind: 'gpu' }>];
    expect(first.program.outputs).toHaveLength(1);
    expect(last.program.inputs).toEqual(first.program.outputs.map(() => expect.any(String)));
    const plain = programOf(parseGraph('graph @p(%x: f32[4]) -> (%y: f32[4]) {\n  %y = prim.exp(%x) : f32[4]\n}'));
    expect(splitProgram(plain)).toEqual([{ kind: 'gpu', program: plain }]);
  });

  it('NonZero: the count comes back, the kernel after it is specialized to it (per count)', async () => {
    const r = await matches(NONZERO,
      [f32([3, 4], [0, 1, 0, -2, 3, 0, 0, 0, 0, 5, 6, 0])],
      [f32([3, 4], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 7])],
      [f32([3, 4], new Array<number>(12).fill(0))]);
    r.destroy();
  });

  it('keeps at most 16 sets of sizes compiled per step, and runs right after evicting one', async () => {
    const text = NONZERO.replace(/f32\[3,4\]/g, 'f32[20]').replace(/\[2,_nonzero0\]/g, '[1,_nonzero0]');
    const g = parseGraph(text);
    const runner = new WgslRunner(gpu!.device, programOf(g));
    const input = (n: number): Tensor => f32([20], Array.from({ length: 20 }, (_, i) => (i < n ? i + 1 : 0)));
    for (const n of [...Array.from({ length: 21 }, (_, i) => i), 0, 20]) {
      const [got] = await runner.run([input(n)]);
      const [want] = interpret(g, [input(n)]);
      expect(got!.shape).toEqual([1, n]);
      expect([...got!.data]).toEqual([...want!.data]);
    }
    // The step before the NonZero (one set of sizes) and at most 16 of the 21 counts.
    expect(runner.compiledSteps).toBe(17);
    runner.destroy();
  });

  it('Loop: a NonZero inside the body, a fresh size every iteration', async () => {
    (await matches(COUNT_LOOP, [Tensor.from('i64', [4], [0n, 1n, 2n, 3n])], [Tensor.from('i64', [4], [5n, 0n, 0n, 1n])])).destroy();
  });

  it('Scan then TopK: states and stacked results from the body on the GPU, the sort on the host', async () => {
    (await matches(SCAN_TOPK, [f32([2], [1, -1]), f32([5, 2], [0.5, 2, -3, 1, 4, 4, 0, -8, 2.25, 1])])).destroy();
  });

  it('If: the branch the condition picks, with captured values and its own result size', async () => {
    const x = f32([3], [0.5, -1, 2]);
    (await matches(IF, [Tensor.from('bool', [], [true]), x], [Tensor.from('bool', [], [false]), x])).destroy();
  });

  it('Unique: data-dependent sizes of several results', async () => {
    (await matches(UNIQUE, [f32([8], [3, 1, 3, -0, 0, 2, 1, 7])], [f32([8], [4, 4, 4, 4, 4, 4, 4, 4])])).destroy();
  });

  it('kernels over f64 run on the host\'s kernel interpreter, the rest on the GPU', async () => {
    const text = `graph @mixed(%x: f32[4,8]) -> (%y: f32[8], %z: f32[4]) {
  %e = prim.exp(%x) : f32[4,8]
  %y = prim.reduce_sum(%e) {axes=[0], keepdims=0} : f32[8]
  %d = prim.cast(%x) {to=f64} : f64[4,8]
  %m = prim.reduce_sum(%d) {axes=[1], keepdims=0} : f64[4]
  %n = prim.cast(%m) {to=f32} : f32[4]
  %z = prim.tanh(%n) : f32[4]
}`;
    const steps = splitProgram(programOf(parseGraph(text)));
    expect(steps.map((s) => s.kind)).toContain('kir');
    expect(steps.map((s) => s.kind)).toContain('gpu');
    const r = await matches(text, [f32([4, 8], Array.from({ length: 32 }, (_, i) => Math.sin(i)))]);
    expect(r.hostKernels).toBe(true);
    r.destroy();
    const plain = await matches(NONZERO, [f32([3, 4], [0, 1, 0, -2, 3, 0, 0, 0, 0, 5, 6, 0])]);
    expect(plain.hostKernels).toBe(false);
    plain.destroy();
  });

  it('a failed check inside a body stops the run with its message', async () => {
    const g = parseGraph(`graph @bad(%x: f32[3], %k: i64[]) -> (%y: f32[3]) {
  %y = prim.loop(%k, _, %x) {body=graph @b(%i: i64[], %c: bool[], %s: f32[3]) -> (%c: bool[], %t: f32[3]) {
    %j = prim.const() {value=dense<i64[]: [7]>} : i64[]
    %g = prim.gather(%s, %j) {axis=0} : f32[]
    %t = prim.add(%s, %g) : f32[3]
  }} : f32[3]
}`);
    const runner = new WgslRunner(gpu!.device, programOf(g));
    let err: unknown;
    try {
      await runner.run([f32([3], [1, 2, 3]), Tensor.from('i64', [], [2n])]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    // The body's failed gather check, as any kernel's (the driver makes it E_RUNTIME).
    expect((err as Error).name).toBe('WgslCheckError');
    expect((err as Error).message).toMatch(/gather: an index is out of range/);
    runner.destroy();
  });

  it('a standalone artifact refuses host steps, naming the op', () => {
    let err: unknown;
    try {
      emitWgsl(programOf(parseGraph(NONZERO)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_UNSUPPORTED');
    expect((err as AicError).message).toContain('prim.nonzero');
  });
});
