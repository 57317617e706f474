// A Program as a C++ artifact: model.h (the C ABI), model.cpp (one function per kernel, the model object,
// the run function), weights.bin (or the weights embedded in model.cpp), main.cpp (a runner: .npy/.pb in,
// .npy out, timing), a Makefile and a CMakeLists.txt, and the runtime headers the model includes.
//
// The C ABI, for a prefix P (default `aic_model`):
//   P_t* P_create(const char* weights_path, void* workspace);   workspace: P_workspace_size() bytes, or NULL
//   P_t* P_create_from_memory(const void* weights, size_t bytes, void* workspace);
//   int  P_bind(P_t*, const int64_t* const* input_shapes);      fixes the symbolic dims (NULL: none)
//   int  P_output_shape(const P_t*, int k, int64_t* dims);
//   int  P_run(P_t*, const void* const* inputs, void* const* outputs);
//   void P_set_threads(P_t*, int threads);   const char* P_last_error(const P_t*);   void P_destroy(P_t*);
//   int P_num_inputs(void), P_num_outputs(void); const aic_tensor_info* P_input_info(int), P_output_info(int)
import { DTYPE_INFO } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { isPlainSymbol } from '../../ir/dim-expr.js';
import type { Dim } from '../../ir/shape.js';
import { toBytes } from '../../ir/prims/select.js';
import { bitCodec } from '../../ir/numeric.js';
import type { Tensor } from '../../ir/tensor.js';
import { dimExpr, symsOf, type IndexExpr } from '../../kernel/index-expr.js';
import { allStmts, type ExternKernel, type LoopKernel } from '../../kernel/kernel.js';
import { alignUp, bufferBytes, type Buffer, type Program } from '../../kernel/program.js';
import type { Artifact, EmitOptions } from '../backend.js';
import { ARENA_GUARD_BYTES, CpuKernelWriter, bufferParam, cString, kernelParams, kernelSymbols, type KernelContext } from './kernel.js';
import { checkDType, elementType } from './spelling.js';
import { checkExtern, externBuffers, makesSizes, renderExtern } from './extern.js';
import { matchGemm, renderGemmKernel, type GemmNeeds } from './gemm.js';
import { matchPool, renderPoolKernel, type PoolMatch } from './pool.js';
import { cxxSource, RUNTIME_HEADERS, runtimeHeader } from './sources.js';
import type { Graph } from '../../ir/graph.js';
import { scheduleGraph } from '../../passes/schedule/index.js';
import { planMemory } from '../../passes/memory-plan.js';

export interface CpuEmitOptions extends EmitOptions {
  /** Prefix of the C ABI's symbols (default `aic_model`). */
  prefix?: string;
  /** Embed the weights in model.cpp instead of weights.bin. */
  embedWeights?: boolean;
  /** Render every dot as loops (no GEMM micro-kernel): for tests of the plain path. */
  noGemm?: boolean;
  /** Dots with fewer multiply-adds are loops (default gemm.ts's GEMM_MIN_MACS): tests lower it. */
  gemmMinMacs?: number;
}

/** Where a buffer lives at run time. */
interface Placement {
  /** The expression of its pointer in run_program. */
  readonly pointer: string;
  /** Element count as a C++ expression of S. */
  readonly elements: string;
}

export const WEIGHTS_FILE = 'weights.bin';
const WEIGHTS_MAGIC = 'AICW0001';
const HEADER_BYTES = 64;

/** Model source and ABI header for a Program (weights separate), plus what the build needs to know. */
export interface RenderedModel {
  readonly header: string;
  readonly source: string;
  /** weights.bin's bytes (header + data), or undefined when embedded. */
  readonly weights: Uint8Array | undefined;
  /** Runtime headers model.cpp includes. */
  readonly includes: readonly string[];
  readonly prefix: string;
}

export function renderModel(p: Program, opts: CpuEmitOptions = {}): RenderedModel {
  const prefix = opts.prefix ?? 'aic_model';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) fail('E_USAGE', `cpu: prefix '${prefix}' is not a C identifier`);
  return new ModelRenderer(p, prefix, opts).render();
}

/** The whole artifact: files by name. */
export function emitCpu(p: Program, opts: CpuEmitOptions = {}): Artifact {
  const m = renderModel(p, opts);
  const files = new Map<string, string | Uint8Array>();
  files.set('model.h', m.header);
  files.set('model.cpp', m.source);
  if (m.weights) files.set(WEIGHTS_FILE, m.weights);
  files.set('main.cpp', cxxSource('runner.cpp'));
  for (const h of m.includes) files.set(h, runtimeHeader(h));
  files.set('Makefile', makefile(m.includes));
  files.set('CMakeLists.txt', cmakeLists());
  return { files, main: 'model.cpp' };
}

/** FNV-1a, 64 bits. */
export function fnv64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

class ModelRenderer {
  private readonly buffers: Map<string, Buffer>;
  /** Symbols in S order: the ones the inputs fix first. */
  private readonly symbolOrder: string[] = [];
  private readonly symbolIndex = new Map<string, number>();
  private readonly symbolLocal = new Map<string, string>();
  private readonly bindable = new Set<string>();
  /** Sizes the data decides (a nonzero count), with the kernel that makes each: set while the model runs. */
  private readonly late = new Map<string, number>();
  private readonly placement = new Map<string, Placement>();
  private readonly weightOffsets = new Map<string, number>();
  private weightBytes = 0;
  private readonly dynamic: string[] = [];
  private readonly includes = new Set<string>(['aic_support.h', 'threads.h', 'vecmath.h']);
  private readonly gemm: GemmNeeds = { packed: [], epilogues: new Map() };
  /** Models of their own for the bodies of structured ops (scan, if), in this source before the kernels. */
  private readonly subSources: string[] = [];

  constructor(private readonly p: Program, private readonly prefix: string, private readonly opts: CpuEmitOptions) {
    this.buffers = new Map(p.buffers.map((b) => [b.name, b]));
  }

  render(): RenderedModel {
    const p = this.p;
    for (const b of p.buffers) checkDType(b.dtype, `buffer @${b.name}${b.label ? ` (${b.label})` : ''}`);
    // Ops the backend cannot run are named first (before the sizes they would decide).
    for (const k of p.kernels) if (k.kind === 'extern') checkExtern(k);
    this.collectSymbols();
    this.place();
    const ctx: KernelContext = {
      buffers: this.buffers,
      symbols: this.symbolLocal,
      symbolIndex: this.symbolIndex,
      overlap: this.overlapTest(),
      elements: (b) => this.elements(b.shape, (s) => this.symbolLocal.get(s)!),
      subModel: (g, tag) => this.subModel(g, tag),
    };
    const kernels: string[] = [];
    const calls: string[] = [];
    const profileNames: string[] = [];
    for (const k of p.kernels) {
      const first = calls.length;
      const note = k.note !== undefined ? ` — ${k.note.replace(/\*\//g, '* /').replace(/\n/g, ' ')}` : '';
      kernels.push(`// ${k.name}${note}`);
      if (k.kind === 'extern') {
        const r = renderExtern(k, ctx);
        kernels.push(r.source);
        const i = profileNames.length;
        profileNames.push(`${k.name}${k.note ? ` ${k.note}` : ''}`);
        if (r.sizes) {
          // Compute (it sets the sizes), allocate what those sizes decide, then write the results.
          const ki = p.kernels.indexOf(k);
          calls.push(`AIC_PROFILE_BEGIN(${i})`,
            `${r.name}(${[...new Set(k.inputs)].map((n) => bufferParam(n)).join(', ')}${k.inputs.length ? ', ' : ''}S, &st);`,
            'if (st.failed()) return m->fail(st.message.load());',
            ...this.allocateLate(ki),
            `${r.name}_write(${[...new Set(k.outputs)].map((n) => bufferParam(n)).join(', ')}, S, &st);`,
            `AIC_PROFILE_END(${i})`);
        } else calls.push(`AIC_PROFILE_BEGIN(${i})`, ...this.callExtern(k, r.name), `AIC_PROFILE_END(${i})`);
        continue;
      }
      let pool: PoolMatch | undefined;
      const gemm = this.opts.noGemm ? undefined : matchGemm(k, ctx, this.opts.gemmMinMacs !== undefined ? { minMacs: this.opts.gemmMinMacs } : {});
      if (gemm) {
        this.includes.add(gemm.gemv ? 'gemv.h' : 'gemm.h');
        if (gemm.stages.some((s) => s.conv)) this.includes.add('conv.h');
        const r = renderGemmKernel(gemm, ctx, this.gemm);
        kernels.push(r.source);
        calls.push(...this.callLoop(k, ctx, r.extraArgs));
      } else if ((pool = matchPool(k, ctx))) {
        this.includes.add('pool.h');
        kernels.push(renderPoolKernel(pool, ctx));
        calls.push(...this.callLoop(k, ctx));
      } else {
        kernels.push(new CpuKernelWriter(k, ctx).render());
        calls.push(...this.callLoop(k, ctx));
      }
      // -DAIC_PROFILE: time each kernel (printed by destroy).
      const i = profileNames.length;
      profileNames.push(`${k.name}${k.note ? ` ${k.note}` : ''}`);
      calls.splice(first, 0, `AIC_PROFILE_BEGIN(${i})`);
      calls.push(`AIC_PROFILE_END(${i})`);
    }
    const weights = this.weightsImage();
    const embedded = this.opts.embedWeights === true;
    const fingerprint = this.fingerprint();
    const source = this.source(kernels, calls, embedded ? weights : undefined, fingerprint, profileNames);
    const ordered = RUNTIME_HEADERS.filter((h) => this.includes.has(h));
    return { header: this.header(), source, weights: embedded ? undefined : weights, includes: ordered, prefix: this.prefix };
  }

  /** A graph (a scan body, a branch) scheduled, planned and rendered as a model of its own, weights embedded. */
  private subModel(g: Graph, tag: string): string {
    const prefix = `${this.prefix}_${tag.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let program: Program;
    try {
      program = planMemory(scheduleGraph(g).program).program;
    } catch (e) {
      return fail('E_UNSUPPORTED', `cpu: the body ${g.name} cannot be compiled: ${(e as Error).message}`);
    }
    const sub = renderModel(program, { ...this.opts, prefix, embedWeights: true });
    for (const h of sub.includes) this.includes.add(h);
    // The body's header inline (its source includes "model.h", which is the outer model's here).
    this.subSources.push(`// ---- ${prefix}: the body ${g.name}, a model of its own ----\n${sub.header}\n${sub.source.replace('#include "model.h"\n', '')}`);
    return prefix;
  }

  // ---- sizes ----

  private collectSymbols(): void {
    const p = this.p;
    const add = (s: string): void => {
      if (!this.symbolIndex.has(s)) {
        this.symbolIndex.set(s, this.symbolOrder.length);
        this.symbolOrder.push(s);
      }
    };
    for (const name of p.inputs) {
      for (const d of this.buffers.get(name)!.shape) {
        if (isPlainSymbol(d)) {
          this.bindable.add(d);
          add(d);
        }
      }
    }
    p.kernels.forEach((k, i) => {
      if (k.kind !== 'extern' || !makesSizes(k)) return;
      for (const o of k.outputs) for (const d of this.buffers.get(o)!.shape) for (const s of symsOf(dimExpr(d))) if (!this.bindable.has(s) && !this.late.has(s)) this.late.set(s, i);
    });
    for (const s of this.late.keys()) add(s);
    const all = new Set<string>();
    for (const b of p.buffers) for (const d of b.shape) symsOf(dimExpr(d), all);
    for (const k of p.kernels) if (k.kind === 'loop') for (const s of kernelSymbols(k)) all.add(s);
    for (const s of all) {
      if (this.bindable.has(s) || this.late.has(s)) continue;
      const maker = p.kernels.find((k) => k.kind === 'extern' && k.outputs.some((o) => this.buffers.get(o)!.shape.some((d) => symsOf(dimExpr(d)).has(s))));
      fail('E_UNSUPPORTED', `cpu: a size the data decides ($${s}${maker ? `, made by ${maker.note ?? maker.name}` : ''}) is not supported yet`);
    }
    const used = new Set<string>();
    for (const s of this.symbolOrder) {
      let local = `S_${s.replace(/[^A-Za-z0-9_]/g, '_')}`;
      while (used.has(local)) local += '_';
      used.add(local);
      this.symbolLocal.set(s, local);
    }
  }

  /** A size as C++, with `sym` naming each symbol. */
  private size(e: IndexExpr, sym: (s: string) => string): string {
    switch (e.kind) {
      case 'const': return e.value < 0 ? `(${e.value})` : String(e.value);
      case 'sym': return sym(e.name);
      case 'add': return `(${e.terms.map((t) => this.size(t, sym)).join(' + ')})`;
      case 'mul': return e.factors.map((f) => this.size(f, sym)).join(' * ');
      default: return fail('E_UNSUPPORTED', `cpu: a size that is not a polynomial of symbols`);
    }
  }

  private elements(shape: readonly Dim[], sym: (s: string) => string): string {
    if (shape.length === 0) return '1';
    if (shape.every((d) => typeof d === 'number')) return String((shape as number[]).reduce((a, b) => a * b, 1));
    return shape.map((d) => `static_cast<index_t>(${this.size(dimExpr(d), sym)})`).join(' * ');
  }

  private readonly S = (s: string): string => `S[${this.symbolIndex.get(s)!}]`;

  private bytes(b: Buffer): string {
    const n = this.elements(b.shape, this.S);
    return `static_cast<std::size_t>(${n}) * ${DTYPE_INFO[b.dtype].bytes}`;
  }

  // ---- where buffers live ----

  private place(): void {
    const p = this.p;
    let off = 0;
    for (const b of p.buffers) {
      const ty = elementType(b.dtype);
      const elements = this.elements(b.shape, this.S);
      let pointer: string;
      switch (b.role) {
        case 'input': {
          const i = p.inputs.indexOf(b.name);
          if (i < 0) fail('E_VERIFY', `program: input buffer @${b.name} is not among the inputs`);
          pointer = `static_cast<const ${ty}*>(inputs[${i}])`;
          break;
        }
        case 'output': {
          const k = p.outputs.indexOf(b.name);
          if (this.isLate(b)) {
            // Its size is known only while the model runs: the model holds it (P_output_data).
            pointer = `static_cast<${ty}*>(m->dyn[${this.dynamic.length}])`;
            this.dynamic.push(b.name);
          } else pointer = k >= 0 ? `static_cast<${ty}*>(outputs[${k}])` : `static_cast<${ty}*>(m->scratch_output(${this.bytes(b)}))`;
          break;
        }
        case 'weight': {
          off = alignUp(off);
          this.weightOffsets.set(b.name, off);
          pointer = `reinterpret_cast<const ${ty}*>(m->weights + ${off})`;
          off += b.data ? elementImage(b.data).length : 0;
          break;
        }
        case 'temp': {
          if (b.offset !== undefined) pointer = `reinterpret_cast<${ty}*>(m->arena + ${b.offset})`;
          else {
            pointer = `static_cast<${ty}*>(m->dyn[${this.dynamic.length}])`;
            this.dynamic.push(b.name);
          }
          break;
        }
      }
      this.placement.set(b.name, { pointer, elements });
    }
    this.weightBytes = alignUp(off);
  }

  /** Whether a buffer's size depends on a size the data decides. */
  private isLate(b: Buffer): boolean {
    return b.shape.some((d) => [...symsOf(dimExpr(d))].some((s) => this.late.has(s)));
  }

  /** The index of the last kernel whose run decides a size of this buffer (-1: none). */
  private lateAfter(b: Buffer): number {
    let last = -1;
    for (const d of b.shape) for (const s of symsOf(dimExpr(d))) last = Math.max(last, this.late.get(s) ?? -1);
    return last;
  }

  /** Allocation of the buffers whose sizes are all known once kernel `ki` has run. */
  private allocateLate(ki: number): string[] {
    const out: string[] = [];
    this.dynamic.forEach((name, j) => {
      const b = this.buffers.get(name)!;
      if (this.lateAfter(b) !== ki) return;
      out.push(`if (!m->ensure_dynamic(${j}, ${this.bytes(b)})) return m->fail("out of memory");`);
      out.push(`${bufferParam(name)} = static_cast<${elementType(b.dtype)}*>(m->dyn[${j}]);`);
    });
    return out;
  }

  /** Whether two buffers share bytes: temps in the arena whose ranges overlap (a kernel writing in place). */
  private overlapTest(): (a: string, b: string) => boolean {
    const range = (n: string): [number, number] | undefined => {
      const b = this.buffers.get(n);
      if (!b || b.role !== 'temp' || b.offset === undefined) return undefined;
      return [b.offset, b.offset + (bufferBytes(b) ?? 0)];
    };
    return (a, b) => {
      if (a === b) return true;
      const x = range(a);
      const y = range(b);
      return x !== undefined && y !== undefined && x[0] < y[1] && y[0] < x[1] && x[1] > x[0] && y[1] > y[0];
    };
  }

  private pointer(name: string): string {
    return this.placement.get(name)?.pointer ?? fail('E_VERIFY', `program: no buffer @${name}`);
  }

  // ---- calls in run_program ----

  private callLoop(k: LoopKernel, ctx: KernelContext, extra: readonly string[] = []): string[] {
    const { names } = kernelParams(k, ctx);
    const args = [...names.map((n) => bufferParam(n)), ...extra, 'S', '&st'];
    const call = `kernel_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}(${args.join(', ')});`;
    const checks = [...allStmts(k.body)].some((s) => s.kind === 'check');
    return checks ? [call, `if (st.failed()) return m->fail(st.message.load());`] : [call];
  }

  private callExtern(k: ExternKernel, fn: string): string[] {
    const args = externBuffers(k).map((n) => bufferParam(n));
    return [`${fn}(${[...args, 'S', '&st'].join(', ')});`, `if (st.failed()) return m->fail(st.message.load());`];
  }

  // ---- weights ----

  private weightsImage(): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.weightBytes);
    out.set(Buffer.from(WEIGHTS_MAGIC, 'ascii'), 0);
    const view = new DataView(out.buffer);
    view.setBigUint64(8, BigInt(this.weightBytes), true);
    view.setBigUint64(16, this.fingerprint(), true);
    for (const b of this.p.buffers) {
      if (b.role !== 'weight' || !b.data) continue;
      out.set(elementImage(b.data), HEADER_BYTES + this.weightOffsets.get(b.name)!);
    }
    return out;
  }

  /** The weights' layout (names, types, offsets): a weights.bin made for another model is refused. */
  private fingerprint(): bigint {
    const parts = this.p.buffers.filter((b) => b.role === 'weight').map((b) => `${b.name}:${b.dtype}:${b.shape.join('x')}@${this.weightOffsets.get(b.name)}`);
    return fnv64(`${this.p.name}|${parts.join(';')}`);
  }

  // ---- the header ----

  private tensorComment(names: readonly string[]): string[] {
    return names.map((n, i) => {
      const b = this.buffers.get(n)!;
      return ` *   ${i}: ${this.ioName(b)} ${b.dtype}[${b.shape.join(', ')}]`;
    });
  }

  private ioName(b: Buffer): string {
    return b.label !== undefined ? b.label.replace(/^%/, '') : b.name;
  }

  private header(): string {
    const P = this.prefix;
    return abiHeader(P, `${P}: the C ABI of the model "${this.p.name.replace(/\*\//g, '* /')}", generated by aic. Do not edit.
 *
 * inputs:
${this.tensorComment(this.p.inputs).join('\n')}
 * outputs:
${this.tensorComment(this.p.outputs).join('\n')}`);
  }

  // ---- the source ----

  private infoTables(which: 'in' | 'out', names: readonly string[]): string[] {
    const lines: string[] = [];
    const entries: string[] = [];
    names.forEach((n, i) => {
      const b = this.buffers.get(n)!;
      const dims = b.shape.map((d) => (typeof d === 'number' ? String(d) : '-1'));
      const dn = b.shape.map((d) => (typeof d === 'number' ? 'nullptr' : cString(d)));
      lines.push(`static const int64_t ${which}_dims_${i}[] = {${dims.length ? dims.join(', ') : '0'}};`);
      lines.push(`static const char* const ${which}_dim_names_${i}[] = {${dn.length ? dn.join(', ') : 'nullptr'}};`);
      entries.push(`  {${cString(this.ioName(b))}, ${DTYPE_INFO[b.dtype].onnx}, ${b.shape.length}, ${which}_dims_${i}, ${which}_dim_names_${i}},`);
    });
    if (names.length === 0) entries.push('  {nullptr, 0, 0, nullptr, nullptr},');
    lines.push(`static const aic_tensor_info ${which}_info[] = {`, ...entries, '};');
    return lines;
  }

  private bindCode(): string[] {
    const p = this.p;
    const out: string[] = [];
    const nsym = this.symbolOrder.length;
    out.push(`  index_t S[${Math.max(1, nsym)}] = {0};`, `  bool set[${Math.max(1, nsym)}] = {false};`, '  (void)set;');
    const checks: string[] = [];
    p.inputs.forEach((name, i) => {
      const b = this.buffers.get(name)!;
      const label = cString(this.ioName(b));
      b.shape.forEach((d, j) => {
        const got = `shapes[${i}][${j}]`;
        if (typeof d === 'number') {
          out.push(`  if (${got} != ${d}) return m->fail_dim(${label}, ${j}, ${got}, ${d});`);
        } else if (isPlainSymbol(d)) {
          const k = this.symbolIndex.get(d)!;
          out.push(`  if (${got} < 0) return m->fail_dim(${label}, ${j}, ${got}, -1);`);
          out.push(`  if (!set[${k}]) { S[${k}] = ${got}; set[${k}] = true; } else if (S[${k}] != ${got}) return m->fail_sym(${label}, ${j}, ${cString(d)}, ${got}, S[${k}]);`);
        } else {
          checks.push(`  if (${got} != ${this.size(dimExpr(d), this.S)}) return m->fail_dim(${label}, ${j}, ${got}, ${this.size(dimExpr(d), this.S)});`);
        }
      });
    });
    out.push(...checks);
    out.push(`  std::memcpy(m->S, S, sizeof(S));`);
    this.dynamic.forEach((name, j) => {
      const b = this.buffers.get(name)!;
      if (!this.isLate(b)) out.push(`  if (!m->ensure_dynamic(${j}, ${this.bytes(b)})) return m->fail("out of memory");`);
    });
    out.push('  m->bound = true;', '  return 0;');
    return out;
  }

  private runCode(calls: readonly string[]): string[] {
    const p = this.p;
    const out: string[] = ['  index_t* const S = m->S;', '  (void)S; (void)inputs; (void)outputs;', '  aic::Status st;'];
    if (this.late.size > 0) out.push('  m->late_ready = false;');
    for (const b of p.buffers) {
      // A buffer whose size the data decides gets its memory while the model runs.
      if (this.isLate(b)) out.push(`  ${elementType(b.dtype)}* ${bufferParam(b.name)} = nullptr; (void)${bufferParam(b.name)};`);
      else out.push(`  ${b.role === 'input' || b.role === 'weight' ? 'const ' : ''}${elementType(b.dtype)}* const ${bufferParam(b.name)} = ${this.pointer(b.name)}; (void)${bufferParam(b.name)};`);
    }
    out.push(...calls.map((c) => `  ${c}`));
    // Outputs that are not written in place: an input, a weight, a temp, or the same buffer twice (those
    // whose size the data decides stay with the model: P_output_data).
    p.outputs.forEach((name, k) => {
      const b = this.buffers.get(name)!;
      if (this.isLate(b) || (b.role === 'output' && p.outputs.indexOf(name) === k)) return;
      out.push(`  if (${this.bytes(b)} > 0) std::memcpy(outputs[${k}], ${bufferParam(name)}, ${this.bytes(b)});`);
    });
    if (this.late.size > 0) out.push('  m->late_ready = true;');
    out.push('  return 0;');
    return out;
  }

  private outputShapeCode(): string[] {
    const out: string[] = ['  const index_t* S = m->S; (void)S;', '  switch (k) {'];
    this.p.outputs.forEach((name, k) => {
      const b = this.buffers.get(name)!;
      const dims = b.shape.map((d, j) => `dims[${j}] = ${this.size(dimExpr(d), this.S)};`).join(' ');
      const late = this.isLate(b) ? `if (!m->late_ready) return m->fail("output ${k}: its size is known when the model has run"); ` : '';
      out.push(`    case ${k}: ${late}${b.shape.length > 0 ? `if (!dims) return -1; ${dims} ` : '(void)dims; '}return 0;`);
    });
    out.push('    default: return -1;', '  }');
    return out;
  }

  private source(kernels: readonly string[], calls: readonly string[], embedded: Uint8Array | undefined, fingerprint: bigint, profileNames: readonly string[]): string {
    const P = this.prefix;
    const p = this.p;
    const nsym = this.symbolOrder.length;
    const ndyn = this.dynamic.length;
    const weightsDecl = embedded ? embedBytes(embedded) : [];
    const gemm = this.gemm;
    const packedInit = gemm.packed.map((x, i) => `  if (!(m->packed[${i}] = static_cast<float*>(aic_alloc(${x.floats} * sizeof(float))))) { aic_fail_create("out of memory"); ${P}_destroy(m); return nullptr; }\n  ${x.pack(`m->packed[${i}]`, (n) => this.pointer(n))};`);
    const includes = RUNTIME_HEADERS.filter((h) => this.includes.has(h));
    return `// ${P}: the model "${p.name.replace(/\n/g, ' ')}", generated by aic. Do not edit.
// ${p.kernels.length} kernels, an arena of ${p.arenaBytes} bytes, ${this.weightBytes} bytes of weights${embedded ? ' (embedded)' : ` (${WEIGHTS_FILE})`}.
// Build: g++ -std=c++17 -O3 -march=native -fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off -c model.cpp
#include "model.h"
${includes.map((h) => `#include "${h}"`).join('\n')}

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

using aic::index_t;

${this.subSources.join('\n')}
namespace ${P}_impl {
using aic::index_t;

void* aic_alloc(std::size_t bytes) {
  return std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
}

thread_local std::string create_error;
void aic_fail_create(const std::string& why) { create_error = why; }

}  // namespace ${P}_impl

struct ${P}_s {
  unsigned char* arena = nullptr;
  bool own_arena = false;
  const unsigned char* weights = nullptr;
  unsigned char* own_weights = nullptr;
  index_t S[${Math.max(1, nsym)}] = {0};
  bool bound = ${this.bindable.size === 0 ? 'true' : 'false'};
  bool late_ready = false;
  int threads = 0;
  void* dyn[${Math.max(1, ndyn)}] = {nullptr};
  std::size_t dyn_bytes[${Math.max(1, ndyn)}] = {0};
  float* packed[${Math.max(1, gemm.packed.length)}] = {nullptr};
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;
  mutable std::string error;

  int fail(const char* why) const { error = why; return -1; }
  int fail_dim(const char* input, int d, long long got, long long want) {
    char buf[256];
    if (want < 0) std::snprintf(buf, sizeof buf, "input '%s': dim %d is %lld", input, d, got);
    else std::snprintf(buf, sizeof buf, "input '%s': dim %d is %lld, the model needs %lld", input, d, got, want);
    error = buf;
    return -1;
  }
  int fail_sym(const char* input, int d, const char* sym, long long got, long long before) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "input '%s': dim %d (%s) is %lld here but %lld in an earlier input", input, d, sym, got, before);
    error = buf;
    return -1;
  }
  bool ensure_dynamic(int j, std::size_t bytes) {
    if (dyn[j] && dyn_bytes[j] >= bytes) return true;
    std::free(dyn[j]);
    dyn[j] = ${P}_impl::aic_alloc(bytes);
    dyn_bytes[j] = dyn[j] ? bytes : 0;
    return dyn[j] != nullptr;
  }
  /** A scratch buffer (an output computed but not returned). */
  void* scratch_output(std::size_t bytes) {
    if (scratch && scratch_bytes >= bytes) return scratch;
    std::free(scratch);
    scratch = ${P}_impl::aic_alloc(bytes);
    scratch_bytes = scratch ? bytes : 0;
    if (!scratch) throw std::bad_alloc();
    return scratch;
  }
};


namespace ${P}_impl {

${kernels.join('\n\n')}

// ---- tables ----

${this.infoTables('in', p.inputs).join('\n')}
${this.infoTables('out', p.outputs).join('\n')}

constexpr std::size_t kArenaBytes = ${p.arenaBytes};
// Masked loads of temps may read up to this many bytes outside the arena (the values are discarded).
constexpr std::size_t kGuardBytes = ${ARENA_GUARD_BYTES};
constexpr std::size_t kWeightBytes = ${this.weightBytes};
constexpr std::uint64_t kFingerprint = UINT64_C(${fingerprint});
${weightsDecl.join('\n')}

#ifdef AIC_PROFILE
// Built with -DAIC_PROFILE: the time of every kernel, summed over runs, printed when the model is destroyed.
const char* const kKernelNames[${Math.max(1, profileNames.length)}] = {${profileNames.map((n) => cString(n)).join(', ') || 'nullptr'}};
double profile_ms[${Math.max(1, profileNames.length)}] = {0};
long profile_runs = 0;
#undef AIC_PROFILE_BEGIN
#undef AIC_PROFILE_END
#define AIC_PROFILE_BEGIN(i) const auto aic_t##i = std::chrono::steady_clock::now();
#define AIC_PROFILE_END(i) ${P}_impl::profile_ms[i] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - aic_t##i).count();
void print_profile() {
  if (profile_runs == 0) return;
  double total = 0;
  for (double t : profile_ms) total += t;
  std::fprintf(stderr, "aic profile: %ld runs, %.3f ms per run\\n", profile_runs, total / profile_runs);
  for (int i = 0; i < ${profileNames.length}; ++i)
    std::fprintf(stderr, "  %8.3f ms %5.1f%%  %s\\n", profile_ms[i] / profile_runs, 100.0 * profile_ms[i] / (total > 0 ? total : 1), kKernelNames[i]);
}
#else
#undef AIC_PROFILE_BEGIN
#undef AIC_PROFILE_END
#define AIC_PROFILE_BEGIN(i)
#define AIC_PROFILE_END(i)
#endif


int load_weights(${P}_t* m, const unsigned char* data, std::size_t bytes) {
  if (bytes < ${HEADER_BYTES} || std::memcmp(data, "${WEIGHTS_MAGIC}", 8) != 0) { aic_fail_create("not an aic weights file"); return -1; }
  std::uint64_t size = 0, fp = 0;
  std::memcpy(&size, data + 8, 8);
  std::memcpy(&fp, data + 16, 8);
  if (fp != kFingerprint) { aic_fail_create("the weights file was made for another model"); return -1; }
  if (size != kWeightBytes || bytes < ${HEADER_BYTES} + size) { aic_fail_create("the weights file is truncated"); return -1; }
  m->own_weights = static_cast<unsigned char*>(aic_alloc(size));
  if (!m->own_weights) { aic_fail_create("out of memory"); return -1; }
  if (size > 0) std::memcpy(m->own_weights, data + ${HEADER_BYTES}, size);
  m->weights = m->own_weights;
  return 0;
}

${P}_t* finish_create(${P}_t* m, void* workspace) {
  if (workspace) m->arena = static_cast<unsigned char*>(workspace) + kGuardBytes;
  else {
    unsigned char* block = static_cast<unsigned char*>(aic_alloc(kArenaBytes + 2 * kGuardBytes));
    if (!block) { aic_fail_create("out of memory"); ${P}_destroy(m); return nullptr; }
    std::memset(block, 0, kGuardBytes);
    std::memset(block + kGuardBytes + kArenaBytes, 0, kGuardBytes);
    m->arena = block + kGuardBytes;
    m->own_arena = true;
  }
  (void)m->weights;
${packedInit.join('\n')}
  return m;
}

int run_program(${P}_t* m, const void* const* inputs, void* const* outputs) {
${this.runCode(calls).join('\n')}
}

// The C ABI (functions with C linkage may be defined in a namespace: they are the header's functions).
extern "C" {

int ${P}_num_inputs(void) { return ${p.inputs.length}; }
int ${P}_num_outputs(void) { return ${p.outputs.length}; }
const aic_tensor_info* ${P}_input_info(int i) { return i >= 0 && i < ${p.inputs.length} ? &in_info[i] : nullptr; }
const aic_tensor_info* ${P}_output_info(int k) { return k >= 0 && k < ${p.outputs.length} ? &out_info[k] : nullptr; }
size_t ${P}_workspace_size(void) { return kArenaBytes + 2 * kGuardBytes; }

${P}_t* ${P}_create(const char* weights_path, void* workspace) {
  ${P}_t* m = new (std::nothrow) ${P}_s();
  if (!m) { aic_fail_create("out of memory"); return nullptr; }
${embedded ? `  (void)weights_path;\n  m->weights = kEmbeddedWeights + ${HEADER_BYTES};` : `  if (!weights_path) { aic_fail_create("no weights file given"); delete m; return nullptr; }
  std::FILE* f = std::fopen(weights_path, "rb");
  if (!f) { aic_fail_create(std::string("cannot open ") + weights_path); delete m; return nullptr; }
  std::string bytes;
  char chunk[1 << 16];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.append(chunk, n);
  std::fclose(f);
  if (load_weights(m, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 0) {
    create_error = std::string(weights_path) + ": " + create_error;
    ${P}_destroy(m);
    return nullptr;
  }`}
  return finish_create(m, workspace);
}

${P}_t* ${P}_create_from_memory(const void* weights, size_t bytes, void* workspace) {
  ${P}_t* m = new (std::nothrow) ${P}_s();
  if (!m) { aic_fail_create("out of memory"); return nullptr; }
  if (load_weights(m, static_cast<const unsigned char*>(weights), bytes) != 0) { ${P}_destroy(m); return nullptr; }
  return finish_create(m, workspace);
}

void ${P}_destroy(${P}_t* m) {
  if (!m) return;
#ifdef AIC_PROFILE
  print_profile();
#endif
  if (m->own_arena) std::free(m->arena - kGuardBytes);
  std::free(m->own_weights);
  for (void* d : m->dyn) std::free(d);
  for (float* q : m->packed) std::free(q);
  std::free(m->scratch);
  delete m;
}

void ${P}_set_threads(${P}_t* m, int threads) { if (m) m->threads = threads < 0 ? 0 : threads; }

int ${P}_bind(${P}_t* m, const int64_t* const* shapes) {
  if (!m) return -1;
${nsym > 0 || p.inputs.length > 0 ? `  if (!shapes) return ${nsym > 0 ? 'm->fail("the model has symbolic dims: give the inputs\' shapes")' : '0'};` : '  (void)shapes;'}
${this.bindCode().join('\n')}
}

int ${P}_output_shape(const ${P}_t* m, int k, int64_t* dims) {
  if (!m) return -1;
  if (!m->bound) return m->fail("the model has symbolic dims: call bind first");
${this.outputShapeCode().join('\n')}
}

int ${P}_run(${P}_t* m, const void* const* inputs, void* const* outputs) {
  if (!m) return -1;
  if (!m->bound) return m->fail("the model has symbolic dims: call ${P}_bind first");
  aic::threads::set_max_threads(m->threads);
#ifndef AIC_KEEP_DENORMALS
  const aic::fp_mode::FlushToZero ftz;  // denormal results become 0 (runtime/threads.h says why)
#endif
  try {
#ifdef AIC_PROFILE
    ++profile_runs;
#endif
    return run_program(m, inputs, outputs);
  } catch (const std::bad_alloc&) {
    return m->fail("out of memory");
  }
}

const char* ${P}_last_error(const ${P}_t* m) { return m ? m->error.c_str() : create_error.c_str(); }

const void* ${P}_output_data(const ${P}_t* m, int k) {
  if (!m || !m->late_ready) return nullptr;
  switch (k) {
${this.p.outputs.map((name, k) => (this.isLate(this.buffers.get(name)!) ? `    case ${k}: return m->dyn[${this.dynamic.indexOf(name)}];` : '')).filter((l) => l).join('\n')}
    default: return nullptr;
  }
}

}  // extern "C"
}  // namespace ${P}_impl
`;
  }
}

/** model.h for a prefix; \`about\` is the comment that opens it (the runner's cached object is built
 * against this header with no comment: the declarations are the same for every model). */
export function abiHeader(P: string, about: string): string {
  const guard = `AIC_MODEL_H_${P.toUpperCase()}`;
  return `/* ${about}
 *
 * Use: m = ${P}_create("weights.bin", NULL); [${P}_bind(m, shapes) when a dim is symbolic;]
 *      ${P}_run(m, inputs, outputs); ${P}_destroy(m). Tensors are dense, row-major, of the listed dtypes;
 *      f16 and bf16 as their 16-bit patterns, bool as one byte, the 8-, 4- and 2-bit formats one per byte.
 *      Every function but run is cheap.
 */
#ifndef ${guard}
#define ${guard}

#ifndef AIC_PREFIX
#define AIC_PREFIX ${P}
#endif

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AIC_TENSOR_INFO_DEFINED
#define AIC_TENSOR_INFO_DEFINED
/* Element types: the ONNX TensorProto codes. */
enum {
  AIC_F32 = 1, AIC_U8 = 2, AIC_I8 = 3, AIC_U16 = 4, AIC_I16 = 5, AIC_I32 = 6, AIC_I64 = 7,
  AIC_BOOL = 9, AIC_F16 = 10, AIC_F64 = 11, AIC_U32 = 12, AIC_U64 = 13, AIC_BF16 = 16,
  /* one element per byte, the format's bit pattern in its low bits: */
  AIC_F8E4M3FN = 17, AIC_F8E4M3FNUZ = 18, AIC_F8E5M2 = 19, AIC_F8E5M2FNUZ = 20, AIC_U4 = 21, AIC_I4 = 22,
  AIC_F4E2M1 = 23, AIC_F8E8M0 = 24, AIC_U2 = 25, AIC_I2 = 26
};
typedef struct aic_tensor_info {
  const char* name;              /* the model's name for the tensor */
  int dtype;                     /* AIC_F32, ... */
  int rank;
  const int64_t* dims;           /* -1 where the size is symbolic */
  const char* const* dim_names;  /* the symbol's name where dims[d] == -1, else NULL */
} aic_tensor_info;
#endif

typedef struct ${P}_s ${P}_t;

int ${P}_num_inputs(void);
int ${P}_num_outputs(void);
const aic_tensor_info* ${P}_input_info(int i);
const aic_tensor_info* ${P}_output_info(int k);
/* Bytes of the workspace: the static arena that holds the intermediates, and guard bytes around it
 * (64-byte aligned memory, if you give it). */
size_t ${P}_workspace_size(void);

/* A model: weights read from weights_path (ignored when they are embedded); workspace is
 * ${P}_workspace_size() bytes aligned to 64, or NULL to allocate it. NULL on failure: see
 * ${P}_last_error(NULL). */
${P}_t* ${P}_create(const char* weights_path, void* workspace);
/* The same with the bytes of weights.bin in memory (copied). */
${P}_t* ${P}_create_from_memory(const void* weights, size_t bytes, void* workspace);
void ${P}_destroy(${P}_t* m);
/* Threads for the next runs (0: as many as the machine has cores). The pool is the process's: models run
 * at the same time from several threads share it (a loop that finds it busy runs on its caller). */
void ${P}_set_threads(${P}_t* m, int threads);
/* Fix the symbolic dims from the inputs' shapes: input_shapes[i] holds input i's dims. Only needed when
 * some dim is symbolic; 0, or -1 with the reason in ${P}_last_error. */
int ${P}_bind(${P}_t* m, const int64_t* const* input_shapes);
/* Output k's dims for the bound sizes (rank entries). 0 or -1. */
int ${P}_output_shape(const ${P}_t* m, int k, int64_t* dims);
/* Run: inputs[i] and outputs[k] point at the tensors' elements. 0, or -1 with the reason in
 * ${P}_last_error. The outputs must not overlap the inputs. */
int ${P}_run(${P}_t* m, const void* const* inputs, void* const* outputs);
const char* ${P}_last_error(const ${P}_t* m);
/* An output whose size the data decides (a dim -1 named like "_nonzero1" in its info) is held by the model:
 * pass NULL for it to run, then read its shape with ${P}_output_shape and its elements here (valid until the
 * next run). NULL for the other outputs. */
const void* ${P}_output_data(const ${P}_t* m, int k);

#ifdef __cplusplus
}
#endif
#endif
`;
}

/** A tensor's elements as the model holds them: little-endian, 16-bit floats as their patterns, the 8-, 4- and
 * 2-bit formats one per byte (not packed as in ONNX raw data). */
export function elementImage(t: Tensor): Uint8Array {
  if (DTYPE_INFO[t.dtype].bits >= 8) return toBytes(t);
  const codec = bitCodec(t.dtype)!;
  const out = new Uint8Array(t.size);
  for (let i = 0; i < t.size; i++) out[i] = codec.encode(Number(t.data[i]));
  return out;
}

/** Weights embedded in the source (--embed-weights): a byte array, 64-byte aligned. */
function embedBytes(bytes: Uint8Array): string[] {
  const lines = [`alignas(64) const unsigned char kEmbeddedWeights[${Math.max(1, bytes.length)}] = {`];
  for (let i = 0; i < bytes.length; i += 24) lines.push(`  ${[...bytes.subarray(i, i + 24)].join(',')},`);
  if (bytes.length === 0) lines.push('  0');
  lines.push('};');
  return lines;
}

function makefile(includes: readonly string[]): string {
  return `# Builds the model: \`make\` (the runner ./model and libmodel.a); MARCH=... for another CPU, CXX=... for another compiler.
CXX ?= g++
MARCH ?= native
CXXFLAGS ?= -std=c++17 -O3 -march=$(MARCH) -fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off
HEADERS = model.h ${includes.join(' ')}

all: model libmodel.a

model: main.o model.o
\t$(CXX) $(CXXFLAGS) -o $@ main.o model.o

libmodel.a: model.o
\t$(AR) rcs $@ model.o

model.o: model.cpp $(HEADERS)
\t$(CXX) $(CXXFLAGS) -c model.cpp -o $@

main.o: main.cpp model.h
\t$(CXX) $(CXXFLAGS) -c main.cpp -o $@

clean:
\trm -f model main.o model.o libmodel.a

.PHONY: all clean
`;
}

function cmakeLists(): string {
  return `# Builds the model with CMake: cmake -S . -B build && cmake --build build   (-DAIC_MARCH=... for another CPU)
cmake_minimum_required(VERSION 3.13)
project(aic_model CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()
set(AIC_MARCH "native" CACHE STRING "the -march of the build")
find_package(OpenMP REQUIRED)
add_library(aic_model STATIC model.cpp)
target_include_directories(aic_model PUBLIC \${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(aic_model PRIVATE -O3 -march=\${AIC_MARCH} -fno-math-errno -fno-trapping-math -ffp-contract=off)
target_link_libraries(aic_model PUBLIC OpenMP::OpenMP_CXX)
add_executable(model main.cpp)
target_compile_options(model PRIVATE -O2)
target_link_libraries(model PRIVATE aic_model)
`;
}
