// ONNX TensorProto (and the SequenceProto / OptionalProto wrappers the backend test data uses), read and
// written with protobufjs's wire-level Reader/Writer rather than generated classes: the few fields are
// spelled out here, 64-bit integers stay exact BigInts, and every storage form ONNX allows is accepted.
import protobuf from 'protobufjs/minimal.js';
import type { Reader } from 'protobufjs/minimal.js';
import { DTYPE_INFO, dtypeFromOnnx, type DType, type Storage } from '../ir/dtype.js';
import { AicError, fail, isAicError } from '../ir/error.js';
import { bf16BitsToF32, bitCodec, f16BitsToF32 } from '../ir/numeric.js';
import { fromRawBytes, rawByteLength, toRawBytes } from '../ir/raw-bytes.js';
import { MAX_ELEMENTS, formatShape } from '../ir/shape.js';
import { Tensor } from '../ir/tensor.js';

/** TensorProto fields by number (onnx/onnx.proto). */
const F = {
  dims: 1, dataType: 2, segment: 3, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8,
  rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14,
} as const;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** A TensorProto as it is on the wire, before its data becomes a Tensor. The model loader can fill
 * `rawData` from an external file and then call `tensorFromFields`. */
export interface TensorProtoFields {
  name: string;
  dims: number[];
  /** ONNX element type code (TensorProto.DataType). */
  dataType: number;
  /** Present when the raw_data field was (even empty). */
  rawData: Uint8Array | undefined;
  floatData: number[];
  int32Data: number[];
  /** int64_data, as signed 64-bit values. */
  int64Data: bigint[];
  doubleData: number[];
  /** uint64_data, as unsigned 64-bit values. */
  uint64Data: bigint[];
  stringCount: number;
  externalData: { key: string; value: string }[];
  /** 0 = DEFAULT, 1 = EXTERNAL. */
  dataLocation: number;
  segmented: boolean;
}

export interface DecodedTensorProto {
  name: string;
  dims: number[];
  dataType: number;
  tensor: Tensor;
}

/** Read a TensorProto .pb file. Errors are AicErrors naming `where`: E_PROTO for bad bytes, E_MODEL for
 * data that does not match the dims, E_UNSUPPORTED for element types aic lacks, E_LIMIT for huge dims. */
export function readTensorProto(bytes: Uint8Array, where = 'TensorProto'): { name: string; tensor: Tensor } {
  const { name, tensor } = decodeTensorProto(bytes, undefined, where);
  return { name, tensor };
}

/** Decode one TensorProto: a whole buffer, or `length` bytes of a Reader positioned at an embedded one
 * (as the model importer meets initializers). */
export function decodeTensorProto(src: Uint8Array | Reader, length?: number, where = 'TensorProto'): DecodedTensorProto {
  return guard(where, () => {
    const f = decodeTensorProtoFields(src, length);
    return { name: f.name, dims: f.dims, dataType: f.dataType, tensor: tensorFromFields(f) };
  });
}

/** The wire-level fields of one TensorProto (no checks beyond the wire format; E_PROTO on bad bytes). */
export function decodeTensorProtoFields(src: Uint8Array | Reader, length?: number): TensorProtoFields {
  try {
    return decodeFields(src instanceof Uint8Array ? new protobuf.Reader(src) : src, length);
  } catch (e) {
    if (isAicError(e)) throw e;
    throw new AicError('E_PROTO', `not a valid TensorProto (${e instanceof Error ? e.message : String(e)})`);
  }
}

function decodeFields(r: Reader, length: number | undefined): TensorProtoFields {
  const end = messageEnd(r, length);
  const f: TensorProtoFields = {
    name: '', dims: [], dataType: 0, rawData: undefined, floatData: [], int32Data: [], int64Data: [],
    doubleData: [], uint64Data: [], stringCount: 0, externalData: [], dataLocation: 0, segmented: false,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case F.dims:
        repeated(r, wire, WIRE_VARINT, () => f.dims.push(dimOf(varint64(r))));
        break;
      case F.dataType:
        expectWire(wire, WIRE_VARINT, 'data_type');
        f.dataType = r.int32();
        break;
      case F.floatData:
        repeated(r, wire, WIRE_FIXED32, () => f.floatData.push(r.float()));
        break;
      case F.int32Data:
        repeated(r, wire, WIRE_VARINT, () => f.int32Data.push(r.int32()));
        break;
      case F.int64Data:
        repeated(r, wire, WIRE_VARINT, () => f.int64Data.push(BigInt.asIntN(64, varint64(r))));
        break;
      case F.doubleData:
        repeated(r, wire, WIRE_FIXED64, () => f.doubleData.push(r.double()));
        break;
      case F.uint64Data:
        repeated(r, wire, WIRE_VARINT, () => f.uint64Data.push(varint64(r)));
        break;
      case F.stringData:
        expectWire(wire, WIRE_LEN, 'string_data');
        r.skip(r.uint32());
        f.stringCount++;
        break;
      case F.name:
        expectWire(wire, WIRE_LEN, 'name');
        f.name = r.string();
        break;
      case F.rawData:
        expectWire(wire, WIRE_LEN, 'raw_data');
        f.rawData = r.bytes();
        break;
      case F.externalData:
        expectWire(wire, WIRE_LEN, 'external_data');
        f.externalData.push(decodeStringEntry(r, r.uint32()));
        break;
      case F.dataLocation:
        expectWire(wire, WIRE_VARINT, 'data_location');
        f.dataLocation = r.int32();
        break;
      case F.segment:
        f.segmented = true;
        r.skipType(wire);
        break;
      default:
        r.skipType(wire); // doc_string, metadata_props, fields from newer ONNX versions
    }
  }
  if (r.pos !== end) fail('E_PROTO', 'a TensorProto field runs past the end of its message');
  return f;
}

/** Build the Tensor a TensorProto describes, checking its data against its dims. */
export function tensorFromFields(f: TensorProtoFields): Tensor {
  const what = f.name !== '' ? `tensor '${f.name}'` : 'tensor';
  if (f.dataLocation === 1 || f.externalData.length > 0) {
    fail('E_UNSUPPORTED', `${what} keeps its data in an external file`,
      'external data is resolved by the model loader, which reads the file next to the model');
  }
  if (f.segmented) fail('E_UNSUPPORTED', `${what} is segmented (TensorProto.segment), which aic does not read`);
  const dtype = dtypeFromOnnx(f.dataType, what);
  let n = 1;
  for (const d of f.dims) n *= d;
  if (n > MAX_ELEMENTS) {
    fail('E_LIMIT', `${what}: dims ${formatShape(f.dims)} have ${n} elements, more than aic allocates (${MAX_ELEMENTS})`);
  }
  const typedField = TYPED_FIELD[dtype];
  const present = (Object.keys(FIELD_LENGTH) as TypedField[]).filter((k) => FIELD_LENGTH[k](f) > 0);
  const stray = present.filter((k) => k !== typedField || f.rawData !== undefined);
  if (stray.length > 0) {
    const holds = f.rawData !== undefined ? `raw_data and ${stray.join(', ')}` : stray.join(', ');
    fail('E_MODEL', `${what} of type ${dtype} has data in ${holds}; it belongs in ${f.rawData !== undefined ? 'raw_data only' : typedField}`);
  }
  // Sub-byte types pack in int32_data as in raw_data: each int32 holds one byte of the packed layout.
  const packed = DTYPE_INFO[dtype].bits < 8;
  const have = f.rawData !== undefined ? f.rawData.length : FIELD_LENGTH[typedField](f);
  const need = f.rawData !== undefined || packed ? rawByteLength(dtype, n) : n;
  if (have !== need) {
    const unit = f.rawData !== undefined ? 'bytes' : 'elements';
    const source = f.rawData !== undefined ? 'raw_data' : typedField;
    fail('E_MODEL', `${what} is ${have < need ? 'shorter' : 'longer'} than its dims: ${dtype}${formatShape(f.dims)} needs ${need} ${unit}, ${source} holds ${have}`);
  }
  const data = f.rawData !== undefined ? fromRawBytes(dtype, f.rawData, n) : fromTypedField(dtype, f, n);
  return new Tensor(dtype, f.dims, data);
}

type TypedField = 'float_data' | 'int32_data' | 'int64_data' | 'double_data' | 'uint64_data' | 'string_data';

/** Where ONNX keeps each element type when raw_data is not used (onnx.proto comments). */
const TYPED_FIELD: Record<DType, TypedField> = {
  f32: 'float_data', f64: 'double_data', i64: 'int64_data', u32: 'uint64_data', u64: 'uint64_data',
  f16: 'int32_data', bf16: 'int32_data', i8: 'int32_data', i16: 'int32_data', i32: 'int32_data',
  u8: 'int32_data', u16: 'int32_data', bool: 'int32_data',
  f8e4m3fn: 'int32_data', f8e4m3fnuz: 'int32_data', f8e5m2: 'int32_data', f8e5m2fnuz: 'int32_data',
  f8e8m0: 'int32_data', f4e2m1: 'int32_data', i4: 'int32_data', u4: 'int32_data', i2: 'int32_data', u2: 'int32_data',
};

const FIELD_LENGTH: Record<TypedField, (f: TensorProtoFields) => number> = {
  float_data: (f) => f.floatData.length,
  int32_data: (f) => f.int32Data.length,
  int64_data: (f) => f.int64Data.length,
  double_data: (f) => f.doubleData.length,
  uint64_data: (f) => f.uint64Data.length,
  string_data: (f) => f.stringCount,
};

function fromTypedField(dtype: DType, f: TensorProtoFields, n: number): Storage {
  const ints = f.int32Data;
  switch (dtype) {
    case 'f32': return Float32Array.from(f.floatData);
    case 'f64': return Float64Array.from(f.doubleData);
    case 'i64': return BigInt64Array.from(f.int64Data);
    case 'u64': return BigUint64Array.from(f.uint64Data);
    case 'u32': return Uint32Array.from(f.uint64Data, (v) => Number(BigInt.asUintN(32, v)));
    // float16/bfloat16 sit in int32_data as their 16-bit patterns.
    case 'f16': return Float32Array.from(ints, (v) => f16BitsToF32(v & 0xffff));
    case 'bf16': return Float32Array.from(ints, (v) => bf16BitsToF32(v & 0xffff));
    case 'bool': return Uint8Array.from(ints, (v) => (v !== 0 ? 1 : 0));
    // The typed arrays wrap out-of-range values modulo 2^bits, as a C cast would.
    case 'i8': return Int8Array.from(ints);
    case 'i16': return Int16Array.from(ints);
    case 'i32': return Int32Array.from(ints);
    case 'u8': return Uint8Array.from(ints);
    case 'u16': return Uint16Array.from(ints);
    // float8 formats: one 8-bit pattern per int32.
    case 'f8e4m3fn': case 'f8e4m3fnuz': case 'f8e5m2': case 'f8e5m2fnuz': case 'f8e8m0': {
      const codec = bitCodec(dtype)!;
      return Float32Array.from(ints, (v) => codec.decode(v & 0xff));
    }
    // 4- and 2-bit types: one byte of the packed layout per int32.
    case 'f4e2m1': case 'i4': case 'u4': case 'i2': case 'u2':
      return fromRawBytes(dtype, Uint8Array.from(ints, (v) => v & 0xff), n);
  }
}

/** Serialize a tensor as a TensorProto with raw_data, field for field as onnx.numpy_helper writes it. */
export function writeTensorProto(t: Tensor, name: string): Uint8Array {
  const w = new protobuf.Writer();
  for (const d of t.shape) w.uint32(tag(F.dims, WIRE_VARINT)).int64(d);
  w.uint32(tag(F.dataType, WIRE_VARINT)).int32(DTYPE_INFO[t.dtype].onnx);
  if (name !== '') w.uint32(tag(F.name, WIRE_LEN)).string(name);
  w.uint32(tag(F.rawData, WIRE_LEN)).bytes(toRawBytes(t.dtype, t.data));
  return w.finish();
}

// --- SequenceProto and OptionalProto (onnx/onnx-data.proto), tensor elements only ---

/** The elem_type enum shared by SequenceProto and OptionalProto. */
const ELEM_KIND = ['undefined', 'tensor', 'sparse tensor', 'sequence', 'map', 'optional'];

/** Read a SequenceProto .pb file whose elements are tensors. */
export function readSequenceProto(bytes: Uint8Array, where = 'SequenceProto'): { name: string; tensors: Tensor[] } {
  return guard(where, () => decodeSequence(new protobuf.Reader(bytes), undefined));
}

/** Read an OptionalProto .pb file: a tensor, a sequence of tensors, or null when it holds nothing. */
export function readOptionalProto(bytes: Uint8Array, where = 'OptionalProto'): { name: string; value: Tensor | Tensor[] | null } {
  return guard(where, () => {
    const r = new protobuf.Reader(bytes);
    let name = '';
    let value: Tensor | Tensor[] | null = null;
    while (r.pos < r.len) {
      const t = r.uint32();
      const field = t >>> 3;
      if (field === 1) name = r.string();
      else if (field === 2) checkElemType(r.int32(), 'optional', [0, 1, 3]);
      else if (field === 3) value = decodeTensorProto(r, lengthOf(r, t & 7), `optional '${name}'`).tensor;
      else if (field === 5) value = decodeSequence(r, lengthOf(r, t & 7)).tensors;
      else if (field >= 4 && field <= 7) fail('E_UNSUPPORTED', `optional '${name}' holds a ${ELEM_KIND[field - 2]}; aic reads tensors and sequences of tensors`);
      else r.skipType(t & 7);
    }
    return { name, value };
  });
}

function decodeSequence(r: Reader, length: number | undefined): { name: string; tensors: Tensor[] } {
  const end = messageEnd(r, length);
  let name = '';
  const tensors: Tensor[] = [];
  while (r.pos < end) {
    const t = r.uint32();
    const field = t >>> 3;
    if (field === 1) name = r.string();
    else if (field === 2) checkElemType(r.int32(), 'sequence', [0, 1]);
    else if (field === 3) tensors.push(decodeTensorProto(r, lengthOf(r, t & 7), `sequence '${name}' element ${tensors.length}`).tensor);
    else if (field >= 4 && field <= 7) fail('E_UNSUPPORTED', `sequence '${name}' holds ${ELEM_KIND[field - 2]} elements; aic reads sequences of tensors`);
    else r.skipType(t & 7);
  }
  if (r.pos !== end) fail('E_PROTO', 'a SequenceProto field runs past the end of its message');
  return { name, tensors };
}

function checkElemType(code: number, what: string, readable: number[]): void {
  if (readable.includes(code)) return;
  if (code >= 1 && code <= 5) fail('E_UNSUPPORTED', `${what} of ${ELEM_KIND[code]} elements is not supported; aic reads tensors`);
  fail('E_PROTO', `${what} has unknown elem_type ${code}`);
}

// --- wire helpers ---

const tag = (field: number, wire: number): number => (field << 3) | wire;

function messageEnd(r: Reader, length: number | undefined): number {
  const end = length === undefined ? r.len : r.pos + length;
  if (end > r.len) fail('E_PROTO', `truncated: a message of ${length} bytes at offset ${r.pos} runs past the end (${r.len} bytes)`);
  return end;
}

function lengthOf(r: Reader, wire: number): number {
  expectWire(wire, WIRE_LEN, 'an embedded message');
  return r.uint32();
}

function expectWire(wire: number, want: number, what: string): void {
  if (wire !== want) fail('E_PROTO', `${what} has wire type ${wire}, expected ${want}`);
}

/** A repeated scalar field, packed (one length-delimited run) or one element per tag. */
function repeated(r: Reader, wire: number, elemWire: number, readOne: () => void): void {
  if (wire === elemWire) {
    readOne();
    return;
  }
  expectWire(wire, WIRE_LEN, 'a repeated field');
  const len = r.uint32(); // read before r.pos, which it advances
  const stop = r.pos + len;
  if (stop > r.len) fail('E_PROTO', 'truncated: a packed field runs past the end of the data');
  while (r.pos < stop) readOne();
  if (r.pos !== stop) fail('E_PROTO', 'a packed field does not end on an element boundary');
}

/** A varint as an unsigned 64-bit BigInt (protobufjs would give a Long or a lossy number). */
function varint64(r: Reader): bigint {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.len) fail('E_PROTO', 'truncated varint');
    const b = r.buf[r.pos++]!;
    v |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) return BigInt.asUintN(64, v);
  }
  return fail('E_PROTO', 'varint longer than 10 bytes');
}

function dimOf(v: bigint): number {
  const d = BigInt.asIntN(64, v);
  if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) fail('E_MODEL', `invalid dim ${d}`);
  return Number(d);
}

function decodeStringEntry(r: Reader, length: number): { key: string; value: string } {
  const end = messageEnd(r, length);
  const e = { key: '', value: '' };
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) e.key = r.string();
    else if (t >>> 3 === 2) e.value = r.string();
    else r.skipType(t & 7);
  }
  return e;
}

/** Run a decoder, turning protobufjs's RangeErrors into E_PROTO and putting `where` in front of every message. */
function guard<T>(where: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (isAicError(e)) throw new AicError(e.code, `${where}: ${e.message}`, e.hint);
    throw new AicError('E_PROTO', `${where}: not a valid protobuf (${e instanceof Error ? e.message : String(e)})`);
  }
}
