// Types for ONNX protobuf messages as onnx-proto's decoder returns them. onnx-proto's own .d.ts
// names `Long` without importing it, so its 64-bit fields type-check as `any`; these interfaces
// say what a decoded message really holds: every repeated field is an array, every scalar has a
// value (the proto default when absent), every sub-message is an object or null.
// The schema is onnx.proto as of ONNX 1.10 (what onnx-proto 8 ships); newer fields such as
// NodeProto.overload or FunctionProto.value_info are skipped by the decoder.
import { fail } from '../../ir/error.js';

/** A 64-bit integer as protobufjs decodes it: a long.js `Long`, or a plain number without long.js. */
export type Int64 = number | LongBits;

export interface LongBits {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

/** An int64 as an exact BigInt. */
export function int64ToBigInt(v: Int64): bigint {
  if (typeof v === 'number') return BigInt(v);
  const high = v.unsigned ? v.high >>> 0 : v.high | 0;
  return BigInt(high) * 4294967296n + BigInt(v.low >>> 0);
}

/** An int64 as a number, or E_LIMIT naming `what` when it does not fit exactly (beyond 2^53). */
export function int64ToNumber(v: Int64, what: string): number {
  if (typeof v === 'number') return v;
  const b = int64ToBigInt(v);
  const n = Number(b);
  if (!Number.isSafeInteger(n)) fail('E_LIMIT', `${what}: ${b} does not fit in a double exactly`);
  return n;
}

/** The fields a message sets explicitly: the decoder assigns only those as own properties. */
export const hasField = <T extends object>(msg: T, field: keyof T & string): boolean => Object.hasOwn(msg, field);

export interface OperatorSetIdProto {
  readonly domain: string;
  readonly version: Int64;
}

export interface StringStringEntryProto {
  readonly key: string;
  readonly value: string;
}

/** TensorProto.DataLocation: where the bytes of a tensor live. */
export const DATA_LOCATION = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface TensorSegment {
  readonly begin: Int64;
  readonly end: Int64;
}

export interface TensorProto {
  readonly dims: readonly Int64[];
  /** TensorProto.DataType (see `onnxTypeName`). */
  readonly dataType: number;
  readonly segment: TensorSegment | null;
  readonly floatData: readonly number[];
  readonly int32Data: readonly number[];
  readonly stringData: readonly Uint8Array[];
  readonly int64Data: readonly Int64[];
  readonly name: string;
  readonly docString: string;
  readonly rawData: Uint8Array;
  readonly externalData: readonly StringStringEntryProto[];
  readonly dataLocation: number;
  readonly doubleData: readonly number[];
  readonly uint64Data: readonly Int64[];
}

export interface SparseTensorProto {
  readonly values: TensorProto | null;
  readonly indices: TensorProto | null;
  readonly dims: readonly Int64[];
}

export interface TensorShapeDimension {
  readonly dimValue: Int64;
  readonly dimParam: string;
  readonly denotation: string;
  /** Which of the oneof is set (protobufjs's virtual oneof getter); undefined for an unknown dim. */
  readonly value: 'dimValue' | 'dimParam' | undefined;
}

export interface TensorShapeProto {
  readonly dim: readonly TensorShapeDimension[];
}

export interface TypeProtoTensor {
  readonly elemType: number;
  /** null: the rank is unknown. */
  readonly shape: TensorShapeProto | null;
}

export interface TypeProtoSequence {
  readonly elemType: TypeProto | null;
}

export interface TypeProtoMap {
  readonly keyType: number;
  readonly valueType: TypeProto | null;
}

export interface TypeProtoOptional {
  readonly elemType: TypeProto | null;
}

export interface TypeProto {
  readonly tensorType: TypeProtoTensor | null;
  readonly sequenceType: TypeProtoSequence | null;
  readonly mapType: TypeProtoMap | null;
  readonly optionalType: TypeProtoOptional | null;
  readonly sparseTensorType: TypeProtoTensor | null;
  readonly denotation: string;
  /** Which of the oneof is set. */
  readonly value: 'tensorType' | 'sequenceType' | 'mapType' | 'optionalType' | 'sparseTensorType' | undefined;
}

export interface ValueInfoProto {
  readonly name: string;
  readonly type: TypeProto | null;
  readonly docString: string;
}

/** AttributeProto.AttributeType. */
export const ATTRIBUTE_TYPE = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
  TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14,
} as const;

export interface AttributeProto {
  readonly name: string;
  readonly refAttrName: string;
  readonly docString: string;
  /** AttributeProto.AttributeType (see ATTRIBUTE_TYPE). */
  readonly type: number;
  readonly f: number;
  readonly i: Int64;
  readonly s: Uint8Array;
  readonly t: TensorProto | null;
  readonly g: GraphProto | null;
  readonly sparseTensor: SparseTensorProto | null;
  readonly tp: TypeProto | null;
  readonly floats: readonly number[];
  readonly ints: readonly Int64[];
  readonly strings: readonly Uint8Array[];
  readonly tensors: readonly TensorProto[];
  readonly graphs: readonly GraphProto[];
  readonly sparseTensors: readonly SparseTensorProto[];
  readonly typeProtos: readonly TypeProto[];
}

export interface NodeProto {
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly attribute: readonly AttributeProto[];
  readonly docString: string;
}

export interface TensorAnnotation {
  readonly tensorName: string;
  readonly quantParameterTensorNames: readonly StringStringEntryProto[];
}

export interface GraphProto {
  readonly node: readonly NodeProto[];
  readonly name: string;
  readonly initializer: readonly TensorProto[];
  readonly sparseInitializer: readonly SparseTensorProto[];
  readonly docString: string;
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
  readonly valueInfo: readonly ValueInfoProto[];
  readonly quantizationAnnotation: readonly TensorAnnotation[];
}

export interface TrainingInfoProto {
  readonly initialization: GraphProto | null;
  readonly algorithm: GraphProto | null;
  readonly initializationBinding: readonly StringStringEntryProto[];
  readonly updateBinding: readonly StringStringEntryProto[];
}

export interface FunctionProto {
  readonly name: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly string[];
  readonly node: readonly NodeProto[];
  readonly docString: string;
  readonly opsetImport: readonly OperatorSetIdProto[];
  readonly domain: string;
}

/** A decoded model. `decodeModelProto` guarantees `graph` is set and `irVersion` was present. */
export interface ModelProto {
  readonly irVersion: Int64;
  readonly opsetImport: readonly OperatorSetIdProto[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: Int64;
  readonly docString: string;
  readonly graph: GraphProto;
  readonly metadataProps: readonly StringStringEntryProto[];
  readonly trainingInfo: readonly TrainingInfoProto[];
  readonly functions: readonly FunctionProto[];
}
