#!/usr/bin/env node
// The benchmark set of `npm run bench` (scripts/bench.js), with seeded random weights (not committed: VGG-19
// alone is 550 MB), written into DIR (default bench-models/, git-ignored):
//   light_*.onnx    the light models of ../shared/onnx-tests (AlexNet, DenseNet-121, Inception v1/v2,
//                   ResNet-50, ShuffleNet, SqueezeNet, VGG-19, ZFNet-512) with their real structures; their
//                   weights there are ConstantOfShape nodes (one value everywhere), replaced here by random
//                   initializers of the same shapes, scaled by what consumes them (see `weightFor`)
//   bert.onnx       a BERT-base-sized encoder, 2 layers: hidden 768, 12 heads, FFN 3072, seq 128, post-LN, GELU (erf)
//   gpt2.onnx       a GPT-2-small-sized decoder, 2 layers: hidden 768, 12 heads, causal mask, seq 128, pre-LN,
//                   GELU (tanh), final LayerNorm
//   gemm1024.onnx   MatMul f32[1024,1024] x f32[1024,1024] (a weight)
//   layernorm.onnx  GELU(LayerNorm(x + residual)) on f32[4096,1024]
//   resnet50.onnx, resnet18.onnx   torchvision-style ResNets (batch norm folded into the convolutions)
//   mlp.onnx        three Gemm+Relu layers, f32[N,512] -> [N,10] (symbolic batch)
// Run after `npm run build`:  node scripts/make-bench-models.js [DIR] [--light DIR]
// Models already present are kept (delete DIR to make them again).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { OnnxModelBuilder, tensorProto } from '../dist/frontend/onnx/writer.js';
import { A } from '../dist/ir/attr.js';
import { Tensor } from '../dist/ir/tensor.js';

const { onnx } = onnxProto;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const lightAt = args.indexOf('--light');
const lightDir = lightAt >= 0 ? args[lightAt + 1] : join(root, '../shared/onnx-tests/light');
const out = args.find((a, i) => !a.startsWith('--') && (lightAt < 0 || i !== lightAt + 1)) ?? join(root, 'bench-models');
mkdirSync(out, { recursive: true });

let seed = 20261122;
const rand = () => {
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const numel = (shape) => shape.reduce((x, y) => x * y, 1);
/** Uniform in [lo, hi). */
const uniform = (shape, lo, hi) => {
  const data = new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + rand() * (hi - lo);
  return new Tensor('f32', shape, data);
};
/** Uniform in [-a, a] with a chosen so that activations keep their scale through conv + relu (`gain` < 1 for
 * the last layer of a residual branch, so that the sum does not grow block after block). */
const weights = (shape, fanIn, gain = 1) => {
  const a = Math.sqrt(6 / fanIn) * gain;
  return uniform(shape, -a, a);
};
const bias = (n) => uniform([n], -0.05, 0.05);

const written = [];
/** Write a model unless it is there; each model's weights come from a seed of its own name. */
function write(name, make) {
  const file = join(out, name);
  if (existsSync(file)) return;
  seed = [...name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261) || 1;
  writeFileSync(file, make());
  written.push(name);
}

// ---------------------------------------------------------------------------------------------------------
// The light models: ConstantOfShape weights -> seeded random initializers
// ---------------------------------------------------------------------------------------------------------

/** Random values for a weight of `shape` read by `use` (the op and operand index that consumes it, seen
 * through an Unsqueeze): He-uniform for conv and dense weights, BN statistics near identity, small biases. */
function weightFor(shape, use) {
  const [op, index] = use;
  if (op === 'BatchNormalization') {
    if (index === 1) return uniform(shape, 0.5, 1.0); // scale
    if (index === 4) return uniform(shape, 0.5, 1.5); // variance
    return uniform(shape, -0.05, 0.05); // bias, mean
  }
  if (op === 'Mul') return uniform(shape, 0.5, 1.0); // DenseNet / Inception v2 write BN's scale as Mul
  if ((op === 'Conv' || op === 'Gemm' || op === 'Reshape') && index <= 1 && shape.length >= 2) {
    return weights(shape, numel(shape) / shape[0], 0.9);
  }
  return uniform(shape, -0.05, 0.05);
}

function lightModel(bytes) {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const byInput = new Map();
  for (const n of g.node) n.input.forEach((x, i) => { if (!byInput.has(x)) byInput.set(x, [n, i]); });
  const use = (name) => {
    const [n, i] = byInput.get(name) ?? [undefined, 0];
    if (n?.opType === 'Unsqueeze') return use(n.output[0]);
    return [n?.opType ?? '', i];
  };
  const shapeOf = (t) => {
    const raw = t.rawData && t.rawData.length ? new BigInt64Array(new Uint8Array(t.rawData).slice().buffer) : t.int64Data;
    return Array.from(raw, (d) => Number(d));
  };
  const dropped = new Set();
  const weightsOut = [];
  g.node = g.node.filter((n) => {
    if (n.opType !== 'ConstantOfShape' || !inits.has(n.input[0])) return true;
    const shape = shapeOf(inits.get(n.input[0]));
    weightsOut.push(tensorProto(n.output[0], weightFor(shape, use(n.output[0]))));
    dropped.add(n.input[0]);
    return false;
  });
  const stillRead = new Set(g.node.flatMap((n) => n.input));
  g.initializer = [...g.initializer.filter((t) => !dropped.has(t.name) || stillRead.has(t.name)), ...weightsOut];
  // IR 3 lists initializers as graph inputs, which ONNX Runtime then treats as overridable (not constant):
  // list only the real inputs, as IR >= 4 allows, so that both compilers may fold the weights.
  const initNames = new Set(g.initializer.map((t) => t.name));
  g.input = g.input.filter((v) => !initNames.has(v.name) && !dropped.has(v.name));
  model.irVersion = 7;
  return onnx.ModelProto.encode(model).finish();
}

if (existsSync(lightDir)) {
  for (const f of readdirSync(lightDir).filter((f) => /^light_.*\.onnx$/.test(f)).sort()) {
    write(f, () => lightModel(readFileSync(join(lightDir, f))));
  }
} else {
  console.error(`${lightDir} not found: the light models are left out`);
}

// ---------------------------------------------------------------------------------------------------------
// Transformers
// ---------------------------------------------------------------------------------------------------------

const SEQ = 128, HIDDEN = 768, HEADS = 12, FFN = 3072, LAYERS = 2;
const HEAD = HIDDEN / HEADS;
const i64 = (values) => Tensor.from('i64', [values.length], values.map(BigInt));

/** Shared pieces of the two transformers: dense layers, LayerNorm, multi-head attention. */
function transformerParts(m) {
  let count = 0;
  const dense = (x, k, n, gain = 1) => {
    const id = count++;
    const y = m.node('MatMul', [x, m.initializer(`dense${id}.w`, weights([k, n], k, gain))]);
    return m.node('Add', [y, m.initializer(`dense${id}.b`, bias(n))]);
  };
  const layerNorm = (x) => {
    const id = count++;
    return m.node('LayerNormalization', [x, m.initializer(`ln${id}.g`, uniform([HIDDEN], 0.9, 1.1)), m.initializer(`ln${id}.b`, bias(HIDDEN))],
      { axis: A.int(-1), epsilon: A.float(1e-5) });
  };
  const splitHeads = m.initializer('split_heads', i64([1, SEQ, HEADS, HEAD]));
  const mergeHeads = m.initializer('merge_heads', i64([1, SEQ, HIDDEN]));
  const heads = (x) => m.node('Transpose', [m.node('Reshape', [x, splitHeads])], { perm: A.ints([0, 2, 1, 3]) });
  const scale = m.initializer('attn_scale', Tensor.from('f32', [], [1 / Math.sqrt(HEAD)]));
  /** Self-attention of x: f32[1,SEQ,HIDDEN]; `mask` (bool [1,1,SEQ,SEQ], true where allowed) when causal. */
  const attention = (x, mask) => {
    const q = heads(dense(x, HIDDEN, HIDDEN));
    const k = m.node('Transpose', [m.node('Reshape', [dense(x, HIDDEN, HIDDEN), splitHeads])], { perm: A.ints([0, 2, 3, 1]) });
    const v = heads(dense(x, HIDDEN, HIDDEN));
    let s = m.node('Mul', [m.node('MatMul', [q, k]), scale]);
    if (mask) s = m.node('Where', [mask, s, m.initializer(`masked${count++}`, Tensor.from('f32', [], [-1e9]))]);
    const p = m.node('Softmax', [s], { axis: A.int(-1) });
    const o = m.node('Reshape', [m.node('Transpose', [m.node('MatMul', [p, v])], { perm: A.ints([0, 2, 1, 3]) }), mergeHeads]);
    return dense(o, HIDDEN, HIDDEN, 0.5);
  };
  const c = (name, v) => m.initializer(`${name}${count++}`, Tensor.from('f32', [], [v]));
  /** GELU as erf: x * 0.5 * (1 + erf(x / sqrt 2)) (BERT). */
  const geluErf = (x) => m.node('Mul', [m.node('Mul', [x, c('half', 0.5)]), m.node('Add', [c('one', 1), m.node('Erf', [m.node('Div', [x, c('sqrt2', Math.SQRT2)])])])]);
  /** GELU as tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2). */
  const geluTanh = (x) => {
    const cube = m.node('Mul', [m.node('Mul', [x, x]), x]);
    const inner = m.node('Mul', [m.node('Add', [x, m.node('Mul', [cube, c('k', 0.044715)])]), c('s', Math.sqrt(2 / Math.PI))]);
    return m.node('Mul', [m.node('Mul', [x, c('half', 0.5)]), m.node('Add', [c('one', 1), m.node('Tanh', [inner])])]);
  };
  return { dense, layerNorm, attention, geluErf, geluTanh };
}

function bert() {
  const m = new OnnxModelBuilder({ opset: 17, graphName: 'bert' });
  const { dense, layerNorm, attention, geluErf } = transformerParts(m);
  let h = m.input('embeddings', 'f32', [1, SEQ, HIDDEN]);
  for (let l = 0; l < LAYERS; l++) {
    h = layerNorm(m.node('Add', [h, attention(h)]));
    h = layerNorm(m.node('Add', [h, dense(geluErf(dense(h, HIDDEN, FFN)), FFN, HIDDEN, 0.5)]));
  }
  m.output(h, 'f32', [1, SEQ, HIDDEN]);
  return m.toBytes();
}

function gpt2() {
  const m = new OnnxModelBuilder({ opset: 17, graphName: 'gpt2' });
  const { dense, layerNorm, attention, geluTanh } = transformerParts(m);
  const causal = Array.from({ length: SEQ * SEQ }, (_, i) => (i % SEQ) <= Math.floor(i / SEQ));
  const mask = m.initializer('causal_mask', Tensor.from('bool', [1, 1, SEQ, SEQ], causal));
  let h = m.input('embeddings', 'f32', [1, SEQ, HIDDEN]);
  for (let l = 0; l < LAYERS; l++) {
    h = m.node('Add', [h, attention(layerNorm(h), mask)]);
    h = m.node('Add', [h, dense(geluTanh(dense(layerNorm(h), HIDDEN, FFN)), FFN, HIDDEN, 0.5)]);
  }
  m.output(layerNorm(h), 'f32', [1, SEQ, HIDDEN]);
  return m.toBytes();
}

// ---------------------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------------------

function gemm1024() {
  const m = new OnnxModelBuilder({ opset: 17, graphName: 'gemm1024' });
  const x = m.input('a', 'f32', [1024, 1024]);
  m.output(m.node('MatMul', [x, m.initializer('b', weights([1024, 1024], 1024))]), 'f32', [1024, 1024]);
  return m.toBytes();
}

function layerNormGelu() {
  const m = new OnnxModelBuilder({ opset: 17, graphName: 'layernorm' });
  const rows = 4096, cols = 1024;
  const x = m.input('x', 'f32', [rows, cols]);
  const r = m.input('residual', 'f32', [rows, cols]);
  const n = m.node('LayerNormalization', [m.node('Add', [x, r]), m.initializer('g', uniform([cols], 0.9, 1.1)), m.initializer('b', bias(cols))],
    { axis: A.int(-1), epsilon: A.float(1e-5) });
  const c = (name, v) => m.initializer(name, Tensor.from('f32', [], [v]));
  const y = m.node('Mul', [m.node('Mul', [n, c('half', 0.5)]), m.node('Add', [c('one', 1), m.node('Erf', [m.node('Div', [n, c('sqrt2', Math.SQRT2)])])])]);
  m.output(y, 'f32', [rows, cols]);
  return m.toBytes();
}

// ---------------------------------------------------------------------------------------------------------
// ResNets (torchvision-style, batch norm folded) and an MLP
// ---------------------------------------------------------------------------------------------------------

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

write('bert.onnx', bert);
write('gpt2.onnx', gpt2);
write('gemm1024.onnx', gemm1024);
write('layernorm.onnx', layerNormGelu);
write('resnet50.onnx', () => resnet('resnet50', [3, 4, 6, 3], true));
write('resnet18.onnx', () => resnet('resnet18', [2, 2, 2, 2], false));
write('mlp.onnx', mlp);
console.log(written.length ? `wrote ${written.join(', ')} into ${out}` : `${out}: every model is there already`);
