// Placeholder: replaced below.
import type { LoopKernel } from '../../kernel/kernel.js';
import type { KernelContext } from './kernel.js';

export interface GemmNeeds {
  packed: { floats: number; pack: (dst: string, pointer: (buffer: string) => string) => string }[];
  scratchFloats: number[];
}

export interface GemmMatch {
  readonly conv: boolean;
}

export function matchGemm(_k: LoopKernel, _ctx: KernelContext): GemmMatch | undefined {
  return undefined;
}

export function renderGemmKernel(_m: GemmMatch, _ctx: KernelContext, _needs: GemmNeeds): string {
  return '';
}
