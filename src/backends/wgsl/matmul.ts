// GEMM kernels with workgroup tiles. A kernel that src/kernel/gemm.ts recognizes (one dot stage whose two
// operands each read their own part of the domain: a matmul, a convolution, attention's products) becomes
// one workgroup of 64 invocations per 32×32 tile of the result: the workgroup stages a 32×8 slice of each
// operand in workgroup memory (computing the operand's statements there: pads, masks, im2col indexing),
// and each invocation accumulates a 4×4 block of the tile. The epilogue (bias, activation, residual, the
// store) then runs for each of the invocation's 16 results.
//
//   kernel k0 "dot → %c" (i0 < 64, i1 < 64) { %0 = reduce dot f32 (r0 < 32) { %1 = load A; %2 = load B } -> %1, %2; store … }
// becomes, per workgroup (tile tm, tn) and invocation (tx, ty):
//   for each slice k0 of 8 along r0:  As[kk][mm] = A(m, k0 + kk); Bs[kk][nn] = B(k0 + kk, n); barrier
//                                     acc[i][j] += As[kk][4·ty + i] · Bs[kk][4·tx + j]; barrier
//   for i, j < 4: the epilogue at (m, n) = (32·tm + 4·ty + i, 32·tn + 4·tx + j) with %0 = acc[i][j]
//
// Workgroup memory: 2 KiB; 64 invocations fit every adapter (compatibility ones allow 128).
import type { DType } from '../../ir/dtype.js';
import { refsOf } from '../../kernel/index-expr.js';
import { matchGemm, type GemmPattern } from '../../kernel/gemm.js';
import type { Axis, LoopKernel, Stmt } from '../../kernel/kernel.js';
import { helperSource } from './spelling.js';
import { WgslKernelWriter, type KernelShader, type RenderContext } from './render.js';

const TM = 32;
const TN = 32;
const TK = 8;
const THREADS = 64;
const PER = 4; // results per invocation along m and along n

const extent = (axes: readonly Axis[]): number => axes.reduce((p, a) => p * (a.extent.kind === 'const' ? a.extent.value : NaN), 1);

/** Smallest GEMM worth tiling: below this the plain kernels do as well. */
const MIN_M = 8;
const MIN_N = 8;
const MIN_K = 8;

/** The kernel as a tiled GEMM, or undefined when it is not one worth tiling. */
export function renderGemm(k: LoopKernel, ctx: RenderContext): KernelShader | undefined {
  const found = matchGemm(k);
  if (!found) return undefined;
  // Axes neither operand reads (a convolution with a constant weight) run along m: the A slice repeats.
  const g: GemmPattern = { ...found, m: [...found.m, ...found.rest], rest: [] };
  const [M, N, K] = [extent(g.m), extent(g.n), extent(g.stage.axes)];
  const B = extent([...g.batch, ...g.rest]);
  if (![M, N, K, B].every(Number.isFinite)) return undefined;
  if (M < MIN_M || N < MIN_N || K < MIN_K) return undefined;
  const t = g.stage.dtype;
  if (t !== 'f32' && t !== 'f16' && t !== 'bf16') return undefined;
  if (operandType(g, g.a.operand) !== t || operandType(g, g.b.operand) !== t) return undefined;
  return new GemmWriter(k, ctx, g, { M, N, K, B }).renderTiled();
}

function operandType(g: GemmPattern, id: number): DType | undefined {
  return [...g.a.stmts, ...g.b.stmts].find((s) => s.id === id)?.dtype;
}

class GemmWriter extends WgslKernelWriter {
  constructor(k: LoopKernel, ctx: RenderContext, private readonly g: GemmPattern, private readonly size: { M: number; N: number; K: number; B: number }) {
    super(k, ctx);
  }

  renderTiled(): KernelShader {
    const { g, kernel: k } = this;
    const { M, N, K, B } = this.size;
    const tilesM = Math.ceil(M / TM);
    const tilesN = Math.ceil(N / TN);
    const total = tilesM * tilesN * B;
    this.emit('let gid = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;');
    this.emit(`if (gid >= ${total}u) { return; }`);
    this.emit(`let tn = gid % ${tilesN}u;`);
    this.emit(`let tm = (gid / ${tilesN}u) % ${tilesM}u;`);
    this.emit(`let bz = gid / ${tilesM * tilesN}u;`);
    this.decode('bz', [...g.batch, ...g.rest]);
    this.emit(`let tx = lid % ${TN / PER}u;`);
    this.emit(`let ty = lid / ${TN / PER}u;`);
    this.emit(`var acc: array<f32, ${PER * PER}>;`);
    this.emit(`for (var k0 = 0u; k0 < ${K}u; k0 = k0 + ${TK}u) {`);
    this.depth++;
    this.stage('As', TM, 'm', g.m, g.a);
    this.stage('Bs', TN, 'n', g.n, g.b);
    this.emit('workgroupBarrier();');
    this.emit(`for (var kk = 0u; kk < ${TK}u; kk++) {`);
    this.depth++;
    this.emit(`let a = vec4<f32>(As[kk * ${TM}u + ty * 4u], As[kk * ${TM}u + ty * 4u + 1u], As[kk * ${TM}u + ty * 4u + 2u], As[kk * ${TM}u + ty * 4u + 3u]);`);
    this.emit(`let b = vec4<f32>(Bs[kk * ${TN}u + tx * 4u], Bs[kk * ${TN}u + tx * 4u + 1u], Bs[kk * ${TN}u + tx * 4u + 2u], Bs[kk * ${TN}u + tx * 4u + 3u]);`);
    for (let i = 0; i < PER; i++) {
      const c = 'xyzw'[i];
      for (let j = 0; j < PER; j++) this.emit(`acc[${i * PER + j}] = fma(a.${c}, b.${'xyzw'[j]}, acc[${i * PER + j}]);`);
    }
    this.depth--;
    this.emit('}');
    this.emit('workgroupBarrier();');
    this.depth--;
    this.emit('}');
    this.epilogue();
    const { decls, bindings } = this.declarations();
    const code = [
      `// aic wgsl kernel ${k.name}${k.note ? `: ${k.note}` : ''}`,
      `// a tiled GEMM: M ${M} (${g.m.map((a) => a.name).join(', ')}), N ${N} (${g.n.map((a) => a.name).join(', ')}), K ${K} (${g.stage.axes.map((a) => a.name).join(', ')}), ${B} batch; ${TM}×${TN} tiles, ${THREADS} invocations`,
      ...decls,
      `var<workgroup> As: array<f32, ${TK * TM}>;`,
      `var<workgroup> Bs: array<f32, ${TK * TN}>;`,
      ...(this.sp.used.size > 0 ? [helperSource(this.sp.used)] : []),
      `@compute @workgroup_size(${THREADS})`,
      'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {',
      ...this.lines,
      '}',
    ].join('\n');
    return {
      name: k.name,
      ...(k.note !== undefined ? { note: k.note } : {}),
      code: `${code}\n`,
      bindings,
      dispatch: { kind: 'groups', count: total },
      workgroupSize: THREADS,
    };
  }

  /** Stage one operand's slice (extent × TK) in workgroup memory, 0 outside the matrix. */
  private stage(arr: string, tile: number, side: 'm' | 'n', axes: readonly Axis[], op: GemmPattern['a']): void {
    const { M, N, K } = this.size;
    const limit = side === 'm' ? M : N;
    const tileVar = side === 'm' ? 'tm' : 'tn';
    const e = `e${arr}`;
    this.emit(`for (var ${e} = lid; ${e} < ${tile * TK}u; ${e} = ${e} + ${THREADS}u) {`);
    this.depth++;
    // A: k fastest (rows of a row-major A are contiguous in k); B: n fastest.
    if (side === 'm') {
      this.emit(`let mm = ${e} / ${TK}u; let kk = ${e} % ${TK}u;`);
    } else {
      this.emit(`let kk = ${e} / ${tile}u; let mm = ${e} % ${tile}u;`);
    }
    this.emit(`let gx = ${tileVar} * ${tile}u + mm; let gk = k0 + kk;`);
    this.emit('var v = 0.0f;');
    this.emit(`if (gx < ${limit}u && gk < ${K}u) {`);
    this.depth++;
    this.decode('gx', axes);
    this.decode('gk', this.g.stage.axes);
    for (const s of op.stmts) this.let(s);
    this.emit(`v = v${op.operand};`);
    this.forget(op.stmts);
    for (const a of [...axes, ...this.g.stage.axes]) this.axes.delete(a.name);
    this.depth--;
    this.emit('}');
    this.emit(`${arr}[kk * ${tile}u + mm] = v;`);
    this.depth--;
    this.emit('}');
  }

  /** The epilogue for each of the invocation's results, with the stage's value the accumulated sum. */
  private epilogue(): void {
    const { g } = this;
    const { M, N } = this.size;
    const needed = neededStatements(g.epilogue, g.stage.id);
    this.emit(`for (var i = 0u; i < ${PER}u; i++) {`);
    this.depth++;
    this.emit(`for (var j = 0u; j < ${PER}u; j++) {`);
    this.depth++;
    this.emit(`let gm = tm * ${TM}u + ty * ${PER}u + i; let gn = tn * ${TN}u + tx * ${PER}u + j;`);
    this.emit(`if (gm < ${M}u && gn < ${N}u) {`);
    this.depth++;
    this.decode('gm', g.m);
    this.decode('gn', g.n);
    const t = g.stage.dtype;
    this.define(g.stage.id, t);
    this.emit(`let v${g.stage.id}: f32 = ${this.sp.cast('f32', t, `acc[i * ${PER}u + j]`)};`);
    this.body(needed);
    this.depth--;
    this.emit('}');
    this.depth--;
    this.emit('}');
    this.depth--;
    this.emit('}');
  }
}

/** The statements of the epilogue its stores and checks need (the operands' own loads are dropped). */
function neededStatements(epilogue: readonly Stmt[], stageId: number): Stmt[] {
  const defs = new Map<number, Stmt>();
  for (const s of epilogue) if (s.kind === 'let' || s.kind === 'reduce') defs.set(s.id, s);
  const need = new Set<number>();
  const visit = (id: number): void => {
    if (id === stageId || need.has(id) || !defs.has(id)) return;
    need.add(id);
    for (const d of deps(defs.get(id)!)) visit(d);
  };
  for (const s of epilogue) if (s.kind !== 'let' && s.kind !== 'reduce') for (const d of deps(s)) visit(d);
  return epilogue.filter((s) => (s.kind !== 'let' && s.kind !== 'reduce') || need.has(s.id));
}

/** The body scalars a statement reads. */
function deps(s: Stmt): number[] {
  switch (s.kind) {
    case 'let': {
      const e = s.expr;
      switch (e.op) {
        case 'load': return [...refsOf(e.index), ...(e.mask !== undefined ? [e.mask] : [])];
        case 'index': return [...refsOf(e.index)];
        case 'inbounds': return [...refsOf(e.index), ...refsOf(e.extent)];
        case 'prim': return [...e.args];
        default: return [];
      }
    }
    case 'store': return [s.value, ...refsOf(s.index)];
    case 'check': return [s.cond];
    case 'reduce': return [...s.operands, ...s.body.flatMap(deps)];
    case 'loop': return s.body.flatMap(deps);
  }
}
