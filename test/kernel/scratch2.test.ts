import { it, expect } from 'vitest';
import fc from 'fast-check';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { printProgram } from '../../src/kernel/printer.js';
import { runProgram } from '../../src/kernel/interpreter.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { arbPrimGraph } from '../support/random-graph.js';
import { sameTensor } from '../support/check.js';
import { AicError } from '../../src/ir/error.js';

it('random', () => {
  fc.assert(fc.property(arbPrimGraph({ maxNodes: 25, maxRank: 5 }), (c) => {
    let want;
    try { want = interpret(c.graph, c.inputs); } catch (e) { if (e instanceof AicError) return; throw e; }
    const s = scheduleGraph(c.graph);
    let got;
    try { got = runProgram(s.program, c.inputs); } catch (e) { throw new Error(`${(e as Error).message}\n${printProgram(s.program)}`); }
    for (let i = 0; i < want.length; i++) {
      if (!sameTensor(got[i]!, want[i]!)) throw new Error(`output ${i}: got ${got[i]} want ${want[i]}\n${printProgram(s.program)}`);
    }
  }), { seed: Number(process.env.SEED ?? 2), numRuns: 3000 });
});
