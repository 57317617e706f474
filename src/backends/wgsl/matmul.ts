// Tiled GEMM kernels (placeholder until the tiled renderer lands).
import type { LoopKernel } from '../../kernel/kernel.js';
import type { KernelShader, RenderContext } from './render.js';

export function renderGemm(_k: LoopKernel, _ctx: RenderContext): KernelShader | undefined {
  return undefined;
}
