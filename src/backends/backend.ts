// The backend interface: what a hardware vendor implements. A backend renders a kernel-IR Program into
// files (in memory), and — where this machine can — builds and runs them. It never sees ONNX.
//
//   emit    Program -> Artifact (files by name; pure, no I/O)
//   build   the artifact's files, already written in `dir` -> Built (what run needs, paths relative to dir)
//   run     Built + inputs -> outputs
//
// The driver does the rest for every backend alike (src/driver/backend-target.ts): `aic compile --target T`
// writes the artifact atomically (and builds it with --build), `aic run/test/conformance/bench --target T`
// build once per artifact under the cache folder and run. docs/WRITING-A-BACKEND.md walks through one.
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
  /** Embed weights in the source instead of a weights file beside it. */
  embedWeights?: boolean;
  /** Target-specific knobs (`prefix` for cpu, `sm` for ptx). */
  readonly [key: string]: unknown;
}

export interface BuildOptions {
  /** The CPU to build for (`native`, `x86-64-v3`, `armv8.2-a`, …): `--march`. */
  march?: string;
  /** Target-specific knobs (`sanitize` for cpu). */
  readonly [key: string]: unknown;
}

/** What `build` made: a folder with the built artifact in it. */
export interface Built {
  readonly dir: string;
  /** Whatever the backend's `run` needs (an executable), relative to `dir`. */
  readonly entry: string;
  /** Said with every result when the numbers do not come from the target itself (ptx without a GPU). */
  readonly note?: string;
}

export interface RunOptions {
  threads?: number;
  /** Timed runs after warm-up: `run` then also reports their statistics through `onTiming`. */
  runs?: number;
  warmup?: number;
  onTiming?: (t: Timing) => void;
}

/** Latency of runs, measured inside the built artifact (process start and I/O excluded). */
export interface Timing {
  readonly runs: number;
  readonly threads: number;
  readonly medianMs: number;
  readonly minMs: number;
}

export interface Backend {
  /** `cpu`, `wgsl`, `ptx`, `acme-npu`. */
  readonly name: string;
  readonly description: string;
  /** Composite ops the backend renders itself (kept from the decomposition for it only). */
  readonly composites?: readonly string[];
  /** Render a Program. Refuse what it cannot render with E_UNSUPPORTED naming the op or dtype. */
  emit(p: Program, opts?: EmitOptions): Artifact;
  /** Build the artifact whose files are written in `dir`; reject with E_BUILD naming the tool's first error. */
  build?(a: Artifact, dir: string, opts?: BuildOptions): Promise<Built>;
  /** Run on inputs in the order of the Program's inputs. */
  run?(b: Built, p: Program, inputs: readonly Tensor[], opts?: RunOptions): Promise<Tensor[]>;
  /** Why this machine cannot build or run it (a missing tool), or undefined when it can. */
  unavailable?(): string | undefined;
}

const backends = new Map<string, Backend>();

/** Add a backend to the registry (src/driver/backend-target.ts's registerBackend also makes it a target). */
export function addBackend(b: Backend): Backend {
  backends.set(b.name, b);
  return b;
}

export const findBackend = (name: string): Backend | undefined => backends.get(name);

export function getBackend(name: string): Backend {
  return backends.get(name) ?? fail('E_USAGE', `unknown backend '${name}'`, `backends: ${[...backends.keys()].join(', ')}`);
}

export const allBackends = (): Backend[] => [...backends.values()];
