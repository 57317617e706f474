// aic CPU runtime: matrix-vector product with the matrix's rows contiguous, fp32.  Header-only C++17.
//
//   y[n] = sum_k W[n * ldw + k] * x[k]    for n in [0, N)        (a fully connected layer on one input:
//                                                                  ONNX Gemm with transB = 1, M = 1)
//
// With one input row a fully connected layer is a stream over its weights: 4 bytes read per multiply-add,
// nothing reused, so it runs at the memory's speed if the arithmetic keeps up.  The generated loop for it
// (one output at a time, the sum in double) is bound by its one chain of dependent vector adds instead.
// Here four rows are dotted at once with two vector accumulators each (8 independent FMA chains), x read
// once for the four, each sum reduced across lanes at the end.  The sum is in fp32, as in the GEMM (the
// generated loop and the interpreter sum in double: results differ by rounding).
// Measured on Zen 3 (AVX2), standalone, best of 20, weights in DRAM: 4096 x 9216 (AlexNet's fc6) 1 thread
// 9.83 ms as the generated loop -> 4.95 ms (15.4 -> 30.5 GB/s), 2 threads 6.05 -> 3.77 ms; 1000 x 1024
// (a classifier, in cache) 0.19 -> 0.06 ms.
// The epilogue is called as epi(0, n0, &y[n0], count) on pieces of up to 32 final outputs, as the GEMM's.
// Threads: the rows split among threads::max_threads() when the matrix is over 1 MiB.
//
// API (namespace aic::cpu):  sgemv_rows(x, W, ldw, N, K, y [, epi])
#pragma once

#include <algorithm>
#include <cstdint>

#include "threads.h"

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

namespace aic {
namespace cpu {

namespace gemv_detail {

using index_t = std::int64_t;

#if defined(__AVX512F__)
struct Isa {
  using V = __m512;
  static constexpr int L = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(V a, V b) { return _mm512_reduce_add_ps(_mm512_add_ps(a, b)); }
};
#elif defined(__AVX2__) && defined(__FMA__)
struct Isa {
  using V = __m256;
  static constexpr int L = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(V a, V b) {
    const V v = _mm256_add_ps(a, b);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
};
#endif

// y[0..4) = the four rows at w, w + ldw, ... (K floats each) dotted with x.
inline void dot4(const float* __restrict x, const float* __restrict w, index_t ldw, index_t K, float* __restrict y) {
  const float *w0 = w, *w1 = w + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
  index_t k = 0;
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
  constexpr int L = Isa::L;
  Isa::V s00 = Isa::zero(), s01 = Isa::zero(), s10 = Isa::zero(), s11 = Isa::zero();
  Isa::V s20 = Isa::zero(), s21 = Isa::zero(), s30 = Isa::zero(), s31 = Isa::zero();
  for (; k + 2 * L <= K; k += 2 * L) {
    const Isa::V x0 = Isa::load(x + k), x1 = Isa::load(x + k + L);
    s00 = Isa::fma(Isa::load(w0 + k), x0, s00);
    s01 = Isa::fma(Isa::load(w0 + k + L), x1, s01);
    s10 = Isa::fma(Isa::load(w1 + k), x0, s10);
    s11 = Isa::fma(Isa::load(w1 + k + L), x1, s11);
    s20 = Isa::fma(Isa::load(w2 + k), x0, s20);
    s21 = Isa::fma(Isa::load(w2 + k + L), x1, s21);
    s30 = Isa::fma(Isa::load(w3 + k), x0, s30);
    s31 = Isa::fma(Isa::load(w3 + k + L), x1, s31);
  }
  a0 = Isa::sum(s00, s01);
  a1 = Isa::sum(s10, s11);
  a2 = Isa::sum(s20, s21);
  a3 = Isa::sum(s30, s31);
#endif
  for (; k < K; ++k) {
    const float v = x[k];
    a0 += w0[k] * v;
    a1 += w1[k] * v;
    a2 += w2[k] * v;
    a3 += w3[k] * v;
  }
  y[0] = a0;
  y[1] = a1;
  y[2] = a2;
  y[3] = a3;
}

inline float dot1(const float* __restrict x, const float* __restrict w, index_t K) {
  float a = 0.0f;
#ifdef _OPENMP
#pragma omp simd reduction(+ : a)
#endif
  for (index_t k = 0; k < K; ++k) a += w[k] * x[k];
  return a;
}

struct NoEpilogue {
  void operator()(index_t, index_t, float*, int) const {}
};

}  // namespace gemv_detail

/// y[n] = sum_k W[n*ldw + k] * x[k] for n < N, then epi(0, n0, &y[n0], count) on pieces of <= 32 outputs.
template <class Epi = gemv_detail::NoEpilogue>
void sgemv_rows(const float* x, const float* W, std::int64_t ldw, std::int64_t N, std::int64_t K, float* y, const Epi& epi = Epi{}) {
  using gemv_detail::index_t;
  constexpr index_t kPiece = 32;
  if (N <= 0) return;
  const index_t pieces = (N + kPiece - 1) / kPiece;
  const bool par = N * K * index_t(sizeof(float)) > (index_t(1) << 20);
  threads::parallel_range(pieces, par ? threads::max_threads() : 1, [&](index_t p0, index_t p1) {
    for (index_t p = p0; p < p1; ++p) {
      const index_t n0 = p * kPiece, n1 = std::min(N, n0 + kPiece);
      index_t n = n0;
      for (; n + 4 <= n1; n += 4) gemv_detail::dot4(x, W + n * ldw, ldw, K, y + n);
      for (; n < n1; ++n) y[n] = gemv_detail::dot1(x, W + n * ldw, K);
      epi(index_t(0), n0, y + n0, int(n1 - n0));
    }
  });
}

}  // namespace cpu
}  // namespace aic
