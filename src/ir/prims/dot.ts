// dot: a general contraction (XLA's DotGeneral). Result dims: batch dims, then the free dims of lhs,
// then the free dims of rhs, each in operand order. MatMul, Gemm, Conv (on windows) and Einsum lower to it.
import { DTYPE_INFO, isFloat } from '../dtype.js';
import { registerOp } from '../op.js';
import type { Node, TensorType } from '../graph.js';
import { fail } from '../error.js';
import type { Dim } from '../shape.js';
import { stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { roundToDType } from '../numeric.js';
import { expectDType, operand, sameDType, stridedCopy } from './common.js';

export interface DotDims {
  readonly lhsBatch: readonly number[];
  readonly rhsBatch: readonly number[];
  readonly lhsContract: readonly number[];
  readonly rhsContract: readonly number[];
}

export function dotDims(node: Node): DotDims {
  return {
    lhsBatch: node.ints('lhs_batch', []),
    rhsBatch: node.ints('rhs_batch', []),
    lhsContract: node.ints('lhs_contract'),
    rhsContract: node.ints('rhs_contract'),
  };
}

const freeAxes = (rank: number, used: readonly number[]): number[] => [...Array(rank).keys()].filter((i) => !used.includes(i));

/** Result shape of a dot, checking that paired dims agree. */
export function dotShape(node: Node, a: readonly Dim[], b: readonly Dim[], dims: DotDims): Dim[] {
  const pairs: [readonly number[], readonly number[], string][] = [
    [dims.lhsBatch, dims.rhsBatch, 'batch'],
    [dims.lhsContract, dims.rhsContract, 'contracting'],
  ];
  for (const [l, r, what] of pairs) {
    if (l.length !== r.length) fail('E_TYPE', `${node.describe()}: ${what} dims of lhs and rhs differ in number`);
    l.forEach((ax, i) => {
      const da = a[ax];
      const db = b[r[i]!];
      if (da === undefined || db === undefined) fail('E_TYPE', `${node.describe()}: ${what} dim out of range`);
      if (da !== db && typeof da === 'number' && typeof db === 'number') {
        fail('E_TYPE', `${node.describe()}: ${what} dims differ: lhs [${a.join(',')}] dim ${ax} vs rhs [${b.join(',')}] dim ${r[i]}`);
      }
    });
  }
  const used = new Set([...dims.lhsBatch, ...dims.lhsContract]);
  if (used.size !== dims.lhsBatch.length + dims.lhsContract.length) fail('E_TYPE', `${node.describe()}: an lhs dim is used twice`);
  const usedR = new Set([...dims.rhsBatch, ...dims.rhsContract]);
  if (usedR.size !== dims.rhsBatch.length + dims.rhsContract.length) fail('E_TYPE', `${node.describe()}: an rhs dim is used twice`);
  return [
    ...dims.lhsBatch.map((i) => a[i]!),
    ...freeAxes(a.length, [...used]).map((i) => a[i]!),
    ...freeAxes(b.length, [...usedR]).map((i) => b[i]!),
  ];
}

registerOp({
  name: 'prim.dot',
  summary: 'general contraction: sum over contracting dims; result is batch ++ lhs free ++ rhs free',
  arity: { min: 2, max: 2 },
  attrs: {
    lhs_batch: { kind: 'ints' },
    rhs_batch: { kind: 'ints' },
    lhs_contract: { kind: 'ints', required: true },
    rhs_contract: { kind: 'ints', required: true },
  },
  infer(node: Node, inputs: readonly (TensorType | null)[]) {
    const a = operand(node, inputs, 0);
    const b = operand(node, inputs, 1);
    const dtype = sameDType(node, [a, b]);
    expectDType(node, a, 'numeric');
    return [{ dtype, shape: dotShape(node, a.shape, b.shape, dotDims(node)) }];
  },
  eval(node, [a, b]) {
    return [evalDot(a!, b!, dotDims(node))];
  },
});

/** Reference contraction: operands are gathered as [B, M, K] and [B, N, K] (contracting dims innermost)
 * and each result element is a sum over k in order; floats accumulate in double and round once. */
export function evalDot(a: Tensor, b: Tensor, dims: DotDims): Tensor {
  const aFree = freeAxes(a.rank, [...dims.lhsBatch, ...dims.lhsContract]);
  const bFree = freeAxes(b.rank, [...dims.rhsBatch, ...dims.rhsContract]);
  const size = (t: Tensor, axes: readonly number[]): number => axes.reduce((p, i) => p * t.shape[i]!, 1);
  const B = size(a, dims.lhsBatch);
  const M = size(a, aFree);
  const K = size(a, dims.lhsContract);
  const N = size(b, bFree);
  const outShape = [...dims.lhsBatch.map((i) => a.shape[i]!), ...aFree.map((i) => a.shape[i]!), ...bFree.map((i) => b.shape[i]!)];
  const out = Tensor.zeros(a.dtype, outShape);
  if (out.size === 0) return out;
  const big = DTYPE_INFO[a.dtype].big;
  const x = gatherAxes(a, [dims.lhsBatch, aFree, dims.lhsContract], big);
  const y = gatherAxes(b, [dims.rhsBatch, bFree, dims.rhsContract], big);
  if (big) {
    const xs = x as BigInt64Array;
    const ys = y as BigInt64Array;
    const o = out.data as BigInt64Array;
    for (let bi = 0; bi < B; bi++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0n;
          const xb = (bi * M + m) * K;
          const yb = (bi * N + n) * K;
          for (let k = 0; k < K; k++) acc += xs[xb + k]! * ys[yb + k]!;
          o[(bi * M + m) * N + n] = acc;
        }
      }
    }
    return out;
  }
  const xs = x as Float64Array;
  const ys = y as Float64Array;
  const o = out.data as Float64Array;
  if (!isFloat(a.dtype)) {
    // Small integers wrap modulo 2^32 at every step, so the low bits stay exact.
    for (let bi = 0; bi < B; bi++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0;
          const xb = (bi * M + m) * K;
          const yb = (bi * N + n) * K;
          for (let k = 0; k < K; k++) acc = (acc + Math.imul(xs[xb + k]!, ys[yb + k]!)) | 0;
          o[(bi * M + m) * N + n] = acc;
        }
      }
    }
    return out;
  }
  const acc = new Float64Array(M * N);
  const narrow = a.dtype === 'f16' || a.dtype === 'bf16';
  for (let bi = 0; bi < B; bi++) {
    dotTiles(xs, bi * M * K, ys, bi * N * K, acc, M, K, N);
    const base = bi * M * N;
    if (narrow) for (let i = 0; i < M * N; i++) o[base + i] = roundToDType(a.dtype, acc[i]!);
    else o.set(acc, base); // a Float32Array rounds each double to nearest, as roundToDType does
  }
  return out;
}

/**
 * c[m,n] = Σ_k x[m,k]·y[n,k] in double, k in order (so the result does not depend on the tiling).
 * 4×4 tiles of results share their loads: the interpreter runs every convolution through here.
 */
function dotTiles(x: Float64Array, xOff: number, y: Float64Array, yOff: number, c: Float64Array, M: number, K: number, N: number): void {
  const m4 = M - (M % 4);
  const n4 = N - (N % 4);
  for (let n = 0; n < n4; n += 4) {
    const b0 = yOff + n * K;
    const b1 = b0 + K;
    const b2 = b1 + K;
    const b3 = b2 + K;
    for (let m = 0; m < m4; m += 4) {
      const a0 = xOff + m * K;
      const a1 = a0 + K;
      const a2 = a1 + K;
      const a3 = a2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = y[b0 + k]!;
        const y1 = y[b1 + k]!;
        const y2 = y[b2 + k]!;
        const y3 = y[b3 + k]!;
        let v = x[a0 + k]!;
        s00 += v * y0; s01 += v * y1; s02 += v * y2; s03 += v * y3;
        v = x[a1 + k]!;
        s10 += v * y0; s11 += v * y1; s12 += v * y2; s13 += v * y3;
        v = x[a2 + k]!;
        s20 += v * y0; s21 += v * y1; s22 += v * y2; s23 += v * y3;
        v = x[a3 + k]!;
        s30 += v * y0; s31 += v * y1; s32 += v * y2; s33 += v * y3;
      }
      let r = m * N + n;
      c[r] = s00; c[r + 1] = s01; c[r + 2] = s02; c[r + 3] = s03;
      r += N;
      c[r] = s10; c[r + 1] = s11; c[r + 2] = s12; c[r + 3] = s13;
      r += N;
      c[r] = s20; c[r + 1] = s21; c[r + 2] = s22; c[r + 3] = s23;
      r += N;
      c[r] = s30; c[r + 1] = s31; c[r + 2] = s32; c[r + 3] = s33;
    }
  }
  // The ragged edges: rows past the last full tile, then columns past it.
  const single = (m: number, n: number): void => {
    const a = xOff + m * K;
    const bb = yOff + n * K;
    let s = 0;
    for (let k = 0; k < K; k++) s += x[a + k]! * y[bb + k]!;
    c[m * N + n] = s;
  };
  for (let m = m4; m < M; m++) for (let n = 0; n < N; n++) single(m, n);
  for (let m = 0; m < m4; m++) for (let n = n4; n < N; n++) single(m, n);
}

/** Copy a tensor's elements into row-major order of the given axis groups (concatenated). */
function gatherAxes(t: Tensor, groups: readonly (readonly number[])[], big: boolean): Float64Array | BigInt64Array {
  const axes = groups.flat();
  const shape = axes.map((i) => t.shape[i]!);
  const st = stridesOf(t.shape);
  const out = big ? new BigInt64Array(t.size) : new Float64Array(t.size);
  stridedCopy(out, 0, stridesOf(shape), t.data, 0, axes.map((i) => st[i]!), shape);
  return out;
}
