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
    return [{ dtype, shape: dotShape(node, a.shape, b.shape, dotDims(node)) }];
  },
  eval(node, [a, b]) {
    return [evalDot(a!, b!, dotDims(node))];
  },
});

/** Reference contraction: operands are walked as [B, M, K] and [B, K, N] views; floats accumulate in double. */
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
  // Gather both operands into contiguous [B,M,K] and [B,K,N] buffers of doubles (or BigInts).
  const big = DTYPE_INFO[a.dtype].big;
  const A = gatherAxes(a, [dims.lhsBatch, aFree, dims.lhsContract], big);
  const Bm = gatherAxes(b, [dims.rhsBatch, dims.rhsContract, bFree], big);
  const d = out.data;
  if (big) {
    const x = A as BigInt64Array;
    const y = Bm as BigInt64Array;
    const o = d as BigInt64Array;
    for (let bi = 0; bi < B; bi++) {
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = 0n;
          for (let k = 0; k < K; k++) acc += x[(bi * M + m) * K + k]! * y[(bi * K + k) * N + n]!;
          o[(bi * M + m) * N + n] = acc;
        }
      }
    }
    return out;
  }
  const x = A as Float64Array;
  const y = Bm as Float64Array;
  const float = isFloat(a.dtype);
  const row = new Float64Array(N);
  const o = d as Float64Array;
  for (let bi = 0; bi < B; bi++) {
    for (let m = 0; m < M; m++) {
      row.fill(0);
      const xBase = (bi * M + m) * K;
      for (let k = 0; k < K; k++) {
        const xv = x[xBase + k]!;
        if (xv === 0 && float) {
          // 0 * inf and 0 * NaN are NaN: only skip when the row of y is finite.
          const yBase = (bi * K + k) * N;
          let finite = true;
          for (let n = 0; n < N; n++) if (!Number.isFinite(y[yBase + n]!)) { finite = false; break; }
          if (finite) continue;
        }
        const yBase = (bi * K + k) * N;
        if (float) for (let n = 0; n < N; n++) row[n]! += xv * y[yBase + n]!;
        else for (let n = 0; n < N; n++) row[n] = (row[n]! + Math.imul(xv, y[yBase + n]!)) | 0;
      }
      const oBase = (bi * M + m) * N;
      for (let n = 0; n < N; n++) o[oBase + n] = float ? roundToDType(a.dtype, row[n]!) : row[n]!;
    }
  }
  return out;
}

/** Copy a tensor's elements into row-major order of the given axis groups (concatenated). */
function gatherAxes(t: Tensor, groups: readonly (readonly number[])[], big: boolean): Float64Array | BigInt64Array {
  const axes = groups.flat();
  const shape = axes.map((i) => t.shape[i]!);
  const st = stridesOf(t.shape);
  const strides = axes.map((i) => st[i]!);
  const n = t.size;
  const out = big ? new BigInt64Array(n) : new Float64Array(n);
  const s = t.data as Float64Array;
  const idx = new Array<number>(axes.length).fill(0);
  let src = 0;
  for (let k = 0; k < n; k++) {
    out[k] = s[src]!;
    for (let ax = axes.length - 1; ax >= 0; ax--) {
      idx[ax]!++;
      src += strides[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      src -= strides[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
  return out;
}
