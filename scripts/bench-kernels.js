#!/usr/bin/env node
// Benchmark the hand-tuned CPU kernels (src/backends/cpu/runtime/*.h) against ONNX Runtime, side by side
// in the same run: a 1024^3 GEMM at 1 and 2 threads, a few ResNet-50 convolutions (and a DenseNet and a VGG
// one) and transformer-sized GEMMs.  Not a test: run it by hand after `npm run build` (it needs dist/ for the ONNX writer):
//
//   node scripts/bench-kernels.js [--rounds N] [--threads 1,2] [--quick] [--filter REGEX]
//
// It compiles a small C++ driver with g++ (-O3 -march=native -fopenmp) that serves timing requests over
// stdin, and builds single-node MatMul / Conv models with aic's ONNX writer for onnxruntime-node.  The two
// sides are timed in alternation (rounds), with the same intra-op thread count, keeping the best time of
// each: on a busy machine this compares both at their best rather than whichever ran in a quiet moment.
// For one thread it also reports the CPU-time based rate (time actually spent running, immune to
// preemption by other processes).  Peak: bench-peak.js's FMA loop, measured in this run (the clock varies
// with load), and the nominal figure on the AVX-512 hosts (170 GFLOP/s per core).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { measurePeak, NOMINAL_PEAK } from './bench-peak.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const runtimeDir = join(root, 'src/backends/cpu/runtime');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const rounds = Number(opt('--rounds', quick ? '2' : '6'));
const threadList = opt('--threads', '1,2').split(',').map(Number);
const only = new RegExp(opt('--filter', ''), 'i');

if (spawnSync('g++', ['--version']).status !== 0) {
  console.log('skipped: g++ not found');
  process.exit(0);
}
if (!existsSync(join(root, 'dist/frontend/onnx/writer.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const { OnnxModelBuilder } = await import(join(root, 'dist/frontend/onnx/writer.js'));
const { A } = await import(join(root, 'dist/ir/attr.js'));
const { Tensor } = await import(join(root, 'dist/ir/tensor.js'));
const ort = await import('onnxruntime-node');

// ------------------------------------------------------------------------------------------------------
// The C++ driver: reads one request per line, answers "<best wall s> <best thread-cpu s>".
//   gemm <M> <N> <K> <threads> <reps> <prepackB 0|1>
//   conv <C> <H> <W> <M> <KH> <KW> <S> <P> <G> <threads> <reps>      (batch 1, bias epilogue, packed weights)
// ------------------------------------------------------------------------------------------------------
const driver = String.raw`
#include "gemm.h"
#include "conv.h"
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>
using namespace aic::cpu;
static double wall() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
static double tcpu() { timespec ts; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
static void fill(std::vector<float>& v, unsigned seed) { for (auto& x : v) { seed = seed * 1664525u + 1013904223u; x = float(seed >> 8) / 16777216.0f - 0.5f; } }
template <class F> static void timeit(int reps, F f) {
  f();  // warm up (page faults, thread pool, packing buffers)
  double bw = 1e30, bc = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double w0 = wall(), c0 = tcpu();
    f();
    const double c1 = tcpu(), w1 = wall();
    bw = std::min(bw, w1 - w0); bc = std::min(bc, c1 - c0);
  }
  std::printf("%.9g %.9g\n", bw, bc);
  std::fflush(stdout);
}
int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "gemm") {
      long M, N, K; int threads, reps, pre; in >> M >> N >> K >> threads >> reps >> pre;
      aic::threads::set_max_threads(threads);
      std::vector<float> a(M * K), b(K * N), c(M * N);
      fill(a, 1); fill(b, 2);
      const bool tm = sgemm_transposed_mode(M, N, K);
      std::vector<float> bp(sgemm_packed_b_floats(K, N));
      sgemm_pack_b(false, K, N, b.data(), N, bp.data(), tm);
      if (pre) timeit(reps, [&] { sgemm(RawA{a.data(), K, false}, PackedB(bp.data(), N, tm), M, N, K, 1.0f, 0.0f, c.data(), N); });
      else timeit(reps, [&] { sgemm(false, false, M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, c.data(), N); });
    } else if (cmd == "conv") {
      Conv2dShape s{};
      long p; int threads, reps;
      in >> s.C >> s.H >> s.W >> s.M >> s.KH >> s.KW >> s.SH >> p >> s.G >> threads >> reps;
      s.N = 1; s.SW = s.SH; s.PT = s.PL = s.PB = s.PR = p;
      aic::threads::set_max_threads(threads);
      std::vector<float> x(s.C * s.H * s.W), w(s.M * s.Cg() * s.KH * s.KW), bias(s.M), y(s.M * s.OH() * s.OW());
      fill(x, 3); fill(w, 4); fill(bias, 5);
      std::vector<float> wp(conv2d_packed_weights_floats(s));
      conv2d_pack_weights(s, w.data(), wp.data());
      std::vector<char> ws(conv2d_workspace_bytes(s, threads));
      timeit(reps, [&] { conv2d(s, x.data(), wp.data(), y.data(), epi::BiasRow{bias.data()}, ws.data(), true); });
    } else {
      std::printf("? ?\n");
      std::fflush(stdout);
    }
  }
}
`;

const dir = mkdtempSync(join(tmpdir(), 'aic-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'driver.cpp'), driver);
const exe = join(dir, 'driver');
const cc = spawnSync('g++', ['-std=c++17', '-O3', '-march=native', '-fopenmp', '-I', runtimeDir, join(dir, 'driver.cpp'), '-o', exe], { encoding: 'utf8' });
if (cc.status !== 0) {
  console.error(cc.stderr);
  process.exit(1);
}
const isa = spawnSync('g++', ['-march=native', '-dM', '-E', '-x', 'c++', '/dev/null'], { encoding: 'utf8' }).stdout;
const isaName = /__AVX512F__/.test(isa) ? 'avx512' : /__AVX2__/.test(isa) ? 'avx2' : 'scalar';

const child = spawn(exe, [], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: child.stdout });
const pending = [];
lines.on('line', (l) => pending.shift()?.(l));
const ask = (req) => new Promise((res) => {
  pending.push((l) => {
    const [w, c] = l.split(' ').map(Number);
    res({ wall: w, cpu: c });
  });
  child.stdin.write(`${req}\n`);
});

// ------------------------------------------------------------------------------------------------------
// ONNX Runtime side
// ------------------------------------------------------------------------------------------------------
let seed = 12345;
const randArray = (n) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    a[i] = seed / 2 ** 32 - 0.5;
  }
  return a;
};
const f32 = (shape) => new Tensor('f32', shape, randArray(shape.reduce((x, y) => x * y, 1)));

function matmulModel(M, N, K) {
  const m = new OnnxModelBuilder({ opset: 17 });
  const x = m.input('x', 'f32', [M, K]);
  m.output(m.node('MatMul', [x, m.initializer('w', f32([K, N]))]), 'f32', [M, N]);
  return { bytes: m.toBytes(), feeds: { x: new ort.Tensor('float32', randArray(M * K), [M, K]) } };
}
function convModel(c) {
  const m = new OnnxModelBuilder({ opset: 17 });
  const x = m.input('x', 'f32', [1, c.C, c.H, c.W]);
  const y = m.node('Conv', [x, m.initializer('w', f32([c.M, c.C / c.G, c.KH, c.KW])), m.initializer('b', f32([c.M]))], {
    kernel_shape: A.ints([c.KH, c.KW]), strides: A.ints([c.S, c.S]), pads: A.ints([c.P, c.P, c.P, c.P]), group: A.int(c.G),
  });
  m.output(y, 'f32');
  return { bytes: m.toBytes(), feeds: { x: new ort.Tensor('float32', randArray(c.C * c.H * c.W), [1, c.C, c.H, c.W]) } };
}
async function ortSession(bytes, threads) {
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
}
async function timeOrt(session, feeds, reps) {
  await session.run(feeds);
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const cu = process.cpuUsage(c0);
    wall = Math.min(wall, dt);
    cpu = Math.min(cpu, (cu.user + cu.system) / 1e6);
  }
  return { wall, cpu };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const repsFor = (flops) => Math.max(3, Math.min(50, Math.round(0.15e9 / Math.max(flops, 1) * 10)));

async function compare(label, flops, aicReq, model, threads) {
  const session = await ortSession(model.bytes, threads);
  const reps = repsFor(flops);
  const best = { aic: { wall: Infinity, cpu: Infinity }, ort: { wall: Infinity, cpu: Infinity } };
  for (let r = 0; r < rounds; r++) {
    const a = await ask(aicReq(reps));
    await sleep(10);
    const o = await timeOrt(session, model.feeds, reps);
    await sleep(10);
    for (const [k, v] of [['aic', a], ['ort', o]]) {
      best[k].wall = Math.min(best[k].wall, v.wall);
      best[k].cpu = Math.min(best[k].cpu, v.cpu);
    }
  }
  await session.release?.();
  return { label, threads, flops, ...best };
}

// ------------------------------------------------------------------------------------------------------
const gemmCases = [
  { label: 'GEMM 1024x1024x1024', M: 1024, N: 1024, K: 1024 },
  ...(quick ? [] : [
    { label: 'GEMM 128x768x768 (BERT proj)', M: 128, N: 768, K: 768 },
    { label: 'GEMM 128x3072x768 (BERT FFN1)', M: 128, N: 3072, K: 768 },
    { label: 'GEMM 128x768x3072 (BERT FFN2)', M: 128, N: 768, K: 3072 },
  ]),
];
const convCases = [
  { label: 'conv1 7x7/2 3->64 224', C: 3, H: 224, W: 224, M: 64, KH: 7, KW: 7, S: 2, P: 3, G: 1 },
  { label: 'res2 3x3 64->64 56', C: 64, H: 56, W: 56, M: 64, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  { label: 'res2 1x1 64->64 56', C: 64, H: 56, W: 56, M: 64, KH: 1, KW: 1, S: 1, P: 0, G: 1 },
  { label: 'res2 1x1 64->256 56', C: 64, H: 56, W: 56, M: 256, KH: 1, KW: 1, S: 1, P: 0, G: 1 },
  { label: 'res3 3x3 128->128 28', C: 128, H: 28, W: 28, M: 128, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  { label: 'res4 3x3 256->256 14', C: 256, H: 14, W: 14, M: 256, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  { label: 'res5 3x3 512->512 7', C: 512, H: 7, W: 7, M: 512, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  { label: 'res5 1x1 512->2048 7', C: 512, H: 7, W: 7, M: 2048, KH: 1, KW: 1, S: 1, P: 0, G: 1 },
  ...(quick ? [] : [
    { label: 'res3 1x1/2 256->512 56', C: 256, H: 56, W: 56, M: 512, KH: 1, KW: 1, S: 2, P: 0, G: 1 },
    { label: 'res4 1x1 1024->256 14', C: 1024, H: 14, W: 14, M: 256, KH: 1, KW: 1, S: 1, P: 0, G: 1 },
    { label: 'densenet 3x3 128->32 56', C: 128, H: 56, W: 56, M: 32, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
    { label: 'vgg 3x3 128->128 112', C: 128, H: 112, W: 112, M: 128, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  ]),
  // Inception v1 (a 3x3 and a 5x5 layer; its stem is conv1's shape), ShuffleNet's stem and depthwise 3x3 layers.
  { label: 'incep 3x3 64->192 56', C: 64, H: 56, W: 56, M: 192, KH: 3, KW: 3, S: 1, P: 1, G: 1 },
  ...(quick ? [] : [
    { label: 'incep 5x5 16->32 28', C: 16, H: 28, W: 28, M: 32, KH: 5, KW: 5, S: 1, P: 2, G: 1 },
  ]),
  { label: 'shufflenet 3x3/2 3->24 224', C: 3, H: 224, W: 224, M: 24, KH: 3, KW: 3, S: 2, P: 1, G: 1 },
  { label: 'shufflenet dw 3x3 136 28', C: 136, H: 28, W: 28, M: 136, KH: 3, KW: 3, S: 1, P: 1, G: 136 },
  { label: 'shufflenet dw 3x3/2 136 56', C: 136, H: 56, W: 56, M: 136, KH: 3, KW: 3, S: 2, P: 1, G: 136 },
  { label: 'shufflenet dw 3x3 272 14', C: 272, H: 14, W: 14, M: 272, KH: 3, KW: 3, S: 1, P: 1, G: 272 },
  { label: 'shufflenet g3 1x1 240->60 28', C: 240, H: 28, W: 28, M: 60, KH: 1, KW: 1, S: 1, P: 0, G: 3 },
  { label: 'shufflenet g3 1x1 60->240 28', C: 60, H: 28, W: 28, M: 240, KH: 1, KW: 1, S: 1, P: 0, G: 3 },
  ...(quick ? [] : [
    { label: 'shufflenet g3 1x1 480->120 14', C: 480, H: 14, W: 14, M: 120, KH: 1, KW: 1, S: 1, P: 0, G: 3 },
    { label: 'shufflenet g3 1x1 240->960 7', C: 240, H: 7, W: 7, M: 960, KH: 1, KW: 1, S: 1, P: 0, G: 3 },
    { label: 'shufflenet dw 3x3/2 272 28', C: 272, H: 28, W: 28, M: 272, KH: 3, KW: 3, S: 2, P: 1, G: 272 },
  ]),
  // SqueezeNet 1.1: the 3-channel stem (no padding) and the 1x1 classifier on 13x13.
  { label: 'squeezenet 3x3/2 3->64 224', C: 3, H: 224, W: 224, M: 64, KH: 3, KW: 3, S: 2, P: 0, G: 1 },
  { label: 'squeezenet 1x1 512->1000 13', C: 512, H: 13, W: 13, M: 1000, KH: 1, KW: 1, S: 1, P: 0, G: 1 },
];
const convOut = (c) => Math.floor((c.H + 2 * c.P - c.KH) / c.S) + 1;

console.log(`aic CPU kernels (${isaName}) vs ONNX Runtime ${ort.env?.versions?.common ?? ''}, ${rounds} alternating rounds, best of each`);
const peak = measurePeak();
console.log(`peak (FMA loop, this run): ${peak.toFixed(0)} GFLOP/s per core${NOMINAL_PEAK ? `; nominal ${NOMINAL_PEAK}` : ''}\n`);

const results = [];
for (const threads of threadList) {
  for (const g of gemmCases.filter((c) => only.test(c.label))) {
    const flops = 2 * g.M * g.N * g.K;
    const model = matmulModel(g.M, g.N, g.K);
    results.push(await compare(`${g.label} packed B`, flops, (reps) => `gemm ${g.M} ${g.N} ${g.K} ${threads} ${reps} 1`, model, threads));
    if (g.M === 1024) results.push(await compare(`${g.label} raw`, flops, (reps) => `gemm ${g.M} ${g.N} ${g.K} ${threads} ${reps} 0`, model, threads));
  }
  for (const c of convCases.filter((c) => only.test(c.label))) {
    const o = convOut(c);
    const flops = 2 * c.M * o * o * (c.C / c.G) * c.KH * c.KW;
    results.push(await compare(c.label, flops,
      (reps) => `conv ${c.C} ${c.H} ${c.W} ${c.M} ${c.KH} ${c.KW} ${c.S} ${c.P} ${c.G} ${threads} ${reps}`, convModel(c), threads));
  }
}
child.stdin.end();

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`${pad('case', 36)}${lpad('thr', 4)}${lpad('aic GF/s', 10)}${lpad('ORT GF/s', 10)}${lpad('aic/ORT', 9)}${lpad('%peak', 7)}${lpad('%nom', 6)}${lpad('aic cpuGF', 10)}${lpad('ORT cpuGF', 10)}`);
const ratios = {};
for (const r of results) {
  const ga = r.flops / r.aic.wall / 1e9, go = r.flops / r.ort.wall / 1e9;
  const ratio = r.aic.wall / r.ort.wall;
  (ratios[r.threads] ??= []).push(ratio);
  const per = r.threads * peak, nom = r.threads * (NOMINAL_PEAK ?? NaN);
  const cpuCols = r.threads === 1
    ? `${lpad((r.flops / r.aic.cpu / 1e9).toFixed(1), 10)}${lpad((r.flops / r.ort.cpu / 1e9).toFixed(1), 10)}` : '';
  console.log(`${pad(r.label, 36)}${lpad(r.threads, 4)}${lpad(ga.toFixed(1), 10)}${lpad(go.toFixed(1), 10)}${lpad(ratio.toFixed(2), 9)}` +
    `${lpad(per > 0 ? (100 * ga / per).toFixed(0) : '-', 7)}${lpad(nom > 0 ? (100 * ga / nom).toFixed(0) : '-', 6)}${cpuCols}`);
}
for (const [t, rs] of Object.entries(ratios)) {
  const geo = Math.exp(rs.reduce((s, x) => s + Math.log(x), 0) / rs.length);
  console.log(`geometric mean aic/ORT latency, ${t} thread(s): ${geo.toFixed(3)}  (< 1: aic faster)`);
}
console.log(`aic/ORT: latency ratio (best wall time); %peak: of the FMA-loop peak above x threads; %nom: of ${NOMINAL_PEAK ?? '(AVX-512 hosts only)'} GFLOP/s x threads;`);
console.log('cpuGF: 1-thread rate from CPU time (aic: thread CPU time; ORT: process CPU time, includes node overhead).');
console.log('ORT Conv runs with graph optimizations "all" (NCHWc on AVX-512 hosts: its reorders of input/output are in its time).');
