// One-node ONNX models for the op-family tests: build the model with onnx-proto, import and lower it
// with aic, run it on the interpreter, and (as an oracle) run the same bytes on ONNX Runtime.
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { DTYPE_INFO, type DType } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Dim } from '../../src/ir/shape.js';
import { Tensor } from '../../src/ir/tensor.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { importModel, type ImportedModel } from '../../src/frontend/onnx/import.js';
import { lowerModel } from '../../src/driver/targets.js';
import { writeTensorProto } from '../../src/runtime/tensor-proto.js';
import { interpret } from '../../src/runtime/interpreter.js';

const { onnx } = onnxProto;

/** An operand: a graph input fed `value` (declared with `dims` when given, e.g. symbolic), or an initializer. */
export interface Operand { value: Tensor; init?: boolean; dims?: Dim[] }
/** Attribute values: integers, integer lists, strings, `{ f }` / `{ fs }` floats, `{ t }` tensors, `{ sparse }`. */
export type AttrValue = number | number[] | string | { f: number } | { fs: number[] } | { t: Tensor } | { sparse: { dims: number[]; indices: number[]; values: Tensor } };

export const input = (value: Tensor, dims?: Dim[]): Operand => ({ value, ...(dims ? { dims } : {}) });
export const init = (value: Tensor): Operand => ({ value, init: true });

const tensorProto = (t: Tensor, name: string): object => onnx.TensorProto.decode(writeTensorProto(t, name));

function attribute(name: string, v: AttrValue): object {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('f' in v) return { name, type: AttributeType.FLOAT, f: v.f };
  if ('fs' in v) return { name, type: AttributeType.FLOATS, floats: v.fs };
  if ('t' in v) return { name, type: AttributeType.TENSOR, t: tensorProto(v.t, '') };
  const s = v.sparse;
  return {
    name, type: AttributeType.SPARSE_TENSOR,
    sparseTensor: { dims: s.dims, values: tensorProto(s.values, ''), indices: tensorProto(Tensor.from('i64', [s.indices.length], s.indices.map(BigInt)), '') },
  };
}

/** The bytes of a model with one node `op` (outputs out0, out1, …). */
export function nodeModel(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Uint8Array {
  const names = operands.map((o, i) => (o ? `in${i}` : ''));
  const valueInfo = (name: string, dtype: DType, dims: readonly Dim[]): object => ({
    name,
    type: { tensorType: { elemType: DTYPE_INFO[dtype].onnx, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [{ opType: op, input: names, output: Array.from({ length: outputs }, (_, i) => `out${i}`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) }],
      input: operands.flatMap((o, i) => (o && !o.init ? [valueInfo(names[i]!, o.value.dtype, o.dims ?? o.value.shape)] : [])),
      initializer: operands.flatMap((o, i) => (o?.init ? [tensorProto(o.value, names[i]!)] : [])),
      output: Array.from({ length: outputs }, (_, i) => ({ name: `out${i}` })),
    },
  })).finish();
}

/** A node of a hand-written graph: op, input names, output names, attributes. */
export interface GraphNode { op: string; inputs: string[]; outputs: string[]; attrs?: Record<string, AttrValue> }

/** The bytes of a model with several nodes; `inputs` and `inits` are keyed by name. */
export function graphModel(opset: number, nodes: GraphNode[], inputs: Record<string, Operand>, outputs: string[]): Uint8Array {
  const valueInfo = (name: string, dtype: DType, dims: readonly Dim[]): object => ({
    name,
    type: { tensorType: { elemType: DTYPE_INFO[dtype].onnx, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const entries = Object.entries(inputs);
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: nodes.map((n) => ({ opType: n.op, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)) })),
      input: entries.flatMap(([name, o]) => (o.init ? [] : [valueInfo(name, o.value.dtype, o.dims ?? o.value.shape)])),
      initializer: entries.flatMap(([name, o]) => (o.init ? [tensorProto(o.value, name)] : [])),
      output: outputs.map((name) => ({ name })),
    },
  })).finish();
}

export function importNode(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): ImportedModel {
  return importModel(decodeModelProto(nodeModel(op, opset, attrs, operands, outputs), `${op}.onnx`));
}

/** A one-node model, imported and lowered to prims. */
export function lowerNode(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Graph {
  const g = lowerModel(importNode(op, opset, attrs, operands, outputs));
  verifyGraph(g);
  return g;
}

/** Run a one-node model on the interpreter, feeding its graph-input operands. */
export function runNode(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Tensor[] {
  return interpret(lowerNode(op, opset, attrs, operands, outputs), operands.flatMap((o) => (o && !o.init ? [o.value] : [])));
}

export const runNode1 = (op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[]): Tensor =>
  runNode(op, opset, attrs, operands)[0]!;

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  f32: 'float32', f64: 'float64', i8: 'int8', i16: 'int16', i32: 'int32', i64: 'int64',
  u8: 'uint8', u16: 'uint16', u32: 'uint32', u64: 'uint64', bool: 'bool',
};
const FROM_ORT: Record<string, DType> = Object.fromEntries(Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]));

/** The same one-node model on ONNX Runtime (the oracle). */
export async function ortNode(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1): Promise<Tensor[]> {
  const session = await ort.InferenceSession.create(nodeModel(op, opset, attrs, operands, outputs));
  const feeds: Record<string, ort.Tensor> = {};
  operands.forEach((o, i) => {
    if (!o || o.init) return;
    const type = ORT_TYPE[o.value.dtype];
    if (!type) throw new Error(`no ORT type for ${o.value.dtype}`);
    feeds[`in${i}`] = new ort.Tensor(type, o.value.data as Float32Array, [...o.value.shape]);
  });
  const res = await session.run(feeds);
  await session.release();
  return Array.from({ length: outputs }, (_, i) => {
    const t = res[`out${i}`]!;
    const dtype = FROM_ORT[t.type] ?? (() => {
      throw new Error(`unexpected ORT type ${t.type}`);
    })();
    const data = t.data as ArrayLike<number | bigint | boolean>;
    return Tensor.from(dtype, [...t.dims], dtype === 'bool' ? Array.from(data, (v) => Boolean(v)) : data);
  });
}
