// The example pass's equivalence property: the same check every built-in pass has.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import * as aic from '../../src/index.js';
import { arbPrimGraph } from '../../test/support/random-graph.js';
import { squarePass } from './square.js';

const pass = squarePass(aic);

describe('examples/custom-pass: square', () => {
  test('keeps the numbers on 200 random graphs', () => {
    fc.assert(fc.property(arbPrimGraph({ numericallyTame: true }), (c) => {
      const f = aic.checkPassOnGraph(pass, { graph: c.fresh().graph, inputs: c.inputs });
      if (f) throw new Error(`${f.reason}\n${f.before}\n${f.after}`);
    }), { seed: 2, numRuns: 200 });
  });

  test('rewrites pow(x, 2)', () => {
    const g = aic.parseGraph(`graph @g(%x: f32[8]) -> (%y: f32[8]) {
  %c = prim.const() {value=dense<f32[]: [2.0]>} : f32[]
  %y = prim.pow(%x, %c) : f32[8]
}`);
    const out = aic.findPass('dce')!.run(pass.run(g, { opsets: new Map(), target: 'interp' }), { opsets: new Map(), target: 'interp' });
    expect(aic.printGraph(out)).toContain('prim.mul(%x, %x)');
  });
});
