// ONNX's conversion to the narrow float formats, as prims (Cast, CastLike and QuantizeLinear use it).
// prim.cast rounds to nearest even and overflows as IEEE does: inf where the format has one, NaN where it
// has not (ONNX's saturate=0). ONNX saturates by default (saturate=1): values beyond the largest finite
// one, infinities included, become it. That is a clamp before the cast, NaN passing through:
//
//   Cast(%x: f32[3]) {to=FLOAT8E4M3FN}
//     →  %c = prim.cast(prim.min(prim.max(%x, -448), 448)) {to=f8e4m3fn} : f8e4m3fn[3]
//
// float4e2m1 always saturates (it has no inf or NaN). float8e8m0 rounds the float32 exponent by
// `round_mode`: prim.cast's own rounding is `up` with saturation (ONNX's defaults); `down` and `nearest`
// round the exponent field with integer prims first, as the ONNX reference does on the bits.
import { A } from '../../../ir/attr.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import { DTYPE_INFO, isFloat, type DType } from '../../../ir/dtype.js';
import { isSmallFloat, smallFloatMax } from '../../../ir/float8.js';
import type { Value } from '../../../ir/graph.js';
import { roundToDType } from '../../../ir/numeric.js';
import type { LowerContext } from '../context.js';

export interface NarrowCastOptions {
  /** ONNX `saturate` (default 1): clamp to the largest finite value instead of overflowing to inf/NaN. */
  readonly saturate: boolean;
  /** ONNX `round_mode` for float8e8m0: 'up' (default), 'down' or 'nearest'. */
  readonly roundMode: string;
}

export const DEFAULT_NARROW_CAST: NarrowCastOptions = { saturate: true, roundMode: 'up' };

/** The node's `saturate` and `round_mode` attributes (absent before opset 19 and 25: the defaults). */
export function narrowCastOptions(ctx: LowerContext): NarrowCastOptions {
  const roundMode = ctx.node.str('round_mode', 'up');
  if (roundMode !== 'up' && roundMode !== 'down' && roundMode !== 'nearest') ctx.fail(`round_mode '${roundMode}' is not up, down or nearest`);
  return { saturate: ctx.node.int('saturate', 1) !== 0, roundMode };
}

/** x converted to `to` as ONNX's Cast converts it; for dtypes other than the small floats, prim.cast. */
export function narrowCast(b: GraphBuilder, x: Value, to: DType, opts: NarrowCastOptions = DEFAULT_NARROW_CAST): Value {
  if (x.dtype === to || !isSmallFloat(to)) return b.cast(x, to);
  if (to === 'f8e8m0') return castE8M0(b, x, opts);
  return b.cast(opts.saturate ? clamp(b, x, smallFloatMax(to)) : x, to);
}

/** x clamped to [-max, max] where its dtype reaches beyond; computed in f32 when max is not exact in x's dtype. */
function clamp(b: GraphBuilder, x: Value, max: number): Value {
  const info = DTYPE_INFO[x.dtype];
  if (info.kind === 'bool') return x;
  if (!isFloat(x.dtype)) {
    const top = info.kind === 'uint' ? 2 ** info.bits - 1 : 2 ** (info.bits - 1) - 1;
    if (top <= max) return x;
    const below = b.min(x, b.like(x, max));
    return info.kind === 'uint' ? below : b.max(below, b.like(x, -max));
  }
  const v = roundToDType(x.dtype, max) === max ? x : b.cast(x, 'f32');
  return b.min(b.max(v, b.like(v, -max)), b.like(v, max));
}

/** ONNX's to_float8e8m0 on the float32 bits: |x|'s exponent field, plus one where the mode rounds the
 * mantissa up; an exponent past the top saturates to 2^127 or becomes NaN; NaN stays NaN. */
function castE8M0(b: GraphBuilder, x: Value, opts: NarrowCastOptions): Value {
  // The reference converts to float32 first; f16, bf16 and the small floats convert exactly.
  const xf = b.cast(x, 'f32');
  if (opts.roundMode === 'up' && opts.saturate) return b.cast(xf, 'f8e8m0');
  const i32 = (v: number): Value => b.scalar('i32', v);
  const bits = b.and(b.op1('prim.bitcast', [xf], { to: A.dtype('i32') }), i32(0x7fffffff));
  // Added to the bits, the increment carries into the exponent exactly when the mode rounds up:
  // up, any mantissa; nearest, a mantissa of at least one half (above it for subnormals, as the reference).
  const inc = opts.roundMode === 'up' ? i32(0x7fffff)
    : opts.roundMode === 'down' ? i32(0)
    : b.where(b.lt(bits, i32(0x800000)), i32(0x3fffff), i32(0x400000));
  const pow2 = b.op1('prim.bitcast', [b.and(b.add(bits, inc), i32(0x7f800000))], { to: A.dtype('f32') });
  const over = b.eq(pow2, b.like(pow2, Infinity));
  const fitted = b.where(over, b.like(pow2, opts.saturate ? 2 ** 127 : NaN), pow2);
  // NaN inputs: their bits may wrap above; the result is NaN whatever the mode.
  return b.cast(b.where(b.unary('isnan', xf), xf, fitted), 'f8e8m0');
}
