// The fp32 FMA peak of one core, measured now (the clock varies with load and turbo): a loop of independent
// 512-bit FMAs (256-bit on AVX2 hosts), built with g++ -march=native. Shared by scripts/bench.js and
// scripts/bench-kernels.js. NOMINAL_PEAK is that of the AVX-512 machines the issue names (2 x 512-bit FMA
// per cycle at the 2.66 GHz base clock); on other CPUs (AVX2 hosts) it is undefined and not reported.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cpuinfo = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
})();
const cpuFlags = cpuinfo.match(/^flags\s*:(.*)$/m)?.[1]?.split(' ') ?? [];
export const NOMINAL_PEAK = cpuFlags.includes('avx512f') ? 170 : undefined;
/** The CPU in words, for the reports (figures differ between the hosts' CPUs). */
export const CPU_DESCRIPTION = (() => {
  const model = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown CPU';
  const isa = cpuFlags.includes('avx512f') ? 'AVX-512' : cpuFlags.includes('avx2') ? 'AVX2' : 'no AVX2';
  return `${model}, ${isa}`;
})();

const source = String.raw`
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#if defined(__AVX512F__)
typedef __m512 V;
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SET(x) _mm512_set1_ps(x)
static float hsum(V v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 V;
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SET(x) _mm256_set1_ps(x)
static float hsum(V v) { float t[8]; _mm256_storeu_ps(t, v); float s = 0; for (float x : t) s += x; return s; }
#endif
int main(int argc, char** argv) {
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  const long n = 2000000;
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  V acc[20];
  for (int i = 0; i < 20; ++i) acc[i] = SET(float(i) * 1e-3f);
  const V a = SET(0.999999f), b = SET(1e-7f);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (long k = 0; k < n; ++k) {
#pragma GCC unroll 20
      for (int i = 0; i < 20; ++i) acc[i] = FMA(acc[i], a, b);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double gflops = n * 20.0 * 2.0 * (sizeof(V) / 4) / s / 1e9;
    if (gflops > best) best = gflops;
  }
  float sink = 0;
  for (int i = 0; i < 20; ++i) sink += hsum(acc[i]);
  std::printf("%.3f %g\n", best, double(sink));
#else
  std::printf("0 0\n");
#endif
}
`;

/** The best of `reps` timed FMA loops, in GFLOP/s on one core (0 when it cannot be measured). */
export function measurePeak(reps = 20) {
  const dir = mkdtempSync(join(tmpdir(), 'aic-peak-'));
  try {
    writeFileSync(join(dir, 'peak.cpp'), source);
    const exe = join(dir, 'peak');
    const cc = spawnSync('g++', ['-O2', '-march=native', join(dir, 'peak.cpp'), '-o', exe], { encoding: 'utf8' });
    if (cc.status !== 0) return 0;
    const r = spawnSync(exe, [String(reps)], { encoding: 'utf8' });
    return r.status === 0 ? Number(r.stdout.split(' ')[0]) : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
