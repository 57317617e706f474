// The raw byte layout of tensor elements, as ONNX's raw_data stores them and the IR text's hex form
// spells them: little-endian; f16, bf16 and the float8 formats as their bit patterns; bool as 0/1; and the
// sub-byte types (int4, uint4, float4e2m1: two to a byte; int2, uint2: four) packed low bits first, the
// last byte padded with zero bits.
//
//   i4[3] [1, -2, 7]  →  0xe1 0x07      (element 0 in bits 0-3, element 1 in bits 4-7)
import { DTYPE_INFO, type DType, type Storage } from './dtype.js';
import { bitCodec } from './numeric.js';

/** Bytes that n elements of dtype take in raw form. */
export function rawByteLength(dtype: DType, n: number): number {
  return Math.ceil((n * DTYPE_INFO[dtype].bits) / 8);
}

/** The raw bytes of n stored elements (a copy). */
export function toRawBytes(dtype: DType, data: Storage): Uint8Array {
  const n = data.length;
  const codec = bitCodec(dtype);
  if (!codec) {
    // Typed arrays use the host's byte order, which is little-endian on every platform Node runs on.
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  const out = new Uint8Array(rawByteLength(dtype, n));
  const d = data as Float32Array;
  const { bits } = codec;
  if (bits === 16) {
    for (let i = 0; i < n; i++) {
      const b = codec.encode(d[i]!);
      out[2 * i] = b & 0xff;
      out[2 * i + 1] = b >>> 8;
    }
  } else {
    const perByte = 8 / bits;
    for (let i = 0; i < n; i++) out[Math.floor(i / perByte)]! |= codec.encode(d[i]!) << ((i % perByte) * bits);
  }
  return out;
}

/** n elements from their raw bytes (at least rawByteLength(dtype, n) of them; the source may be
 * unaligned). Bits past the last element are ignored. */
export function fromRawBytes(dtype: DType, bytes: Uint8Array, n: number): Storage {
  const info = DTYPE_INFO[dtype];
  const codec = bitCodec(dtype);
  if (!codec) {
    // Uint8Array's slice copies; a Node Buffer's own slice would return a view of its (pooled) memory.
    const copy = Uint8Array.prototype.slice.call(bytes, 0, n * info.bytes);
    // A bool is stored as 0 or 1; any other byte reads as true.
    if (dtype === 'bool') for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
    const Ctor = info.array as unknown as new (b: ArrayBuffer, o: number, len: number) => Storage;
    return new Ctor(copy.buffer, 0, n);
  }
  const out = new info.array(n) as Float32Array;
  const { bits } = codec;
  if (bits === 16) {
    for (let i = 0; i < n; i++) out[i] = codec.decode(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
  } else {
    const perByte = 8 / bits;
    const mask = (1 << bits) - 1;
    for (let i = 0; i < n; i++) out[i] = codec.decode((bytes[Math.floor(i / perByte)]! >>> ((i % perByte) * bits)) & mask);
  }
  return out;
}
