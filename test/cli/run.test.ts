// `aic run`: outputs written as .npy, atomically, one file per tensor — a sequence output as NAME.0, NAME.1, ….
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readNpy } from '../../src/runtime/npy.js';
import { readSequenceProto } from '../../src/runtime/tensor-proto.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CASE = join(ROOT, '../shared/onnx-tests/node/test_split_to_sequence_1');
const tmp = mkdtempSync(join(tmpdir(), 'aic-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function aic(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'aic', ...args], { out: (s) => void (out += s), err: (s) => void (err += s), interactive: false });
  return { code, out, err };
}

describe('aic run', () => {
  test('writes the tiny CNN output as NAME.npy', async () => {
    const model = join(ROOT, 'examples/models/tiny-cnn');
    const out = join(tmp, 'cnn');
    const r = await aic('run', join(model, 'model.onnx'), '--input', join(model, 'test_data_set_0/input_0.pb'), '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out)).toEqual(['softmax_20.npy']);
  });

  test.skipIf(!existsSync(CASE))('names the tensors of a sequence output NAME.0, NAME.1, … in order', async () => {
    const data = join(CASE, 'test_data_set_0');
    const out = join(tmp, 'seq');
    const r = await aic('run', join(CASE, 'model.onnx'), '--input', `data=${join(data, 'input_0.pb')}`, '--input', `split=${join(data, 'input_1.pb')}`, '-o', out);
    expect(r.code, r.err).toBe(0);
    const want = readSequenceProto(readFileSync(join(data, 'output_0.pb'))).tensors;
    expect(want.length).toBeGreaterThan(1);
    expect(readdirSync(out).sort()).toEqual(want.map((_, i) => `seq.${i}.npy`).sort());
    want.forEach((w, i) => {
      const got = readNpy(readFileSync(join(out, `seq.${i}.npy`)));
      expect(got.shape).toEqual(w.shape);
      expect(got.toNumbers()).toEqual(w.toNumbers());
    });
  });
});
