// Decoding .onnx files: real models load, and every kind of bad file is one E_IO/E_PROTO error naming it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, test } from 'vitest';
import { AicError } from '../../src/ir/error.js';
import { decodeModelProto, int64ToBigInt, int64ToNumber } from '../../src/frontend/onnx/decode.js';
import { loadModelProto } from '../../src/driver/model-file.js';

const { onnx } = onnxProto;
const TESTS = fileURLToPath(new URL('../../../shared/onnx-tests/', import.meta.url));
const DENSENET = join(TESTS, 'light/light_densenet121.onnx');
const ABS = join(TESTS, 'node/test_abs/model.onnx');

const tmp = mkdtempSync(join(tmpdir(), 'aic-decode-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The AicError a call throws (fails the test when it throws something else or nothing). */
function errorOf(f: () => unknown): AicError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AicError);
    return e as AicError;
  }
  throw new Error('expected an AicError');
}

describe('loadModelProto', () => {
  test('decodes densenet121 with 64-bit fields as exact numbers', () => {
    const m = loadModelProto(DENSENET);
    expect(int64ToNumber(m.irVersion, 'ir_version')).toBe(3);
    expect(m.opsetImport.map((o) => [o.domain, int64ToNumber(o.version, 'opset')])).toEqual([['', 9]]);
    expect(m.graph.node).toHaveLength(1746);
    const data = m.graph.input.find((v) => v.name === 'data_0');
    expect(data?.type?.tensorType?.elemType).toBe(1);
    expect(data?.type?.tensorType?.shape?.dim.map((d) => int64ToNumber(d.dimValue, 'dim'))).toEqual([1, 3, 224, 224]);
  });

  test('a missing file is E_IO naming it', () => {
    const path = join(tmp, 'nope.onnx');
    const e = errorOf(() => loadModelProto(path));
    expect(e.code).toBe('E_IO');
    expect(e.message).toBe(`${path}: no such file`);
  });

  test('a directory is E_IO, with a hint when it holds model.onnx', () => {
    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    const e = errorOf(() => loadModelProto(bare));
    expect(e.code).toBe('E_IO');
    expect(e.message).toContain(`${bare}: is a directory`);
    expect(e.hint).toBeUndefined();
    const caseDir = join(TESTS, 'node/test_abs');
    expect(errorOf(() => loadModelProto(caseDir)).hint).toBe(`did you mean ${join(caseDir, 'model.onnx')}?`);
  });

  test('an empty file, random bytes and a truncated model are E_PROTO naming the file', () => {
    const empty = join(tmp, 'empty.onnx');
    writeFileSync(empty, new Uint8Array());
    expect(errorOf(() => loadModelProto(empty)).message).toBe(`${empty}: not a valid ONNX model: the file is empty`);

    const random = join(tmp, 'random.onnx');
    writeFileSync(random, randomBytes(4096, 7));
    const r = errorOf(() => loadModelProto(random));
    expect(r.code).toBe('E_PROTO');
    expect(r.message).toMatch(new RegExp(`^${escape(random)}: not a valid ONNX model: \\S`));

    const truncated = join(tmp, 'truncated.onnx');
    const bytes = readFileSync(DENSENET);
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const t = errorOf(() => loadModelProto(truncated));
    expect(t.code).toBe('E_PROTO');
    expect(t.message).toMatch(new RegExp(`^${escape(truncated)}: not a valid ONNX model: index out of range`));
  });
});

describe('decodeModelProto', () => {
  test('a protobuf that is not a model (no graph) is E_PROTO', () => {
    const noGraph = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'x' })).finish();
    const e = errorOf(() => decodeModelProto(noGraph, 'a.onnx'));
    expect(e.code).toBe('E_PROTO');
    expect(e.message).toBe('a.onnx: not a valid ONNX model: the protobuf decodes but has no graph');
  });

  test('a model without ir_version is E_PROTO', () => {
    const noIr = onnx.ModelProto.encode(onnx.ModelProto.create({ graph: { name: 'g' } })).finish();
    expect(errorOf(() => decodeModelProto(noIr, 'b.onnx')).message).toBe('b.onnx: not a valid ONNX model: it has no ir_version');
  });

  // protobufjs meets damaged input with assorted errors; all of them must come out as E_PROTO.
  test('arbitrary bytes decode to a model or fail with E_PROTO', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), (bytes) => {
      try {
        expect(decodeModelProto(bytes, 'r.onnx').graph).not.toBeNull();
      } catch (e) {
        expect(e).toBeInstanceOf(AicError);
        expect((e as AicError).code).toBe('E_PROTO');
        expect((e as AicError).message).toMatch(/^r\.onnx: not a valid ONNX model: [^\n]+$/);
      }
    }), { numRuns: 500 });
  });

  test('every prefix of a real model decodes or fails with E_PROTO', () => {
    const bytes = readFileSync(ABS);
    for (let n = 1; n < bytes.length; n++) {
      try {
        decodeModelProto(bytes.subarray(0, n), 'abs.onnx');
      } catch (e) {
        expect((e as AicError).code, `prefix ${n}`).toBe('E_PROTO');
      }
    }
  });
});

describe('int64 helpers', () => {
  const long = (high: number, low: number, unsigned = false) => ({ high, low, unsigned });

  test('convert Longs exactly', () => {
    expect(int64ToNumber(long(0, 224), 'd')).toBe(224);
    expect(int64ToNumber(long(-1, -1), 'd')).toBe(-1);
    expect(int64ToNumber(long(1, 0), 'd')).toBe(2 ** 32);
    expect(int64ToNumber(long(0x1fffff, -1), 'd')).toBe(Number.MAX_SAFE_INTEGER);
    expect(int64ToBigInt(long(-1, -1, true))).toBe(2n ** 64n - 1n);
    expect(int64ToBigInt(long(0x80000000 | 0, 0))).toBe(-(2n ** 63n));
    expect(int64ToNumber(5, 'd')).toBe(5);
  });

  test('refuse values beyond 2^53 with E_LIMIT', () => {
    const e = errorOf(() => int64ToNumber(long(0x200000, 1), 'dim 0'));
    expect(e.code).toBe('E_LIMIT');
    expect(e.message).toContain('dim 0');
  });
});

/** Deterministic bytes (a tiny LCG) so the test sees the same file every run. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
