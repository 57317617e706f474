// The backend interface: what a hardware vendor implements. A backend renders a kernel-IR Program into
// files (in memory), and — where this machine can — builds and runs them. It never sees ONNX.
import type { Program } from '../kernel/program.js';
import type { Tensor } from '../ir/tensor.js';
import { fail } from '../ir/error.js';

/** Files of an artifact, by relative path. Binary files (weights) are bytes. */
export interface Artifact {
  readonly files: ReadonlyMap<string, string | Uint8Array>;
  /** The file a person opens first (model.cpp, kernels.ptx, …). */
  readonly main: string;
}

export interface EmitOptions {
  /** Embed weights in the source instead of a weights.bin beside it. */
  embedWeights?: boolean;
  /** Target-specific knobs (`march` for cpu, `sm` for ptx). */
  readonly [key: string]: unknown;
}

/** What `build` made: a folder with the built artifact in it. */
export interface Built {
  readonly dir: string;
  /** Whatever the backend's `run` needs (an executable's path, a module). */
  readonly entry: string;
  /** Said with every result when the numbers do not come from the target itself (ptx without a GPU). */
  readonly note?: string;
}

export interface RunOptions {
  threads?: number;
}

export interface Backend {
  /** `cpu`, `wgsl`, `ptx`, `acme-npu`. */
  readonly name: string;
  readonly description: string;
  /** Composite ops the backend renders itself (kept from the decomposition for it only). */
  readonly composites?: readonly string[];
  emit(p: Program, opts?: EmitOptions): Artifact;
  /** Compile the artifact's files, written in `dir`; reject with E_BUILD naming the tool's first error. */
  build?(a: Artifact, dir: string): Promise<Built>;
  /** Run on inputs in the order of the Program's inputs. */
  run?(b: Built, p: Program, inputs: readonly Tensor[], opts?: RunOptions): Promise<Tensor[]>;
  /** Why this machine cannot build or run it (a missing tool), or undefined when it can. */
  unavailable?(): string | undefined;
}

const backends = new Map<string, Backend>();

export function registerBackend(b: Backend): Backend {
  backends.set(b.name, b);
  return b;
}

export const findBackend = (name: string): Backend | undefined => backends.get(name);

export function getBackend(name: string): Backend {
  return backends.get(name) ?? fail('E_USAGE', `unknown backend '${name}'`, `backends: ${[...backends.keys()].join(', ')}`);
}

export const allBackends = (): Backend[] => [...backends.values()];
