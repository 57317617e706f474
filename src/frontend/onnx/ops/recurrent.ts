// ONNX recurrent layers — RNN, GRU, LSTM — unrolled over a static sequence length into prims: the input
// projection X·Wᵀ for all steps is one dot, then each step is a dot with R and pointwise gate math, in the
// order of the ONNX reference (onnx/backend/test/case/node/{rnn,gru,lstm}.py), so the numbers round alike.
//
// Covered: directions forward/reverse/bidirectional, activations with activation_alpha/beta (consumed in
// order by the functions that take them, as ONNX Runtime does), clip (on the inputs of the gate
// activations), GRU linear_before_reset, LSTM input_forget and peepholes, layout (opset 14+), initial
// states, and sequence_lens (steps past a batch entry's length keep its state and yield zeros; the reverse
// direction starts at each entry's last step). f16/bf16 layers compute in f32 and round the outputs once.
import type { DType } from '../../../ir/dtype.js';
import type { GraphBuilder } from '../../../ir/builder.js';
import type { Value } from '../../../ir/graph.js';
import type { Dim } from '../../../ir/shape.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

type Kind = 'RNN' | 'GRU' | 'LSTM';

const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
/** Activations per direction by default: RNN f; GRU f, g; LSTM f, g, h. */
const DEFAULT_ACTS: Record<Kind, readonly string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

type Act = (x: Value) => Value;

interface ActRow {
  readonly alpha?: number;
  readonly beta?: number;
  readonly make: (b: GraphBuilder, alpha: number, beta: number) => Act;
}

/** The activation functions RNN, GRU and LSTM accept, with ONNX's default alpha and beta. */
const ACTIVATIONS: Record<string, ActRow> = {
  relu: { make: (b) => (x) => b.max(x, b.like(x, 0)) },
  tanh: { make: (b) => (x) => b.tanh(x) },
  sigmoid: { make: (b) => (x) => b.recip(b.add(b.like(x, 1), b.exp(b.neg(x)))) },
  affine: { alpha: 1, beta: 0, make: (b, a, c) => (x) => b.add(b.mul(b.like(x, a), x), b.like(x, c)) },
  leakyrelu: { alpha: 0.01, make: (b, a) => (x) => b.where(b.lt(x, b.like(x, 0)), b.mul(b.like(x, a), x), x) },
  thresholdedrelu: { alpha: 1, make: (b, a) => (x) => b.where(b.lt(b.like(x, a), x), x, b.like(x, 0)) },
  scaledtanh: { alpha: 1, beta: 1, make: (b, a, c) => (x) => b.mul(b.like(x, a), b.tanh(b.mul(b.like(x, c), x))) },
  hardsigmoid: {
    alpha: 0.2, beta: 0.5,
    make: (b, a, c) => (x) => b.min(b.max(b.add(b.mul(b.like(x, a), x), b.like(x, c)), b.like(x, 0)), b.like(x, 1)),
  },
  elu: { alpha: 1, make: (b, a) => (x) => b.where(b.lt(x, b.like(x, 0)), b.mul(b.like(x, a), b.sub(b.exp(x), b.like(x, 1))), x) },
  softsign: { make: (b) => (x) => b.div(x, b.add(b.like(x, 1), b.abs(x))) },
  softplus: { make: (b) => (x) => b.log(b.add(b.like(x, 1), b.exp(x))) },
};

/** The activation functions of each direction, from `activations`, `activation_alpha` and `activation_beta`. */
function activations(ctx: LowerContext, kind: Kind, dirs: number): Act[][] {
  const per = DEFAULT_ACTS[kind].length;
  let names = ctx.node.strs('activations', []);
  if (names.length === 0) names = Array.from({ length: dirs }, () => DEFAULT_ACTS[kind]).flat();
  else if (names.length === per && dirs === 2) names = [...names, ...names];
  if (names.length !== per * dirs) ctx.fail(`activations lists ${names.length} functions, expected ${per * dirs}`);
  const alphas = [...ctx.node.floats('activation_alpha', [])];
  const betas = [...ctx.node.floats('activation_beta', [])];
  const acts = names.map((name) => {
    const row = ACTIVATIONS[name.toLowerCase()] ?? ctx.unsupported(`activation function ${name}`);
    const alpha = row.alpha === undefined ? 0 : alphas.shift() ?? row.alpha;
    const beta = row.beta === undefined ? 0 : betas.shift() ?? row.beta;
    return row.make(ctx.b, alpha, beta);
  });
  return Array.from({ length: dirs }, (_, d) => acts.slice(d * per, (d + 1) * per));
}

/** Direction d's [rows, cols] matrix of a [dirs, rows, cols] weight. */
function ofDirection(b: GraphBuilder, w: Value, d: number): Value {
  return b.reshape(b.slice(w, [0], [d], [d + 1]), w.shape.slice(1));
}

/** Columns [g*h, (g+1)*h) of a [.., k*h] value: gate g. */
function gate(b: GraphBuilder, v: Value, g: number, h: number): Value {
  const axis = v.shape.length - 1;
  return b.slice(v, [axis], [g * h], [(g + 1) * h]);
}

/** x·wᵀ over the last axis of x: [.., in] · [out, in] → [.., out]. */
function linear(b: GraphBuilder, x: Value, w: Value): Value {
  return b.dot(x, w, { lhsContract: [x.shape.length - 1], rhsContract: [1] });
}

/** One direction's parameters and state, everything [batch, ...] or per-gate vectors. */
interface Direction {
  readonly r: Value; // [G*H, H]
  readonly wb: Value | null; // [G*H]
  readonly rb: Value | null; // [G*H]
  readonly p: Value | null; // [3H] (LSTM peepholes i, o, f)
  readonly acts: Act[];
}

interface StepOptions {
  readonly kind: Kind;
  readonly hidden: number;
  readonly clip: Act;
  readonly linearBeforeReset: boolean;
  readonly inputForget: boolean;
}

/** One time step: input projection xw [B, G*H], previous h (and c) [B, H] → new h (and c). */
function step(b: GraphBuilder, o: StepOptions, dir: Direction, xw: Value, h: Value, c: Value | null): { h: Value; c: Value | null } {
  const H = o.hidden;
  const [f, g, hAct] = dir.acts as [Act, Act?, Act?];
  // RNN and LSTM add Wb + Rb at once, GRU adds Wb then Rb (as the reference does).
  const bias = (v: Value, gi?: number): Value => {
    if (!dir.wb || !dir.rb) return v;
    if (gi === undefined) return b.add(v, b.add(dir.wb, dir.rb));
    return b.add(b.add(v, gate(b, dir.wb, gi, H)), gate(b, dir.rb, gi, H));
  };
  if (o.kind === 'RNN') {
    return { h: f(o.clip(bias(b.add(xw, linear(b, h, dir.r))))), c: null };
  }
  if (o.kind === 'LSTM') {
    const gates = bias(b.add(xw, linear(b, h, dir.r)));
    const cPrev = c!;
    const peep = (k: number, v: Value): Value => (dir.p ? b.mul(gate(b, dir.p, k, H), v) : v);
    const withPeep = (pre: Value, k: number, state: Value): Value => (dir.p ? b.add(pre, peep(k, state)) : pre);
    const i = f(o.clip(withPeep(gate(b, gates, 0, H), 0, cPrev)));
    const fg = o.inputForget ? b.sub(b.like(i, 1), i) : f(o.clip(withPeep(gate(b, gates, 2, H), 2, cPrev)));
    const cc = g!(o.clip(gate(b, gates, 3, H)));
    const cNew = b.add(b.mul(fg, cPrev), b.mul(i, cc));
    const og = f(o.clip(withPeep(gate(b, gates, 1, H), 1, cNew)));
    return { h: b.mul(og, hAct!(cNew)), c: cNew };
  }
  // GRU
  const rz = linear(b, h, b.slice(dir.r, [0], [0], [2 * H])); // [B, 2H]: z, r
  const xz = gate(b, xw, 0, H);
  const xr = gate(b, xw, 1, H);
  const xh = gate(b, xw, 2, H);
  const z = f(o.clip(bias(b.add(xz, gate(b, rz, 0, H)), 0)));
  const r = f(o.clip(bias(b.add(xr, gate(b, rz, 1, H)), 1)));
  const rh = b.slice(dir.r, [0], [2 * H], [3 * H]); // [H, H]
  const wbh = dir.wb ? gate(b, dir.wb, 2, H) : null;
  const rbh = dir.rb ? gate(b, dir.rb, 2, H) : null;
  let pre: Value;
  if (o.linearBeforeReset) {
    const hr = rbh ? b.add(linear(b, h, rh), rbh) : linear(b, h, rh);
    pre = b.add(xh, b.mul(r, hr));
    if (wbh) pre = b.add(pre, wbh);
  } else {
    pre = b.add(xh, linear(b, b.mul(r, h), rh));
    if (wbh && rbh) pre = b.add(b.add(pre, wbh), rbh);
  }
  const hh = g!(o.clip(pre));
  return { h: b.add(b.mul(b.sub(b.like(z, 1), z), hh), b.mul(z, h)), c: null };
}

/** v [T, B, F] with each batch entry's first len[b] steps reversed (the rest read step 0; they are masked). */
function reversePrefix(b: GraphBuilder, v: Value, lens: Value, T: number, B: number): Value {
  const t = b.iota('i64', [T, B], 0);
  const src = b.max(b.sub(b.sub(b.reshape(lens, [1, B]), b.scalar('i64', 1n)), t), b.scalar('i64', 0n));
  const flat = b.add(b.mul(src, b.scalar('i64', BigInt(B))), b.iota('i64', [T, B], 1));
  const rows = b.reshape(v, [T * B, ...v.shape.slice(2)]);
  return b.gather(rows, flat, 0);
}

function recurrent(ctx: LowerContext, kind: Kind): (Value | null)[] {
  const b = ctx.b;
  const layout = ctx.opset >= 14 ? ctx.node.int('layout', 0) : 0;
  let x = ctx.arg(0);
  if (x.shape.length !== 3) ctx.fail(`X must be rank 3, got [${x.shape.join(',')}]`);
  if (layout === 1) x = b.permute(x, [1, 0, 2]);
  const dtype: DType = x.dtype;
  const compute: DType = dtype === 'f16' || dtype === 'bf16' ? 'f32' : dtype;
  const cast = (v: Value): Value => b.cast(v, compute);
  x = cast(x);
  const T = x.shape[0];
  if (typeof T !== 'number') ctx.unsupported(`the sequence length is symbolic (${T}); RNNs are unrolled over a static length`);
  const B: Dim = x.shape[1]!;
  const w = cast(ctx.arg(1));
  const rw = cast(ctx.arg(2));
  const direction = ctx.node.str('direction', 'forward');
  if (!['forward', 'reverse', 'bidirectional'].includes(direction)) ctx.fail(`unknown direction "${direction}"`);
  const D = direction === 'bidirectional' ? 2 : 1;
  const G = GATES[kind];
  const [wd, gh] = ctx.staticShape(w, 'W');
  const H = ctx.node.has('hidden_size') ? ctx.node.int('hidden_size') : gh! / G;
  if (wd !== D || gh !== G * H) ctx.fail(`W has shape [${w.shape.join(',')}], expected [${D}, ${G * H}, input_size]`);
  if (rw.shape.length !== 3 || rw.shape[0] !== D || rw.shape[1] !== G * H || rw.shape[2] !== H) {
    ctx.fail(`R has shape [${rw.shape.join(',')}], expected [${D}, ${G * H}, ${H}]`);
  }
  const bias = ctx.input(3) ? cast(ctx.arg(3)) : null;
  const peepholes = kind === 'LSTM' && ctx.input(7) ? cast(ctx.arg(7)) : null;
  const initial = (i: number): Value | null => {
    const v = ctx.input(i);
    if (!v) return null;
    return cast(layout === 1 ? b.permute(v, [1, 0, 2]) : v);
  };
  const h0 = initial(5);
  const c0 = kind === 'LSTM' ? initial(6) : null;
  const zeros = b.broadcast(b.scalar(compute, 0), [B, H]);

  // sequence_lens: ignored when every entry is the full length.
  let lens: Value | null = null;
  if (ctx.input(4)) {
    const known = ctx.constant(4);
    if (!known || known.toNumbers().some((l) => l !== T)) lens = b.cast(ctx.arg(4), 'i64');
  }
  if (lens && typeof B !== 'number' && direction !== 'forward') ctx.unsupported('sequence_lens with a symbolic batch size in the reverse direction');

  const clipAt = ctx.node.has('clip') ? ctx.node.float('clip') : null;
  const clip: Act = clipAt === null ? (v) => v : (v) => b.min(b.max(v, b.like(v, -clipAt)), b.like(v, clipAt));
  const opts: StepOptions = {
    kind, hidden: H, clip,
    linearBeforeReset: kind === 'GRU' && ctx.node.int('linear_before_reset', 0) !== 0,
    inputForget: kind === 'LSTM' && ctx.node.int('input_forget', 0) !== 0,
  };
  const acts = activations(ctx, kind, D);

  const ys: Value[] = [];
  const hs: Value[] = [];
  const cs: Value[] = [];
  for (let d = 0; d < D; d++) {
    const reversed = direction === 'reverse' || d === 1;
    const bd = bias ? b.reshape(b.slice(bias, [0], [d], [d + 1]), [2 * G * H]) : null;
    const dir: Direction = {
      r: ofDirection(b, rw, d),
      wb: bd ? b.slice(bd, [0], [0], [G * H]) : null,
      rb: bd ? b.slice(bd, [0], [G * H], [2 * G * H]) : null,
      p: peepholes ? b.reshape(b.slice(peepholes, [0], [d], [d + 1]), [3 * H]) : null,
      acts: acts[d]!,
    };
    let xw = linear(b, x, ofDirection(b, w, d)); // [T, B, G*H]
    if (reversed && lens) xw = reversePrefix(b, xw, lens, T, B as number);
    let h = h0 ? b.reshape(b.slice(h0, [0], [d], [d + 1]), [B, H]) : zeros;
    let c = kind === 'LSTM' ? (c0 ? b.reshape(b.slice(c0, [0], [d], [d + 1]), [B, H]) : zeros) : null;
    const out: Value[] = new Array<Value>(T);
    for (let s = 0; s < T; s++) {
      // Without sequence_lens the reverse direction reads the steps backwards; with them, xw is already
      // reversed per batch entry.
      const t = reversed && !lens ? T - 1 - s : s;
      const xt = b.reshape(b.slice(xw, [0], [t], [t + 1]), [B, G * H]);
      const next = step(b, opts, dir, xt, h, c);
      if (lens) {
        const live = b.reshape(b.lt(b.scalar('i64', BigInt(s)), lens), [B, 1]);
        out[t] = b.where(live, next.h, zeros);
        h = b.where(live, next.h, h);
        if (c && next.c) c = b.where(live, next.c, c);
      } else {
        out[t] = next.h;
        h = next.h;
        c = next.c;
      }
    }
    let y = b.concat(out.map((v) => b.reshape(v, [1, 1, B, H])), 0); // [T, 1, B, H]
    if (reversed && lens) y = b.reshape(reversePrefix(b, b.reshape(y, [T, B, H]), lens, T, B as number), [T, 1, B, H]);
    if (reversed && lens) y = b.where(b.reshape(b.lt(b.iota('i64', [T, 1], 0), b.reshape(lens, [1, B as number])), [T, 1, B, 1]), y, b.scalar(compute, 0));
    ys.push(y);
    hs.push(b.reshape(h, [1, B, H]));
    if (c) cs.push(b.reshape(c, [1, B, H]));
  }
  const back = (v: Value): Value => b.cast(v, dtype);
  const want = (i: number): boolean => i < ctx.numOutputs;
  const yOut = want(0) ? back(layout === 1 ? b.permute(b.concat(ys, 1), [2, 0, 1, 3]) : b.concat(ys, 1)) : null;
  const state = (list: Value[]): Value => back(layout === 1 ? b.permute(b.concat(list, 0), [1, 0, 2]) : b.concat(list, 0));
  const hOut = want(1) ? state(hs) : null;
  const cOut = kind === 'LSTM' && want(2) ? state(cs) : null;
  return kind === 'LSTM' ? [yOut, hOut, cOut] : [yOut, hOut];
}

defineOnnxOps(
  { type: 'RNN', since: 1, lower: (ctx) => recurrent(ctx, 'RNN') },
  { type: 'GRU', since: 1, lower: (ctx) => recurrent(ctx, 'GRU') },
  { type: 'LSTM', since: 1, lower: (ctx) => recurrent(ctx, 'LSTM') },
);
