// Programs run on WebGPU give the interpreter's numbers: random prim graphs (f32, i32, bool), and kernels
// that exercise what the renderer does specially (64-bit ints, shared reductions, tiled GEMMs, dispatches
// past 65,535 workgroups, checks, compile errors).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AicError } from '../../../src/ir/error.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { scheduleGraph } from '../../../src/passes/schedule/index.js';
import { planMemory } from '../../../src/passes/memory-plan.js';
import { runProgram } from '../../../src/kernel/interpreter.js';
import { parseProgram } from '../../../src/kernel/parser.js';
import { printProgram } from '../../../src/kernel/printer.js';
import type { Program } from '../../../src/kernel/program.js';
import { WgslModel } from '../../../src/backends/wgsl/runtime.js';
import { emitWgsl } from '../../../src/backends/wgsl/emit.js';
import { arbPrimGraph, GENERATED_PRIMS, type PrimGraphCase } from '../../support/random-graph.js';
import { gpu, runOnGpu } from './gpu.js';

const close = (got: Tensor[], want: Tensor[], where: string): void => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    const c = compareTensors(got[i]!, w, { rtol: 1e-3, atol: 1e-5 });
    if (!c.ok) throw new Error(`${where}: output ${i}: ${c.reason}\ngot  ${got[i]!.toString()}\nwant ${w.toString()}`);
  });
};

async function checkCase(c: PrimGraphCase, tiled = true): Promise<void> {
  let want: Tensor[];
  try {
    want = interpret(c.graph, c.inputs);
  } catch (e) {
    if (e instanceof AicError) return;
    throw e;
  }
  const { program } = planMemory(scheduleGraph(c.graph).program);
  let got: Tensor[];
  try {
    got = await runOnGpu(program, c.inputs, { tiledMatmul: tiled });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${printProgram(program, { elideWeightsOver: 8 })}`);
  }
  close(got, want, printProgram(program, { elideWeightsOver: 8 }));
}

const OPS = GENERATED_PRIMS;

describe.skipIf(!gpu)('wgsl on WebGPU', () => {
  it('random prim graphs (f32, i32, bool) match the interpreter', async () => {
    await fc.assert(fc.asyncProperty(arbPrimGraph({ dtypes: ['f32', 'i32', 'bool'], ops: OPS, numericallyTame: true, maxNodes: 12 }), (c) => checkCase(c)),
      { seed: 7, numRuns: 100 });
  });

  it('random prim graphs over every dtype WGSL renders (i64 as two words, f16 and small ints widened)', async () => {
    const dtypes = ['f32', 'f16', 'bf16', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool'] as const;
    await fc.assert(fc.asyncProperty(arbPrimGraph({ dtypes, ops: OPS.filter((o) => o !== 'bitcast'), numericallyTame: true, maxNodes: 10 }), (c) => checkCase(c)),
      { seed: 5, numRuns: 60 });
  });

  it('random graphs with larger shapes (shared reductions, tiled GEMMs)', async () => {
    await fc.assert(fc.asyncProperty(arbPrimGraph({ dtypes: ['f32'], ops: OPS, numericallyTame: true, maxNodes: 8, maxDim: 40, maxElements: 20000, maxRank: 3 }), (c) => checkCase(c)),
      { seed: 11, numRuns: 25 });
  });

  it('transcendentals stay accurate where the WGSL builtins are loose (log near 1, sin near 0, tanh)', async () => {
    const ops = ['exp', 'log', 'sin', 'cos', 'tanh', 'erf', 'atan', 'sqrt'];
    const lines = ops.map((op, i) => `    %${2 * i + 1} = ${op} f32 %0\n    store @out${i}[i0] = %${2 * i + 1}`).join('\n');
    const p = parseProgram(`program @t(@in0) -> (${ops.map((_, i) => `@out${i}`).join(', ')}) {
  arena 0
  buffer @in0: f32[64] input "%x"
${ops.map((_, i) => `  buffer @out${i}: f32[64] output "%y${i}"`).join('\n')}
  kernel k0 (i0 < 64) {
    %0 = load f32 @in0[i0]
${lines}
  }
}`);
    const x = Tensor.from('f32', [64], Array.from({ length: 64 }, (_, i) => (i < 32 ? 1 + (i - 16) * 1e-4 : (i - 48) * 0.37 + 1e-5)));
    const want = runProgram(p, [x]);
    const got = await runOnGpu(p, [x]);
    want.forEach((w, i) => {
      const c = compareTensors(got[i]!, w, { rtol: 2e-5, atol: 1e-6 });
      if (!c.ok) throw new Error(`${ops[i]}: ${c.reason}`);
    });
  });

  it('64-bit integers: arithmetic, division, comparison, conversion', async () => {
    const p = parseProgram(`program @i64(@in0, @in1) -> (@out0, @out1, @out2, @out3, @out4) {
  arena 0
  buffer @in0: i64[8] input "%a"
  buffer @in1: i64[8] input "%b"
  buffer @out0: i64[8] output "%s"
  buffer @out1: i64[8] output "%q"
  buffer @out2: bool[8] output "%lt"
  buffer @out3: f32[8] output "%f"
  buffer @out4: i64[8] output "%p"
  kernel k0 (i0 < 8) {
    %0 = load i64 @in0[i0]
    %1 = load i64 @in1[i0]
    %2 = mul i64 %0, %1
    %3 = sub i64 %2, %1
    store @out0[i0] = %3
    %4 = div i64 %0, %1
    %5 = mod i64 %0, %1
    %6 = add i64 %4, %5
    store @out1[i0] = %6
    %7 = lt bool %0, %1
    store @out2[i0] = %7
    %8 = cast f32 %0
    store @out3[i0] = %8
    %9 = cast f32 %8
    %10 = cast i64 %9
    %11 = max i64 %10, %1
    store @out4[i0] = %11
  }
}`);
    const a = Tensor.from('i64', [8], [5n, -7n, 2n ** 40n + 3n, -(2n ** 62n), 9007199254740993n, 0n, -1n, 2n ** 63n - 1n]);
    const b = Tensor.from('i64', [8], [3n, 2n, -(2n ** 20n), 7n, 12345n, 0n, -(2n ** 63n), 2n]);
    close(await runOnGpu(p, [a, b]), runProgram(p, [a, b]), 'i64');
  });

  it('a reduction over a million elements, and argmax with NaN and ties, shared by a workgroup', async () => {
    const n = 1 << 20;
    const p = parseProgram(`program @big(@in0) -> (@out0, @out1, @out2) {
  arena 0
  buffer @in0: f32[${n}] input "%x"
  buffer @out0: f32[] output "%s"
  buffer @out1: i64[] output "%am"
  buffer @out2: i32[] output "%last"
  kernel k0 () {
    %0 = reduce sum f32 (r0 < ${n}) { %1 = load f32 @in0[r0] } -> %1
    store @out0[0] = %0
    %2 = reduce argmax i64 (r1 < ${n}) { %3 = load f32 @in0[r1] } -> %3
    store @out1[0] = %2
    %4 = reduce argmin i32 (r2 < ${n}) last { %5 = load f32 @in0[r2] } -> %5
    store @out2[0] = %4
  }
}`);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 1000) / 1000;
    x[777] = -5;
    x[900000] = -5;
    const t = new Tensor('f32', [n], x);
    close(await runOnGpu(p, [t]), runProgram(p, [t]), 'reductions');
    x[123456] = NaN;
    x[654321] = NaN;
    close(await runOnGpu(p, [t]), runProgram(p, [t]), 'reductions with NaN');
  });

  it('more than 65,535 workgroups: a 2D dispatch', async () => {
    const n = 65536 * 128 + 5;
    const p = parseProgram(`program @wide(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[${n}] input "%x"
  buffer @out0: f32[${n}] output "%y"
  kernel k0 (i0 < ${n}) { %0 = load f32 @in0[i0]; %1 = const f32 1.0; %2 = add f32 %0, %1; store @out0[i0] = %2 }
}`.replace(/; /g, '\n    ').replace('{ %0', '{\n    %0').replace('%2 }', '%2\n  }'));
    const x = new Float32Array(n).map((_, i) => i % 1000);
    const [y] = await runOnGpu(p, [new Tensor('f32', [n], x)]);
    const out = y!.data as Float32Array;
    expect(out[0]).toBe(1);
    expect(out[n - 1]).toBe(((n - 1) % 1000) + 1);
    expect(out[65536 * 64 + 17]).toBe(((65536 * 64 + 17) % 1000) + 1);
  });

  it('a tiled GEMM with an epilogue, on sizes that are not multiples of the tile', async () => {
    const [M, N, K] = [45, 70, 37];
    const p = parseProgram(`program @gemm(@in0, @in1, @in2) -> (@out0) {
  arena 0
  buffer @in0: f32[${M},${K}] input "%a"
  buffer @in1: f32[${K},${N}] input "%b"
  buffer @in2: f32[${N}] input "%bias"
  buffer @out0: f32[${M},${N}] output "%y"
  kernel k0 "dot add max" (i0 < ${M}, i1 < ${N}) {
    %0 = reduce dot f32 (r0 < ${K}) {
      %1 = load f32 @in0[${K}*i0 + r0]
      %2 = load f32 @in1[i1 + ${N}*r0]
    } -> %1, %2
    %3 = load f32 @in2[i1]
    %4 = add f32 %0, %3
    %5 = const f32 0.0
    %6 = max f32 %4, %5
    store @out0[${N}*i0 + i1] = %6
  }
}`);
    expect(emitWgsl(p).plan.kernels[0]!.workgroupSize).toBe(64);
    const r = (n: number, s: number): Tensor => Tensor.from('f32', [n], Array.from({ length: n }, (_, i) => Math.sin(i * s)));
    const ins = [r(M * K, 0.37), r(K * N, 0.91), r(N, 1.3)].map((t, i) => new Tensor('f32', i === 0 ? [M, K] : i === 1 ? [K, N] : [N], t.data));
    close(await runOnGpu(p, ins), runProgram(p, ins), 'gemm');
  });

  it('a failed check (gather index out of range) is an E_RUNTIME naming it', async () => {
    const p = parseProgram(`program @g(@in0, @in1) -> (@out0) {
  arena 0
  buffer @in0: f32[5] input "%data"
  buffer @in1: i64[3] input "%idx"
  buffer @out0: f32[3] output "%y"
  kernel k0 (i0 < 3) {
    %0 = load i64 @in1[i0]
    %1 = inbounds [%0 + 5] < 10
    check %1 "prim.gather: an index is out of range for a dim of 5"
    %2 = load f32 @in0[%0 % 5]
    store @out0[i0] = %2
  }
}`);
    const data = Tensor.from('f32', [5], [1, 2, 3, 4, 5]);
    const [ok] = await runOnGpu(p, [data, Tensor.from('i64', [3], [0n, -1n, 4n])]);
    expect([...(ok!.data as Float32Array)]).toEqual([1, 5, 5]);
    const err = await runOnGpu(p, [data, Tensor.from('i64', [3], [0n, 5n, 2n ** 40n])]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_RUNTIME');
    expect((err as AicError).message).toContain('out of range');
  });

  it('a shader that does not compile is reported with its kernel and line, never run', async () => {
    const p = parseProgram(`program @e(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[4] input "%x"
  buffer @out0: f32[4] output "%y"
  kernel k0 "exp → %y" (i0 < 4) {
    %0 = load f32 @in0[i0]
    %1 = exp f32 %0
    store @out0[i0] = %1
  }
}`);
    const a = emitWgsl(p);
    const broken = a.shaders.get('k0.wgsl')!.replace('exp(v0)', 'exp(v0, 2)');
    const line = broken.split('\n').findIndex((l) => l.includes('exp(v0, 2)')) + 1;
    const err = await WgslModel.create(gpu!.device, a.plan, () => broken, a.weights).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain('kernel k0 (exp → %y)');
    expect(err!.message).toContain(`line ${line}:`);
    expect((err as Error & { line?: number }).line).toBe(line);
  });
});

export type { Program };
