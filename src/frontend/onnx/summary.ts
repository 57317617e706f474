// What `aic inspect` reports about a model, as plain data (the CLI prints it or emits it as JSON).
// It reads the protobuf directly rather than importing the graph, so it also describes models
// aic cannot import: unsupported dtypes are named, unsupported ops are listed, nothing throws.
import { DTYPE_INFO, DTYPES, onnxTypeName } from '../../ir/dtype.js';
import type { Dim } from '../../ir/shape.js';
import type {
  GraphProto, Int64, ModelProto, NodeProto, OperatorSetIdProto, SparseTensorProto, TensorProto,
  TensorShapeDimension, TypeProto, TypeProtoTensor, ValueInfoProto,
} from './proto.js';
import { isOnnxOpSupported } from './support.js';

export interface ValueSummary {
  readonly name: string;
  /** Element type of a tensor (f32, f8e4m3fn, string, …); for other kinds the type without shapes (seq<f32>). */
  readonly dtype: string;
  /** Tensor dims: sizes, dim_param names, '?' where unknown; null when the rank is unknown or it is not a tensor. */
  readonly shape: Dim[] | null;
  /** The whole type: f32[1,3,N,?], f32[*] (unknown rank), seq<f32[N]>, optional<i64[]>, map<string,f32[]>. */
  readonly type: string;
}

export interface OpCount {
  /** The op type, prefixed `domain::` outside the default ONNX domain. */
  readonly op: string;
  readonly count: number;
}

export interface ModelSummary {
  readonly file: string;
  readonly irVersion: number;
  /** Opset imports as the model states them ('' is the default ONNX domain). */
  readonly opsets: { readonly domain: string; readonly version: number }[];
  readonly producer: { readonly name: string; readonly version: string };
  readonly graphName: string;
  /** Graph inputs a caller feeds: those not backed by an initializer. */
  readonly inputs: ValueSummary[];
  readonly outputs: ValueSummary[];
  /** Graph inputs that name an initializer (IR < 4 lists every weight as an input). */
  readonly initializerInputs: number;
  /** Nodes of the main graph. */
  readonly nodes: number;
  /** Nodes inside subgraphs (If/Loop/Scan bodies, at any depth). */
  readonly subgraphNodes: number;
  /** Model-local functions (FunctionProto) the graph may call. */
  readonly functions: number;
  /** Op histogram over the main graph and its subgraphs, most frequent first. */
  readonly ops: OpCount[];
  /** Initializers (dense and sparse, in all graphs): how many, their elements and bytes. */
  readonly parameters: { readonly tensors: number; readonly elements: number; readonly bytes: number };
  /** Constant nodes' values (in all graphs), counted apart from the initializers. */
  readonly constants: { readonly nodes: number; readonly elements: number; readonly bytes: number };
  /** Op types aic cannot import (same naming as `ops`), including those inside local functions. */
  readonly unsupported: string[];
}

/** The domain an op name carries: the default ONNX domain is '' whichever way the model spells it. */
export const normalizeDomain = (domain: string): string => (domain === 'ai.onnx' ? '' : domain);

/** An op's display name: `Conv`, `com.microsoft::FusedConv`. */
export function qualifiedOpName(domain: string, opType: string): string {
  const d = normalizeDomain(domain);
  return d === '' ? opType : `${d}::${opType}`;
}

export function summarizeModel(model: ModelProto, path: string): ModelSummary {
  const g = model.graph;
  const modelOpsets = opsetMap(model.opsetImport);
  const initializerNames = new Set(g.initializer.map((t) => t.name));

  const histogram = new Map<string, number>();
  const unsupported = new Set<string>();
  const parameters = { tensors: 0, elements: 0, bytes: 0 };
  const constants = { nodes: 0, elements: 0, bytes: 0 };
  const localFunctions = new Set(model.functions.map((f) => functionKey(f.domain, f.name)));
  const supportCache = new Map<string, boolean>();

  const checkSupport = (n: NodeProto, opsets: ReadonlyMap<string, number>): void => {
    const domain = normalizeDomain(n.domain);
    if (localFunctions.has(functionKey(domain, n.opType))) return; // its body is checked below
    const opset = opsets.get(domain) ?? 0;
    const key = `${domain}\0${n.opType}\0${opset}`;
    let ok = supportCache.get(key);
    if (ok === undefined) supportCache.set(key, (ok = isOnnxOpSupported(domain, n.opType, opset)));
    if (!ok) unsupported.add(qualifiedOpName(domain, n.opType));
  };

  let nodes = 0;
  let subgraphNodes = 0;
  // Explicit stack: subgraphs nest to any depth and the walk must not recurse on the JS stack.
  const graphs: { graph: GraphProto; nested: boolean }[] = [{ graph: g, nested: false }];
  for (let item = graphs.pop(); item !== undefined; item = graphs.pop()) {
    const { graph, nested } = item;
    for (const t of graph.initializer) addTensor(parameters, t);
    for (const s of graph.sparseInitializer) addSparse(parameters, s);
    if (nested) subgraphNodes += graph.node.length;
    else nodes += graph.node.length;
    for (const n of graph.node) {
      const op = qualifiedOpName(n.domain, n.opType);
      histogram.set(op, (histogram.get(op) ?? 0) + 1);
      checkSupport(n, modelOpsets);
      if (op === 'Constant') addConstant(constants, n);
      for (const a of n.attribute) {
        if (a.g !== null) graphs.push({ graph: a.g, nested: true });
        for (const sub of a.graphs) graphs.push({ graph: sub, nested: true });
      }
    }
  }
  for (const f of model.functions) {
    const opsets = new Map([...modelOpsets, ...opsetMap(f.opsetImport)]);
    for (const n of f.node) checkSupport(n, opsets);
  }

  const ops = [...histogram].map(([op, count]) => ({ op, count }));
  ops.sort((a, b) => b.count - a.count || (a.op < b.op ? -1 : a.op > b.op ? 1 : 0));

  return {
    file: path,
    irVersion: toCount(model.irVersion),
    opsets: model.opsetImport.map((o) => ({ domain: o.domain, version: toCount(o.version) })),
    producer: { name: model.producerName, version: model.producerVersion },
    graphName: g.name,
    inputs: g.input.filter((v) => !initializerNames.has(v.name)).map(summarizeValue),
    outputs: g.output.map(summarizeValue),
    initializerInputs: g.input.filter((v) => initializerNames.has(v.name)).length,
    nodes,
    subgraphNodes,
    functions: model.functions.length,
    ops,
    parameters,
    constants,
    unsupported: [...unsupported].sort(),
  };
}

function opsetMap(imports: readonly OperatorSetIdProto[]): Map<string, number> {
  return new Map(imports.map((o) => [normalizeDomain(o.domain), toCount(o.version)]));
}

const functionKey = (domain: string, name: string): string => `${normalizeDomain(domain)}\0${name}`;

function summarizeValue(v: ValueInfoProto): ValueSummary {
  const t = v.type;
  if (t?.tensorType) {
    const dtype = onnxTypeName(t.tensorType.elemType);
    const shape = t.tensorType.shape === null ? null : t.tensorType.shape.dim.map(dimOf);
    return { name: v.name, dtype, shape, type: renderType(t, true) };
  }
  return { name: v.name, dtype: renderType(t, false), shape: null, type: renderType(t, true) };
}

function dimOf(d: TensorShapeDimension): Dim {
  if (d.value === 'dimValue') return toCount(d.dimValue);
  if (d.value === 'dimParam' && d.dimParam !== '') return d.dimParam;
  return '?';
}

/** A type as text, with or without the tensor shapes; '?' where the model gives no type. */
function renderType(t: TypeProto | null, withShape: boolean): string {
  if (t === null) return '?';
  const inner = (u: TypeProto | null): string => renderType(u, withShape);
  const tensor = (tt: TypeProtoTensor): string => {
    const dtype = onnxTypeName(tt.elemType);
    if (!withShape) return dtype;
    return tt.shape === null ? `${dtype}[*]` : `${dtype}[${tt.shape.dim.map(dimOf).join(',')}]`;
  };
  if (t.tensorType) return tensor(t.tensorType);
  if (t.sparseTensorType) return `sparse<${tensor(t.sparseTensorType)}>`;
  if (t.sequenceType) return `seq<${inner(t.sequenceType.elemType)}>`;
  if (t.optionalType) return `optional<${inner(t.optionalType.elemType)}>`;
  if (t.mapType) return `map<${onnxTypeName(t.mapType.keyType)},${inner(t.mapType.valueType)}>`;
  return '?';
}

/** A size or version as a number; a value beyond 2^53 (only in a broken model) saturates. */
function toCount(v: Int64): number {
  if (typeof v === 'number') return v;
  const hi = v.unsigned ? v.high >>> 0 : v.high | 0;
  return hi * 4294967296 + (v.low >>> 0);
}

/** Bytes per element of each ONNX element type; sub-byte types pack 2 or 4 to a byte. Strings vary. */
const ELEMENT_BYTES = new Map<number, number>([
  ...DTYPES.map((d): [number, number] => [DTYPE_INFO[d].onnx, DTYPE_INFO[d].bytes]),
  [14, 8], [15, 16], // complex64, complex128
  [17, 1], [18, 1], [19, 1], [20, 1], [24, 1], // float8 variants
  [21, 0.5], [22, 0.5], [23, 0.5], // uint4, int4, float4e2m1
  [25, 0.25], [26, 0.25], // uint2, int2
]);
const STRING = 8;

interface Tally { elements: number; bytes: number }

function tensorSize(t: TensorProto): Tally {
  let elements = 1;
  for (const d of t.dims) elements *= Math.max(0, toCount(d));
  const bytes = t.dataType === STRING
    ? t.stringData.reduce((sum, s) => sum + s.length, 0)
    : Math.ceil(elements * (ELEMENT_BYTES.get(t.dataType) ?? 0));
  return { elements, bytes };
}

function addTensor(into: Tally & { tensors: number }, t: TensorProto): void {
  const s = tensorSize(t);
  into.tensors += 1;
  into.elements += s.elements;
  into.bytes += s.bytes;
}

/** A sparse tensor costs its stored values and their indices; its elements are the stored values. */
function addSparse(into: Tally & { tensors: number }, s: SparseTensorProto): void {
  into.tensors += 1;
  if (s.values !== null) {
    const v = tensorSize(s.values);
    into.elements += v.elements;
    into.bytes += v.bytes;
  }
  if (s.indices !== null) into.bytes += tensorSize(s.indices).bytes;
}

/** A Constant node holds exactly one value attribute; count what it holds. */
function addConstant(into: Tally & { nodes: number }, n: NodeProto): void {
  into.nodes += 1;
  for (const a of n.attribute) {
    switch (a.name) {
      case 'value':
        if (a.t !== null) add(into, tensorSize(a.t));
        break;
      case 'sparse_value':
        if (a.sparseTensor !== null) {
          const t = { tensors: 0, elements: 0, bytes: 0 };
          addSparse(t, a.sparseTensor);
          add(into, t);
        }
        break;
      case 'value_float':
        add(into, { elements: 1, bytes: 4 });
        break;
      case 'value_int':
        add(into, { elements: 1, bytes: 8 });
        break;
      case 'value_floats':
        add(into, { elements: a.floats.length, bytes: 4 * a.floats.length });
        break;
      case 'value_ints':
        add(into, { elements: a.ints.length, bytes: 8 * a.ints.length });
        break;
      case 'value_string':
        add(into, { elements: 1, bytes: a.s.length });
        break;
      case 'value_strings':
        add(into, { elements: a.strings.length, bytes: a.strings.reduce((sum, s) => sum + s.length, 0) });
        break;
    }
  }
}

function add(into: Tally, t: Tally): void {
  into.elements += t.elements;
  into.bytes += t.bytes;
}
