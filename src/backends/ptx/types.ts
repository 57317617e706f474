// How each IR dtype lives in PTX: the register class that holds a value while it is computed, and the
// memory type it is loaded and stored as. f16 and bf16 are held as the f32 they equal (computed in f32 and
// rounded to the format after every op, the interpreter's semantics); 8- and 16-bit integers and bool are
// held in 32-bit registers, wrapped to their width after every op; 4- and 2-bit integers likewise (one to
// a byte in memory, as the Program lays them out); the float8/float4 formats as the f32 they equal, rounded
// after every op and stored as their bit patterns (./smallfloat.ts).
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';

/** Register classes, as nvcc names them: %f, %fd, %r, %rd, %p, %rs. */
export type RegClass = 'f32' | 'f64' | 'b32' | 'b64' | 'pred' | 'b16';

/** The families a dtype's arithmetic follows. */
export type Family = 'f32' | 'f64' | 's32' | 'u32' | 's64' | 'u64' | 'bool';

const FAMILY: Partial<Record<DType, Family>> = {
  f32: 'f32', f16: 'f32', bf16: 'f32', f64: 'f64',
  i2: 's32', i4: 's32', i8: 's32', i16: 's32', i32: 's32',
  u2: 'u32', u4: 'u32', u8: 'u32', u16: 'u32', u32: 'u32',
  i64: 's64', u64: 'u64', bool: 'bool',
  // float8/float4: held as the f32 they equal (./smallfloat.ts).
  f8e4m3fn: 'f32', f8e4m3fnuz: 'f32', f8e5m2: 'f32', f8e5m2fnuz: 'f32', f8e8m0: 'f32', f4e2m1: 'f32',
};

/** Whether the backend holds values of a dtype (all of the IR's today). */
export const isHeld = (t: DType): boolean => FAMILY[t] !== undefined;

export function familyOf(t: DType): Family {
  return FAMILY[t] ?? fail('E_UNSUPPORTED', `ptx: dtype ${t} is not supported yet`);
}

export function regClassOf(t: DType): RegClass {
  switch (familyOf(t)) {
    case 'f32': return 'f32';
    case 'f64': return 'f64';
    case 's64': case 'u64': return 'b64';
    default: return 'b32';
  }
}

/** The PTX type an arithmetic instruction on the family takes (`add.s32`, `max.u64`). */
export function opType(f: Family): string {
  return f === 'bool' ? 'u32' : f;
}

export const isFloatFamily = (f: Family): f is 'f32' | 'f64' => f === 'f32' || f === 'f64';
export const isSignedFamily = (f: Family): boolean => f === 's32' || f === 's64' || isFloatFamily(f);

/** The type of a global load or store of dtype t (the register may be wider: integers extend and truncate). */
export function memType(t: DType): string {
  switch (t) {
    case 'f32': return 'f32';
    case 'f64': return 'f64';
    case 'f16': case 'bf16': return 'b16';
    case 'i8': case 'i4': case 'i2': return 's8';
    case 'u8': case 'u4': case 'u2': case 'bool': return 'u8';
    case 'f8e4m3fn': case 'f8e4m3fnuz': case 'f8e5m2': case 'f8e5m2fnuz': case 'f8e8m0': case 'f4e2m1': return 'u8';
    case 'i16': return 's16';
    case 'u16': return 'u16';
    case 'i32': return 's32';
    case 'u32': return 'u32';
    case 'i64': return 's64';
    case 'u64': return 'u64';
    default: return fail('E_UNSUPPORTED', `ptx: dtype ${t} is not supported yet`);
  }
}

export const elementBytes = (t: DType): number => DTYPE_INFO[t].bytes;

/** The bit width a 32-bit-held integer wraps to, or undefined when no wrapping is needed. */
export function wrapBits(t: DType): number | undefined {
  const b = DTYPE_INFO[t].bits;
  return familyOf(t) === 's32' || familyOf(t) === 'u32' ? (b < 32 ? b : undefined) : undefined;
}

/** An f32 immediate, exact (NaN, infinities, -0 included): `0f3F800000`. */
export function f32Imm(v: number): string {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v);
  return `0f${b.getUint32(0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** An f64 immediate, exact: `0d3FF0000000000000`. */
export function f64Imm(v: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  return `0d${b.getBigUint64(0).toString(16).toUpperCase().padStart(16, '0')}`;
}

export const floatImm = (f: 'f32' | 'f64', v: number): string => (f === 'f32' ? f32Imm(v) : f64Imm(v));
