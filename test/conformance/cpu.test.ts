// The CPU backend on the ONNX conformance suite, as CI runs it: a seeded sample of the cases (g++ is slow;
// `npm run conformance:cpu` runs all of them) plus the structured ops (If, Loop, Scan, NonZero, Unique,
// NonMaxSuppression), which the backend runs through models of their own. Every case must do on cpu what
// it does on the reference interpreter: pass where it passes there.
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
  const cases: TestCase[] = [...new Map([...sample, ...structured].map((c) => [`${c.suite}/${c.name}`, c])).values()];

  test.each(cases.map((c) => [`${c.suite}/${c.name}`, c] as const))('%s', async (_name, c) => {
    const interp: CaseResult = await runCase(c, { target: 'interp' });
    const cpu: CaseResult = await runCase(c, { target: 'cpu' });
    if (interp.status === 'passed') expect(cpu.status, `${cpu.category}: ${cpu.reason}`).toBe('passed');
    else expect(cpu.status).not.toBe('passed'); // a reference that fails cannot be matched
  }, 300_000);

  test('the sample is big enough to mean something', () => {
    expect(cases.length).toBeGreaterThanOrEqual(Math.min(SAMPLE, 40));
  });
});
