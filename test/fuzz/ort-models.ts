// Random ONNX models for differential testing against ONNX Runtime: one arbitrary per common op (shapes,
// broadcasting, attributes drawn at random), plus short chains of pointwise ops. Each case carries its
// model bytes, its inputs and a readable description, so a shrunk failure reads like a bug report.
import fc from 'fast-check';
import { A, type Attr } from '../../src/ir/attr.js';
import { Tensor } from '../../src/ir/tensor.js';
import { OnnxModelBuilder } from '../../src/frontend/onnx/writer.js';

export interface FuzzCase {
  /** `Conv x:[1,3,7,7] w:[4,3,3,3] {strides=[2,2], pads=[1,0,1,0]}`. */
  describe: string;
  model: Uint8Array;
  inputs: Tensor[];
}

const dim = (max = 5): fc.Arbitrary<number> => fc.integer({ min: 1, max });
const shapeArb = (rank: { min: number; max: number }, max = 5): fc.Arbitrary<number[]> => fc.array(dim(max), { minLength: rank.min, maxLength: rank.max });

/** Values in [-2, 2) at f32 precision, from a seed (fast to make, stable under shrinking). */
function values(shape: readonly number[], seed: number, positive = false): Tensor {
  let s = seed >>> 0 || 1;
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32;
    out[i] = positive ? 0.1 + 2 * u : 4 * u - 2;
  }
  return new Tensor('f32', shape, out);
}

const fmtAttrs = (attrs: Record<string, Attr>): string => {
  const parts = Object.entries(attrs).map(([k, a]) => `${k}=${Array.isArray(a.value) ? `[${(a.value as number[]).join(',')}]` : String(a.value)}`);
  return parts.length ? ` {${parts.join(', ')}}` : '';
};

/** A single-node model whose operands are all graph inputs. */
function single(op: string, operands: { name: string; t: Tensor }[], attrs: Record<string, Attr> = {}, opset = 17): FuzzCase {
  const m = new OnnxModelBuilder({ opset });
  const names = operands.map((o) => m.input(o.name, 'f32', o.t.shape));
  const y = m.node(op, names, attrs);
  m.output(y, 'f32');
  return {
    describe: `${op} ${operands.map((o) => `${o.name}:[${o.t.shape.join(',')}]`).join(' ')}${fmtAttrs(attrs)} (opset ${opset})`,
    model: m.toBytes(),
    inputs: operands.map((o) => o.t),
  };
}

const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });

/** Shapes b that broadcast with a (numpy rules): a suffix of a with some dims set to 1. */
const broadcastPair = shapeArb({ min: 0, max: 4 }).chain((a) =>
  fc.tuple(fc.constant(a), fc.integer({ min: 0, max: a.length }), fc.array(fc.boolean(), { minLength: a.length, maxLength: a.length }))
    .map(([x, k, ones]) => [x, x.slice(x.length - k).map((d, i) => (ones[x.length - k + i] ? 1 : d))] as const));

const UNARY = ['Relu', 'Sigmoid', 'Tanh', 'Exp', 'Abs', 'Neg', 'Erf', 'Softsign', 'Softplus', 'Floor', 'Ceil', 'Sin', 'Cos', 'Elu', 'LeakyRelu', 'HardSigmoid', 'Selu'];
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min'];

/** fast-check prints a counterexample with this: the readable description, not the model's bytes. */
const readable = (c: FuzzCase): FuzzCase => Object.assign(c, { [fc.toStringMethod]: () => c.describe });

const CASES: Record<string, fc.Arbitrary<FuzzCase>> = {
  unary: fc.tuple(fc.constantFrom(...UNARY), shapeArb({ min: 0, max: 4 }), seed).map(([op, s, k]) => single(op, [{ name: 'x', t: values(s, k) }])),
  binary: fc.tuple(fc.constantFrom(...BINARY), broadcastPair, fc.boolean(), seed).map(([op, [a, b], swap, k]) => {
    const [sa, sb] = swap ? [b, a] : [a, b];
    return single(op, [{ name: 'a', t: values(sa, k) }, { name: 'b', t: values(sb, k + 7, op === 'Div') }]);
  }),
  matmul: fc.tuple(fc.array(dim(3), { maxLength: 2 }), dim(6), dim(6), dim(6), fc.boolean(), seed).map(([batch, m, k, n, bcast, s]) =>
    single('MatMul', [{ name: 'a', t: values([...batch, m, k], s) }, { name: 'b', t: values([...(bcast ? [] : batch), k, n], s + 1) }])),
  gemm: fc.tuple(dim(6), dim(6), dim(6), fc.boolean(), fc.boolean(), fc.constantFrom(0, 1, 2), fc.double({ min: -2, max: 2, noNaN: true }), seed)
    .map(([m, k, n, ta, tb, cRank, alpha, s]) => {
      const cShape = cRank === 0 ? [n] : cRank === 1 ? [1, n] : [m, n];
      return single('Gemm', [
        { name: 'a', t: values(ta ? [k, m] : [m, k], s) }, { name: 'b', t: values(tb ? [n, k] : [k, n], s + 1) }, { name: 'c', t: values(cShape, s + 2) },
      ], { transA: A.int(ta ? 1 : 0), transB: A.int(tb ? 1 : 0), alpha: A.float(Math.fround(alpha)), beta: A.float(0.5) });
    }),
  conv: fc.record({
    n: dim(2), g: fc.integer({ min: 1, max: 2 }), cg: dim(3), og: dim(3), h: fc.integer({ min: 3, max: 9 }), w: fc.integer({ min: 3, max: 9 }),
    kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), sh: fc.integer({ min: 1, max: 2 }), sw: fc.integer({ min: 1, max: 2 }),
    dh: fc.integer({ min: 1, max: 2 }), dw: fc.integer({ min: 1, max: 2 }), pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
    bias: fc.boolean(), s: seed,
  }).filter((c) => c.h + c.pads[0]! + c.pads[2]! >= (c.kh - 1) * c.dh + 1 && c.w + c.pads[1]! + c.pads[3]! >= (c.kw - 1) * c.dw + 1)
    .map((c) => single('Conv', [
      { name: 'x', t: values([c.n, c.g * c.cg, c.h, c.w], c.s) },
      { name: 'w', t: values([c.g * c.og, c.cg, c.kh, c.kw], c.s + 1) },
      ...(c.bias ? [{ name: 'b', t: values([c.g * c.og], c.s + 2) }] : []),
    ], { group: A.int(c.g), strides: A.ints([c.sh, c.sw]), dilations: A.ints([c.dh, c.dw]), pads: A.ints(c.pads), kernel_shape: A.ints([c.kh, c.kw]) })),
  pool: fc.record({
    op: fc.constantFrom('MaxPool', 'AveragePool'), n: dim(2), c: dim(3), h: fc.integer({ min: 2, max: 8 }), w: fc.integer({ min: 2, max: 8 }),
    k: fc.integer({ min: 1, max: 3 }), st: fc.integer({ min: 1, max: 3 }), p: fc.integer({ min: 0, max: 1 }), ceil: fc.boolean(), incl: fc.boolean(), s: seed,
  // ONNX Runtime sizes an AveragePool window that ceil_mode extends past the padding differently from
  // the ONNX reference (whose conformance data aic follows): that combination is left out.
  }).filter((c) => c.p < c.k && c.h + 2 * c.p >= c.k && c.w + 2 * c.p >= c.k && !(c.op === 'AveragePool' && c.ceil && c.incl))
    .map((c) => single(c.op, [{ name: 'x', t: values([c.n, c.c, c.h, c.w], c.s) }], {
      kernel_shape: A.ints([c.k, c.k]), strides: A.ints([c.st, c.st]), pads: A.ints([c.p, c.p, c.p, c.p]), ceil_mode: A.int(c.ceil ? 1 : 0),
      ...(c.op === 'AveragePool' ? { count_include_pad: A.int(c.incl ? 1 : 0) } : {}),
    })),
  reduce: fc.tuple(fc.constantFrom('ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceL2', 'ReduceLogSumExp'), shapeArb({ min: 1, max: 4 }), fc.boolean(), seed)
    .chain(([op, s, keep, k]) => fc.subarray([...s.keys()], { minLength: 1 }).map((axes) => {
      const m = new OnnxModelBuilder({ opset: 18 });
      const x = m.input('x', 'f32', s);
      const ax = m.initializer('axes', Tensor.from('i64', [axes.length], axes.map(BigInt)));
      m.output(m.node(op, [x, ax], { keepdims: A.int(keep ? 1 : 0) }), 'f32');
      return { describe: `${op} x:[${s.join(',')}] axes=[${axes.join(',')}] keepdims=${keep ? 1 : 0}`, model: m.toBytes(), inputs: [values(s, k)] };
    })),
  softmax: fc.tuple(fc.constantFrom('Softmax', 'LogSoftmax'), shapeArb({ min: 1, max: 4 }), seed).chain(([op, s, k]) =>
    fc.integer({ min: -s.length, max: s.length - 1 }).map((axis) => single(op, [{ name: 'x', t: values(s, k) }], { axis: A.int(axis) }))),
  // ONNX Runtime refuses to normalize over a single element, so the normalized part has at least two.
  layernorm: fc.tuple(shapeArb({ min: 1, max: 4 }), seed).chain(([s, k]) => fc.integer({ min: 0, max: s.length - 1 }).filter((axis) => s.slice(axis).reduce((a, b) => a * b, 1) > 1).map((axis) =>
    single('LayerNormalization', [{ name: 'x', t: values(s, k) }, { name: 'scale', t: values(s.slice(axis), k + 1) }, { name: 'bias', t: values(s.slice(axis), k + 2) }],
      { axis: A.int(axis), epsilon: A.float(1e-5) }))),
  transpose: fc.tuple(shapeArb({ min: 1, max: 5 }), seed).chain(([s, k]) => fc.shuffledSubarray([...s.keys()], { minLength: s.length, maxLength: s.length })
    .map((perm) => single('Transpose', [{ name: 'x', t: values(s, k) }], { perm: A.ints(perm) }))),
  concat: fc.tuple(shapeArb({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), seed).chain(([s, parts, k]) => fc.integer({ min: 0, max: s.length - 1 }).map((axis) =>
    single('Concat', Array.from({ length: parts }, (_, i) => ({ name: `x${i}`, t: values(s, k + i) })), { axis: A.int(axis) }))),
  chain: fc.tuple(fc.array(fc.constantFrom(...UNARY, ...BINARY), { minLength: 2, maxLength: 5 }), shapeArb({ min: 1, max: 3 }), seed).map(([ops, s, k]) => {
    const m = new OnnxModelBuilder({ opset: 17 });
    const x = m.input('x', 'f32', s);
    const y = m.input('y', 'f32', s);
    let cur = x;
    for (const op of ops) cur = BINARY.includes(op) ? m.node(op, op === 'Div' ? [cur, m.node('Add', [m.node('Abs', [y]), m.initializer(`one${m.toBytes().length}`, Tensor.scalar('f32', 1))])] : [cur, y]) : m.node(op, [cur]);
    m.output(cur, 'f32');
    return { describe: `chain ${ops.join(' → ')} on [${s.join(',')}]`, model: m.toBytes(), inputs: [values(s, k), values(s, k + 1)] };
  }),
};

export const FUZZ_OPS: Record<string, fc.Arbitrary<FuzzCase>> = Object.fromEntries(
  Object.entries(CASES).map(([name, arb]) => [name, arb.map(readable)]));
