// summarizeModel on a hand-built model: domains, local functions, sparse and Constant parameters.
import onnxProto from 'onnx-proto';
import { expect, test } from 'vitest';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { qualifiedOpName, summarizeModel } from '../../src/frontend/onnx/summary.js';

const { onnx } = onnxProto;

test('ops are domain-qualified, local functions are not ops, parameters and constants are apart', () => {
  const f32 = (name: string, dims: (number | string | null)[] | null) => ({
    name,
    type: { tensorType: { elemType: 1, shape: dims === null ? null : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d })) } } },
  });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 9,
    producerName: 'hand',
    opsetImport: [{ domain: '', version: 18 }, { domain: 'com.acme', version: 1 }],
    functions: [{ name: 'Twice', domain: 'local', node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }], opsetImport: [{ domain: '', version: 18 }] }],
    graph: {
      name: 'g',
      input: [f32('x', ['batch', 4, null]), f32('w', [4]), f32('r', null)],
      output: [f32('y', ['batch', 4, null])],
      initializer: [{ name: 'w', dims: [4], dataType: 1, floatData: [1, 2, 3, 4] }],
      sparseInitializer: [{ dims: [10], values: { dims: [2], dataType: 7, int64Data: [1, 2] }, indices: { dims: [2], dataType: 7, int64Data: [0, 5] } }],
      node: [
        { opType: 'Constant', output: ['c'], attribute: [{ name: 'value_ints', type: 7, ints: [1, 2, 3] }] },
        { opType: 'Fancy', domain: 'com.acme', input: ['x'], output: ['a'] },
        { opType: 'Twice', domain: 'local', input: ['a'], output: ['b'] },
        { opType: 'Relu', domain: 'ai.onnx', input: ['b'], output: ['y'] },
      ],
    },
  })).finish();
  const s = summarizeModel(decodeModelProto(bytes, 'hand.onnx'), 'hand.onnx');
  expect(s.inputs.map((v) => v.type)).toEqual(['f32[batch,4,?]', 'f32[*]']);
  expect(s.initializerInputs).toBe(1);
  expect(s.ops.map((o) => o.op)).toEqual(['Constant', 'Relu', 'com.acme::Fancy', 'local::Twice']);
  expect(s.functions).toBe(1);
  // Everything reads unsupported until the registry fills support.ts, except the call of a local function.
  expect(s.unsupported).not.toContain('local::Twice');
  expect(s.parameters).toEqual({ tensors: 2, elements: 4 + 2, bytes: 16 + 16 + 16 });
  expect(s.constants).toEqual({ nodes: 1, elements: 3, bytes: 24 });
  expect(qualifiedOpName('ai.onnx', 'Conv')).toBe('Conv');
});
