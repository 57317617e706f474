// `aic verify`'s check on real models: every light model, and a seeded sample of node cases with their
// own test data, keep their numbers through every pass of the default pipeline.
import { describe, expect, test } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadModel } from '../../src/driver/model-file.js';
import { readDataSet } from '../../src/driver/test-case.js';
import { randomInputs, verifyModel } from '../../src/driver/verify.js';
import { loadModelProto } from '../../src/driver/model-file.js';

const root = fileURLToPath(new URL('../../../shared/onnx-tests', import.meta.url));
const available = existsSync(root);
if (!available) console.log(`skipped: ONNX test data not found at ${root}`);

const lightModels = available ? readdirSync(join(root, 'light')).filter((f) => f.endsWith('.onnx')) : [];

/** Every 25th node case whose model imports (a fixed, reproducible sample). */
const nodeSample = available ? readdirSync(join(root, 'node')).sort().filter((_, i) => i % 25 === 0) : [];

describe.skipIf(!available)('every pass keeps the numbers on real models', () => {
  test.each(lightModels)('light/%s', (file) => {
    const model = loadModel(join(root, 'light', file));
    const report = verifyModel(model, randomInputs(model.graph.inputs, 7));
    expect(report.divergence?.reason).toBeUndefined();
    expect(report.rows.filter((r) => r.checked).length).toBeGreaterThan(0);
  }, 600_000);

  test.each(nodeSample)('node/%s', (name) => {
    const dir = join(root, 'node', name);
    const g = loadModelProto(join(dir, 'model.onnx')).graph!;
    const inits = new Set(g.initializer.map((t) => t.name));
    const given = readDataSet(join(dir, 'test_data_set_0'), g.input.filter((v) => !inits.has(v.name)).map((v) => (v.type?.tensorType ? v.name : '')));
    let model;
    try {
      model = loadModel(join(dir, 'model.onnx'), { specialize: (n) => given.get(n) });
    } catch {
      return; // a model aic does not import is the conformance run's business, not verify's
    }
    const inputs = model.graph.inputs.map((v) => given.get(v.name ?? '')!);
    const report = verifyModel(model, inputs);
    expect(report.divergence?.reason).toBeUndefined();
  }, 120_000);
});
