// The ONNX conformance cases on WebGPU (the wgsl target), and issue #7's acceptance: every float32 case
// (float32-cases.ts says which) that passes on interp passes on wgsl.
//
// CI runs a seeded sample of the node/simple/pytorch cases, six light models, and every case that needs
// the runtime's host steps (If, Loop, Scan, TopK, NonZero, Unique, kernels over f64); the whole run is
// `npm run conformance:wgsl` (about four minutes on Mesa's software GPU, 2 cores). A case must pass, or be
// listed in wgsl-known-failures.txt with its reason; a listed case that starts passing fails, so the list
// only shrinks (`node scripts/known-failures.js wgsl` regenerates it after a full run). And no float32
// case may be on that list unless the interpreter fails it too (interp-known-failures.txt): with the list
// regenerated from a full run, that is the acceptance over all 1,951 cases.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { CaseResult, TestCase } from '../../src/driver/test-case.js';
import { selectCases } from '../../src/driver/conformance.js';
import { webgpuUnavailable } from '../../src/driver/webgpu.js';
import { isFloat32Case } from './float32-cases.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const listFile = (target: string): string => fileURLToPath(new URL(`./${target}-known-failures.txt`, import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

const SAMPLE = { filter: /^(node|simple|pytorch-converted|pytorch-operator)\//, sample: 150, seed: 3 };
const LIGHT = /^light\/light_(bvlc_alexnet|squeezenet|inception_v1|densenet121|resnet50|shufflenet)$/;
/** The cases that run host steps: control flow, sorts, data-dependent sizes, f64 inside float32 models. */
const HOST = /^node\/test_(if|loop\d+|scan\d*_\w+|top_k\w*|nonzero_\w+|unique_\w+|range_\w+_expanded|nonmaxsuppression_\w+|linear_attention_\w+_expanded|dft\w*|stft\w*|pow_types_int(32|64)_float32|reduce_log_sum_exp_empty_set_expanded|adam\w*)$/;

function knownFailures(target: string): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(listFile(target))) return m;
  for (const line of readFileSync(listFile(target), 'utf8').split('\n')) {
    const [name, category] = line.split('\t');
    if (name && !name.startsWith('#')) m.set(name, category ?? '');
  }
  return m;
}

const data = existsSync(root);
const why = !data ? `ONNX test data not found at ${root}` : await webgpuUnavailable();
if (why) console.log(`skipped: webgpu not available (${why})`);

describe.skipIf(!data)('the float32 acceptance over the known-failures lists', () => {
  test('no float32 case is on the wgsl list unless it is on the interp list too', () => {
    const interp = knownFailures('interp');
    const byName = new Map(selectCases(root, {}).map((c) => [`${c.suite}/${c.name}`, c]));
    const wrong = [...knownFailures('wgsl').keys()].filter((n) => !interp.has(n) && byName.has(n) && isFloat32Case(byName.get(n)!.model));
    expect(wrong, 'float32 cases that pass on interp but are listed as failing on wgsl').toEqual([]);
  });
});

describe.skipIf(why !== undefined)('conformance on wgsl (a sample, light models, the host-step cases)', () => {
  const runs = [SAMPLE, { filter: LIGHT }, { filter: HOST }];
  const cases = new Map<string, TestCase>();
  if (data) for (const opts of runs) for (const c of selectCases(root, opts)) cases.set(`${c.suite}/${c.name}`, c);
  const known = knownFailures('wgsl');
  const interpFails = knownFailures('interp');
  const results = new Map<string, CaseResult>();

  beforeAll(async () => {
    const { runConformance } = (await import(join(dist))) as typeof import('../../src/driver/conformance.js');
    for (const opts of runs) {
      const report = await runConformance(root, { target: 'wgsl', jobs: 2, ...opts });
      for (const r of report.cases) results.set(`${r.suite}/${r.name}`, r);
    }
  }, 1_500_000);

  test('runs the six light models, the sample and the host-step cases', () => {
    expect([...cases.values()].filter((c) => c.suite === 'light').length).toBe(6);
    expect([...cases.keys()].filter((n) => HOST.test(n)).length).toBe(65);
  });

  test.each([...cases.keys()])('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'failed') {
      expect(known.has(name), `${name} fails (${r!.category}): ${r!.reason}`).toBe(true);
      // The acceptance: a float32 case the interpreter passes must pass here.
      expect(interpFails.has(name) || !isFloat32Case(cases.get(name)!.model), `${name} is a float32 case that passes on interp`).toBe(true);
    } else if (r!.status === 'passed') {
      expect(known.has(name), `${name} now passes: remove it from wgsl-known-failures.txt`).toBe(false);
    }
  });
});
