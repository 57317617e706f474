// ONNX loss ops: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (= NLL of log_softmax).
// The class of each sample is picked with a one-hot select over C (never a gather that an ignored,
// out-of-range label could break), so NaN or inf in unpicked classes does not leak into the loss.
//
//   loss[n, d…] = ignored ? 0 : -input[n, target[n, d…], d…] * weight[target[n, d…]]
//   mean = Σ loss / Σ weight[target] (over samples not ignored)
import type { Value } from '../../../ir/graph.js';
import { isStatic, numel } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { logSoftmax, unsqueeze } from './blocks.js';

/** The NLL loss of log-probabilities x [N, C, d…] for targets [N, d…], reduced as the node says. */
function nllLoss(ctx: LowerContext, x: Value, target: Value, weight: Value | null): Value {
  const { b } = ctx;
  if (x.shape.length < 2) ctx.fail(`input must have rank 2 or more, got [${x.shape.join(',')}]`);
  if (target.shape.length !== x.shape.length - 1) ctx.fail(`target [${target.shape.join(',')}] must have rank ${x.shape.length - 1}`);
  const C = x.shape[1]!;
  const reduction = ctx.node.str('reduction', 'mean');
  if (!['none', 'sum', 'mean'].includes(reduction)) ctx.fail(`unknown reduction "${reduction}"`);
  const t = b.cast(target, 'i64');
  const hasIgnore = ctx.node.has('ignore_index');
  const ignored = hasIgnore ? b.eq(t, b.scalar('i64', BigInt(ctx.node.int('ignore_index')))) : null;
  // Labels of ignored samples become 0 so every index below is in range.
  const label = ignored ? b.where(ignored, b.scalar('i64', 0n), t) : t;
  const classes = b.iota('i64', [1, C, ...target.shape.slice(1)], 1);
  const onehot = b.eq(unsqueeze(b, label, 1), classes);
  const zero = b.like(x, 0);
  const picked = b.reduce('sum', b.where(onehot, x, zero), [1], false);
  let w: Value | null = null;
  if (weight) {
    if (weight.shape.length !== 1) ctx.fail(`weight must be 1-D, got [${weight.shape.join(',')}]`);
    w = b.gather(weight, label, 0);
  }
  if (ignored) w = b.where(ignored, zero, w ?? b.like(x, 1));
  const loss = w ? b.mul(b.neg(picked), w) : b.neg(picked);
  if (reduction === 'none') return loss;
  const all = loss.shape.map((_, i) => i);
  const sum = b.reduce('sum', loss, all, false);
  if (reduction === 'sum') return sum;
  if (w) return b.div(sum, b.reduce('sum', w, all, false));
  const count = isStatic(loss.shape) ? b.like(x, numel(loss.shape)) : b.cast(b.reduce('prod', b.op1('prim.shape', [loss]), [0], false), x.dtype);
  return b.div(sum, count);
}

defineOnnxOps(
  {
    type: 'NegativeLogLikelihoodLoss',
    since: 12,
    lower: (ctx) => [nllLoss(ctx, ctx.arg(0), ctx.arg(1), ctx.input(2))],
  },
  {
    type: 'SoftmaxCrossEntropyLoss',
    since: 12,
    lower(ctx) {
      const logProb = logSoftmax(ctx.b, ctx.arg(0), 1);
      return [nllLoss(ctx, logProb, ctx.arg(1), ctx.input(2)), logProb];
    },
  },
);
