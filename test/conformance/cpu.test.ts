// The CPU backend on the ONNX conformance suite, as CI runs it: a seeded sample of the cases (g++ is slow;
// `npm run conformance:cpu` runs all of them) plus the structured ops (If, Loop, Scan, NonZero, Unique,
// NonMaxSuppression), which the backend runs through models of their own, and the dtype and semantics
// corners. Every case must do on cpu what it does on the reference interpreter: pass where it passes there.
import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCase, type CaseResult, type TestCase } from '../../src/driver/test-case.js';
import { selectCases } from '../../src/driver/conformance.js';
import '../../src/driver/all-targets.js';
import { NO_GXX } from '../backends/cpu/harness.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const available = existsSync(root);
const SAMPLE = Number(process.env['AIC_CPU_SAMPLE'] ?? 40);

describe.skipIf(!available || NO_GXX !== undefined)('conformance on cpu (a sample)', () => {
  const sample = available ? selectCases(root, { sample: SAMPLE, seed: 2026 }) : [];
  const structured = available ? selectCases(root, { filter: /node\/test_(scan9_sum|if|loop11|nonzero_example|unique_sorted_with_axis|range_int32_type_negative_delta_expanded|nonmaxsuppression_two_batches|linear_attention_gated_expanded)$/ }) : [];
  // The corners where C++ and the reference part most easily: narrow floats and ints, float→int and
  // float8 casts, truncating integer division and C-sign modulo, u64 shifts, inf/NaN, empty reductions.
  const corners = available ? selectCases(root, { filter: /node\/test_(cast_no_saturate_FLOAT_to_FLOAT8E4M3FN|cast_FLOAT_to_BFLOAT16|cast_FLOAT16_to_INT4|mod_mixed_sign_int64|div_int32_trunc|div_uint64|bitshift_right_uint64|isinf_float16|reduce_max_empty_set|reduce_log_sum_exp_empty_set|attention_causal_boolmask_nan_robustness)$/ }) : [];
  const cases: TestCase[] = [...new Map([...sample, ...structured, ...corners].map((c) => [`${c.suite}/${c.name}`, c])).values()];

  test.each(cases.map((c) => [`${c.suite}/${c.name}`, c] as const))('%s', async (_name, c) => {
    const interp: CaseResult = await runCase(c, { target: 'interp' });
    const cpu: CaseResult = await runCase(c, { target: 'cpu' });
    if (interp.status === 'passed') expect(cpu.status, `${cpu.category}: ${cpu.reason}`).toBe('passed');
    else expect(cpu.status).not.toBe('passed'); // a reference that fails cannot be matched
  }, 300_000);

  test('the sample is big enough to mean something', () => {
    expect(cases.length).toBeGreaterThanOrEqual(Math.min(SAMPLE, 40));
    expect(corners.length).toBe(11); // a renamed case would silently drop out of the list
  });
});
