// Element types. The IR spells them the short way (f32, i64, bool); ONNX numbers them (TensorProto.DataType).
import { fail } from './error.js';

export const DTYPES = [
  'f32', 'f16', 'bf16', 'f64',
  'i8', 'i16', 'i32', 'i64',
  'u8', 'u16', 'u32', 'u64',
  'bool',
] as const;

export type DType = (typeof DTYPES)[number];

/** The typed array each dtype's elements live in. f16/bf16 are kept as float32 values that are exactly
 * representable in the narrow type (every operation rounds its result), which keeps the interpreter's
 * arithmetic plain; the 16-bit patterns appear only at I/O. int64/uint64 are exact BigInts. */
export type Storage =
  | Float32Array | Float64Array
  | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface DTypeInfo {
  readonly name: DType;
  /** Bytes per element in memory and on disk. */
  readonly bytes: number;
  readonly kind: 'float' | 'int' | 'uint' | 'bool';
  /** Elements are BigInts (i64/u64). */
  readonly big: boolean;
  readonly onnx: number;
  readonly numpy: string;
  readonly array: new (n: number) => Storage;
}

const info = (
  name: DType, bytes: number, kind: DTypeInfo['kind'], onnx: number, numpy: string,
  array: new (n: number) => Storage,
): DTypeInfo => ({ name, bytes, kind, big: name === 'i64' || name === 'u64', onnx, numpy, array });

export const DTYPE_INFO: Readonly<Record<DType, DTypeInfo>> = {
  f32: info('f32', 4, 'float', 1, '<f4', Float32Array),
  f16: info('f16', 2, 'float', 10, '<f2', Float32Array),
  bf16: info('bf16', 2, 'float', 16, '<V2', Float32Array),
  f64: info('f64', 8, 'float', 11, '<f8', Float64Array),
  i8: info('i8', 1, 'int', 3, '|i1', Int8Array),
  i16: info('i16', 2, 'int', 5, '<i2', Int16Array),
  i32: info('i32', 4, 'int', 6, '<i4', Int32Array),
  i64: info('i64', 8, 'int', 7, '<i8', BigInt64Array),
  u8: info('u8', 1, 'uint', 2, '|u1', Uint8Array),
  u16: info('u16', 2, 'uint', 4, '<u2', Uint16Array),
  u32: info('u32', 4, 'uint', 12, '<u4', Uint32Array),
  u64: info('u64', 8, 'uint', 13, '<u8', BigUint64Array),
  bool: info('bool', 1, 'bool', 9, '|b1', Uint8Array),
};

export const isDType = (s: string): s is DType => (DTYPES as readonly string[]).includes(s);
export const isFloat = (t: DType): boolean => DTYPE_INFO[t].kind === 'float';
export const isInteger = (t: DType): boolean => DTYPE_INFO[t].kind === 'int' || DTYPE_INFO[t].kind === 'uint';
export const isSigned = (t: DType): boolean => DTYPE_INFO[t].kind === 'int' || DTYPE_INFO[t].kind === 'float';
export const isBig = (t: DType): boolean => DTYPE_INFO[t].big;

/** ONNX element types aic names but does not compute with yet. */
const ONNX_UNSUPPORTED: Record<number, string> = {
  0: 'undefined', 8: 'string', 14: 'complex64', 15: 'complex128',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
  21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
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
