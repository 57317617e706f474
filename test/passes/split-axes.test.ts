// Splitting an axis that the body divides (a grouped convolution's channel): the division disappears, the
// kernel computes the same numbers, and the GEMM matcher then sees a batched GEMM.
import { describe, expect, it } from 'vitest';
import { parseKernel } from '../../src/kernel/parser.js';
import { printKernel } from '../../src/kernel/printer.js';
import { matchGemm } from '../../src/kernel/gemm.js';
import type { LoopKernel } from '../../src/kernel/kernel.js';
import { splitAxes } from '../../src/passes/schedule/split-axes.js';

const GROUPED = `kernel k0 "grouped" (i1 < 8, i2 < 5) {
  %0 = reduce dot f32 (r0 < 3) {
    %1 = load f32 @w[3*i1 + r0]
    %2 = load f32 @x[15*(i1 // 4) + 5*r0 + i2]
  } -> %1, %2
  store @y[5*i1 + i2] = %0
}
`;

describe('splitAxes', () => {
  it('splits a grouped channel axis into (group, channel) and removes the division', () => {
    const k = parseKernel(GROUPED) as LoopKernel;
    expect(matchGemm(k)!.batch.map((a) => a.name)).toEqual(['i1']); // one GEMM per channel: slow
    const s = splitAxes(k);
    expect(printKernel(s)).toBe(`kernel k0 "grouped" (i1a < 2, i1b < 4, i2 < 5) {
  %0 = reduce dot f32 (r0 < 3) {
    %1 = load f32 @w[12*i1a + 3*i1b + r0]
    %2 = load f32 @x[15*i1a + i2 + 5*r0]
  } -> %1, %2
  store @y[20*i1a + 5*i1b + i2] = %0
}
`);
    const g = matchGemm(s)!;
    expect([g.batch, g.m, g.n].map((axes) => axes.map((a) => a.name))).toEqual([['i1a'], ['i1b'], ['i2']]);
  });

  it('leaves argmax axes and axes without a dividing read alone', () => {
    const k = parseKernel(`kernel k0 (i0 < 6) {
  %0 = reduce argmax i64 (r0 < 4) {
    %1 = load f32 @x[4*(i0 % 3) + r0 // 2]
  } -> %1
  store @y[i0] = %0
}
`) as LoopKernel;
    expect(printKernel(splitAxes(k))).toContain('(i0a < 2, i0b < 3)');
    expect(printKernel(splitAxes(k))).toContain('(r0 < 4)');
  });
});
