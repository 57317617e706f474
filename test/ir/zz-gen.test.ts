import { it, expect } from 'vitest';
import fc from 'fast-check';
import { arbPrimGraph } from '../support/random-graph.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { isFloat } from '../../src/ir/dtype.js';
it('many wild', () => {
  fc.assert(fc.property(arbPrimGraph({ maxNodes: 25, maxRank: 5 }), (c) => { verifyGraph(c.graph); interpret(c.graph, c.inputs); }), { numRuns: 6000 });
});
it('many tame', () => {
  fc.assert(fc.property(arbPrimGraph({ maxNodes: 25, numericallyTame: true }), (c) => {
    verifyGraph(c.graph);
    interpret(c.graph, c.inputs, { onNode: (_n, rs) => { for (const t of rs) if (isFloat(t.dtype)) for (const x of t.data as Float32Array) if (!Number.isNaN(x)) expect(Math.abs(x)).toBeLessThanOrEqual(1e4); } });
  }), { numRuns: 6000 });
});
