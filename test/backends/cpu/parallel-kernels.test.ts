// Loop kernels big enough to run on the thread pool (kernel.ts splits their outer axes into ranges):
// a 1-D vectorized domain, a 3-D one whose two outer axes are walked as an odometer from the start of each
// range, a reduction per point of a 2-D domain, and a domain whose size is symbolic (the cap decided at run
// time), each against the kernel-IR interpreter, element for element.
import { afterAll, describe, expect, test } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { parseProgram } from '../../../src/kernel/parser.js';
import { runProgram } from '../../../src/kernel/interpreter.js';
import { renderModel } from '../../../src/backends/cpu/emit.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { buildBatch, NO_GXX, type Batch } from './harness.js';

const pointwise1d = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[3000017] input "%x"
  buffer @out0: f32[3000017] output "%y"
  kernel k0 "mul add" (i0 < 3000017) {
    %0 = load f32 @in0[i0]
    %1 = mul f32 %0, %0
    %2 = add f32 %1, %0
    store @out0[i0] = %2
  }
}
`;
// 37 x 53 outer points (not a multiple of the ranges), each a vectorized row of 1031.
const pointwise3d = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[37,53,1031] input "%x"
  buffer @out0: f32[37,53,1031] output "%y"
  kernel k0 "exp" (i0 < 37, i1 < 53, i2 < 1031) {
    %0 = load f32 @in0[54643*i0 + 1031*i1 + i2]
    %2 = index f32 [i0]
    %4 = index f32 [i1]
    %5 = mul f32 %2, %4
    %6 = add f32 %0, %5
    store @out0[54643*i0 + 1031*i1 + i2] = %6
  }
}
`;
const rowSums = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[29,41,2003] input "%x"
  buffer @out0: f32[29,41] output "%y"
  kernel k0 "reduce_sum" (i0 < 29, i1 < 41) {
    %0 = reduce sum f32 (r0 < 2003) {
      %1 = load f32 @in0[82123*i0 + 2003*i1 + r0]
    } -> %1
    store @out0[41*i0 + i1] = %0
  }
}
`;
const symbolic = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[N,4099] input "%x"
  buffer @out0: f32[N,4099] output "%y"
  kernel k0 "neg" (i0 < $N, i1 < 4099) {
    %0 = load f32 @in0[4099*i0 + i1]
    %1 = neg f32 %0
    store @out0[4099*i0 + i1] = %1
  }
}
`;

const cases: [string, string, number[]][] = [
  ['1-D pointwise', pointwise1d, [3000017]],
  ['3-D pointwise (odometer over two axes)', pointwise3d, [37, 53, 1031]],
  ['a reduction per point of a 2-D domain', rowSums, [29, 41, 2003]],
  ['a symbolic domain', symbolic, [777, 4099]],
];

let batch: Batch | undefined;
afterAll(() => batch?.dispose());

describe('cpu: kernels run on the thread pool', () => {
  const programs = cases.map(([, text]) => parseProgram(text));

  test('each is rendered as a range function run by parallel_range', () => {
    for (const p of programs) expect(renderModel(p, { prefix: 'probe' }).source).toContain('aic::threads::parallel_range(');
  });

  test.skipIf(NO_GXX !== undefined)('match the kernel-IR interpreter', async () => {
    batch = await buildBatch(programs);
    const failures: string[] = [];
    for (let i = 0; i < cases.length; i++) {
      const [name, , shape] = cases[i]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Tensor.from('f32', shape, Float32Array.from({ length: n }, (_, j) => ((j * 2654435761) % 1999) / 1000 - 1));
      const want = runProgram(programs[i]!, [x]);
      const got = await batch.run(i, [x]);
      const cmp = compareTensors(got[0]!, want[0]!, { rtol: 1e-5, atol: 1e-6 });
      if (!cmp.ok) failures.push(`${name}: ${cmp.reason}`);
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
