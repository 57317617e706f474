// Small helpers the IR tests share: run one prim through the builder and the interpreter, and compare
// tensors exactly (NaN equals NaN, -0 differs from +0, int64 as BigInts).
import { expect } from 'vitest';
import type { Attrs } from '../../src/ir/attr.js';
import { GraphBuilder } from '../../src/ir/builder.js';
import type { DType } from '../../src/ir/dtype.js';
import { AicError } from '../../src/ir/error.js';
import type { TensorType } from '../../src/ir/graph.js';
import { Tensor } from '../../src/ir/tensor.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { interpret } from '../../src/runtime/interpreter.js';

export type Scalar = number | bigint | boolean;

/** A tensor from plain values (rounded / wrapped to the dtype by Tensor.from). */
export const T = (dtype: DType, shape: readonly number[], values: ArrayLike<Scalar>): Tensor => Tensor.from(dtype, shape, values);

/** A tensor whose elements are 0, 1, 2, … converted to the dtype. */
export function ramp(dtype: DType, shape: readonly number[], start = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from(dtype, shape, Array.from({ length: n }, (_, i) => (dtype === 'i64' || dtype === 'u64' ? BigInt(i + start) : i + start)));
}

/**
 * Run one op on `inputs` (fed as graph inputs, so nothing folds): build it with the builder (which
 * infers its result types), verify the graph, interpret it, and return its results.
 */
export function evalOp(op: string, inputs: readonly Tensor[], attrs: Attrs = {}, declared?: TensorType): Tensor[] {
  const b = new GraphBuilder(op.replace('.', '_'));
  const ins = inputs.map((t, i) => b.input(`x${i}`, t.dtype, t.shape));
  const outs = b.op(op, ins, attrs, declared ? [declared] : undefined);
  outs.forEach((v, i) => b.output(v, `y${i}`));
  const g = b.build();
  verifyGraph(g);
  return interpret(g, inputs);
}

export const evalOp1 = (op: string, inputs: readonly Tensor[], attrs: Attrs = {}, declared?: TensorType): Tensor =>
  evalOp(op, inputs, attrs, declared)[0]!;

/** Exact element equality: NaN equals NaN, -0 is not +0; bools compare as 0/1. */
export function sameScalar(x: Scalar, y: Scalar): boolean {
  const a = typeof x === 'boolean' ? Number(x) : x;
  const b = typeof y === 'boolean' ? Number(y) : y;
  if (typeof a === 'bigint' || typeof b === 'bigint') return typeof a === typeof b && a === b;
  return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
}

/** Same dtype, shape, storage class and elements (NaN-aware, sign of zero kept). */
export function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return false;
  if (a.data.constructor !== b.data.constructor || a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) if (!sameScalar(a.data[i]!, b.data[i]!)) return false;
  return true;
}

const show = (v: Scalar): string => (typeof v === 'bigint' ? `${v}n` : Object.is(v, -0) ? '-0' : String(v));

/** Assert dtype, shape and every element (exactly, see sameScalar). */
export function expectTensor(t: Tensor, dtype: DType, shape: readonly number[], values: ArrayLike<Scalar>): void {
  expect(`${t.dtype}[${t.shape.join(',')}]`).toBe(`${dtype}[${shape.join(',')}]`);
  const got = Array.from(t.data as ArrayLike<Scalar>);
  const want = Array.from(values);
  const bad = got.length !== want.length || got.some((v, i) => !sameScalar(v, want[i]!));
  if (bad) expect(got.map(show)).toEqual(want.map(show));
}

/** Assert only the elements (for readability when the shape is obvious). */
export const expectValues = (t: Tensor, values: ArrayLike<Scalar>): void => expectTensor(t, t.dtype, t.shape, values);

/** The AicError code `f` throws, or 'no error'; other exceptions propagate. */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof AicError) return e.code;
    throw e;
  }
  return 'no error';
}
