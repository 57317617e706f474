// Shapes: each dim is a static size or a symbol (a named size fixed at run time, e.g. the batch `N`).
import { fail } from './error.js';

export type Dim = number | string;
export type Shape = readonly Dim[];

/** Largest element count aic will allocate or plan for a single tensor. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export const isStatic = (s: Shape): s is readonly number[] => s.every((d) => typeof d === 'number');

export function numel(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** Element count of a shape that must be static (errors name `what`). */
export function staticNumel(s: Shape, what: string): number {
  if (!isStatic(s)) fail('E_TYPE', `${what}: shape [${s.join(',')}] is not static`);
  return numel(s);
}

/** Row-major strides, in elements. */
export function stridesOf(s: readonly number[]): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i]!;
  }
  return st;
}

export const shapeEq = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export const formatShape = (s: Shape): string => `[${s.join(',')}]`;

/** Normalize a possibly negative axis against a rank, or fail naming the op. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    fail('E_TYPE', `${what} ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** Multidirectional (numpy) broadcasting of two dims; a symbol meets 1 or itself, a number wins. */
function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'string' && typeof b === 'number') return b;
  if (typeof b === 'string' && typeof a === 'number') return a;
  if (typeof a === 'string' && typeof b === 'string') return a; // both run-time sizes: they must agree then
  return undefined;
}

/** Multidirectional broadcasting of any number of shapes (ONNX Broadcasting.md). */
export function broadcastShapes(...shapes: Shape[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = new Array<Dim>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = broadcastDim(out[off + i]!, s[i]!);
      if (d === undefined) {
        fail('E_TYPE', `shapes ${shapes.map(formatShape).join(' and ')} do not broadcast (dim ${off + i})`);
      }
      out[off + i] = d;
    }
  }
  return out;
}

/** Unidirectional broadcasting: can `from` be broadcast to `to` without changing `to`? */
export function broadcastsTo(from: Shape, to: Shape): boolean {
  if (from.length > to.length) return false;
  const off = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[off + i] || typeof d === 'string' || typeof to[off + i] === 'string');
}

/** Check that a static shape is sane to allocate; names `what` in the error. */
export function checkAllocatable(s: readonly number[], what: string): void {
  let n = 1;
  for (const d of s) {
    if (!Number.isInteger(d) || d < 0) fail('E_TYPE', `${what}: invalid dim ${d} in ${formatShape(s)}`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) {
    fail('E_LIMIT', `${what}: shape ${formatShape(s)} has ${n} elements, more than aic allocates (${MAX_ELEMENTS})`);
  }
}
