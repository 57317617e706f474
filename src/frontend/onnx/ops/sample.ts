// Sampling at computed positions: the shared step of GridSample, RoiAlign and DeformConv.
//
// The source is laid out as a table of rows, one per (batch, spatial position), each row the C values
// of that position: x [B, C, S1…Sn] → [B·S1·…·Sn, C]. Each spatial axis contributes taps (an index in
// range, a weight, whether it is inside the input); the taps of all axes combine by broadcasting into
// one prim.gather of rows, masked and weighted:
//
//   index = ((batch·S1 + i1)·S2 + i2)…   : i64[B, P…, T1·T2·…]
//   %rows = prim.gather(%table, %index) {axis=0} : f32[B, P…, T, C]
//   %v = prim.mul(prim.where(%valid, %rows, 0), %weight)
import type { Value } from '../../../ir/graph.js';
import type { GraphBuilder } from '../../../ir/builder.js';

/** The taps of one spatial axis at every sample point: tensors of shape [B, P…, taps]. */
export interface AxisTaps {
  /** i64 indices, already inside [0, S) (a tap outside the input is clamped and marked invalid). */
  readonly index: Value;
  /** Interpolation weights in the sampled dtype, or null when every tap weighs 1. */
  readonly weight: Value | null;
  /** Whether the tap lies inside the input (zero padding), or null when all do. */
  readonly valid: Value | null;
}

/** x [B, C, S…] (static) as rows [B·S…, C] for sampleRows. */
export function rowTable(b: GraphBuilder, x: Value): Value {
  const [B, C, ...spatial] = x.shape as number[];
  const rows = b.permute(x, [0, ...spatial.map((_, i) => 2 + i), 1]);
  return b.reshape(rows, [spatial.reduce((p, d) => p * d, B!), C!]);
}

/**
 * Read the rows of `table` (from rowTable, spatial sizes `spatial`) at the taps of every axis, for the
 * batch rows `batch` (i64 [B, 1…]): [B, P…, T, C] with T = Π taps, each row masked to 0 where a tap is
 * outside and multiplied by the product of the axes' weights. Every axis's index has the full [B, P…, taps].
 */
export function sampleRows(b: GraphBuilder, table: Value, spatial: readonly number[], batch: Value, axes: readonly AxisTaps[]): Value {
  const pointRank = axes[0]!.index.shape.length - 1;
  const points = axes[0]!.index.shape.slice(0, pointRank);
  const taps = axes.map((a) => a.index.shape[pointRank] as number);
  const T = taps.reduce((p, t) => p * t, 1);
  // Axis j's taps go to tap dim j of n, so that the axes broadcast against each other.
  const spread = (v: Value, j: number): Value => b.reshape(v, [...v.shape.slice(0, pointRank), ...taps.map((t, k) => (k === j ? t : 1))]);
  const i64 = (v: number): Value => b.scalar('i64', BigInt(v));
  let index = b.reshape(batch, [...batch.shape, ...taps.map(() => 1)]);
  axes.forEach((a, j) => {
    index = b.add(b.mul(index, i64(spatial[j]!)), spread(a.index, j));
  });
  let rows = b.gather(table, b.reshape(index, [...points, T]), 0);
  // Masks and weights broadcast over the points they do not depend on, then line up with the rows.
  const asRows = (v: Value): Value => b.reshape(b.broadcast(v, [...points, ...taps]), [...points, T, 1]);
  const valid = axes.flatMap((a, j) => (a.valid ? [spread(a.valid, j)] : [])).reduce<Value | null>((acc, v) => (acc ? b.and(acc, v) : v), null);
  const weight = axes.flatMap((a, j) => (a.weight ? [spread(a.weight, j)] : [])).reduce<Value | null>((acc, v) => (acc ? b.mul(acc, v) : v), null);
  if (valid) rows = b.where(asRows(valid), rows, b.like(rows, 0));
  if (weight) rows = b.mul(rows, asRows(weight));
  return rows;
}
