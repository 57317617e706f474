// The memory planner: on every plan of a random graph no two temps live at the same time share a byte
// (unless one is written in place over the other), every offset is 64-byte aligned, and the arena lies
// between the lower bound and the naive sum; in-place reuse happens where a pointwise kernel's input dies.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/ir/builder.js';
import { Tensor } from '../../src/ir/tensor.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { runProgram } from '../../src/kernel/interpreter.js';
import { getBuffer } from '../../src/kernel/program.js';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { checkPlan, planMemory } from '../../src/passes/memory-plan.js';
import { arbPrimGraph } from '../support/random-graph.js';
import { errorCode, sameTensor } from '../support/check.js';

describe('memory plan', () => {
  it('never overlaps live temps, aligns every offset, and lies between the bounds (every random plan)', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 30, maxOutputs: 2, numericallyTame: true }), fc.boolean(), (c, inPlace) => {
      const { program, plan } = planMemory(scheduleGraph(c.graph).program, { inPlace });
      checkPlan(program, plan);
      for (const t of plan.temps) expect(t.offset % 64).toBe(0);
      expect(plan.lowerBoundBytes).toBeLessThanOrEqual(plan.arenaBytes);
      expect(plan.arenaBytes).toBeLessThanOrEqual(plan.naiveBytes);
      if (!inPlace) expect(plan.inPlace.length).toBe(0);
    }), { seed: 41, numRuns: 400 });
  });

  it('catches an overlap the plan does not allow', () => {
    const b = new GraphBuilder('two');
    const x = b.input('x', 'f32', [16]);
    const e = b.exp(b.tanh(b.exp(x)));
    b.output(b.reduce('sum', e, [0], false), 's');
    b.output(b.reduce('max', e, [0], false), 'm');
    const { program, plan } = planMemory(scheduleGraph(b.build()).program);
    expect(plan.temps.length).toBe(1);
    const forged = { ...plan, temps: [...plan.temps, { ...plan.temps[0]!, name: 'ghost' }] };
    expect(errorCode(() => checkPlan(program, forged))).toBe('E_VERIFY');
    expect(errorCode(() => checkPlan(program, { ...plan, temps: [{ ...plan.temps[0]!, offset: 32 }] }))).toBe('E_VERIFY');
  });

  it('writes a pointwise kernel over the input that dies there', () => {
    const b = new GraphBuilder('inplace');
    const x = b.input('x', 'f32', [4, 8]);
    const e = b.exp(b.tanh(b.exp(x))); // costly, read by two kernels: materialized
    b.output(b.reduce('sum', e, [1], false), 's');
    const f = b.exp(b.tanh(b.exp(e))); // reads e last, at the index it stores f: in place
    b.output(b.reduce('max', f, [1], false), 'fmax');
    b.output(b.reduce('min', f, [1], false), 'fmin');
    const g = b.build();
    const { program, plan } = planMemory(scheduleGraph(g).program);
    checkPlan(program, plan);
    expect(plan.inPlace).toEqual([['t1', 't0']]);
    expect(getBuffer(program, 't1').offset).toBe(getBuffer(program, 't0').offset);
    expect(plan.arenaBytes).toBe(128);
    expect(plan.naiveBytes).toBe(256);
    expect(plan.lowerBoundBytes).toBe(128);
    const input = Tensor.from('f32', [4, 8], Array.from({ length: 32 }, (_, i) => Math.sin(i)));
    const want = interpret(g, [input]);
    runProgram(program, [input]).forEach((t, i) => expect(sameTensor(t, want[i]!)).toBe(true));
  });

  it('reuses the memory of dead temps (best fit)', () => {
    // A chain of matmuls: each result is a dot operand (materialized) that dies when the next is made.
    const b = new GraphBuilder('chain');
    let v = b.input('x', 'f32', [8, 8]);
    const w = b.input('w', 'f32', [8, 8]);
    for (let i = 0; i < 6; i++) v = b.tanh(b.dot(v, w, { lhsContract: [1], rhsContract: [0] }));
    b.output(v, 'y');
    const { program, plan } = planMemory(scheduleGraph(b.build()).program, { inPlace: false });
    checkPlan(program, plan);
    expect(plan.temps.length).toBe(5);
    expect(plan.arenaBytes).toBe(plan.lowerBoundBytes);
    expect(plan.arenaBytes).toBe(2 * 256);
    expect(plan.naiveBytes).toBe(5 * 256);
  });
});
