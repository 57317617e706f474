// Sliding windows from movement prims: the shared step of Conv, ConvTranspose and the pools.
//
// A window view of a (padded) axis of length L, for kernel k, stride s, dilation d and o outputs, is
// W[j, p] = x[j·d + p·s] (j < k, p < o). It is built from movement prims only, so the scheduler sees
// an index map and no copy (tinygrad's trick): repeat the axis r times (a broadcast between reshapes),
// read the repeats as k rows of length L + d — row j then starts at j·(L + d) ≡ j·d (mod L) — and
// keep every s-th column of each row:
//
//   %x: f32[1,1,5]   k=3 s=2 d=1 o=2
//   %a = prim.reshape(%x) : f32[1,1,1,5]
//   %b = prim.broadcast(%a) : f32[1,1,4,5]            // r = ceil(k·(L+d)/L) = 4
//   %c = prim.reshape(%b) : f32[1,1,20]
//   %e = prim.slice(%c) {axes=[2], starts=[0], stops=[18], steps=[1]} : f32[1,1,18]   // k·(L+d)
//   %f = prim.reshape(%e) : f32[1,1,3,6]
//   %w = prim.slice(%f) {axes=[3], starts=[0], stops=[3], steps=[2]} : f32[1,1,3,2]   // W[j,p] = x[j+2p]
//
// Each spatial axis i of [N, C, L1, L2, …] becomes the pair (k_i, o_i): [N, C, k1, o1, k2, o2, …].
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import type { Dim } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';

/** Where the windows of each spatial axis lie, in the input's coordinates (padding included). */
export interface WindowGeometry {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Padding before and after each spatial axis, as the op defines it. */
  readonly padBegin: readonly number[];
  readonly padEnd: readonly number[];
  /** Windows (outputs) along each spatial axis. */
  readonly out: readonly number[];
}

export interface WindowOptions {
  /** MaxPool/AveragePool's ceil_mode: round the output count up (a window may overhang the end). */
  ceil?: boolean;
  /** Dilations are an attribute of this op (not of AveragePool before opset 19). */
  dilations?: boolean;
}

/** The extent of a dilated kernel. */
export const kernelExtent = (k: number, d: number): number => d * (k - 1) + 1;

/**
 * Read kernel_shape (defaulting to `kernel`), strides, dilations, pads and auto_pad, and count the
 * windows along each spatial axis of sizes `spatial`, by ONNX's rules for Conv and the pools.
 */
export function windowGeometry(ctx: LowerContext, spatial: readonly number[], kernel: readonly number[] | undefined, opts: WindowOptions = {}): WindowGeometry {
  const n = spatial.length;
  const node = ctx.node;
  const k = node.has('kernel_shape') ? node.ints('kernel_shape') : kernel ?? ctx.fail('kernel_shape is required');
  const ones = spatial.map(() => 1);
  const strides = node.has('strides') ? node.ints('strides') : ones;
  const dilations = opts.dilations !== false && node.has('dilations') ? node.ints('dilations') : ones;
  for (const [name, v] of [['kernel_shape', k], ['strides', strides], ['dilations', dilations]] as const) {
    if (v.length !== n) ctx.fail(`${name} has ${v.length} entries for ${n} spatial axes`);
    if (v.some((x) => !Number.isInteger(x) || x < 1)) ctx.fail(`${name} [${v.join(',')}] must be positive`);
  }
  if (kernel && k.some((x, i) => x !== kernel[i])) ctx.fail(`kernel_shape [${k.join(',')}] differs from the weights' [${kernel.join(',')}]`);
  const autoPad = node.str('auto_pad', 'NOTSET');
  let padBegin: number[];
  let padEnd: number[];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    // out = ceil(L / s); the padding that makes it so, the odd one at the end (UPPER) or start (LOWER).
    const total = spatial.map((L, i) => Math.max(0, (Math.ceil(L / strides[i]!) - 1) * strides[i]! + kernelExtent(k[i]!, dilations[i]!) - L));
    padBegin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
    padEnd = total.map((t, i) => t - padBegin[i]!);
  } else if (autoPad === 'VALID') {
    padBegin = spatial.map(() => 0);
    padEnd = spatial.map(() => 0);
  } else if (autoPad === 'NOTSET') {
    const pads = node.ints('pads', spatial.flatMap(() => [0, 0]));
    if (pads.length !== 2 * n) ctx.fail(`pads has ${pads.length} entries for ${n} spatial axes`);
    if (pads.some((p) => !Number.isInteger(p) || p < 0)) ctx.fail(`pads [${pads.join(',')}] must not be negative`);
    padBegin = pads.slice(0, n);
    padEnd = pads.slice(n);
  } else {
    return ctx.fail(`unknown auto_pad "${autoPad}"`);
  }
  const out = spatial.map((L, i) => {
    const s = strides[i]!;
    const span = L + padBegin[i]! + padEnd[i]! - kernelExtent(k[i]!, dilations[i]!);
    if (span < 0) ctx.fail(`the kernel (extent ${kernelExtent(k[i]!, dilations[i]!)}) is larger than spatial axis ${i} (${L} padded by ${padBegin[i]! + padEnd[i]!})`);
    if (!opts.ceil) return Math.floor(span / s) + 1;
    // ceil_mode: a last window that would start in the end padding is dropped (as in PyTorch).
    const o = Math.ceil(span / s) + 1;
    return (o - 1) * s >= L + padBegin[i]! ? o - 1 : o;
  });
  return { kernel: k, strides, dilations, padBegin, padEnd, out };
}

/** The spatial extent the windows read: (o − 1)·s + d·(k − 1) + 1. */
const windowSpan = (g: WindowGeometry, i: number): number => (g.out[i]! - 1) * g.strides[i]! + kernelExtent(g.kernel[i]!, g.dilations[i]!);

/**
 * Pad (with `value`) or crop the spatial axes of x [N, C, L…] to exactly what the windows read: the
 * begin padding, and at the end whatever the last window needs (ceil_mode may need more than the pads,
 * a stride may skip part of them).
 */
export function padForWindows(b: GraphBuilder, x: Value, g: WindowGeometry, value: number): Value {
  const n = g.kernel.length;
  const lead = x.shape.length - n;
  const spatial = x.shape.slice(lead) as number[];
  const begin = [...Array<number>(lead).fill(0), ...g.padBegin];
  const end = [...Array<number>(lead).fill(0), ...spatial.map((L, i) => windowSpan(g, i) - L - g.padBegin[i]!)];
  return b.pad(x, [...begin, ...end], value);
}

/**
 * Windows of the spatial axes of x [N, C, L1, …] (already padded by padForWindows):
 * [N, C, k1, o1, k2, o2, …] where element (…, j_i, p_i, …) is x at j_i·d_i + p_i·s_i along axis i.
 */
export function slidingWindows(b: GraphBuilder, x: Value, g: WindowGeometry): Value {
  const lead = x.shape.length - g.kernel.length;
  let y = x;
  g.kernel.forEach((k, i) => {
    y = windowAxis(b, y, lead + 2 * i, k, g.strides[i]!, g.dilations[i]!, g.out[i]!);
  });
  return y;
}

/** One axis a of length L → the pair (k, o) at a, a + 1. */
function windowAxis(b: GraphBuilder, x: Value, a: number, k: number, s: number, d: number, o: number): Value {
  const pre: Dim[] = x.shape.slice(0, a);
  const post: Dim[] = x.shape.slice(a + 1);
  const L = x.shape[a] as number;
  const span = (o - 1) * s + 1;
  if (k === 1) {
    const strided = s === 1 && span === L ? x : b.slice(x, [a], [0], [span], [s]);
    return b.reshape(strided, [...pre, 1, o, ...post]);
  }
  const row = L + d;
  const r = Math.ceil((k * row) / L);
  let y = b.broadcast(b.reshape(x, [...pre, 1, L, ...post]), [...pre, r, L, ...post]);
  y = b.slice(b.reshape(y, [...pre, r * L, ...post]), [a], [0], [k * row]);
  y = b.reshape(y, [...pre, k, row, ...post]);
  return b.slice(y, [a + 1], [0], [span], [s]);
}

/** Axes of the window view that run over the kernel, and over the outputs. */
export const kernelAxes = (lead: number, n: number): number[] => Array.from({ length: n }, (_, i) => lead + 2 * i);
export const outputAxes = (lead: number, n: number): number[] => Array.from({ length: n }, (_, i) => lead + 2 * i + 1);
