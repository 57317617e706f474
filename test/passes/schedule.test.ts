// The scheduler: for random prim graphs the scheduled (and planned) Program gives the graph interpreter's
// numbers bit for bit; the fusion counts the issue promises hold (softmax, layernorm, a 40-op pointwise
// chain, gemm + bias + relu); a dot stays a GEMM-shaped kernel; refusals to fuse carry their reason.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { Graph, Value } from '../../src/ir/graph.js';
import { AicError } from '../../src/ir/error.js';
import { Tensor } from '../../src/ir/tensor.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { runProgram } from '../../src/kernel/interpreter.js';
import { printProgram } from '../../src/kernel/printer.js';
import { allStmts, type LoopKernel } from '../../src/kernel/kernel.js';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { explainFusion } from '../../src/passes/schedule/explain.js';
import { planMemory } from '../../src/passes/memory-plan.js';
import { arbPrimGraph, type PrimGraphCase } from '../support/random-graph.js';
import { sameTensor } from '../support/check.js';

/** Schedule and plan `c`, run both ways, and compare exactly (NaN equals NaN, -0 is not +0). */
function checkCase(c: PrimGraphCase): void {
  let want: Tensor[];
  try {
    want = interpret(c.graph, c.inputs);
  } catch (e) {
    if (e instanceof AicError) return; // the reference itself stops (a bad index): nothing to compare
    throw e;
  }
  const { program } = planMemory(scheduleGraph(c.graph).program);
  const got = runProgram(program, c.inputs);
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    if (!sameTensor(got[i]!, w)) {
      throw new Error(`output ${i}: kir gives ${got[i]!.toString()}, the interpreter ${w.toString()}\n${printProgram(program, { elideWeightsOver: 8 })}`);
    }
  });
}

describe('schedule: Program ≡ graph interpreter', () => {
  it('on random prim graphs (every dtype, specials, empty dims)', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 20, maxRank: 5 }), checkCase), { seed: 31, numRuns: 700 });
  });

  it('on numerically tame f32 graphs (long chains, several consumers)', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 30, numericallyTame: true, dtypes: ['f32'], maxOutputs: 4 }), checkCase), { seed: 32, numRuns: 300 });
  });
});

const rand = (shape: number[], seed = 1): Tensor => {
  let s = seed;
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from('f32', shape, Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31) * 4 - 2;
  }));
};

function scheduleAndRun(g: Graph, inputs: Tensor[]): { kernels: LoopKernel[]; text: string } {
  const s = scheduleGraph(g);
  const want = interpret(g, inputs);
  const got = runProgram(planMemory(s.program).program, inputs);
  want.forEach((w, i) => expect(sameTensor(got[i]!, w)).toBe(true));
  return { kernels: s.program.kernels.filter((k): k is LoopKernel => k.kind === 'loop'), text: printProgram(s.program) };
}

describe('fusion counts', () => {
  it('softmax is at most 2 kernels (one row kernel)', () => {
    const b = new GraphBuilder('softmax');
    const x = b.input('x', 'f32', [4, 16]);
    const e = b.exp(b.sub(x, b.reduce('max', x, [1], true)));
    b.output(b.div(e, b.reduce('sum', e, [1], true)), 'y');
    const { kernels } = scheduleAndRun(b.build(), [rand([4, 16])]);
    expect(kernels.length).toBeLessThanOrEqual(2);
    expect(kernels.length).toBe(1);
  });

  it('layer normalization is at most 2 kernels', () => {
    const b = new GraphBuilder('layernorm');
    const x = b.input('x', 'f32', [3, 2, 10]);
    const gamma = b.input('gamma', 'f32', [10]);
    const beta = b.input('beta', 'f32', [10]);
    const n = b.scalar('f32', 10);
    const mean = b.div(b.reduce('sum', x, [2], true), n);
    const d = b.sub(x, mean);
    const variance = b.div(b.reduce('sum', b.mul(d, d), [2], true), n);
    const rstd = b.recip(b.sqrt(b.add(variance, b.scalar('f32', 1e-5))));
    b.output(b.add(b.mul(b.mul(d, rstd), gamma), beta), 'y');
    const { kernels } = scheduleAndRun(b.build(), [rand([3, 2, 10]), rand([10], 2), rand([10], 3)]);
    expect(kernels.length).toBeLessThanOrEqual(2);
  });

  it('a chain of 40 pointwise ops is 1 kernel', () => {
    const b = new GraphBuilder('chain');
    const x = b.input('x', 'f32', [8, 32]);
    const bias = b.input('bias', 'f32', [32]);
    const ops = [(v: Value) => b.tanh(v), (v: Value) => b.add(v, bias), (v: Value) => b.mul(v, b.scalar('f32', 0.5)), (v: Value) => b.max(v, b.scalar('f32', 0)), (v: Value) => b.neg(v)];
    let v = x;
    for (let i = 0; i < 40; i++) v = ops[i % ops.length]!(v);
    b.output(v, 'y');
    const g = b.build();
    expect(g.nodes.filter((n) => n.op !== 'prim.const').length).toBe(40);
    const { kernels } = scheduleAndRun(g, [rand([8, 32]), rand([32], 5)]);
    expect(kernels.length).toBe(1);
  });

  it('gemm + bias + relu is 1 kernel, and a GEMM a backend can recognize', () => {
    const b = new GraphBuilder('gemm');
    const a = b.input('a', 'f32', [6, 12]);
    const w = b.input('w', 'f32', [10, 12]); // transB = 1
    const bias = b.input('bias', 'f32', [10]);
    const y = b.dot(a, w, { lhsContract: [1], rhsContract: [1] });
    b.output(b.max(b.add(y, bias), b.scalar('f32', 0)), 'y');
    const { kernels } = scheduleAndRun(b.build(), [rand([6, 12]), rand([10, 12], 7), rand([10], 8)]);
    expect(kernels.length).toBe(1);
    const k = kernels[0]!;
    // The pattern a backend matches: a reduce stage `dot` whose two operands are plain loads.
    const stages = k.body.filter((s) => s.kind === 'reduce');
    expect(stages.length).toBe(1);
    const stage = stages[0]!;
    if (stage.kind !== 'reduce') throw new Error('unreachable');
    expect(stage.combiner).toBe('dot');
    const loads = new Map([...allStmts(stage.body)].flatMap((s) => (s.kind === 'let' ? [[s.id, s.expr.op] as const] : [])));
    expect(stage.operands.map((r) => loads.get(r))).toEqual(['load', 'load']);
  });

  it('movement ops are index maps, not copies', () => {
    const b = new GraphBuilder('views');
    const x = b.input('x', 'f32', [4, 6]);
    const t = b.permute(b.reshape(x, [2, 2, 6]), [2, 0, 1]);
    const s = b.slice(t, [0], [1], [6], [2]);
    b.output(b.exp(b.pad(s, [0, 1, 0, 0, 0, 1], 0.5)), 'y');
    const { kernels, text } = scheduleAndRun(b.build(), [rand([4, 6])]);
    expect(kernels.length).toBe(1);
    expect(text).not.toMatch(/ temp /); // no buffer between the input and the output
  });
});

describe('docs/KERNEL-IR.md', () => {
  it('shows the Program the scheduler makes for its worked example', () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', 'f32', [4, 16]);
    const w = b.input('w', 'f32', [10, 16]);
    const bias = b.input('b', 'f32', [10]);
    const h = b.max(b.add(b.dot(x, w, { lhsContract: [1], rhsContract: [1] }), bias), b.scalar('f32', 0));
    const e = b.exp(b.sub(h, b.reduce('max', h, [1], true)));
    b.output(b.div(e, b.reduce('sum', e, [1], true)), 'y');
    const text = printProgram(planMemory(scheduleGraph(b.build()).program).program);
    const doc = readFileSync(fileURLToPath(new URL('../../docs/KERNEL-IR.md', import.meta.url)), 'utf8');
    const shown = /```\n(program @mlp[\s\S]*?\n)```/.exec(doc)![1]!;
    // Value ids in labels depend on what was built before; compare the rest.
    const strip = (t: string): string => t.replace(/"%\d+"/g, '"%_"').replace(/→ %\d+/g, '→ %_');
    expect(strip(text)).toBe(strip(shown));
  });
});

describe('GEMM kernels', () => {
  it('give the interpreter\'s numbers for any sizes, layouts, batches and padded windows', () => {
    fc.assert(fc.property(
      fc.record({ b: fc.integer({ min: 1, max: 3 }), m: fc.integer({ min: 1, max: 13 }), k: fc.integer({ min: 1, max: 17 }), n: fc.integer({ min: 1, max: 11 }), transA: fc.boolean(), pad: fc.integer({ min: 0, max: 2 }), seed: fc.integer({ min: 1, max: 1000 }) }),
      ({ b: nb, m, k, n, transA, pad, seed }) => {
        const b = new GraphBuilder('gemm');
        const a = b.input('a', 'f32', transA ? [nb, k, m] : [nb, m, k]);
        const w = b.input('w', 'f32', [nb, k, n]);
        // A padded operand: the kernel reads it through masks (a convolution's window does the same).
        const wp = b.pad(w, [0, 0, pad, 0, 0, pad], 0.25);
        const y = b.dot(a, wp, { lhsBatch: [0], rhsBatch: [0], lhsContract: [transA ? 1 : 2], rhsContract: [1] });
        b.output(b.tanh(b.add(y, b.scalar('f32', 0.5))), 'y');
        const { kernels } = scheduleAndRun(b.build(), [rand(transA ? [nb, k, m] : [nb, m, k], seed), rand([nb, k, n], seed + 1)]);
        expect(kernels.length).toBe(1);
      },
    ), { seed: 35, numRuns: 150 });
  });
});

describe('fusion decisions', () => {
  it('materializes a costly value read by two kernels, and says why', () => {
    const b = new GraphBuilder('shared');
    const x = b.input('x', 'f32', [4, 8]);
    const e = b.exp(b.tanh(b.exp(x))); // cost 12: not cheap
    b.output(b.reduce('sum', e, [1], false), 's');
    b.output(b.reduce('max', e, [0], false), 'm');
    const s = scheduleGraph(b.build());
    const d = s.decisions.find((x) => x.op === 'prim.exp' && x.reason.includes('costly'));
    expect(d, explainFusion(s.program, s.decisions).join('\n')).toBeDefined();
    expect(d!.readers.length).toBe(2);
    expect(explainFusion(s.program, s.decisions).join('\n')).toMatch(/refused to fuse \(1\):\n {2}%\d+ = prim\.exp {2}in k0, read by k1, k2: read by 2 kernels and costly to recompute/);
  });

  it('recomputes a cheap value read by two kernels', () => {
    const b = new GraphBuilder('cheap');
    const x = b.input('x', 'f32', [4, 8]);
    const y = b.add(x, b.scalar('f32', 1));
    b.output(b.reduce('sum', y, [1], false), 's');
    b.output(b.reduce('max', y, [0], false), 'm');
    expect(scheduleGraph(b.build()).program.kernels.length).toBe(2);
  });

  it('never fuses across a data-dependent shape', () => {
    const b = new GraphBuilder('nonzero');
    const x = b.input('x', 'f32', [3, 4]);
    const nz = b.op1('prim.nonzero', [x]);
    b.output(b.exp(b.cast(nz, 'f32')), 'y');
    const g = b.build();
    const s = scheduleGraph(g);
    expect(s.program.kernels.map((k) => k.kind)).toEqual(['extern', 'loop']);
    expect(printProgram(s.program)).toMatch(/extern k0 "prim\.nonzero/);
    const input = Tensor.from('f32', [3, 4], [0, 1, 0, 2, 0, 0, 3, 0, 4, 0, 0, 5]);
    const got = runProgram(planMemory(s.program).program, [input]);
    expect(sameTensor(got[0]!, interpret(g, [input])[0]!)).toBe(true);
    expect(got[0]!.shape).toEqual([2, 5]);
  });
});
