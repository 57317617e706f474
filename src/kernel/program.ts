// A Program: what a backend compiles. Buffers (graph inputs and outputs, weights with their data, and
// temporaries placed at byte offsets of one arena), and kernels in the order they run.
import { DTYPE_INFO, type DType } from '../ir/dtype.js';
import { fail } from '../ir/error.js';
import { isStatic, numel, type Dim } from '../ir/shape.js';
import type { Tensor } from '../ir/tensor.js';
import type { Kernel } from './kernel.js';

export type BufferRole = 'input' | 'output' | 'weight' | 'temp';

export interface Buffer {
  /** `in0`, `out0`, `w3`, `t12`: printed `@t12`. */
  readonly name: string;
  readonly dtype: DType;
  /** Logical shape, row-major; symbolic dims are sizes fixed when the program runs. */
  readonly shape: readonly Dim[];
  readonly role: BufferRole;
  /** The graph value it holds, for readers. */
  readonly label?: string;
  /** Weights: the constant data. */
  readonly data?: Tensor;
  /** Temps: the byte offset in the arena; undefined for a temp whose size is symbolic (allocated when run). */
  readonly offset?: number;
}

export interface Program {
  readonly name: string;
  readonly buffers: readonly Buffer[];
  /** Buffers fed by the graph's inputs, in order. */
  readonly inputs: readonly string[];
  /** Buffers holding the graph's outputs, in order (an input or a weight may be one; names may repeat). */
  readonly outputs: readonly string[];
  readonly kernels: readonly Kernel[];
  /** Bytes of the arena that holds every temp with an offset. */
  readonly arenaBytes: number;
}

/** Arena offsets are multiples of this many bytes. */
export const ALIGNMENT = 64;

export const alignUp = (n: number, a = ALIGNMENT): number => Math.ceil(n / a) * a;

/** Bytes of a buffer's elements (its dtype's size, 2 for f16), or undefined when its shape is symbolic. */
export function bufferBytes(b: Pick<Buffer, 'dtype' | 'shape'>): number | undefined {
  return isStatic(b.shape) ? numel(b.shape) * DTYPE_INFO[b.dtype].bytes : undefined;
}

export function bufferMap(p: Pick<Program, 'buffers'>): Map<string, Buffer> {
  return new Map(p.buffers.map((b) => [b.name, b]));
}

export function getBuffer(p: Pick<Program, 'buffers'>, name: string): Buffer {
  return p.buffers.find((b) => b.name === name) ?? fail('E_VERIFY', `program: no buffer @${name}`);
}
