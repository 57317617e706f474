// The page: an .onnx file → aic's compiler core (import, lower, canonicalize, schedule, plan, WGSL) →
// WebGPU (compile every shader, create the pipelines, run) → outputs and timings. Everything below runs in
// the browser; aic's modules come from dist/ (npm run build).
import { decodeModelProto } from '/dist/frontend/onnx/decode.js';
import { importModel } from '/dist/frontend/onnx/import.js';
import { optimizeModel } from '/dist/driver/pipeline.js';
import { compileKir } from '/dist/driver/kir.js';
import { programSymbols, specializeProgram } from '/dist/passes/specialize.js';
import { emitWgsl } from '/dist/backends/wgsl/emit.js';
import { WgslModel } from '/dist/backends/wgsl/runtime.js';

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
  // Shaders are rendered for static shapes: a symbolic dim (a batch N) is taken as 1.
  if (programSymbols(program).length > 0) program = specializeProgram(program, new Map(programSymbols(program).map((s) => [s, 1])));
  const artifact = emitWgsl(program);
  t.compiled = performance.now();
  const result = {
    name,
    nodes: model.onnxNodes,
    kernels: artifact.plan.kernels.length,
    shaders: [...artifact.shaders.values()],
    gpuBytes: artifact.plan.segments.reduce((n, s) => n + s.words * 4, 0),
    ms: {},
  };
  result.ms.import = t.imported - t.start;
  result.ms.compile = t.compiled - t.imported;
  if (!navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu)');
  const device = await WgslModel.requestDevice(navigator.gpu, artifact.plan);
  const t0 = performance.now();
  const wm = await WgslModel.create(device, artifact.plan, (f) => artifact.shaders.get(f), artifact.weights);
  result.ms.pipelines = performance.now() - t0;
  result.validated = true;
  if (run) {
    const inputs = program.inputs.map((n) => {
      const b = program.buffers.find((x) => x.name === n);
      const count = b.shape.reduce((p, d) => p * d, 1);
      if (b.dtype !== 'f32') throw new Error(`input ${b.label ?? n} is ${b.dtype}: this page feeds f32 inputs only`);
      return Float32Array.from({ length: count }, (_, i) => i / count);
    });
    await wm.run(inputs); // warm-up
    const r = await wm.run(inputs);
    result.ms.run = r.ms;
    result.outputs = program.outputs.map((n, i) => {
      const b = program.buffers.find((x) => x.name === n);
      const data = r.outputs[i];
      return { name: b.label ?? n, dtype: b.dtype, shape: b.shape, first: Array.from(data.slice(0, 8), Number) };
    });
  }
  wm.destroy();
  return result;
}

function show(r) {
  const fmt = (ms) => (ms === undefined ? '—' : `${ms.toFixed(1)} ms`);
  const rows = (r.outputs ?? []).map((o) => `<tr><td>${o.name}</td><td>${o.dtype}[${o.shape.join(',')}]</td><td>${o.first.map((x) => x.toPrecision(5)).join(', ')}…</td></tr>`).join('');
  $('report').innerHTML = `
    <p>${r.name}: ${r.nodes} ONNX nodes → ${r.kernels} kernels (${(r.gpuBytes / 1048576).toFixed(1)} MiB of GPU buffers).</p>
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
