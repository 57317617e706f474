// ONNX ops with no family of their own: the ai.onnx.preview.training
// optimizers (Adagrad, Adam, Momentum), and the numeric ai.onnx.ml ops (ArrayFeatureExtractor, Binarizer,
// LabelEncoder on numbers, TreeEnsemble compiled into per-leaf path predicates).
import type { Value } from '../../../ir/graph.js';
import { A } from '../../../ir/attr.js';
import { isFloat, type DType } from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { ML_DOMAIN, defineOnnxOps } from '../registry.js';
import { unsqueeze } from './blocks.js';

const TRAINING_DOMAIN = 'ai.onnx.preview.training';

/** The scalar inputs R (learning rate) and T (update count) of a training op, as floats of X's dtype. */
function rateAndCount(ctx: LowerContext, dtype: DType): { r: Value; t: Value } {
  const { b } = ctx;
  return { r: b.reshape(b.cast(ctx.arg(0), dtype), []), t: b.reshape(b.cast(ctx.arg(1), dtype), []) };
}

/** Split the operands after R and T into `groups` lists of n tensors each (X…, G…, then states…). */
function optimizerGroups(ctx: LowerContext, groups: number): Value[][] {
  const rest = ctx.numInputs - 2;
  if (rest <= 0 || rest % groups !== 0) ctx.fail(`expects R, T and ${groups} equal groups of tensors, got ${ctx.numInputs} inputs`);
  const n = rest / groups;
  return Array.from({ length: groups }, (_, g) => Array.from({ length: n }, (_, i) => ctx.arg(2 + g * n + i)));
}

function adagrad(ctx: LowerContext): Value[] {
  const { b, node } = ctx;
  const [xs, gs, hs] = optimizerGroups(ctx, 3) as [Value[], Value[], Value[]];
  const T = xs[0]!.dtype;
  const { r, t } = rateAndCount(ctx, T);
  const decay = b.scalar(T, node.float('decay_factor', 0));
  const eps = b.scalar(T, node.float('epsilon', 0));
  const norm = b.scalar(T, node.float('norm_coefficient', 0));
  const rate = b.div(r, b.add(b.scalar(T, 1), b.mul(t, decay)));
  const xOut: Value[] = [];
  const hOut: Value[] = [];
  xs.forEach((x, i) => {
    const g = b.add(b.mul(norm, x), gs[i]!);
    const h = b.add(hs[i]!, b.mul(g, g));
    xOut.push(b.sub(x, b.div(b.mul(rate, g), b.add(b.sqrt(h), eps))));
    hOut.push(h);
  });
  return [...xOut, ...hOut];
}

function adam(ctx: LowerContext): Value[] {
  const { b, node } = ctx;
  const [xs, gs, vs, hs] = optimizerGroups(ctx, 4) as [Value[], Value[], Value[], Value[]];
  const T = xs[0]!.dtype;
  const alpha = node.float('alpha', 0.9);
  const beta = node.float('beta', 0.999);
  const eps = b.scalar(T, node.float('epsilon', 0));
  const norm = b.scalar(T, node.float('norm_coefficient', 0));
  const post = b.scalar(T, 1 - node.float('norm_coefficient_post', 0));
  // The bias-corrected rate r·√(1-βᵗ)/(1-αᵗ) (only once t > 0), in float64 as the reference computes it.
  const r = b.reshape(b.cast(ctx.arg(0), 'f64'), []);
  const t = b.reshape(b.cast(ctx.arg(1), 'f64'), []);
  const one = b.scalar('f64', 1);
  const corrected = b.div(b.mul(r, b.sqrt(b.sub(one, b.pow(b.scalar('f64', beta), t)))), b.sub(one, b.pow(b.scalar('f64', alpha), t)));
  const rate = b.cast(b.where(b.lt(b.scalar('f64', 0), t), corrected, r), T);
  const out: Value[][] = [[], [], []];
  xs.forEach((x, i) => {
    const g = b.add(b.mul(norm, x), gs[i]!);
    const v = b.add(b.mul(b.scalar(T, alpha), vs[i]!), b.mul(b.scalar(T, 1 - alpha), g));
    const h = b.add(b.mul(b.scalar(T, beta), hs[i]!), b.mul(b.scalar(T, 1 - beta), b.mul(g, g)));
    const xNew = b.sub(x, b.mul(rate, b.div(v, b.add(b.sqrt(h), eps))));
    out[0]!.push(b.mul(post, xNew));
    out[1]!.push(v);
    out[2]!.push(h);
  });
  return out.flat();
}

function momentum(ctx: LowerContext): Value[] {
  const { b, node } = ctx;
  const [xs, gs, vs] = optimizerGroups(ctx, 3) as [Value[], Value[], Value[]];
  const T = xs[0]!.dtype;
  const { r, t } = rateAndCount(ctx, T);
  const alpha = b.scalar(T, node.float('alpha'));
  const beta = b.where(b.lt(b.scalar(T, 0), t), b.scalar(T, node.float('beta')), b.scalar(T, 1));
  const norm = b.scalar(T, node.float('norm_coefficient'));
  const mode = node.str('mode');
  if (mode !== 'standard' && mode !== 'nesterov') ctx.fail(`unknown mode "${mode}"`);
  const xOut: Value[] = [];
  const vOut: Value[] = [];
  xs.forEach((x, i) => {
    const g = b.add(b.mul(norm, x), gs[i]!);
    const v = b.add(b.mul(alpha, vs[i]!), b.mul(beta, g));
    const step = mode === 'standard' ? v : b.add(g, b.mul(alpha, v));
    xOut.push(b.sub(x, b.mul(r, step)));
    vOut.push(v);
  });
  return [...xOut, ...vOut];
}

function arrayFeatureExtractor(ctx: LowerContext): Value {
  const { b } = ctx;
  const x = ctx.arg(0);
  const idx = ctx.arg(1);
  const n = ctx.staticShape(idx, 'Y').reduce((a, c) => a * c, 1);
  const flat = b.reshape(b.cast(idx, 'i64'), [n]);
  const y = b.gather(x, flat, x.shape.length - 1);
  return x.shape.length === 1 ? b.reshape(y, [1, n]) : y;
}

/** A numeric attribute tensor of a LabelEncoder (keys_/values_ lists or tensors), or undefined. */
function encoderTable(ctx: LowerContext, side: 'keys' | 'values'): Tensor | undefined {
  const { node } = ctx;
  if (node.has(`${side}_strings`)) ctx.unsupported(`${side}_strings: aic has no string dtype`);
  if (node.has(`${side}_int64s`)) {
    const v = node.ints(`${side}_int64s`);
    return Tensor.from('i64', [v.length], v.map((e) => BigInt(e)));
  }
  if (node.has(`${side}_floats`)) {
    const v = node.floats(`${side}_floats`);
    return Tensor.from('f32', [v.length], v);
  }
  if (node.has(`${side}_tensor`)) return node.tensor(`${side}_tensor`);
  return undefined;
}

function labelEncoder(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const x = ctx.arg(0);
  const keys = encoderTable(ctx, 'keys') ?? ctx.fail('keys are required');
  const values = encoderTable(ctx, 'values') ?? ctx.fail('values are required');
  if (keys.size !== values.size) ctx.fail(`${keys.size} keys but ${values.size} values`);
  if (keys.dtype !== x.dtype) ctx.fail(`keys are ${keys.dtype}, the input is ${x.dtype}`);
  const vt = values.dtype;
  let dflt: Value;
  if (node.has('default_tensor')) dflt = b.reshape(b.const(node.tensor('default_tensor')), []);
  else if (isFloat(vt)) dflt = b.scalar(vt, node.float('default_float', -0));
  else dflt = b.scalar(vt, vt === 'i64' ? BigInt(node.int('default_int64', -1)) : node.int('default_int64', -1));
  if (dflt.dtype !== vt) ctx.fail(`default_tensor is ${dflt.dtype}, values are ${vt}`);
  if (keys.size === 0) return b.broadcast(dflt, x.shape);
  // match[..., k] = (x == keys[k]); the first matching key's value wins.
  const k = keys.size;
  const match = b.eq(unsqueeze(b, x, x.shape.length), b.const(keys.reshape([k])));
  const first = b.op1('prim.argmax', [b.cast(match, 'i32')], { axis: A.int(x.shape.length), keepdims: A.int(0) });
  const any = b.reduce('max', match, [x.shape.length], false);
  return b.where(any, b.gather(b.const(values.reshape([k])), first, 0), dflt);
}

/** The decision of one TreeEnsemble node on feature column xf [N]: true sends a row to the true branch. */
function treeDecision(ctx: LowerContext, xf: Value, mode: number, split: number, members: number[], missingTrue: boolean): Value {
  const { b } = ctx;
  const s = b.scalar(xf.dtype, split);
  const eq = (v: number): Value => b.eq(xf, b.scalar(xf.dtype, v));
  let d: Value;
  switch (mode) {
    case 0: d = b.or(b.lt(xf, s), b.eq(xf, s)); break;
    case 1: d = b.lt(xf, s); break;
    case 2: d = b.or(b.lt(s, xf), b.eq(xf, s)); break;
    case 3: d = b.lt(s, xf); break;
    case 4: d = b.eq(xf, s); break;
    case 5: d = b.not(b.eq(xf, s)); break;
    case 6: d = members.length === 0 ? b.broadcast(b.scalar('bool', false), xf.shape) : members.map(eq).reduce((acc, e) => b.or(acc, e)); break;
    default: return ctx.fail(`unknown node mode ${mode}`);
  }
  return missingTrue ? b.or(d, b.unary('isnan', xf)) : d;
}

function treeEnsemble(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const x = ctx.arg(0);
  const xs = ctx.staticShape(x, 'X');
  if (xs.length !== 2) ctx.fail(`X must be [N, features], got [${xs.join(',')}]`);
  const N = xs[0]!;
  const T = x.dtype;
  const post = node.int('post_transform', 0);
  if (post !== 0) ctx.unsupported(`post_transform ${post}; only NONE (0) is supported`);
  const agg = node.int('aggregate_function', 1);
  if (agg < 0 || agg > 3) ctx.fail(`unknown aggregate_function ${agg}`);
  const modes = node.tensor('nodes_modes').toNumbers();
  const splits = node.tensor('nodes_splits').toNumbers();
  const features = node.ints('nodes_featureids');
  const trueIds = node.ints('nodes_truenodeids');
  const falseIds = node.ints('nodes_falsenodeids');
  const trueLeaf = node.ints('nodes_trueleafs');
  const falseLeaf = node.ints('nodes_falseleafs');
  const missing = node.has('nodes_missing_value_tracks_true') ? node.ints('nodes_missing_value_tracks_true') : [];
  const leafTargets = node.ints('leaf_targetids');
  const leafWeights = node.tensor('leaf_weights').toNumbers();
  const roots = node.ints('tree_roots');
  const nTargets = node.int('n_targets');
  // Set members of each MEMBER node, in node order, from the NaN-separated membership_values.
  const members = new Map<number, number[]>();
  if (modes.includes(6)) {
    const all = node.has('membership_values') ? node.tensor('membership_values').toNumbers() : ctx.fail('MEMBER nodes need membership_values');
    let at = 0;
    modes.forEach((m, i) => {
      if (m !== 6) return;
      const set: number[] = [];
      while (at < all.length && !Number.isNaN(all[at]!)) set.push(all[at++]!);
      at++;
      members.set(i, set);
    });
  }
  const column = new Map<number, Value>();
  const feature = (f: number): Value => {
    if (!column.has(f)) column.set(f, b.reshape(b.slice(x, [1], [f], [f + 1]), [N]));
    return column.get(f)!;
  };
  // Each leaf reached under a path predicate (null: every row) adds its weight to its target.
  const reach: { cond: Value | null; weight: number }[][] = Array.from({ length: nTargets }, () => []);
  const visit = (id: number, isLeaf: boolean, cond: Value | null, depth: number): void => {
    if (depth > modes.length + 1) ctx.fail('the tree nodes form a cycle');
    if (isLeaf) {
      const target = leafTargets[id] ?? ctx.fail(`leaf ${id} is out of range`);
      if (target < 0 || target >= nTargets) ctx.fail(`leaf ${id} targets ${target}, outside [0, ${nTargets})`);
      reach[target]!.push({ cond, weight: leafWeights[id]! });
      return;
    }
    if (id < 0 || id >= modes.length) ctx.fail(`node ${id} is out of range`);
    const d = treeDecision(ctx, feature(features[id]!), modes[id]!, splits[id]!, members.get(id) ?? [], (missing[id] ?? 0) !== 0);
    visit(trueIds[id]!, trueLeaf[id] !== 0, cond ? b.and(cond, d) : d, depth + 1);
    visit(falseIds[id]!, falseLeaf[id] !== 0, cond ? b.and(cond, b.not(d)) : b.not(d), depth + 1);
  };
  for (const root of roots) {
    const degenerate = trueLeaf[root] !== 0 && falseLeaf[root] !== 0 && trueIds[root] === falseIds[root];
    visit(degenerate ? trueIds[root]! : root, degenerate, null, 0);
  }
  const big = T === 'f64' ? Number.MAX_VALUE : T === 'f16' ? 65504 : 3.4028234663852886e38;
  const init = agg === 2 ? big : agg === 3 ? -big : 0;
  const columns = reach.map((leaves) => {
    let acc: Value = b.broadcast(b.scalar(T, init), [N]);
    for (const { cond, weight } of leaves) {
      const w = b.scalar(T, agg === 0 ? weight / roots.length : weight);
      const hit = cond ?? b.broadcast(b.scalar('bool', true), [N]);
      if (agg <= 1) acc = b.add(acc, b.where(hit, w, b.scalar(T, 0)));
      else if (agg === 2) acc = b.min(acc, b.where(hit, w, b.scalar(T, big)));
      else acc = b.max(acc, b.where(hit, w, b.scalar(T, -big)));
    }
    return unsqueeze(b, acc, 1);
  });
  return b.concat(columns, 1);
}

defineOnnxOps(
  { domain: TRAINING_DOMAIN, type: 'Adagrad', since: 1, lower: adagrad },
  { domain: TRAINING_DOMAIN, type: 'Adam', since: 1, lower: adam },
  { domain: TRAINING_DOMAIN, type: 'Momentum', since: 1, lower: momentum },
  { domain: ML_DOMAIN, type: 'ArrayFeatureExtractor', since: 1, lower: (ctx) => [arrayFeatureExtractor(ctx)] },
  {
    domain: ML_DOMAIN,
    type: 'Binarizer',
    since: 1,
    lower(ctx) {
      const x = ctx.arg(0);
      const { b } = ctx;
      return [b.where(b.lt(b.like(x, ctx.node.float('threshold', 0)), x), b.like(x, 1), b.like(x, 0))];
    },
  },
  { domain: ML_DOMAIN, type: 'LabelEncoder', since: 2, lower: (ctx) => [labelEncoder(ctx)] },
  { domain: ML_DOMAIN, type: 'TreeEnsemble', since: 5, lower: (ctx) => [treeEnsemble(ctx)] },
);
