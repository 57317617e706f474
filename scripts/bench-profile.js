#!/usr/bin/env node
// Where a benchmark model's time goes, aic and ONNX Runtime side by side: builds the model's CPU artifact
// with -DAIC_PROFILE (the time of every kernel, summed over runs) and runs it, then runs ONNX Runtime with
// its profiler on the same inputs and sums its node times by op type.  Not a test; after `npm run build`:
//
//   node scripts/bench-profile.js MODEL.onnx [--threads N] [--runs R] [--top K] [--no-ort] [--keep DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const model = args[0];
if (!model || model.startsWith('--')) {
  console.error('usage: node scripts/bench-profile.js MODEL.onnx [--threads N] [--runs R] [--top K] [--no-ort] [--keep DIR]');
  process.exit(2);
}
const threads = Number(opt('--threads', '1'));
const runs = Number(opt('--runs', '20'));
const top = Number(opt('--top', '25'));
const keep = opt('--keep', undefined);

const { loadModel, loadModelProto } = await import(join(root, 'dist/driver/model-file.js'));
const { randomInput } = await import(join(root, 'dist/driver/bench.js'));
const { writeNpy } = await import(join(root, 'dist/runtime/npy.js'));

const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'aic-profile-'));
const out = join(dir, 'artifact');
rmSync(out, { recursive: true, force: true });
const step = (cmd, argv, o = {}) => {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...o });
  if (r.status !== 0) {
    console.error(`${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return r;
};
step(process.execPath, [join(root, 'bin/aic.js'), 'compile', model, '--target', 'cpu', '-o', out]);
const flags = '-std=c++17 -O3 -march=native -fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off -DAIC_PROFILE';
step('make', ['-C', out, '-j2', 'model', `CXXFLAGS=${flags}`]);

// The same seeded inputs as `aic bench` (seed 1).
const graph = loadModel(model).graph;
const inputs = graph.inputs.map((v, i) => randomInput(v.dtype, v.shape.map((d) => (typeof d === 'number' ? d : 1)), 7919 + i));
const files = inputs.map((t, i) => {
  const f = join(dir, `input_${i}.npy`);
  writeFileSync(f, writeNpy(t));
  return f;
});
const r = step(join(out, 'model'), ['--weights', join(out, 'weights.bin'), '--threads', String(threads), '--runs', String(runs), '--warmup', '3', ...files]);
const profile = r.stderr.split('\n').filter((l) => l.trim());
const head = profile.find((l) => l.startsWith('aic profile')) ?? '';
const kernels = profile.filter((l) => /^\s+[\d.]+ ms/.test(l)).map((l) => {
  const m = /^\s+([\d.]+) ms\s+([\d.]+)%\s+(.*)$/.exec(l);
  return { ms: Number(m[1]), pct: Number(m[2]), name: m[3] };
});
const timing = JSON.parse(r.stdout.trim().split('\n').pop());
console.log(`aic: median ${timing.medianMs.toFixed(3)} ms (${threads} thread${threads === 1 ? '' : 's'}); ${head}`);
for (const k of [...kernels].sort((a, b) => b.ms - a.ms).slice(0, top)) console.log(`  ${k.ms.toFixed(3).padStart(9)} ms ${k.pct.toFixed(1).padStart(5)}%  ${k.name}`);

if (!args.includes('--no-ort')) {
  const ort = await import('onnxruntime-node');
  const prefix = join(dir, 'ort-profile');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
    enableProfiling: true, profileFilePrefix: prefix, logSeverityLevel: 3,
  });
  const feeds = {};
  graph.inputs.forEach((v, i) => (feeds[v.name] = new ort.Tensor('float32', inputs[i].data, [...inputs[i].shape])));
  const ms = [];
  for (let i = 0; i < runs + 3; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    if (i >= 3) ms.push(performance.now() - t0);
  }
  session.endProfiling();
  await session.release();
  const { readdirSync } = await import('node:fs');
  const file = join(dir, readdirSync(dir).find((f) => f.startsWith('ort-profile') && f.endsWith('.json')));
  ms.sort((a, b) => a - b);
  const events = JSON.parse(readFileSync(resolve(file), 'utf8')).filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const byOp = new Map();
  const byNode = new Map();
  for (const e of events) {
    const op = e.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / (runs + 3));
    byNode.set(`${op} ${e.name.replace(/_kernel_time$/, '')}`, (byNode.get(`${op} ${e.name.replace(/_kernel_time$/, '')}`) ?? 0) + e.dur / 1000 / (runs + 3));
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`\nORT: median ${ms[ms.length >> 1].toFixed(3)} ms; node times ${total.toFixed(3)} ms per run (profiled runs)`);
  for (const [op, t] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${t.toFixed(3).padStart(9)} ms ${(100 * t / total).toFixed(1).padStart(5)}%  ${op}`);
  console.log('  top nodes:');
  for (const [n, t] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${t.toFixed(3).padStart(9)} ms  ${n}`);
  rmSync(resolve(file), { force: true });

  // Layer by layer.  An aic kernel is named after the value it writes (`→ %NAME`); an ORT node by its ONNX
  // node name, or for the nodes ORT rewrote (NCHWc) by the value it writes.  Every ORT node is charged to the
  // first aic kernel at or after it in the ONNX graph's node order (a kernel fuses the nodes before its
  // output).  ORT's profiler adds ~10 us per node; its reorders (no ONNX node) stay unmatched.
  const position = new Map();
  const nodes = loadModelProto(model).graph?.node ?? [];
  nodes.forEach((n, i) => {
    for (const o of n.output ?? []) position.set(o, i);
    if (n.name) position.set(`node:${n.name}`, i);
  });
  const buckets = kernels
    .map((k) => ({ ...k, pos: position.get(/→ %(\S+)/.exec(k.name)?.[1] ?? ''), ort: 0 }))
    .filter((k) => k.pos !== undefined)
    .sort((a, b) => a.pos - b.pos);
  let unmatched = 0;
  for (const [key, t] of byNode) {
    const node = key.slice(key.indexOf(' ') + 1);
    const pos = position.get(`node:${node}`) ?? position.get(node.replace(/_nchwc$/, ''));
    const bucket = pos === undefined ? undefined : buckets.find((k) => k.pos >= pos);
    if (bucket) bucket.ort += t;
    else unmatched += t;
  }
  console.log(`\nlayer by layer (${buckets.length} of ${kernels.length} aic kernels placed; ORT ${unmatched.toFixed(3)} ms unplaced):`);
  console.log('    aic ms   ORT ms  aic-ORT  kernel');
  for (const k of [...buckets].sort((a, b) => (b.ms - b.ort) - (a.ms - a.ort)).slice(0, top))
    console.log(`  ${k.ms.toFixed(3).padStart(8)} ${k.ort.toFixed(3).padStart(8)} ${(k.ms - k.ort).toFixed(3).padStart(8)}  ${k.name}`);
}
if (!keep) rmSync(dir, { recursive: true, force: true });
