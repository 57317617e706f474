import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { DTYPES } from '../../src/ir/dtype.js';
import { AicError } from '../../src/ir/error.js';
import { Tensor } from '../../src/ir/tensor.js';
import { readNpy, writeNpy } from '../../src/runtime/npy.js';
import { sameTensor, tensorArb } from './tensor-arb.js';

// Written by numpy 2.4 (fixtures/npy/make_npy.py).
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`fixtures/npy/${name}`, import.meta.url))));

/** A hand-built .npy with the given header text (version 1.0, padded the way numpy pads). */
function npyBytes(header: string, data: number[] = [], version = 1): Uint8Array {
  const lenBytes = version === 1 ? 2 : 4;
  const pad = (64 - ((8 + lenBytes + header.length + 1) % 64)) % 64;
  const text = `${header}${' '.repeat(pad)}\n`;
  const out = new Uint8Array(8 + lenBytes + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (lenBytes === 2) v.setUint16(8, text.length, true);
  else v.setUint32(8, text.length, true);
  out.set(new TextEncoder().encode(text), 8 + lenBytes);
  out.set(data, 8 + lenBytes + text.length);
  return out;
}

function aicCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AicError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('npy round trip', () => {
  test.prop([tensorArb()], { numRuns: 300 })('readNpy(writeNpy(t)) is t, for every dtype', (t) => {
    const back = readNpy(writeNpy(t), 'roundtrip', { expect: t.dtype });
    expect(sameTensor(back, t)).toBe(true);
  });

  it('covers every dtype', () => {
    for (const dtype of DTYPES) {
      const t = Tensor.from(dtype, [2], [1, 0]);
      expect(readNpy(writeNpy(t), 'x', { expect: dtype }).dtype).toBe(dtype);
    }
  });

  it('aligns the data to 64 bytes and writes version 1.0', () => {
    const bytes = writeNpy(Tensor.from('f32', [2, 3], [1, 2, 3, 4, 5, 6]));
    expect(bytes[6]).toBe(1);
    expect((bytes.length - 24) % 64).toBe(0);
  });

  it('writes version 2.0 when the header outgrows 64 KiB', () => {
    // 22000 dims of 1 make a header of ~66 KB of "1, " plus numpy's growth padding.
    const t = Tensor.from('u8', new Array<number>(22000).fill(1), [7]);
    const bytes = writeNpy(t);
    expect(bytes[6]).toBe(2);
    const back = readNpy(bytes);
    expect(back.shape.length).toBe(22000);
    expect(back.toNumbers()).toEqual([7]);
  });
});

describe('npy files written by numpy', () => {
  it('reads values, dtypes and shapes', () => {
    const f32 = readNpy(fixture('f32_2x3.npy'));
    expect([f32.dtype, f32.shape]).toEqual(['f32', [2, 3]]);
    expect(f32.toNumbers()).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);

    const f64 = readNpy(fixture('f64_scalar.npy'));
    expect([f64.dtype, f64.shape, f64.toNumbers()]).toEqual(['f64', [], [-2.5]]);

    const f16 = readNpy(fixture('f16_special.npy'));
    expect(f16.dtype).toBe('f16');
    const v = f16.toNumbers();
    expect(v[0]).toBe(1.5);
    expect(Object.is(v[1], -0)).toBe(true);
    expect(v.slice(2, 4)).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(v[4])).toBe(true);
    expect(v[5]).toBe(65504);
    expect(v[6]).toBe(2 ** -24); // 6e-8 rounds to the smallest subnormal

    const b = readNpy(fixture('bool_3.npy'));
    expect([b.dtype, b.toNumbers()]).toEqual(['bool', [1, 0, 1]]);

    expect(readNpy(fixture('empty_0x3.npy')).shape).toEqual([0, 3]);
  });

  it('reads integer extremes exactly', () => {
    const cases: [string, string, (number | bigint)[]][] = [
      ['i1_minmax.npy', 'i8', [-128, 127, 0, 1]],
      ['u1_minmax.npy', 'u8', [0, 255, 0, 1]],
      ['i2_minmax.npy', 'i16', [-32768, 32767, 0, 1]],
      ['u2_minmax.npy', 'u16', [0, 65535, 0, 1]],
      ['i4_minmax.npy', 'i32', [-(2 ** 31), 2 ** 31 - 1, 0, 1]],
      ['u4_minmax.npy', 'u32', [0, 2 ** 32 - 1, 0, 1]],
      ['i8_minmax.npy', 'i64', [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]],
      ['u8_minmax.npy', 'u64', [0n, 2n ** 64n - 1n, 1n, 2n ** 53n + 1n]],
    ];
    for (const [file, dtype, values] of cases) {
      const t = readNpy(fixture(file));
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.data as ArrayLike<number | bigint>)).toEqual(values);
    }
  });

  it('converts big-endian data', () => {
    expect(readNpy(fixture('be_f4_2x2.npy')).toNumbers()).toEqual([1, -2, 3.5, Infinity]);
    expect(Array.from(readNpy(fixture('be_i8.npy')).data as BigInt64Array)).toEqual([-(2n ** 63n), 1n, 2n ** 40n + 3n]);
    expect(readNpy(fixture('be_u2.npy')).toNumbers()).toEqual([1, 258, 65535]);
  });

  it('reads from a Node Buffer (a view into a shared pool) without touching it', () => {
    const path = fileURLToPath(new URL('fixtures/npy/be_i8.npy', import.meta.url));
    const buf = readFileSync(path);
    const before = Buffer.from(buf);
    expect(Array.from(readNpy(buf).data as BigInt64Array)).toEqual([-(2n ** 63n), 1n, 2n ** 40n + 3n]);
    expect(buf.equals(before)).toBe(true);
    const small = Buffer.concat([Buffer.from([1, 2, 3]), fixture('i4_minmax.npy')]).subarray(3);
    expect(readNpy(small).toNumbers()).toEqual([-(2 ** 31), 2 ** 31 - 1, 0, 1]);
  });

  it('transposes fortran_order data to C order', () => {
    const f = readNpy(fixture('fortran_f4_2x3x4.npy'));
    expect(f.shape).toEqual([2, 3, 4]);
    expect(f.toNumbers()).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const g = readNpy(fixture('fortran_i2_3x2.npy'));
    expect([g.dtype, g.shape, g.toNumbers()]).toEqual(['i16', [3, 2], [0, 1, 2, 3, 4, 5]]);
  });

  it('reads format versions 2.0 and 3.0', () => {
    expect(readNpy(fixture('v2_i4.npy')).toNumbers()).toEqual([0, 1, 2, 3, 4]);
    const v3 = readNpy(fixture('v3_f8.npy'));
    expect([v3.shape, v3.toNumbers()]).toEqual([[1, 2], [0.25, -1e300]]);
  });

  it('writes the same bytes numpy writes', () => {
    for (const file of ['f32_2x3.npy', 'f64_scalar.npy', 'f16_special.npy', 'bool_3.npy', 'empty_0x3.npy',
      'i1_minmax.npy', 'u2_minmax.npy', 'i8_minmax.npy', 'u8_minmax.npy']) {
      const bytes = fixture(file);
      expect(writeNpy(readNpy(bytes)), file).toEqual(bytes);
    }
  });

  it('reads the Python 2 long suffix and double-quoted keys', () => {
    const t = readNpy(npyBytes(`{"descr": "<i2", "fortran_order": False, "shape": (3L,), }`, [1, 0, 2, 0, 255, 255]));
    expect([t.dtype, t.shape, t.toNumbers()]).toEqual(['i16', [3], [1, 2, -1]]);
  });

  it('reads bf16 only when the caller says the 2-byte void is bf16', () => {
    const bytes = npyBytes(`{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }`, [0x80, 0x3f, 0xc0, 0xff]);
    expect(() => readNpy(bytes, 'w.npy')).toThrow(/w\.npy: descr '<V2' is an untyped 2-byte void/);
    const t = readNpy(bytes, 'w.npy', { expect: 'bf16' });
    expect(t.dtype).toBe('bf16');
    expect(t.num(0)).toBe(1);
    expect(Number.isNaN(t.num(1))).toBe(true);
  });
});

describe('npy errors', () => {
  it('names the file and what is wrong', () => {
    expect(() => readNpy(new Uint8Array([1, 2, 3]), 'a.npy')).toThrow(/^a\.npy: not a \.npy file \(bad magic\)$/);
    expect(aicCode(() => readNpy(fixture('c8.npy')))).toBe('E_PROTO');
    expect(() => readNpy(fixture('c8.npy'), 'c.npy')).toThrow(/c\.npy: unsupported descr '<c8'/);
    expect(() => readNpy(fixture('str.npy'), 's.npy')).toThrow(/unsupported descr '<U3'/);
    expect(() => readNpy(npyBytes(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`), 'r.npy'))
      .toThrow(/unsupported descr \[\['a', '<f4'\]\]/);
    expect(() => readNpy(npyBytes(`{'descr': '<f4', 'shape': (1,), }`))).toThrow(/fortran_order/);
    expect(() => readNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }`))).toThrow(/shape/);
    expect(() => readNpy(npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,) `))).toThrow(/malformed header/);
    const v9 = fixture('f32_2x3.npy').slice();
    v9[6] = 9;
    expect(() => readNpy(v9)).toThrow(/format version 9\.0/);
  });

  it('refuses shapes beyond the allocation limit before allocating', () => {
    const bytes = npyBytes(`{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }`);
    expect(aicCode(() => readNpy(bytes))).toBe('E_LIMIT');
  });

  it('reports truncation at every cut of a real file', () => {
    const bytes = fixture('fortran_f4_2x3x4.npy');
    for (let n = 0; n < bytes.length; n++) {
      expect(aicCode(() => readNpy(bytes.subarray(0, n), 'cut.npy'))).toBe('E_PROTO');
    }
    expect(() => readNpy(bytes.subarray(0, bytes.length - 1), 'cut.npy')).toThrow(/cut\.npy: truncated data: f32\[2,3,4\] needs 96 bytes, file has 95/);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.boolean()])('random bytes give an AicError or a tensor', (junk, withMagic) => {
    const bytes = withMagic ? new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, ...junk]) : junk;
    try {
      readNpy(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(AicError);
    }
  });
});
