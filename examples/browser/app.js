// The page: an .onnx file → aic's compiler core (import, lower, canonicalize, schedule, plan, WGSL) →
// WebGPU (compile every shader, create the pipelines, run) → outputs and timings. Everything below runs in
// the browser; aic's modules come from dist/ (npm run build). WgslRunner runs the Program: its GPU kernels
// on the page's device, and what WGSL cannot hold (If/Loop/Scan, TopK, NonZero, Unique, f64 kernels) on
// the page's JavaScript between them.
import { decodeModelProto } from '/dist/frontend/onnx/decode.js';
import { importModel } from '/dist/frontend/onnx/import.js';
import { optimizeModel } from '/dist/driver/pipeline.js';
import { compileKir } from '/dist/driver/kir.js';
import { programSymbols, specializeProgram } from '/dist/passes/specialize.js';
import { emitWgsl } from '/dist/backends/wgsl/emit.js';
import { WgslRunner } from '/dist/backends/wgsl/host.js';
import { splitProgram } from '/dist/backends/wgsl/steps.js';
import { Tensor } from '/dist/ir/tensor.js';

const $ = (id) => document.getElementById(id);
const status = (text) => { $('status').textContent = text; };

/** The compiled model: what the page and the tests read back (window.aicResult). */
async function compileAndRun(bytes, name, { run = true } = {}) {
  const t = { start: performance.now() };
  const proto = decodeModelProto(bytes, name);
  const model = importModel(proto, { where: name });
  t.imported = performance.now();
  const { graph } = optimizeModel(model, { target: 'wgsl' });
  let { program } = compileKir(graph);
  // Shaders are rendered for static shapes: a symbolic dim of an input (a batch N) is taken as 1. A size
  // the data decides (a NonZero count) stays a symbol; WgslRunner renders the steps after it when it is known.
  const inputSyms = new Set(program.inputs.flatMap((n) => program.buffers.find((b) => b.name === n).shape.filter((d) => typeof d === 'string')));
  const syms = programSymbols(program);
  if (syms.length > 0 && syms.every((s) => inputSyms.has(s))) program = specializeProgram(program, new Map(syms.map((s) => [s, 1])));
  // The shaders of the GPU steps (one step, the whole Program, unless some kernels run on the host).
  const steps = splitProgram(program);
  const artifacts = steps.filter((s) => s.kind === 'gpu' && programSymbols(s.program).length === 0).map((s) => emitWgsl(s.program));
  t.compiled = performance.now();
  const result = {
    name,
    nodes: model.onnxNodes,
    kernels: artifacts.reduce((n, a) => n + a.plan.kernels.length, 0),
    hostSteps: steps.filter((s) => s.kind !== 'gpu').length,
    shaders: artifacts.flatMap((a) => [...a.shaders.values()]),
    gpuBytes: artifacts.reduce((n, a) => n + a.plan.segments.reduce((m, s) => m + s.words * 4, 0), 0),
    ms: {},
  };
  result.ms.import = t.imported - t.start;
  result.ms.compile = t.compiled - t.imported;
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu)');
  const device = await requestDevice();
  const t0 = performance.now();
  const runner = new WgslRunner(device, program);
  await runner.prepare();
  result.ms.pipelines = performance.now() - t0;
  result.validated = true;
  if (run) {
    const inputs = program.inputs.map((n) => {
      const b = program.buffers.find((x) => x.name === n);
      const shape = b.shape.map((d) => (typeof d === 'number' ? d : 1));
      const count = shape.reduce((p, d) => p * d, 1);
      if (b.dtype !== 'f32') throw new Error(`input ${b.label ?? n} is ${b.dtype}: this page feeds f32 inputs only`);
      return new Tensor('f32', shape, Float32Array.from({ length: count }, (_, i) => i / count));
    });
    await runner.run(inputs); // warm-up
    const t1 = performance.now();
    const outputs = await runner.run(inputs);
    result.ms.run = performance.now() - t1;
    result.outputs = program.outputs.map((n, i) => {
      const b = program.buffers.find((x) => x.name === n);
      const out = outputs[i];
      return { name: b.label ?? n, dtype: b.dtype, shape: out.shape, first: Array.from(out.data.slice(0, 8), Number) };
    });
  }
  runner.destroy();
  return result;
}

/** A device with the adapter's own limits: steps compiled later (sizes the data decides) may need more
 * than the ones known now (as src/driver/webgpu.ts does in Node). */
async function requestDevice() {
  const adapter = (await navigator.gpu.requestAdapter()) ?? (await navigator.gpu.requestAdapter({ featureLevel: 'compatibility' }));
  if (!adapter) throw new Error('no WebGPU adapter is available');
  const have = adapter.limits;
  const keys = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxStorageBuffersPerShaderStage', 'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupStorageSize'];
  return adapter.requestDevice({ requiredLimits: Object.fromEntries(keys.map((k) => [k, have[k]])) });
}

function show(r) {
  const fmt = (ms) => (ms === undefined ? '—' : `${ms.toFixed(1)} ms`);
  const rows = (r.outputs ?? []).map((o) => `<tr><td>${o.name}</td><td>${o.dtype}[${o.shape.join(',')}]</td><td>${o.first.map((x) => x.toPrecision(5)).join(', ')}…</td></tr>`).join('');
  $('report').innerHTML = `
    <p>${r.name}: ${r.nodes} ONNX nodes → ${r.kernels} GPU kernels${r.hostSteps ? ` and ${r.hostSteps} steps on the host` : ''} (${(r.gpuBytes / 1048576).toFixed(1)} MiB of GPU buffers).</p>
    <table><tr><th>import</th><th>compile to WGSL</th><th>shaders + pipelines</th><th>run</th></tr>
      <tr><td>${fmt(r.ms.import)}</td><td>${fmt(r.ms.compile)}</td><td>${fmt(r.ms.pipelines)}</td><td>${fmt(r.ms.run)}</td></tr></table>
    <h3>Outputs</h3><table><tr><th>name</th><th>type</th><th>first values</th></tr>${rows}</table>
    <details><summary>first kernel's WGSL</summary><pre>${r.shaders[0]?.replace(/</g, '&lt;') ?? ''}</pre></details>`;
}

async function handle(file) {
  status(`Compiling ${file.name}…`);
  $('report').textContent = '';
  try {
    const r = await compileAndRun(new Uint8Array(await file.arrayBuffer()), file.name);
    window.aicResult = r;
    show(r);
    status('Done.');
  } catch (e) {
    window.aicResult = { error: String(e.message ?? e) };
    status('Failed.');
    $('report').innerHTML = `<p class="error">${String(e.message ?? e).replace(/</g, '&lt;')}</p>`;
  }
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) void handle(f);
});
$('file').addEventListener('change', (e) => {
  const f = e.target.files[0];
  if (f) void handle(f);
});

// For tests and scripts: compile (and run) a model given its bytes.
window.aicCompile = (bytes, name, opts) => compileAndRun(new Uint8Array(bytes), name, opts);
window.aicReady = true;
