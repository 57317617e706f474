// aic CPU runtime: single-precision GEMM.  C = alpha * op(A) * op(B) (+ beta * C), row-major, fp32.
//
// Measured (scripts/bench-kernels.js, AMD EPYC Zen 5 "Turin" VM, 2 cores, AVX-512 with two 512-bit FMA
// pipes, g++ 12.2 -O3 -march=native, ONNX Runtime 1.23.2 in the same run, alternating, best of 8 rounds).
// The clock boosts to ~3.8 GHz when running alone: an FMA loop then gives 242 GFLOP/s per core ("peak"
// below; nominal 170 = 2.66 GHz base).  The machine was shared with other jobs (load average ~11 on 2
// cores), so wall-clock figures are noisy; "cpu" figures are from thread/process CPU time (1 thread).
//   1024^3, 1 thread, B prepacked:  203 GFLOP/s cpu = 84% of peak (119% of nominal);  ORT MatMul 194
//                                    wall: 134 vs ORT 119 -> aic/ORT latency 0.89
//   1024^3, 1 thread, both raw:     198 GFLOP/s cpu (82%); ORT 192
//   1024^3, 2 threads, B prepacked: 166 GFLOP/s wall best (load ~11) vs ORT 152 -> 0.91
//   BERT-base shapes, 1 thread (M = 128 tokens, B prepacked): 128x768x768 228 (ORT 209), 128x3072x768
//     199 (178), 128x768x3072 202 (178) GFLOP/s cpu
//   ResNet-50 convolutions via conv.h, 1 thread, cpu GFLOP/s aic / ORT: conv1 7x7/2 123/124, 3x3 56x56
//     192/195, 3x3 28x28 206/204, 3x3 14x14 206/211, 3x3 7x7 145/144, 1x1 64->256 200/117, 1x1 512->2048
//     7x7 186/180, 1x1/2 256->512 191/139, 1x1 1024->256 212/202; DenseNet 3x3 128->32 56x56 196/194,
//     VGG 3x3 128->128 112x112 195/190.  Geometric mean aic/ORT latency over the 16 cases (wall, best of
//     8): 0.94 and 0.98 at 1 thread in two full runs; 1.01 and 1.08 at 2 threads, where both sides were
//     mostly measuring luck (load ~12 on 2 cores; aic alone reaches 290-380 GFLOP/s on 3x3 layers at 2
//     threads when it gets both cores).  Depthwise 3x3, 32 x 112x112: 30 GFLOP/s (not tuned further).
// Threads: aic's pool (threads.h), not OpenMP's teams, whose end-of-loop barrier waits for a worker that
// has not woken up yet (on the 2-vCPU VMs measured, milliseconds: see threads.h).
//
// Header-only (C++17, no BLAS; threads.h beside it): the CPU backend copies this file into every generated
// artifact and compiles it with `g++ -O3 -march=native -fopenmp` (OpenMP for `omp simd` only).
//
// Design (the Goto/BLIS scheme):
//   * The two operands are packed into panels, cache blocked: KC (depth), MC (rows of the left operand
//     kept in L2), NC (columns of the right operand).  The left operand is packed into MR-wide panels, the
//     right one into NR-wide panels (element (outer o, depth k) of a panel at k*width + o); panels past the
//     edge are zero-padded, so the micro-kernel always computes a full MR x NR tile and the edges are
//     handled by masked stores.
//   * Inside a block the tiles are walked column of tiles by column of tiles (the right panel stays in
//     L1), except for shallow products (K <= kShallowK, normal orientation), walked row of tiles by row
//     of tiles: those are bound by writing C, and a column of tiles writes every row of C at once.
//   * Register-blocked micro-kernel, chosen at compile time:
//       __AVX512F__  MR x NR = 8 x 32: 16 zmm accumulators, 2 vector loads + 8 broadcasts per 16 FMAs
//       __AVX2__     6 x 16: 12 ymm accumulators (FMA)
//       otherwise    4 x 16 portable scalar code
//   * Two orientations.  Normal: tiles are MR rows x NR columns of C (left operand = op(A)).  Transposed:
//     C^T = op(B)^T op(A)^T, tiles are NR rows x MR columns of C, written back with an in-register
//     transpose; used when N is small and ragged (conv layers with 7x7 / 14x14 outputs: N = 49, 196),
//     where NR = 32 wide column tiles would waste up to a quarter of the work.  sgemm_transposed_mode()
//     decides from the shape; prepacked operands record the orientation they were packed for.
//   * Weights can be packed once ahead of time (sgemm_pack_a / sgemm_pack_b) and passed as PackedA /
//     PackedB; the driver then reads the panels in place.
//   * Threads: C is cut into a grid of cells aligned to MR / NR; threads take cells dynamically and run the
//     sequential blocked algorithm on each with private packing buffers (no barriers).  There are 2-4
//     cells per thread where the extra packing that costs is negligible (so that a thread preempted by
//     another process does not hold up the whole GEMM), else one.  The number of threads is
//     threads::max_threads() (set it with threads::set_max_threads), reduced for small problems; inside a
//     parallel loop the GEMM runs on the calling thread.
//   * Epilogue: a functor `epi(row, col, ptr, count)` is called exactly once on every piece of C after
//     its final value is stored, while it is hot in L1: ptr points at C[row * ldc + col] and the `count`
//     contiguous elements there are final (count <= 32).  Use it for bias, activation, residual add; see
//     the helpers in namespace aic::cpu::epi.  Pieces never overlap and together cover C exactly.
//
// Public API (namespace aic::cpu):
//   sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc [, epi [, workspace]])
//   sgemm(a_source, b_source, M, N, K, alpha, beta, C, ldc [, epi [, workspace]])
//       sources: RawA{A, lda, transA} / PackedA{ptr, M, transposed},  RawB{B, ldb, transB} / PackedB{...}
//   sgemm_transposed_mode(M, N, K)         the orientation the driver uses for raw operands of this shape
//   sgemm_packed_a_floats(M, K), sgemm_pack_a(transA, M, K, A, lda, dst, transposed)
//   sgemm_packed_b_floats(K, N), sgemm_pack_b(transB, K, N, B, ldb, dst, transposed)
//   sgemm_workspace_bytes(M, N, K, threads)  size of the optional workspace (nullptr: thread-local buffers)
//
// Example: a fully connected layer with bias and ReLU fused, its weights W (K x N) packed at load time.
//   const bool tm = aic::cpu::sgemm_transposed_mode(M, N, K);  // any value works; this one is fastest
//   aic::cpu::sgemm_pack_b(false, K, N, W, N, wp, tm);          // wp: sgemm_packed_b_floats(K, N) floats
//   aic::cpu::sgemm(aic::cpu::RawA{X, K, false}, aic::cpu::PackedB(wp, N, tm), M, N, K, 1.0f, 0.0f, Y, N,
//                   [&](aic::cpu::index_t, aic::cpu::index_t col, float* p, int n) {
//                     for (int j = 0; j < n; ++j) p[j] = std::max(p[j] + bias[col + j], 0.0f);
//                   });
// A prepacked operand fixes the orientation (both prepacked: they must agree).  Calls from several
// threads at once are fine (packing buffers are per thread).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "threads.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics self-initialise an "undefined" vector, which -Wmaybe-uninitialized flags.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

// `#pragma omp simd` where OpenMP (or -fopenmp-simd) is on, else a plain vectorisation hint.
#ifndef AIC_SIMD
#if defined(_OPENMP)
#define AIC_SIMD _Pragma("omp simd")
#elif defined(__GNUC__)
#define AIC_SIMD _Pragma("GCC ivdep")
#else
#define AIC_SIMD
#endif
#endif

namespace aic {
namespace cpu {

using index_t = std::int64_t;

// ---------------------------------------------------------------------------------------------------------
// Blocking parameters
// ---------------------------------------------------------------------------------------------------------
namespace gemm_cfg {
#if defined(__AVX512F__)
#ifndef AIC_GEMM_MR
#define AIC_GEMM_MR 8
#endif
constexpr int MR = AIC_GEMM_MR;
constexpr int NR = 32;
constexpr const char* kIsa = "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
constexpr int MR = 6;
constexpr int NR = 16;
constexpr const char* kIsa = "avx2";
#else
constexpr int MR = 4;
constexpr int NR = 16;
constexpr const char* kIsa = "scalar";
#endif
#ifndef AIC_GEMM_KC
#define AIC_GEMM_KC 384
#endif
#ifndef AIC_GEMM_MC
#define AIC_GEMM_MC 192
#endif
#ifndef AIC_GEMM_NC
#define AIC_GEMM_NC 2048
#endif
constexpr index_t KC = AIC_GEMM_KC;                          // depth of a packed block
constexpr index_t MC = (AIC_GEMM_MC + MR - 1) / MR * MR;      // left-operand rows per L2 block
constexpr index_t NC = (AIC_GEMM_NC + NR - 1) / NR * NR;      // right-operand columns per block
}  // namespace gemm_cfg

namespace gemm_detail {

inline index_t round_up(index_t x, index_t m) { return (x + m - 1) / m * m; }
inline index_t ceil_div(index_t x, index_t m) { return (x + m - 1) / m; }

// Thread-local, 64-byte aligned scratch that only grows.
struct Scratch {
  float* ptr = nullptr;
  std::size_t floats = 0;
  float* get(std::size_t n) {
    if (n > floats) {
      std::free(ptr);
      const std::size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      ptr = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!ptr) throw std::bad_alloc();
      floats = bytes / sizeof(float);
    }
    return ptr;
  }
  ~Scratch() { std::free(ptr); }
};
inline Scratch& scratch_left() { static thread_local Scratch s; return s; }
inline Scratch& scratch_right() { static thread_local Scratch s; return s; }

// Store modes of the micro-kernel.
enum StoreMode : int {
  kOverwrite = 0,  // C = alpha * acc
  kBeta = 1,       // C = alpha * acc + beta * C
  kAccumulate = 2  // C = C + alpha * acc
};

// Generic tile store from a row-major MR x NR buffer: rows < mr, columns < nr; TC: transposed into C.
template <int MR, int NR, bool TC>
inline void store_tile_generic(const float* tile, float* C, index_t ldc, int mr, int nr, float beta, int mode) {
  const float bs = mode == kAccumulate ? 1.0f : beta;
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      float* c = TC ? C + j * ldc + i : C + i * ldc + j;
      const float v = tile[i * NR + j];
      *c = mode == kOverwrite ? v : v + bs * *c;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Micro-kernels: acc(MR x NR) = sum_k L[k*MR + i] * R[k*NR + j]; then store rows < mr, columns < nr of
// alpha * acc (+ beta * C / + C) into C (TC: C[j*ldc + i], i.e. the tile transposed).
// ---------------------------------------------------------------------------------------------------------
#if defined(__AVX512F__)
#if defined(__AVX512VL__)
#define AIC_GEMM_FAST_TSTORE 1
// Transpose 8 rows x 16 columns (r[0..7]) into 16 columns of 8: col[j] = (r[0][j], ..., r[7][j]).
inline void transpose_8x16(const __m512* r, __m256* col) {
  const __m512 a0 = _mm512_unpacklo_ps(r[0], r[1]), a1 = _mm512_unpackhi_ps(r[0], r[1]);
  const __m512 a2 = _mm512_unpacklo_ps(r[2], r[3]), a3 = _mm512_unpackhi_ps(r[2], r[3]);
  const __m512 a4 = _mm512_unpacklo_ps(r[4], r[5]), a5 = _mm512_unpackhi_ps(r[4], r[5]);
  const __m512 a6 = _mm512_unpacklo_ps(r[6], r[7]), a7 = _mm512_unpackhi_ps(r[6], r[7]);
  __m512 b[8];
  b[0] = _mm512_shuffle_ps(a0, a2, 0x44); b[1] = _mm512_shuffle_ps(a0, a2, 0xEE);
  b[2] = _mm512_shuffle_ps(a1, a3, 0x44); b[3] = _mm512_shuffle_ps(a1, a3, 0xEE);
  b[4] = _mm512_shuffle_ps(a4, a6, 0x44); b[5] = _mm512_shuffle_ps(a4, a6, 0xEE);
  b[6] = _mm512_shuffle_ps(a5, a7, 0x44); b[7] = _mm512_shuffle_ps(a5, a7, 0xEE);
  // b[c] lane L: rows 0-3 of column 4L+c; b[4+c] lane L: rows 4-7 of column 4L+c.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    // (column c | c+4) and (column c+8 | c+12), each as rows 0-3 then rows 4-7.
    __m512 p = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44), q = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xEE);
    p = _mm512_shuffle_f32x4(p, p, 0xD8);
    q = _mm512_shuffle_f32x4(q, q, 0xD8);
    col[c] = _mm512_castps512_ps256(p);
    col[c + 4] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1));
    col[c + 8] = _mm512_castps512_ps256(q);
    col[c + 12] = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(q), 1));
  }
}

// Store 8 rows x 16 columns (r[0..7]) transposed: column j of the block goes to C + j*ldc, 8 floats.
inline void store_8x16_t(const __m512* r, float* C, index_t ldc, int mr, int nr, __m512 vb, int mode) {
  __m256 col[16];
  transpose_8x16(r, col);
  const __mmask8 km = __mmask8((1u << mr) - 1u);
  const int n = nr < 16 ? nr : 16;
  for (int j = 0; j < n; ++j) {
    float* dst = C + j * ldc;
    __m256 v = col[j];
    if (mode != kOverwrite) v = _mm256_fmadd_ps(_mm512_castps512_ps256(vb), _mm256_maskz_loadu_ps(km, dst), v);
    _mm256_mask_storeu_ps(dst, km, v);
  }
}
#endif

template <int MR, bool TC>
inline void ukernel(index_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
                    index_t ldc, int mr, int nr, float alpha, float beta, int mode) {
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
  if (!TC) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(B);
    const __m512 b1 = _mm512_loadu_ps(B + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    A += MR;
    B += 32;
  }
  if (alpha != 1.0f) {
    const __m512 va = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) { c0[i] = _mm512_mul_ps(c0[i], va); c1[i] = _mm512_mul_ps(c1[i], va); }
  }
  const __m512 vb = _mm512_set1_ps(mode == kAccumulate ? 1.0f : beta);
  if (TC) {
#if defined(AIC_GEMM_FAST_TSTORE)
    if (MR == 8) {
      store_8x16_t(c0, C, ldc, mr, nr, vb, mode);
      if (nr > 16) store_8x16_t(c1, C + 16 * ldc, ldc, mr, nr - 16, vb, mode);
    } else
#endif
    {
      alignas(64) float tile[MR * 32];
      for (int i = 0; i < MR; ++i) { _mm512_store_ps(tile + i * 32, c0[i]); _mm512_store_ps(tile + i * 32 + 16, c1[i]); }
      store_tile_generic<MR, 32, true>(tile, C, ldc, mr, nr, beta, mode);
    }
    return;
  }
  if (nr == 32 && mr == MR) {
    if (mode == kOverwrite) {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) { _mm512_storeu_ps(C + i * ldc, c0[i]); _mm512_storeu_ps(C + i * ldc + 16, c1[i]); }
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        float* c = C + i * ldc;
        _mm512_storeu_ps(c, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), c0[i]));
        _mm512_storeu_ps(c + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 16), c1[i]));
      }
    }
    return;
  }
  const __mmask16 k0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1u);
  const __mmask16 k1 = nr >= 32 ? __mmask16(0xFFFF) : nr > 16 ? __mmask16((1u << (nr - 16)) - 1u) : __mmask16(0);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    if (i >= mr) break;
    float* c = C + i * ldc;
    __m512 r0 = c0[i], r1 = c1[i];
    if (mode != kOverwrite) {
      r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, c), r0);
      r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, c + 16), r1);
    }
    _mm512_mask_storeu_ps(c, k0, r0);
    _mm512_mask_storeu_ps(c + 16, k1, r1);
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
template <int MR, bool TC>
inline void ukernel(index_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
                    index_t ldc, int mr, int nr, float alpha, float beta, int mode) {
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(B);
    const __m256 b1 = _mm256_loadu_ps(B + 8);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m256 a = _mm256_broadcast_ss(A + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    A += MR;
    B += 16;
  }
  const __m256 va = _mm256_set1_ps(alpha);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) { c0[i] = _mm256_mul_ps(c0[i], va); c1[i] = _mm256_mul_ps(c1[i], va); }
  if (!TC && nr == 16 && mr == MR) {
    const __m256 vb = _mm256_set1_ps(mode == kAccumulate ? 1.0f : beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      float* c = C + i * ldc;
      __m256 r0 = c0[i], r1 = c1[i];
      if (mode != kOverwrite) {
        r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), r0);
        r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), r1);
      }
      _mm256_storeu_ps(c, r0);
      _mm256_storeu_ps(c + 8, r1);
    }
    return;
  }
  alignas(32) float tile[MR * 16];
  for (int i = 0; i < MR; ++i) { _mm256_store_ps(tile + i * 16, c0[i]); _mm256_store_ps(tile + i * 16 + 8, c1[i]); }
  store_tile_generic<MR, 16, TC>(tile, C, ldc, mr, nr, beta, mode);
}
#else
template <int MR, bool TC>
inline void ukernel(index_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
                    index_t ldc, int mr, int nr, float alpha, float beta, int mode) {
  constexpr int NR = gemm_cfg::NR;
  float acc[MR * NR];
  for (int i = 0; i < MR * NR; ++i) acc[i] = 0.0f;
  for (index_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i) {
      const float a = A[i];
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += a * B[j];
    }
    A += MR;
    B += NR;
  }
  for (int i = 0; i < MR * NR; ++i) acc[i] *= alpha;
  store_tile_generic<MR, NR, TC>(acc, C, ldc, mr, nr, beta, mode);
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Packing.  A matrix operand X is seen as (outer index o, depth k): op(A)(i, k) has outer i, op(B)(k, j)
// outer j.  pack_panels<P> writes outer [o0, o0+n) x depth [p0, p0+kc) as ceil(n/P) panels of kc*P
// floats, element (o, k) at k*P + o, zero-padding outer indices past n.
// ---------------------------------------------------------------------------------------------------------

// X(o, k) = ptr[k*ld + o]: P contiguous floats per k.
template <int P>
inline void pack_kmajor(const float* ptr, index_t ld, index_t o0, index_t n, index_t p0, index_t kc, float* __restrict dst) {
  for (index_t o = 0; o < n; o += P, dst += kc * P) {
    const int w = int(std::min<index_t>(P, n - o));
    const float* src = ptr + p0 * ld + o0 + o;
    if (w == P) {
      // A constant-size copy: written as a loop, g++ 12 made it a call to memmove per row (8% of ShuffleNet's
      // time on one Zen 3 core went to memmove).
      for (index_t k = 0; k < kc; ++k) __builtin_memcpy(dst + k * P, src + k * ld, sizeof(float) * P);
    } else {
      for (index_t k = 0; k < kc; ++k) {
        const float* s = src + k * ld;
        float* d = dst + k * P;
        int j = 0;
        for (; j < w; ++j) d[j] = s[j];
        for (; j < P; ++j) d[j] = 0.0f;
      }
    }
  }
}

// X(o, k) = ptr[o*ld + k]: P row streams interleaved (a transpose).
template <int P>
inline void pack_omajor(const float* ptr, index_t ld, index_t o0, index_t n, index_t p0, index_t kc, float* __restrict dst) {
  for (index_t o = 0; o < n; o += P, dst += kc * P) {
    const int w = int(std::min<index_t>(P, n - o));
    const float* rows[P];
    for (int i = 0; i < P; ++i) rows[i] = ptr + (o0 + o + std::min(i, w - 1)) * ld + p0;
    if (w == P) {
      index_t k = 0;
#if defined(AIC_GEMM_FAST_TSTORE)
      if (P % 8 == 0) {
        // Blocks of 16 depth steps x 8 rows: load 8 rows of 16, transpose, store 16 panel rows of 8.
        for (; k + 16 <= kc; k += 16) {
          float* d = dst + k * P;
          for (int i0 = 0; i0 < P; i0 += 8) {
            __m512 r[8];
            __m256 col[16];
#pragma GCC unroll 8
            for (int i = 0; i < 8; ++i) r[i] = _mm512_loadu_ps(rows[i0 + i] + k);
            transpose_8x16(r, col);
#pragma GCC unroll 16
            for (int t = 0; t < 16; ++t) _mm256_storeu_ps(d + t * P + i0, col[t]);
          }
        }
      }
#endif
      // Blocks of 8 depth steps: read 8 contiguous floats of each row, write 8 panel rows.
      for (; k + 8 <= kc; k += 8) {
        float* d = dst + k * P;
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
          const float* s = rows[i] + k;
#pragma GCC unroll 8
          for (int t = 0; t < 8; ++t) d[t * P + i] = s[t];
        }
      }
      for (; k < kc; ++k)
        for (int i = 0; i < P; ++i) dst[k * P + i] = rows[i][k];
    } else {
      for (index_t k = 0; k < kc; ++k)
        for (int i = 0; i < P; ++i) dst[k * P + i] = i < w ? rows[i][k] : 0.0f;
    }
  }
}

}  // namespace gemm_detail

// ---------------------------------------------------------------------------------------------------------
// Operand sources.  A source packs (outer range, depth range) into P-wide panels on request
// (`panels<P>(o0, n, p0, kc, buf)` returns the panels, in `buf` or in prepacked storage).  conv.h adds an
// implicit-im2col source.  `kPrepacked` sources also say which orientation they were packed for.
// ---------------------------------------------------------------------------------------------------------

/// A raw matrix as the left operand: op(A)(i, k) = trans ? A[k*ld + i] : A[i*ld + k].
struct RawA {
  const float* ptr; index_t ld; bool trans;
  static constexpr bool kPrepacked = false;
  bool transposed() const { return false; }
  template <int P>
  const float* panels(index_t o0, index_t n, index_t p0, index_t kc, float* buf) const {
    if (trans) gemm_detail::pack_kmajor<P>(ptr, ld, o0, n, p0, kc, buf);
    else gemm_detail::pack_omajor<P>(ptr, ld, o0, n, p0, kc, buf);
    return buf;
  }
};
/// A raw matrix as the right operand: op(B)(k, j) = trans ? B[j*ld + k] : B[k*ld + j].
struct RawB {
  const float* ptr; index_t ld; bool trans;
  static constexpr bool kPrepacked = false;
  bool transposed() const { return false; }
  template <int P>
  const float* panels(index_t o0, index_t n, index_t p0, index_t kc, float* buf) const {
    if (trans) gemm_detail::pack_omajor<P>(ptr, ld, o0, n, p0, kc, buf);
    else gemm_detail::pack_kmajor<P>(ptr, ld, o0, n, p0, kc, buf);
    return buf;
  }
};

/// Whether the driver computes C^T = op(B)^T op(A)^T for raw operands of this shape (prepacked operands
/// must be packed with the same flag).  True when N is ragged for NR-wide tiles and M is not for NR.
/// (AIC_GEMM_FORCE_MODE=0/1 overrides it, for experiments.)
inline bool sgemm_transposed_mode(index_t M, index_t N, index_t /*K*/) {
#if defined(AIC_GEMM_FORCE_MODE)
  (void)M; (void)N;
  return AIC_GEMM_FORCE_MODE;
#elif defined(__AVX512F__)
  using gemm_detail::round_up;
  using namespace gemm_cfg;
  if (M <= 0 || N <= 0) return false;
  const double normal = double(M) / double(round_up(M, MR)) * double(N) / double(round_up(N, NR));
  const double trans = double(N) / double(round_up(N, MR)) * double(M) / double(round_up(M, NR));
  // Transposed, the left operand (op(B)^T, e.g. the im2col panels) is reused by only M / NR right
  // panels: with fewer than two, its packing is not amortised (measured: M = 32 prefers normal).
  return M >= 2 * NR && trans * 0.95 > normal;
#else
  (void)M; (void)N;
  return false;
#endif
}

/// Floats needed to prepack an M x K op(A) (either orientation).
inline std::size_t sgemm_packed_a_floats(index_t M, index_t K) {
  using gemm_detail::round_up;
  return std::size_t(std::max(round_up(M, gemm_cfg::MR), round_up(M, gemm_cfg::NR)) * K);
}
/// Floats needed to prepack a K x N op(B) (either orientation).
inline std::size_t sgemm_packed_b_floats(index_t K, index_t N) { return sgemm_packed_a_floats(N, K); }

namespace gemm_detail {
// Pack a whole source (outer n, depth K) into P-wide panels, KC block after KC block.
template <int P, class Src>
void pack_all(const Src& src, index_t n, index_t K, float* dst) {
  const index_t np = round_up(n, P);
  for (index_t p0 = 0; p0 < K; p0 += gemm_cfg::KC) {
    const index_t kc = std::min(gemm_cfg::KC, K - p0);
    const float* r = src.template panels<P>(0, n, p0, kc, dst + p0 * np);
    if (r != dst + p0 * np) std::memcpy(dst + p0 * np, r, sizeof(float) * std::size_t(np * kc));
  }
}
}  // namespace gemm_detail

/// Prepack op(A) (M x K) for the given orientation (sgemm_transposed_mode(M, N, K) of the GEMM it feeds).
inline void sgemm_pack_a(bool transA, index_t M, index_t K, const float* A, index_t lda, float* dst, bool transposed = false) {
  const RawA src{A, lda, transA};
  if (transposed) gemm_detail::pack_all<gemm_cfg::NR>(src, M, K, dst);
  else gemm_detail::pack_all<gemm_cfg::MR>(src, M, K, dst);
}
/// Prepack op(B) (K x N) for the given orientation.
inline void sgemm_pack_b(bool transB, index_t K, index_t N, const float* B, index_t ldb, float* dst, bool transposed = false) {
  const RawB src{B, ldb, transB};
  if (transposed) gemm_detail::pack_all<gemm_cfg::MR>(src, N, K, dst);
  else gemm_detail::pack_all<gemm_cfg::NR>(src, N, K, dst);
}

/// Prepacked panels of an operand with `outer` rows (A: M) or columns (B: N), from sgemm_pack_a/_b or
/// conv.h's packers, for the orientation `transposed`.
struct Packed {
  const float* ptr; index_t outer; bool trans_mode;
  static constexpr bool kPrepacked = true;
  bool transposed() const { return trans_mode; }
  template <int P>
  const float* panels(index_t o0, index_t, index_t p0, index_t kc, float*) const {
    return ptr + p0 * gemm_detail::round_up(outer, P) + o0 * kc;
  }
};
struct PackedA : Packed {
  PackedA(const float* p, index_t M, bool transposed = false) : Packed{p, M, transposed} {}
};
struct PackedB : Packed {
  PackedB(const float* p, index_t N, bool transposed = false) : Packed{p, N, transposed} {}
};

// ---------------------------------------------------------------------------------------------------------
// Epilogues: functors called as epi(row, col, ptr, count) on final pieces of C (ptr = &C[row*ldc + col]).
// ---------------------------------------------------------------------------------------------------------
namespace epi {
struct None {
  void operator()(index_t, index_t, float*, int) const {}
};
/// c += bias[row]  (conv: per output channel)
struct BiasRow {
  const float* bias;
  void operator()(index_t row, index_t, float* c, int n) const {
    const float b = bias[row];
AIC_SIMD
    for (int j = 0; j < n; ++j) c[j] += b;
  }
};
/// c += bias[col]  (fully connected layers)
struct BiasCol {
  const float* bias;
  void operator()(index_t, index_t col, float* c, int n) const {
    const float* b = bias + col;
AIC_SIMD
    for (int j = 0; j < n; ++j) c[j] += b[j];
  }
};
struct Relu {
  void operator()(index_t, index_t, float* c, int n) const {
AIC_SIMD
    for (int j = 0; j < n; ++j) c[j] = c[j] > 0.0f ? c[j] : 0.0f;
  }
};
/// c += r[row*ldr + col]  (residual add)
struct Residual {
  const float* r; index_t ldr;
  void operator()(index_t row, index_t col, float* c, int n) const {
    const float* s = r + row * ldr + col;
AIC_SIMD
    for (int j = 0; j < n; ++j) c[j] += s[j];
  }
};
/// Apply F then G.
template <class F, class G>
struct Then {
  F f; G g;
  void operator()(index_t row, index_t col, float* c, int n) const { f(row, col, c, n); g(row, col, c, n); }
};
template <class F, class G>
inline Then<F, G> then(F f, G g) { return Then<F, G>{f, g}; }
}  // namespace epi

namespace gemm_detail {

// A rectangle of the (left outer) x (right outer) iteration space.
struct Span { index_t l0, l1, r0, r1; };

// Choose an l x r grid of `nt` thread tiles minimising the estimated per-thread cost (multiply-adds on the
// MR/NR-rounded tile plus packing of the operands that are not prepacked).
inline void choose_grid(index_t L, index_t R, index_t K, int nt, bool l_packed, bool r_packed, int& tl, int& tr) {
  using namespace gemm_cfg;
  const index_t lp = ceil_div(L, MR), rp = ceil_div(R, NR);
  double best = 1e300;
  tl = 1; tr = nt;
  for (int a = 1; a <= nt; ++a) {
    if (nt % a) continue;
    const int b = nt / a;
    const double rows = double(ceil_div(lp, a) * MR), cols = double(ceil_div(rp, b) * NR);
    double cost = rows * cols * double(K) / 32.0;  // ~cycles: 32 multiply-adds per cycle
    if (!l_packed) cost += rows * double(K) * double(ceil_div(index_t(cols), NC)) * 0.5;
    if (!r_packed) cost += cols * double(K) * 0.5;
    if (a > lp || b > rp) cost += 1e200;  // a thread without work
    if (cost < best * 0.999) { best = cost; tl = a; tr = b; }
  }
}

// Rough cycles spent packing (0.5 per element) or re-reading prepacked panels (0.1) when the iteration
// space is cut into a tl x tr grid of independently processed cells.
inline double grid_packing(index_t L, index_t R, index_t K, int tl, int tr, bool l_packed, bool r_packed) {
  using namespace gemm_cfg;
  const index_t lp = ceil_div(L, MR), rp = ceil_div(R, NR);
  const double rows = double(ceil_div(lp, tl) * MR), cols = double(ceil_div(rp, tr) * NR);
  const double left = rows * double(K) * double(ceil_div(index_t(cols), NC)), right = cols * double(K);
  return double(tl) * double(tr) * (left * (l_packed ? 0.1 : 0.5) + right * (r_packed ? 0.1 : 0.5));
}

// How many cells to cut the work into for nt threads taking cells dynamically: more cells than threads
// (so that a thread preempted by another process delays only its cell, the others take the rest) when
// the extra packing this costs stays under 3% of the arithmetic.
inline int choose_cells(index_t L, index_t R, index_t K, int nt, bool l_packed, bool r_packed, int& tl, int& tr) {
  using namespace gemm_cfg;
  const index_t lp = ceil_div(L, MR), rp = ceil_div(R, NR);
  const double flops_cycles = double(L) * double(R) * double(K) / 32.0;
  const double base = grid_packing(L, R, K, 1, 1, l_packed, r_packed);
  if (nt > 1) {
    for (int u : {4 * nt, 2 * nt}) {
      choose_grid(L, R, K, u, l_packed, r_packed, tl, tr);
      if (tl > lp || tr > rp) continue;
      if (grid_packing(L, R, K, tl, tr, l_packed, r_packed) - base <= 0.03 * flops_cycles) return u;
    }
  }
  choose_grid(L, R, K, nt, l_packed, r_packed, tl, tr);
  return nt;
}

inline Span thread_span(index_t L, index_t R, int tl, int tr, int t) {
  using namespace gemm_cfg;
  const int ti = t / tr, tj = t % tr;
  const index_t lp = ceil_div(L, MR), rp = ceil_div(R, NR);
  const index_t la = lp / tl, lb = lp % tl, ra = rp / tr, rb = rp % tr;
  const index_t pl0 = ti * la + std::min<index_t>(ti, lb), pl1 = pl0 + la + (ti < lb ? 1 : 0);
  const index_t pr0 = tj * ra + std::min<index_t>(tj, rb), pr1 = pr0 + ra + (tj < rb ? 1 : 0);
  return {std::min(L, pl0 * MR), std::min(L, pl1 * MR), std::min(R, pr0 * NR), std::min(R, pr1 * NR)};
}

/// Floats of packing buffer one thread needs (left block, right block), each a multiple of 64 bytes.
inline void buffer_floats(index_t L, index_t R, index_t K, std::size_t& fl, std::size_t& fr) {
  using namespace gemm_cfg;
  const index_t kc = std::min(KC, std::max<index_t>(K, 1));
  fl = std::size_t(round_up(std::min(MC, round_up(L, MR)) * kc, 16));
  fr = std::size_t(round_up(std::min(NC, round_up(R, NR)) * kc, 16));
}

// Depth up to which gemm_span walks a block row by row (see there).  Zen 3, 1 thread, C not in cache:
// SqueezeNet's 3x3/2 3->64 stem (K = 27) 2.0 -> 1.0 ms, a 1x1 16->64 at 56x56 0.38 -> 0.19 ms, a 3x3 16->64
// (K = 144) 1.19 -> 0.91 ms; with C in cache the same or slightly faster.
#ifndef AIC_GEMM_SHALLOW_K
#define AIC_GEMM_SHALLOW_K 160
#endif
constexpr index_t kShallowK = AIC_GEMM_SHALLOW_K;

// The sequential blocked algorithm on span s of the iteration space.  Tile (l, r) of the result is
// C[l*ldc + r] (normal) or C[r*ldc + l] (TC, transposed).
template <bool TC, class LSrc, class RSrc, class Epi>
void gemm_span(const LSrc& lsrc, const RSrc& rsrc, index_t K, float alpha, float beta, float* C, index_t ldc,
               const Epi& epi, Span s, float* lbuf, float* rbuf) {
  using namespace gemm_cfg;
  // With a single left block, the packed right block is used right away: size it to stay in L2
  // (AIC_GEMM_L2_RIGHT bytes) rather than NC columns.
#ifndef AIC_GEMM_L2_RIGHT
#define AIC_GEMM_L2_RIGHT (512 * 1024)
#endif
  const bool single_left = !RSrc::kPrepacked && s.l1 - s.l0 <= MC;
  const index_t ncb = single_left
      ? std::max<index_t>(NR, std::min<index_t>(NC, AIC_GEMM_L2_RIGHT / (4 * std::min(KC, K)) / NR * NR)) : NC;
  for (index_t jc = s.r0; jc < s.r1; jc += ncb) {
    const index_t nc = std::min(ncb, s.r1 - jc);
    for (index_t pc = 0; pc < K; pc += KC) {
      const index_t kc = std::min(KC, K - pc);
      const bool last = pc + kc >= K;
      const int mode = pc > 0 ? kAccumulate : beta == 0.0f ? kOverwrite : kBeta;
      const float* rp = rsrc.template panels<NR>(jc, nc, pc, kc, rbuf);
      for (index_t ic = s.l0; ic < s.l1; ic += MC) {
        const index_t mc = std::min(MC, s.l1 - ic);
        const float* lp = lsrc.template panels<MR>(ic, mc, pc, kc, lbuf);
        auto tile = [&](index_t ir, index_t jr) {
          const int mr = int(std::min<index_t>(MR, mc - ir)), nr = int(std::min<index_t>(NR, nc - jr));
          const index_t l = ic + ir, r = jc + jr;
          float* c = TC ? C + r * ldc + l : C + l * ldc + r;
          ukernel<MR, TC>(kc, lp + ir * kc, rp + jr * kc, c, ldc, mr, nr, alpha, beta, mode);
          if (last) {
            if (TC) for (int j = 0; j < nr; ++j) epi(r + j, l, c + j * ldc, mr);
            else for (int i = 0; i < mr; ++i) epi(l + i, r, c + i * ldc, nr);
          }
        };
        if (!TC && kc <= kShallowK) {
          // Shallow products (a 3-channel stem, 1x1 convolutions of few channels) are bound by writing C:
          // MR rows at a time along the block, MR store streams, rather than a column of tiles touching
          // every row of C at once (more streams than the prefetchers follow).  The right panels, kc x NR
          // each, are cheap to reread from L2.
          for (index_t ir = 0; ir < mc; ir += MR)
            for (index_t jr = 0; jr < nc; jr += NR) tile(ir, jr);
        } else {
          for (index_t jr = 0; jr < nc; jr += NR)
            for (index_t ir = 0; ir < mc; ir += MR) tile(ir, jr);
        }
      }
    }
  }
}

// K == 0 or alpha == 0: C = beta * C, then the epilogue.
template <class Epi>
void scale_only(index_t M, index_t N, float beta, float* C, index_t ldc, const Epi& epi) {
  for (index_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f) std::fill(c, c + N, 0.0f);
    else for (index_t j = 0; j < N; ++j) c[j] *= beta;
    for (index_t j = 0; j < N; j += 32) epi(i, j, c + j, int(std::min<index_t>(32, N - j)));
  }
}

// Whether work of `flops` on `bytes` of operands is worth a second thread.  With OpenMP's teams (Zen 5),
// products under 16 flop/byte ran slower on 2 threads than on 1 (every cache line the other core had
// just written crossing over, plus libgomp's barrier); on threads.h's pool (Zen 3) they gain: SqueezeNet's
// 1x1 convolutions and 3-channel stem (6-10 flop/byte) on both cores took the model at 2 threads from 7.9
// to 6.9 ms (alternating binaries).  What is left is a floor: 2 MFLOP, and at least a flop per byte.
constexpr double kParallelFlopsPerByte = 1.0;
inline bool worth_threads(double flops, double bytes) { return flops >= 2.0e6 && flops >= kParallelFlopsPerByte * bytes; }

// Threads worth using: enough arithmetic per byte (worth_threads), at least ~1 MFLOP of work per thread
// and a tile each.
inline int useful_threads(index_t M, index_t N, index_t K) {
  const double flops = 2.0 * double(M) * double(N) * double(K);
  if (!worth_threads(flops, 4.0 * (double(M) * double(K) + double(K) * double(N) + double(M) * double(N)))) return 1;
  const int cap = threads::max_threads();
  const int nt = int(std::min<double>(cap, std::max(1.0, flops / 1.0e6)));
  const index_t tiles = ceil_div(M, gemm_cfg::MR) * ceil_div(N, gemm_cfg::NR);
  return int(std::max<index_t>(1, std::min<index_t>(nt, tiles)));
}

template <bool TC, class LSrc, class RSrc, class Epi>
void run_parallel(const LSrc& l, const RSrc& r, index_t L, index_t R, index_t K, float alpha, float beta, float* C,
                  index_t ldc, const Epi& epi, void* workspace, int nt) {
  std::size_t fl, fr;
  buffer_floats(L, R, K, fl, fr);
  float* ws = workspace ? reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(workspace) + 63) & ~std::uintptr_t(63))
                        : nullptr;
  int tl, tr;
  const int cells = choose_cells(L, R, K, nt, LSrc::kPrepacked, RSrc::kPrepacked, tl, tr);
  auto cell = [&](int t, int c) {
    const Span s = thread_span(L, R, tl, tr, c);
    if (s.l0 >= s.l1 || s.r0 >= s.r1) return;
    float* lbuf = ws ? ws + std::size_t(t) * (fl + fr) : (LSrc::kPrepacked ? nullptr : scratch_left().get(fl));
    float* rbuf = ws ? ws + std::size_t(t) * (fl + fr) + fl : (RSrc::kPrepacked ? nullptr : scratch_right().get(fr));
    gemm_span<TC>(l, r, K, alpha, beta, C, ldc, epi, s, lbuf, rbuf);
  };
  // Cells taken dynamically; `t` (the thread's slot in this loop) picks its packing buffers.
  threads::parallel_for(cells, nt, [&](index_t c, int t) { cell(t, int(c)); });
}

}  // namespace gemm_detail

/// Bytes of workspace for a GEMM of this size on up to `threads` threads.
inline std::size_t sgemm_workspace_bytes(index_t M, index_t N, index_t K, int threads) {
  std::size_t fl, fr, gl, gr;
  gemm_detail::buffer_floats(M, N, K, fl, fr);  // normal orientation
  gemm_detail::buffer_floats(N, M, K, gl, gr);  // transposed
  return std::size_t(std::max(threads, 1)) * std::max(fl + fr, gl + gr) * sizeof(float) + 64;
}

/// The general entry point on operand sources: C (M x N) = alpha * op(A) op(B) + beta * C, then epi.
template <class ASrc, class BSrc, class Epi = epi::None>
void sgemm(const ASrc& a, const BSrc& b, index_t M, index_t N, index_t K, float alpha, float beta, float* C,
           index_t ldc, const Epi& epi = Epi{}, void* workspace = nullptr) {
  using namespace gemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_only(M, N, beta, C, ldc, epi);
    return;
  }
  bool tc;
  if (ASrc::kPrepacked) tc = a.transposed();
  else if (BSrc::kPrepacked) tc = b.transposed();
  else tc = sgemm_transposed_mode(M, N, K);
  if (ASrc::kPrepacked && BSrc::kPrepacked && a.transposed() != b.transposed()) std::abort();
  const int nt = useful_threads(M, N, K);
  if (tc) run_parallel<true>(b, a, N, M, K, alpha, beta, C, ldc, epi, workspace, nt);
  else run_parallel<false>(a, b, M, N, K, alpha, beta, C, ldc, epi, workspace, nt);
}

/// C = alpha * op(A) * op(B) + beta * C, then epi on every final piece.  Row-major, leading dimensions in
/// elements.  beta == 0 ignores C's contents (NaN-safe).
template <class Epi = epi::None>
void sgemm(bool transA, bool transB, index_t M, index_t N, index_t K, float alpha, const float* A, index_t lda,
           const float* B, index_t ldb, float beta, float* C, index_t ldc, const Epi& epi = Epi{},
           void* workspace = nullptr) {
  sgemm(RawA{A, lda, transA}, RawB{B, ldb, transB}, M, N, K, alpha, beta, C, ldc, epi, workspace);
}

}  // namespace cpu
}  // namespace aic

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
