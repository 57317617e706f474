// Contractions (ops/matmul.ts): MatMul's 1-D promotion and batch broadcasting, Gemm's attributes and
// bias forms, Einsum equations (diagonals, ellipsis broadcasting, implicit output, chains) and
// MatMulInteger against ONNX Runtime, Det against a double-precision reference, symbolic batch dims.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatType } from '../../../src/ir/graph.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode, expectTensor, ramp } from '../../support/check.js';
import { importNode, input, lowerNode, ortNode, runNode1, type Operand } from '../../support/onnx-node.js';

/** A tensor of small integers (exact in f32, so results compare exactly). */
const ints = (dtype: 'f32' | 'i32' | 'i64' | 'u8' | 'i8', shape: number[], seed: number, lo = -3, hi = 3): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed * 2654435761 >>> 0;
  const vals = Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = lo + (s >>> 16) % (hi - lo + 1);
    return dtype === 'i64' ? BigInt(v) : v;
  });
  return T(dtype, shape, vals);
};

async function sameAsOrt(op: string, opset: number, attrs: Parameters<typeof ortNode>[2], operands: Operand[]): Promise<void> {
  const want = (await ortNode(op, opset, attrs, operands))[0]!;
  expectTensor(runNode1(op, opset, attrs, operands), want.dtype, want.shape, want.data);
}

describe('MatMul', () => {
  const shapesArb = fc.record({
    batchA: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 }),
    batchB: fc.array(fc.constantFrom(1, 2, 3), { maxLength: 2 }),
    m: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 3 }),
    aVec: fc.boolean(), bVec: fc.boolean(), seed: fc.nat(),
  });
  test.prop([shapesArb], { numRuns: 60 })('matches ONNX Runtime with 1-D operands and broadcast batches', async (s) => {
    // Batch dims broadcast: where both have one, make them agree or be 1.
    const ba = s.batchA.map((d, i) => {
      const j = s.batchB.length - s.batchA.length + i;
      const e = s.batchB[j];
      return e === undefined || d === 1 || e === 1 || d === e ? d : 1;
    });
    const a = s.aVec ? [s.k] : [...ba, s.m, s.k];
    const b = s.bVec ? [s.k] : [...s.batchB, s.k, s.n];
    await sameAsOrt('MatMul', 13, {}, [input(ints('f32', a, s.seed)), input(ints('f32', b, s.seed + 1))]);
  });

  it('keeps symbolic batch dims and runs with them', () => {
    const a = input(ramp('f32', [2, 3, 4]), ['N', 3, 4]);
    const type = (b: Operand): string => formatType(importNode('MatMul', 13, {}, [a, b]).graph.outputs[0]!.type);
    expect(type(input(ramp('f32', [4, 5])))).toBe('f32[N,3,5]');
    expect(type(input(ramp('f32', [2, 4, 5]), ['N', 4, 5]))).toBe('f32[N,3,5]');
    expect(type(input(ramp('f32', [4])))).toBe('f32[N,3]');
    const y = runNode1('MatMul', 13, {}, [a, input(ramp('f32', [1, 4, 1]))]);
    expectTensor(y, 'f32', [2, 3, 1], [14, 38, 62, 86, 110, 134]);
  });

  it('gives zeros for K = 0 (ONNX Runtime leaves garbage there)', () => {
    expectTensor(runNode1('MatMul', 13, {}, [input(ramp('f32', [2, 0])), input(ramp('f32', [0]))]), 'f32', [2], [0, 0]);
  });

  it('multiplies integers exactly and refuses mismatched K', () => {
    const y = runNode1('MatMul', 13, {}, [input(T('i64', [1, 2], [2n ** 40n, 3n])), input(T('i64', [2, 1], [2n ** 20n, 1n]))]);
    expectTensor(y, 'i64', [1, 1], [2n ** 60n + 3n]);
    expect(errorCode(() => lowerNode('MatMul', 13, {}, [input(ramp('f32', [2, 3])), input(ramp('f32', [4, 2]))]))).toBe('E_TYPE');
  });
});

describe('Gemm', () => {
  const cases: [string, Record<string, number | { f: number }>, number[], number[], number[] | null][] = [
    ['plain', {}, [2, 3], [3, 4], null],
    ['transposed', { transA: 1, transB: 1 }, [3, 2], [4, 3], [4]],
    ['scaled', { alpha: { f: 0.5 }, beta: { f: -2 } }, [2, 3], [3, 4], [2, 1]],
    ['scalar bias', { beta: { f: 3 } }, [2, 3], [3, 4], []],
    ['matrix bias', { transB: 1 }, [2, 3], [4, 3], [2, 4]],
  ];
  for (const [name, attrs, a, b, c] of cases) {
    it(`${name} matches ONNX Runtime`, async () => {
      const ops = [input(ints('f32', a, 1)), input(ints('f32', b, 2)), ...(c ? [input(ints('f32', c, 3))] : [])];
      await sameAsOrt('Gemm', 13, attrs, ops);
    });
  }

  it('opset 6 (broadcast attribute, C required) lowers the same', () => {
    const y = runNode1('Gemm', 6, { broadcast: 1 }, [input(ramp('f32', [1, 2])), input(ramp('f32', [2, 2])), input(T('f32', [2], [10, 20]))]);
    expectTensor(y, 'f32', [1, 2], [12, 23]);
  });
});

describe('Einsum', () => {
  const equations: [string, number[][]][] = [
    ['ij,jk->ik', [[2, 3], [3, 4]]],
    ['bij,bjk->bik', [[2, 2, 3], [2, 3, 2]]],
    ['ii->i', [[3, 3]]],
    ['ii', [[3, 3]]],
    ['bii->bi', [[2, 3, 3]]],
    ['iij->j', [[2, 2, 3]]],
    ['ij->', [[2, 3]]],
    ['ba', [[2, 3]]],
    ['ij,jk', [[2, 3], [3, 2]]],
    ['i,i', [[4], [4]]],
    ['i,j->ij', [[2], [3]]],
    ['ij,jk,kl->il', [[2, 3], [3, 2], [2, 2]]],
    ['ij,ij->ij', [[2, 3], [2, 3]]],
    ['...ij,...jk->...ik', [[2, 4, 2, 3], [2, 4, 3, 2]]],
    ['...ii->...i', [[2, 3, 3]]],
    ['i...,i...->...', [[2, 3], [2, 1]]],
    ['Ab,bA->A', [[2, 3], [3, 2]]],
    ['bn,anm,bm->ba', [[2, 3], [4, 3, 2], [2, 2]]],
  ];
  for (const [eq, shapes] of equations) {
    it(`${eq} matches ONNX Runtime`, async () => {
      await sameAsOrt('Einsum', 12, { equation: eq }, shapes.map((s, i) => input(ints('f32', s, i + 5))));
    });
  }

  it('broadcasts size-1 ellipsis dims as MatMul does (ONNX Runtime refuses this)', () => {
    const ops = [input(ints('f32', [2, 1, 2, 3], 1)), input(ints('f32', [4, 3, 2], 2))];
    const want = runNode1('MatMul', 13, {}, ops);
    expectTensor(runNode1('Einsum', 12, { equation: '...ij,...jk->...ik' }, ops), 'f32', [2, 4, 2, 2], want.data);
  });

  it('reports malformed equations as type errors', () => {
    const x = input(ramp('f32', [2, 3]));
    expect(errorCode(() => lowerNode('Einsum', 12, { equation: 'ijk->i' }, [x]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Einsum', 12, { equation: 'ij->k' }, [x]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Einsum', 12, { equation: 'i1->i' }, [x]))).toBe('E_TYPE');
    expect(errorCode(() => lowerNode('Einsum', 12, { equation: 'ij,jk->ik' }, [x, input(ramp('f32', [2, 2]))]))).toBe('E_TYPE');
  });
});

describe('MatMulInteger', () => {
  it('matches ONNX Runtime with scalar and per-row/per-column zero points', async () => {
    const a = input(ints('u8', [3, 4], 1, 0, 255));
    const b = input(ints('u8', [4, 2], 2, 0, 255));
    await sameAsOrt('MatMulInteger', 10, {}, [a, b]);
    await sameAsOrt('MatMulInteger', 10, {}, [a, b, input(T('u8', [], [12])), input(T('u8', [], [200]))]);
    // Per-row zero points of A (ONNX allows them; ONNX Runtime does not): subtract them by hand.
    const az = [1, 2, 3];
    const bz = [4, 5];
    const y = runNode1('MatMulInteger', 10, {}, [a, b, input(T('u8', [3], az)), input(T('u8', [2], bz))]);
    const av = a.value.toNumbers();
    const bv = b.value.toNumbers();
    const want = [...Array(6).keys()].map((o) => {
      const [i, j] = [Math.floor(o / 2), o % 2];
      return [0, 1, 2, 3].reduce((acc, k) => acc + (av[i * 4 + k]! - az[i]!) * (bv[k * 2 + j]! - bz[j]!), 0);
    });
    expectTensor(y, 'i32', [3, 2], want);
    await sameAsOrt('MatMulInteger', 10, {}, [input(ints('i8', [2, 3, 4], 3, -128, 127)), input(ints('i8', [4, 2], 4, -128, 127))]);
  });
});

describe('Det', () => {
  /** Determinant in double precision by cofactor expansion. */
  const det = (m: number[][]): number => (m.length === 0 ? 1 : m[0]!.reduce((acc, v, j) => acc + (j % 2 ? -1 : 1) * v * det(m.slice(1).map((r) => r.filter((_, c) => c !== j))), 0));
  test.prop([fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 32, maxLength: 32 })], { numRuns: 60 })(
    'matches cofactor expansion (zero pivots, singular matrices, a batch of 2)', (n, vals) => {
      const x = T('f32', [2, n, n], vals.slice(0, 2 * n * n));
      const got = runNode1('Det', 22, {}, [input(x)]);
      expect(got.shape).toEqual([2]);
      for (let b = 0; b < 2; b++) {
        const m = [...Array(n).keys()].map((i) => vals.slice(b * n * n + i * n, b * n * n + (i + 1) * n));
        expect(got.data[b]).toBeCloseTo(det(m), 3);
      }
    });

  it('needs a pivot for [[0,1],[1,0]] and gives 1 for an empty matrix', () => {
    expectTensor(runNode1('Det', 22, {}, [input(T('f32', [2, 2], [0, 1, 1, 0]))]), 'f32', [], [-1]);
    expectTensor(runNode1('Det', 22, {}, [input(T('f32', [3, 0, 0], []))]), 'f32', [3], [1, 1, 1]);
    expect(errorCode(() => lowerNode('Det', 22, {}, [input(ramp('f32', [2, 3]))]))).toBe('E_UNSUPPORTED');
    expect(formatType(importNode('Det', 22, {}, [input(ramp('f32', [2, 2, 2]), ['N', 2, 2])]).graph.outputs[0]!.type)).toBe('f32[N]');
  });
});


