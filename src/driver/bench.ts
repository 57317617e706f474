// `aic bench`: the median latency of a compiled model, measured inside the built artifact (process start,
// compilation and I/O excluded), and with `vsOrt` ONNX Runtime's on the same inputs with the same number of
// intra-op threads and all graph optimizations, in the same process run. Inputs are seeded random values
// of each input's dtype and shape (symbolic dims from `dims`, else 1) unless given.
import { availableParallelism } from 'node:os';
import { fail } from '../ir/error.js';
import { DTYPE_INFO, isFloat, type DType } from '../ir/dtype.js';
import { numel } from '../ir/shape.js';
import { Tensor } from '../ir/tensor.js';
import { compareTensors } from '../runtime/compare.js';
import type { Timing } from '../backends/backend.js';
import { findBackend } from '../backends/backend.js';
import { loadModel } from './model-file.js';
import { compileWithBackend } from './backend-target.js';
import { compileForTarget } from './targets.js';

export interface BenchOptions {
  target: string;
  threads?: number;
  runs?: number;
  warmup?: number;
  vsOrt?: boolean;
  /** Sizes of symbolic dims. */
  dims?: ReadonlyMap<string, number>;
  /** Given inputs by name. */
  inputs?: ReadonlyMap<string, Tensor>;
  seed?: number;
  log?: (line: string) => void;
}

export interface BenchResult {
  model: string;
  target: string;
  threads: number;
  runs: number;
  medianMs: number;
  minMs: number;
  ort: { medianMs: number; minMs: number } | null;
  ratio: number | null;
  /** Largest |aic - ORT| over the outputs (a sanity check of the numbers benchmarked). */
  ortMaxAbsDiff?: number;
  /** Seconds the target's build took (0 when it was cached). */
  buildSeconds?: number;
}

export const MIN_RUNS = 20;

/** Seeded random inputs: floats in [-1, 1], ints in [0, 10), bools. */
export function randomInput(dtype: DType, shape: readonly number[], seed: number): Tensor {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const n = numel(shape);
  const values: (number | bigint | boolean)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r = next();
    values[i] = dtype === 'bool' ? r < 0.5 : isFloat(dtype) ? r * 2 - 1 : DTYPE_INFO[dtype].big ? BigInt(Math.floor(r * 10)) : Math.floor(r * 10);
  }
  return Tensor.from(dtype, shape, values);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export async function bench(modelPath: string, o: BenchOptions): Promise<BenchResult> {
  const runs = o.runs ?? 50;
  const warmup = o.warmup ?? 5;
  if (runs < MIN_RUNS) fail('E_USAGE', `--runs ${runs}: a median needs at least ${MIN_RUNS} runs`);
  const threads = o.threads ?? availableParallelism();
  const model = loadModel(modelPath, { specialize: (name) => o.inputs?.get(name) });
  const inputs = model.graph.inputs.map((v, i) => {
    const given = o.inputs?.get(v.name ?? '');
    if (given) return given;
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : o.dims?.get(d) ?? 1));
    return randomInput(v.dtype, shape, (o.seed ?? 1) * 7919 + i);
  });
  const log = o.log ?? (() => {});
  let timing: Timing | undefined;
  let outputs: Tensor[];
  let buildSeconds: number | undefined;
  const backend = findBackend(o.target);
  if (backend?.run) {
    log(`bench: compiling for ${o.target}…`);
    const t0 = performance.now();
    const compiled = await compileWithBackend(backend, model, { run: { threads, runs, warmup, onTiming: (t) => (timing = t) } });
    buildSeconds = (performance.now() - t0) / 1000;
    log(`bench: timing ${runs} runs after ${warmup} warm-up runs…`);
    outputs = await compiled.run(inputs);
    if (!timing) fail('E_RUNTIME', `${o.target}: the backend did not report timings`);
  } else {
    // Targets without an artifact (interp, kir): timed here, in JavaScript.
    const compiled = await compileForTarget(o.target, model);
    for (let i = 0; i < warmup; i++) await compiled.run(inputs);
    const ms: number[] = [];
    outputs = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      outputs = await compiled.run(inputs);
      ms.push(performance.now() - t);
    }
    timing = { runs, threads: 1, medianMs: median(ms), minMs: Math.min(...ms) };
  }
  const t = timing as Timing;
  let ort: BenchResult['ort'] = null;
  let ortMaxAbsDiff: number | undefined;
  if (o.vsOrt) {
    log(`bench: ONNX Runtime, ${threads} intra-op threads…`);
    const r = await benchOrt(modelPath, model.graph.inputs.map((v) => v.name ?? ''), inputs, threads, runs, warmup);
    ort = { medianMs: round(r.medianMs), minMs: round(r.minMs) };
    ortMaxAbsDiff = Math.max(0, ...outputs.map((a, i) => (r.outputs[i] ? compareTensors(a, r.outputs[i]!, { rtol: 0, atol: 0 }).maxAbsErr : 0)));
  }
  return {
    model: modelPath,
    target: o.target,
    threads: backend?.run ? t.threads : 1,
    runs,
    medianMs: round(t.medianMs),
    minMs: round(t.minMs),
    ort,
    // From the rounded figures, so that the JSON's ratio is its medianMs / ort.medianMs.
    ratio: ort ? round(round(t.medianMs) / ort.medianMs) : null,
    ...(ortMaxAbsDiff !== undefined ? { ortMaxAbsDiff } : {}),
    ...(buildSeconds !== undefined ? { buildSeconds: round(buildSeconds) } : {}),
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

const ORT_TYPES: Partial<Record<DType, string>> = {
  f32: 'float32', f64: 'float64', i8: 'int8', i16: 'int16', i32: 'int32', i64: 'int64', u8: 'uint8', u16: 'uint16', u32: 'uint32', u64: 'uint64', bool: 'bool',
};

interface OrtTensorLike { readonly type: string; readonly dims: readonly number[]; readonly data: unknown }

/** ONNX Runtime on the same inputs: median and min of `runs` session.run calls after `warmup`. */
async function benchOrt(modelPath: string, names: readonly string[], inputs: readonly Tensor[], threads: number, runs: number, warmup: number): Promise<{ medianMs: number; minMs: number; outputs: Tensor[] }> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return fail('E_UNSUPPORTED', '--vs ort needs onnxruntime-node', 'npm install onnxruntime-node');
  }
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3,
  });
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  names.forEach((name, i) => {
    const t = inputs[i]!;
    const type = ORT_TYPES[t.dtype] ?? fail('E_UNSUPPORTED', `--vs ort: input '${name}' is ${t.dtype}, which the comparison does not feed yet`);
    const data = t.dtype === 'bool' ? Uint8Array.from(t.data as Uint8Array) : t.data;
    feeds[name] = new ort.Tensor(type as 'float32', data as Float32Array, [...t.shape]);
  });
  let result: Record<string, OrtTensorLike> = {};
  for (let i = 0; i < warmup; i++) result = (await session.run(feeds)) as unknown as Record<string, OrtTensorLike>;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = (await session.run(feeds)) as unknown as Record<string, OrtTensorLike>;
    ms.push(performance.now() - t0);
  }
  const outputs = session.outputNames.map((n) => {
    const r = result[n]!;
    const entry = Object.entries(ORT_TYPES).find(([, v]) => v === r.type);
    if (!entry || r.type === 'bool') return undefined;
    const dtype = entry[0] as DType;
    return new Tensor(dtype, [...r.dims], new DTYPE_INFO[dtype].array(r.data as ArrayLike<number> & ArrayLike<bigint> as never));
  });
  await session.release();
  return { medianMs: median(ms), minMs: Math.min(...ms), outputs: outputs.filter((x): x is Tensor => x !== undefined) };
}
