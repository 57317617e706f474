// The example backend passes a conformance subset through the same runner as the built-in targets, and
// works from the command line as a plugin.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as aic from '../../src/index.js';
import { discoverCases, runCase } from '../../src/driver/test-case.js';
import { main } from '../../src/cli/main.js';
import register, { c99Backend } from './c99.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TESTS = join(ROOT, '../shared/onnx-tests');
const backend = c99Backend(aic);
const noCc = backend.unavailable?.();
if (noCc) console.log(`skipped: ${noCc}`);

/** Cases made of ops and dtypes the example renders. */
const SUBSET = /^node\/test_(relu|add|add_bcast|sub|mul|div|exp|sigmoid|tanh|softmax_axis_[012]|softmax_default_axis|matmul_2d|matmul_3d|gemm_default_single_elem_vector_bias|gemm_all_attributes|reduce_sum_keepdims_example|reduce_max_default_axes_keepdim_example|transpose_default|concat_2d_axis_0|slice|pad_constant|leakyrelu|clip_default_min|averagepool_2d_default|maxpool_2d_default|conv_with_strides_padding|flatten_axis0|where_example)$/;

describe.skipIf(noCc !== undefined)('examples/custom-backend: c99', () => {
  register(aic);

  test('a conformance subset passes', async () => {
    const cases = discoverCases(TESTS).filter((c) => SUBSET.test(`${c.suite}/${c.name}`));
    expect(cases.length).toBeGreaterThan(20);
    const failed: string[] = [];
    for (const c of cases) {
      const r = await runCase(c, { target: 'c99' });
      if (r.status !== 'passed') failed.push(`${c.name}: ${r.reason}`);
    }
    expect(failed).toEqual([]);
  }, 600_000);

  test('what it cannot render is refused by name', () => {
    const p = aic.parseProgram(`program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f16[4] input "%x"
  buffer @out0: f16[4] output "%y"
  kernel k0 "neg → %y" (i0 < 4) {
    %0 = load f16 @in0[i0]
    %1 = neg f16 %0
    store @out0[i0] = %1
  }
}
`);
    expect(() => backend.emit(p)).toThrow(/c99: dtype f16 is not supported/);
  });

  test('from the command line: aic --plugin … test … --target c99', async () => {
    let out = '';
    const code = await main(['node', 'aic', '--plugin', join(ROOT, 'examples/custom-backend/c99.js'), 'test', join(TESTS, 'node/test_softmax_axis_1'), '--target', 'c99'],
      { out: (s) => void (out += s), err: (s) => void (out += s), interactive: false });
    expect(code, out).toBe(0);
    expect(out).toMatch(/passed/);
  }, 120_000);
});

