#!/usr/bin/env node
// Build the bundled example model, examples/models/tiny-cnn: a small image classifier with seeded random
// weights (Conv-Relu-MaxPool, Conv-BatchNorm-Relu, a residual Add, GlobalAveragePool, Gemm, Softmax),
// an input, and the expected output computed by ONNX Runtime. Run after `npm run build`; the files are
// committed, so users never need to run this.
import { mkdirSync, writeFileSync } from 'node:fs';
import { OnnxModelBuilder } from '../dist/frontend/onnx/writer.js';
import { A } from '../dist/ir/attr.js';
import { Tensor } from '../dist/ir/tensor.js';
import { writeTensorProto } from '../dist/runtime/tensor-proto.js';

let seed = 20261122;
const rand = () => {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const randn = (shape, scale) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from('f32', shape, Array.from({ length: n }, () => (rand() * 2 - 1) * scale));
};

const m = new OnnxModelBuilder({ opset: 17, graphName: 'tiny_cnn' });
const x = m.input('image', 'f32', ['N', 3, 32, 32]);
const c1 = m.node('Conv', [x, m.initializer('conv1.w', randn([16, 3, 3, 3], 0.3)), m.initializer('conv1.b', randn([16], 0.1))],
  { pads: A.ints([1, 1, 1, 1]), kernel_shape: A.ints([3, 3]) });
const p1 = m.node('MaxPool', [m.node('Relu', [c1])], { kernel_shape: A.ints([2, 2]), strides: A.ints([2, 2]) });
const c2 = m.node('Conv', [p1, m.initializer('conv2.w', randn([16, 16, 3, 3], 0.15))], { pads: A.ints([1, 1, 1, 1]) });
const bn = m.node('BatchNormalization', [c2, m.initializer('bn.scale', randn([16], 1)), m.initializer('bn.bias', randn([16], 0.1)),
  m.initializer('bn.mean', randn([16], 0.1)), m.initializer('bn.var', Tensor.from('f32', [16], Array.from({ length: 16 }, () => 0.5 + rand())))]);
const r2 = m.node('Add', [m.node('Relu', [bn]), p1]);
const gap = m.node('Flatten', [m.node('GlobalAveragePool', [r2])]);
const fc = m.node('Gemm', [gap, m.initializer('fc.w', randn([10, 16], 0.5)), m.initializer('fc.b', randn([10], 0.1))], { transB: A.int(1) });
const y = m.node('Softmax', [fc], { axis: A.int(1) });
m.output(y, 'f32', ['N', 10]);

const dir = 'examples/models/tiny-cnn';
mkdirSync(`${dir}/test_data_set_0`, { recursive: true });
const bytes = m.toBytes();
writeFileSync(`${dir}/model.onnx`, bytes);
const input = randn([2, 3, 32, 32], 1);
writeFileSync(`${dir}/test_data_set_0/input_0.pb`, writeTensorProto(input, 'image'));

const ort = await import('onnxruntime-node');
const session = await ort.InferenceSession.create(bytes);
const out = await session.run({ image: new ort.Tensor('float32', input.data, [2, 3, 32, 32]) });
const probs = out[session.outputNames[0]];
writeFileSync(`${dir}/test_data_set_0/output_0.pb`, writeTensorProto(new Tensor('f32', [2, 10], Float32Array.from(probs.data)), y));
console.log(`wrote ${dir} (${bytes.length} bytes; expected output from ONNX Runtime ${ort.env.versions?.common ?? ''})`);
