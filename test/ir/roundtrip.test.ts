// The text round trip on well-typed prim graphs: parse(print(g)) prints identically, verifies, and
// computes exactly what g computes (NaN equals NaN, -0 differs from +0, int64 exact). test/ir/text.test.ts
// covers the syntax on arbitrary (ill-typed) graphs; this covers the semantics on the generator's graphs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GraphBuilder } from '../../src/ir/builder.js';
import { parseGraph } from '../../src/ir/parser.js';
import { printGraph } from '../../src/ir/printer.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { T, sameTensor } from '../support/check.js';
import { arbPrimGraph, type PrimGraphCase } from '../support/random-graph.js';

function roundTrip(c: PrimGraphCase): void {
  const text = printGraph(c.graph);
  const back = parseGraph(text, 'roundtrip.air');
  expect(printGraph(back)).toBe(text);
  verifyGraph(back);
  const want = interpret(c.graph, c.inputs);
  const got = interpret(back, c.inputs);
  expect(got.length).toBe(want.length);
  got.forEach((t, i) => {
    if (!sameTensor(t, want[i]!)) expect(`output ${i}: ${t.toString()}`).toBe(`output ${i}: ${want[i]!.toString()}`);
  });
}

describe('parse(print(g)) on random prim graphs', () => {
  it('prints identically and interprets identically', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 16, maxRank: 5 }), roundTrip), { seed: 31, numRuns: 400 });
  });

  it('in tame mode, and with large constants (the hex form)', () => {
    fc.assert(fc.property(arbPrimGraph({ numericallyTame: true, maxNodes: 10 }), roundTrip), { seed: 32, numRuns: 150 });
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 6, maxElements: 1024, maxDim: 9, ops: ['const', 'add', 'mul', 'cast', 'bitcast', 'where', 'concat', 'neg'] }), roundTrip), { seed: 33, numRuns: 100 });
  });

  it('keeps every dtype of constants bit for bit, NaN, ±inf, -0 and 64-bit extremes included', () => {
    const b = new GraphBuilder('consts');
    const consts = [
      T('f32', [5], [NaN, Infinity, -Infinity, -0, 1e-45]),
      T('f64', [3], [5e-324, -0, 0.1]),
      T('f16', [3], [65504, 2 ** -24, -0]),
      T('bf16', [2], [3.3895313892515355e38, -0]),
      T('i64', [2], [-(2n ** 63n), 2n ** 63n - 1n]),
      T('u64', [1], [2n ** 64n - 1n]),
      T('u32', [1], [2 ** 32 - 1]),
      T('i8', [2], [-128, 127]),
      T('bool', [2], [true, false]),
      T('f32', [70], Array.from({ length: 70 }, (_, i) => (i % 7 === 0 ? NaN : i % 5 === 0 ? -0 : i / 3))),
      T('f16', [0, 2], []),
      T('i64', [], [7n]),
    ];
    consts.forEach((t, i) => b.output(b.const(t), `c${i}`));
    const g = b.build();
    roundTrip({ graph: g, inputs: [], seed: 0, nodes: g.nodes.length, fresh: () => { throw new Error('unused'); } });
  });
});
