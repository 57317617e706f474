// ONNX attention-family ops: Attention (opset 23/24), ai.onnx.preview FlexAttention, RotaryEmbedding,
// LinearAttention (unrolled over time), CausalConvWithState, TensorScatter and SwiGLU.
//
// Attention on [B, H, S, D] heads, grouped-query heads sharing a KV head without copying it:
//   q5 = reshape(q * √scale, [B, Hkv, rep, S, D])
//   scores = dot(q5, k * √scale) batch (B, Hkv), contract D     → [B, Hkv, rep, S, L] → [B, Hq, S, L]
//   p = softmax(softcap(scores) + bias), zero on rows the bias masks entirely
//   y = dot(reshape(p, [B, Hkv, rep, S, L]), v) batch (B, Hkv)   → [B, Hq, S, Dv]
import type { Graph, Node, TensorType, Value } from '../../../ir/graph.js';
import { dtypeFromOnnx, type DType } from '../../../ir/dtype.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';
import { softmax, unsqueeze } from './blocks.js';

/** [B, S, H*D] → [B, H, S, D]. */
function toHeads(ctx: LowerContext, x: Value, heads: number, what: string): Value {
  const { b } = ctx;
  const [B, S, HD] = ctx.staticShape(x, what);
  if (x.shape.length !== 3 || HD! % heads !== 0) ctx.fail(`${what} [${x.shape.join(',')}] does not split into ${heads} heads`);
  return b.permute(b.reshape(x, [B!, S!, heads, HD! / heads]), [0, 2, 1, 3]);
}

/** [B, H, S, D] → [B, S, H*D]. */
function fromHeads(ctx: LowerContext, x: Value): Value {
  const [B, H, S, D] = x.shape as number[];
  return ctx.b.reshape(ctx.b.permute(x, [0, 2, 1, 3]), [B!, S!, H! * D!]);
}

/** q [B, Hq, S, D] · k [B, Hkv, L, D] → [B, Hq, S, L]; query head h reads KV head h / (Hq / Hkv). */
function groupedScores(ctx: LowerContext, q: Value, k: Value): Value {
  const [B, Hq, S, D] = q.shape as number[];
  const Hkv = k.shape[1] as number;
  const L = k.shape[2] as number;
  if (Hq! % Hkv !== 0) ctx.fail(`${Hq} query heads do not group over ${Hkv} key/value heads`);
  const q5 = ctx.b.reshape(q, [B!, Hkv, Hq! / Hkv, S!, D!]);
  const s = ctx.b.dot(q5, k, { lhsBatch: [0, 1], rhsBatch: [0, 1], lhsContract: [4], rhsContract: [3] });
  return ctx.b.reshape(s, [B!, Hq!, S!, L]);
}

/** p [B, Hq, S, L] · v [B, Hkv, L, Dv] → [B, Hq, S, Dv], grouped as in groupedScores. */
function groupedApply(ctx: LowerContext, p: Value, v: Value): Value {
  const [B, Hq, S, L] = p.shape as number[];
  const Hkv = v.shape[1] as number;
  const Dv = v.shape[3] as number;
  const p5 = ctx.b.reshape(p, [B!, Hkv, Hq! / Hkv, S!, L!]);
  const y = ctx.b.dot(p5, v, { lhsBatch: [0, 1], rhsBatch: [0, 1], lhsContract: [4], rhsContract: [2] });
  return ctx.b.reshape(y, [B!, Hq!, S!, Dv]);
}

/** √scale as the ONNX function body computes it: in float32, scale defaulting to 1/√head_size. */
function sqrtScale(ctx: LowerContext, headSize: number): number {
  const scale = ctx.node.has('scale') ? Math.fround(ctx.node.float('scale')) : Math.fround(1 / Math.fround(Math.sqrt(headSize)));
  return Math.fround(Math.sqrt(scale));
}

/** A [rows, cols] bool tensor true where key j is hidden from query i: j > i + offset. */
function causalHidden(ctx: LowerContext, rows: number, cols: number, offset: Value | number): Value {
  const { b } = ctx;
  const i = b.iota('i64', [rows, 1], 0);
  const j = b.iota('i64', [1, cols], 1);
  const off = typeof offset === 'number' ? b.scalar('i64', BigInt(offset)) : offset;
  return b.lt(b.add(i, off), j);
}

function attention(ctx: LowerContext): (Value | null)[] {
  const { b, node } = ctx;
  let q = ctx.arg(0);
  let k = ctx.arg(1);
  let v = ctx.arg(2);
  const mask = ctx.input(3);
  const pastK = ctx.input(4);
  const pastV = ctx.input(5);
  const nonpad = ctx.opset >= 24 ? ctx.input(6) : null;
  const T = q.dtype;
  if (T !== 'f32' && T !== 'f16' && T !== 'bf16' && T !== 'f64') ctx.fail(`Q must be a float tensor, got ${T}`);
  if (k.dtype !== T || v.dtype !== T) ctx.fail(`Q, K and V must share one dtype (${q.dtype}, ${k.dtype}, ${v.dtype})`);
  const packed = q.shape.length === 3;
  if (packed) {
    q = toHeads(ctx, q, node.int('q_num_heads'), 'Q');
    k = toHeads(ctx, k, node.int('kv_num_heads'), 'K');
    v = toHeads(ctx, v, node.int('kv_num_heads'), 'V');
  } else if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4) {
    ctx.fail(`Q, K and V must all be 3-D or all 4-D, got [${q.shape.join(',')}], [${k.shape.join(',')}], [${v.shape.join(',')}]`);
  }
  if (!pastK !== !pastV) ctx.fail('past_key and past_value must be given together');
  if (pastK && pastV) {
    k = b.concat([pastK, k], 2);
    v = b.concat([pastV, v], 2);
  }
  const [B, , S, D] = ctx.staticShape(q, 'Q');
  const L = ctx.staticShape(k, 'K')[2]!;
  const pastLen = pastK ? ctx.staticShape(pastK, 'past_key')[2]! : 0;
  const s = b.scalar(T, sqrtScale(ctx, D!));
  const raw = groupedScores(ctx, b.mul(q, s), b.mul(k, s));
  const cap = node.float('softcap', 0);
  const capped = cap > 0 ? b.mul(b.tanh(b.div(raw, b.scalar(T, cap))), b.scalar(T, cap)) : raw;

  // The additive bias: the mask (bool → 0 / -inf, padded with -inf to L), the causal frontier, the padding.
  const negInf = b.scalar(T, -Infinity);
  const zero = b.scalar(T, 0);
  const terms: Value[] = [];
  if (mask) {
    let m = mask.dtype === 'bool' ? b.where(mask, zero, negInf) : b.cast(mask, T);
    const ml = ctx.staticShape(m, 'attn_mask');
    const short = L - ml[ml.length - 1]!;
    if (short < 0) ctx.fail(`attn_mask [${ml.join(',')}] is longer than the ${L} keys`);
    if (short > 0) m = b.pad(m, [...ml.map(() => 0), ...ml.slice(0, -1).map(() => 0), short], -Infinity);
    terms.push(m);
  }
  const nonpadB = nonpad ? b.reshape(b.cast(nonpad, 'i64'), [B!, 1, 1, 1]) : null;
  if (node.int('is_causal', 0) !== 0) {
    const offset = nonpadB && !pastK ? b.sub(nonpadB, b.scalar('i64', BigInt(S!))) : pastLen;
    terms.push(b.where(causalHidden(ctx, S!, L, offset), negInf, zero));
  }
  if (nonpadB) terms.push(b.where(b.lt(b.iota('i64', [1, 1, 1, L], 3), nonpadB), zero, negInf));
  const bias = terms.length > 0 ? terms.reduce((acc, t) => b.add(acc, t)) : null;
  const biased = bias ? b.add(capped, bias) : capped;

  const sp = node.has('softmax_precision') ? dtypeFromOnnx(node.int('softmax_precision'), 'softmax_precision') : T;
  let p = b.cast(softmax(b, b.cast(biased, sp), 3), T);
  // A query row whose bias hides every key attends nothing: its probabilities are 0, not NaN.
  if (bias) p = b.where(b.eq(b.reduce('max', bias, [bias.shape.length - 1], true), negInf), zero, p);
  let y = groupedApply(ctx, p, v);
  if (packed) y = fromHeads(ctx, y);
  const mode = node.int('qk_matmul_output_mode', 0);
  const qk = [raw, capped, biased, p][mode] ?? ctx.fail(`qk_matmul_output_mode ${mode} is not 0, 1, 2 or 3`);
  return [y, k, v, qk];
}

/** Lower a graph attribute with inputs typed as `args` and inline it here, `args` as its inputs. */
function inlineGraph(ctx: LowerContext, g: Graph, args: readonly Value[]): Value[] {
  const { b } = ctx;
  if (g.inputs.length !== args.length) ctx.fail(`graph @${g.name} takes ${g.inputs.length} inputs, given ${args.length}`);
  const body = ctx.lowerSubgraph(g, args.map((v) => v.type));
  // Values the body reads from enclosing graphs are already lowered in this scope: they map to themselves.
  const map = new Map<Value, Value>(body.inputs.map((v, i) => [v, args[i]!]));
  for (const n of body.nodes) {
    const results = b.op(n.op, n.inputs.map((v) => (v ? map.get(v) ?? v : null)), n.attrs, n.outputs.map((o) => o.type));
    n.outputs.forEach((o, i) => map.set(o, results[i]!));
  }
  return body.outputs.map((o) => map.get(o) ?? o);
}

/** The dtype FlexAttention's scores and probabilities take: softmax_precision, else f64 for f64, else f32. */
function flexPrecision(node: Node, T: DType): DType {
  return node.has('softmax_precision') ? dtypeFromOnnx(node.int('softmax_precision'), 'softmax_precision') : T === 'f64' ? 'f64' : 'f32';
}

function flexAttention(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const [q, k, v] = [ctx.arg(0), ctx.arg(1), ctx.arg(2)];
  const T = q.dtype;
  if (q.shape.length !== 4 || k.shape.length !== 4 || v.shape.length !== 4) ctx.fail('Q, K and V must be 4-D');
  const D = ctx.staticShape(q, 'Q')[3]!;
  ctx.staticShape(k, 'K');
  ctx.staticShape(v, 'V');
  const s = b.scalar(T, sqrtScale(ctx, D));
  const sp = flexPrecision(node, T);
  const modify = (name: string, x: Value): Value => {
    if (!node.has(name)) return x;
    const [r] = inlineGraph(ctx, node.graph(name), [x]);
    if (!r || r.dtype !== x.dtype) ctx.fail(`${name} must return one ${x.dtype} tensor`);
    return r;
  };
  let scores = b.cast(groupedScores(ctx, b.mul(q, s), b.mul(k, s)), sp);
  scores = modify('score_mod', scores);
  const p = modify('prob_mod', softmax(b, scores, 3));
  return b.cast(groupedApply(ctx, p, b.cast(v, sp)), T);
}

function rotaryEmbedding(ctx: LowerContext): Value {
  const { b, node } = ctx;
  const x = ctx.arg(0);
  let cos = ctx.arg(1);
  let sin = ctx.arg(2);
  const pos = ctx.input(3);
  const shape = ctx.staticShape(x, 'input');
  // Work on [B, S, H, D].
  let xs: Value;
  if (shape.length === 4) xs = b.permute(x, [0, 2, 1, 3]);
  else if (shape.length === 3) {
    const heads = node.int('num_heads', 0);
    if (heads <= 0 || shape[2]! % heads !== 0) ctx.fail(`a 3-D input needs num_heads dividing ${shape[2]}`);
    xs = b.reshape(x, [shape[0]!, shape[1]!, heads, shape[2]! / heads]);
  } else return ctx.fail(`input must be 3-D or 4-D, got [${shape.join(',')}]`);
  const [B, S, H, D] = xs.shape as number[];
  const dim = node.int('rotary_embedding_dim', 0) || D!;
  if (dim > D! || dim % 2 !== 0) ctx.fail(`rotary_embedding_dim ${dim} must be even and at most the head size ${D}`);
  const half = dim / 2;
  if (pos) {
    cos = b.gather(cos, pos, 0);
    sin = b.gather(sin, pos, 0);
  }
  if (cos.shape[cos.shape.length - 1] !== half) ctx.fail(`cos_cache [${cos.shape.join(',')}] must end in rotary_embedding_dim/2 = ${half}`);
  cos = unsqueeze(b, cos, cos.shape.length - 1);
  sin = unsqueeze(b, sin, sin.shape.length - 1);
  const rot = dim === D ? xs : b.slice(xs, [3], [0], [dim]);
  const interleaved = node.int('interleaved', 0) !== 0;
  const x1 = interleaved ? b.slice(rot, [3], [0], [dim], [2]) : b.slice(rot, [3], [0], [half]);
  const x2 = interleaved ? b.slice(rot, [3], [1], [dim], [2]) : b.slice(rot, [3], [half], [dim]);
  const real = b.sub(b.mul(cos, x1), b.mul(sin, x2));
  const imag = b.add(b.mul(sin, x1), b.mul(cos, x2));
  let rotated = interleaved
    ? b.reshape(b.concat([unsqueeze(b, real, 4), unsqueeze(b, imag, 4)], 4), [B!, S!, H!, dim])
    : b.concat([real, imag], 3);
  if (dim < D!) rotated = b.concat([rotated, b.slice(xs, [3], [dim], [D!])], 3);
  return shape.length === 4 ? b.permute(rotated, [0, 2, 1, 3]) : b.reshape(rotated, shape);
}

/** Per-time-step slices of [B, H, T, d] as [B, H, d]. */
function stepOf(ctx: LowerContext, x: Value, t: number): Value {
  const [B, H, , d] = x.shape as number[];
  return ctx.b.reshape(ctx.b.slice(x, [2], [t], [t + 1]), [B!, H!, d!]);
}

function linearAttention(ctx: LowerContext): Value[] {
  const { b, node } = ctx;
  const [query, key, value] = [ctx.arg(0), ctx.arg(1), ctx.arg(2)];
  const past = ctx.input(3);
  const decay = ctx.input(4);
  const beta = ctx.input(5);
  const erase = ctx.input(6);
  const rule = node.str('update_rule', 'gated_delta');
  if (!['linear', 'gated', 'delta', 'gated_delta'].includes(rule)) ctx.fail(`unknown update_rule "${rule}"`);
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  if (gated !== !!decay) ctx.fail(`update_rule ${rule} ${gated ? 'needs' : 'forbids'} decay`);
  if (delta !== !!beta) ctx.fail(`update_rule ${rule} ${delta ? 'needs' : 'forbids'} beta`);
  if (erase && !delta) ctx.fail(`update_rule ${rule} forbids erase_gate`);
  const Hq = node.int('q_num_heads');
  const Hkv = node.int('kv_num_heads');
  if (Hq <= 0 || Hkv <= 0 || Hq % Hkv !== 0) ctx.fail(`q_num_heads ${Hq} must be a positive multiple of kv_num_heads ${Hkv}`);
  const f32 = (x: Value): Value => b.cast(x, 'f32');
  const q = f32(toHeads(ctx, query, Hq, 'query'));
  const k = f32(toHeads(ctx, key, Hkv, 'key'));
  const v = f32(toHeads(ctx, value, Hkv, 'value'));
  const [B, , T, dk] = q.shape as number[];
  const dv = v.shape[3] as number;
  const g = decay ? f32(toHeads(ctx, decay, Hkv, 'decay')) : null; // [B, Hkv, T, dk or 1]
  const bt = beta ? f32(toHeads(ctx, beta, ctx.staticShape(beta, 'beta')[2]!, 'beta')) : null; // [B, Hb, T, 1]
  const eg = erase ? f32(toHeads(ctx, erase, Hkv, 'erase_gate')) : null;
  let state = past ? f32(past) : b.broadcast(b.scalar('f32', 0), [B!, Hkv, dk!, dv]);
  const scale = node.float('scale', 0) || 1 / Math.sqrt(dk!);
  const outs: Value[] = [];
  for (let t = 0; t < T!; t++) {
    const kt = stepOf(ctx, k, t);
    let vt = stepOf(ctx, v, t);
    if (g) state = b.mul(state, unsqueeze(b, b.exp(stepOf(ctx, g, t)), 3));
    if (bt) {
      const ke = eg ? b.mul(stepOf(ctx, eg, t), kt) : kt;
      const retrieved = b.dot(state, ke, { lhsBatch: [0, 1], rhsBatch: [0, 1], lhsContract: [2], rhsContract: [2] });
      vt = b.mul(stepOf(ctx, bt, t), b.sub(vt, retrieved));
    }
    state = b.add(state, b.mul(unsqueeze(b, kt, 3), unsqueeze(b, vt, 2)));
    const qt = b.reshape(stepOf(ctx, q, t), [B!, Hkv, Hq / Hkv, dk!]);
    const ot = b.dot(qt, state, { lhsBatch: [0, 1], rhsBatch: [0, 1], lhsContract: [3], rhsContract: [2] }); // [B, Hkv, g, dv]
    outs.push(b.reshape(b.mul(ot, b.scalar('f32', scale)), [B!, 1, Hq * dv]));
  }
  const out = b.cast(b.concat(outs, 1), query.dtype);
  return [out, b.cast(state, past ? past.dtype : query.dtype)];
}

function causalConvWithState(ctx: LowerContext): Value[] {
  const { b } = ctx;
  const x = ctx.arg(0);
  const w = ctx.arg(1);
  const bias = ctx.input(2);
  const past = ctx.input(3);
  const act = ctx.node.str('activation', 'none');
  if (!['none', 'silu', 'swish'].includes(act)) ctx.fail(`unknown activation "${act}"`);
  const [B, C, Lx] = ctx.staticShape(x, 'input');
  const ws = ctx.staticShape(w, 'weight');
  if (x.shape.length !== 3 || ws.length !== 3 || ws[0] !== C || ws[1] !== 1) ctx.fail(`weight [${ws.join(',')}] must be [channels, 1, k] for input [${x.shape.join(',')}]`);
  const K = ws[2]!;
  const carry = past ?? b.broadcast(b.like(x, 0), [B!, C!, K - 1]);
  const padded = K > 1 ? b.concat([carry, x], 2) : x;
  // taps[b, c, t, j] = padded[b, c, t + j]; y[b, c, t] = Σ_j taps[b, c, t, j] · w[c, 0, j]
  const taps = Array.from({ length: K }, (_, j) => unsqueeze(b, b.slice(padded, [2], [j], [j + Lx!]), 3));
  const y0 = b.dot(b.concat(taps, 3), b.reshape(w, [C!, K]), { lhsBatch: [1], rhsBatch: [0], lhsContract: [3], rhsContract: [1] });
  let y = b.permute(y0, [1, 0, 2]);
  if (bias) y = b.add(y, b.reshape(bias, [C!, 1]));
  if (act !== 'none') {
    const yf = b.cast(y, 'f32');
    const one = b.scalar('f32', 1);
    y = b.cast(b.mul(yf, b.recip(b.add(one, b.exp(b.neg(yf))))), x.dtype);
  }
  const total = Lx! + K - 1;
  return [y, b.slice(padded, [2], [total - (K - 1)], [total])];
}

function tensorScatter(ctx: LowerContext): Value {
  const { b } = ctx;
  const past = ctx.arg(0);
  const update = ctx.arg(1);
  const writeAt = ctx.input(2);
  const ps = ctx.staticShape(past, 'past_cache');
  const us = ctx.staticShape(update, 'update');
  const axis = ctx.axis(ctx.node.int('axis', -2), ps.length);
  if (axis === 0) ctx.fail('axis must not be the batch axis 0');
  if (us.length !== ps.length || us.some((d, i) => i !== axis && d !== ps[i])) ctx.fail(`update [${us.join(',')}] must match past_cache [${ps.join(',')}] off axis ${axis}`);
  const mode = ctx.node.str('mode', 'linear');
  if (mode !== 'linear' && mode !== 'circular') ctx.fail(`unknown mode "${mode}"`);
  let idx = b.iota('i64', us, axis);
  if (writeAt) idx = b.add(idx, b.reshape(b.cast(writeAt, 'i64'), [ps[0]!, ...ps.slice(1).map(() => 1)]));
  if (mode === 'circular') idx = b.binary('mod', idx, b.scalar('i64', BigInt(ps[axis]!)));
  return b.scatter(past, idx, update, axis);
}

defineOnnxOps(
  { type: 'Attention', since: 23, lower: attention },
  {
    domain: 'ai.onnx.preview',
    type: 'FlexAttention',
    since: 1,
    lower: (ctx) => [flexAttention(ctx)],
    // score_mod and prob_mod see the scores [B, Hq, L, S] in the softmax precision.
    subgraphInputs(node, [q, k]): Record<string, TensorType[]> {
      if (!q || !k || q.shape.length !== 4 || k.shape.length !== 4) return {};
      const scores: TensorType = { dtype: flexPrecision(node, q.dtype), shape: [q.shape[0]!, q.shape[1]!, q.shape[2]!, k.shape[2]!] };
      return { score_mod: [scores], prob_mod: [scores] };
    },
  },
  { type: 'RotaryEmbedding', since: 23, lower: (ctx) => [rotaryEmbedding(ctx)] },
  { type: 'LinearAttention', since: 27, lower: linearAttention },
  { type: 'CausalConvWithState', since: 27, lower: causalConvWithState },
  { type: 'TensorScatter', since: 24, lower: (ctx) => [tensorScatter(ctx)] },
  {
    type: 'SwiGLU',
    since: 28,
    lower(ctx) {
      const { b } = ctx;
      const [a, v] = [ctx.arg(0), ctx.arg(1)];
      const alpha = b.like(a, ctx.node.float('alpha', 1));
      const sig = b.recip(b.add(b.like(a, 1), b.exp(b.neg(b.mul(alpha, a)))));
      return [b.mul(b.mul(a, sig), v)];
    },
  },
);
