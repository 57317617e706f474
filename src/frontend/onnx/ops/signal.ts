// ONNX signal ops: DFT and STFT as dots with constant cosine/sine matrices, the Hann, Hamming and
// Blackman windows and MelWeightMatrix as constants computed at compile time.
//
//   y = DFT(x [.., N, .., 2]) along axis   →   re' = re·C + s·im·S,  im' = s·re·S + im·C   (s = ∓1)
// with C[n, k] = cos(2π nk / N), S[n, k] = -sin(2π nk / N) for the forward transform. The products are
// taken in float64 and rounded once to the operand's type, so cancelling terms stay exact.
import type { Value } from '../../../ir/graph.js';
import { dtypeFromOnnx, isFloat, type DType } from '../../../ir/dtype.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { constant, squeeze, unsqueeze } from './blocks.js';

/** One scalar operand known at compile time, as a number. */
function scalarOf(ctx: LowerContext, i: number, what: string): number {
  const t = ctx.requireConstant(i, what);
  if (t.size !== 1) ctx.fail(`${what} must be a scalar, got ${t.size} values`);
  return t.num(0);
}

/** x [.. len (axis) ..] contracted along `axis` with a constant matrix m [len, k] placed back at `axis`. */
function contractAxis(ctx: LowerContext, x: Value, axis: number, m: Value): Value {
  const y = ctx.b.dot(x, m, { lhsContract: [axis], rhsContract: [0] });
  const r = y.shape.length;
  const perm = [...Array(r - 1).keys()];
  perm.splice(axis, 0, r - 1);
  return ctx.b.permute(y, perm);
}

/**
 * The DFT of x [.., len (axis) .., 1|2] (real or complex in the last dim) with length n: forward or
 * inverse (scaled 1/n), one-sided (bins 0..n/2) forward, or IRFFT (one-sided complex in, real out).
 */
function dft(ctx: LowerContext, x: Value, axis: number, n: number, inverse: boolean, onesided: boolean): Value {
  const { b } = ctx;
  const xs = ctx.staticShape(x, 'input');
  const r = xs.length;
  const c = xs[r - 1]!;
  if (c !== 1 && c !== 2) ctx.fail(`the last dim of input must be 1 (real) or 2 (complex), got ${c}`);
  if (!Number.isInteger(n) || n <= 0) ctx.fail(`dft_length must be a positive integer, got ${n}`);
  const T = x.dtype;
  const xw = b.cast(x, 'f64');
  const part = (i: number, len: number): Value => squeeze(b, b.slice(xw, [axis, r - 1], [0, i], [len, i + 1]), r - 1);
  const angle = (t: number, k: number): number => (2 * Math.PI * ((t * k) % n)) / n;
  const matrix = (rows: number, cols: number, f: (t: number, k: number) => number): Value => {
    const vals = new Float64Array(rows * cols);
    for (let t = 0; t < rows; t++) for (let k = 0; k < cols; k++) vals[t * cols + k] = f(t, k);
    return constant(b, 'f64', [rows, cols], vals);
  };
  const len = xs[axis]!;
  if (inverse && onesided) {
    // IRFFT: bin k and its mirror n - k both contribute, so every bin but 0 and n/2 counts twice.
    const bins = Math.min(Math.floor(n / 2) + 1, len);
    const weight = (k: number): number => (k === 0 || 2 * k === n ? 1 : 2) / n;
    let y = contractAxis(ctx, part(0, bins), axis, matrix(bins, n, (k, t) => weight(k) * Math.cos(angle(t, k))));
    if (c === 2) y = b.add(y, contractAxis(ctx, part(1, bins), axis, matrix(bins, n, (k, t) => -weight(k) * Math.sin(angle(t, k)))));
    return b.cast(unsqueeze(b, y, r - 1), T);
  }
  // Zero-padding to n adds nothing; truncating keeps the first n samples.
  const use = Math.min(len, n);
  const K = onesided ? Math.floor(n / 2) + 1 : n;
  const norm = inverse ? 1 / n : 1;
  const sign = inverse ? 1 : -1;
  const C = matrix(use, K, (t, k) => norm * Math.cos(angle(t, k)));
  const S = matrix(use, K, (t, k) => sign * norm * Math.sin(angle(t, k)));
  const re = part(0, use);
  let yr = contractAxis(ctx, re, axis, C);
  let yi = contractAxis(ctx, re, axis, S);
  if (c === 2) {
    const im = part(1, use);
    yr = b.sub(yr, contractAxis(ctx, im, axis, S));
    yi = b.add(yi, contractAxis(ctx, im, axis, C));
  }
  return b.cast(b.concat([unsqueeze(b, yr, r - 1), unsqueeze(b, yi, r - 1)], r - 1), T);
}

function dftRule(ctx: LowerContext): Value {
  const x = ctx.arg(0);
  const r = x.shape.length;
  const axisValue = ctx.opset >= 20 ? (ctx.input(2) ? scalarOf(ctx, 2, 'axis') : -2) : ctx.node.int('axis', 1);
  const axis = axisValue < 0 ? axisValue + r : axisValue;
  if (axis < 0 || axis > r - 2) ctx.fail(`axis ${axisValue} is out of range for input rank ${r} (the last dim holds real and imaginary parts)`);
  const inverse = ctx.node.int('inverse', 0) !== 0;
  const onesided = ctx.node.int('onesided', 0) !== 0;
  const len = ctx.staticShape(x, 'input')[axis]!;
  const n = ctx.input(1) ? scalarOf(ctx, 1, 'dft_length') : inverse && onesided ? 2 * (len - 1) : len;
  return dft(ctx, x, axis, n, inverse, onesided);
}

function stft(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const xs = ctx.staticShape(x, 'signal');
  if (xs.length !== 3) ctx.fail(`signal must be [batch, length, 1|2], got [${xs.join(',')}]`);
  const step = scalarOf(ctx, 1, 'frame_step');
  const window = ctx.input(2);
  const winLen = window ? ctx.staticShape(window, 'window')[0]! : undefined;
  const frameLen = ctx.input(3) ? scalarOf(ctx, 3, 'frame_length') : winLen ?? xs[1]!;
  if (winLen !== undefined && winLen !== frameLen) ctx.fail(`window length ${winLen} differs from frame_length ${frameLen}`);
  if (step <= 0 || frameLen <= 0 || frameLen > xs[1]!) ctx.fail(`frame_step ${step} and frame_length ${frameLen} do not frame a signal of ${xs[1]}`);
  const frames = 1 + Math.floor((xs[1]! - frameLen) / step);
  const slices = Array.from({ length: frames }, (_, f) => unsqueeze(b, b.slice(x, [1], [f * step], [f * step + frameLen]), 1));
  let framed = b.concat(slices, 1); // [B, frames, frameLen, c]
  if (window) framed = b.mul(framed, b.reshape(b.cast(window, x.dtype), [1, 1, frameLen, 1]));
  return dft(ctx, framed, 2, frameLen, false, ctx.node.int('onesided', 1) !== 0);
}

/** A window function of size n (a compile-time constant), periodic or symmetric, as the node's output type. */
function windowRule(f: (n: number, N: number) => number) {
  return (ctx: LowerContext): Value[] => {
    const size = scalarOf(ctx, 0, 'size');
    if (!Number.isInteger(size) || size < 0) ctx.fail(`size must be a non-negative integer, got ${size}`);
    const N = ctx.node.int('periodic', 1) !== 0 ? size : size - 1;
    const dtype = dtypeFromOnnx(ctx.node.int('output_datatype', 1), 'output_datatype');
    return [constant(ctx.b, dtype, [size], Array.from({ length: size }, (_, n) => f(n, N)))];
  };
}

function melWeightMatrix(ctx: LowerContext): Value {
  const bins = scalarOf(ctx, 0, 'num_mel_bins');
  const dftLength = scalarOf(ctx, 1, 'dft_length');
  const rate = scalarOf(ctx, 2, 'sample_rate');
  const lower = scalarOf(ctx, 3, 'lower_edge_hertz');
  const upper = scalarOf(ctx, 4, 'upper_edge_hertz');
  const dtype: DType = dtypeFromOnnx(ctx.node.int('output_datatype', 1), 'output_datatype');
  if (!isFloat(dtype) && dtype !== 'i32' && dtype !== 'i64') ctx.fail(`output_datatype ${dtype} is not a numeric type`);
  const spectrogramBins = Math.floor(dftLength / 2) + 1;
  const toMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
  const lowMel = toMel(lower);
  const step = (toMel(upper) - lowMel) / (bins + 2);
  // Triangle corners as spectrogram bin indices.
  const corner = Array.from({ length: bins + 2 }, (_, i) => Math.floor(((dftLength + 1) * (700 * (10 ** ((i * step + lowMel) / 2595) - 1))) / rate));
  const out = new Float64Array(spectrogramBins * bins);
  const set = (j: number, i: number, v: number): void => {
    if (j < 0 || j >= spectrogramBins) ctx.fail(`mel bin ${i} reaches spectrogram bin ${j}, outside [0, ${spectrogramBins})`);
    out[j * bins + i] = v;
  };
  for (let i = 0; i < bins; i++) {
    const [lo, mid, hi] = [corner[i]!, corner[i + 1]!, corner[i + 2]!];
    if (mid === lo) set(mid, i, 1);
    else for (let j = lo; j <= mid; j++) set(j, i, (j - lo) / (mid - lo));
    for (let j = mid; j < hi; j++) set(j, i, (hi - j) / (hi - mid));
  }
  return constant(ctx.b, dtype, [spectrogramBins, bins], out);
}

const cosine = (n: number, N: number, k: number): number => Math.cos((2 * Math.PI * k * n) / N);

defineOnnxOps(
  { type: 'DFT', since: 17, lower: (ctx) => [dftRule(ctx)] },
  { type: 'STFT', since: 17, lower: (ctx) => [stft(ctx)] },
  { type: 'HannWindow', since: 17, lower: windowRule((n, N) => 0.5 - 0.5 * cosine(n, N, 1)) },
  { type: 'HammingWindow', since: 17, lower: windowRule((n, N) => 25 / 46 - (21 / 46) * cosine(n, N, 1)) },
  { type: 'BlackmanWindow', since: 17, lower: windowRule((n, N) => 0.42 - 0.5 * cosine(n, N, 1) + 0.08 * cosine(n, N, 2)) },
  { type: 'MelWeightMatrix', since: 17, lower: (ctx) => [melWeightMatrix(ctx)] },
);
