// `aic bench`: CLI.md's bench object, timed inside the compiled runner, with ONNX Runtime beside it.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { NO_GXX } from './harness.js';

const MODEL = fileURLToPath(new URL('../../../examples/models/tiny-cnn/model.onnx', import.meta.url));

async function aic(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'aic', ...args], { out: (s) => void (out += s), err: (s) => void (err += s), interactive: false });
  return { code, out, err };
}

describe.skipIf(NO_GXX !== undefined)('aic bench', () => {
  test('--vs ort --json: the bench object of CLI.md', async () => {
    const r = await aic('bench', MODEL, '--target', 'cpu', '--threads', '1', '--runs', '20', '--dim', 'N=2', '--vs', 'ort', '--json');
    expect(r.code, r.err).toBe(0);
    const b = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(b)).toEqual(expect.arrayContaining(['model', 'target', 'threads', 'runs', 'medianMs', 'minMs', 'ort', 'ratio']));
    expect(b).toMatchObject({ model: MODEL, target: 'cpu', threads: 1, runs: 20 });
    expect(b['medianMs']).toBeGreaterThan(0);
    expect((b['ort'] as { medianMs: number }).medianMs).toBeGreaterThan(0);
    expect(b['ratio']).toBeCloseTo((b['medianMs'] as number) / (b['ort'] as { medianMs: number }).medianMs, 2);
    expect(b['ortMaxAbsDiff']).toBeLessThan(1e-4); // the numbers timed agree
  }, 300_000);

  test('fewer than 20 runs is a usage error', async () => {
    const r = await aic('bench', MODEL, '--runs', '5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/at least 20 runs/);
  });

  test('without --vs, ort and ratio are null; interp is timed in JavaScript', async () => {
    const r = await aic('bench', join(MODEL), '--target', 'interp', '--runs', '20', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ target: 'interp', ort: null, ratio: null, threads: 1 });
  }, 120_000);
});
