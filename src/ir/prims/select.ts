// where (select with broadcasting), cast (value conversion) and bitcast (reinterpretation of bits).
import { DTYPE_INFO, isFloat, type DType } from '../dtype.js';
import { registerOp } from '../op.js';
import { broadcastShapes, formatShape, numel } from '../shape.js';
import { Tensor } from '../tensor.js';
import { bitCodec, narrowing } from '../numeric.js';
import { fromRawBytes, rawByteLength, toRawBytes } from '../raw-bytes.js';
import { fail } from '../error.js';
import { broadcastConcrete, broadcastIndex, expectDType, operand, sameDType } from './common.js';

registerOp({
  name: 'prim.where',
  summary: 'cond ? a : b, numpy broadcasting over all three',
  arity: { min: 3, max: 3 },
  attrs: {},
  infer(node, inputs) {
    const c = operand(node, inputs, 0);
    const a = operand(node, inputs, 1);
    const b = operand(node, inputs, 2);
    expectDType(node, c, 'bool', 'condition');
    const dtype = sameDType(node, [a, b]);
    return [{ dtype, shape: broadcastShapes(c.shape, a.shape, b.shape) }];
  },
  eval(_node, [c, a, b]) {
    const shape = broadcastConcrete([c!.shape, a!.shape, b!.shape]);
    const out = Tensor.zeros(a!.dtype, shape);
    const ic = broadcastIndex(c!.shape, shape);
    const ia = broadcastIndex(a!.shape, shape);
    const ib = broadcastIndex(b!.shape, shape);
    const cd = c!.data as Uint8Array;
    const ad = a!.data as Float64Array;
    const bd = b!.data as Float64Array;
    const d = out.data as Float64Array;
    for (let i = 0; i < out.size; i++) {
      d[i] = cd[ic ? ic[i]! : i] ? ad[ia ? ia[i]! : i]! : bd[ib ? ib[i]! : i]!;
    }
    return [out];
  },
});

registerOp({
  name: 'prim.cast',
  summary: 'convert values to dtype `to` (floats to ints truncate toward zero and wrap; to bool: x != 0)',
  arity: { min: 1, max: 1 },
  attrs: { to: { kind: 'dtype', required: true } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    return [{ dtype: node.dtype('to'), shape: x.shape }];
  },
  eval(node, [x]) {
    return [castTensor(x!, node.dtype('to'))];
  },
});

/** Value conversion between any two dtypes. */
export function castTensor(x: Tensor, to: DType): Tensor {
  if (x.dtype === to) return new Tensor(to, x.shape, x.data.slice());
  const out = Tensor.zeros(to, x.shape);
  const n = x.size;
  const src = x.data;
  const dst = out.data;
  const toInfo = DTYPE_INFO[to];
  if (to === 'bool') {
    const d = dst as Uint8Array;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      d[i] = typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 ? 1 : 0; // NaN != 0: true
    }
  } else if (toInfo.big) {
    const d = dst as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      d[i] = typeof v === 'bigint' ? v : Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n;
    }
  } else if (isFloat(to)) {
    const d = dst as Float64Array;
    const narrow = narrowing(to);
    for (let i = 0; i < n; i++) {
      const x = src[i]!;
      // A 64-bit integer rounds to a double first: keep a sticky bit so that rounding on to a narrower
      // float does not round twice (2^60 + 2^36 + 1 must become 2^60 + 2^37 in f32, not 2^60).
      const v = typeof x === 'bigint' ? (to === 'f64' ? Number(x) : bigToDoubleSticky(x)) : x;
      d[i] = narrow ? narrow(v) : v;
    }
  } else {
    // Small integers: truncate, then wrap modulo 2^bits (the typed array does it, or `narrowing` for
    // 4- and 2-bit ones). Beyond 2^53 a double loses the low bits that the wrap keeps, so wide values go
    // through BigInt.
    const d = dst as Int32Array;
    const bits = toInfo.bits;
    const signed = toInfo.kind === 'int';
    const wrap = narrowing(to) ?? ((t: number) => t);
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (typeof v === 'bigint') {
        d[i] = Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
      } else if (!Number.isFinite(v)) {
        d[i] = 0;
      } else {
        const t = Math.trunc(v);
        d[i] = Math.abs(t) < 2 ** 53 ? wrap(t) : Number(signed ? BigInt.asIntN(bits, BigInt(t)) : BigInt.asUintN(bits, BigInt(t)));
      }
    }
  }
  return out;
}

/** What storing a JS value into a tensor of dtype `t` does to it (a typed array's own conversion): wrap
 * for integers (4- and 2-bit ones to their width), round for f32 (f16/bf16/float8/float4 results are
 * rounded by the op that makes them). */
export function storeConversion(t: DType): (x: number | bigint) => number | bigint {
  switch (t) {
    case 'f32': return (x) => Math.fround(x as number);
    case 'f64': case 'f16': case 'bf16': return (x) => x;
    case 'f8e4m3fn': case 'f8e4m3fnuz': case 'f8e5m2': case 'f8e5m2fnuz': case 'f8e8m0': case 'f4e2m1': return (x) => x;
    case 'i4': case 'u4': case 'i2': case 'u2': {
      const wrap = narrowing(t)!;
      return (x) => wrap(x as number);
    }
    case 'i32': return (x) => (x as number) | 0;
    case 'u32': return (x) => (x as number) >>> 0;
    case 'i16': return (x) => ((x as number) << 16) >> 16;
    case 'u16': return (x) => (x as number) & 0xffff;
    case 'i8': return (x) => ((x as number) << 24) >> 24;
    case 'u8': return (x) => (x as number) & 0xff;
    case 'bool': return (x) => (x as number) & 1;
    case 'i64': return (x) => BigInt.asIntN(64, x as bigint);
    case 'u64': return (x) => BigInt.asUintN(64, x as bigint);
  }
}

/** castTensor's conversion of one element from `from` to `to` (the kernel IR computes casts with it). */
export function castScalar(from: DType, to: DType): (x: number | bigint) => number | bigint {
  if (from === to) return (x) => x;
  const toInfo = DTYPE_INFO[to];
  const store = storeConversion(to);
  if (to === 'bool') return (v) => (typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 ? 1 : 0);
  if (toInfo.big) {
    return (v) => store(typeof v === 'bigint' ? v : Number.isFinite(v) ? BigInt(Math.trunc(v)) : 0n);
  }
  if (isFloat(to)) {
    const narrow = narrowing(to);
    return (x) => {
      const v = typeof x === 'bigint' ? (to === 'f64' ? Number(x) : bigToDoubleSticky(x)) : x;
      return narrow ? narrow(v) : store(v);
    };
  }
  const bits = toInfo.bits;
  const signed = toInfo.kind === 'int';
  return (v) => {
    if (typeof v === 'bigint') return store(Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v)));
    if (!Number.isFinite(v)) return 0;
    const t = Math.trunc(v);
    return store(Math.abs(t) < 2 ** 53 ? t : Number(signed ? BigInt.asIntN(bits, BigInt(t)) : BigInt.asUintN(bits, BigInt(t))));
  };
}

/** bitcast of one element (toBytes then fromBytes, element by element). */
export function bitcastScalar(from: DType, to: DType): (x: number | bigint) => number | bigint {
  const scratch = new ArrayBuffer(8);
  // Dtypes stored as something else than their bits (bitCodec) go through their pattern in an unsigned array.
  const Ctor = (t: DType): new (b: ArrayBuffer, o: number, n: number) => Tensor['data'] => {
    const codec = bitCodec(t);
    return (codec ? (codec.bits === 16 ? Uint16Array : Uint8Array) : DTYPE_INFO[t].array) as unknown as new (b: ArrayBuffer, o: number, n: number) => Tensor['data'];
  };
  const src = new (Ctor(from))(scratch, 0, 1);
  const dst = new (Ctor(to))(scratch, 0, 1);
  const enc = bitCodec(from)?.encode;
  const dec = bitCodec(to)?.decode;
  return (x) => {
    (src as Float64Array)[0] = (enc ? enc(x as number) : x) as number;
    const v = dst[0]!;
    if (dec) return dec(v as number);
    return to === 'bool' ? ((v as number) !== 0 ? 1 : 0) : v;
  };
}

/** x as a double truncated to 53 significant bits, with the lowest bit set when bits were dropped:
 * exactly representable, and it rounds to any float of at most 51 bits of precision as x itself does. */
function bigToDoubleSticky(x: bigint): number {
  const mag = x < 0n ? -x : x;
  const bits = mag.toString(2).length;
  if (bits <= 53) return Number(x);
  const shift = BigInt(bits - 53);
  let m = mag >> shift;
  if (m << shift !== mag) m |= 1n;
  const r = Number(m) * 2 ** (bits - 53);
  return x < 0n ? -r : r;
}

registerOp({
  name: 'prim.bitcast',
  summary: 'reinterpret the bits of each element as dtype `to` (same width)',
  arity: { min: 1, max: 1 },
  attrs: { to: { kind: 'dtype', required: true } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const to = node.dtype('to');
    if (DTYPE_INFO[to].bits !== DTYPE_INFO[x.dtype].bits) {
      fail('E_TYPE', `${node.describe()}: cannot bitcast ${x.dtype} to ${to} (different widths)`);
    }
    return [{ dtype: to, shape: x.shape }];
  },
  eval(node, [x]) {
    const to = node.dtype('to');
    return [fromBytes(to, x!.shape, toBytes(x!))];
  },
});

/** The little-endian bytes of a tensor as they would be stored (raw-bytes.ts: 16-bit and 8-bit floats
 * as their bit patterns, sub-byte types packed). */
export function toBytes(t: Tensor): Uint8Array {
  return toRawBytes(t.dtype, t.data);
}

/** A tensor from little-endian bytes (copied, so the source may be unaligned). */
export function fromBytes(dtype: DType, shape: readonly number[], bytes: Uint8Array): Tensor {
  const n = numel(shape);
  if (bytes.length !== rawByteLength(dtype, n)) fail('E_RUNTIME', `tensor ${dtype}${formatShape(shape)} needs ${rawByteLength(dtype, n)} bytes, got ${bytes.length}`);
  return new Tensor(dtype, shape, fromRawBytes(dtype, bytes, n));
}
