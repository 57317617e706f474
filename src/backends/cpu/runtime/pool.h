// aic CPU runtime: 2-D max and sum pooling of one NCHW plane, fp32.  Header-only C++17, no dependencies.
//
//   maxpool_plane: y[oh, ow] = max over taps (kh, kw) inside the image of x[oh*SH - PT + kh*DH, ow*SW - PL + kw*DW]
//   sumpool_plane: the same window's sum, taps in the padding counting as 0 (an average pool divides it)
//
// The max is the reference's: taps in the padding count as -inf, NaN propagates (the first NaN met), and
// max(-0, +0) = +0.  That exact max costs 7 vector ops a tap, so the plane is scanned first: without a NaN
// or a -0 in it (nearly always) the plain max instruction gives the same bits, and only planes that hold
// one take the exact path.  The sum is accumulated in double and rounded once, as the generated loops and
// the interpreter sum fp32, so it matches them bit for bit.
// A padded window goes through a per-thread scratch copy of the plane with the fill around it (the scan
// rides along), so that every tap is a plain load without a bounds test or a data-dependent branch (scalar
// code with those mispredicts on real data: 4x slower); an unpadded max reads the plane in place.  A sum
// copies into a plane widened to double (one conversion per value, not one per tap), except windows that
// do not overlap, which read in place.  8 outputs at a time with AVX2, 16 with AVX-512 (stride 1: plain
// loads; stride 2: two loads compacted by a shuffle; else a gather), 3x3 windows and strides 1 and 2
// specialised at compile time; the outputs whose vector loads would run past the plane one at a time.
// The generated kernel calls these once per channel, in parallel over the channels, and applies what
// follows the pooling (the average's division, a fused activation) to each plane just written.
// Measured on Zen 3 (AVX2), 1 thread, hot caches, best of 1000, before this scan / in-place / compile-time
// shape version -> with it: max 64x112x112 3x3/2 ceil (Inception) 0.41 -> 0.25 ms, 64x111x111 3x3/2
// (SqueezeNet) 0.42 -> 0.21 ms, 256x28x28 3x3/1 pad 1 0.35 -> 0.19 ms, 576x14x14 0.25 -> 0.16 ms; the
// average pools of Inception v2 in the model (profiled, 8 of them) 2.85 ms as generated loops -> 1.94 ms;
// a 2x2/2 sum on 128x56x56 in place 0.12 ms, through the widened plane 0.17 ms.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace aic {
namespace cpu {

struct Pool2dShape {
  std::int64_t H, W, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW;
};

namespace pool_detail {

inline float max_ref(float a, float b) {
  if (a != a) return a;
  if (a == b) {
    std::uint32_t x, y;
    std::memcpy(&x, &a, 4);
    std::memcpy(&y, &b, 4);
    x &= y;
    std::memcpy(&a, &x, 4);
    return a;
  }
  return a > b ? a : b;
}

// max_ref where neither operand is NaN or -0.
inline float max_plain(float a, float b) { return b > a ? b : a; }

#if defined(__AVX512F__)
constexpr std::int64_t kLanes = 16;
using Vec = __m512;
inline Vec splat(float v) { return _mm512_set1_ps(v); }
// max_ref on 16 lanes.
inline Vec max_ref_v(Vec a, Vec b) {
  __m512 m = _mm512_max_ps(a, b);
  m = _mm512_mask_and_ps(m, _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ), a, b);
  const __mmask16 nan = _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
  // a NaN: a; else b NaN: b (a + b returns a's NaN when a is one, else b's).
  return _mm512_mask_add_ps(m, nan, a, b);
}
inline Vec max_plain_v(Vec a, Vec b) { return _mm512_max_ps(a, b); }
// 16 values from p, SW apart (SW == 2: the lanes in order, no fix-up needed).
inline Vec load_strided(const float* p, std::int64_t SW) {
  if (SW == 1) return _mm512_loadu_ps(p);
  if (SW == 2) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
  }
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  return _mm512_i32gather_ps(_mm512_mullo_epi32(lanes, _mm512_set1_epi32(int(SW))), p, 4);
}
inline Vec lanes_in_order(Vec v, std::int64_t) { return v; }
inline void store_first(float* y, Vec v, std::int64_t n) {
  if (n >= 16) _mm512_storeu_ps(y, v);
  else _mm512_mask_storeu_ps(y, __mmask16((1u << n) - 1u), v);
}
// Whether x[0..n) holds a NaN or a -0; kCopy: also copies it to d.
template <bool kCopy>
inline bool scan_row(float* d, const float* x, std::int64_t n) {
  const __m512i negzero = _mm512_set1_epi32(std::int32_t(0x80000000u));
  __mmask16 any = 0;
  std::int64_t i = 0;
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - i)) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    if (kCopy) _mm512_mask_storeu_ps(d + i, m, v);
    any |= _mm512_mask_cmp_ps_mask(m, v, v, _CMP_UNORD_Q) | _mm512_mask_cmpeq_epi32_mask(m, _mm512_castps_si512(v), negzero);
  }
  return any != 0;
}
#elif defined(__AVX2__)
constexpr std::int64_t kLanes = 8;
using Vec = __m256;
inline Vec splat(float v) { return _mm256_set1_ps(v); }
// max_ref on 8 lanes.
inline Vec max_ref_v(Vec a, Vec b) {
  __m256 m = _mm256_max_ps(a, b);
  m = _mm256_blendv_ps(m, _mm256_and_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
  return _mm256_blendv_ps(m, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}
inline Vec max_plain_v(Vec a, Vec b) { return _mm256_max_ps(a, b); }
// 8 values from p, SW apart.  SW == 2: the even lanes of two vectors in the order (0 2 8 10 | 4 6 12 14);
// a lane-wise max keeps that order, so lanes_in_order swaps the middle pairs once, on the result.
inline Vec load_strided(const float* p, std::int64_t SW) {
  if (SW == 1) return _mm256_loadu_ps(p);
  if (SW == 2) return _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), _MM_SHUFFLE(2, 0, 2, 0));
  const __m256i lanes = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  return _mm256_i32gather_ps(p, _mm256_mullo_epi32(lanes, _mm256_set1_epi32(int(SW))), 4);
}
inline Vec lanes_in_order(Vec v, std::int64_t SW) {
  return SW == 2 ? _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0))) : v;
}
inline void store_first(float* y, Vec v, std::int64_t n) {
  if (n >= 8) return _mm256_storeu_ps(y, v);
  const __m256i lanes = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  _mm256_maskstore_ps(y, _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n)), lanes), v);
}
template <bool kCopy>
inline bool scan_row(float* d, const float* x, std::int64_t n) {
  const __m256i negzero = _mm256_set1_epi32(std::int32_t(0x80000000u));
  __m256 any = _mm256_setzero_ps();
  std::int64_t i = 0;
  for (; i < n; i += 8) {
    __m256 v;
    if (n - i >= 8) {
      v = _mm256_loadu_ps(x + i);
      if (kCopy) _mm256_storeu_ps(d + i, v);
    } else {
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n - i)), _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0));
      v = _mm256_maskload_ps(x + i, m);  // 0 in the lanes past n
      if (kCopy) _mm256_maskstore_ps(d + i, m, v);
    }
    any = _mm256_or_ps(any, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    any = _mm256_or_ps(any, _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(v), negzero)));
  }
  return _mm256_movemask_ps(any) != 0;
}
#else
template <bool kCopy>
inline bool scan_row(float* d, const float* x, std::int64_t n) {
  bool found = false;
  for (std::int64_t i = 0; i < n; ++i) {
    if (kCopy) d[i] = x[i];
    found |= x[i] != x[i] || (x[i] == 0.0f && std::signbit(x[i]));
  }
  return found;
}
#endif

// The combiners pool_rows folds taps with, over a source plane of T: init, add a tap, finish (the
// accumulator -> the output value), on single values and on a vector of outputs (vadd loads the tap's
// values for kLanes outputs, SW apart, from p; vfinish returns the outputs in order).
// kExact: max_ref; else the plain max instruction, for planes without a NaN or a -0 (the same bits there).
template <bool kExact>
struct Max {
  using T = float;
  static float init() { return -std::numeric_limits<float>::infinity(); }
  static float add(float a, float v) { return kExact ? max_ref(a, v) : max_plain(a, v); }
  static float finish(float a) { return a; }
#if defined(__AVX512F__) || defined(__AVX2__)
  using VAcc = Vec;
  static VAcc vinit() { return splat(init()); }
  static VAcc vadd(VAcc a, const float* p, std::int64_t SW) {
    const Vec v = load_strided(p, SW);
    return kExact ? max_ref_v(a, v) : max_plain_v(a, v);
  }
  static Vec vfinish(VAcc a, std::int64_t SW) { return lanes_in_order(a, SW); }
#endif
};
using MaxExact = Max<true>;
using MaxPlain = Max<false>;
// The sum in double, rounded once (as the generated loops and the interpreter sum fp32), over a plane
// already widened to double: a conversion per input value rather than one per tap (a 3x3 window reads
// each value 9 times; converting at every tap made the sum 2x slower than this).
struct Sum {
  using T = double;
  static double init() { return 0.0; }
  static double add(double a, double v) { return a + v; }
  static float finish(double a) { return float(a); }
#if defined(__AVX512F__)
  struct VAcc { __m512d lo, hi; };
  static VAcc vinit() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static __m512d load8(const double* p, std::int64_t SW) {
    if (SW == 1) return _mm512_loadu_pd(p);
    if (SW == 2) return _mm512_permutex2var_pd(_mm512_loadu_pd(p), _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), _mm512_loadu_pd(p + 8));
    return _mm512_i32gather_pd(_mm256_mullo_epi32(_mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0), _mm256_set1_epi32(int(SW))), p, 8);
  }
  static VAcc vadd(VAcc a, const double* p, std::int64_t SW) {
    return {_mm512_add_pd(a.lo, load8(p, SW)), _mm512_add_pd(a.hi, load8(p + 8 * SW, SW))};
  }
  static Vec vfinish(VAcc a, std::int64_t) {
    const __m512d lo = _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(a.lo)));
    return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm512_cvtpd_ps(a.hi)), 1));
  }
#elif defined(__AVX2__)
  struct VAcc { __m256d lo, hi; };
  static VAcc vinit() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  // 4 values SW apart; SW == 2: in the order (0 2 1 3), which vfinish puts right.
  static __m256d load4(const double* p, std::int64_t SW) {
    if (SW == 1) return _mm256_loadu_pd(p);
    if (SW == 2) return _mm256_unpacklo_pd(_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4));
    // (the masked form: the plain one leaves its source undefined, which g++ 12 warns about)
    const __m128i idx = _mm_mullo_epi32(_mm_set_epi32(3, 2, 1, 0), _mm_set1_epi32(int(SW)));
    return _mm256_mask_i32gather_pd(_mm256_setzero_pd(), p, idx, _mm256_castsi256_pd(_mm256_set1_epi64x(-1)), 8);
  }
  static VAcc vadd(VAcc a, const double* p, std::int64_t SW) {
    return {_mm256_add_pd(a.lo, load4(p, SW)), _mm256_add_pd(a.hi, load4(p + 4 * SW, SW))};
  }
  static Vec vfinish(VAcc a, std::int64_t SW) {
    if (SW == 2) {
      a.lo = _mm256_permute4x64_pd(a.lo, _MM_SHUFFLE(3, 1, 2, 0));
      a.hi = _mm256_permute4x64_pd(a.hi, _MM_SHUFFLE(3, 1, 2, 0));
    }
    return _mm256_set_m128(_mm256_cvtpd_ps(a.hi), _mm256_cvtpd_ps(a.lo));
  }
#endif
};

// The same sum over the fp32 plane itself, each tap widened as it is read: for windows that do not
// overlap (a 2x2/2 average pool reads each value once), where widening the plane first would only add a
// pass over it.
struct SumInPlace {
  using T = float;
  static double init() { return 0.0; }
  static double add(double a, float v) { return a + double(v); }
  static float finish(double a) { return float(a); }
#if defined(__AVX512F__)
  struct VAcc { __m512d lo, hi; };
  static VAcc vinit() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
  static VAcc vadd(VAcc a, const float* p, std::int64_t SW) {
    const __m512 v = load_strided(p, SW);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return {_mm512_add_pd(a.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v))), _mm512_add_pd(a.hi, _mm512_cvtps_pd(hi))};
  }
  static Vec vfinish(VAcc a, std::int64_t SW) { return lanes_in_order(Sum::vfinish({a.lo, a.hi}, 1), SW); }
#elif defined(__AVX2__)
  struct VAcc { __m256d lo, hi; };
  static VAcc vinit() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
  static VAcc vadd(VAcc a, const float* p, std::int64_t SW) {
    const __m256 v = load_strided(p, SW);
    return {_mm256_add_pd(a.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v))), _mm256_add_pd(a.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)))};
  }
  static Vec vfinish(VAcc a, std::int64_t SW) { return lanes_in_order(Sum::vfinish({a.lo, a.hi}, 1), SW); }
#endif
};

// The pooling proper over a source plane whose taps are all inside it (rows ld apart, `size` values
// readable from src): vectors while their loads stay inside, then one output at a time.  kSW: the column
// stride when it is 1 or 2, kK: the window's side when it is 3x3, else 0 (compile-time constants let the
// loads specialise and the tap loops unroll: a 3x3 max 1.4x faster on Zen 3).
template <class Op, int kSW, int kK>
void pool_rows_sw(const Pool2dShape& s, const typename Op::T* src, std::int64_t ld, std::int64_t size, float* y) {
  using T = typename Op::T;
  const std::int64_t OH = s.OH, OW = s.OW, SW = kSW ? kSW : s.SW, KH = kK ? kK : s.KH, KW = kK ? kK : s.KW;
  (void)size;
#if defined(__AVX512F__) || defined(__AVX2__)
  // values a vector of outputs reads from its first tap's address on
  const std::int64_t reach = SW == 1 ? kLanes : SW == 2 ? 2 * kLanes : (kLanes - 1) * SW + 1;
#endif
  for (std::int64_t oh = 0; oh < OH; ++oh) {
    const T* row0 = src + oh * s.SH * ld;
    float* yr = y + oh * OW;
    std::int64_t ow = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
    const std::int64_t last_row = (oh * s.SH + (KH - 1) * s.DH) * ld + (KW - 1) * s.DW;
    for (; ow < OW && last_row + ow * SW + reach <= size; ow += kLanes) {
      typename Op::VAcc acc = Op::vinit();
      for (std::int64_t kh = 0; kh < KH; ++kh)
        for (std::int64_t kw = 0; kw < KW; ++kw) acc = Op::vadd(acc, row0 + kh * s.DH * ld + ow * SW + kw * s.DW, SW);
      store_first(yr + ow, Op::vfinish(acc, SW), OW - ow);
    }
#endif
    for (; ow < OW; ++ow) {
      auto acc = Op::init();
      for (std::int64_t kh = 0; kh < KH; ++kh)
        for (std::int64_t kw = 0; kw < KW; ++kw) acc = Op::add(acc, row0[kh * s.DH * ld + ow * SW + kw * s.DW]);
      yr[ow] = Op::finish(acc);
    }
  }
}

template <class Op>
void pool_rows(const Pool2dShape& s, const typename Op::T* src, std::int64_t ld, std::int64_t size, float* y) {
  const bool k3 = s.KH == 3 && s.KW == 3;
  if (s.SW == 1) (k3 ? pool_rows_sw<Op, 1, 3> : pool_rows_sw<Op, 1, 0>)(s, src, ld, size, y);
  else if (s.SW == 2) (k3 ? pool_rows_sw<Op, 2, 3> : pool_rows_sw<Op, 2, 0>)(s, src, ld, size, y);
  else pool_rows_sw<Op, 0, 0>(s, src, ld, size, y);
}

// The plane as T with `fill` around it (rows PT above and columns PL left, as many below and right as the
// last window reaches), in a per-thread scratch plane of Hp rows of Wp.  Vector loads past a row's end read
// the next row, for outputs past OW that are not stored; pool_rows keeps them inside the plane.
// *special (when asked): whether the plane holds a NaN or a -0.
template <class T>
const T* padded_plane(const Pool2dShape& s, const float* x, T fill, std::int64_t& Wp, std::int64_t& Hp, bool* special) {
  Hp = std::max<std::int64_t>((s.OH - 1) * s.SH + (s.KH - 1) * s.DH + 1, s.PT + s.H);
  Wp = std::max<std::int64_t>((s.OW - 1) * s.SW + (s.KW - 1) * s.DW + 1, s.PL + s.W);
  thread_local std::vector<T> padded;
  padded.resize(std::size_t(Hp * Wp + s.PL));  // + PL: the last image row's run past the end
  T* xp = padded.data();
  // Rows are contiguous: the fill after an image row is one run (its right end, the next row's left one).
  const std::int64_t top = s.PT * Wp + s.PL, gap = Wp - s.W;
  for (std::int64_t i = 0; i < top; ++i) xp[i] = fill;
  bool found = false;
  T* d = xp + top;
  for (std::int64_t ih = 0; ih < s.H; ++ih, d += Wp) {
    const float* xr = x + ih * s.W;
    if constexpr (std::is_same_v<T, float>) found |= scan_row<true>(d, xr, s.W);
    else for (std::int64_t i = 0; i < s.W; ++i) d[i] = T(xr[i]);
    for (std::int64_t i = 0; i < gap; ++i) d[s.W + i] = fill;
  }
  for (T* end = xp + Hp * Wp; d < end; ++d) *d = fill;
  if (special) *special = found;
  return xp;
}

// Whether every tap is inside the image (no padding is read): a max pools the plane in place.
inline bool taps_inside(const Pool2dShape& s) {
  return s.PT == 0 && s.PL == 0 && (s.OH - 1) * s.SH + (s.KH - 1) * s.DH < s.H && (s.OW - 1) * s.SW + (s.KW - 1) * s.DW < s.W;
}

}  // namespace pool_detail

/// Max pooling of one plane: x (H x W) -> y (OH x OW).
inline void maxpool_plane(const Pool2dShape& s, const float* x, float* y) {
  using namespace pool_detail;
  if (taps_inside(s)) {
    if (scan_row<false>(nullptr, x, s.H * s.W)) pool_rows<MaxExact>(s, x, s.W, s.H * s.W, y);
    else pool_rows<MaxPlain>(s, x, s.W, s.H * s.W, y);
    return;
  }
  std::int64_t Wp, Hp;
  bool special = false;
  const float* xp = padded_plane(s, x, -std::numeric_limits<float>::infinity(), Wp, Hp, &special);
  if (special) pool_rows<MaxExact>(s, xp, Wp, Hp * Wp, y);
  else pool_rows<MaxPlain>(s, xp, Wp, Hp * Wp, y);
}

/// Window sums of one plane (taps in the padding count as 0): x (H x W) -> y (OH x OW).  An average pool
/// is this and a division by the tap count, which the generated kernel applies.
inline void sumpool_plane(const Pool2dShape& s, const float* x, float* y) {
  using namespace pool_detail;
  const bool disjoint = s.SH >= (s.KH - 1) * s.DH + 1 && s.SW >= (s.KW - 1) * s.DW + 1;
  if (disjoint && taps_inside(s)) return pool_rows<SumInPlace>(s, x, s.W, s.H * s.W, y);
  std::int64_t Wp, Hp;
  const double* xp = padded_plane(s, x, 0.0, Wp, Hp, nullptr);
  pool_rows<Sum>(s, xp, Wp, Hp * Wp, y);
}

}  // namespace cpu
}  // namespace aic
