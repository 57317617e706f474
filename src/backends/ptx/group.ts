// Kernels that run one block per point (./mapping.ts's `groups`): few points with long reductions (softmax
// rows, a sum over everything, a GEMV). Each top-level reduce stage is split over the block's threads (a
// strided partial each), folded with a butterfly of shfl.sync within each warp and through shared memory
// across the warps, and the total is broadcast back to every thread; inner loops are spread over the
// threads; the point's own stores are done by thread 0. argmax/argmin stay serial (in every thread).
import { fail } from '../../ir/error.js';
import type { Axis, Stmt } from '../../kernel/kernel.js';
import { finish } from './prims.js';
import { BLOCK, combineInto, pointsOf, PtxKernelWriter } from './kernel.js';
import { regClassOf } from './types.js';

type Reduce = Extract<Stmt, { kind: 'reduce' }>;

const WARPS = BLOCK / 32;

export class PtxGroupKernelWriter extends PtxKernelWriter {
  /** Top-level statements of a groups kernel: reduce stages shared by the block, inner loops spread over
   * it, the rest computed by every thread (stores by thread 0). */
  protected override groupBody(stmts: readonly Stmt[]): void {
    for (const s of stmts) {
      if (s.kind === 'reduce' && s.combiner !== 'argmax' && s.combiner !== 'argmin') this.sharedReduce(s);
      else if (s.kind === 'loop') {
        this.inTopLevel = false;
        this.spread(s.axes, () => this.body(s.body));
        this.inTopLevel = true;
        this.forget(s.body);
      } else if (s.kind === 'reduce') {
        this.serialReduce(s);
      } else this.stmt(s);
    }
  }

  /** Points of `axes` spread over the block's threads: flat point p = tid, tid + BLOCK, …, decoded. */
  private spread(axes: readonly Axis[], inner: () => void): void {
    const b = this.b;
    const n = pointsOf(axes, this.k);
    const p = b.reg('b64');
    b.ins(`cvt.u64.u32 ${p}, ${this.tid}`);
    const head = b.label();
    const end = b.label();
    b.place(head);
    const done = b.reg('pred');
    b.ins(`setp.ge.u64 ${done}, ${p}, ${n}`);
    b.ins(`@${done} bra ${end}`);
    this.cache.push(new Map());
    this.decode(p, axes);
    inner();
    this.cache.pop();
    for (const a of axes) {
      this.axes.delete(a.name);
      this.axisExtent.delete(a.name);
    }
    b.ins(`add.u64 ${p}, ${p}, ${BLOCK}`);
    b.ins(`bra ${head}`);
    b.place(end);
  }

  /** A reduce stage shared by the block: a strided partial per thread, a butterfly of shfl.sync within
   * each warp, the warps' partials through shared memory, and the total broadcast back to every thread. */
  private sharedReduce(s: Reduce): void {
    const b = this.b;
    const acc = this.accumulator(s);
    if (!acc.partial || !acc.family || !acc.dtype) return fail('E_VERIFY', `kernel ${this.k.name}: ${s.combiner} cannot be shared`);
    this.inTopLevel = false;
    this.spread(s.axes, () => {
      this.body(s.body);
      acc.step(s.operands.map((o) => this.value(o)), '0');
    });
    this.inTopLevel = true;
    this.forget(s.body);
    const partial = acc.partial;
    const fam = acc.family;
    const cls = regClassOf(acc.dtype);
    const words = cls === 'b64' || cls === 'f64' ? 2 : 1;
    for (let lane = 16; lane >= 1; lane /= 2) {
      const other = this.shuffle(partial, cls, lane, words);
      combineInto(b, s.combiner === 'dot' ? 'sum' : s.combiner, fam, partial, other);
    }
    const sh = `${this.entry}_red${this.sharedDecls.length}`;
    const bytes = words * 4;
    this.sharedDecls.push(`\t.shared .align 8 .b8 ${sh}[${WARPS * bytes}];`);
    this.sharedBytes += WARPS * bytes;
    const warp = b.reg('b32');
    b.ins(`shr.u32 ${warp}, ${this.tid}, 5`);
    const laneR = b.reg('b32');
    b.ins(`and.b32 ${laneR}, ${this.tid}, 31`);
    const lead = b.reg('pred');
    b.ins(`setp.eq.u32 ${lead}, ${laneR}, 0`);
    const base = b.reg('b32');
    b.ins(`mov.u32 ${base}, ${sh}`);
    const slot = b.reg('b32');
    b.ins(`mad.lo.u32 ${slot}, ${warp}, ${bytes}, ${base}`);
    const st = cls === 'f32' ? 'f32' : cls === 'f64' ? 'f64' : `b${cls.slice(1)}`;
    b.ins(`@${lead} st.shared.${st} [${slot}], ${partial}`);
    b.ins('bar.sync 0');
    // Every thread folds the warps' partials in the same order, so all hold the same total.
    const total = b.reg(cls);
    b.ins(`ld.shared.${st} ${total}, [${base}]`);
    for (let w = 1; w < WARPS; w++) {
      const x = b.reg(cls);
      b.ins(`ld.shared.${st} ${x}, [${base}+${w * bytes}]`);
      combineInto(b, s.combiner === 'dot' ? 'sum' : s.combiner, fam, total, x);
    }
    // The scratch may be reused by the next stage only after everyone has read it.
    b.ins('bar.sync 0');
    const r = b.reg(regClassOf(s.dtype));
    b.ins(`mov.${st} ${r}, ${total}`);
    finish(b, r, s.dtype);
    this.define(s.id, { reg: r, dtype: s.dtype });
  }

  private shuffle(x: string, cls: string, lane: number, words: number): string {
    const b = this.b;
    const out = b.reg(cls as 'b32');
    if (words === 1) {
      const w = b.reg('b32');
      b.ins(`mov.b32 ${w}, ${x}`);
      const r = b.reg('b32');
      b.ins(`shfl.sync.bfly.b32 ${r}, ${w}, ${lane}, 31, -1`);
      b.ins(`mov.b32 ${out}, ${r}`);
      return out;
    }
    const [lo, hi] = [b.reg('b32'), b.reg('b32')];
    b.ins(`mov.b64 {${lo}, ${hi}}, ${x}`);
    b.ins(`shfl.sync.bfly.b32 ${lo}, ${lo}, ${lane}, 31, -1`);
    b.ins(`shfl.sync.bfly.b32 ${hi}, ${hi}, ${lane}, 31, -1`);
    b.ins(`mov.b64 ${out}, {${lo}, ${hi}}`);
    return out;
  }
}
