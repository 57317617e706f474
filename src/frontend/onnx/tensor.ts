// TensorProto messages (initializers, Constant values, tensor attributes) to Tensors, with external
// data resolved through a reader the caller supplies (the compiler core does no file I/O itself).
import { fail } from '../../ir/error.js';
import { Tensor } from '../../ir/tensor.js';
import { tensorFromFields, type TensorProtoFields } from '../../runtime/tensor-proto.js';
import { DATA_LOCATION, int64ToBigInt, int64ToNumber, type SparseTensorProto, type TensorProto } from './proto.js';
import { stridesOf } from '../../ir/shape.js';

/** Reads `length` bytes at `offset` of an external data file named relative to the model's folder. */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

export function tensorFromProto(t: TensorProto, readExternal?: ExternalDataReader): Tensor {
  const what = t.name ? `tensor '${t.name}'` : 'tensor';
  let rawData: Uint8Array | undefined = t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === DATA_LOCATION.EXTERNAL) {
    const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = kv.get('location') ?? fail('E_MODEL', `${what}: external data without a location`);
    if (!readExternal) fail('E_UNSUPPORTED', `${what}: external data ('${location}') needs the model's folder`);
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : undefined;
    if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
      fail('E_MODEL', `${what}: bad external data offset/length`);
    }
    rawData = readExternal(location, offset, length);
  }
  const fields: TensorProtoFields = {
    name: t.name,
    dims: t.dims.map((d) => int64ToNumber(d, `${what} dims`)),
    dataType: t.dataType,
    rawData,
    floatData: [...t.floatData],
    int32Data: [...t.int32Data],
    int64Data: t.int64Data.map(int64ToBigInt),
    doubleData: [...t.doubleData],
    uint64Data: t.uint64Data.map((v) => BigInt.asUintN(64, int64ToBigInt(v))),
    stringCount: t.stringData.length,
    externalData: [],
    dataLocation: 0,
    segmented: t.segment !== null,
  };
  return tensorFromFields(fields);
}

/** A sparse tensor (COO: values plus flat or per-dim indices) as a dense one. */
export function tensorFromSparse(s: SparseTensorProto, readExternal?: ExternalDataReader): Tensor {
  if (!s.values || !s.indices) fail('E_MODEL', 'sparse tensor without values or indices');
  const values = tensorFromProto(s.values, readExternal);
  const indices = tensorFromProto(s.indices, readExternal);
  const dims = s.dims.map((d) => int64ToNumber(d, 'sparse tensor dims'));
  const dense = Tensor.zeros(values.dtype, dims);
  const strides = stridesOf(dims);
  const nnz = values.size;
  const perDim = indices.rank === 2;
  for (let k = 0; k < nnz; k++) {
    let flat = 0;
    if (perDim) for (let j = 0; j < dims.length; j++) flat += indices.num(k * dims.length + j) * strides[j]!;
    else flat = indices.num(k);
    if (flat < 0 || flat >= dense.size) fail('E_MODEL', `sparse tensor index ${flat} out of range`);
    dense.data[flat] = values.data[k]!;
  }
  return dense;
}
