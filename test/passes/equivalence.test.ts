// Every canonicalization pass keeps the numbers: ≥ 200 random prim graphs each, seeded and reproducible.
// A failure prints the pass name and the shrunk graph before and after it as IR text.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/ir/builder.js';
import { Tensor } from '../../src/ir/tensor.js';
import { findPass, type Pass } from '../../src/passes/pass.js';
import { CANONICALIZE } from '../../src/passes/builtin.js';
import { checkPassOnGraph, formatEquivalenceFailure } from '../../src/passes/equivalence.js';
import { rewriteGraph } from '../../src/passes/rewrite.js';
import { arbPrimGraph } from '../support/random-graph.js';
import '../../src/passes/manager.js';

const passes = CANONICALIZE.split(',').map((n) => findPass(n)!);

function holds(pass: Pass, seed: number, numRuns: number, tame: boolean): void {
  fc.assert(
    fc.property(arbPrimGraph({ numericallyTame: tame, maxNodes: 14 }), (c) => {
      const failure = checkPassOnGraph(pass, { graph: c.fresh().graph, inputs: c.inputs });
      if (failure) throw new Error(formatEquivalenceFailure(failure));
    }),
    { seed, numRuns },
  );
}

describe('every canonicalization pass preserves semantics', () => {
  for (const pass of passes) {
    test(`${pass.name}: 200 random graphs`, () => holds(pass, 0xa1c + pass.name.length, 200, false));
    test(`${pass.name}: 200 numerically tame graphs`, () => holds(pass, 0x5eed + pass.name.length, 200, true));
  }
  test('the whole canonicalization pipeline, in order', () => {
    const pipeline: Pass = {
      name: 'canonicalize',
      description: 'all of them',
      run: (g, ctx) => passes.reduce((cur, p) => p.run(cur, ctx), g),
    };
    holds(pipeline, 77, 200, true);
  });
});

describe('a deliberately wrong pass is caught', () => {
  // Turns a - b into b - a: wrong whenever a != b.
  const swapSub: Pass = {
    name: 'swap-sub',
    description: 'wrong on purpose',
    run: (g) => rewriteGraph(g, [{
      name: 'swap', ops: ['prim.sub'],
      apply: (c, b) => (c.inputs[0] !== c.inputs[1] ? b.sub(c.inputs[1]!, c.inputs[0]!) : undefined),
    }]).graph,
  };

  test('by the property', () => {
    let caught: unknown;
    try {
      holds(swapSub, 3, 200, true);
    } catch (e) {
      caught = e;
    }
    // fast-check reports the shrunk graph; the cause carries the pass name and both IR texts.
    expect(String(caught)).toMatch(/Property failed/);
    expect(String((caught as Error).cause)).toMatch(/pass 'swap-sub' changed the numbers/);
  });

  test('on a hand-written graph, naming the pass', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f32', [3]);
    const y = b.input('y', 'f32', [3]);
    b.output(b.sub(x, y), 'z');
    const f = checkPassOnGraph(swapSub, { graph: b.build(), inputs: [Tensor.from('f32', [3], [1, 2, 3]), Tensor.from('f32', [3], [0, 0, 0])] });
    expect(f?.pass).toBe('swap-sub');
    expect(f?.before).toContain('prim.sub(%x, %y)');
    expect(f?.after).toContain('prim.sub(%y, %x)');
  });
});
