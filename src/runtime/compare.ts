// Comparing a result against an expected tensor: floats within |a-e| <= atol + rtol*|e| (NaN matches NaN,
// an infinity only itself), integers and bools exactly (BigInts too). Tolerances are the caller's choice.
import { DTYPE_INFO } from '../ir/dtype.js';
import { formatShape, shapeEq } from '../ir/shape.js';
import type { Tensor } from '../ir/tensor.js';

export interface CompareOptions {
  rtol?: number;
  atol?: number;
}

export type ElementValue = number | bigint | boolean;

export interface Comparison {
  ok: boolean;
  /** Why it failed: a shape or dtype difference, or how many elements differ. */
  reason?: string;
  /** Elements compared (0 when shape or dtype differ, and then the errors are NaN). */
  size: number;
  rtol: number;
  atol: number;
  /** Largest |a-e|; Infinity where a NaN or an infinity met something else. */
  maxAbsErr: number;
  /** Largest |a-e|/|e| over elements with e != 0 (Infinity where e = 0 and a differs). */
  maxRelErr: number;
  mismatches: number;
  firstMismatch?: { index: number[]; actual: ElementValue; expected: ElementValue };
}

export function compareTensors(actual: Tensor, expected: Tensor, opts: CompareOptions = {}): Comparison {
  const rtol = opts.rtol ?? 1e-3;
  const atol = opts.atol ?? 1e-7;
  const base = { size: 0, rtol, atol, maxAbsErr: NaN, maxRelErr: NaN, mismatches: 0 };
  if (actual.dtype !== expected.dtype) {
    return { ...base, ok: false, reason: `dtype ${actual.dtype} differs from the expected ${expected.dtype}` };
  }
  if (!shapeEq(actual.shape, expected.shape)) {
    return { ...base, ok: false, reason: `shape ${formatShape(actual.shape)} differs from the expected ${formatShape(expected.shape)}` };
  }
  const kind = DTYPE_INFO[expected.dtype].kind;
  const a = actual.data;
  const e = expected.data;
  let maxAbsErr = 0;
  let maxRelErr = 0;
  let mismatches = 0;
  let first = -1;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    let abs: number;
    let bad: boolean;
    if (typeof x === 'bigint' || typeof y === 'bigint') {
      // Exact in BigInt; the error is reported as a (possibly rounded) number.
      const d = BigInt(x) - BigInt(y);
      abs = Math.abs(Number(d));
      bad = d !== 0n;
    } else if (kind !== 'float') {
      abs = Math.abs(x - y);
      bad = x !== y;
    } else if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) {
      bad = !(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)));
      abs = bad ? Infinity : 0;
    } else {
      abs = Math.abs(x - y);
      bad = !(abs <= atol + rtol * Math.abs(y));
    }
    const rel = abs === 0 ? 0 : Math.abs(Number(y)) > 0 ? abs / Math.abs(Number(y)) : Infinity;
    if (abs > maxAbsErr) maxAbsErr = abs;
    if (rel > maxRelErr) maxRelErr = rel;
    if (bad) {
      if (mismatches === 0) first = i;
      mismatches++;
    }
  }
  const result: Comparison = { ok: mismatches === 0, size: e.length, rtol, atol, maxAbsErr, maxRelErr, mismatches };
  if (first >= 0) {
    result.reason = `${mismatches} of ${e.length} elements differ`;
    result.firstMismatch = { index: unravel(first, expected.shape), actual: valueAt(actual, first), expected: valueAt(expected, first) };
  }
  return result;
}

/** One line, e.g. "mismatch: 3 of 24 elements differ (max abs err 0.5, max rel err 0.25, rtol 0.001, atol 1e-7); first at [0,2]: got 1.5, expected 2". */
export function formatComparison(c: Comparison): string {
  if (c.size === 0 && c.reason !== undefined) return `mismatch: ${c.reason}`;
  const errs = `max abs err ${fmt(c.maxAbsErr)}, max rel err ${fmt(c.maxRelErr)}, rtol ${c.rtol}, atol ${c.atol}`;
  if (c.ok) return `ok: ${c.size} elements match (${errs})`;
  const m = c.firstMismatch;
  const at = m ? `; first at [${m.index.join(',')}]: got ${fmt(m.actual)}, expected ${fmt(m.expected)}` : '';
  return `mismatch: ${c.reason ?? `${c.mismatches} of ${c.size} elements differ`} (${errs})${at}`;
}

function valueAt(t: Tensor, i: number): ElementValue {
  const v = t.data[i]!;
  return t.dtype === 'bool' ? v !== 0 : v;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = flat % shape[k]!;
    flat = Math.floor(flat / shape[k]!);
  }
  return index;
}

function fmt(v: ElementValue): string {
  if (typeof v !== 'number') return String(v);
  if (Object.is(v, -0)) return '-0';
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  return String(Number(v.toPrecision(6))); // 6 significant digits, without trailing zeros
}
