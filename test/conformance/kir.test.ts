// The ONNX backend conformance run on the `kir` target (scheduled Programs on the kernel-IR interpreter):
// every case that passes on the reference interpreter passes on kir too. Which cases pass on interp comes
// from interp-known-failures.txt (the interp run's list) when it is there, else from an interp run here.
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { discoverCases, type CaseResult } from '../../src/driver/test-case.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const interpList = fileURLToPath(new URL('./interp-known-failures.txt', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

const available = existsSync(root);
if (!available) console.log(`skipped: ONNX test data not found at ${root}`);

function listedFailures(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const name = line.split('\t')[0];
    if (name && !name.startsWith('#')) out.add(name);
  }
  return out;
}

describe.skipIf(!available)('conformance on kir', () => {
  const cases = available ? discoverCases(root) : [];
  const kir = new Map<string, CaseResult>();
  let interpFails = new Set<string>();

  beforeAll(async () => {
    // The worker pool lives in the compiled driver (npm test builds it first).
    const { runConformance } = (await import(join(dist))) as typeof import('../../src/driver/conformance.js');
    const report = await runConformance(root, { target: 'kir' });
    for (const r of report.cases) kir.set(`${r.suite}/${r.name}`, r);
    if (existsSync(interpList)) interpFails = listedFailures(interpList);
    else {
      const ref = await runConformance(root, { target: 'interp' });
      interpFails = new Set(ref.cases.filter((r) => r.status === 'failed').map((r) => `${r.suite}/${r.name}`));
    }
  }, 3_000_000);

  test.each(cases.map((c) => `${c.suite}/${c.name}`))('%s', (name) => {
    const r = kir.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'failed' && !interpFails.has(name)) {
      expect.fail(`${name} passes on interp but fails on kir (${r!.category}): ${r!.reason}`);
    }
  });
});
