// Naive reference implementations of the movement, indexing and contraction prims, written from their
// definitions one multi-index at a time, independently of src/ir/prims. The prim tests check the
// (strided, vectorized) interpreter against them on random shapes.
import type { Tensor } from '../../src/ir/tensor.js';
import { Tensor as TensorClass } from '../../src/ir/tensor.js';

export type Elem = number | bigint;

/** Call f with every multi-index of shape, in row-major order. */
export function forEachIndex(shape: readonly number[], f: (idx: readonly number[]) => void): void {
  if (shape.some((d) => d === 0)) return;
  const idx = shape.map(() => 0);
  for (;;) {
    f(idx);
    let ax = shape.length - 1;
    while (ax >= 0) {
      if (++idx[ax]! < shape[ax]!) break;
      idx[ax] = 0;
      ax--;
    }
    if (ax < 0) return;
  }
}

export function flatIndex(shape: readonly number[], idx: readonly number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i]! + idx[i]!;
  return f;
}

export const at = (t: Tensor, idx: readonly number[]): Elem => t.data[flatIndex(t.shape, idx)]!;

/** A tensor of `shape` whose element at idx is f(idx) (stored raw: no conversion). */
export function build(like: Tensor, shape: readonly number[], f: (idx: readonly number[]) => Elem): Tensor {
  const out = TensorClass.zeros(like.dtype, shape);
  const d = out.data as unknown as Elem[];
  let k = 0;
  forEachIndex(shape, (idx) => {
    d[k++] = f(idx);
  });
  return out;
}

/** The indices one axis of a slice visits, by ONNX Slice's rules (negative from the end, clamped). */
export function sliceIndices(dim: number, start: number, stop: number, step: number): number[] {
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = stop < 0 ? stop + dim : stop;
  const out: number[] = [];
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
    for (let i = s; i < e; i += step) out.push(i);
  } else if (dim > 0) {
    s = clamp(s, 0, dim - 1);
    e = clamp(e, -1, dim - 1);
    for (let i = s; i > e; i += step) out.push(i);
  }
  return out;
}

export function naiveSlice(x: Tensor, axes: readonly number[], starts: readonly number[], stops: readonly number[], steps: readonly number[]): Tensor {
  const lists = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
  axes.forEach((a, i) => {
    lists[a] = sliceIndices(x.shape[a]!, starts[i]!, stops[i]!, steps[i]!);
  });
  return build(x, lists.map((l) => l.length), (idx) => at(x, idx.map((j, a) => lists[a]![j]!)));
}

export function naivePermute(x: Tensor, perm: readonly number[]): Tensor {
  return build(x, perm.map((p) => x.shape[p]!), (idx) => {
    const src = new Array<number>(x.rank);
    perm.forEach((p, i) => {
      src[p] = idx[i]!;
    });
    return at(x, src);
  });
}

export function naiveBroadcast(x: Tensor, shape: readonly number[]): Tensor {
  const off = shape.length - x.rank;
  return build(x, shape, (idx) => at(x, x.shape.map((d, i) => (d === 1 ? 0 : idx[off + i]!))));
}

export function naivePad(x: Tensor, pads: readonly number[], fill: Elem): Tensor {
  const r = x.rank;
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  return build(x, shape, (idx) => {
    const src = idx.map((j, i) => j - pads[i]!);
    return src.every((p, i) => p >= 0 && p < x.shape[i]!) ? at(x, src) : fill;
  });
}

export function naiveConcat(xs: readonly Tensor[], axis: number): Tensor {
  const shape = [...xs[0]!.shape];
  shape[axis] = xs.reduce((a, t) => a + t.shape[axis]!, 0);
  return build(xs[0]!, shape, (idx) => {
    let j = idx[axis]!;
    for (const t of xs) {
      if (j < t.shape[axis]!) return at(t, idx.map((v, i) => (i === axis ? j : v)));
      j -= t.shape[axis]!;
    }
    throw new Error('unreachable');
  });
}

export function naiveGather(x: Tensor, indices: Tensor, axis: number): Tensor {
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const q = indices.rank;
  return build(x, shape, (idx) => {
    const i = Number(at(indices, idx.slice(axis, axis + q)));
    const j = i < 0 ? i + x.shape[axis]! : i;
    return at(x, [...idx.slice(0, axis), j, ...idx.slice(axis + q)]);
  });
}
