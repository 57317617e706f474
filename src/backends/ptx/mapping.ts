// Which grid mapping a kernel gets (./kernel.ts): GEMM tiles (./gemm.ts), one thread per point, or one block per point with its
// reductions shared by the block's threads — for few points with long reductions (softmax rows, a sum over
// everything, a GEMV), where a thread per point would leave most of the GPU idle.
import { allStmts, type LoopKernel } from '../../kernel/kernel.js';
import { pointsOf, type Mapping } from './kernel.js';
import { tileableGemm } from './gemm.js';

/** Reduction length past which a block per point pays, when the points alone do not fill the GPU. */
const GROUP_REDUCTION = 64;
/** Points below which a kernel with long reductions runs a block per point. */
const GROUP_POINTS = 16384;
/** Reduction length past which a block per point pays however many points there are. */
const GROUP_ALWAYS = 4096;

export function chooseMapping(k: LoopKernel): Mapping {
  if (tileableGemm(k)) return 'tiled';
  // A failed check returns early, which a block waiting at a barrier cannot afford.
  if ([...allStmts(k.body)].some((s) => s.kind === 'check')) return 'threads';
  let longest = 0;
  for (const s of k.body) {
    if (s.kind === 'reduce' && s.combiner !== 'argmax' && s.combiner !== 'argmin') longest = Math.max(longest, pointsOf(s.axes, k));
  }
  if (longest === 0) return 'threads';
  if (longest >= GROUP_ALWAYS) return 'groups';
  return longest >= GROUP_REDUCTION && pointsOf(k.domain, k) <= GROUP_POINTS ? 'groups' : 'threads';
}
