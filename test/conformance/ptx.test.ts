// The ONNX conformance cases on the ptx target, without a GPU: every kernel of a case is assembled by
// ptxas for sm_80 and sm_90, and the same Program runs on the kernel-IR interpreter (each result's note
// says so, and names the extern steps that ran on the host). CI runs a seeded sample of 40 cases, two light
// models and the cases with host steps (If/Loop/Scan, TopK and NonMaxSuppression, NonZero, Unique, and the
// expansions that use them); `npm run conformance:ptx` runs all. A case that passes on interp
// (interp-known-failures.txt) must pass on ptx: a refusal, a ptxas rejection or a wrong number fails.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CaseResult, TestCase } from '../../src/driver/test-case.js';
import { selectCases } from '../../src/driver/conformance.js';
import { NO_PTXAS } from '../backends/ptx/ptxas.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const interpList = fileURLToPath(new URL('./interp-known-failures.txt', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

const SAMPLE = { filter: /^(node|simple|pytorch-converted|pytorch-operator)\//, sample: 40, seed: 8 };
const LIGHT = { filter: /^light\/light_(squeezenet|bvlc_alexnet)$/ };
const HOST = { filter: /^node\/test_(if|loop\d|scan|nonzero|unique|top_k|nonmaxsuppression|linear_attention_.*_expanded$|range_.*_expanded$)/ };
/** Host-step cases the issue names, each with the op its note must name. */
const NAMED: Readonly<Record<string, string>> = {
  'node/test_scan9_sum': 'prim.scan', 'node/test_if': 'prim.if', 'node/test_loop11': 'prim.loop', 'node/test_nonzero_example': 'prim.nonzero',
  'node/test_unique_sorted_with_axis': 'prim.unique', 'node/test_nonmaxsuppression_two_batches': 'prim.topk', 'node/test_top_k': 'prim.topk',
};
const ASSEMBLED = 'ptx: no GPU here; every kernel was assembled by ptxas for sm_80 and sm_90';

const data = existsSync(root);
if (!data) console.log(`skipped: ONNX test data not found at ${root}`);

function interpFailures(): Set<string> {
  const out = new Set<string>();
  if (!existsSync(interpList)) return out;
  for (const line of readFileSync(interpList, 'utf8').split('\n')) {
    const name = line.split('\t')[0];
    if (name && !name.startsWith('#')) out.add(name);
  }
  return out;
}

describe.skipIf(!data || NO_PTXAS !== undefined)('conformance on ptx (ptxas + the kernel-IR interpreter)', () => {
  const cases = new Map<string, TestCase>();
  if (data) for (const opts of [SAMPLE, LIGHT, HOST]) for (const c of selectCases(root, opts)) cases.set(`${c.suite}/${c.name}`, c);
  const results = new Map<string, CaseResult>();
  const interpFails = interpFailures();

  beforeAll(async () => {
    const { runConformance } = (await import(dist)) as typeof import('../../src/driver/conformance.js');
    for (const opts of [SAMPLE, LIGHT, HOST]) {
      const report = await runConformance(root, { ...opts, target: 'ptx', jobs: 2 });
      for (const r of report.cases) results.set(`${r.suite}/${r.name}`, r);
    }
    const passed = [...results.values()].filter((r) => r.status === 'passed').length;
    const host = [...results.values()].filter((r) => r.note?.includes('extern steps')).length;
    console.log(`ptx sample: ${passed} passed (every kernel assembled for sm_80 and sm_90; ${host} with host steps), of ${results.size}`);
  }, 1_200_000);

  test('the sample is what it says', () => {
    expect(cases.size).toBeGreaterThanOrEqual(42 + 48);
    for (const name of Object.keys(NAMED)) expect(cases.has(name), name).toBe(true);
  });

  test('the cases with host steps pass, their notes naming the ops that ran on the host', () => {
    for (const [name, op] of Object.entries(NAMED)) {
      const r = results.get(name);
      expect(r?.status, `${name}: ${r?.reason}`).toBe('passed');
      expect(r!.note).toMatch(new RegExp(`the extern steps .*${op.replace('.', '\\.')}.* ran on the host`));
    }
    expect([...results.values()].filter((r) => r.status === 'passed' && r.note?.includes('extern steps')).length).toBeGreaterThanOrEqual(48);
  });

  test.each([...cases.keys()])('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'passed') expect(r!.note?.startsWith(ASSEMBLED), r!.note).toBe(true);
    if (r!.status === 'failed') expect(interpFails.has(name), `${name} passes on interp but fails on ptx: ${r!.category} ${r!.reason}`).toBe(true);
  });
});
