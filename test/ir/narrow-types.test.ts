// The narrow dtypes (ONNX 17-26): the float8/float4/e8m0 formats' value tables, rounding (ties to even,
// overflow, NaN, -0 per format), the packed byte layouts of TensorProto raw_data and int32_data, the IR
// text and .npy forms, and casts between them and the wide dtypes, with ONNX Runtime as the oracle for
// the float8 casts it implements.
import { fc, test } from '@fast-check/vitest';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { A } from '../../src/ir/attr.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import { DTYPE_INFO, NARROW_DTYPES, type DType } from '../../src/ir/dtype.js';
import { roundSmallFloat, smallFloatFromBits, smallFloatToBits, type SmallFloat } from '../../src/ir/float8.js';
import { f16BitsToF32 } from '../../src/ir/numeric.js';
import { parseGraph } from '../../src/ir/parser.js';
import { printGraph } from '../../src/ir/printer.js';
import { castTensor, fromBytes, toBytes } from '../../src/ir/prims/select.js';
import { fromRawBytes, toRawBytes } from '../../src/ir/raw-bytes.js';
import { Tensor } from '../../src/ir/tensor.js';
import { readNpy, writeNpy } from '../../src/runtime/npy.js';
import { readTensorProto, writeTensorProto } from '../../src/runtime/tensor-proto.js';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { importModel } from '../../src/frontend/onnx/import.js';
import { lowerModel } from '../../src/driver/targets.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { T, errorCode, evalOp1 } from '../support/check.js';
import { graphModel, input, runNode1 } from '../support/onnx-node.js';
import { sameTensor, tensorArb } from '../runtime/tensor-arb.js';

const FLOAT8: readonly SmallFloat[] = ['f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz'];
const SMALL_FLOATS: readonly SmallFloat[] = [...FLOAT8, 'f4e2m1', 'f8e8m0'];
const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const patterns = (t: SmallFloat): number[] => [...Array(1 << DTYPE_INFO[t].bits).keys()];

describe('value tables', () => {
  it('every pattern of every small float reads and writes back (NaN to the canonical one)', () => {
    const canonicalNaN: Record<SmallFloat, number> = { f8e4m3fn: 0x7f, f8e4m3fnuz: 0x80, f8e5m2: 0x7f, f8e5m2fnuz: 0x80, f8e8m0: 0xff, f4e2m1: -1 };
    for (const t of SMALL_FLOATS) {
      for (const b of patterns(t)) {
        const v = smallFloatFromBits(t, b);
        expect(roundSmallFloat(t, v), `${t} 0x${b.toString(16)}`).toSatisfy((r: number) => same(r, v));
        // NaN patterns other than the canonical one (the sign of E4M3FN's and E5M2's NaN) are not kept.
        const back = Number.isNaN(v) && t !== 'f8e8m0' && b !== canonicalNaN[t] ? canonicalNaN[t] : b;
        expect(smallFloatToBits(t, v), `${t} 0x${b.toString(16)}`).toBe(back);
      }
    }
  });

  it('has the values, extremes and specials each format defines', () => {
    const v = (t: SmallFloat, bits: readonly number[]): number[] => bits.map((b) => smallFloatFromBits(t, b));
    // E4M3FN: max 448, smallest subnormal 2^-9, smallest normal 2^-6; S.1111.111 is NaN; -0 exists.
    expect(v('f8e4m3fn', [0x7e, 0x01, 0x08, 0x38, 0x80, 0xfe])).toEqual([448, 2 ** -9, 2 ** -6, 1, -0, -448]);
    expect(v('f8e4m3fn', [0x7f, 0xff]).every(Number.isNaN)).toBe(true);
    expect(v('f8e4m3fn', [0x78, 0x7d])).toEqual([256, 416]); // the top binade is finite but for its NaN
    // E4M3FNUZ: bias 8, max 240, 0x80 is the only NaN.
    expect(v('f8e4m3fnuz', [0x7f, 0x01, 0x40, 0xff, 0x00])).toEqual([240, 2 ** -10, 1, -240, 0]);
    expect(Number.isNaN(smallFloatFromBits('f8e4m3fnuz', 0x80))).toBe(true);
    // E5M2: IEEE-like, max 57344, inf 0x7c, NaN 0x7d-0x7f.
    expect(v('f8e5m2', [0x7b, 0x7c, 0xfc, 0x01, 0x3c])).toEqual([57344, Infinity, -Infinity, 2 ** -16, 1]);
    expect(v('f8e5m2', [0x7d, 0x7e, 0x7f, 0xff]).every(Number.isNaN)).toBe(true);
    // E5M2FNUZ: bias 16, max 57344 at 0x7f, no inf, 0x80 is NaN.
    expect(v('f8e5m2fnuz', [0x7f, 0x7c, 0x01, 0x40])).toEqual([57344, 32768, 2 ** -17, 1]);
    expect(Number.isNaN(smallFloatFromBits('f8e5m2fnuz', 0x80))).toBe(true);
    // E2M1: eight magnitudes, no specials.
    expect(v('f4e2m1', [0, 1, 2, 3, 4, 5, 6, 7, 8, 15])).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -6]);
    // E8M0: powers of two from 2^-127, no zero, no sign, 0xff is NaN.
    expect(v('f8e8m0', [0, 127, 128, 254])).toEqual([2 ** -127, 1, 2, 2 ** 127]);
    expect(Number.isNaN(smallFloatFromBits('f8e8m0', 0xff))).toBe(true);
  });

  it('E5M2 is the top byte of float16, and rounds as float16 bits do to their top byte', () => {
    for (let b = 0; b < 256; b++) expect(smallFloatFromBits('f8e5m2', b)).toSatisfy((x: number) => same(x, f16BitsToF32(b << 8)));
    // Every finite float16: round-half-even on the low byte, overflowing to inf (0x7c) past 57344.
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (!Number.isFinite(x)) continue;
      const mag = h & 0x7fff;
      let r = (mag + 0x7f + ((mag >> 8) & 1)) >> 8;
      if (r > 0x7c) r = 0x7c;
      expect(smallFloatToBits('f8e5m2', x), `f16 0x${h.toString(16)}`).toBe((h & 0x8000 ? 0x80 : 0) | r);
    }
  });
});

describe('rounding', () => {
  it('ties go to the even pattern, in the normal and the subnormal range', () => {
    expect([1 + 1 / 16, 1 + 3 / 16, 2 ** -10, 3 * 2 ** -10, -(1 + 1 / 16)].map((x) => roundSmallFloat('f8e4m3fn', x)))
      .toEqual([1, 1.25, 0, 2 ** -8, -1]);
    expect([1 + 1 / 8, 1 + 3 / 8, 2 ** -17, 3 * 2 ** -17].map((x) => roundSmallFloat('f8e5m2', x))).toEqual([1, 1.5, 0, 2 ** -15]);
    expect([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5, 0.26].map((x) => roundSmallFloat('f4e2m1', x))).toEqual([0, 1, 1, 2, 2, 4, 4, 0.5]);
  });

  it('rounds from a double in one step (no double rounding through float32)', () => {
    // Just above the tie between 1 and 1.125: a float32 would round it onto the tie, which goes to 1.
    const x = 1 + 1 / 16 + 2 ** -40;
    expect(Math.fround(x)).toBe(1 + 1 / 16);
    expect(roundSmallFloat('f8e4m3fn', x)).toBe(1.125);
  });

  it('overflows to inf where the format has one, else to NaN; float4e2m1 saturates', () => {
    const at = (t: SmallFloat, xs: number[]): number[] => xs.map((x) => roundSmallFloat(t, x));
    expect(at('f8e4m3fn', [464, 464.5, 1e6, Infinity, -Infinity])).toEqual([448, NaN, NaN, NaN, NaN]);
    expect(at('f8e4m3fnuz', [247, 248.5, Infinity])).toEqual([240, NaN, NaN]);
    expect(at('f8e5m2', [61439, 61440, Infinity, -1e9])).toEqual([57344, Infinity, Infinity, -Infinity]);
    expect(at('f8e5m2fnuz', [61440, -Infinity])).toEqual([NaN, NaN]);
    expect(at('f4e2m1', [7, 1e9, Infinity, -Infinity])).toEqual([6, 6, 6, -6]);
  });

  it('keeps -0 and NaN where the format has them; fnuz formats have one zero; float4 NaN is -0', () => {
    for (const t of ['f8e4m3fn', 'f8e5m2', 'f4e2m1'] as const) {
      expect(Object.is(roundSmallFloat(t, -0), -0)).toBe(true);
      expect(Object.is(roundSmallFloat(t, -1e-30), -0)).toBe(true);
    }
    for (const t of ['f8e4m3fnuz', 'f8e5m2fnuz'] as const) {
      expect(Object.is(roundSmallFloat(t, -0), 0)).toBe(true);
      expect(Object.is(roundSmallFloat(t, -1e-30), 0)).toBe(true);
      expect(smallFloatToBits(t, -0)).toBe(0);
    }
    for (const t of FLOAT8) expect(Number.isNaN(roundSmallFloat(t, NaN))).toBe(true);
    expect(Object.is(roundSmallFloat('f4e2m1', NaN), -0)).toBe(true);
  });

  it('E8M0 rounds up to a power of two and saturates at both ends', () => {
    expect([1, 1.1, 0.124, 0.25, 3, 2 ** 127 * 1.5, Infinity, 0, 1e-45, -4].map((x) => roundSmallFloat('f8e8m0', x)))
      .toEqual([1, 2, 0.125, 0.25, 4, 2 ** 127, 2 ** 127, 2 ** -127, 2 ** -127, 4]);
    expect(Number.isNaN(roundSmallFloat('f8e8m0', NaN))).toBe(true);
  });

  test.prop([fc.constantFrom(...SMALL_FLOATS), fc.double({ noNaN: true })])('a rounded value is a fixed point, and the nearest one', (t, x) => {
    const r = roundSmallFloat(t, x);
    expect(roundSmallFloat(t, r)).toSatisfy((y: number) => same(y, r));
    if (!Number.isFinite(r) || t === 'f8e8m0' || Math.abs(x) > smallMax(t)) return;
    // No finite value of the format is strictly nearer to x.
    for (const b of patterns(t)) {
      const v = smallFloatFromBits(t, b);
      if (Number.isFinite(v)) expect(Math.abs(v - x)).toBeGreaterThanOrEqual(Math.abs(r - x));
    }
  });
});

const smallMax = (t: SmallFloat): number => Math.max(...patterns(t).map((b) => smallFloatFromBits(t, b)).filter(Number.isFinite));

describe('sub-byte integers', () => {
  it('wrap modulo 2^bits on store, cast and arithmetic', () => {
    expect(T('i4', [5], [7, 8, -9, 15, 3.9]).toNumbers()).toEqual([7, -8, 7, -1, 3]);
    expect(T('u4', [3], [16, -1, 17]).toNumbers()).toEqual([0, 15, 1]);
    expect(T('i2', [4], [1, 2, -3, 5]).toNumbers()).toEqual([1, -2, 1, 1]);
    expect(T('u2', [2], [4, -1]).toNumbers()).toEqual([0, 3]);
    expect(castTensor(T('f32', [4], [9, -9, 15.7, NaN]), 'i4').toNumbers()).toEqual([-7, 7, -1, 0]);
    expect(castTensor(T('i64', [2], [2n ** 40n + 5n, -17n]), 'u4').toNumbers()).toEqual([5, 15]);
    expect(evalOp1('prim.add', [T('i4', [2], [7, -8]), T('i4', [2], [1, -1])]).toNumbers()).toEqual([-8, 7]);
    expect(evalOp1('prim.mul', [T('u2', [2], [3, 2]), T('u2', [2], [3, 2])]).toNumbers()).toEqual([1, 0]);
    expect(evalOp1('prim.neg', [T('i4', [2], [-8, 3])]).toNumbers()).toEqual([-8, -3]);
    expect(evalOp1('prim.reduce_sum', [T('i4', [3], [7, 7, 7])], { axes: A.ints([0]), keepdims: A.int(0) }).toNumbers()).toEqual([5]);
  });

  it('reduce identities are the width extremes', () => {
    expect(evalOp1('prim.reduce_max', [T('i4', [0], [])], { axes: A.ints([0]), keepdims: A.int(0) }).toNumbers()).toEqual([-8]);
    expect(evalOp1('prim.reduce_min', [T('u2', [0], [])], { axes: A.ints([0]), keepdims: A.int(0) }).toNumbers()).toEqual([3]);
  });
});

describe('arithmetic on small floats', () => {
  it('rounds each result to the format', () => {
    expect(evalOp1('prim.add', [T('f8e4m3fn', [2], [1, 448]), T('f8e4m3fn', [2], [0.0625, 32])]).toNumbers()).toEqual([1, NaN]);
    expect(evalOp1('prim.mul', [T('f8e5m2', [1], [57344]), T('f8e5m2', [1], [2])]).toNumbers()).toEqual([Infinity]);
    expect(evalOp1('prim.reduce_sum', [T('f4e2m1', [3], [2, 2, 1.5])], { axes: A.ints([0]), keepdims: A.int(0) }).toNumbers()).toEqual([6]);
  });

  it('dot refuses them, naming the dtype', () => {
    const b = new GraphBuilder('g');
    const x = b.input('x', 'f8e4m3fn', [2, 2]);
    expect(errorCode(() => b.dot(x, x, { lhsContract: [1], rhsContract: [0] }))).toBe('E_TYPE');
  });
});

describe('packed layouts', () => {
  it('packs 4-bit elements two to a byte and 2-bit four to a byte, low bits first', () => {
    expect([...toRawBytes('i4', T('i4', [3], [1, -2, 7]).data)]).toEqual([0xe1, 0x07]);
    expect([...toRawBytes('u2', T('u2', [5], [0, 1, 2, 3, 1]).data)]).toEqual([0xe4, 0x01]);
    expect([...toRawBytes('f4e2m1', T('f4e2m1', [3], [0.5, -6, 6]).data)]).toEqual([0xf1, 0x07]);
    expect([...toRawBytes('f8e4m3fn', T('f8e4m3fn', [2], [448, -1]).data)]).toEqual([0x7e, 0xb8]);
    expect(Array.from(fromRawBytes('i2', Uint8Array.of(0xe4, 0xff), 5) as Int8Array)).toEqual([0, 1, -2, -1, -1]);
    expect(Array.from(fromRawBytes('u4', Uint8Array.of(0x21, 0xf3), 3) as Uint8Array)).toEqual([1, 2, 3]);
  });

  it('bitcast keeps the bits: i4 <-> u4 <-> f4e2m1, f8 <-> u8', () => {
    expect(evalOp1('prim.bitcast', [T('i4', [3], [-1, -8, 7])], { to: A.dtype('u4') }).toNumbers()).toEqual([15, 8, 7]);
    expect(evalOp1('prim.bitcast', [T('u4', [2], [15, 7])], { to: A.dtype('f4e2m1') }).toNumbers()).toEqual([-6, 6]);
    expect(evalOp1('prim.bitcast', [T('f8e4m3fn', [2], [448, -0])], { to: A.dtype('u8') }).toNumbers()).toEqual([0x7e, 0x80]);
    expect(errorCode(() => evalOp1('prim.bitcast', [T('i4', [1], [1])], { to: A.dtype('i8') }))).toBe('E_TYPE');
  });

  const narrowArb = tensorArb(NARROW_DTYPES);

  test.prop([narrowArb], { numRuns: 300 })('TensorProto raw_data round trip', (t) => {
    expect(sameTensor(readTensorProto(writeTensorProto(t, 'x')).tensor, t)).toBe(true);
    expect(sameTensor(fromBytes(t.dtype, t.shape, toBytes(t)), t)).toBe(true);
  });

  test.prop([narrowArb], { numRuns: 200 })('.npy round trip with the dtype named', (t) => {
    expect(sameTensor(readNpy(writeNpy(t), 'x', { expect: t.dtype }), t)).toBe(true);
  });

  it('.npy refuses the untyped one-byte void unless the dtype is named', () => {
    const bytes = writeNpy(T('f8e5m2', [2], [1, 2]));
    expect(errorCode(() => readNpy(bytes))).toBe('E_PROTO');
    expect(readNpy(bytes, 'x', { expect: 'u4' }).dtype).toBe('u4');
  });

  test.prop([narrowArb], { numRuns: 200 })('IR text round trip, list and hex forms', (t) => {
    const b = new GraphBuilder('g');
    b.output(b.const(t), 'y');
    const g = b.build();
    const text = printGraph(g);
    const back = (parseGraph(text).nodes[0]!.attrs['value'] as { value: Tensor }).value;
    expect(sameTensor(back, t)).toBe(true);
  });

  it('reads int32_data: one float8 pattern, or one packed byte, per int32', () => {
    const proto = (dataType: number, dims: number[], ints: number[]): Uint8Array => {
      const w = new protobuf.Writer();
      for (const d of dims) w.uint32(8).int64(d);
      w.uint32(16).int32(dataType);
      w.uint32(42).fork();
      for (const v of ints) w.int32(v);
      w.ldelim();
      return w.finish();
    };
    expect(readTensorProto(proto(17, [3], [0x7e, 0xb8, 0x7f])).tensor.toNumbers()).toEqual([448, -1, NaN]);
    expect(readTensorProto(proto(22, [3], [0xe1, 0x07])).tensor.toNumbers()).toEqual([1, -2, 7]);
    expect(readTensorProto(proto(25, [5], [0xe4, 0x01])).tensor.toNumbers()).toEqual([0, 1, 2, 3, 1]);
    expect(errorCode(() => readTensorProto(proto(22, [3], [0xe1])))).toBe('E_MODEL'); // 3 int4 need 2 bytes
    expect(errorCode(() => readTensorProto(proto(26, [4], [0, 0])))).toBe('E_MODEL');
  });
});

describe('casts', () => {
  const wide: readonly DType[] = ['f32', 'f16', 'bf16', 'f64', 'i8', 'i32', 'i64', 'u8', 'bool'];
  const samples = [0, -0, 0.3, -1.5, 2.5, 7, -8, 100, 500, 70000, NaN, Infinity, -Infinity];

  it('from a narrow dtype to a wide float is exact', () => {
    for (const t of NARROW_DTYPES) {
      const x = T(t, [samples.length], samples);
      for (const to of ['f32', 'f64'] as const) {
        const y = castTensor(x, to).toNumbers();
        x.toNumbers().forEach((v, i) => expect(y[i]).toSatisfy((w: number) => same(w, v)));
      }
    }
  });

  it('every pair of dtypes converts as one rounding of the value (the cast matrix)', () => {
    for (const from of [...NARROW_DTYPES, ...wide]) {
      const x = T(from, [samples.length], from === 'i64' ? samples.map((v) => BigInt(Number.isFinite(v) ? Math.trunc(v) : 0)) : samples);
      for (const to of [...NARROW_DTYPES, ...wide]) {
        const y = castTensor(x, to);
        expect(y.dtype).toBe(to);
        const direct = T(to, [samples.length], x.toNumbers().map((v) => convertOnce(v, to)));
        expect(sameTensor(y, direct), `${from} -> ${to}`).toBe(true);
      }
    }
  });

  it('ONNX Cast saturates to the largest finite value by default, and overflows with saturate=0', () => {
    const x = input(T('f32', [5], [1e6, -Infinity, NaN, 0.3, -1e-9]));
    const cast = (to: number, saturate?: number): number[] =>
      runNode1('Cast', 21, saturate === undefined ? { to } : { to, saturate }, [x]).toNumbers();
    expect(cast(17)).toEqual([448, -448, NaN, 0.3125, -0]);
    expect(cast(17, 0)).toEqual([NaN, NaN, NaN, 0.3125, -0]);
    expect(cast(18)).toEqual([240, -240, NaN, 0.3125, 0]);
    expect(cast(19, 0)).toEqual([Infinity, -Infinity, NaN, 0.3125, -0]);
    expect(cast(20)).toEqual([57344, -57344, NaN, 0.3125, 0]);
    expect(runNode1('Cast', 23, { to: 23 }, [x]).toNumbers()).toEqual([6, -6, -0, 0.5, -0]);
    // An integer source clamps in its own dtype where it reaches past the format.
    expect(runNode1('Cast', 21, { to: 17 }, [input(T('i32', [3], [1000, -1000, 17]))]).toNumbers()).toEqual([448, -448, 16]);
    expect(runNode1('Cast', 21, { to: 18 }, [input(T('u8', [2], [255, 200]))]).toNumbers()).toEqual([240, 192]);
    // A float8 source whose dtype cannot hold the target's max clamps in f32 (240 is not an E5M2 value).
    expect(runNode1('Cast', 21, { to: 18 }, [input(T('f8e5m2', [2], [256, -57344]))]).toNumbers()).toEqual([240, -240]);
  });

  it('ONNX Cast to float8e8m0 rounds the exponent by round_mode', () => {
    const x = input(T('f32', [7], [1, 1.5, 1.4, 0.75, 3e38, 0, NaN]));
    const e8 = (round_mode: string, saturate = 1): number[] => runNode1('Cast', 25, { to: 24, round_mode, saturate }, [x]).toNumbers();
    expect(e8('up')).toEqual([1, 2, 2, 1, 2 ** 127, 2 ** -127, NaN]);
    expect(e8('down')).toEqual([1, 1, 1, 0.5, 2 ** 127, 2 ** -127, NaN]);
    expect(e8('nearest')).toEqual([1, 2, 1, 1, 2 ** 127, 2 ** -127, NaN]);
    expect(e8('up', 0)).toEqual([1, 2, 2, 1, NaN, 2 ** -127, NaN]);
    expect(errorCode(() => runNode1('Cast', 25, { to: 24, round_mode: 'sideways' }, [x]))).toBe('E_TYPE');
  });

  // ONNX Runtime implements Cast to the four float8 formats (saturate 0 and 1): f32 -> f8 -> f32 must agree
  // bit for bit on random floats around each format's range, ties and specials included.
  for (const t of FLOAT8) {
    it(`f32 -> ${t} -> f32 agrees with ONNX Runtime, saturate 1 and 0`, async () => {
      const max = smallMax(t);
      const xs = fc.sample(fc.oneof(
        fc.float({ min: Math.fround(-2 * max), max: Math.fround(2 * max) }),
        fc.float({ min: -1, max: 1 }),
        fc.float({ min: Math.fround(-(2 ** -12)), max: Math.fround(2 ** -12) }),
        fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, max, -max, Math.fround(max * 1.03), 1 + 1 / 16, 1 + 1 / 8, 2 ** -10, 3 * 2 ** -10),
      ), { numRuns: 2000, seed: 7 });
      const x = Float32Array.from(xs);
      for (const saturate of [1, 0]) {
        const model = castRoundTrip(t, saturate, x.length);
        const session = await ort.InferenceSession.create(model);
        const want = (await session.run({ x: new ort.Tensor('float32', x, [x.length]) }))['z']!.data as Float32Array;
        await session.release();
        const got = interpret(lowerModel(importModel(decodeModelProto(model, 'cast.onnx'))), [Tensor.from('f32', [x.length], x)])[0]!.toNumbers();
        want.forEach((w, i) => expect(got[i], `${t} saturate=${saturate} x=${x[i]}`).toSatisfy((g: number) => same(g, w)));
      }
    });
  }
});

describe('quantization to and from the narrow types', () => {
  const x = input(T('f32', [6], [0, 2.5, 7, -30, 1e6, NaN]));
  const scale = input(T('f32', [], [2]));

  it('QuantizeLinear to 4- and 2-bit integers rounds half to even and saturates to the width', () => {
    expect(runNode1('QuantizeLinear', 21, {}, [x, scale, input(T('i4', [], [1]))]).toNumbers()).toEqual([1, 2, 5, -8, 7, 0]); // NaN: 0, as for int8
    expect(runNode1('QuantizeLinear', 21, {}, [x, scale, input(T('u4', [], [0]))]).toNumbers()).toEqual([0, 1, 4, 0, 15, 0]);
    expect(runNode1('QuantizeLinear', 25, {}, [x, scale, input(T('i2', [], [0]))]).toNumbers()).toEqual([0, 1, 1, -2, 1, 0]);
    expect(runNode1('QuantizeLinear', 25, { output_dtype: 25 }, [x, scale]).toNumbers()).toEqual([0, 1, 3, 0, 3, 0]);
  });

  it('QuantizeLinear to a small float adds the zero point in float and casts, saturating unless saturate=0', () => {
    const zp = input(T('f8e4m3fn', [], [0.5]));
    expect(runNode1('QuantizeLinear', 21, {}, [x, scale, zp]).toNumbers()).toEqual([0.5, 1.75, 4, -14, 448, NaN]);
    expect(runNode1('QuantizeLinear', 21, { saturate: 0 }, [x, scale, zp]).toNumbers()).toEqual([0.5, 1.75, 4, -14, NaN, NaN]);
    expect(runNode1('QuantizeLinear', 21, { saturate: 0, output_dtype: 19 }, [x, scale]).toNumbers()).toEqual([0, 1.25, 3.5, -16, Infinity, NaN]);
    expect(runNode1('QuantizeLinear', 23, { output_dtype: 23 }, [x, scale]).toNumbers()).toEqual([0, 1, 4, -6, 6, -0]);
  });

  it('DequantizeLinear reads every narrow quantized type, per axis too, and an E8M0 scale', () => {
    expect(runNode1('DequantizeLinear', 21, { axis: 0 }, [input(T('i4', [2, 2], [-8, 7, 1, -1])), input(T('f32', [2], [0.5, 2])), input(T('i4', [2], [1, -1]))]).toNumbers())
      .toEqual([-4.5, 3, 4, 0]);
    expect(runNode1('DequantizeLinear', 21, {}, [input(T('f8e5m2fnuz', [3], [57344, -0.5, 0])), input(T('f16', [], [0.5]))]).toNumbers()).toEqual([28672, -0.25, 0]);
    const y = runNode1('DequantizeLinear', 25, { output_dtype: 1 }, [input(T('f4e2m1', [3], [6, -1.5, 0.5])), input(T('f8e8m0', [], [0.25]))]);
    expect([y.dtype, y.toNumbers()]).toEqual(['f32', [1.5, -0.375, 0.125]]);
    expect(errorCode(() => runNode1('DequantizeLinear', 25, {}, [input(T('i4', [1], [1])), input(T('f8e8m0', [], [1]))]))).toBe('E_TYPE');
  });
});

/** One value converted as Cast defines it: floats round (Tensor.from), integers truncate and wrap, bool is x != 0. */
function convertOnce(v: number, to: DType): number | bigint | boolean {
  if (to === 'bool') return v !== 0;
  if (DTYPE_INFO[to].kind === 'float') return v;
  const t = Number.isFinite(v) ? Math.trunc(v) : 0;
  return to === 'i64' ? BigInt(t) : t;
}

/** The model x: f32 -> Cast(to=t, saturate) -> Cast(to=f32) -> z. */
function castRoundTrip(t: DType, saturate: number, n: number): Uint8Array {
  return graphModel(21, [
    { op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: DTYPE_INFO[t].onnx, saturate } },
    { op: 'Cast', inputs: ['y'], outputs: ['z'], attrs: { to: 1 } },
  ], { x: input(Tensor.zeros('f32', [n])) }, ['z']);
}
