// The ONNX conformance cases on the ptx target, without a GPU: every kernel of a case is assembled by
// ptxas for sm_80 and sm_90, and the same Program runs on the kernel-IR interpreter (each result's note
// says so). CI runs a seeded sample of 40 cases and two light models; `npm run conformance:ptx` runs all.
// A case that passes on interp (interp-known-failures.txt) must pass on ptx, or be refused by the backend
// with E_UNSUPPORTED naming what it cannot render (an extern op, a narrow format); a ptxas rejection
// (E_BUILD) or a wrong number fails.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CaseResult, TestCase } from '../../src/driver/test-case.js';
import { selectCases } from '../../src/driver/conformance.js';
import { INTERPRETER_NOTE } from '../../src/backends/ptx/index.js';
import { NO_PTXAS } from '../backends/ptx/ptxas.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const interpList = fileURLToPath(new URL('./interp-known-failures.txt', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

const SAMPLE = { filter: /^(node|simple|pytorch-converted|pytorch-operator)\//, sample: 40, seed: 8 };
const LIGHT = { filter: /^light\/light_(squeezenet|bvlc_alexnet)$/ };

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
  if (data) for (const opts of [SAMPLE, LIGHT]) for (const c of selectCases(root, opts)) cases.set(`${c.suite}/${c.name}`, c);
  const results = new Map<string, CaseResult>();
  const interpFails = interpFailures();

  beforeAll(async () => {
    const { runConformance } = (await import(dist)) as typeof import('../../src/driver/conformance.js');
    for (const opts of [SAMPLE, LIGHT]) {
      const report = await runConformance(root, { ...opts, target: 'ptx', jobs: 2 });
      for (const r of report.cases) results.set(`${r.suite}/${r.name}`, r);
    }
    const passed = [...results.values()].filter((r) => r.status === 'passed').length;
    const refused = [...results.values()].filter((r) => r.status === 'failed' && r.category === 'E_UNSUPPORTED').length;
    console.log(`ptx sample: ${passed} passed (every kernel assembled for sm_80 and sm_90), ${refused} refused, of ${results.size}`);
  }, 1_200_000);

  test('the sample is what it says', () => {
    expect(cases.size).toBeGreaterThanOrEqual(42);
  });

  test.each([...cases.keys()])('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'passed') expect(r!.note).toBe(INTERPRETER_NOTE);
    if (r!.status !== 'failed' || interpFails.has(name)) return;
    expect(r!.category, `${name} passes on interp but fails on ptx: ${r!.reason}`).toBe('E_UNSUPPORTED');
    expect(r!.reason).toMatch(/ptx: /);
  });
});
