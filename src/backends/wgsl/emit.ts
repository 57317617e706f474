// A Program as a WGSL artifact: one compute shader per loop kernel (two for a scatter), the JSON plan
// (segments, where every tensor lives, each kernel's bindings and dispatch), and the weights as the GPU's
// words. Extern kernels other than scatter (If/Loop/Scan, TopK, NonZero, Unique) run on the host between
// GPU steps (host.ts); a Program here has none (checkRenderable refuses them by name).
import { fail } from '../../ir/error.js';
import type { Tensor } from '../../ir/tensor.js';
import { bufferMap, type Program } from '../../kernel/program.js';
import { planLayout, type Layout } from './layout.js';
import { unsupportedReason } from './spelling.js';
import { renderExtern } from './extern.js';
import { hostOp, placeKernel } from './steps.js';
import { renderGemm } from './matmul.js';
import { renderKernel, type KernelShader, type RenderContext } from './render.js';
import { WgslModel, type HostArray, type WgslPlan } from './runtime.js';

export interface WgslArtifact {
  readonly plan: WgslPlan;
  /** Shader source by file name (`k0.wgsl`). */
  readonly shaders: ReadonlyMap<string, string>;
  /** weights.bin: the weight segments one after another. */
  readonly weights: Uint8Array;
  readonly layout: Layout;
}

export interface WgslEmitOptions {
  /** Render GEMM kernels with workgroup tiles (default true). */
  readonly tiledMatmul?: boolean;
}

/** Refuse, with E_UNSUPPORTED naming the op or dtype, what the shaders cannot hold: an extern kernel other
 * than scatter runs on the host between GPU steps (host.ts), which aic's runtime does but a standalone
 * artifact's run.js does not. */
export function checkRenderable(p: Program): void {
  const buffers = bufferMap(p);
  for (const k of p.kernels) {
    if (k.kind === 'extern' && placeKernel(k, buffers) === 'host') {
      fail('E_UNSUPPORTED', `wgsl: kernel ${k.name} runs ${hostOp(k)} (${k.note ?? 'an extern kernel'}) on the host between GPU steps; aic run/test do, a standalone artifact (run.js) cannot yet`,
        'run it with `aic run --target wgsl`, or in a page with WgslRunner (src/backends/wgsl/host.ts)');
    }
  }
  for (const b of p.buffers) {
    const why = unsupportedReason(b.dtype);
    if (why) {
      fail('E_UNSUPPORTED', `wgsl: dtype ${b.dtype} is not supported (${why}) in buffer @${b.name}${b.label ? ` (${b.label})` : ''}`,
        'aic run/test --target wgsl run such kernels on the host; an artifact holds GPU kernels only');
    }
  }
}

export function emitWgsl(p: Program, opts: WgslEmitOptions = {}): WgslArtifact {
  checkRenderable(p);
  const layout = planLayout(p);
  const ctx: RenderContext = { buffers: bufferMap(p), layout, checks: [] };
  const shaders = new Map<string, string>();
  const kernels: WgslPlan['kernels'][number][] = [];
  for (const k of p.kernels) {
    let rendered: KernelShader[];
    if (k.kind === 'extern') rendered = renderExtern(k, ctx);
    else if (k.body.length === 0) continue; // an empty result: nothing to compute
    else rendered = [(opts.tiledMatmul ?? true ? renderGemm(k, ctx) : undefined) ?? renderKernel(k, ctx)];
    for (const s of rendered) {
      if (s.dispatch.count === 0) continue;
      const file = `${s.name}.wgsl`;
      shaders.set(file, s.code);
      kernels.push({
        name: s.name,
        ...(s.note !== undefined ? { note: s.note } : {}),
        file,
        bindings: s.bindings,
        dispatch: s.dispatch,
        ...(s.workgroupSize !== undefined ? { workgroupSize: s.workgroupSize } : {}),
      });
    }
  }
  const weightSegments = layout.segments.filter((s) => s.role === 'weights');
  const weightsBytes = weightSegments.reduce((n, s) => Math.max(n, (s.binOffset ?? 0) + s.words * 4), 0);
  const weights = new Uint8Array(weightsBytes);
  for (const b of p.buffers) {
    if (b.role !== 'weight') continue;
    const place = layout.placement.get(b.name)!;
    if (place.words === 0) continue;
    const seg = weightSegments.find((s) => s.name === place.segment)!;
    const words = WgslModel.toWords(b.dtype, (b.data as Tensor).data as HostArray);
    weights.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), (seg.binOffset ?? 0) + place.offset * 4);
  }
  const plan: WgslPlan = {
    format: 'aic-wgsl/1',
    name: p.name,
    segments: layout.segments.map((s) => ({ name: s.name, role: s.role, words: s.words, ...(s.binOffset !== undefined ? { binOffset: s.binOffset } : {}) })),
    buffers: p.buffers.map((b) => {
      const place = layout.placement.get(b.name)!;
      return {
        name: b.name, dtype: b.dtype, shape: b.shape as number[], role: b.role, ...(b.label !== undefined ? { label: b.label } : {}),
        segment: place.segment, offset: place.offset, elements: place.elements,
      };
    }),
    inputs: p.inputs,
    outputs: p.outputs,
    kernels,
    checks: ctx.checks,
    weightsBytes,
  };
  return { plan, shaders, weights, layout };
}
