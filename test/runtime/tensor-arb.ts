// Random tensors of every dtype for the runtime I/O properties: ranks 0-5 with zero dims, and the
// awkward values (NaN, ±inf, -0, integer extremes) that serializers get wrong.
import { fc } from '@fast-check/vitest';
import { DTYPES, type DType } from '../../src/ir/dtype.js';
import { numel } from '../../src/ir/shape.js';
import { Tensor } from '../../src/ir/tensor.js';

const SPECIAL = [NaN, Infinity, -Infinity, -0, 0, 65504, 6e-8, 3.4e38, 1e-40];

export function valueArb(dtype: DType): fc.Arbitrary<number | bigint | boolean> {
  const ints = (min: number, max: number): fc.Arbitrary<number> =>
    fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, 0));
  switch (dtype) {
    case 'f32': case 'f16': case 'bf16':
      return fc.oneof(fc.float(), fc.constantFrom(...SPECIAL));
    case 'f64':
      return fc.oneof(fc.double(), fc.constantFrom(...SPECIAL, Number.MIN_VALUE, Number.MAX_VALUE));
    case 'i8': return ints(-128, 127);
    case 'i16': return ints(-32768, 32767);
    case 'i32': return ints(-(2 ** 31), 2 ** 31 - 1);
    case 'u8': return ints(0, 255);
    case 'u16': return ints(0, 65535);
    case 'u32': return ints(0, 2 ** 32 - 1);
    case 'i64': return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
    case 'u64': return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    case 'bool': return fc.boolean();
    // The small floats: any float (Tensor.from rounds it), and the specials each format maps its own way.
    case 'f8e4m3fn': case 'f8e4m3fnuz': case 'f8e5m2': case 'f8e5m2fnuz': case 'f8e8m0': case 'f4e2m1':
      return fc.oneof(fc.float(), fc.constantFrom(...SPECIAL, 448, 240, 57344, 6, 0.5, 2 ** -9, 2 ** -17));
    case 'i4': return ints(-8, 7);
    case 'u4': return ints(0, 15);
    case 'i2': return ints(-2, 1);
    case 'u2': return ints(0, 3);
  }
}

export const shapeArb: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 5 });

export function tensorArb(dtypes: readonly DType[] = DTYPES): fc.Arbitrary<Tensor> {
  return fc.tuple(fc.constantFrom(...dtypes), shapeArb).chain(([dtype, shape]) => {
    const n = numel(shape);
    return fc.array(valueArb(dtype), { minLength: n, maxLength: n }).map((vs) => Tensor.from(dtype, shape, vs));
  });
}

/** Same dtype, shape and elements, where NaN equals NaN and -0 differs from +0. */
export function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  if (a.data.constructor !== b.data.constructor || a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))) return false;
  }
  return true;
}
