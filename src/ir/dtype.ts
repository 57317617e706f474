// Element types. The IR spells them the short way (f32, i64, bool); ONNX numbers them (TensorProto.DataType).
import { fail } from './error.js';

/** The dtypes every prim computes with and every backend renders. */
export const CORE_DTYPES = [
  'f32', 'f16', 'bf16', 'f64',
  'i8', 'i16', 'i32', 'i64',
  'u8', 'u16', 'u32', 'u64',
  'bool',
] as const;

/** Narrow storage formats (ONNX 17-26): float8 variants, float4e2m1, float8e8m0, and 4- and 2-bit
 * integers. The interpreter computes with them (each result rounded or wrapped to the format); the
 * formats themselves are in float8.ts, their packed byte layout in raw-bytes.ts. */
export const NARROW_DTYPES = [
  'f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz', 'f8e8m0', 'f4e2m1',
  'i4', 'u4', 'i2', 'u2',
] as const;

export const DTYPES = [...CORE_DTYPES, ...NARROW_DTYPES] as const;

export type DType = (typeof DTYPES)[number];
export type NarrowDType = (typeof NARROW_DTYPES)[number];

/** The typed array each dtype's elements live in. f16/bf16 and the float8/float4 formats are kept as
 * float32 values that are exactly representable in the narrow type (every operation rounds its result),
 * which keeps the interpreter's arithmetic plain; the bit patterns appear only at I/O. 4- and 2-bit
 * integers live one to a byte, wrapped to their width. int64/uint64 are exact BigInts. */
export type Storage =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface DTypeInfo {
  readonly name: DType;
  /** Width of one element in the format. Below 8 (int4, uint4, float4e2m1: 4; int2, uint2: 2), ONNX
   * raw data packs several elements to a byte (raw-bytes.ts). */
  readonly bits: number;
  /** Bytes per element in memory and on disk, unpacked: ceil(bits / 8). */
  readonly bytes: number;
  readonly kind: 'float' | 'int' | 'uint' | 'bool';
  /** Elements are BigInts (i64/u64). */
  readonly big: boolean;
  readonly onnx: number;
  readonly numpy: string;
  readonly array: new (n: number) => Storage;
}

const info = (
  name: DType, bits: number, kind: DTypeInfo['kind'], onnx: number, numpy: string,
  array: new (n: number) => Storage,
): DTypeInfo => ({ name, bits, bytes: Math.ceil(bits / 8), kind, big: name === 'i64' || name === 'u64', onnx, numpy, array });

// numpy has no descr for the narrow formats; ml_dtypes saves them as one-byte voids, like bfloat16's '<V2'.
export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  f32: info('f32', 32, 'float', 1, '<f4', Float32Array),
  f16: info('f16', 16, 'float', 10, '<f2', Float32Array),
  bf16: info('bf16', 16, 'float', 16, '<V2', Float32Array),
  f64: info('f64', 64, 'float', 11, '<f8', Float64Array),
  i8: info('i8', 8, 'int', 3, '|i1', Int8Array),
  i16: info('i16', 16, 'int', 5, '<i2', Int16Array),
  i32: info('i32', 32, 'int', 6, '<i4', Int32Array),
  i64: info('i64', 64, 'int', 7, '<i8', BigInt64Array),
  u8: info('u8', 8, 'uint', 2, '|u1', Uint8Array),
  u16: info('u16', 16, 'uint', 4, '<u2', Uint16Array),
  u32: info('u32', 32, 'uint', 12, '<u4', Uint32Array),
  u64: info('u64', 64, 'uint', 13, '<u8', BigUint64Array),
  bool: info('bool', 8, 'bool', 9, '|b1', Uint8Array),
  f8e4m3fn: info('f8e4m3fn', 8, 'float', 17, '|V1', Float32Array),
  f8e4m3fnuz: info('f8e4m3fnuz', 8, 'float', 18, '|V1', Float32Array),
  f8e5m2: info('f8e5m2', 8, 'float', 19, '|V1', Float32Array),
  f8e5m2fnuz: info('f8e5m2fnuz', 8, 'float', 20, '|V1', Float32Array),
  f8e8m0: info('f8e8m0', 8, 'float', 24, '|V1', Float32Array),
  f4e2m1: info('f4e2m1', 4, 'float', 23, '|V1', Float32Array),
  u4: info('u4', 4, 'uint', 21, '|V1', Uint8Array),
  i4: info('i4', 4, 'int', 22, '|V1', Int8Array),
  u2: info('u2', 2, 'uint', 25, '|V1', Uint8Array),
  i2: info('i2', 2, 'int', 26, '|V1', Int8Array),
};

export const isDType = (s: string): s is DType => (DTYPES as readonly string[]).includes(s);
export const isFloat = (t: DType): boolean => DTYPE_INFO[t].kind === 'float';
export const isInteger = (t: DType): boolean => DTYPE_INFO[t].kind === 'int' || DTYPE_INFO[t].kind === 'uint';
export const isSigned = (t: DType): boolean => DTYPE_INFO[t].kind === 'int' || DTYPE_INFO[t].kind === 'float';
export const isBig = (t: DType): boolean => DTYPE_INFO[t].big;
export const isNarrow = (t: DType): t is NarrowDType => (NARROW_DTYPES as readonly string[]).includes(t);

/** ONNX element types aic names but does not compute with yet. */
const ONNX_UNSUPPORTED: Record<number, string> = {
  0: 'undefined', 8: 'string', 14: 'complex64', 15: 'complex128',
};

const BY_ONNX = new Map<number, DType>(DTYPES.map((d) => [DTYPE_INFO[d].onnx, d]));

/** Name of an ONNX element type, supported or not (for messages and `aic inspect`). */
export function onnxTypeName(code: number): string {
  const d = BY_ONNX.get(code);
  return d ?? ONNX_UNSUPPORTED[code] ?? `unknown(${code})`;
}

/** The aic dtype of an ONNX element type, or a clear E_UNSUPPORTED error naming it. */
export function dtypeFromOnnx(code: number, where = ''): DType {
  const d = BY_ONNX.get(code);
  if (d !== undefined) return d;
  const name = ONNX_UNSUPPORTED[code] ?? `unknown element type ${code}`;
  return fail('E_UNSUPPORTED', `element type ${name} is not supported yet${where ? ` (${where})` : ''}`);
}

export const dtypeToOnnx = (t: DType): number => DTYPE_INFO[t].onnx;
