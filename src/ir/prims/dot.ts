// dot: a general contraction (XLA's DotGeneral). Result dims: batch dims, then the free dims of lhs,
// then the free dims of rhs, each in operand order. MatMul, Gemm, Conv (on windows) and Einsum lower to it.
import { DTYPE_INFO, isFloat, isNarrow, type Storage } from '../dtype.js';
import { registerOp } from '../op.js';
import type { Node, TensorType } from '../graph.js';
import { fail } from '../error.js';
import type { Dim } from '../shape.js';
import { stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { roundToDType } from '../numeric.js';
import { expectDType, operand, sameDType } from './common.js';

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
    // A contraction accumulates far past what float8, float4 or a 4-bit integer holds; no ONNX op asks it.
    if (isNarrow(dtype)) fail('E_TYPE', `${node.describe()}: dot does not compute with ${dtype}; cast the operands to f32 or i32 first`);
    return [{ dtype, shape: dotShape(node, a.shape, b.shape, dotDims(node)) }];
  },
  eval(node, [a, b]) {
    return [evalDot(a!, b!, dotDims(node))];
  },
});

/** Reference contraction: each result element is a sum over the contracting dims in row-major order;
 * floats accumulate in double and round once, small integers wrap, 64-bit integers are exact. */
export function evalDot(a: Tensor, b: Tensor, dims: DotDims): Tensor {
  const aFree = freeAxes(a.rank, [...dims.lhsBatch, ...dims.lhsContract]);
  const bFree = freeAxes(b.rank, [...dims.rhsBatch, ...dims.rhsContract]);
  const outShape = [...dims.lhsBatch.map((i) => a.shape[i]!), ...aFree.map((i) => a.shape[i]!), ...bFree.map((i) => b.shape[i]!)];
  const out = Tensor.zeros(a.dtype, outShape);
  if (out.size === 0) return out;
  // Offsets of every batch, free and contracting multi-index in each operand (row-major within each).
  const aBatch = axisOffsets(a, dims.lhsBatch);
  const aRows = axisOffsets(a, aFree);
  const aK = axisOffsets(a, dims.lhsContract);
  const rhs: Rhs = { data: b.data, batch: axisOffsets(b, dims.rhsBatch), cols: axisOffsets(b, bFree), k: axisOffsets(b, dims.rhsContract) };
  const [B, M, K, N] = [aBatch.length, aRows.length, aK.length, rhs.cols.length];
  // The lhs as a contiguous [B, M, K]: the inner loops read it along k.
  const big = DTYPE_INFO[a.dtype].big;
  const x = big ? new BigInt64Array(B * M * K) : new Float64Array(B * M * K);
  const src = a.data as Float64Array;
  const dst = x as Float64Array; // elements move as they are (numbers, or BigInts in both)
  for (let bi = 0, i = 0; bi < B; bi++) {
    for (let m = 0; m < M; m++) {
      const base = aBatch[bi]! + aRows[m]!;
      for (let k = 0; k < K; k++) dst[i++] = src[base + aK[k]!]!;
    }
  }
  if (big) {
    const xs = x as BigInt64Array;
    const ys = rhs.data as BigInt64Array;
    const o = out.data as BigInt64Array;
    for (let bi = 0; bi < B; bi++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0n;
          const xb = (bi * M + m) * K;
          const yb = rhs.batch[bi]! + rhs.cols[n]!;
          for (let k = 0; k < K; k++) acc += xs[xb + k]! * ys[yb + rhs.k[k]!]!;
          o[(bi * M + m) * N + n] = acc;
        }
      }
    }
    return out;
  }
  const xs = x as Float64Array;
  const o = out.data as Float64Array;
  if (!isFloat(a.dtype)) {
    // Small integers wrap modulo 2^32 at every step, so the low bits stay exact.
    const ys = rhs.data as Int32Array;
    for (let bi = 0; bi < B; bi++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0;
          const xb = (bi * M + m) * K;
          const yb = rhs.batch[bi]! + rhs.cols[n]!;
          for (let k = 0; k < K; k++) acc = (acc + Math.imul(xs[xb + k]!, ys[yb + rhs.k[k]!]!)) | 0;
          o[(bi * M + m) * N + n] = acc;
        }
      }
    }
    return out;
  }
  const acc = new Float64Array(M * N);
  const narrow = a.dtype === 'f16' || a.dtype === 'bf16';
  for (let bi = 0; bi < B; bi++) {
    dotTiles(xs, bi * M * K, rhs, bi, acc, M, K, N);
    const base = bi * M * N;
    if (narrow) for (let i = 0; i < M * N; i++) o[base + i] = roundToDType(a.dtype, acc[i]!);
    else o.set(acc, base); // a Float32Array rounds each double to nearest, as roundToDType does
  }
  return out;
}

/** The rhs as it is stored: element (k, n) of batch b is at batch[b] + cols[n] + k[k]. */
interface Rhs {
  readonly data: Storage;
  readonly batch: Int32Array;
  readonly cols: Int32Array;
  readonly k: Int32Array;
}

/**
 * c[m,n] = Σ_k x[m·K + k]·y(k, n) in double, k in order (so the result does not depend on the tiling).
 * Four columns of y are copied to a contiguous panel, then 4×4 tiles of results share their loads:
 * the interpreter runs every convolution and matmul through here.
 */
function dotTiles(x: Float64Array, xOff: number, rhs: Rhs, bi: number, c: Float64Array, M: number, K: number, N: number): void {
  const y = rhs.data as Float64Array;
  const p = new Float64Array(4 * K);
  const m4 = M - (M % 4);
  for (let n = 0; n < N; n += 4) {
    const cols = Math.min(4, N - n);
    if (cols === 4) {
      const base = rhs.batch[bi]!;
      const c0 = base + rhs.cols[n]!;
      const c1 = base + rhs.cols[n + 1]!;
      const c2 = base + rhs.cols[n + 2]!;
      const c3 = base + rhs.cols[n + 3]!;
      for (let k = 0; k < K; k++) {
        const o = rhs.k[k]!;
        p[k] = y[c0 + o]!;
        p[K + k] = y[c1 + o]!;
        p[2 * K + k] = y[c2 + o]!;
        p[3 * K + k] = y[c3 + o]!;
      }
    } else {
      p.fill(0);
      for (let j = 0; j < cols; j++) {
        const src = rhs.batch[bi]! + rhs.cols[n + j]!;
        for (let k = 0; k < K; k++) p[j * K + k] = y[src + rhs.k[k]!]!;
      }
    }
    for (let m = 0; m < m4; m += 4) {
      const a0 = xOff + m * K;
      const a1 = a0 + K;
      const a2 = a1 + K;
      const a3 = a2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = p[k]!;
        const y1 = p[K + k]!;
        const y2 = p[2 * K + k]!;
        const y3 = p[3 * K + k]!;
        let v = x[a0 + k]!;
        s00 += v * y0; s01 += v * y1; s02 += v * y2; s03 += v * y3;
        v = x[a1 + k]!;
        s10 += v * y0; s11 += v * y1; s12 += v * y2; s13 += v * y3;
        v = x[a2 + k]!;
        s20 += v * y0; s21 += v * y1; s22 += v * y2; s23 += v * y3;
        v = x[a3 + k]!;
        s30 += v * y0; s31 += v * y1; s32 += v * y2; s33 += v * y3;
      }
      storeRow(c, m * N + n, cols, s00, s01, s02, s03);
      storeRow(c, (m + 1) * N + n, cols, s10, s11, s12, s13);
      storeRow(c, (m + 2) * N + n, cols, s20, s21, s22, s23);
      storeRow(c, (m + 3) * N + n, cols, s30, s31, s32, s33);
    }
    for (let m = m4; m < M; m++) {
      const a = xOff + m * K;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const v = x[a + k]!;
        s0 += v * p[k]!; s1 += v * p[K + k]!; s2 += v * p[2 * K + k]!; s3 += v * p[3 * K + k]!;
      }
      storeRow(c, m * N + n, cols, s0, s1, s2, s3);
    }
  }
}

/** Store the first `cols` of four results at c[at…]. */
function storeRow(c: Float64Array, at: number, cols: number, s0: number, s1: number, s2: number, s3: number): void {
  c[at] = s0;
  if (cols > 1) c[at + 1] = s1;
  if (cols > 2) c[at + 2] = s2;
  if (cols > 3) c[at + 3] = s3;
}

/** The storage offset of every multi-index over `axes` of t, row-major (one entry, 0, for no axes). */
function axisOffsets(t: Tensor, axes: readonly number[]): Int32Array {
  const st = stridesOf(t.shape);
  const dims = axes.map((i) => t.shape[i]!);
  const strides = axes.map((i) => st[i]!);
  const off = new Int32Array(dims.reduce((p, d) => p * d, 1));
  const idx = new Array<number>(dims.length).fill(0);
  let at = 0;
  for (let i = 0; i < off.length; i++) {
    off[i] = at;
    for (let ax = dims.length - 1; ax >= 0; ax--) {
      at += strides[ax]!;
      if (++idx[ax]! < dims[ax]!) break;
      at -= strides[ax]! * dims[ax]!;
      idx[ax] = 0;
    }
  }
  return off;
}
