// The kernel IR text: what prints parses back to the same Program (golden texts and scheduled random
// graphs), the parsed Program runs to the same numbers, and bad text is an E_PARSE naming line and column.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseProgram } from '../../src/kernel/parser.js';
import { printProgram } from '../../src/kernel/printer.js';
import { runProgram } from '../../src/kernel/interpreter.js';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { planMemory } from '../../src/passes/memory-plan.js';
import { Tensor } from '../../src/ir/tensor.js';
import { arbPrimGraph } from '../support/random-graph.js';
import { errorCode, expectTensor, sameTensor } from '../support/check.js';

/** Every statement form, every literal kind, an extern kernel, weights, a dynamic temp and a symbolic dim. */
const GOLDEN = `program @golden(@in0, @in1) -> (@out0, @out1, @in1) {
  arena 128
  buffer @in0: f32[2,3] input "%x"
  buffer @in1: i64[N] input "%idx"
  buffer @out0: f32[2] output "%y"
  buffer @out1: i64[2] output "%am"
  buffer @w0: f32[3] weight "%b" = dense<f32[3]: [0.5, -1.0, 2.0]>
  buffer @t0: f32[2,3] temp "%z" at 0
  buffer @t1: f32[N] temp "%g" dynamic
  kernel k0 "pad add → %z" (i0 < 2, i1 < 3) {
    %0 = inbounds [i1 - 1] < 2
    %1 = load f32 @in0[3*i0 + i1 - 1] if %0
    %2 = const f32 -0.0
    %3 = where f32 %0, %1, %2
    %4 = load f32 @w0[i1]
    %5 = add f32 %3, %4
    store @t0[3*i0 + i1] = %5
  }
  kernel k1 "row kernel" (i0 < 2) {
    %0 = reduce dot f32 (r0 < 3) {
      %1 = load f32 @t0[3*i0 + r0]
      %2 = load f32 @w0[r0]
    } -> %1, %2
    %3 = reduce argmax i64 (r1 < 3) last {
      %4 = load f32 @t0[3*i0 + r1]
    } -> %4
    %5 = const f32 nan
    %6 = const f32 inf
    %7 = min f32 %5, %6
    %8 = max f32 %0, %7
    %9 = index f32 [(i0 + 5) // 2 - i0 % 2]
    %10 = mul f32 %8, %9
    store @out0[i0] = %10
    store @out1[i0] = %3
  }
  kernel k2 "gather" (i0 < $N) {
    %0 = load i64 @in1[i0]
    %1 = inbounds [%0 + 3] < 6
    check %1 "index out of range"
    %2 = load f32 @w0[%0 % 3]
    %3 = const i64 -9223372036854775808
    %4 = cast f32 %3
    %5 = add f32 %2, %4
    store @t1[i0] = %5
  }
  extern k3 "prim.neg → %h" (@t1) -> (@t1) {
    graph @neg(%a: f32[N]) -> (%b: f32[N]) {
      %b = prim.neg(%a) : f32[N]
    }
  }
  kernel k4 "loops" () {
    %0 = const i32 7
    loop (j0 < 2, j1 < 3) {
      %1 = cast f32 %0
      store @t0[3*j0 + j1] = %1
    }
  }
}
`;

describe('kernel IR text', () => {
  it('parses and prints the golden Program unchanged', () => {
    expect(printProgram(parseProgram(GOLDEN))).toBe(GOLDEN);
  });

  it('runs the golden Program', () => {
    const x = Tensor.from('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const idx = Tensor.from('i64', [2], [0n, -1n]);
    const [y, am, back] = runProgram(parseProgram(GOLDEN), [x, idx]);
    // z = pad(x[:, :2], 1 left) + b = [[0.5, 0, 4], [0.5, 3, 7]]; dot with b; max with nan → nan
    expectTensor(y!, 'f32', [2], [NaN, NaN]);
    expectTensor(am!, 'i64', [2], [2n, 2n]);
    expectTensor(back!, 'i64', [2], [0n, -1n]);
  });

  it('round-trips scheduled and planned random graphs, which run the same after parsing', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 14 }), (c) => {
      const { program } = planMemory(scheduleGraph(c.graph).program);
      const text = printProgram(program);
      const parsed = parseProgram(text);
      expect(printProgram(parsed)).toBe(text);
      let before: Tensor[];
      try {
        before = runProgram(program, c.inputs);
      } catch {
        return; // a run-time error (a reference error too): nothing to compare
      }
      const after = runProgram(parsed, c.inputs);
      before.forEach((t, i) => expect(sameTensor(after[i]!, t)).toBe(true));
    }), { seed: 21, numRuns: 150 });
  });

  it('reports bad text as E_PARSE with line and column', () => {
    const bad = GOLDEN.replace('%5 = add f32 %3, %4', '%5 = add f32 %3 %4');
    expect(errorCode(() => parseProgram(bad))).toBe('E_PARSE');
    expect(() => parseProgram(bad, 'x.kir')).toThrow(/x\.kir:17:5: expected/);
    expect(errorCode(() => parseProgram('program @p() -> (@nope) { arena 0 }'))).toBe('E_PARSE');
  });
});
