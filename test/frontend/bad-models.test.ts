// Bad models get one clear error each — what is wrong, which node, which op — with exit code 1 from the
// CLI, never a crash, a hang or an attempt to allocate terabytes.
import { describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { A } from '../../src/ir/attr.js';
import { Tensor } from '../../src/ir/tensor.js';
import { OnnxModelBuilder } from '../../src/frontend/onnx/writer.js';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { importModel } from '../../src/frontend/onnx/import.js';
import { lowerModel } from '../../src/driver/targets.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { main } from '../../src/cli/main.js';

const { onnx } = onnxProto;

function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? 'none', message: err.message };
  }
  return { code: 'none', message: 'no error' };
}

const load = (bytes: Uint8Array) => importModel(decodeModelProto(bytes, 'bad.onnx'), { where: 'bad.onnx' });

/** A model from a raw graph description (for shapes the builder will not write, such as cycles). */
function rawModel(graph: Record<string, unknown>): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

const f32 = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

describe('bad models', () => {
  test('an unsupported op names the op, the node, the domain and the opset', () => {
    const m = new OnnxModelBuilder({ opset: 17 });
    m.output(m.node('FrobnicateTensor', [m.input('x', 'f32', [2])]), 'f32');
    const e = errorOf(() => load(m.toBytes()));
    expect(e.code).toBe('E_UNSUPPORTED');
    expect(e.message).toMatch(/op FrobnicateTensor \(node "FrobnicateTensor_\d+", domain ai\.onnx, opset 17\) is not supported/);
  });

  test('an initializer shorter than its dims', () => {
    const bytes = rawModel({
      name: 'g', input: [f32('x', [10])], output: [f32('y', [10])],
      initializer: [{ name: 'w', dims: [10], dataType: 1, rawData: new Uint8Array(8) }],
      node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
    });
    const e = errorOf(() => load(bytes));
    expect(e.code).toBe('E_MODEL');
    expect(e.message).toMatch(/'w'.*shorter than its dims/);
  });

  test('a cycle', () => {
    const bytes = rawModel({
      name: 'g', input: [f32('x', [2])], output: [f32('b', [2])],
      node: [
        { opType: 'Add', name: 'first', input: ['x', 'b'], output: ['a'] },
        { opType: 'Relu', name: 'second', input: ['a'], output: ['b'] },
      ],
    });
    const e = errorOf(() => load(bytes));
    expect(e.code).toBe('E_MODEL');
    expect(e.message).toMatch(/cycle through node "(first|second)"/);
  });

  test('an undefined input', () => {
    const bytes = rawModel({
      name: 'g', input: [f32('x', [2])], output: [f32('y', [2])],
      node: [{ opType: 'Add', name: 'adder', input: ['x', 'ghost'], output: ['y'] }],
    });
    const e = errorOf(() => load(bytes));
    expect(e.code).toBe('E_MODEL');
    expect(e.message).toMatch(/node "adder" \(Add\) reads 'ghost', which is not defined/);
  });

  test('a dim of 2^40 is refused, not allocated', () => {
    const declared = rawModel({ name: 'g', input: [f32('x', [2 ** 40])], output: [f32('x', [2 ** 40])], node: [] });
    expect(errorOf(() => load(declared)).code).toBe('E_LIMIT');

    const m = new OnnxModelBuilder({ opset: 17 });
    const shape = m.initializer('shape', Tensor.from('i64', [2], [2n ** 20n, 2n ** 20n]));
    m.output(m.node('ConstantOfShape', [shape], { value: A.tensor(Tensor.from('f32', [1], [1])) }), 'f32');
    const e = errorOf(() => interpret(lowerModel(load(m.toBytes())), []));
    expect(e.code).toBe('E_LIMIT');
  });

  test('the CLI prints one line and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aic-bad-'));
    const m = new OnnxModelBuilder({ opset: 17 });
    m.output(m.node('FrobnicateTensor', [m.input('x', 'f32', [2])]), 'f32');
    writeFileSync(join(dir, 'model.onnx'), m.toBytes());
    mkdirSync(join(dir, 'test_data_set_0'));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'aic', 'test', dir], { out: (s) => out.push(s), err: (s) => err.push(s), interactive: false });
    expect(code).toBe(1);
    expect(out.join('')).toMatch(/FrobnicateTensor.*is not supported/);
    expect(err.join('')).not.toMatch(/at .*\.ts:\d+/);
  });
});
