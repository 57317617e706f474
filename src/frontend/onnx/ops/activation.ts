// ONNX activation ops: pointwise formulas over the prims (see registry.ts for how a rule is written).
// Formulas of several prims on f16/bf16 run in f32 and round once (inF32), as ONNX Runtime does.
import type { GraphBuilder } from '../../../ir/builder.js';
import type { Value } from '../../../ir/graph.js';
import { DTYPE_INFO, isFloat } from '../../../ir/dtype.js';
import { broadcastsTo } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps, type OnnxOp } from '../registry.js';
import { expm1, inF32, log1p } from './elementwise.js';

/** An activation with its attributes, computed in f32 for f16/bf16. */
const act = (type: string, since: number, f: (b: GraphBuilder, x: Value, ctx: LowerContext) => Value): OnnxOp => ({
  type, since, lower: (ctx) => [inF32(ctx.b, ctx.arg(0), (x) => f(ctx.b, x, ctx))],
});

/** sigmoid = 1/(1 + e^{−x}), as e^x/(1 + e^x) for x < 0 so that the far negative tail keeps its precision. */
function sigmoid(b: GraphBuilder, x: Value): Value {
  const e = b.exp(b.neg(b.abs(x)));
  const r = b.recip(b.add(b.like(x, 1), e));
  return b.where(b.lt(x, b.like(x, 0)), b.mul(e, r), r);
}

/** softplus = max(x, 0) + log1p(e^{−|x|}): no overflow for large x, full accuracy for very negative x. */
const softplus = (b: GraphBuilder, x: Value): Value =>
  b.add(b.max(x, b.like(x, 0)), log1p(b, b.exp(b.neg(b.abs(x)))));

/** alpha·(e^x − 1) where x < 0, x elsewhere. */
const elu = (b: GraphBuilder, x: Value, alpha: number): Value =>
  b.where(b.lt(x, b.like(x, 0)), b.mul(b.like(x, alpha), expm1(b, x)), x);

/** PRelu: the slope broadcasts to x. Before opset 7 a 1-D slope of x's channel count is per channel. */
function prelu(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  let slope = ctx.arg(1);
  if (ctx.opset < 7 && slope.shape.length === 1 && x.shape.length > 2 && slope.shape[0] !== 1 && slope.shape[0] === x.shape[1]) {
    slope = b.reshape(slope, [slope.shape[0]!, ...new Array<number>(x.shape.length - 2).fill(1)]);
  }
  if (!broadcastsTo(slope.shape, x.shape)) ctx.fail(`slope of shape [${slope.shape.join(',')}] does not broadcast to X of shape [${x.shape.join(',')}]`);
  return b.where(b.lt(x, b.like(x, 0)), b.mul(x, slope), x);
}

/** Shrink: x + bias below −lambd, x − bias above lambd, 0 between. Integer x compares with the
 * thresholds rounded inward, which is the same test (and unsigned x is never below a negative one). */
function shrink(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const lambd = ctx.node.float('lambd', 0.5);
  const bias = ctx.node.float('bias', 0);
  const int = !isFloat(x.dtype);
  const lo = int ? Math.ceil(-lambd) : -lambd;
  const hi = int ? Math.floor(lambd) : lambd;
  const bv = b.like(x, int ? Math.trunc(bias) : bias);
  const zero = b.like(x, 0);
  const above = b.where(b.lt(b.like(x, hi), x), b.sub(x, bv), zero);
  if (DTYPE_INFO[x.dtype].kind === 'uint' && lo <= 0) return above;
  return b.where(b.lt(x, b.like(x, lo)), b.add(x, bv), above);
}

/** Dropout at inference is the identity with an all-true mask; so is training mode with ratio 0.
 * Training mode with a ratio above 0 draws random masks, which a compiler cannot reproduce. */
function dropout(ctx: LowerContext): (Value | null)[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  if (ctx.opset >= 12 && ctx.input(2)) {
    const training = ctx.requireConstant(2, 'training_mode');
    if (training.num(0) !== 0) {
      const ratio = ctx.input(1) ? ctx.requireConstant(1, 'ratio in training mode').num(0) : 0.5;
      if (ratio !== 0) ctx.unsupported(`training mode with ratio ${ratio} draws a random mask`);
    }
  }
  if (ctx.numOutputs < 2) return [x];
  // Before opset 10 the mask has x's type.
  const mask = ctx.opset < 10 ? b.broadcast(b.like(x, 1), x.shape) : b.broadcast(b.scalar('bool', true), x.shape);
  return [x, mask];
}

defineOnnxOps(
  { type: 'Relu', since: 1, lower: (ctx) => [ctx.b.max(ctx.arg(0), ctx.b.like(ctx.arg(0), 0))] },
  act('LeakyRelu', 1, (b, x, ctx) => b.where(b.lt(x, b.like(x, 0)), b.mul(x, b.like(x, ctx.node.float('alpha', 0.01))), x)),
  { type: 'PRelu', since: 1, lower: (ctx) => [prelu(ctx)] },
  act('Elu', 1, (b, x, ctx) => elu(b, x, ctx.node.float('alpha', 1))),
  act('Selu', 1, (b, x, ctx) => {
    const alpha = ctx.node.float('alpha', 1.67326319217681884765625);
    const gamma = ctx.node.float('gamma', 1.05070102214813232421875);
    return b.mul(b.like(x, gamma), elu(b, x, alpha));
  }),
  act('Celu', 12, (b, x, ctx) => {
    const alpha = ctx.node.float('alpha', 1);
    // max(0, x) + min(0, alpha·(e^{x/alpha} − 1))
    const neg = b.mul(b.like(x, alpha), expm1(b, b.div(x, b.like(x, alpha))));
    return b.add(b.max(x, b.like(x, 0)), b.min(neg, b.like(x, 0)));
  }),
  act('Sigmoid', 1, sigmoid),
  act('HardSigmoid', 1, (b, x, ctx) => {
    const y = b.add(b.mul(x, b.like(x, ctx.node.float('alpha', 0.2))), b.like(x, ctx.node.float('beta', 0.5)));
    return b.max(b.min(y, b.like(x, 1)), b.like(x, 0));
  }),
  act('HardSwish', 14, (b, x) => {
    const y = b.add(b.mul(x, b.like(x, 1 / 6)), b.like(x, 0.5));
    return b.mul(x, b.max(b.min(y, b.like(x, 1)), b.like(x, 0)));
  }),
  act('Softplus', 1, softplus),
  act('Softsign', 1, (b, x) => b.div(x, b.add(b.like(x, 1), b.abs(x)))),
  act('ThresholdedRelu', 10, (b, x, ctx) => b.where(b.lt(b.like(x, ctx.node.float('alpha', 1)), x), x, b.like(x, 0))),
  act('Gelu', 20, (b, x, ctx) => {
    const approx = ctx.node.str('approximate', 'none');
    const half = b.like(x, 0.5);
    let inner: Value;
    if (approx === 'none') inner = b.erf(b.mul(x, b.like(x, Math.SQRT1_2)));
    else if (approx === 'tanh') {
      const cube = b.mul(b.mul(x, x), x);
      inner = b.tanh(b.mul(b.like(x, Math.sqrt(2 / Math.PI)), b.add(x, b.mul(b.like(x, 0.044715), cube))));
    } else return ctx.fail(`approximate must be 'none' or 'tanh', got '${approx}'`);
    return b.mul(b.mul(half, x), b.add(b.like(x, 1), inner));
  }),
  act('Mish', 18, (b, x) => b.mul(x, b.tanh(softplus(b, x)))),
  act('Swish', 24, (b, x, ctx) => b.mul(x, sigmoid(b, b.mul(x, b.like(x, ctx.node.float('alpha', 1)))))),
  { type: 'Shrink', since: 9, lower: (ctx) => [shrink(ctx)] },
  { type: 'Dropout', since: 1, lower: dropout },
);
