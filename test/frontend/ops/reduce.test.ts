// Reductions and normalizations (ops/reduce.ts, ops/norm.ts) where the conformance cases do not reach:
// opset variants (axes as attribute or input, softmax's 2-D coercion before 13, GroupNormalization 18
// vs 21), symbolic dims, numerics (a stable ReduceLogSumExp, stash_type, two-pass variances), scans
// checked against a sequential scan on random data, and error codes.
import { fc, test } from '@fast-check/vitest';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { DTYPE_INFO, type DType } from '../../../src/ir/dtype.js';
import type { Graph } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { writeTensorProto } from '../../../src/runtime/tensor-proto.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { T, errorCode, expectTensor } from '../../support/check.js';

const { onnx } = onnxProto;

/** An operand: a graph input fed `value` (declared with `dims` when given, e.g. symbolic), or an initializer. */
interface Operand { value: Tensor; init?: boolean; dims?: (number | string)[] }
/** Attribute values: integers, integer lists, `{ f }` floats. */
type AttrValue = number | number[] | { f: number };

const input = (value: Tensor, dims?: (number | string)[]): Operand => ({ value, ...(dims ? { dims } : {}) });
const init = (value: Tensor): Operand => ({ value, init: true });

function attribute(name: string, v: AttrValue): object {
  if (typeof v === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
  if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v.f };
}

/** A one-node model, imported and lowered to prims. */
function lowered(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Graph {
  const names = operands.map((o, i) => (o ? `in${i}` : ''));
  const valueInfo = (name: string, dtype: DType, dims: (number | string)[]): object => ({
    name,
    type: { tensorType: { elemType: DTYPE_INFO[dtype].onnx, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [{ opType: op, input: names, output: Array.from({ length: outputs }, (_, i) => `out${i}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }],
      input: operands.flatMap((o, i) => (o && !o.init ? [valueInfo(names[i]!, o.value.dtype, o.dims ?? [...o.value.shape])] : [])),
      initializer: operands.flatMap((o, i) => (o?.init ? [onnx.TensorProto.decode(writeTensorProto(o.value, names[i]!))] : [])),
      output: Array.from({ length: outputs }, (_, i) => ({ name: `out${i}` })),
    },
  })).finish();
  const g = lowerModel(importModel(decodeModelProto(bytes, `${op}.onnx`)));
  verifyGraph(g);
  return g;
}

/** Run a one-node model on its graph-input operands. */
function run(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Tensor[] {
  const g = lowered(op, opset, attrs, operands, outputs);
  return interpret(g, operands.flatMap((o) => (o && !o.init ? [o.value] : [])));
}
const run1 = (op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[]): Tensor => run(op, opset, attrs, operands)[0]!;

const ints = (values: number[]): Tensor => T('i64', [values.length], values.map(BigInt));
const close = (t: Tensor, want: number[], tol = 1e-5): void => {
  expect(t.size).toBe(want.length);
  t.toNumbers().forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(v).toBe(w);
    else expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
};

// x = arange(1, 13).reshape(3, 2, 2)
const X = T('f32', [3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

describe('Reduce*', () => {
  it('take axes as an attribute before opset 13 (ReduceSum) / 18 (others), as an input after', () => {
    expectTensor(run1('ReduceSum', 11, { axes: [1], keepdims: 0 }, [input(X)]), 'f32', [3, 2], [4, 6, 12, 14, 20, 22]);
    expectTensor(run1('ReduceSum', 13, { keepdims: 0 }, [input(X), init(ints([1]))]), 'f32', [3, 2], [4, 6, 12, 14, 20, 22]);
    expectTensor(run1('ReduceMean', 13, { axes: [-1] }, [input(X)]), 'f32', [3, 2, 1], [1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
    expectTensor(run1('ReduceMean', 18, {}, [input(X), init(ints([-1]))]), 'f32', [3, 2, 1], [1.5, 3.5, 5.5, 7.5, 9.5, 11.5]);
  });

  it('reduce every axis without axes, and nothing with noop_with_empty_axes (composites keep their pointwise steps)', () => {
    expectTensor(run1('ReduceSum', 13, { keepdims: 0 }, [input(X)]), 'f32', [], [78]);
    expectTensor(run1('ReduceMax', 18, {}, [input(X), init(ints([]))]), 'f32', [1, 1, 1], [12]);
    expectTensor(run1('ReduceSum', 13, { noop_with_empty_axes: 1 }, [input(X)]), 'f32', [3, 2, 2], X.toNumbers());
    const x = T('f32', [2], [-3, 4]);
    expectTensor(run1('ReduceSumSquare', 18, { noop_with_empty_axes: 1 }, [input(x)]), 'f32', [2], [9, 16]);
    expectTensor(run1('ReduceL2', 18, { noop_with_empty_axes: 1 }, [input(x), init(ints([]))]), 'f32', [2], [3, 4]);
  });

  it('count a mean over a symbolic dim at run time', () => {
    const x = T('f32', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expectTensor(run1('ReduceMean', 18, { keepdims: 0 }, [input(x, ['n', 2]), init(ints([0]))]), 'f32', [2], [4, 5]);
  });

  it('ReduceLogSumExp is stable for large values and exact for -inf rows, +inf and empty sets', () => {
    const x = T('f32', [4, 2], [1000, 1000, -Infinity, -Infinity, Infinity, 1, -1000, -1001]);
    close(run1('ReduceLogSumExp', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), [1000 + Math.LN2, -Infinity, Infinity, -1000 + Math.log1p(Math.exp(-1))]);
    expectTensor(run1('ReduceLogSumExp', 18, {}, [input(Tensor.zeros('f32', [2, 0])), init(ints([1]))]), 'f32', [2, 1], [-Infinity, -Infinity]);
  });

  it('compute float formulas on integers through f64 and truncate back', () => {
    const x = T('i32', [2, 2], [3, 4, 1, 1]);
    expectTensor(run1('ReduceL2', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), 'i32', [2], [5, 1]);
    expectTensor(run1('ReduceLogSum', 18, { keepdims: 0 }, [input(x), init(ints([1]))]), 'i32', [2], [1, 0]);
    expectTensor(run1('ReduceMean', 13, { axes: [1], keepdims: 0 }, [input(x)]), 'i32', [2], [3, 1]);
  });

  it('ReduceMax and ReduceMin take bools (False < True)', () => {
    const x = T('bool', [3, 2], [true, true, true, false, false, false]);
    expectTensor(run1('ReduceMax', 20, { keepdims: 0 }, [input(x), init(ints([1]))]), 'bool', [3], [1, 1, 0]);
    expectTensor(run1('ReduceMin', 20, { keepdims: 0 }, [input(x), init(ints([1]))]), 'bool', [3], [1, 0, 0]);
  });

  it('reject repeated axes (E_TYPE) and axes fed at run time (E_UNSUPPORTED)', () => {
    expect(errorCode(() => lowered('ReduceSum', 13, {}, [input(X), init(ints([1, -2]))]))).toBe('E_TYPE');
    expect(errorCode(() => lowered('ReduceSum', 13, {}, [input(X), input(ints([1]))]))).toBe('E_UNSUPPORTED');
  });
});

describe('ArgMax, ArgMin', () => {
  it('default to axis 0 with dims kept; select_last_index picks the last of ties', () => {
    const x = T('f32', [2, 3], [1, 5, 5, 5, 0, 5]);
    expectTensor(run1('ArgMax', 11, {}, [input(x)]), 'i64', [1, 3], [1n, 0n, 0n]);
    expectTensor(run1('ArgMax', 13, { axis: -1, keepdims: 0 }, [input(x)]), 'i64', [2], [1n, 0n]);
    expectTensor(run1('ArgMax', 13, { axis: -1, keepdims: 0, select_last_index: 1 }, [input(x)]), 'i64', [2], [2n, 2n]);
    expectTensor(run1('ArgMin', 13, { axis: 1, keepdims: 0, select_last_index: 1 }, [input(x)]), 'i64', [2], [0n, 1n]);
  });
});

describe('CumSum, CumProd', () => {
  /** The scan done one element after another, as the definition reads (BigInt for i64, wrapping i32). */
  function sequential(x: Tensor, axis: number, op: 'add' | 'mul', exclusive: boolean, reverse: boolean): Tensor {
    const out = Tensor.zeros(x.dtype, x.shape);
    const n = x.shape[axis]!;
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const outer = x.size / Math.max(1, n * inner);
    const big = x.dtype === 'i64';
    const combine = (a: number | bigint, b: number | bigint): number | bigint => {
      if (big) return BigInt.asIntN(64, op === 'add' ? (a as bigint) + (b as bigint) : (a as bigint) * (b as bigint));
      if (x.dtype === 'i32') return op === 'add' ? ((a as number) + (b as number)) | 0 : Math.imul(a as number, b as number);
      return Math.fround(op === 'add' ? (a as number) + (b as number) : (a as number) * (b as number));
    };
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc: number | bigint = big ? (op === 'add' ? 0n : 1n) : op === 'add' ? 0 : 1;
        for (let k = 0; k < n; k++) {
          const j = reverse ? n - 1 - k : k;
          const at = (o * n + j) * inner + i;
          if (!exclusive) acc = combine(acc, x.data[at]!);
          (out.data as unknown as (number | bigint)[])[at] = acc;
          if (exclusive) acc = combine(acc, x.data[at]!);
        }
      }
    }
    return out;
  }

  const cases = fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
    axisSeed: fc.nat(),
    exclusive: fc.boolean(),
    reverse: fc.boolean(),
    seed: fc.integer(),
  });

  test.prop([cases, fc.constantFrom<DType>('i32', 'i64')])('integer scans equal a sequential scan exactly (wrapping)', (c, dtype) => {
    const n = c.shape.reduce((p, d) => p * d, 1);
    let s = c.seed | 0;
    const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) | 0);
    const x = T(dtype, c.shape, Array.from({ length: n }, () => (dtype === 'i64' ? BigInt(next()) * 4294967311n : next())));
    const axis = c.axisSeed % c.shape.length;
    for (const [type, op] of [['CumSum', 'add'], ['CumProd', 'mul']] as const) {
      const got = run1(type, 26, { exclusive: c.exclusive ? 1 : 0, reverse: c.reverse ? 1 : 0 }, [input(x), init(T('i32', [], [axis - c.shape.length]))]);
      const want = sequential(x, axis, op, c.exclusive, c.reverse);
      expectTensor(got, want.dtype, want.shape, Array.from(want.data as ArrayLike<number | bigint>));
    }
  });

  it('keep infinities and NaN where a sequential scan has them', () => {
    const x = T('f32', [6], [1, Infinity, 2, -Infinity, 3, NaN]);
    expectTensor(run1('CumSum', 14, {}, [input(x), init(T('i64', [], [0n]))]), 'f32', [6], [1, Infinity, Infinity, NaN, NaN, NaN]);
    expectTensor(run1('CumSum', 14, { reverse: 1, exclusive: 1 }, [input(T('f32', [4], [1, Infinity, 2, 3])), init(T('i64', [], [0n]))]), 'f32', [4], [Infinity, 5, 3, 0]);
  });

  it('need the axis and its extent at compile time (E_UNSUPPORTED)', () => {
    const x = T('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(errorCode(() => lowered('CumSum', 14, {}, [input(x), input(T('i64', [], [0n]))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowered('CumSum', 14, {}, [input(x, [2, 'n']), init(T('i64', [], [1n]))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowered('CumSum', 14, {}, [input(x), init(T('i64', [], [2n]))]))).toBe('E_TYPE');
  });
});

describe('Softmax, LogSoftmax, Hardmax', () => {
  const x = T('f32', [1, 2, 2], [0, 1, 2, 3]);
  const softmax = (v: number[]): number[] => {
    const m = Math.max(...v);
    const s = v.reduce((a, u) => a + Math.exp(u - m), 0);
    return v.map((u) => Math.exp(u - m) / s);
  };

  it('before opset 13 normalize over every axis from `axis` on (default 1); from 13 over one axis (default -1)', () => {
    close(run1('Softmax', 11, {}, [input(x)]), softmax([0, 1, 2, 3]));
    close(run1('Softmax', 13, { axis: 1 }, [input(x)]), [...softmax([0, 2]), ...softmax([1, 3])].flatMap((_, i, a) => (i % 2 === 0 ? [a[i / 2]!, a[i / 2 + 2]!] : [])));
    close(run1('Softmax', 13, {}, [input(x)]), [...softmax([0, 1]), ...softmax([2, 3])]);
    close(run1('LogSoftmax', 11, { axis: 2 }, [input(x)]), [...softmax([0, 1]), ...softmax([2, 3])].map(Math.log));
  });

  it('stay finite for large inputs', () => {
    close(run1('Softmax', 13, {}, [input(T('f32', [3], [1e30, 1e30, 0]))]), [0.5, 0.5, 0]);
    close(run1('LogSoftmax', 13, {}, [input(T('f32', [2], [10000, 0]))]), [0, -10000]);
  });

  it('Hardmax is a one-hot of the first maximum (over the flattened trailing axes before 13)', () => {
    const y = T('f32', [2, 2, 2], [3, 1, 3, 0, 1, 2, 2, 2]);
    expectTensor(run1('Hardmax', 11, {}, [input(y)]), 'f32', [2, 2, 2], [1, 0, 0, 0, 0, 1, 0, 0]);
    expectTensor(run1('Hardmax', 13, {}, [input(y)]), 'f32', [2, 2, 2], [1, 0, 1, 0, 0, 1, 1, 0]);
    expectTensor(run1('Hardmax', 13, { axis: 1 }, [input(y, [2, 2, 'n'])]), 'f32', [2, 2, 2], [1, 1, 0, 0, 1, 1, 0, 0]);
  });
});

describe('normalizations', () => {
  it('LayerNormalization computes stage one in stash_type (f32 for f16 input) and returns Mean and InvStdDev', () => {
    const v = [1000, 1001, 1002, 1003];
    const [y, mean, inv] = run('LayerNormalization', 17, {}, [input(T('f16', [1, 4], v)), init(T('f16', [4], [1, 1, 1, 1]))], 3);
    const sd = Math.sqrt(1.25 + 1e-5);
    expect(`${y!.dtype} ${mean!.dtype} ${inv!.dtype}`).toBe('f16 f32 f32');
    close(y!, v.map((u) => (u - 1001.5) / sd), 1e-3);
    close(mean!, [1001.5]);
    close(inv!, [1 / sd]);
  });

  it('RMSNormalization divides by the root mean square over the axes from `axis` on', () => {
    const y = run1('RMSNormalization', 23, { axis: 0, epsilon: { f: 0 } }, [input(T('f32', [2, 2], [1, 1, 1, 5])), init(T('f32', [2], [1, 2]))]);
    close(y, [1 / 3, 2 / 3, 1 / 3, 10 / 3]);
  });

  it('GroupNormalization scales per group at opset 18 and per channel at 21', () => {
    const x = T('f32', [1, 4, 2], [0, 2, 4, 6, 1, 1, 3, 5]);
    const std = (v: number[]): number[] => {
      const m = v.reduce((a, u) => a + u, 0) / v.length;
      const s = Math.sqrt(v.reduce((a, u) => a + (u - m) ** 2, 0) / v.length + 1e-5);
      return v.map((u) => (u - m) / s);
    };
    const [a, b] = [std([0, 2, 4, 6]), std([1, 1, 3, 5])];
    const want = [...a.map((u) => 2 * u + 1), ...b.map((u) => 3 * u - 1)];
    close(run1('GroupNormalization', 18, { num_groups: 2 }, [input(x), init(T('f32', [2], [2, 3])), init(T('f32', [2], [1, -1]))]), want);
    close(run1('GroupNormalization', 21, { num_groups: 2 }, [input(x), init(T('f32', [4], [2, 2, 3, 3])), init(T('f32', [4], [1, 1, -1, -1]))]), want);
    expect(errorCode(() => lowered('GroupNormalization', 21, { num_groups: 3 }, [input(x), init(T('f32', [4], [1, 1, 1, 1])), init(T('f32', [4], [0, 0, 0, 0]))]))).toBe('E_TYPE');
  });

  it('BatchNormalization in training mode uses batch statistics and updates the running ones with momentum', () => {
    const x = T('f32', [2, 1, 2], [1, 3, 5, 7]);
    const c = (v: number): Tensor => T('f32', [1], [v]);
    const [y, runMean, runVar] = run('BatchNormalization', 15, { training_mode: 1, epsilon: { f: 0 }, momentum: { f: 0.5 } },
      [input(x), init(c(1)), init(c(0)), init(c(2)), init(c(1))], 3);
    const sd = Math.sqrt(5);
    close(y!, [-3 / sd, -1 / sd, 1 / sd, 3 / sd]);
    close(runMean!, [3]); // 2·0.5 + 4·0.5
    close(runVar!, [3]); // 1·0.5 + 5·0.5
    // Inference: the given statistics, per channel.
    close(run1('BatchNormalization', 9, {}, [input(x), init(c(2)), init(c(1)), init(c(3)), init(c(4))]), [-1, 1, 3, 5].map((u) => u + 0).map((u, i) => 2 * ([1, 3, 5, 7][i]! - 3) / Math.sqrt(4 + 1e-5) + 1));
  });

  it('InstanceNormalization, LpNormalization and MVN give 0, not NaN, for constant or zero rows', () => {
    const x = T('f32', [1, 2, 3], [2, 2, 2, 0, 3, 6]);
    close(run1('InstanceNormalization', 6, {}, [input(x), init(T('f32', [2], [1, 1])), init(T('f32', [2], [5, 0]))]), [5, 5, 5, ...[-3, 0, 3].map((u) => u / Math.sqrt(6 + 1e-5))]);
    close(run1('MeanVarianceNormalization', 13, { axes: [2] }, [input(x)]), [0, 0, 0, ...[-3, 0, 3].map((u) => u / Math.sqrt(6))]);
    const z = T('f32', [2, 2], [0, 0, 3, -4]);
    close(run1('LpNormalization', 22, {}, [input(z)]), [0, 0, 0.6, -0.8]);
    close(run1('LpNormalization', 22, { p: 1, axis: 0 }, [input(z)]), [0, 0, 1, -1]);
  });

  it('LRN sums squares over a window of channels clipped at the edges', () => {
    const v = [1, 2, 3, 4];
    const x = T('f32', [1, 4, 1], v);
    const want = v.map((u, c) => {
      const window = v.slice(Math.max(0, c - 1), Math.min(4, c + 2 + 1)); // size 4: 1 before, 2 after
      return u / (2 + (0.5 / 4) * window.reduce((a, w) => a + w * w, 0)) ** 0.75;
    });
    close(run1('LRN', 13, { size: 4, alpha: { f: 0.5 }, bias: { f: 2 } }, [input(x)]), want);
  });
});
