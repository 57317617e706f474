// ops/misc.ts where the conformance cases do not reach: the training optimizers against their formulas
// (several tensors at once, T = 0 and T > 0, both Momentum modes), and the numeric ai.onnx.ml ops:
// LabelEncoder on integers and floats, TreeEnsemble's modes, missing values and aggregations.
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { DTYPE_INFO } from '../../../src/ir/dtype.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { writeTensorProto } from '../../../src/runtime/tensor-proto.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { T, errorCode, expectTensor } from '../../support/check.js';

const { onnx } = onnxProto;

type Attr = number | number[] | string | { f: number } | { fs: number[] } | { t: Tensor };

function attribute(name: string, v: Attr): object {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('f' in v) return { name, type: AttributeType.FLOAT, f: v.f };
  if ('fs' in v) return { name, type: AttributeType.FLOATS, floats: v.fs };
  return { name, type: AttributeType.TENSOR, t: onnx.TensorProto.decode(writeTensorProto(v.t, '')) };
}

/** Run one node of `domain` (opset `version`) on graph inputs. */
function runDomainNode(domain: string, version: number, op: string, attrs: Record<string, Attr>, inputs: Tensor[], outputs = 1): Tensor[] {
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 21 }, { domain, version }],
    graph: {
      name: 'g',
      node: [{ opType: op, domain, input: inputs.map((_, i) => `in${i}`), output: Array.from({ length: outputs }, (_, i) => `out${i}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }],
      input: inputs.map((t, i) => ({ name: `in${i}`, type: { tensorType: { elemType: DTYPE_INFO[t.dtype].onnx, shape: { dim: t.shape.map((d) => ({ dimValue: d })) } } } })),
      output: Array.from({ length: outputs }, (_, i) => ({ name: `out${i}` })),
    },
  })).finish();
  const g = lowerModel(importModel(decodeModelProto(bytes, `${op}.onnx`)));
  verifyGraph(g);
  return interpret(g, inputs);
}

const close = (got: Tensor, want: number[], tol = 1e-5): void => {
  expect(got.size).toBe(want.length);
  got.toNumbers().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
};

const TRAINING = 'ai.onnx.preview.training';
const ML = 'ai.onnx.ml';

describe('training optimizers', () => {
  const r = T('f32', [], [0.1]);
  const x = [T('f32', [2], [1, -2]), T('f32', [1], [3])];
  const g = [T('f32', [2], [0.5, 0.25]), T('f32', [1], [-1])];
  const s = [T('f32', [2], [0.2, 0.3]), T('f32', [1], [0.4])];

  it('Adagrad decays the rate with T and scales by the accumulated squares, tensor by tensor', () => {
    for (const t of [0n, 3n]) {
      const out = runDomainNode(TRAINING, 1, 'Adagrad', { decay_factor: { f: 0.5 }, epsilon: { f: 1e-3 }, norm_coefficient: { f: 0.01 } }, [r, T('i64', [], [t]), ...x, ...g, ...s], 4);
      x.forEach((xi, k) => {
        const rate = 0.1 / (1 + Number(t) * 0.5);
        const gr = xi.toNumbers().map((v, j) => 0.01 * v + g[k]!.toNumbers()[j]!);
        const h = gr.map((v, j) => s[k]!.toNumbers()[j]! + v * v);
        close(out[k]!, xi.toNumbers().map((v, j) => v - (rate * gr[j]!) / (Math.sqrt(h[j]!) + 1e-3)));
        close(out[2 + k]!, h);
      });
    }
  });

  it('Adam corrects its moments only once T > 0', () => {
    for (const t of [0n, 2n]) {
      const out = runDomainNode(TRAINING, 1, 'Adam', { alpha: { f: 0.9 }, beta: { f: 0.99 }, epsilon: { f: 1e-4 }, norm_coefficient_post: { f: 0.1 } }, [r, T('i64', [], [t]), x[0]!, g[0]!, s[0]!, s[0]!], 3);
      const v = g[0]!.toNumbers().map((gv, j) => 0.9 * s[0]!.toNumbers()[j]! + 0.1 * gv);
      const h = g[0]!.toNumbers().map((gv, j) => 0.99 * s[0]!.toNumbers()[j]! + 0.01 * gv * gv);
      const rate = t > 0n ? (0.1 * Math.sqrt(1 - 0.99 ** Number(t))) / (1 - 0.9 ** Number(t)) : 0.1;
      close(out[0]!, x[0]!.toNumbers().map((xv, j) => 0.9 * (xv - (rate * v[j]!) / (Math.sqrt(h[j]!) + 1e-4))));
      close(out[1]!, v);
      close(out[2]!, h);
    }
  });

  it('Momentum in standard and Nesterov modes', () => {
    for (const mode of ['standard', 'nesterov']) {
      const [xn, vn] = runDomainNode(TRAINING, 1, 'Momentum', { alpha: { f: 0.5 }, beta: { f: 0.8 }, mode, norm_coefficient: { f: 0 } }, [r, T('i64', [], [1n]), x[0]!, g[0]!, s[0]!], 2);
      const v = g[0]!.toNumbers().map((gv, j) => 0.5 * s[0]!.toNumbers()[j]! + 0.8 * gv);
      close(vn!, v);
      close(xn!, x[0]!.toNumbers().map((xv, j) => xv - 0.1 * (mode === 'standard' ? v[j]! : g[0]!.toNumbers()[j]! + 0.5 * v[j]!)));
    }
  });
});

describe('ai.onnx.ml', () => {
  it('LabelEncoder maps integers and floats, the first key winning, others to the default', () => {
    const [y] = runDomainNode(ML, 2, 'LabelEncoder', { keys_int64s: [3, 7, 3], values_floats: { fs: [0.5, 1.5, 9] }, default_float: { f: -1 } }, [T('i64', [4], [3n, 7n, 5n, 3n])]);
    expectTensor(y!, 'f32', [4], [0.5, 1.5, -1, 0.5]);
    const [z] = runDomainNode(ML, 4, 'LabelEncoder', { keys_floats: { fs: [0.5, 2] }, values_int64s: [10, 20] }, [T('f32', [3], [2, 0.5, 1])]);
    expectTensor(z!, 'i64', [3], [20n, 10n, -1n]);
    expect(errorCode(() => runDomainNode(ML, 2, 'LabelEncoder', { keys_int64s: [1], values_strings: 'a' }, [T('i64', [1], [1n])]))).toBe('E_UNSUPPORTED');
  });

  it('TreeEnsemble averages trees, sends missing values where told, and takes MIN/MAX', () => {
    // Two trees on feature 0: tree 0 splits x <= 1 (NaN goes true), tree 1 splits x > 5.
    const attrs = (aggregate: number): Record<string, Attr> => ({
      aggregate_function: aggregate,
      n_targets: 1,
      nodes_modes: { t: T('u8', [2], [0, 3]) },
      nodes_splits: { t: T('f32', [2], [1, 5]) },
      nodes_featureids: [0, 0],
      nodes_truenodeids: [0, 2],
      nodes_falsenodeids: [1, 3],
      nodes_trueleafs: [1, 1],
      nodes_falseleafs: [1, 1],
      nodes_missing_value_tracks_true: [1, 0],
      leaf_targetids: [0, 0, 0, 0],
      leaf_weights: { t: T('f32', [4], [1, 2, 10, 20]) },
      tree_roots: [0, 1],
    });
    const x = T('f32', [3, 1], [0, 7, NaN]);
    close(runDomainNode(ML, 5, 'TreeEnsemble', attrs(1), [x])[0]!, [21, 12, 21]);
    close(runDomainNode(ML, 5, 'TreeEnsemble', attrs(0), [x])[0]!, [10.5, 6, 10.5]);
    close(runDomainNode(ML, 5, 'TreeEnsemble', attrs(2), [x])[0]!, [1, 2, 1]);
    close(runDomainNode(ML, 5, 'TreeEnsemble', attrs(3), [x])[0]!, [20, 10, 20]);
    expect(errorCode(() => runDomainNode(ML, 5, 'TreeEnsemble', { ...attrs(1), post_transform: 2 }, [x]))).toBe('E_UNSUPPORTED');
  });

  it('Binarizer and ArrayFeatureExtractor', () => {
    expectTensor(runDomainNode(ML, 1, 'Binarizer', { threshold: { f: 0.5 } }, [T('f32', [4], [0, 0.5, 0.6, NaN])])[0]!, 'f32', [4], [0, 0, 1, 0]);
    expectTensor(runDomainNode(ML, 1, 'ArrayFeatureExtractor', {}, [T('f32', [3], [5, 6, 7]), T('i64', [2], [2n, 0n])])[0]!, 'f32', [1, 2], [7, 5]);
  });
});
