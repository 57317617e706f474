// ONNX quantization ops: QuantizeLinear and DequantizeLinear (per-tensor, per-axis, blocked),
// DynamicQuantizeLinear, and the integer kernels QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger.
// Quantized values are integer dtypes (8, 16, 4 and 2 bits) or the small floats (float8, float4e2m1).
//
//   y = QuantizeLinear(x, s, zp)   →   clamp(round_half_even(x / s) + zp, lo, hi) cast to zp's dtype
//                                      (to a small float: x / s + zp, cast as ONNX's Cast, saturating by default)
//   y = DequantizeLinear(x, s, zp) →   (f32(x) - f32(zp)) * s
import type { Value } from '../../../ir/graph.js';
import { dtypeFromOnnx, onnxTypeName, type DType } from '../../../ir/dtype.js';
import { AicError } from '../../../ir/error.js';
import { isSmallFloat } from '../../../ir/float8.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { alongAxis } from './blocks.js';
import { convolve } from './conv.js';
import { matmul } from './matmul.js';
import { narrowCast } from './narrow-cast.js';
import { windowGeometry } from './window.js';

/** Saturation range of each integer dtype a quantized tensor may have. */
const QUANT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  u8: [0, 255], i8: [-128, 127], u16: [0, 65535], i16: [-32768, 32767],
  u4: [0, 15], i4: [-8, 7], u2: [0, 3], i2: [-2, 1],
};

/** A dtype a quantized tensor may have: an integer of QUANT_RANGE or a small float other than E8M0. */
const isQuantized = (t: DType): boolean => QUANT_RANGE[t] !== undefined || (isSmallFloat(t) && t !== 'f8e8m0');
const QUANTIZED_TYPES = 'uint8, int8, uint16, int16, uint4, int4, uint2, int2, float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz) and float4e2m1';

/** The aic dtype of an ONNX type code for a quantized tensor, or E_UNSUPPORTED naming the type. */
function quantDType(ctx: LowerContext, code: number, what: string): DType {
  let t: DType;
  try {
    t = dtypeFromOnnx(code);
  } catch (e) {
    if (e instanceof AicError) ctx.unsupported(`${what} has element type ${onnxTypeName(code)}, which aic does not support yet`);
    throw e;
  }
  if (!isQuantized(t)) ctx.unsupported(`${what} has element type ${t}; quantized types are ${QUANTIZED_TYPES}`);
  return t;
}

/**
 * A scale or zero point made to broadcast against x: a scalar or a one-element tensor is per-tensor, a
 * vector is per-axis along `axis`, a tensor of x's rank is blocked (each entry repeated `block` times
 * along `axis`, the last block possibly short).
 */
function expandParam(ctx: LowerContext, p: Value, xShape: readonly number[], axisAttr: number, block: number, what: string): Value {
  const { b } = ctx;
  const ps = ctx.staticShape(p, what);
  if (ps.every((d) => d === 1)) return b.reshape(p, []);
  const axis = ctx.axis(axisAttr, xShape.length);
  const D = xShape[axis]!;
  if (block <= 0) {
    if (ps.length !== 1 || ps[0] !== D) ctx.fail(`${what} of shape [${ps.join(',')}] is neither per-tensor nor per-axis for x [${xShape.join(',')}] on axis ${axis}`);
    return b.reshape(p, xShape.map((d, i) => (i === axis ? d : 1)));
  }
  const S = ps[axis]!;
  if (ps.length !== xShape.length || ps.some((d, i) => i !== axis && d !== xShape[i]) || S !== Math.ceil(D / block)) {
    ctx.fail(`${what} of shape [${ps.join(',')}] does not block x [${xShape.join(',')}] by ${block} on axis ${axis}`);
  }
  const withBlock = b.reshape(p, [...ps.slice(0, axis + 1), 1, ...ps.slice(axis + 1)]);
  const repeated = b.broadcast(withBlock, [...ps.slice(0, axis + 1), block, ...ps.slice(axis + 1)]);
  const flat = b.reshape(repeated, [...ps.slice(0, axis), S * block, ...ps.slice(axis + 1)]);
  return S * block === D ? flat : b.slice(flat, [axis], [0], [D]);
}

/** clamp(round(v) + zp, range of `to`) as `to`; v is a float, zp a value of `to` or null. To a small
 * float: v + zp converted as Cast converts it, saturating unless the node says saturate=0. */
function saturate(ctx: LowerContext, v: Value, zp: Value | null, to: DType): Value {
  const { b } = ctx;
  const wide: DType = v.dtype === 'f64' ? 'f64' : 'f32';
  if (isSmallFloat(to)) {
    const sum = zp ? b.add(b.cast(v, wide), b.cast(zp, wide)) : v;
    return narrowCast(b, sum, to, { saturate: ctx.node.int('saturate', 1) !== 0, roundMode: 'up' });
  }
  let r = b.cast(b.unary('round', v), wide);
  if (zp) r = b.add(r, b.cast(zp, wide));
  const [lo, hi] = QUANT_RANGE[to]!;
  return b.cast(b.min(b.max(r, b.like(r, lo)), b.like(r, hi)), to);
}

/** The float dtype in which x / scale is computed. */
function precisionOf(ctx: LowerContext, scale: Value): DType {
  const p = ctx.node.int('precision', 0);
  if (p !== 0) {
    const t = dtypeFromOnnx(p, 'precision');
    if (t !== 'f32' && t !== 'f16' && t !== 'bf16' && t !== 'f64') ctx.fail(`precision ${t} is not a float type`);
    return t;
  }
  return scale.dtype === 'f16' || scale.dtype === 'bf16' || scale.dtype === 'f64' ? scale.dtype : 'f32';
}

function quantizeLinear(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const scale = ctx.arg(1);
  const zp = ctx.input(2);
  const outCode = ctx.node.int('output_dtype', 0);
  const out = zp ? zp.dtype : outCode !== 0 ? quantDType(ctx, outCode, 'output_dtype') : 'u8';
  if (zp && !isQuantized(zp.dtype)) ctx.unsupported(`y_zero_point has element type ${zp.dtype}; quantized types are ${QUANTIZED_TYPES}`);
  if (zp && outCode !== 0 && quantDType(ctx, outCode, 'output_dtype') !== zp.dtype) ctx.fail(`output_dtype ${onnxTypeName(outCode)} differs from y_zero_point's type ${zp.dtype}`);
  const xs = ctx.staticShape(x, 'x');
  const block = ctx.node.int('block_size', 0);
  const axis = ctx.node.int('axis', 1);
  const cdt = precisionOf(ctx, scale);
  const s = expandParam(ctx, scale, xs, axis, block, 'y_scale');
  const z = zp ? expandParam(ctx, zp, xs, axis, block, 'y_zero_point') : null;
  return saturate(ctx, b.div(b.cast(x, cdt), b.cast(s, cdt)), z, out);
}

function dequantizeLinear(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const scale = ctx.arg(1);
  const zp = ctx.input(2);
  if (!isQuantized(x.dtype) && x.dtype !== 'i32') ctx.unsupported(`x has element type ${x.dtype}; quantized types are ${QUANTIZED_TYPES} and int32`);
  if (zp && zp.dtype !== x.dtype) ctx.fail(`x_zero_point is ${zp.dtype}, x is ${x.dtype}`);
  const outCode = ctx.node.int('output_dtype', 0);
  const out = outCode !== 0 ? dtypeFromOnnx(outCode, 'output_dtype') : scale.dtype;
  if (out !== 'f32' && out !== 'f16' && out !== 'bf16' && out !== 'f64') ctx.fail(`the output type ${out} is not a float type (x_scale is ${scale.dtype}; output_dtype names the output type)`);
  const xs = ctx.staticShape(x, 'x');
  const block = ctx.node.int('block_size', 0);
  const axis = ctx.node.int('axis', 1);
  const wide: DType = out === 'f64' || scale.dtype === 'f64' ? 'f64' : 'f32';
  let v = b.cast(x, wide);
  if (zp) v = b.sub(v, b.cast(expandParam(ctx, zp, xs, axis, block, 'x_zero_point'), wide));
  return b.cast(b.mul(v, b.cast(expandParam(ctx, scale, xs, axis, block, 'x_scale'), wide)), out);
}

/** x - zp in i32, zp broadcast per tensor or by `shape` (a rule for where a vector zero point goes). */
function centered(ctx: LowerContext, x: Value, zp: Value | null, place: (zp: Value) => Value = (z) => z): Value {
  const { b } = ctx;
  const xi = b.cast(x, 'i32');
  if (!zp) return xi;
  const z = ctx.staticShape(zp, 'zero point').every((d) => d === 1) ? b.reshape(zp, []) : place(zp);
  return b.sub(xi, b.cast(z, 'i32'));
}

/** A per-tensor scale (any shape of one element) as a scalar; others are left to `place`. */
function scalarOr(ctx: LowerContext, v: Value, place: (v: Value) => Value): Value {
  return ctx.staticShape(v, 'scale').every((d) => d === 1) ? ctx.b.reshape(v, []) : place(v);
}

/** Requantize an i32 accumulator: acc * (sa * sb / sy) + zy, rounded and saturated (in f64, as the ONNX reference). */
function requantize(ctx: LowerContext, acc: Value, sa: Value, sb: Value, sy: Value, zy: Value | null, out: DType): Value {
  const { b } = ctx;
  const factor = b.div(b.mul(sa, b.cast(sb, sa.dtype)), b.cast(sy, sa.dtype));
  return saturate(ctx, b.mul(b.cast(acc, 'f64'), b.cast(factor, 'f64')), zy, out);
}

/** Conv (Conv's attributes: kernel_shape, strides, dilations, pads, auto_pad, group) of zero-point-centered
 * i32 operands: the padding is 0 after centering, i.e. the zero point before it, as ONNX defines. */
function quantizedConv(ctx: LowerContext, x: Value, w: Value): Value {
  const xs = ctx.staticShape(x, 'x');
  const ws = ctx.staticShape(w, 'w');
  if (xs.length < 3 || ws.length !== xs.length) ctx.fail(`x [${xs.join(',')}] and w [${ws.join(',')}] must be [N, C, spatial…] and [M, C/group, kernel…]`);
  const group = ctx.node.int('group', 1);
  if (group < 1 || xs[1]! % group !== 0 || ws[0]! % group !== 0 || ws[1]! * group !== xs[1]) ctx.fail(`w [${ws.join(',')}] does not match ${xs[1]} input channels in ${group} groups`);
  return convolve(ctx.b, x, w, group, windowGeometry(ctx, xs.slice(2), ws.slice(2)));
}

/** Per-row parameters of a matmul operand: a vector [M] becomes [M, 1]; N-D ones broadcast as they are. */
const perRow = (ctx: LowerContext) => (v: Value): Value => (v.shape.length === 1 ? ctx.b.reshape(v, [v.shape[0]!, 1]) : v);

defineOnnxOps(
  { type: 'QuantizeLinear', since: 10, lower: (ctx) => [quantizeLinear(ctx)] },
  { type: 'DequantizeLinear', since: 10, lower: (ctx) => [dequantizeLinear(ctx)] },
  {
    type: 'DynamicQuantizeLinear',
    since: 11,
    lower(ctx) {
      const { b } = ctx;
      const x = ctx.arg(0);
      if (x.dtype !== 'f32') ctx.fail(`x must be float32, got ${x.dtype}`);
      const all = x.shape.map((_, i) => i);
      const zero = b.like(x, 0);
      const lo = b.min(b.reduce('min', x, all, false), zero);
      const hi = b.max(b.reduce('max', x, all, false), zero);
      const scale = b.div(b.sub(hi, lo), b.like(x, 255));
      const zpf = b.sub(zero, b.div(lo, scale));
      const zp = b.cast(b.unary('round', b.min(b.max(zpf, zero), b.like(x, 255))), 'u8');
      return [saturate(ctx, b.div(x, scale), zp, 'u8'), scale, zp];
    },
  },
  {
    type: 'QLinearMatMul',
    since: 10,
    lower(ctx) {
      const [a, sa, za, w, sb, zb, sy, zy] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ctx.arg(i)) as [Value, Value, Value, Value, Value, Value, Value, Value];
      const acc = matmul(ctx, centered(ctx, a, za, perRow(ctx)), centered(ctx, w, zb));
      const out = zy.dtype;
      if (!QUANT_RANGE[out]) ctx.unsupported(`y_zero_point has element type ${out}`);
      return [requantize(ctx, acc, scalarOr(ctx, sa, perRow(ctx)), scalarOr(ctx, sb, (v) => v), scalarOr(ctx, sy, perRow(ctx)), scalarOr(ctx, zy, perRow(ctx)), out)];
    },
  },
  {
    type: 'ConvInteger',
    since: 10,
    lower(ctx) {
      const x = ctx.arg(0);
      const w = ctx.arg(1);
      const ws = ctx.staticShape(w, 'w');
      const xc = centered(ctx, x, ctx.input(2));
      const wc = centered(ctx, w, ctx.input(3), (z) => alongAxis(ctx.b, z, 0, ws.length));
      return [quantizedConv(ctx, xc, wc)];
    },
  },
  {
    type: 'QLinearConv',
    since: 10,
    lower(ctx) {
      const { b } = ctx;
      const [x, sx, zx, w, sw, zw, sy, zy] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ctx.arg(i)) as [Value, Value, Value, Value, Value, Value, Value, Value];
      const bias = ctx.input(8);
      const rank = x.shape.length;
      const ws = ctx.staticShape(w, 'w');
      const chan = (v: Value): Value => alongAxis(b, v, 1, rank);
      let acc = quantizedConv(ctx, centered(ctx, x, zx), centered(ctx, w, zw, (z) => alongAxis(b, z, 0, ws.length)));
      if (bias) acc = b.add(acc, chan(b.cast(bias, 'i32')));
      const out = zy.dtype;
      if (!QUANT_RANGE[out]) ctx.unsupported(`y_zero_point has element type ${out}`);
      return [requantize(ctx, acc, scalarOr(ctx, sx, chan), scalarOr(ctx, sw, chan), scalarOr(ctx, sy, chan), scalarOr(ctx, zy, chan), out)];
    },
  },
);
