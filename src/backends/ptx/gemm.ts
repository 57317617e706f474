// GEMM-shaped kernels (src/kernel/gemm.ts: matmul, Gemm, convolution as implicit im2col, attention
// products) as shared-memory tiles: each block computes a 32×32 tile of the output, 256 threads with a 2×2
// patch each; the K dimension advances 16 at a time, each thread staging 2 elements of A (rows × k) and 2 of
// B (k × columns) into shared memory — the operand's own statements (a pad's masked load, an im2col index)
// computed at that element, zero past the edges — then 16 unrolled multiply-adds per output. Domain axes
// neither operand reads count as rows. The rest of
// the kernel (bias, activation, residual) runs after the tile as the epilogue, per output. mma.sync is a
// later step; so are f64 and integer GEMMs (they take the thread-per-point path).
import { matchGemm, type GemmPattern } from '../../kernel/gemm.js';
import type { Axis, LoopKernel } from '../../kernel/kernel.js';
import { finish } from './prims.js';
import { PtxKernelWriter, pointsOf, type KernelContext } from './kernel.js';
import { familyOf } from './types.js';

const TILE = 32;
const TK = 16;
/** Outputs per thread along each side. */
const PATCH = 2;

/** The GEMM a kernel is, where the tiled path can take it (f32-held operands, no free axes besides batch). */
export function tileableGemm(k: LoopKernel): GemmPattern | undefined {
  const p = matchGemm(k);
  if (!p || p.m.length + p.rest.length === 0 || p.n.length === 0) return undefined;
  if (familyOf(p.stage.dtype) !== 'f32') return undefined;
  const operandFamily = (id: number, stmts: GemmPattern['a']['stmts']): string | undefined => {
    const s = stmts.find((x) => x.id === id);
    return s ? familyOf(s.dtype) : undefined;
  };
  if (operandFamily(p.a.operand, p.a.stmts) !== 'f32' || operandFamily(p.b.operand, p.b.stmts) !== 'f32') return undefined;
  if (pointsOf(rowsOf(p), k) < 8 || pointsOf(p.n, k) < 8 || pointsOf(p.stage.axes, k) < TK) return undefined;
  return p;
}

/** The tile's row axes: those only operand a reads, and those neither reads (a constant operand, whose
 * rows are then equal: staged like any other, so the epilogue sees every axis of the domain). */
const rowsOf = (p: GemmPattern): readonly Axis[] => [...p.m, ...p.rest];

export class PtxGemmKernelWriter extends PtxKernelWriter {
  constructor(k: LoopKernel, ctx: KernelContext, entry: string, private readonly p: GemmPattern) {
    super(k, ctx, entry);
  }

  protected override tiledBody(ctaid: string, tid: string): number {
    const b = this.b;
    const p = this.p;
    const rows = rowsOf(p);
    const M = pointsOf(rows, this.k);
    const N = pointsOf(p.n, this.k);
    const K = pointsOf(p.stage.axes, this.k);
    const tilesM = Math.ceil(M / TILE);
    const tilesN = Math.ceil(N / TILE);
    const blocks = pointsOf(p.batch, this.k) * tilesM * tilesN;
    const shA = `${this.entry}_a`;
    const shB = `${this.entry}_b`;
    this.sharedDecls.push(`\t.shared .align 16 .f32 ${shA}[${TK * TILE}];`, `\t.shared .align 16 .f32 ${shB}[${TK * TILE}];`);
    this.sharedBytes += 2 * TK * TILE * 4;
    // The block's tile: column tile, row tile, batch.
    const u32 = (text: string): string => {
      const r = b.reg('b32');
      b.ins(text.replace('$', r));
      return r;
    };
    const bn = u32(`rem.u32 $, ${ctaid}, ${tilesN}`);
    const rest = u32(`div.u32 $, ${ctaid}, ${tilesN}`);
    const bm = u32(`rem.u32 $, ${rest}, ${tilesM}`);
    const bb = u32(`div.u32 $, ${rest}, ${tilesM}`);
    this.decode(this.u64(bb), p.batch);
    const m0 = u32(`mul.lo.u32 $, ${bm}, ${TILE}`);
    const n0 = u32(`mul.lo.u32 $, ${bn}, ${TILE}`);
    const tx = u32(`and.b32 $, ${tid}, ${TILE / PATCH - 1}`);
    const ty = u32(`shr.u32 $, ${tid}, ${Math.log2(TILE / PATCH)}`);
    const acc = Array.from({ length: PATCH * PATCH }, () => {
      const r = b.reg('f32');
      b.ins(`mov.f32 ${r}, 0f00000000`);
      return r;
    });
    const k0 = b.reg('b32');
    b.ins(`mov.u32 ${k0}, 0`);
    const head = b.label();
    const end = b.label();
    b.place(head);
    const done = b.reg('pred');
    b.ins(`setp.ge.u32 ${done}, ${k0}, ${K}`);
    b.ins(`@${done} bra ${end}`);
    // Stage A[kk][mm] and B[kk][nn]: element e = tid + j·256 of each 16×32 tile.
    for (const [side, sh, start, extent] of [['a', shA, m0, M], ['b', shB, n0, N]] as const) {
      for (let j = 0; j < (TK * TILE) / 256; j++) {
        const e = u32(`add.u32 $, ${tid}, ${j * 256}`);
        const kk = u32(`shr.u32 $, ${e}, ${Math.log2(TILE)}`);
        const free = u32(`and.b32 $, ${e}, ${TILE - 1}`);
        const f = u32(`add.u32 $, ${start}, ${free}`);
        const kIdx = u32(`add.u32 $, ${k0}, ${kk}`);
        this.stage(side, sh, e, f, extent, kIdx, K);
      }
    }
    b.ins('bar.sync 0');
    for (let kk = 0; kk < TK; kk++) {
      const rowA = u32(`mad.lo.u32 $, ${ty}, ${PATCH * 4}, ${kk * TILE * 4}`);
      const colB = u32(`mad.lo.u32 $, ${tx}, ${PATCH * 4}, ${kk * TILE * 4}`);
      const av = Array.from({ length: PATCH }, (_, i) => {
        const r = b.reg('f32');
        b.ins(`ld.shared.f32 ${r}, [${this.sharedAddr(shA, rowA)}+${i * 4}]`);
        return r;
      });
      const bv = Array.from({ length: PATCH }, (_, i) => {
        const r = b.reg('f32');
        b.ins(`ld.shared.f32 ${r}, [${this.sharedAddr(shB, colB)}+${i * 4}]`);
        return r;
      });
      for (let i = 0; i < PATCH; i++) for (let j = 0; j < PATCH; j++) b.ins(`fma.rn.f32 ${acc[i * PATCH + j]}, ${av[i]}, ${bv[j]}, ${acc[i * PATCH + j]}`);
    }
    b.ins('bar.sync 0');
    b.ins(`add.u32 ${k0}, ${k0}, ${TK}`);
    b.ins(`bra ${head}`);
    b.place(end);
    // The epilogue, per output of the thread's patch.
    for (let i = 0; i < PATCH; i++) {
      for (let j = 0; j < PATCH; j++) {
        const m = u32(`mad.lo.u32 $, ${ty}, ${PATCH}, ${m0}`);
        b.ins(`add.u32 ${m}, ${m}, ${i}`);
        const n = u32(`mad.lo.u32 $, ${tx}, ${PATCH}, ${n0}`);
        b.ins(`add.u32 ${n}, ${n}, ${j}`);
        const skip = b.label();
        const out = b.reg('pred');
        b.ins(`setp.ge.u32 ${out}, ${m}, ${M}`);
        const outN = b.reg('pred');
        b.ins(`setp.ge.u32 ${outN}, ${n}, ${N}`);
        b.ins(`or.pred ${out}, ${out}, ${outN}`);
        b.ins(`@${out} bra ${skip}`);
        this.cache.push(new Map());
        this.decode(this.u64(m), rows);
        this.decode(this.u64(n), p.n);
        const r = b.reg('f32');
        b.ins(`mov.f32 ${r}, ${acc[i * PATCH + j]}`);
        finish(b, r, p.stage.dtype);
        this.define(p.stage.id, { reg: r, dtype: p.stage.dtype });
        this.body(p.epilogue);
        this.forget(p.epilogue);
        this.values.delete(p.stage.id);
        this.cache.pop();
        this.forgetAxes([...rows, ...p.n]);
        b.place(skip);
      }
    }
    return blocks;
  }

  /** One element of an operand's tile into shared memory: its statements at (free, k), or 0 past the edges. */
  private stage(side: 'a' | 'b', sh: string, e: string, free: string, extent: number, k: string, K: number): void {
    const b = this.b;
    const p = this.p;
    const operand = side === 'a' ? p.a : p.b;
    const addr = b.reg('b32');
    b.ins(`mov.u32 ${addr}, ${sh}`);
    b.ins(`mad.lo.u32 ${addr}, ${e}, 4, ${addr}`);
    const skip = b.label();
    const joined = b.label();
    const out = b.reg('pred');
    b.ins(`setp.ge.u32 ${out}, ${free}, ${extent}`);
    const outK = b.reg('pred');
    b.ins(`setp.ge.u32 ${outK}, ${k}, ${K}`);
    b.ins(`or.pred ${out}, ${out}, ${outK}`);
    b.ins(`@${out} bra ${skip}`);
    this.cache.push(new Map());
    this.decode(this.u64(free), side === 'a' ? rowsOf(p) : p.n);
    this.decode(this.u64(k), p.stage.axes);
    this.body(operand.stmts);
    b.ins(`st.shared.f32 [${addr}], ${this.value(operand.operand).reg}`);
    this.forget(operand.stmts);
    this.cache.pop();
    this.forgetAxes([...(side === 'a' ? rowsOf(p) : p.n), ...p.stage.axes]);
    b.ins(`bra ${joined}`);
    b.place(skip);
    b.ins(`st.shared.f32 [${addr}], 0f00000000`);
    b.place(joined);
  }

  private sharedAddr(sh: string, offset: string): string {
    const r = this.b.reg('b32');
    this.b.ins(`mov.u32 ${r}, ${sh}`);
    this.b.ins(`add.u32 ${r}, ${r}, ${offset}`);
    return r;
  }

  private u64(x: string): string {
    const r = this.b.reg('b64');
    this.b.ins(`cvt.u64.u32 ${r}, ${x}`);
    return r;
  }

  private forgetAxes(axes: readonly Axis[]): void {
    for (const a of axes) {
      this.axes.delete(a.name);
      this.axisExtent.delete(a.name);
    }
  }
}
