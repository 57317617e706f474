// ONNX backend test cases: discovery, loading, running on a target, comparing — the semantics of the
// reference runner (onnx/backend/test/runner), as ../shared/onnx-tests/README.md describes them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AicError, fail, type ErrorCode } from '../ir/error.js';
import { Tensor } from '../ir/tensor.js';
import { numel } from '../ir/shape.js';
import { readOptionalProto, readSequenceProto, readTensorProto } from '../runtime/tensor-proto.js';
import type { TypeProto } from '../frontend/onnx/proto.js';
import { readNpy } from '../runtime/npy.js';
import { compareTensors, type Comparison } from '../runtime/compare.js';
import { externalDataReader } from './model-file.js';
import { loadModelProto } from './model-file.js';
import { importModel } from '../frontend/onnx/import.js';
import { compileForTarget } from './targets.js';

export interface TestCase {
  suite: string;
  name: string;
  model: string;
  /** Folders test_data_set_N, or for a light model the expected output file. */
  dataSets: string[];
  /** Light models: inputs are generated, tolerances come from real/test_<net>/data.json. */
  light?: { expected: string; rtol: number; atol: number };
}

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface OutputReport {
  index: number;
  name: string;
  comparison: Comparison;
}

export interface CaseResult {
  suite: string;
  name: string;
  status: CaseStatus;
  /** Failure category: the error code (E_UNSUPPORTED, E_MISMATCH, …) or `skipped`. */
  category?: string;
  reason?: string;
  ms: number;
  outputs: OutputReport[];
  /** Where the numbers came from, when not the target itself (e.g. ptx without a GPU). */
  note?: string;
}

export interface RunOptions {
  target: string;
  rtol?: number;
  atol?: number;
}

/** Per-case tolerances of ONNX's own reference backend test (tests/python/backend_reference_test.py, as
 * ../shared/onnx-tests/README.md records): its expected DFT outputs carry float32 FFT rounding noise, and
 * the bfloat16 Celu expansion rounds every step to bfloat16. */
function caseTolerance(name: string): { rtol?: number; atol?: number } {
  if (/^test_dft(_axis|_inverse)?(_opset19)?$/.test(name)) return { atol: 1e-6 };
  if (name === 'test_celu_bfloat16_expanded') return { rtol: 1e-2, atol: 1e-2 };
  return {};
}

/** Cases whose expected outputs come from a random generator, with the reason. */
export function skipReason(name: string): string | undefined {
  if (name.startsWith('test_bernoulli')) return 'the expected output comes from a random generator';
  if (/^test_training_dropout(_default)?(_mask)?$/.test(name) || name === 'test_training_dropout_default_mask') {
    return 'dropout with ratio > 0 in training mode draws random masks';
  }
  return undefined;
}

/** The test case at a path: a folder with model.onnx and test_data_set_N/, or a model file with them beside it. */
export function loadTestCase(path: string, dataDir?: string): TestCase {
  if (!existsSync(path)) fail('E_IO', `${path}: no such file or folder`);
  const isDir = statSync(path).isDirectory();
  const model = isDir ? join(path, 'model.onnx') : path;
  if (!existsSync(model)) fail('E_IO', `${path}: no model.onnx in this folder`);
  const dir = dataDir ?? dirname(model);
  const dataSets = existsSync(dir)
    ? readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort().map((d) => join(dir, d))
    : [];
  const name = isDir ? basename(path) : basename(model, '.onnx');
  const light = lightInfo(model);
  if (dataSets.length === 0 && !light) fail('E_IO', `${path}: no test_data_set_N folders${dataDir ? ` in ${dataDir}` : ''}`);
  return { suite: basename(dirname(isDir ? path : model)), name, model, dataSets, ...(light ? { light } : {}) };
}

/** A light model (light/light_<net>.onnx) has its expected output beside it and tolerances in real/. */
function lightInfo(model: string): TestCase['light'] | undefined {
  const m = /^light_(.+)\.onnx$/.exec(basename(model));
  if (!m) return undefined;
  const expected = join(dirname(model), `light_${m[1]}_output_0.pb`);
  if (!existsSync(expected)) return undefined;
  let rtol = 1e-3;
  let atol = 1e-7;
  const json = join(dirname(model), '..', 'real', `test_${m[1]}`, 'data.json');
  if (existsSync(json)) {
    const d = JSON.parse(readFileSync(json, 'utf8')) as { rtol?: number; atol?: number };
    rtol = d.rtol ?? rtol;
    atol = d.atol ?? atol;
  }
  return { expected, rtol, atol };
}

/** Every case under a folder of the ONNX backend test layout (node/, simple/, pytorch-*, light/). */
export function discoverCases(root: string): TestCase[] {
  const cases: TestCase[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 4) return;
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    if (entries.some((e) => e.name === 'model.onnx')) {
      cases.push(loadTestCase(dir));
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
      else if (/^light_.+\.onnx$/.test(e.name)) {
        const tc = loadTestCase(join(dir, e.name));
        if (tc.light) cases.push({ ...tc, suite: 'light' });
      }
    }
  };
  walk(root, 0);
  return cases;
}

function readTensorFile(path: string): Tensor {
  const bytes = readFileSync(path);
  return path.endsWith('.npy') ? readNpy(bytes, path) : readTensorProto(bytes, path).tensor;
}

/** Inputs of one data set, keyed by the model's declared (non-initializer) input names. */
function dataSetInputs(tc: TestCase, set: string, declared: readonly string[], shapes: (name: string) => readonly number[] | undefined): Map<string, Tensor> {
  const inputs = new Map<string, Tensor>();
  if (tc.light) {
    // The reference runner: arange(n)/n in float64, cast to float32, unknown dims as 1.
    for (const name of declared.filter((d) => d !== '')) {
      const shape = shapes(name) ?? [1];
      const n = numel(shape);
      const t = Tensor.zeros('f32', shape);
      for (let i = 0; i < n; i++) (t.data as Float32Array)[i] = i / n;
      inputs.set(name, t);
    }
    return inputs;
  }
  return readDataSet(set, declared);
}

/** A test_data_set folder's inputs: input_K.pb (or .npy) feeds the K-th declared input. */
export function readDataSet(set: string, declared: readonly string[]): Map<string, Tensor> {
  const inputs = new Map<string, Tensor>();
  declared.forEach((name, k) => {
    if (name === '') return;
    for (const ext of ['pb', 'npy']) {
      const file = join(set, `input_${k}.${ext}`);
      if (existsSync(file)) {
        inputs.set(name, readTensorFile(file));
        break;
      }
    }
  });
  return inputs;
}

/** A .pb file holding a value of an ONNX type: a TensorProto, or for a sequence or an optional a
 * SequenceProto or an OptionalProto (contents: tensors, or null for an empty optional). */
function readValueFile(path: string, type: TypeProto | null | undefined): Tensor | Tensor[] | null {
  if (type?.sequenceType) return readSequenceProto(readFileSync(path), path).tensors;
  if (type?.optionalType) return readOptionalProto(readFileSync(path), path).value;
  return readTensorFile(path);
}

/** Expected outputs, one list per ONNX output: a tensor, a sequence's tensors, an optional's content. */
function expectedOutputs(tc: TestCase, set: string, types: readonly (TypeProto | null)[]): Tensor[][] {
  if (tc.light) return [[readTensorFile(tc.light.expected)]];
  return types.map((type, k) => {
    const file = join(set, `output_${k}.pb`);
    if (!existsSync(file)) fail('E_IO', `${set}: output_${k}.pb is missing`);
    const v = readValueFile(file, type);
    return v === null ? [] : Array.isArray(v) ? v : [v];
  });
}

/** Sequence and optional inputs of a data set (their files are SequenceProto / OptionalProto); their
 * tensors also go into `feed` under the graph input names the importer gives them (ImportOptions.structuredInput). */
function structuredInputs(set: string, declared: readonly { name: string; type: TypeProto | null }[], feed: Map<string, Tensor>): Map<string, Tensor | Tensor[] | null> {
  const out = new Map<string, Tensor | Tensor[] | null>();
  declared.forEach(({ name, type }, k) => {
    if (type?.tensorType || !(type?.sequenceType || type?.optionalType)) return;
    const file = join(set, `input_${k}.pb`);
    if (!existsSync(file)) return;
    const v = readValueFile(file, type);
    out.set(name, v);
    if (Array.isArray(v)) v.forEach((t, i) => feed.set(`${name}[${i}]`, t));
    else if (v) feed.set(name, v);
  });
  return out;
}

/** Run one case on a target and compare every output of every data set. */
export async function runCase(tc: TestCase, opts: RunOptions): Promise<CaseResult> {
  const start = performance.now();
  const base = { suite: tc.suite, name: tc.name, outputs: [] as OutputReport[] };
  const skip = skipReason(tc.name);
  if (skip) return { ...base, status: 'skipped', category: 'skipped', reason: skip, ms: 0 };
  try {
    const outputs: OutputReport[] = [];
    let note: string | undefined;
    for (const set of tc.light ? [tc.light.expected] : tc.dataSets) {
      // Import per data set: inputs that must be compile-time constants take this set's values.
      const proto = loadModelProto(tc.model);
      const graph = proto.graph!;
      const inits = new Set(graph.initializer.map((t) => t.name));
      const declared = graph.input.filter((v) => !inits.has(v.name));
      const shapes = new Map(declared.map((v) => [v.name, (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.value === 'dimValue' ? Number(d.dimValue) : 1))]));
      // Sequence and optional inputs are not tensors: leave their files unread (the import says why it stops).
      const inputs = dataSetInputs(tc, set, declared.map((v) => (v.type?.tensorType ? v.name : '')), (n) => shapes.get(n));
      const structured = tc.light ? new Map<string, Tensor | Tensor[] | null>() : structuredInputs(set, declared, inputs);
      const model = importModel(proto, {
        where: tc.model, readExternal: externalDataReader(tc.model), specialize: (name) => inputs.get(name), structuredInput: (name) => structured.get(name),
      });
      const compiled = await compileForTarget(opts.target, model);
      note = compiled.note;
      const feed = model.graph.inputs.map((v) => inputs.get(v.name ?? '') ?? fail('E_IO', `${set}: no data for input '${v.name}'`));
      const actual = await compiled.run(feed);
      const expected = expectedOutputs(tc, set, graph.output.map((o) => o.type));
      // A sequence or optional output is several graph outputs (model.outputParts): compare it tensor by tensor.
      const parts = model.outputParts;
      if (parts.length !== expected.length) fail('E_MISMATCH', `the model gives ${parts.length} outputs, the test expects ${expected.length}`);
      const rtol = opts.rtol ?? tc.light?.rtol ?? caseTolerance(tc.name).rtol ?? 1e-3;
      const atol = opts.atol ?? tc.light?.atol ?? caseTolerance(tc.name).atol ?? 1e-7;
      let at = 0;
      parts.forEach((n, k) => {
        const want = expected[k]!;
        const name = model.outputNames[k] ?? `output_${k}`;
        if (n !== want.length) fail('E_MISMATCH', `output ${k} '${name}' has ${n} tensors, the test expects ${want.length}`);
        want.forEach((e, i) => outputs.push({ index: k, name: n === 1 && !graph.output[k]?.type?.sequenceType ? name : `${name}[${i}]`, comparison: compareTensors(actual[at + i]!, e, { rtol, atol }) }));
        at += n;
      });
      if (at !== actual.length) fail('E_MISMATCH', `the model gives ${actual.length} tensors, the test expects ${at}`);
    }
    const bad = outputs.find((o) => !o.comparison.ok);
    const ms = performance.now() - start;
    if (bad) {
      return { ...base, outputs, status: 'failed', category: 'E_MISMATCH', reason: `output ${bad.index} '${bad.name}': ${bad.comparison.reason}`, ms, ...(note ? { note } : {}) };
    }
    return { ...base, outputs, status: 'passed', ms, ...(note ? { note } : {}) };
  } catch (e) {
    const ms = performance.now() - start;
    if (e instanceof AicError) return { ...base, status: 'failed', category: e.code, reason: e.message, ms };
    const err = e instanceof Error ? e : new Error(String(e));
    const code: ErrorCode | 'internal' = err instanceof RangeError ? 'E_LIMIT' : 'internal';
    return { ...base, status: 'failed', category: code, reason: `${err.name}: ${err.message}`, ms };
  }
}
