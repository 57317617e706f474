// Shared pieces of the prim definitions: operand checks for inference, and broadcast indexing for eval.
import type { DType, Storage } from '../dtype.js';
import { DTYPE_INFO, isFloat } from '../dtype.js';
import type { Node, TensorType } from '../graph.js';
import { formatType } from '../graph.js';
import { fail } from '../error.js';
import { numel, stridesOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

export type DTypeClass = 'any' | 'float' | 'int' | 'numeric' | 'bool' | 'intOrBool' | 'index';

const CLASS_TEST: Record<DTypeClass, (t: DType) => boolean> = {
  any: () => true,
  float: (t) => isFloat(t),
  int: (t) => DTYPE_INFO[t].kind === 'int' || DTYPE_INFO[t].kind === 'uint',
  numeric: (t) => t !== 'bool',
  bool: (t) => t === 'bool',
  intOrBool: (t) => !isFloat(t),
  index: (t) => t === 'i32' || t === 'i64',
};

/** The type of operand i, which must be present. */
export function operand(node: Node, inputs: readonly (TensorType | null)[], i: number): TensorType {
  const t = inputs[i];
  if (!t) fail('E_TYPE', `${node.describe()}: operand ${i} is missing`);
  return t;
}

/** Check an operand's dtype against a class, naming the node and the rule when it does not fit. */
export function expectDType(node: Node, t: TensorType, cls: DTypeClass, which = 'operand'): void {
  if (!CLASS_TEST[cls](t.dtype)) {
    fail('E_TYPE', `${node.describe()}: ${which} has type ${formatType(t)}, expected a ${cls} dtype`);
  }
}

/** All operands must share one dtype; returns it. */
export function sameDType(node: Node, types: readonly TensorType[]): DType {
  const d = types[0]!.dtype;
  for (const t of types) {
    if (t.dtype !== d) {
      fail('E_TYPE', `${node.describe()}: operands have different dtypes (${types.map(formatType).join(', ')})`);
    }
  }
  return d;
}

/** The declared type of a node's single result (for ops whose result type is their target). */
export function declared(node: Node): TensorType {
  const v = node.outputs[0];
  if (!v) fail('E_TYPE', `${node.describe()}: the result type must be declared`);
  return v.type;
}

/** Sorted, unique, in-range axes, or a clear error. */
export function checkAxes(node: Node, axes: readonly number[], rank: number, what = 'axes'): void {
  for (let i = 0; i < axes.length; i++) {
    const a = axes[i]!;
    if (!Number.isInteger(a) || a < 0 || a >= rank) fail('E_TYPE', `${node.describe()}: ${what} ${a} out of range for rank ${rank}`);
    if (i > 0 && a <= axes[i - 1]!) fail('E_TYPE', `${node.describe()}: ${what} must be sorted and unique, got [${axes.join(',')}]`);
  }
}

/**
 * For each flat index of `outShape`, the flat index of the element of an operand of shape `inShape`
 * that numpy broadcasting reads. Returns null when the shapes are equal (the identity map).
 */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array | null {
  if (inShape.length === outShape.length && inShape.every((d, i) => d === outShape[i])) return null;
  const n = numel(outShape);
  const idx = new Int32Array(n);
  const rank = outShape.length;
  const off = rank - inShape.length;
  const inStrides = stridesOf(inShape);
  // Effective stride of each output axis in the input: 0 where the input is broadcast.
  const st = outShape.map((_, i) => (i < off || inShape[i - off] === 1 ? 0 : inStrides[i - off]!));
  const counter = new Array<number>(rank).fill(0);
  let src = 0;
  for (let k = 0; k < n; k++) {
    idx[k] = src;
    for (let ax = rank - 1; ax >= 0; ax--) {
      counter[ax]!++;
      src += st[ax]!;
      if (counter[ax]! < outShape[ax]!) break;
      src -= st[ax]! * outShape[ax]!;
      counter[ax] = 0;
    }
  }
  return idx;
}

/** Static dims of a resolved output: numpy broadcast of concrete shapes (already type-checked). */
export function broadcastConcrete(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]!;
      const o = out[off + i]!;
      if (d !== 1) {
        if (o !== 1 && o !== d) fail('E_RUNTIME', `shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
        out[off + i] = d;
      }
    }
  }
  return out;
}

/**
 * The copy every movement op is: dst[dstBase + Σ i·dstStrides] = src[srcBase + Σ i·srcStrides] for each
 * multi-index i of `shape`. A stride may be 0 (broadcast) or negative (a reversed slice).
 */
export function stridedCopy(
  dst: Storage, dstBase: number, dstStrides: readonly number[],
  src: Storage, srcBase: number, srcStrides: readonly number[],
  shape: readonly number[],
): void {
  if (numel(shape) === 0) return;
  // Elements move as they are (numbers or BigInts); the two arrays always hold the same dtype.
  const d = dst as Float64Array;
  const s = src as Float64Array;
  const rank = shape.length;
  if (rank === 0) {
    d[dstBase] = s[srcBase]!;
    return;
  }
  const last = rank - 1;
  const n = shape[last]!;
  const ss = srcStrides[last]!;
  const ds = dstStrides[last]!;
  const idx = new Array<number>(rank).fill(0);
  let si = srcBase;
  let di = dstBase;
  for (;;) {
    if (ss === 1 && ds === 1) for (let k = 0; k < n; k++) d[di + k] = s[si + k]!;
    else for (let k = 0; k < n; k++) d[di + k * ds] = s[si + k * ss]!;
    let ax = last - 1;
    for (; ax >= 0; ax--) {
      si += srcStrides[ax]!;
      di += dstStrides[ax]!;
      if (++idx[ax]! < shape[ax]!) break;
      si -= srcStrides[ax]! * shape[ax]!;
      di -= dstStrides[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
    if (ax < 0) return;
  }
}

/** Multi-index → flat offset helpers used by movement and indexing ops. */
export function unravel(flat: number, shape: readonly number[], out: number[]): void {
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    out[i] = d === 0 ? 0 : flat % d;
    flat = d === 0 ? 0 : Math.floor(flat / d);
  }
}

export const elementsOf = (t: Tensor): ArrayLike<number | bigint> => t.data as ArrayLike<number | bigint>;

export const shapeOf = (s: Shape): string => `[${s.join(',')}]`;
