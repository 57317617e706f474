#!/usr/bin/env node
// `npm run bench`: aic's CPU backend against ONNX Runtime over the benchmark set that
// scripts/make-bench-models.js writes (made here when missing), at 1 and 2 threads, measured side by side
// in the same run. For each model and thread count the two are timed in alternation (`--rounds`), each
// round the median of `--runs` runs (aic inside its compiled runner, ORT by session.run in this process), and
// the best median of each side is kept: on a shared machine that compares both at their quiet moments.
//
//   node scripts/bench.js [--quick] [--filter RE] [--threads 1,2] [--runs N] [--rounds N] [--json FILE]
//                         [--models DIR] [--no-build-time]
//
// --quick: 20 runs and one round, the big convnets (VGG-19, ZFNet, AlexNet, DenseNet) left out.
// It prints a table (aic ms, ORT ms, aic/ORT per thread count), the geometric means, the worst ratio, the
// 1024^3 GEMM's GFLOP/s against the measured FMA peak of one core, and how long g++ takes to build the
// generated ResNet-50 (-O3). Needs `npm run build` first (it imports dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CPU_DESCRIPTION, measurePeak, NOMINAL_PEAK } from './bench-peak.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const modelsDir = resolve(opt('--models', join(root, 'bench-models')));
const threadList = opt('--threads', '1,2').split(',').map(Number);
const runs = Number(opt('--runs', quick ? '20' : '30'));
const rounds = Number(opt('--rounds', quick ? '1' : '2'));
const filter = new RegExp(opt('--filter', '.'));
const jsonOut = opt('--json', undefined);

if (!existsSync(join(root, 'dist/driver/bench.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
if (spawnSync('g++', ['--version']).status !== 0) {
  console.log('skipped: g++ not found');
  process.exit(0);
}

/** The benchmark set, in table order: [file, label, 'big' for the models --quick leaves out]. */
const SET = [
  ['light_bvlc_alexnet.onnx', 'AlexNet', 'big'],
  ['light_densenet121.onnx', 'DenseNet-121', 'big'],
  ['light_inception_v1.onnx', 'Inception v1'],
  ['light_inception_v2.onnx', 'Inception v2'],
  ['light_resnet50.onnx', 'ResNet-50'],
  ['light_shufflenet.onnx', 'ShuffleNet'],
  ['light_squeezenet.onnx', 'SqueezeNet'],
  ['light_vgg19.onnx', 'VGG-19', 'big'],
  ['light_zfnet512.onnx', 'ZFNet-512', 'big'],
  ['bert.onnx', 'BERT-base 2 layers, seq 128'],
  ['gpt2.onnx', 'GPT-2-small 2 layers, seq 128'],
  ['gemm1024.onnx', 'GEMM 1024^3'],
  ['layernorm.onnx', 'LayerNorm+residual+GELU 4096x1024'],
];
const GEMM_FLOP = 2 * 1024 ** 3;

const missing = SET.filter(([f]) => !existsSync(join(modelsDir, f)));
if (missing.length) {
  console.error(`making the benchmark models in ${modelsDir}…`);
  const r = spawnSync(process.execPath, [join(root, 'scripts/make-bench-models.js'), modelsDir], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(1);
}

const { bench } = await import(join(root, 'dist/driver/bench.js'));
await import(join(root, 'dist/driver/all-targets.js'));

const chosen = SET.filter(([f, label, size]) => existsSync(join(modelsDir, f)) && (filter.test(f) || filter.test(label)) && !(quick && size === 'big'));
const peak = measurePeak();
const log = (s) => process.stderr.write(`${s}\n`);
const started = performance.now();

/** Best median of each side over the rounds. */
async function measure(file, threads) {
  let aic = Infinity, ort = Infinity, diff = 0, buildSeconds = 0;
  for (let r = 0; r < rounds; r++) {
    const b = await bench(join(modelsDir, file), { target: 'cpu', threads, runs, warmup: 3, vsOrt: true, seed: 1 });
    aic = Math.min(aic, b.medianMs);
    ort = Math.min(ort, b.ort.medianMs);
    diff = Math.max(diff, b.ortMaxAbsDiff ?? 0);
    if (r === 0) buildSeconds = b.buildSeconds ?? 0;
  }
  return { aic, ort, ratio: aic / ort, maxAbsDiff: diff, buildSeconds };
}

const rows = [];
for (const [file, label] of chosen) {
  const row = { model: file.replace(/\.onnx$/, ''), label, threads: {} };
  for (const t of threadList) {
    log(`${label}: ${t} thread${t === 1 ? '' : 's'}…`);
    try {
      row.threads[t] = await measure(file, t);
    } catch (e) {
      row.threads[t] = { error: String(e?.message ?? e).split('\n')[0] };
    }
  }
  rows.push(row);
}

// The g++ build time of the generated ResNet-50 (-O3, the runner's object cached), outside the cache.
let resnetBuild;
if (!args.includes('--no-build-time') && !quick && existsSync(join(modelsDir, 'light_resnet50.onnx'))) {
  log('ResNet-50: timing the g++ build…');
  const dir = mkdtempSync(join(tmpdir(), 'aic-bench-build-'));
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, [join(root, 'bin/aic.js'), 'compile', join(modelsDir, 'light_resnet50.onnx'), '--target', 'cpu', '-o', out, '--build', '--json'], { encoding: 'utf8' });
  if (r.status === 0) resnetBuild = JSON.parse(r.stdout).buildMs / 1000;
  else log(r.stderr.trim());
  rmSync(dir, { recursive: true, force: true });
}

// ---- the table ----
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const header = ['model', ...threadList.flatMap((t) => [`aic ms (${t}T)`, `ORT ms (${t}T)`, `aic/ORT (${t}T)`])];
const lines = [header, header.map(() => '---')];
for (const row of rows) {
  lines.push([row.label, ...threadList.flatMap((t) => {
    const m = row.threads[t];
    return m.error ? ['error', '', m.error.slice(0, 60)] : [f(m.aic), f(m.ort), f(m.ratio)];
  })]);
}
const summary = {};
for (const t of threadList) {
  const ok = rows.map((r) => ({ label: r.label, m: r.threads[t] })).filter((x) => !x.m.error);
  const geo = Math.exp(ok.reduce((s, x) => s + Math.log(x.m.ratio), 0) / Math.max(1, ok.length));
  const worst = ok.reduce((w, x) => (!w || x.m.ratio > w.m.ratio ? x : w), undefined);
  summary[t] = { geomean: geo, worst: worst ? { model: worst.label, ratio: worst.m.ratio } : null, models: ok.length, errors: rows.length - ok.length };
}
lines.push(['**geometric mean**', ...threadList.flatMap((t) => ['', '', `**${f(summary[t].geomean)}**`])]);
console.log(lines.map((l) => `| ${l.join(' | ')} |`).join('\n'));
console.log('');
for (const t of threadList) {
  const s = summary[t];
  console.log(`${t} thread${t === 1 ? '' : 's'}: geometric mean aic/ORT ${f(s.geomean, 3)} over ${s.models} models${s.errors ? ` (${s.errors} failed)` : ''}; worst ${s.worst ? `${s.worst.model} ${f(s.worst.ratio)}` : '–'}`);
}
// A sanity check of what was timed: the outputs of the two should agree.
for (const row of rows) {
  const diff = Math.max(...threadList.map((t) => row.threads[t].maxAbsDiff ?? 0));
  if (!(diff <= 1e-3)) console.log(`warning: ${row.label}: aic and ORT outputs differ by up to ${diff}`);
}
const gemm = rows.find((r) => r.model === 'gemm1024');
const gemmRate = {};
if (gemm) {
  for (const t of threadList) {
    const m = gemm.threads[t];
    if (m.error) continue;
    gemmRate[t] = { aic: GEMM_FLOP / m.aic / 1e6, ort: GEMM_FLOP / m.ort / 1e6 };
    const per = (x) => `${f(100 * x / (t * peak), 0)}% of the measured peak${NOMINAL_PEAK ? `, ${f(100 * x / (t * NOMINAL_PEAK), 0)}% of nominal` : ''}`;
    console.log(`GEMM 1024^3, ${t} thread${t === 1 ? '' : 's'}: aic ${f(gemmRate[t].aic, 1)} GFLOP/s (${per(gemmRate[t].aic)}); ORT ${f(gemmRate[t].ort, 1)} GFLOP/s`);
  }
}
console.log(`CPU: ${CPU_DESCRIPTION}`);
console.log(`fp32 FMA peak of one core, measured in this run: ${f(peak, 0)} GFLOP/s${NOMINAL_PEAK ? ` (nominal ${NOMINAL_PEAK} at the base clock)` : ''}`);
if (resnetBuild !== undefined) console.log(`g++ -O3 build of the generated ResNet-50: ${f(resnetBuild, 1)} s`);
console.log(`(${runs} runs x ${rounds} round${rounds === 1 ? '' : 's'} per cell, best median of each side; total ${f((performance.now() - started) / 60000, 1)} min)`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ cpu: CPU_DESCRIPTION, runs, rounds, peakGflops: peak, nominalPeakGflops: NOMINAL_PEAK ?? null, rows, summary, gemmGflops: gemmRate, resnet50BuildSeconds: resnetBuild ?? null }, null, 2));
