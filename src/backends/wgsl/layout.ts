// Where every buffer of a Program lives on the GPU. A shader binds a few large storage buffers
// ("segments"), never one binding per tensor: WebGPU guarantees only 8 storage buffers per shader stage
// (and a densenet concat reads dozens of tensors), and one arena keeps the memory plan's reuse.
//
//   w0, w1, …   the weights, packed in order, each segment at most 128 MiB (the default binding limit);
//               their bytes are weights.bin, uploaded once
//   io          graph inputs and outputs
//   arena       the temps, at offsets planned again for GPU element sizes (below)
//
// Every segment is an array<u32>: elements are 32-bit words (bool, 8- and 16-bit ints widened to one word,
// f16/bf16 stored as the f32 they equal, 64-bit ints as two), and a kernel reads a typed element with a
// bitcast. Typed views of one buffer would need several bindings of it, and WebGPU forbids overlapping
// writable bindings. Because widened elements change sizes, the arena is planned again
// (src/passes/memory-plan.ts) on the Program with each temp retyped to its GPU word type.
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { isStatic, numel } from '../../ir/shape.js';
import type { Buffer, Program } from '../../kernel/program.js';
import { planMemory } from '../../passes/memory-plan.js';
import { checkDType, wordsPer } from './spelling.js';

export type SegmentRole = 'weights' | 'io' | 'arena';

export interface Segment {
  readonly name: string;
  readonly role: SegmentRole;
  /** Size in 32-bit words (at least 1: WebGPU has no empty bindings). */
  readonly words: number;
  /** Weights: where the segment's bytes start in weights.bin. */
  readonly binOffset?: number;
}

export interface Placement {
  readonly segment: string;
  /** Offset of element 0, in words. */
  readonly offset: number;
  /** Elements and words. */
  readonly elements: number;
  readonly words: number;
}

export interface Layout {
  readonly segments: readonly Segment[];
  readonly placement: ReadonlyMap<string, Placement>;
  /** Arena bytes as planned for the Program's own element sizes, and as planned again for the GPU. */
  readonly arenaBytes: number;
}

/** The default maxStorageBufferBindingSize: no segment of weights is larger. */
export const MAX_SEGMENT_BYTES = 128 * 1024 * 1024;

/** The dtype whose element size a GPU element of t has (for planning the arena). */
function gpuStorageType(t: DType): DType {
  const info = DTYPE_INFO[t];
  if (info.big || info.bits === 32) return t;
  if (info.kind === 'float') return 'f32';
  return info.kind === 'int' ? 'i32' : 'u32';
}

/** Words are aligned to 16 (64 bytes) within a segment, as the arena planner aligns. */
const align = (words: number): number => Math.ceil(words / 16) * 16;

export function planLayout(p: Program): Layout {
  for (const b of p.buffers) {
    checkDType(b.dtype, `buffer @${b.name}${b.label ? ` (${b.label})` : ''}`);
    if (!isStatic(b.shape)) {
      fail('E_UNSUPPORTED', `wgsl: buffer @${b.name}${b.label ? ` (${b.label})` : ''} has symbolic shape [${b.shape.join(',')}]; WGSL shaders are rendered for static shapes`,
        'aic run/test specialize the program to the shapes of the inputs; for an artifact, give the model static input shapes');
    }
  }
  const placement = new Map<string, Placement>();
  const segments: Segment[] = [];
  const sizeOf = (b: Buffer): { elements: number; words: number } => {
    const elements = numel(b.shape as number[]);
    return { elements, words: elements * wordsPer(b.dtype) };
  };

  // Weights, packed into segments of at most MAX_SEGMENT_BYTES; weights.bin is the segments one after another.
  let seg = { name: 'w0', words: 0, binOffset: 0 };
  const closeWeights = (): void => {
    if (seg.words > 0) segments.push({ name: seg.name, role: 'weights', words: seg.words, binOffset: seg.binOffset });
  };
  for (const b of p.buffers) {
    if (b.role !== 'weight') continue;
    const { elements, words } = sizeOf(b);
    if (words * 4 > MAX_SEGMENT_BYTES) fail('E_LIMIT', `wgsl: weight @${b.name} (${words * 4} bytes) is larger than one storage binding (${MAX_SEGMENT_BYTES} bytes)`);
    if ((seg.words + words) * 4 > MAX_SEGMENT_BYTES) {
      closeWeights();
      seg = { name: `w${segments.length}`, words: 0, binOffset: seg.binOffset + seg.words * 4 };
    }
    placement.set(b.name, { segment: seg.name, offset: seg.words, elements, words });
    seg.words = align(seg.words + words);
  }
  closeWeights();

  // Inputs and outputs (an output may be an input or a weight: it is read from where it lives).
  let io = 0;
  for (const b of p.buffers) {
    if (b.role !== 'input' && b.role !== 'output') continue;
    const { elements, words } = sizeOf(b);
    placement.set(b.name, { segment: 'io', offset: io, elements, words });
    io = align(io + words);
  }
  if (io > 0) segments.push({ name: 'io', role: 'io', words: io });

  // Temps: the arena, planned again with GPU element sizes.
  const retyped: Program = { ...p, buffers: p.buffers.map((b) => (b.role === 'temp' ? { ...b, dtype: gpuStorageType(b.dtype) } : b)) };
  const { program: planned } = planMemory(retyped);
  for (const b of planned.buffers) {
    if (b.role !== 'temp') continue;
    const { elements, words } = sizeOf(b);
    if (b.offset === undefined) fail('E_VERIFY', `wgsl: temp @${b.name} has no arena offset`);
    if (b.offset % 4 !== 0) fail('E_VERIFY', `wgsl: temp @${b.name} is not word-aligned`);
    placement.set(b.name, { segment: 'arena', offset: b.offset / 4, elements, words });
  }
  if (planned.arenaBytes > 0) segments.push({ name: 'arena', role: 'arena', words: Math.ceil(planned.arenaBytes / 4) });
  return { segments, placement, arenaBytes: planned.arenaBytes };
}

/** Bytes of GPU memory the layout needs. */
export const layoutBytes = (l: Layout): number => l.segments.reduce((s, x) => s + x.words * 4, 0);

export const isWideType = (t: DType): boolean => DTYPE_INFO[t].big;
