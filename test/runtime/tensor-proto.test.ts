import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import protobuf from 'protobufjs/minimal.js';
import { DTYPES, DTYPE_INFO } from '../../src/ir/dtype.js';
import { AicError } from '../../src/ir/error.js';
import { roundToDType } from '../../src/ir/numeric.js';
import { Tensor } from '../../src/ir/tensor.js';
import {
  decodeTensorProto, decodeTensorProtoFields, readOptionalProto, readSequenceProto, readTensorProto, tensorFromFields,
  writeTensorProto,
} from '../../src/runtime/tensor-proto.js';
import { sameTensor, tensorArb } from './tensor-arb.js';

const NODE = '/work/shared/onnx-tests/node';
const pb = (path: string): Uint8Array => new Uint8Array(readFileSync(`${NODE}/${path}`));
const data0 = (test: string, file: string): Uint8Array => pb(`${test}/test_data_set_0/${file}.pb`);

// --- a tiny protobuf encoder, so tests can spell every storage form (packed or not, typed fields) ---
type Bytes = number[];
function varint(v: number | bigint): Bytes {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: Bytes = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x !== 0n ? b | 0x80 : b);
  } while (x !== 0n);
  return out;
}
const key = (field: number, wire: number): Bytes => varint((field << 3) | wire);
const int = (field: number, v: number | bigint): Bytes => [...key(field, 0), ...varint(v)];
const len = (field: number, body: Bytes | Uint8Array): Bytes => [...key(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): Bytes => len(field, [...new TextEncoder().encode(s)]);
const packed = (field: number, vs: (number | bigint)[]): Bytes => len(field, vs.flatMap((v) => varint(v)));
const unpacked = (field: number, vs: (number | bigint)[]): Bytes => vs.flatMap((v) => int(field, v));
const le = (a: Float32Array | Float64Array): Bytes => [...new Uint8Array(a.buffer)];
const proto = (...parts: Bytes[]): Uint8Array => new Uint8Array(parts.flat());

function aicError(f: () => unknown): AicError {
  try {
    f();
  } catch (e) {
    if (e instanceof AicError) return e;
    throw e;
  }
  throw new Error('expected an AicError');
}

describe('TensorProto round trip', () => {
  test.prop([tensorArb(), fc.string({ maxLength: 8 })], { numRuns: 300 })('readTensorProto(writeTensorProto(t)) is t', (t, name) => {
    const back = readTensorProto(writeTensorProto(t, name));
    expect(back.name).toBe(name);
    expect(sameTensor(back.tensor, t)).toBe(true);
  });

  it('covers every dtype and writes its ONNX type code', () => {
    for (const dtype of DTYPES) {
      const f = decodeTensorProtoFields(writeTensorProto(Tensor.from(dtype, [2], [1, 0]), 'x'));
      // Two elements: 2 bytes each of the 16-bit types, and one byte for two 4-bit or 2-bit ones (packed).
      expect([f.dataType, f.dims, f.rawData?.length]).toEqual([DTYPE_INFO[dtype].onnx, [2], Math.ceil((2 * DTYPE_INFO[dtype].bits) / 8)]);
    }
  });
});

describe('TensorProto files of the ONNX backend tests', () => {
  it('reads float32 and re-writes the same bytes', () => {
    const bytes = data0('test_add', 'input_0');
    const { name, tensor } = readTensorProto(bytes);
    expect([name, tensor.dtype, tensor.shape]).toEqual(['x', 'f32', [3, 4, 5]]);
    expect(writeTensorProto(tensor, name)).toEqual(bytes);
  });

  it('reads from a Node Buffer at an odd offset', () => {
    const file = readFileSync(`${NODE}/test_add/test_data_set_0/input_0.pb`);
    const odd = Buffer.concat([Buffer.from([7]), file]).subarray(1);
    expect(sameTensor(readTensorProto(odd).tensor, readTensorProto(new Uint8Array(file)).tensor)).toBe(true);
  });

  it('reads float16 as the rounded float32 values of a cast', () => {
    const x = readTensorProto(data0('test_cast_FLOAT_to_FLOAT16', 'input_0')).tensor;
    const y = readTensorProto(data0('test_cast_FLOAT_to_FLOAT16', 'output_0')).tensor;
    expect([y.dtype, y.shape]).toEqual(['f16', x.shape]);
    const want = Tensor.from('f16', x.shape, x.toNumbers().map((v) => roundToDType('f16', v)));
    expect(sameTensor(y, want)).toBe(true);
  });

  it('reads bfloat16', () => {
    const y = readTensorProto(data0('test_cast_FLOAT_to_BFLOAT16', 'output_0')).tensor;
    expect([y.dtype, y.shape]).toEqual(['bf16', [3, 4]]);
    expect(y.num(0)).toBe(0.478515625); // bits 0x3ef5
    expect(y.toNumbers().slice(-4)).toEqual([NaN, Infinity, Infinity, -Infinity]);
  });

  it('reads bool and int64', () => {
    const b = readTensorProto(data0('test_and2d', 'input_0')).tensor;
    expect([b.dtype, b.shape]).toEqual(['bool', [3, 4]]);
    expect(b.toNumbers().every((v) => v === 0 || v === 1)).toBe(true);
    const i = readTensorProto(data0('test_argmax_default_axis_example', 'output_0')).tensor;
    expect([i.dtype, i.shape]).toEqual(['i64', [1, 2]]);
    expect(Array.from(i.data as BigInt64Array).every((v) => v === 0n || v === 1n)).toBe(true);
  });

  it('reads int16 stored in int32_data', () => {
    const bytes = data0('test_quantizelinear_blocked_symmetric', 'output_0');
    expect(decodeTensorProtoFields(bytes).rawData).toBeUndefined();
    const t = readTensorProto(bytes).tensor;
    expect(t.dtype).toBe('i16');
    expect(t.size).toBeGreaterThan(0);
  });

  it('reads sequences of tensors', () => {
    const s = readSequenceProto(data0('test_sequence_insert_at_back', 'input_0'));
    expect(s.name).toBe('sequence');
    expect(s.tensors.map((t) => [t.dtype, t.shape, Array.from(t.data as BigInt64Array)])).toEqual([
      ['i64', [4], [1n, 2n, 3n, 4n]],
      ['i64', [3], [5n, 6n, 7n]],
      ['i64', [2], [8n, 9n]],
    ]);
    const out = readSequenceProto(data0('test_sequence_insert_at_back', 'output_0'));
    expect(out.tensors.length).toBe(4);
  });

  it('reads optionals: empty, a tensor, a sequence', () => {
    expect(readOptionalProto(data0('test_optional_has_element_empty_optional_input', 'input_0')))
      .toEqual({ name: 'optional_input', value: null });
    const t = readOptionalProto(data0('test_optional_get_element_optional_tensor', 'input_0')).value;
    expect(t).toBeInstanceOf(Tensor);
    const s = readOptionalProto(data0('test_optional_get_element_optional_sequence', 'input_0')).value;
    expect(Array.isArray(s) && s.map((x) => [x.dtype, x.toNumbers()])).toEqual([['i32', [1, 2, 3, 4]]]);
    const none = readOptionalProto(data0('test_loop16_seq_none', 'input_2')).value;
    expect(Array.isArray(none) && none.map((x) => [x.dtype, x.shape])).toEqual([['f32', []]]);
  });

  it('refuses element types aic lacks, naming them', () => {
    const e = aicError(() => readTensorProto(data0('test_regex_full_match_empty', 'input_0'), 'x.pb'));
    expect(e.code).toBe('E_UNSUPPORTED');
    expect(e.message).toMatch(/^x\.pb: element type string is not supported yet \(tensor '.*'\)$/);
  });

  it('reads the narrow types: float8 and packed 4-bit and 2-bit raw_data', () => {
    expect(readTensorProto(data0('test_cast_FLOAT_to_FLOAT8E4M3FN', 'output_0')).tensor.toNumbers().slice(6, 12))
      .toEqual([448, 0, NaN, 448, 448, -448]);
    const i4 = readTensorProto(data0('test_cast_FLOAT_to_INT4', 'output_0')).tensor;
    expect([i4.dtype, i4.shape, i4.toNumbers().slice(0, 8)]).toEqual(['i4', [5, 5], [7, -8, -7, -6, -5, -4, -3, -2]]);
    expect(readTensorProto(data0('test_cast_FLOAT_to_UINT2', 'output_0')).tensor.toNumbers()).toEqual([1, 2, 3, 0, 1, 2, 3]);
  });

  // Every file of the corpus: a tensor, a sequence or an optional, or a clear E_UNSUPPORTED; and a
  // tensor written back is the same bytes, except NaN payloads and empty tensors without raw_data.
  it.skipIf(!existsSync(NODE))('reads every node test file', () => {
    let tensors = 0;
    for (const test of readdirSync(NODE)) {
      for (let s = 0; existsSync(`${NODE}/${test}/test_data_set_${s}`); s++) {
        const dir = `${test}/test_data_set_${s}`;
        for (const file of readdirSync(`${NODE}/${dir}`)) {
          const bytes = pb(`${dir}/${file}`);
          let read: { name: string; tensor: Tensor };
          try {
            read = readTensorProto(bytes, file);
          } catch (e) {
            if (!(e instanceof AicError)) throw e;
            if (e.code === 'E_UNSUPPORTED' && /element type/.test(e.message)) continue;
            try {
              readSequenceProto(bytes);
            } catch {
              readOptionalProto(bytes, `${dir}/${file}`);
            }
            continue;
          }
          tensors++;
          const { name, tensor } = read;
          const back = writeTensorProto(tensor, name);
          expect(sameTensor(readTensorProto(back).tensor, tensor), `${dir}/${file}`).toBe(true);
          const hasNaN = tensor.toNumbers().some(Number.isNaN);
          const noRaw = decodeTensorProtoFields(bytes).rawData === undefined;
          if (!hasNaN && !noRaw) expect(Buffer.from(back).equals(bytes), `${dir}/${file}`).toBe(true);
        }
      }
    }
    expect(tensors).toBeGreaterThan(5000);
  });
});

describe('TensorProto storage forms', () => {
  const dims = (...ds: number[]): Bytes => ds.flatMap((d) => int(1, d));

  it('float_data packed and unpacked, and packed dims', () => {
    const a = readTensorProto(proto(packed(1, [2]), int(2, 1), len(4, le(Float32Array.of(1.5, -0)))));
    expect(a.tensor.toNumbers()).toEqual([1.5, -0]);
    const b = readTensorProto(proto(dims(2), int(2, 1), [...key(4, 5), ...le(Float32Array.of(3))], [...key(4, 5), ...le(Float32Array.of(-4))]));
    expect(b.tensor.toNumbers()).toEqual([3, -4]);
  });

  it('double_data', () => {
    const t = readTensorProto(proto(dims(1), int(2, 11), len(10, le(Float64Array.of(1e300))))).tensor;
    expect([t.dtype, t.toNumbers()]).toEqual(['f64', [1e300]]);
  });

  it('float16, bfloat16, bool and small ints in int32_data', () => {
    const f16 = readTensorProto(proto(dims(3), int(2, 10), packed(5, [0x3c00, 0xfc00, 0x7e00]))).tensor;
    expect([f16.dtype, f16.toNumbers()]).toEqual(['f16', [1, -Infinity, NaN]]);
    const bf16 = readTensorProto(proto(dims(2), int(2, 16), unpacked(5, [0x3f80, 0xc040]))).tensor;
    expect([bf16.dtype, bf16.toNumbers()]).toEqual(['bf16', [1, -3]]);
    const bool = readTensorProto(proto(dims(3), int(2, 9), packed(5, [1, 0, 1]))).tensor;
    expect([bool.dtype, bool.toNumbers()]).toEqual(['bool', [1, 0, 1]]);
    const i8 = readTensorProto(proto(dims(2), int(2, 3), packed(5, [-128, 127]))).tensor;
    expect([i8.dtype, i8.toNumbers()]).toEqual(['i8', [-128, 127]]);
    const u16 = readTensorProto(proto(dims(1), int(2, 4), packed(5, [65535]))).tensor;
    expect([u16.dtype, u16.toNumbers()]).toEqual(['u16', [65535]]);
    const i32 = readTensorProto(proto(dims(2), int(2, 6), unpacked(5, [-(2 ** 31), 2 ** 31 - 1]))).tensor;
    expect(i32.toNumbers()).toEqual([-(2 ** 31), 2 ** 31 - 1]);
  });

  it('int64_data and uint64_data exactly', () => {
    const i64 = readTensorProto(proto(dims(3), int(2, 7), packed(7, [-(2n ** 63n), 2n ** 63n - 1n, -1n]))).tensor;
    expect(Array.from(i64.data as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 63n - 1n, -1n]);
    const u64 = readTensorProto(proto(dims(2), int(2, 13), unpacked(11, [2n ** 64n - 1n, 2n ** 53n + 1n]))).tensor;
    expect(Array.from(u64.data as BigUint64Array)).toEqual([2n ** 64n - 1n, 2n ** 53n + 1n]);
    const u32 = readTensorProto(proto(dims(1), int(2, 12), packed(11, [2 ** 32 - 1]))).tensor;
    expect([u32.dtype, u32.toNumbers()]).toEqual(['u32', [2 ** 32 - 1]]);
  });

  it('a scalar and an empty tensor', () => {
    expect(readTensorProto(proto(int(2, 1), len(9, le(Float32Array.of(7))))).tensor.shape).toEqual([]);
    const empty = readTensorProto(proto(dims(0, 3), int(2, 1))).tensor;
    expect([empty.shape, empty.size]).toEqual([[0, 3], 0]);
  });

  it('decodes an embedded TensorProto from a Reader, as the model importer does', () => {
    const inner = writeTensorProto(Tensor.from('i32', [2], [5, -6]), 'w');
    const outer = proto(str(1, 'before'), len(5, inner), str(2, 'after'));
    const r = new protobuf.Reader(outer);
    r.skip(2 + 'before'.length);
    expect(r.uint32()).toBe((5 << 3) | 2);
    const got = decodeTensorProto(r, r.uint32(), 'model.onnx');
    expect([got.name, got.dims, got.dataType, got.tensor.toNumbers()]).toEqual(['w', [2], 6, [5, -6]]);
    expect(r.pos).toBe(outer.length - 2 - 'after'.length);
  });

  it('lets the loader fill in external data, then build the tensor', () => {
    const f = decodeTensorProtoFields(proto(dims(2), int(2, 1), str(8, 'w'),
      len(13, [...str(1, 'location'), ...str(2, 'w.bin')]), int(14, 1)));
    expect(f.externalData).toEqual([{ key: 'location', value: 'w.bin' }]);
    expect(aicError(() => tensorFromFields(f)).code).toBe('E_UNSUPPORTED');
    const t = tensorFromFields({ ...f, externalData: [], dataLocation: 0, rawData: new Uint8Array(le(Float32Array.of(1, 2))) });
    expect(t.toNumbers()).toEqual([1, 2]);
  });
});

describe('TensorProto errors', () => {
  it('an initializer shorter than its dims is E_MODEL naming it', () => {
    const e = aicError(() => decodeTensorProto(proto(int(1, 2), int(1, 3), int(2, 1), str(8, 'conv.W'), len(9, le(Float32Array.of(1, 2)))), undefined, 'm.onnx'));
    expect(e.code).toBe('E_MODEL');
    expect(e.message).toBe("m.onnx: tensor 'conv.W' is shorter than its dims: f32[2,3] needs 24 bytes, raw_data holds 8");
    const typed = aicError(() => readTensorProto(proto(int(1, 3), int(2, 7), str(8, 'idx'), packed(7, [1, 2]))));
    expect(typed.message).toMatch(/tensor 'idx' is shorter than its dims: i64\[3\] needs 3 elements, int64_data holds 2/);
    expect(aicError(() => readTensorProto(proto(int(1, 1), int(2, 1), packed(5, [1])))).message).toMatch(/belongs in float_data/);
    expect(aicError(() => readTensorProto(proto(int(1, 1), int(2, 1), len(9, le(Float32Array.of(1))), len(4, le(Float32Array.of(1)))))).message)
      .toMatch(/raw_data and float_data/);
  });

  it('dims beyond 2^31 elements are E_LIMIT, before any allocation', () => {
    const e = aicError(() => readTensorProto(proto(int(1, 2 ** 20), int(1, 2 ** 20), int(2, 1), str(8, 'huge'))));
    expect(e.code).toBe('E_LIMIT');
    expect(e.message).toMatch(/tensor 'huge'/);
    expect(aicError(() => readTensorProto(proto(int(1, -1), int(2, 1)))).code).toBe('E_MODEL');
  });

  it('refuses external data, naming the tensor', () => {
    const e = aicError(() => readTensorProto(proto(int(1, 2), int(2, 1), str(8, 'w'), len(13, [...str(1, 'location'), ...str(2, 'w.bin')])), 'w.pb'));
    expect(e.code).toBe('E_UNSUPPORTED');
    expect(e.message).toBe("w.pb: tensor 'w' keeps its data in an external file");
    expect(e.hint).toMatch(/model loader/);
  });

  it('unsupported elem types of sequences and optionals', () => {
    expect(aicError(() => readSequenceProto(proto(str(1, 's'), int(2, 4)))).code).toBe('E_UNSUPPORTED');
    expect(aicError(() => readSequenceProto(proto(str(1, 's'), len(6, [])))).message).toMatch(/map elements/);
    expect(aicError(() => readOptionalProto(proto(str(1, 'o'), len(4, [])))).message).toMatch(/sparse tensor/);
  });

  it('every cut of a real file is an AicError', () => {
    const bytes = data0('test_and2d', 'input_0');
    for (let n = 0; n < bytes.length; n++) {
      const e = aicError(() => readTensorProto(bytes.subarray(0, n), 'cut.pb'));
      expect(e.message).toMatch(/^cut\.pb: /);
    }
    const seq = data0('test_sequence_insert_at_back', 'input_0');
    // A cut between two fields is a shorter, still valid sequence; any other cut must fail.
    const between = new Set<number>([0]);
    const r = new protobuf.Reader(seq);
    while (r.pos < r.len) between.add(r.skipType(r.uint32() & 7).pos);
    for (let n = 1; n < seq.length; n++) {
      if (!between.has(n)) expect(() => readSequenceProto(seq.subarray(0, n)), `cut at ${n}`).toThrow(AicError);
    }
  });

  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: 500 })('random bytes give an AicError or a value', (junk) => {
    for (const read of [readTensorProto, readSequenceProto, readOptionalProto, decodeTensorProtoFields]) {
      try {
        read(junk);
      } catch (e) {
        expect(e).toBeInstanceOf(AicError);
      }
    }
  });
});
