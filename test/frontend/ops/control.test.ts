// Control flow, sorting, data-dependent shapes and recurrent layers (ops/control.ts, ops/recurrent.ts,
// prims/structured.ts) where the conformance cases do not reach: bodies whose inputs carry no types,
// loop-carried values that grow, branches of different sizes, Scan axes and directions, Scan-8 batches,
// TopK by opset, Unique/NonZero/NMS on random data, and RNN/GRU/LSTM in every direction, with layout,
// sequence_lens, activations and clip — checked against ONNX Runtime.
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { DTYPE_INFO, type DType } from '../../../src/ir/dtype.js';
import { GraphBuilder } from '../../../src/ir/builder.js';
import { A } from '../../../src/ir/attr.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { printGraph } from '../../../src/ir/printer.js';
import { parseGraph } from '../../../src/ir/parser.js';
import type { Graph } from '../../../src/ir/graph.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { writeTensorProto } from '../../../src/runtime/tensor-proto.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { T, errorCode, expectTensor } from '../../support/check.js';
import { importNode, input, init, ortNode, runNode } from '../../support/onnx-node.js';

const { onnx } = onnxProto;

// ---- a small ONNX model builder with graph attributes ----

type Attr = number | number[] | string | string[] | { f: number } | { fs: number[] } | { g: GraphSpec };
interface NodeSpec { op: string; in: string[]; out: string[]; attrs?: Record<string, Attr> }
/** A value's declared type; `dims: null` declares a tensor of unknown rank, no dtype declares nothing. */
interface ValueSpec { name: string; dtype?: DType; dims?: (number | string)[] | null }
interface GraphSpec { inputs: ValueSpec[]; outputs: ValueSpec[]; nodes: NodeSpec[]; inits?: Record<string, Tensor> }

const tensorProto = (t: Tensor, name: string): object => onnx.TensorProto.decode(writeTensorProto(t, name));

function valueInfo(v: ValueSpec): object {
  if (!v.dtype) return { name: v.name };
  const shape = v.dims === null ? {} : { shape: { dim: (v.dims ?? []).map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } };
  return { name: v.name, type: { tensorType: { elemType: DTYPE_INFO[v.dtype].onnx, ...shape } } };
}

function attr(name: string, v: Attr): object {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    return v.length > 0 && typeof v[0] === 'string'
      ? { name, type: AttributeType.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) }
      : { name, type: AttributeType.INTS, ints: v };
  }
  if ('f' in v) return { name, type: AttributeType.FLOAT, f: v.f };
  if ('fs' in v) return { name, type: AttributeType.FLOATS, floats: v.fs };
  return { name, type: AttributeType.GRAPH, g: graphProto(v.g, name) };
}

function graphProto(g: GraphSpec, name: string): object {
  return {
    name,
    node: g.nodes.map((n, i) => ({ name: `${n.op}_${i}`, opType: n.op, input: n.in, output: n.out, attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)) })),
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: Object.entries(g.inits ?? {}).map(([k, t]) => tensorProto(t, k)),
  };
}

function modelBytes(g: GraphSpec, opset: number): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph: graphProto(g, 'main') })).finish();
}

function lowerSpec(g: GraphSpec, opset: number): Graph {
  const imported = importModel(decodeModelProto(modelBytes(g, opset), 'control.onnx'));
  verifyGraph(imported.graph); // the onnx-dialect graph too: bodies, fresh symbols
  const lowered = lowerModel(imported);
  verifyGraph(lowered);
  // What prints parses back, bodies and fresh symbols included.
  expect(printGraph(parseGraph(printGraph(lowered)))).toBe(printGraph(lowered));
  return lowered;
}

const runAic = (g: GraphSpec, opset: number, inputs: Tensor[]): Tensor[] => interpret(lowerSpec(g, opset), inputs);

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = { f32: 'float32', f64: 'float64', i32: 'int32', i64: 'int64', bool: 'bool', u64: 'uint64' };

async function runOrt(g: GraphSpec, opset: number, inputs: Tensor[]): Promise<Tensor[]> {
  const session = await ort.InferenceSession.create(modelBytes(g, opset));
  const feeds: Record<string, ort.Tensor> = {};
  g.inputs.forEach((v, i) => {
    const t = inputs[i]!;
    feeds[v.name] = new ort.Tensor(ORT_TYPE[t.dtype]!, t.data as Float32Array, [...t.shape]);
  });
  const res = await session.run(feeds);
  await session.release();
  return g.outputs.map((o) => {
    const t = res[o.name]!;
    const dtype = (Object.entries(ORT_TYPE).find(([, v]) => v === t.type)?.[0] ?? 'f32') as DType;
    const data = t.data as ArrayLike<number | bigint | boolean>;
    return Tensor.from(dtype, [...t.dims], dtype === 'bool' ? Array.from(data, Boolean) : data);
  });
}

function close(got: Tensor, want: Tensor, tol = 1e-5): void {
  expect(`${got.dtype}[${got.shape.join(',')}]`).toBe(`${want.dtype}[${want.shape.join(',')}]`);
  const w = want.toNumbers();
  got.toNumbers().forEach((v, i) => {
    if (Number.isNaN(w[i]!)) expect(v).toBeNaN();
    else expect(Math.abs(v - w[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(w[i]!)));
  });
}

async function agrees(g: GraphSpec, opset: number, inputs: Tensor[], tol = 1e-5): Promise<Tensor[]> {
  const want = await runOrt(g, opset, inputs);
  const got = runAic(g, opset, inputs);
  got.forEach((t, i) => close(t, want[i]!, tol));
  return got;
}

/** The same model with every body input's type removed (how exporters often write them). */
function untypedBodies(g: GraphSpec): GraphSpec {
  return {
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      attrs: Object.fromEntries(Object.entries(n.attrs ?? {}).map(([k, v]) => [k, typeof v === 'object' && !Array.isArray(v) && 'g' in v
        ? { g: { ...untypedBodies(v.g), inputs: v.g.inputs.map((i) => ({ name: i.name })) } } : v])),
    })),
  };
}

/** ONNX Runtime on the model with typed bodies, aic on it with untyped bodies: the same numbers. */
async function agreesUntyped(g: GraphSpec, opset: number, inputs: Tensor[], tol = 1e-5): Promise<Tensor[]> {
  const want = await runOrt(g, opset, inputs);
  const got = runAic(untypedBodies(g), opset, inputs);
  got.forEach((t, i) => close(t, want[i]!, tol));
  return got;
}

/** An operand of a one-node model: a graph input (declared with `dims` when given), or an initializer. */
interface Arg { t: Tensor; init?: boolean; dims?: (number | string)[] }

/** A one-node model (attributes of every kind, string lists included) and the tensors it is fed. */
function oneNode(op: string, attrs: Record<string, Attr>, args: (Arg | null)[], outputs: number): { g: GraphSpec; feeds: Tensor[] } {
  const names = args.map((a, i) => (a ? `in${i}` : ''));
  const g: GraphSpec = {
    inputs: args.flatMap((a, i) => (a && !a.init ? [{ name: names[i]!, dtype: a.t.dtype, dims: a.dims ?? [...a.t.shape] }] : [])),
    outputs: Array.from({ length: outputs }, (_, k) => ({ name: `out${k}` })),
    nodes: [{ op, in: names, out: Array.from({ length: outputs }, (_, k) => `out${k}`), attrs }],
    inits: Object.fromEntries(args.flatMap((a, i) => (a?.init ? [[names[i]!, a.t]] : []))),
  };
  return { g, feeds: args.flatMap((a) => (a && !a.init ? [a.t] : [])) };
}

/** Deterministic pseudo-random f32 values in [lo, hi) (whole numbers when `whole`, to make ties). */
function rand(shape: number[], seed: number, lo = -1, hi = 1, whole = false): Tensor {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  const n = shape.reduce((p, d) => p * d, 1);
  return T('f32', shape, Array.from({ length: n }, () => (whole ? Math.floor(lo + next() * (hi - lo)) : lo + next() * (hi - lo))));
}

const i64 = (shape: number[], values: number[]): Tensor => T('i64', shape, values.map(BigInt));
const scalarI64 = (v: number): Tensor => i64([], [v]);
const bool = (v: boolean): Tensor => T('bool', [], [v]);

// ---- If ----

describe('If', () => {
  const branch = (value: Tensor, out: string): GraphSpec => ({
    inputs: [], outputs: [{ name: out }], nodes: [{ op: 'Identity', in: ['k'], out: ['kk'] }, { op: 'Add', in: ['kk', `${out}_c`], out: [out] }],
    inits: { [`${out}_c`]: value },
  });

  it('runs the branch the condition picks, reading outer values (untyped branch outputs)', async () => {
    const g: GraphSpec = {
      inputs: [{ name: 'c', dtype: 'bool', dims: [] }, { name: 'k', dtype: 'f32', dims: [3] }],
      outputs: [{ name: 'y', dtype: 'f32', dims: [3] }],
      nodes: [{ op: 'If', in: ['c'], out: ['y'], attrs: { then_branch: { g: branch(T('f32', [3], [1, 2, 3]), 't') }, else_branch: { g: branch(T('f32', [3], [10, 20, 30]), 'e') } } }],
    };
    const k = T('f32', [3], [0.5, 0.5, 0.5]);
    expectTensor(runAic(g, 13, [bool(true), k])[0]!, 'f32', [3], [1.5, 2.5, 3.5]);
    expectTensor(runAic(g, 13, [bool(false), k])[0]!, 'f32', [3], [10.5, 20.5, 30.5]);
    expect(printGraph(lowerSpec(g, 13))).toContain('prim.if');
  });

  it('gives a symbolic dim where the branches differ in size, bound when the branch runs', () => {
    const g: GraphSpec = {
      inputs: [{ name: 'c', dtype: 'bool', dims: [] }, { name: 'k', dtype: 'f32', dims: [] }],
      outputs: [{ name: 'y', dtype: 'f32' }],
      nodes: [{ op: 'If', in: ['c'], out: ['y'], attrs: { then_branch: { g: branch(T('f32', [3], [1, 2, 3]), 't') }, else_branch: { g: branch(T('f32', [2], [7, 8]), 'e') } } }],
    };
    const lowered = lowerSpec(g, 13);
    expect(typeof lowered.outputs[0]!.shape[0]).toBe('string');
    expectTensor(interpret(lowered, [bool(true), T('f32', [], [1])])[0]!, 'f32', [3], [2, 3, 4]);
    expectTensor(interpret(lowered, [bool(false), T('f32', [], [1])])[0]!, 'f32', [2], [8, 9]);
  });

  it('inlines the taken branch when the condition is a constant of the model (branches may then differ in rank)', () => {
    const g: GraphSpec = {
      inputs: [{ name: 'k', dtype: 'f32', dims: [] }],
      outputs: [{ name: 'y', dtype: 'f32' }],
      nodes: [
        { op: 'Constant', in: [], out: ['c'], attrs: { value_int: 0 } },
        { op: 'Cast', in: ['c'], out: ['cb'], attrs: { to: 9 } },
        { op: 'If', in: ['cb'], out: ['y'], attrs: { then_branch: { g: branch(T('f32', [2, 2], [1, 2, 3, 4]), 't') }, else_branch: { g: branch(T('f32', [3], [7, 8, 9]), 'e') } } },
      ],
    };
    const lowered = lowerSpec(g, 13);
    expect(printGraph(lowered)).not.toContain('prim.if');
    expectTensor(interpret(lowered, [T('f32', [], [1])])[0]!, 'f32', [3], [8, 9, 10]);
  });

  it('rejects branches of different ranks under a run-time condition (E_UNSUPPORTED)', () => {
    const g: GraphSpec = {
      inputs: [{ name: 'c', dtype: 'bool', dims: [] }, { name: 'k', dtype: 'f32', dims: [] }],
      outputs: [{ name: 'y', dtype: 'f32' }],
      nodes: [{ op: 'If', in: ['c'], out: ['y'], attrs: { then_branch: { g: branch(T('f32', [2, 2], [1, 2, 3, 4]), 't') }, else_branch: { g: branch(T('f32', [3], [7, 8, 9]), 'e') } } }],
    };
    expect(errorCode(() => lowerSpec(g, 13))).toBe('E_UNSUPPORTED');
  });
});

// ---- Loop ----

describe('Loop', () => {
  // for i < M while cond: acc = acc + x[i] (x captured from outside); scan out acc*2. Body inputs untyped.
  const sumLoop: GraphSpec = {
    inputs: [{ name: 'M', dtype: 'i64', dims: [] }, { name: 'cond', dtype: 'bool', dims: [] }, { name: 'acc0', dtype: 'f32', dims: [2] }, { name: 'x', dtype: 'f32', dims: [5, 2] }],
    outputs: [{ name: 'acc', dtype: 'f32', dims: [2] }, { name: 'ys', dtype: 'f32' }],
    nodes: [{
      op: 'Loop', in: ['M', 'cond', 'acc0'], out: ['acc', 'ys'], attrs: {
        body: {
          g: {
            inputs: [{ name: 'i', dtype: 'i64', dims: [] }, { name: 'c', dtype: 'bool', dims: [] }, { name: 'a', dtype: 'f32', dims: [2] }],
            outputs: [{ name: 'c2' }, { name: 'a2' }, { name: 'y' }],
            nodes: [
              { op: 'Gather', in: ['x', 'i'], out: ['xi'], attrs: { axis: 0 } },
              { op: 'Add', in: ['a', 'xi'], out: ['a2'] },
              { op: 'Mul', in: ['a2', 'two'], out: ['y'] },
              { op: 'ReduceSum', in: ['a2'], out: ['s'], attrs: { keepdims: 0 } },
              { op: 'Less', in: ['s', 'limit'], out: ['c2'] },
            ],
            inits: { two: T('f32', [], [2]), limit: T('f32', [], [20]) },
          },
        },
      },
    }],
  };
  const x = T('f32', [5, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

  it('runs to the trip count or until the body says stop, stacking scan outputs (trip count symbolic)', async () => {
    const [acc, ys] = await agreesUntyped(sumLoop, 13, [scalarI64(5), bool(true), T('f32', [2], [0, 0]), x]);
    expectTensor(acc!, 'f32', [2], [9, 12]); // stops after i = 2: 1+3+5 + 2+4+6 = 21 > 20
    expect(ys!.shape).toEqual([3, 2]);
    await agreesUntyped(sumLoop, 13, [scalarI64(2), bool(true), T('f32', [2], [0, 0]), x]);
    await agreesUntyped(sumLoop, 13, [scalarI64(4), bool(false), T('f32', [2], [1, 1]), x]); // zero iterations
    expect(typeof lowerSpec(sumLoop, 13).outputs[1]!.shape[0]).toBe('string');
  });

  it('stops on the body\'s condition even without a condition operand, as ONNX Runtime does', async () => {
    const g: GraphSpec = { ...sumLoop, nodes: [{ ...sumLoop.nodes[0]!, in: ['M', '', 'acc0'] }] };
    const [acc] = await agreesUntyped(g, 13, [scalarI64(5), bool(true), T('f32', [2], [0, 0]), x]);
    expectTensor(acc!, 'f32', [2], [9, 12]);
    const w: GraphSpec = { ...sumLoop, nodes: [{ ...sumLoop.nodes[0]!, in: ['', 'cond', 'acc0'] }] }; // a while loop
    await agreesUntyped(w, 13, [scalarI64(0), bool(true), T('f32', [2], [0, 0]), x]);
  });

  it('gives a carried value whose shape changes a symbolic dim (the body is lowered until its types settle)', async () => {
    // v = nonzero(x > i) each iteration: [1, count] with a count that shrinks.
    const g: GraphSpec = {
      inputs: [{ name: 'M', dtype: 'i64', dims: [] }, { name: 'v0', dtype: 'i64', dims: [1, 2] }, { name: 'x', dtype: 'i64', dims: [5] }],
      outputs: [{ name: 'v', dtype: 'i64' }, { name: 'n', dtype: 'i64' }],
      nodes: [{
        op: 'Loop', in: ['M', '', 'v0'], out: ['v', 'n'], attrs: {
          body: {
            g: {
              inputs: [{ name: 'i', dtype: 'i64', dims: [] }, { name: 'c', dtype: 'bool', dims: [] }, { name: 'a', dtype: 'i64', dims: [1, 'k'] }],
              outputs: [{ name: 'c2' }, { name: 'a2' }, { name: 'len' }],
              nodes: [
                { op: 'Identity', in: ['c'], out: ['c2'] },
                { op: 'Greater', in: ['x', 'i'], out: ['gt'] },
                { op: 'NonZero', in: ['gt'], out: ['a2'] },
                { op: 'Size', in: ['a'], out: ['len'] },
              ],
            },
          },
        },
      }],
    };
    const lowered = lowerSpec(untypedBodies(g), 13);
    expect(typeof lowered.outputs[0]!.shape[1]).toBe('string');
    const [v, n] = await agreesUntyped(g, 13, [scalarI64(3), i64([1, 2], [7, 7]), i64([5], [0, 3, 1, 4, 2])]);
    expectTensor(v!, 'i64', [1, 2], [1n, 3n]); // x > 2
    expectTensor(n!, 'i64', [3], [2n, 4n, 3n]);
  });

  it('rejects a loop with neither a trip count nor a condition (E_UNSUPPORTED)', () => {
    const g: GraphSpec = { ...sumLoop, nodes: [{ ...sumLoop.nodes[0]!, in: ['', '', 'acc0'] }] };
    expect(errorCode(() => lowerSpec(g, 13))).toBe('E_UNSUPPORTED');
  });
});

// ---- Scan ----

describe('Scan', () => {
  // state s [2]; body: s2 = s + x_t, y = s2 * x2_t (two scan inputs), one scan output.
  const body: GraphSpec = {
    inputs: [{ name: 's' }, { name: 'xt' }, { name: 'zt' }],
    outputs: [{ name: 's2' }, { name: 'y' }],
    nodes: [{ op: 'Add', in: ['s', 'xt'], out: ['s2'] }, { op: 'Mul', in: ['s2', 'zt'], out: ['y'] }],
  };

  it('follows scan_input_axes/directions and scan_output_axes/directions (opset 9+, untyped body inputs)', async () => {
    const g = (attrs: Record<string, Attr>): GraphSpec => ({
      inputs: [{ name: 's0', dtype: 'f32', dims: [2] }, { name: 'x', dtype: 'f32', dims: [3, 2] }, { name: 'z', dtype: 'f32', dims: [2, 3] }],
      outputs: [{ name: 's', dtype: 'f32' }, { name: 'ys', dtype: 'f32' }],
      nodes: [{ op: 'Scan', in: ['s0', 'x', 'z'], out: ['s', 'ys'], attrs: { num_scan_inputs: 2, body: { g: body }, ...attrs } }],
    });
    const ins = [T('f32', [2], [1, -1]), rand([3, 2], 1), rand([2, 3], 2)];
    await agrees(g({ scan_input_axes: [0, 1] }), 11, ins);
    await agrees(g({ scan_input_axes: [0, -1], scan_input_directions: [1, 0] }), 11, ins);
    await agrees(g({ scan_input_axes: [0, 1], scan_input_directions: [0, 1], scan_output_directions: [1], scan_output_axes: [1] }), 11, ins);
    await agrees(g({ scan_input_axes: [0, 1], scan_output_axes: [-1] }), 16, ins);
  });

  it('keeps a symbolic scan length', () => {
    const g: GraphSpec = {
      inputs: [{ name: 's0', dtype: 'f32', dims: [2] }, { name: 'x', dtype: 'f32', dims: ['T', 2] }, { name: 'z', dtype: 'f32', dims: ['T', 2] }],
      outputs: [{ name: 's', dtype: 'f32' }, { name: 'ys', dtype: 'f32' }],
      nodes: [{ op: 'Scan', in: ['s0', 'x', 'z'], out: ['s', 'ys'], attrs: { num_scan_inputs: 2, body: { g: body }, scan_input_directions: [1, 0] } }],
    };
    const lowered = lowerSpec(g, 11);
    expect(lowered.outputs[1]!.shape).toEqual(['T', 2]);
    const [s, ys] = interpret(lowered, [T('f32', [2], [0, 0]), T('f32', [2, 2], [1, 2, 3, 4]), T('f32', [2, 2], [1, 1, 2, 2])]);
    expectTensor(s!, 'f32', [2], [4, 6]);
    expectTensor(ys!, 'f32', [2, 2], [3, 4, 8, 12]);
  });

  it('runs the opset-8 batch form (batch axis 0, time axis 1, directions)', async () => {
    const g: GraphSpec = {
      inputs: [{ name: 's0', dtype: 'f32', dims: [2, 2] }, { name: 'x', dtype: 'f32', dims: [2, 3, 2] }, { name: 'z', dtype: 'f32', dims: [2, 3, 2] }],
      outputs: [{ name: 's', dtype: 'f32' }, { name: 'ys', dtype: 'f32' }],
      nodes: [{ op: 'Scan', in: ['', 's0', 'x', 'z'], out: ['s', 'ys'], attrs: { num_scan_inputs: 2, body: { g: body }, directions: [0, 1] } }],
    };
    await agrees(g, 8, [rand([2, 2], 3), rand([2, 3, 2], 4), rand([2, 3, 2], 5)]);
  });
});

// ---- TopK, NonZero, Unique ----

describe('TopK', () => {
  const x = rand([3, 7], 11, -4, 4, true); // whole numbers: many ties

  it('takes K as an attribute before opset 10 and as an input after; largest/smallest; ties keep the lower index', async () => {
    for (const [opset, axis, largest] of [[10, 1, 1], [11, 0, 0], [11, -1, 0], [13, 1, 1]] as const) {
      const attrs: Record<string, number> = opset >= 11 ? { axis, largest } : { axis };
      const want = await ortNode('TopK', opset, attrs, [input(x), init(i64([1], [3]))], 2);
      const got = runNode('TopK', opset, attrs, [input(x), init(i64([1], [3]))], 2);
      got.forEach((t, i) => close(t, want[i]!));
    }
    const got = runNode('TopK', 1, { k: 2 }, [input(x)], 2);
    const want = await ortNode('TopK', 1, { k: 2 }, [input(x)], 2);
    got.forEach((t, i) => close(t, want[i]!));
  });

  it('sorts 64-bit integers exactly', () => {
    const big = T('i64', [4], [2n ** 60n + 1n, 2n ** 60n, -(2n ** 62n), 2n ** 60n + 1n]);
    const [v, idx] = runNode('TopK', 11, { axis: 0 }, [input(big), init(i64([1], [3]))], 2);
    expectTensor(v!, 'i64', [3], [2n ** 60n + 1n, 2n ** 60n + 1n, 2n ** 60n]);
    expectTensor(idx!, 'i64', [3], [0n, 3n, 1n]);
  });

  it('rejects K larger than the axis (E_TYPE)', () => {
    expect(errorCode(() => runNode('TopK', 11, {}, [input(x), init(i64([1], [8]))], 2))).toBe('E_TYPE');
  });
});

describe('NonZero and Unique', () => {
  it('NonZero gives a symbolic count, bound at run time', async () => {
    const x = rand([3, 4], 7, -1, 2, true);
    const want = await ortNode('NonZero', 13, {}, [input(x)]);
    const got = runNode('NonZero', 13, {}, [input(x)]);
    close(got[0]!, want[0]!);
    expectTensor(runNode('NonZero', 13, {}, [input(T('f32', [2], [0, 0]))])[0]!, 'i64', [1, 0], []);
    for (const v of [3, 0]) { // a scalar counts as rank 1
      close(runNode('NonZero', 13, {}, [input(T('i32', [], [v]))])[0]!, (await ortNode('NonZero', 13, {}, [input(T('i32', [], [v]))]))[0]!);
    }
    verifyGraph(importNode('NonZero', 13, {}, [input(x)]).graph); // the symbol the import declared is kept
  });

  it('Unique agrees with ONNX Runtime, sorted or not, flat or along an axis', async () => {
    const x = rand([4, 3], 5, 0, 3, true);
    const rows = T('f32', [4, 2], [1, 2, 0, 5, 1, 2, 0, 1]);
    for (const [t, attrs] of [[x, {}], [x, { sorted: 0 }], [rows, { axis: 0 }], [rows, { axis: 0, sorted: 0 }], [rows, { axis: -1 }]] as const) {
      const want = await ortNode('Unique', 11, attrs, [input(t)], 4);
      const got = runNode('Unique', 11, attrs, [input(t)], 4);
      got.forEach((g, i) => close(g, want[i]!));
    }
  });
});

// ---- NonMaxSuppression ----

describe('NonMaxSuppression', () => {
  /** Random boxes [B, N, 4] that overlap often. */
  function boxes(b: number, n: number, seed: number, center: boolean): Tensor {
    const r = rand([b, n, 4], seed, 0, 1).toNumbers();
    const out: number[] = [];
    for (let i = 0; i < b * n; i++) {
      const [u, v, w, h] = r.slice(i * 4, i * 4 + 4) as [number, number, number, number];
      if (center) out.push(u * 4, v * 4, 1 + w, 1 + h);
      else out.push(u * 4, v * 4, u * 4 + (h < 0.3 ? -1 : 1) * (1 + w), v * 4 + 1 + h); // some flipped corners
    }
    return T('f32', [b, n, 4], out);
  }

  it('agrees with ONNX Runtime on random boxes, both box formats, with and without thresholds', async () => {
    for (const [center, seed] of [[0, 1], [1, 2], [0, 3]] as const) {
      const bx = boxes(2, 9, seed, center === 1);
      const sc = rand([2, 3, 9], seed + 10, 0, 1);
      sc.set(4, sc.num(5)); // a tie
      const operands = [input(bx), input(sc), init(i64([1], [4])), init(T('f32', [1], [0.3])), init(T('f32', [1], [0.2]))];
      const attrs = { center_point_box: center };
      const want = await ortNode('NonMaxSuppression', 11, attrs, operands);
      close(runNode('NonMaxSuppression', 11, attrs, operands)[0]!, want[0]!);
      const fewer = operands.slice(0, 3);
      close(runNode('NonMaxSuppression', 11, attrs, fewer)[0]!, (await ortNode('NonMaxSuppression', 11, attrs, fewer))[0]!);
    }
    // No max_output_boxes_per_class: nothing is selected.
    expectTensor(runNode('NonMaxSuppression', 10, {}, [input(boxes(1, 3, 4, false)), input(rand([1, 1, 3], 5, 0, 1))])[0]!, 'i64', [0, 3], []);
  });
});

// ---- RNN, GRU, LSTM ----

describe('RNN, GRU, LSTM', () => {
  const T_ = 4;
  const B = 3;
  const I = 2;
  const H = 3;
  const gates = { RNN: 1, GRU: 3, LSTM: 4 } as const;
  type Kind = keyof typeof gates;
  interface Opts { lens?: number[]; init?: boolean; peep?: boolean }

  /** Operands X, W, R, B, sequence_lens, initial_h (, initial_c, P) of one layer in layout 0. */
  function operands(kind: Kind, dirs: number, seed: number, opts: Opts = {}): (Arg | null)[] {
    const G = gates[kind];
    const ops: (Arg | null)[] = [
      { t: rand([T_, B, I], seed) }, { t: rand([dirs, G * H, I], seed + 1), init: true }, { t: rand([dirs, G * H, H], seed + 2), init: true },
      { t: rand([dirs, 2 * G * H], seed + 3), init: true },
      opts.lens ? { t: T('i32', [B], opts.lens) } : null,
      opts.init ? { t: rand([dirs, B, H], seed + 4) } : null,
    ];
    if (kind === 'LSTM') ops.push(opts.init ? { t: rand([dirs, B, H], seed + 5) } : null, opts.peep ? { t: rand([dirs, 3 * H], seed + 6), init: true } : null);
    while (ops[ops.length - 1] === null) ops.pop();
    return ops;
  }

  const outputsOf = (kind: Kind): number => (kind === 'LSTM' ? 3 : 2);

  async function check(kind: Kind, attrs: Record<string, Attr>, ops: (Arg | null)[], opset = 14): Promise<Tensor[]> {
    const { g, feeds } = oneNode(kind, { hidden_size: H, ...attrs }, ops, outputsOf(kind));
    return agrees(g, opset, feeds);
  }

  const permute = (t: Tensor, perm: number[]): Tensor => interpret((() => {
    const b = new GraphBuilder('p');
    b.output(b.permute(b.input('x', t.dtype, t.shape), perm));
    return b.build();
  })(), [t])[0]!;

  /** layout 1 (batch first) gives the layout-0 numbers transposed (ONNX Runtime has no layout 1). */
  async function checkLayout1(kind: Kind, attrs: Record<string, Attr>, ops: (Arg | null)[]): Promise<void> {
    const want = await check(kind, attrs, ops);
    const batchFirst = ops.map((a, i) => (a && (i === 0 || i === 5 || i === 6) ? { ...a, t: permute(a.t, [1, 0, 2]) } : a));
    const { g, feeds } = oneNode(kind, { hidden_size: H, layout: 1, ...attrs }, batchFirst, outputsOf(kind));
    const got = runAic(g, 14, feeds);
    close(got[0]!, permute(want[0]!, [2, 0, 1, 3]));
    got.slice(1).forEach((t, i) => close(t, permute(want[i + 1]!, [1, 0, 2])));
  }

  for (const kind of ['RNN', 'GRU', 'LSTM'] as const) {
    it(`${kind}: forward, reverse and bidirectional, with initial states`, async () => {
      await check(kind, {}, operands(kind, 1, 1, { init: true }));
      await check(kind, { direction: 'reverse' }, operands(kind, 1, 2));
      await check(kind, { direction: 'bidirectional' }, operands(kind, 2, 3, { init: true, peep: true }));
    });

    it(`${kind}: sequence_lens (forward and reverse, batch entries of different lengths) and layout 1`, async () => {
      await check(kind, {}, operands(kind, 1, 5, { lens: [4, 2, 1], init: true }));
      await check(kind, { direction: 'bidirectional' }, operands(kind, 2, 6, { lens: [3, 4, 2] }));
      await check(kind, { direction: 'reverse' }, operands(kind, 1, 7, { lens: [1, 4, 3], init: true }));
      await checkLayout1(kind, { direction: 'bidirectional' }, operands(kind, 2, 4, { init: true, lens: [2, 4, 3] }));
    });
  }

  it('activations with alpha/beta, clip, GRU linear_before_reset, LSTM input_forget', async () => {
    await check('RNN', { activations: ['LeakyRelu'], activation_alpha: { fs: [0.3] }, clip: { f: 0.5 } }, operands('RNN', 1, 8));
    // (ONNX Runtime's RNN reads alpha/beta by direction, so give every direction one here.)
    await check('RNN', { direction: 'bidirectional', activations: ['HardSigmoid', 'LeakyRelu'], activation_alpha: { fs: [0.4, 0.3] }, activation_beta: { fs: [0.3, 0] } }, operands('RNN', 2, 9));
    await check('RNN', { activations: ['Softsign'] }, operands('RNN', 1, 16));
    await check('RNN', { activations: ['Relu'] }, operands('RNN', 1, 15));
    await check('GRU', { linear_before_reset: 1 }, operands('GRU', 1, 10, { init: true }));
    await check('GRU', { activations: ['HardSigmoid', 'Tanh'], clip: { f: 0.7 }, linear_before_reset: 1 }, operands('GRU', 1, 11));
    await check('LSTM', { input_forget: 1, activations: ['Sigmoid', 'Elu', 'ScaledTanh'], activation_alpha: { fs: [0.9, 1.5] }, activation_beta: { fs: [0.8] } }, operands('LSTM', 1, 12, { peep: true }));
    await check('LSTM', { clip: { f: 0.4 } }, operands('LSTM', 1, 13, { init: true }), 7);
  });

  it('needs a static sequence length (E_UNSUPPORTED)', () => {
    const ops = operands('RNN', 1, 14);
    ops[0] = { t: rand([T_, B, I], 1), dims: ['S', B, I] };
    const { g } = oneNode('RNN', { hidden_size: H }, ops, 2);
    expect(errorCode(() => lowerSpec(g, 14))).toBe('E_UNSUPPORTED');
  });
});

// ---- the prims themselves ----

describe('structured prims', () => {
  /** for i < 3: count = |nonzero(x >= i)|; carried sum of counts; optionally stack the nonzero results. */
  function countLoop(stackResults: boolean): Graph {
    const main = new GraphBuilder('main');
    const x = main.input('x', 'i64', [4]);
    const body = new GraphBuilder('body');
    const i = body.input('i', 'i64', []);
    const c = body.input('c', 'bool', []);
    const s = body.input('s', 'i64', []);
    const nz = body.op1('prim.nonzero', [body.not(body.lt(x, i))]);
    const count = body.reduce('sum', body.gather(body.op1('prim.shape', [nz]), body.scalar('i64', 1n), 0), [], false);
    body.output(c);
    body.output(body.add(s, count));
    if (stackResults) body.output(nz);
    const results = main.op('prim.loop', [main.scalar('i64', 3n), null, main.scalar('i64', 0n)], { body: A.graph(body.build()) });
    for (const r of results) main.output(r);
    const g = main.build();
    verifyGraph(g);
    expect(printGraph(parseGraph(printGraph(g)))).toBe(printGraph(g));
    return g;
  }

  it('a loop body binds its own symbols afresh in every iteration (child symbol scopes)', () => {
    expectTensor(interpret(countLoop(false), [i64([4], [0, 1, 2, 3])])[0]!, 'i64', [], [9n]);
  });

  it('scan outputs must keep one shape across iterations (E_RUNTIME)', () => {
    expect(errorCode(() => interpret(countLoop(true), [i64([4], [0, 1, 2, 3])]))).toBe('E_RUNTIME');
    expectTensor(interpret(countLoop(true), [i64([4], [5, 5, 5, 5])])[1]!, 'i64', [3, 1, 4], [0n, 1n, 2n, 3n, 0n, 1n, 2n, 3n, 0n, 1n, 2n, 3n]);
  });

  it('infers result types from the bodies: carried shapes, fresh symbols kept by the verifier', () => {
    const g = countLoop(true);
    const loop = g.nodes.find((n) => n.op === 'prim.loop')!;
    expect(loop.outputs[1]!.shape[0]).toMatch(/^_loop\d+$/);
    expect(loop.outputs[1]!.shape[2]).toMatch(/^_loop\d+$/);
    expect(loop.outputs[0]!.type).toEqual({ dtype: 'i64', shape: [] });
  });

  it('prim.if needs branches of one dtype and rank (E_TYPE)', () => {
    const b = new GraphBuilder('main');
    const c = b.input('c', 'bool', []);
    const t = new GraphBuilder('t');
    t.output(t.scalar('f32', 1));
    const e = new GraphBuilder('e');
    e.output(e.scalar('i32', 1));
    expect(errorCode(() => b.op('prim.if', [c], { then_branch: A.graph(t.build()), else_branch: A.graph(e.build()) }))).toBe('E_TYPE');
  });
});
