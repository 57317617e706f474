// Writing ONNX models: a small builder over onnx-proto's encoder, so that tests, fuzzers and benchmarks make
// their models in TypeScript (random single-op models for differential testing, benchmark networks).
//
//   const m = new OnnxModelBuilder({ opset: 17 });
//   const x = m.input('x', 'f32', [1, 16]);
//   const w = m.initializer('w', Tensor.from('f32', [16, 4], values));
//   m.output(m.node('Relu', [m.node('MatMul', [x, w])]), 'f32', [1, 4]);
//   const bytes = m.toBytes();
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import type { Attr } from '../../ir/attr.js';
import { dtypeToOnnx, type DType } from '../../ir/dtype.js';
import type { Dim } from '../../ir/shape.js';
import type { Tensor } from '../../ir/tensor.js';
import { toBytes } from '../../ir/prims/select.js';
import { ATTRIBUTE_TYPE } from './proto.js';

const { onnx } = onnxProto;

type AttrValue = Attr;

export interface OnnxModelOptions {
  opset?: number;
  irVersion?: number;
  /** Extra opset imports, e.g. { 'ai.onnx.ml': 3 }. */
  domains?: Readonly<Record<string, number>>;
  graphName?: string;
}

export class OnnxModelBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private counter = 0;

  constructor(private readonly opts: OnnxModelOptions = {}) {}

  input(name: string, dtype: DType, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  initializer(name: string, t: Tensor): string {
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** Add a node; returns its output names (fresh unless given). */
  nodeOutputs(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, outputs = 1, domain = ''): string[] {
    const names = Array.from({ length: outputs }, () => `${op.toLowerCase()}_${this.counter++}`);
    this.nodes.push({
      opType: op, domain, name: `${op}_${this.counter++}`, input: [...inputs], output: names,
      attribute: Object.entries(attrs).map(([k, a]) => attribute(k, a)),
    });
    return names;
  }

  /** Add a single-output node; returns its output name. */
  node(op: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, domain = ''): string {
    return this.nodeOutputs(op, inputs, attrs, 1, domain)[0]!;
  }

  output(name: string, dtype: DType, shape?: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, dtype, shape));
  }

  toBytes(): Uint8Array {
    const opsetImport = [{ domain: '', version: this.opts.opset ?? 17 },
      ...Object.entries(this.opts.domains ?? {}).map(([domain, version]) => ({ domain, version }))];
    const model: OnnxTypes.IModelProto = {
      irVersion: this.opts.irVersion ?? 8,
      producerName: 'aic',
      opsetImport,
      graph: {
        name: this.opts.graphName ?? 'main',
        node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dtype: DType, shape?: readonly Dim[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dtypeToOnnx(dtype),
        ...(shape ? { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  };
}

/** A tensor as TensorProto with raw little-endian data (16-bit floats as their bit patterns). */
export function tensorProto(name: string, t: Tensor): OnnxTypes.ITensorProto {
  return { name, dims: [...t.shape], dataType: dtypeToOnnx(t.dtype), rawData: toBytes(t) };
}

function attribute(name: string, a: AttrValue): OnnxTypes.IAttributeProto {
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  switch (a.kind) {
    case 'int': return { name, type: ATTRIBUTE_TYPE.INT, i: a.value };
    case 'float': return { name, type: ATTRIBUTE_TYPE.FLOAT, f: a.value };
    case 'string': return { name, type: ATTRIBUTE_TYPE.STRING, s: utf8(a.value) };
    case 'ints': return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...a.value] };
    case 'floats': return { name, type: ATTRIBUTE_TYPE.FLOATS, floats: [...a.value] };
    case 'strings': return { name, type: ATTRIBUTE_TYPE.STRINGS, strings: a.value.map(utf8) };
    case 'dtype': return { name, type: ATTRIBUTE_TYPE.INT, i: dtypeToOnnx(a.value) };
    case 'tensor': return { name, type: ATTRIBUTE_TYPE.TENSOR, t: tensorProto('', a.value) };
    default: throw new Error(`attribute ${name}: graph attributes are not written by this builder`);
  }
}
