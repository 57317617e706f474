// Pooling kernels as calls of the runtime's plane pooling (runtime/pool.h), one plane per channel.
//
//   kernel k20 "pad reduce_max → %r34" (i1 < 256, i2 < 27, i3 < 27) {
//     %0 = const f32 -inf
//     %1 = reduce max f32 (r0 < 3, r1 < 3) {
//       %2 = inbounds [i2 + r0 - 1] < 27;  %3 = inbounds [i3 + r1 - 1] < 27;  %4 = and bool %2, %3
//       %5 = load f32 @t14[729*i1 + 27*i2 + i3 + 27*r0 + r1 - 28] if %4;  %6 = where f32 %4, %5, %0
//     } -> %6
//     store @t20[729*i1 + 27*i2 + i3] = %1
//   }
// is maxpool_plane({H 27, W 27, OH 27, OW 27, 3x3, stride 1, pads 1}) on each of the 256 planes. The loop
// rendering reads every tap through a masked, clamped load; the runtime lists the taps inside the image
// once per row and takes 8 or 16 outputs at a time. A sum over the same window with 0 in the padding is
// sumpool_plane (an average pool: the sum, then a division by the count). Statements after the reduction
// (the average's division, a fused activation) run as a tail over each plane just written, reading the
// pooled value back from the output. A pool that reads a concat (`where` on the channel between loads of
// several buffers: SqueezeNet's and Inception's concat → MaxPool) picks each channel's plane from its
// source. Anything else (other combiners, symbolic sizes, other dtypes) is left to the loop rendering.
import { ix, substitute, type IndexExpr } from '../../kernel/index-expr.js';
import type { Axis, LoopKernel } from '../../kernel/kernel.js';
import type { LetStmt, ReduceStmt } from '../kernel-writer.js';
import { FragmentWriter } from './fragment.js';
import { affine } from './gemm.js';
import { bufferParam, kernelParams, kernelSymbols, PARALLEL_WORK, type KernelContext } from './kernel.js';

/** A run of channels [lo, hi) read from one buffer: plane c starts at buffer + cstride*c + offset. */
interface PoolSource {
  readonly buffer: string;
  readonly lo: number;
  readonly hi: number;
  readonly cstride: number;
  readonly offset: number;
}

export interface PoolMatch {
  readonly kernel: LoopKernel;
  /** max: maxpool_plane (-inf in the padding); sum: sumpool_plane (0 in the padding). */
  readonly combiner: 'max' | 'sum';
  readonly axes: { readonly ch: Axis; readonly oh: Axis; readonly ow: Axis };
  /** The statements after the reduction (and the store), when there are any besides the store. */
  readonly tail: boolean;
  readonly C: number;
  readonly H: number; readonly W: number; readonly OH: number; readonly OW: number;
  readonly KH: number; readonly KW: number; readonly SH: number; readonly SW: number;
  readonly PT: number; readonly PL: number; readonly DH: number; readonly DW: number;
  readonly sources: readonly PoolSource[];
  readonly out: { readonly buffer: string; readonly offset: number };
}

/** The runtime keeps up to this many window rows on the stack. */
const MAX_KH = 64;

const constOf = (e: IndexExpr): number | undefined => (e.kind === 'const' ? e.value : e.kind === 'add' && e.terms.length === 0 ? 0 : undefined);

/** A pooling kernel the runtime can compute, or undefined. */
export function matchPool(k: LoopKernel, ctx: KernelContext): PoolMatch | undefined {
  const extent = (a: Axis): number | undefined => constOf(a.extent);
  if (!k.domain.every((a) => extent(a) !== undefined)) return undefined;
  const unit = k.domain.filter((a) => extent(a) === 1);
  const live = k.domain.filter((a) => extent(a) !== 1);
  if (live.length !== 3) return undefined;
  const [ch, oh, ow] = live as [Axis, Axis, Axis];
  const [C, OH, OW] = [extent(ch)!, extent(oh)!, extent(ow)!];
  const zero = new Map(unit.map((a) => [a.name, ix.c(0)]));
  const lets = k.body.filter((s): s is LetStmt => s.kind === 'let');
  const reduces = k.body.filter((s): s is ReduceStmt => s.kind === 'reduce');
  const stores = k.body.filter((s) => s.kind === 'store');
  if (reduces.length !== 1 || stores.length !== 1 || lets.length + 2 !== k.body.length) return undefined;
  const r = reduces[0]!;
  const st = stores[0]! as Extract<LoopKernel['body'][number], { kind: 'store' }>;
  if ((r.combiner !== 'max' && r.combiner !== 'sum') || r.dtype !== 'f32' || r.axes.length !== 2) return undefined;
  const combiner = r.combiner;
  // The statements after the reduction: rendered as the tail, which must not read what the pool writes.
  const tailLets = k.body.slice(k.body.indexOf(r) + 1).filter((s): s is LetStmt => s.kind === 'let');
  const tail = st.value !== r.id;
  if (tail && (kernelSymbols(k).size > 0 || !tailLets.some((s) => s.id === st.value))) return undefined;
  if (tailLets.some((s) => s.expr.op === 'load' && ctx.overlap(s.expr.buffer, st.buffer))) return undefined;
  if (!r.body.every((s) => s.kind === 'let')) return undefined;
  const [kh, kw] = r.axes as [Axis, Axis];
  const KH = extent(kh);
  const KW = extent(kw);
  if (KH === undefined || KW === undefined || KH > MAX_KH) return undefined;
  const preLets = lets.filter((s) => !tailLets.includes(s));
  const byId = new Map([...preLets, ...(r.body as LetStmt[])].map((s) => [s.id, s]));
  if (ctx.buffers.get(st.buffer)?.dtype !== 'f32') return undefined;
  // The result: plane c at out + OH*OW*c + offset, rows of OW.
  const fo = affine(substitute(st.index, zero));
  if (!fo || constOf(fo.rest) === undefined) return undefined;
  if ((fo.coef.get(ch.name) ?? 0) !== OH * OW || (fo.coef.get(oh.name) ?? 0) !== OW || (fo.coef.get(ow.name) ?? 0) !== 1) return undefined;
  if ([...fo.coef].some(([v, c]) => c !== 0 && v !== ch.name && v !== oh.name && v !== ow.name)) return undefined;

  // Spatial bounds tests (a padded window): index = S*o + D*k - P, extent = the image size.
  const spatial: { axis: 'h' | 'w'; stride: number; dil: number; pad: number; size: number }[] = [];
  const channelRange = (id: number): [number, number] | undefined => {
    const s = byId.get(id);
    if (!s || s.expr.op !== 'inbounds') return undefined;
    const f = affine(substitute(s.expr.index, zero));
    const n = constOf(s.expr.extent);
    const c0 = f ? constOf(f.rest) : undefined;
    if (!f || n === undefined || c0 === undefined || f.coef.size !== 1 || f.coef.get(ch.name) !== 1) return undefined;
    return [-c0, -c0 + n];
  };
  const spatialTest = (id: number): boolean => {
    const s = byId.get(id);
    if (!s) return false;
    if (s.expr.op === 'prim' && s.expr.prim === 'and') return s.expr.args.every(spatialTest);
    if (s.expr.op !== 'inbounds') return false;
    const f = affine(substitute(s.expr.index, zero));
    const size = constOf(s.expr.extent);
    const c0 = f ? constOf(f.rest) : undefined;
    if (!f || size === undefined || c0 === undefined) return false;
    const vars = [...f.coef].filter(([, c]) => c !== 0).map(([v]) => v);
    const axis = vars.includes(oh.name) ? 'h' : vars.includes(ow.name) ? 'w' : undefined;
    const [o, kk] = axis === 'h' ? [oh, kh] : [ow, kw];
    if (!axis || !vars.every((v) => v === o.name || v === kk.name)) return false;
    spatial.push({ axis, stride: f.coef.get(o.name) ?? 0, dil: f.coef.get(kk.name) ?? 0, pad: -c0, size });
    return true;
  };
  // A load's mask: spatial bounds tests, channel ranges, and conjunctions of them.
  const maskTest = (id: number): boolean => {
    const s = byId.get(id);
    if (s?.expr.op === 'prim' && s.expr.prim === 'and') return s.expr.args.every(maskTest);
    return channelRange(id) !== undefined || spatialTest(id);
  };
  // What a tap in the padding counts as: the combiner's identity.
  const isFill = (id: number): boolean => {
    const s = byId.get(id);
    return s?.expr.op === 'const' && Number(s.expr.value) === (combiner === 'max' ? -Infinity : 0);
  };
  // The loads feeding the reduction, each with the channels it serves.
  const loads: { load: Extract<LetStmt['expr'], { op: 'load' }>; lo: number; hi: number }[] = [];
  const walk = (id: number, lo: number, hi: number): boolean => {
    const s = byId.get(id);
    if (!s || lo >= hi) return lo >= hi;
    const e = s.expr;
    if (e.op === 'load') {
      if (e.mask !== undefined && !maskTest(e.mask)) return false;
      loads.push({ load: e, lo, hi });
      return true;
    }
    if (e.op !== 'prim' || e.prim !== 'where') return false;
    const [c, a, b] = e.args as [number, number, number];
    const range = channelRange(c);
    if (range) {
      // where(lo' <= c < hi', a, b): a on the overlap, b on the rest, which must be one run.
      const [l, h] = [Math.max(lo, range[0]), Math.min(hi, range[1])];
      if (l >= h) return walk(b, lo, hi);
      if (l > lo && h < hi) return false;
      return walk(a, l, h) && (l > lo ? walk(b, lo, l) : walk(b, h, hi));
    }
    return spatialTest(c) && isFill(b) && walk(a, lo, hi);
  };
  if (!walk(r.operands[0]!, 0, C) || loads.length === 0) return undefined;
  // Every statement must belong to the pattern: consts, tests, loads and wheres only.
  if (![...byId.values()].every((s) => s.expr.op === 'const' || s.expr.op === 'inbounds' || s.expr.op === 'load' ||
    (s.expr.op === 'prim' && (s.expr.prim === 'where' || s.expr.prim === 'and')))) return undefined;

  const hTests = spatial.filter((t) => t.axis === 'h');
  const wTests = spatial.filter((t) => t.axis === 'w');
  const agree = (ts: typeof spatial): boolean => ts.every((t) => t.stride === ts[0]!.stride && t.dil === ts[0]!.dil && t.pad === ts[0]!.pad && t.size === ts[0]!.size);
  if (!agree(hTests) || !agree(wTests)) return undefined;
  const sources: PoolSource[] = [];
  let geometry: { H: number; W: number; SH: number; SW: number; DH: number; DW: number; PT: number; PL: number } | undefined;
  for (const { load, lo, hi } of loads) {
    const b = ctx.buffers.get(load.buffer);
    if (!b || b.dtype !== 'f32' || ctx.overlap(load.buffer, st.buffer) || !b.shape.every((d) => typeof d === 'number') || b.shape.length < 2) return undefined;
    const dims = b.shape as number[];
    const H = hTests[0]?.size ?? dims[dims.length - 2]!;
    const W = wTests[0]?.size ?? dims[dims.length - 1]!;
    const f = affine(substitute(load.index, zero));
    const rest = f ? constOf(f.rest) : undefined;
    if (!f || rest === undefined) return undefined;
    const co = (a: Axis): number => f.coef.get(a.name) ?? 0;
    if ([...f.coef].some(([v, c]) => c !== 0 && ![ch, oh, ow, kh, kw].some((a) => a.name === v))) return undefined;
    if (co(oh) % W !== 0 || co(kh) % W !== 0) return undefined;
    const g = { H, W, SH: co(oh) / W, SW: co(ow), DH: KH > 1 ? co(kh) / W : 1, DW: KW > 1 ? co(kw) : 1, PT: hTests[0]?.pad ?? 0, PL: wTests[0]?.pad ?? 0 };
    if (g.SH < 1 || g.SW < 1 || g.DH < 1 || g.DW < 1 || g.PT < 0 || g.PL < 0) return undefined;
    if (hTests[0] && (hTests[0].stride !== g.SH || (KH > 1 && hTests[0].dil !== g.DH))) return undefined;
    if (wTests[0] && (wTests[0].stride !== g.SW || (KW > 1 && wTests[0].dil !== g.DW))) return undefined;
    // Without a bounds test, every tap must be inside the image.
    if (!hTests[0] && (OH - 1) * g.SH + (KH - 1) * g.DH >= H) return undefined;
    if (!wTests[0] && (OW - 1) * g.SW + (KW - 1) * g.DW >= W) return undefined;
    if (geometry && JSON.stringify(geometry) !== JSON.stringify(g)) return undefined;
    geometry = g;
    // The plane must lie inside the buffer for the channels this source serves.
    const offset = rest + g.PT * W + g.PL;
    const size = dims.reduce((p, d) => p * d, 1);
    if (offset + co(ch) * lo < 0 || offset + co(ch) * (hi - 1) + H * W > size) return undefined;
    if (co(ch) < H * W && hi - lo > 1) return undefined;
    sources.push({ buffer: load.buffer, lo, hi, cstride: co(ch), offset });
  }
  if (!geometry) return undefined;
  sources.sort((a, b) => a.lo - b.lo);
  return { kernel: k, combiner, axes: { ch, oh, ow }, tail, C, OH, OW, KH, KW, ...geometry, sources, out: { buffer: st.buffer, offset: constOf(fo.rest)! } };
}

/** The kernel function: the planes in parallel, each channel's plane from its source, then the tail on it. */
export function renderPoolKernel(p: PoolMatch, ctx: KernelContext): string {
  const { decl } = kernelParams(p.kernel, ctx);
  const name = p.kernel.name.replace(/[^A-Za-z0-9_]/g, '_');
  const plane = (s: PoolSource): string => `${bufferParam(s.buffer)} + ${s.cstride} * c + ${s.offset}`;
  let x = plane(p.sources[p.sources.length - 1]!);
  for (let i = p.sources.length - 2; i >= 0; i--) x = `c < ${p.sources[i]!.hi} ? ${plane(p.sources[i]!)} : ${x}`;
  const work = p.C * p.OH * p.OW * p.KH * p.KW;
  const body = [`aic::cpu::${p.combiner}pool_plane(shape, ${x}, ${bufferParam(p.out.buffer)} + ${p.OH * p.OW} * c + ${p.out.offset});`];
  if (p.tail) body.push(...tailLines(p, ctx));
  const perChannel = work >= PARALLEL_WORK
    ? [`  aic::threads::parallel_for(${p.C}, aic::threads::max_threads(), [&](index_t c, int) {`, ...body.map((l) => `    ${l}`), '  });']
    : [`  for (index_t c = 0; c < ${p.C}; ++c) {`, ...body.map((l) => `    ${l}`), '  }'];
  return [
    `static void kernel_${name}(${decl}) {`,
    '  (void)S; (void)st;',
    `  const aic::cpu::Pool2dShape shape{${[p.H, p.W, p.OH, p.OW, p.KH, p.KW, p.SH, p.SW, p.PT, p.PL, p.DH, p.DW].join(', ')}};`,
    ...perChannel,
    '}',
  ].join('\n');
}

/** The kernel's statements after the reduction over plane c, the pooled value read back from the output. */
function tailLines(p: PoolMatch, ctx: KernelContext): string[] {
  const k = p.kernel;
  const { ch, oh, ow } = p.axes;
  const reduce = k.body.find((s): s is ReduceStmt => s.kind === 'reduce')!;
  const store = k.body.find((s) => s.kind === 'store')!;
  const w = new FragmentWriter(k, ctx, 2);
  w.scope(k.domain);
  w.defineValue(reduce.id, 'f32', `${bufferParam(store.buffer)}[${w.idx(store.index)}]`);
  w.stmts(k.body.filter((s) => s.kind !== 'reduce'));
  const units = k.domain.filter((a) => a !== ch && a !== oh && a !== ow).map((a) => `[[maybe_unused]] const index_t ${w.name(a.name)} = 0;`);
  return [
    `const index_t ${w.name(ch.name)} = c;`,
    ...units,
    `for (index_t ${w.name(oh.name)} = 0; ${w.name(oh.name)} < ${p.OH}; ++${w.name(oh.name)}) {`,
    '  #pragma omp simd',
    `  for (index_t ${w.name(ow.name)} = 0; ${w.name(ow.name)} < ${p.OW}; ++${w.name(ow.name)}) {`,
    ...w.text(),
    '  }',
    '}',
  ];
}
