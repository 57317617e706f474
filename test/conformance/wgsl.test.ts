// The ONNX conformance cases on WebGPU (the wgsl target): a seeded sample of the node/simple/pytorch cases
// and six light models (the whole run, `aic conformance ../shared/onnx-tests --target wgsl`, takes about ten
// minutes on Mesa's software GPU). A case must pass, or be listed in wgsl-known-failures.txt with its
// reason (every one an op or dtype the WGSL backend refuses, or a case the interpreter fails too); a listed
// case that starts passing fails, so the list only shrinks (`node scripts/known-failures.js wgsl`).
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { CaseResult } from '../../src/driver/test-case.js';
import { selectCases } from '../../src/driver/conformance.js';
import { webgpuUnavailable } from '../../src/driver/webgpu.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const listFile = fileURLToPath(new URL('./wgsl-known-failures.txt', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

const SAMPLE = { filter: /^(node|simple|pytorch-converted|pytorch-operator)\//, sample: 150, seed: 3 };
const LIGHT = /^light\/light_(bvlc_alexnet|squeezenet|inception_v1|densenet121|resnet50|shufflenet)$/;

function knownFailures(): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(listFile)) return m;
  for (const line of readFileSync(listFile, 'utf8').split('\n')) {
    const [name, category] = line.split('\t');
    if (name && !name.startsWith('#')) m.set(name, category ?? '');
  }
  return m;
}

const data = existsSync(root);
const why = !data ? `ONNX test data not found at ${root}` : await webgpuUnavailable();
if (why) console.log(`skipped: webgpu not available (${why})`);

describe.skipIf(why !== undefined)('conformance on wgsl (a sample, and light models)', () => {
  const cases = data ? [...selectCases(root, SAMPLE), ...selectCases(root, { filter: LIGHT })] : [];
  const known = knownFailures();
  const results = new Map<string, CaseResult>();

  beforeAll(async () => {
    const { runConformance } = (await import(join(dist))) as typeof import('../../src/driver/conformance.js');
    for (const opts of [SAMPLE, { filter: LIGHT }]) {
      const report = await runConformance(root, { target: 'wgsl', ...opts });
      for (const r of report.cases) results.set(`${r.suite}/${r.name}`, r);
    }
  }, 1_500_000);

  test('runs the six light models and the sample', () => {
    expect(cases.filter((c) => c.suite === 'light').length).toBe(6);
    expect(cases.length).toBe(156);
  });

  test.each(cases.map((c) => `${c.suite}/${c.name}`))('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'failed') {
      expect(known.has(name), `${name} fails (${r!.category}): ${r!.reason}`).toBe(true);
    } else if (r!.status === 'passed') {
      expect(known.has(name), `${name} now passes: remove it from wgsl-known-failures.txt`).toBe(false);
    }
  });
});
