// The full ONNX backend conformance run on the reference interpreter (1,951 cases), one test per case.
// A case must pass, or be listed in interp-known-failures.txt with its reason category; a listed case
// that starts passing fails too, so the list only ever shrinks (regenerate it with
// `node scripts/known-failures.js interp`).
import { beforeAll, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { discoverCases, type CaseResult } from '../../src/driver/test-case.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const listFile = fileURLToPath(new URL('./interp-known-failures.txt', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/driver/conformance.js', import.meta.url));

function knownFailures(): Map<string, string> {
  const m = new Map<string, string>();
  if (!existsSync(listFile)) return m;
  for (const line of readFileSync(listFile, 'utf8').split('\n')) {
    const [name, category] = line.split('\t');
    if (name && !name.startsWith('#')) m.set(name, category ?? '');
  }
  return m;
}

const available = existsSync(root);
if (!available) console.log(`skipped: ONNX test data not found at ${root}`);

describe.skipIf(!available)('conformance on interp', () => {
  const cases = available ? discoverCases(root) : [];
  const known = knownFailures();
  const results = new Map<string, CaseResult>();

  beforeAll(async () => {
    // The worker pool lives in the compiled driver (npm test builds it first).
    const { runConformance } = (await import(join(dist))) as typeof import('../../src/driver/conformance.js');
    const report = await runConformance(root, { target: 'interp' });
    for (const r of report.cases) results.set(`${r.suite}/${r.name}`, r);
  }, 1_500_000);

  test('finds every case', () => {
    expect(cases.length).toBe(1951);
  });

  test.each(cases.map((c) => `${c.suite}/${c.name}`))('%s', (name) => {
    const r = results.get(name);
    expect(r, 'the run gave no result').toBeDefined();
    if (r!.status === 'failed') {
      expect(known.has(name), `${name} fails (${r!.category}): ${r!.reason}`).toBe(true);
    } else if (r!.status === 'passed') {
      expect(known.has(name), `${name} now passes: remove it from interp-known-failures.txt`).toBe(false);
    }
  });
});
