#!/usr/bin/env node
// Benchmark models with seeded random weights (not committed: ResNet-50 is 100 MB), written into DIR:
//   resnet50.onnx   ResNet-50 v1.5 as torchvision exports it for inference (batch norm folded into the
//                   convolutions): 53 Conv, 16 residual Add, MaxPool, GlobalAveragePool, Gemm; f32[1,3,224,224]
//   resnet18.onnx   the same family, 18 layers
//   mlp.onnx        three Gemm+Relu layers, f32[N,512] -> [N,10] (symbolic batch)
// Run after `npm run build`:  node scripts/make-bench-models.js /tmp/aic-bench
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxModelBuilder } from '../dist/frontend/onnx/writer.js';
import { A } from '../dist/ir/attr.js';
import { Tensor } from '../dist/ir/tensor.js';

const out = process.argv[2] ?? 'bench-models';
mkdirSync(out, { recursive: true });

let seed = 20261122;
const rand = () => {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
/** Uniform in [-a, a] with a chosen so that activations keep their scale through conv + relu (`gain` < 1 for
 * the last layer of a residual branch, so that the sum does not grow block after block). */
const weights = (shape, fanIn, gain = 1) => {
  const n = shape.reduce((x, y) => x * y, 1);
  const a = Math.sqrt(6 / fanIn) * gain;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * a;
  return new Tensor('f32', shape, data);
};
const bias = (n) => {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * 0.05;
  return new Tensor('f32', [n], data);
};

function resnet(name, blocks, bottleneck) {
  const m = new OnnxModelBuilder({ opset: 17, graphName: name });
  let count = 0;
  const conv = (x, cin, cout, k, stride, relu, gain = 1) => {
    const id = count++;
    const y = m.node('Conv', [x, m.initializer(`conv${id}.w`, weights([cout, cin, k, k], cin * k * k, gain)), m.initializer(`conv${id}.b`, bias(cout))], {
      kernel_shape: A.ints([k, k]), strides: A.ints([stride, stride]), pads: A.ints(Array(4).fill((k - 1) >> 1)),
    });
    return relu ? m.node('Relu', [y]) : y;
  };
  const x = m.input('input', 'f32', [1, 3, 224, 224]);
  let h = conv(x, 3, 64, 7, 2, true);
  h = m.node('MaxPool', [h], { kernel_shape: A.ints([3, 3]), strides: A.ints([2, 2]), pads: A.ints([1, 1, 1, 1]) });
  let cin = 64;
  const widths = [64, 128, 256, 512];
  widths.forEach((w, stage) => {
    for (let b = 0; b < blocks[stage]; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      const cout = bottleneck ? w * 4 : w;
      let y;
      if (bottleneck) {
        y = conv(h, cin, w, 1, 1, true);
        y = conv(y, w, w, 3, stride, true); // v1.5: the stride is on the 3x3
        y = conv(y, w, cout, 1, 1, false, 0.2);
      } else {
        y = conv(h, cin, w, 3, stride, true);
        y = conv(y, w, w, 3, 1, false, 0.2);
      }
      const skip = stride !== 1 || cin !== cout ? conv(h, cin, cout, 1, stride, false, 0.5) : h;
      h = m.node('Relu', [m.node('Add', [y, skip])]);
      cin = cout;
    }
  });
  h = m.node('Flatten', [m.node('GlobalAveragePool', [h])]);
  h = m.node('Gemm', [h, m.initializer('fc.w', weights([1000, cin], cin, 0.05)), m.initializer('fc.b', bias(1000))], { transB: A.int(1) });
  m.output(m.node('Softmax', [h], { axis: A.int(1) }), 'f32', [1, 1000]);
  return m.toBytes();
}

function mlp() {
  const m = new OnnxModelBuilder({ opset: 17, graphName: 'mlp' });
  let h = m.input('x', 'f32', ['N', 512]);
  const dims = [512, 1024, 1024, 10];
  for (let i = 0; i + 1 < dims.length; i++) {
    h = m.node('Gemm', [h, m.initializer(`fc${i}.w`, weights([dims[i + 1], dims[i]], dims[i])), m.initializer(`fc${i}.b`, bias(dims[i + 1]))], { transB: A.int(1) });
    if (i + 2 < dims.length) h = m.node('Relu', [h]);
  }
  m.output(h, 'f32', ['N', 10]);
  return m.toBytes();
}

writeFileSync(join(out, 'resnet50.onnx'), resnet('resnet50', [3, 4, 6, 3], true));
writeFileSync(join(out, 'resnet18.onnx'), resnet('resnet18', [2, 2, 2, 2], false));
writeFileSync(join(out, 'mlp.onnx'), mlp());
console.log(`wrote ${join(out, 'resnet50.onnx')}, resnet18.onnx, mlp.onnx`);
