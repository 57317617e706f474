// aic CPU backend: the scalar semantics of the prims in C++, as the reference interpreter computes them
// (src/ir/prims). Header-only C++17; every generated model.cpp includes it. Each function is inline and
// branch-free where it can be, so that g++ -O3 vectorizes the loops that call it.
//
//   floats   f32 and f64 compute natively (+ - * / sqrt are correctly rounded, so they agree with the
//            interpreter's "compute in double, round once"); f16 and bf16 are held as float values that
//            the format represents exactly, computed in double and rounded once per op (rnd_f16/rnd_bf16);
//   ints     wrap modulo 2^bits (computed in uint32_t / uint64_t, never signed overflow); division and
//            remainder truncate, and x / 0 = x % 0 = 0 (no trap, as the interpreter says);
//   max/min  NaN propagates, and max(-0, +0) = +0, min(-0, +0) = -0 (JavaScript's Math.max / Math.min);
//   casts    float -> int truncates, NaN and inf give 0, out-of-range values wrap modulo 2^bits.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#ifndef AIC_RESTRICT
#define AIC_RESTRICT __restrict__
#endif

namespace aic {

using index_t = std::int64_t;

// ---- bits ----

inline std::uint32_t f32_bits(float x) { std::uint32_t u; std::memcpy(&u, &x, 4); return u; }
inline float f32_from_bits(std::uint32_t u) { float x; std::memcpy(&x, &u, 4); return x; }
inline std::uint64_t f64_bits(double x) { std::uint64_t u; std::memcpy(&u, &x, 8); return u; }
inline double f64_from_bits(std::uint64_t u) { double x; std::memcpy(&x, &u, 8); return x; }

template <class To, class From>
inline To bitcast(From x) {
  static_assert(sizeof(To) == sizeof(From), "bitcast between types of one width");
  To y;
  std::memcpy(&y, &x, sizeof(To));
  return y;
}

// ---- float16 and bfloat16 ----

/// IEEE binary16 bits of a float, rounded to nearest even (NaN, inf, -0 and subnormals kept).
inline std::uint16_t f16_bits(float x) {
  const std::uint32_t b = f32_bits(x);
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  const std::int32_t exp = std::int32_t((b >> 23) & 0xffu);
  std::uint32_t mant = b & 0x7fffffu;
  if (exp == 0xff) return std::uint16_t(sign | 0x7c00u | (mant != 0 ? 0x200u | (mant >> 13) : 0u));
  std::int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return std::uint16_t(sign | 0x7c00u);
  if (e <= 0) {
    if (e < -10) return std::uint16_t(sign);
    mant |= 0x800000u;
    const std::uint32_t shift = std::uint32_t(14 - e);
    const std::uint32_t half = 1u << (shift - 1);
    std::uint32_t m = mant >> shift;
    const std::uint32_t rest = mant & ((1u << shift) - 1u);
    if (rest > half || (rest == half && (m & 1u))) m++;
    return std::uint16_t(sign | m);
  }
  std::uint32_t m = mant >> 13;
  const std::uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (m & 1u))) {
    m++;
    if (m == 0x400u) {
      m = 0;
      e++;
      if (e >= 0x1f) return std::uint16_t(sign | 0x7c00u);
    }
  }
  return std::uint16_t(sign | (std::uint32_t(e) << 10) | m);
}

inline float f16_value(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu;
  const std::uint32_t m = h & 0x3ffu;
  if (e == 0x1f) return f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e != 0) return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
  // zero or subnormal: m * 2^-24, exact in float
  const float v = float(m) * 5.9604644775390625e-08f;
  return sign ? -v : v;
}

/// bfloat16 bits of a float: its upper half rounded to nearest even (NaN made quiet).
inline std::uint16_t bf16_bits(float x) {
  const std::uint32_t b = f32_bits(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return std::uint16_t(((b >> 16) | 0x40u) & 0xffffu);
  const std::uint32_t lsb = (b >> 16) & 1u;
  return std::uint16_t(((b + 0x7fffu + lsb) >> 16) & 0xffffu);
}

inline float bf16_value(std::uint16_t h) { return f32_from_bits(std::uint32_t(h) << 16); }

/// A double rounded to float toward zero with the lowest bit set when bits were dropped ("round to odd"):
/// rounding that float on to f16 or bf16 gives the correctly rounded result of the double.
inline float f32_round_odd(double x) {
  float r = float(x);
  if (!(std::fabs(r) <= std::numeric_limits<float>::max()) || double(r) == x) return r;
  std::uint32_t u = f32_bits(r);
  if (std::fabs(double(r)) > std::fabs(x)) u -= 1;  // one step toward zero
  return f32_from_bits(u | 1u);
}

/// x rounded to the nearest f16 (ties to even), as a float.
inline float rnd_f16(double x) { return f16_value(f16_bits(f32_round_odd(x))); }
/// x rounded to the nearest bf16 (ties to even), as a float.
inline float rnd_bf16(double x) { return bf16_value(bf16_bits(f32_round_odd(x))); }

/// A 64-bit integer as a double truncated to 53 significant bits with a sticky lowest bit: it rounds on to
/// any narrower float as the integer itself does.
inline double sticky_double(std::uint64_t mag, bool neg) {
  int bits = 64;
  while (bits > 0 && !((mag >> (bits - 1)) & 1u)) --bits;
  if (bits <= 53) return neg ? -double(mag) : double(mag);
  const int shift = bits - 53;
  std::uint64_t m = mag >> shift;
  if ((m << shift) != mag) m |= 1u;
  const double r = std::ldexp(double(m), shift);
  return neg ? -r : r;
}
inline double sticky_double(std::int64_t x) { return x < 0 ? sticky_double(0u - std::uint64_t(x), true) : sticky_double(std::uint64_t(x), false); }
inline double sticky_double(std::uint64_t x) { return sticky_double(x, false); }

// ---- integers ----

template <class T>
using wide_unsigned = std::conditional_t<(sizeof(T) <= 4), std::uint32_t, std::uint64_t>;

template <class T> inline T wadd(T a, T b) { using U = wide_unsigned<T>; return T(U(a) + U(b)); }
template <class T> inline T wsub(T a, T b) { using U = wide_unsigned<T>; return T(U(a) - U(b)); }
template <class T> inline T wmul(T a, T b) { using U = wide_unsigned<T>; return T(U(a) * U(b)); }
template <class T> inline T wneg(T a) { using U = wide_unsigned<T>; return T(U(0) - U(a)); }
template <class T> inline T wabs(T a) {
  if constexpr (std::is_signed_v<T>) return a < 0 ? wneg(a) : a;
  else return a;
}
/// Truncating division; x / 0 = 0 and MIN / -1 wraps to MIN (no trap).
template <class T> inline T idiv(T a, T b) {
  if (b == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return wneg(a);
  }
  return T(a / b);
}
/// Remainder with the sign of a (C's %); x % 0 = 0.
template <class T> inline T imod(T a, T b) {
  if (b == 0) return T(0);
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return T(0);
  }
  return T(a % b);
}
/// a^b by squaring, wrapping; a negative exponent gives 1 / a^|b| truncated (1, +-1 or 0).
template <class T> inline T ipow(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b < 0) return a == 1 ? T(1) : a == T(-1) ? T((b % 2 == 0) ? 1 : -1) : T(0);
  }
  using U = wide_unsigned<T>;
  U r = 1, base = U(a);
  auto e = std::make_unsigned_t<T>(b);
  while (e > 0) {
    if (e & 1u) r = U(r * base);
    base = U(base * base);
    e >>= 1;
  }
  return T(r);
}

/// Float (as double) to integer type To: truncate toward zero; NaN and inf give 0; wrap modulo 2^bits.
template <class To> inline To f2i(double v) {
  if (!std::isfinite(v)) return To(0);
  const double t = std::trunc(v);
  if (std::fabs(t) < 9223372036854775808.0) return To(std::int64_t(t));
  // |t| >= 2^63: an integer, a multiple of 2^11; reduce modulo 2^64 exactly.
  double r = std::fmod(t, 18446744073709551616.0);
  if (r < 0) r += 18446744073709551616.0;
  return To(std::uint64_t(r));
}

// ---- max and min ----

/// max with NaN propagating and +0 above -0 (JavaScript's Math.max).
inline float fmax_nan(float a, float b) {
  return a != a ? a : (a == b ? f32_from_bits(f32_bits(a) & f32_bits(b)) : (a > b ? a : b));
}
inline float fmin_nan(float a, float b) {
  return a != a ? a : (a == b ? f32_from_bits(f32_bits(a) | f32_bits(b)) : (a < b ? a : b));
}
inline double fmax_nan(double a, double b) {
  return a != a ? a : (a == b ? f64_from_bits(f64_bits(a) & f64_bits(b)) : (a > b ? a : b));
}
inline double fmin_nan(double a, double b) {
  return a != a ? a : (a == b ? f64_from_bits(f64_bits(a) | f64_bits(b)) : (a < b ? a : b));
}

// ---- index arithmetic (floor division and modulo, as the kernel IR defines them) ----

inline index_t floordiv(index_t a, index_t b) {
  if (b == 0) return 0;
  const index_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline index_t floormod(index_t a, index_t b) {
  if (b == 0) return 0;
  const index_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}
/// c ? a : b with both evaluated (a masked load is an unconditional load of a clamped index, then a pick:
/// the loop around it vectorizes).
template <class T> inline T pick(bool c, T a, T b) { return c ? a : b; }

/// An index read from data, clamped into [0, n) so that a failed range check cannot read out of bounds.
inline index_t clamp_index(index_t i, index_t n) { return i < 0 ? 0 : (i >= n ? (n > 0 ? n - 1 : 0) : i); }

// ---- errors raised inside kernels ----

/// The first failed range check of a run. Kernels keep running (their loads are clamped); the program
/// stops after the kernel and reports the message.
struct Status {
  std::atomic<const char*> message{nullptr};
  void fail(const char* m) {
    const char* none = nullptr;
    message.compare_exchange_strong(none, m);
  }
  bool failed() const { return message.load(std::memory_order_relaxed) != nullptr; }
};

}  // namespace aic

// NaN-propagating max and min as OpenMP reductions (vectorized by `omp simd`).
#if defined(_OPENMP)
#pragma omp declare reduction(aic_max : float : omp_out = aic::fmax_nan(omp_out, omp_in)) initializer(omp_priv = -std::numeric_limits<float>::infinity())
#pragma omp declare reduction(aic_min : float : omp_out = aic::fmin_nan(omp_out, omp_in)) initializer(omp_priv = std::numeric_limits<float>::infinity())
#pragma omp declare reduction(aic_max : double : omp_out = aic::fmax_nan(omp_out, omp_in)) initializer(omp_priv = -std::numeric_limits<double>::infinity())
#pragma omp declare reduction(aic_min : double : omp_out = aic::fmin_nan(omp_out, omp_in)) initializer(omp_priv = std::numeric_limits<double>::infinity())
#endif

// ---- the narrow formats: float8, float4, e8m0 (held as float values), int4/int2 (held wrapped) ----
// Elements are one per byte: the format's bit pattern (ints: the low bits of their two's complement).

namespace aic {

struct SmallFloat {
  int exp, mant, bias;
  int overflow;  // 0: inf, 1: NaN, 2: saturate
  bool uz;       // NaN is 0x80 and there is no -0
  bool fn;       // the all-ones pattern is NaN, the rest of the top binade finite
  double max;
};
constexpr SmallFloat kF8E4M3FN{4, 3, 7, 1, false, true, 448.0};
constexpr SmallFloat kF8E4M3FNUZ{4, 3, 8, 1, true, false, 240.0};
constexpr SmallFloat kF8E5M2{5, 2, 15, 0, false, false, 57344.0};
constexpr SmallFloat kF8E5M2FNUZ{5, 2, 16, 1, true, false, 57344.0};
constexpr SmallFloat kF4E2M1{2, 1, 1, 2, false, false, 6.0};

/// floor(log2(a)) for a finite a > 0.
inline int binade(double a) {
  int e;
  std::frexp(a, &e);
  return e - 1;
}

/// x rounded to the nearest value of a small float format (ties to even), in one step from the double.
inline float small_round(const SmallFloat& f, double x) {
  if (x != x) return f.overflow == 2 ? -0.0f : std::numeric_limits<float>::quiet_NaN();
  const double a = std::fabs(x);
  const bool neg = std::signbit(x);
  double r;
  if (std::isinf(a)) r = a;
  else if (a == 0) r = 0;
  else {
    const int e = std::max(binade(a), 1 - f.bias);
    const double q = std::ldexp(1.0, e - f.mant);
    r = std::nearbyint(a / q) * q;
  }
  if (r > f.max) {
    if (f.overflow == 1) return std::numeric_limits<float>::quiet_NaN();
    r = f.overflow == 0 ? std::numeric_limits<double>::infinity() : f.max;
  }
  if (r == 0 && f.uz) return 0.0f;
  return static_cast<float>(neg ? -r : r);
}

inline std::uint8_t small_bits(const SmallFloat& f, float x) {
  const float v = small_round(f, x);
  const int width = f.exp + f.mant + 1;
  if (v != v) return f.uz ? 0x80 : static_cast<std::uint8_t>((1 << (width - 1)) - 1);
  const unsigned s = std::signbit(v) ? 1u << (width - 1) : 0u;
  const double a = std::fabs(static_cast<double>(v));
  if (std::isinf(a)) return static_cast<std::uint8_t>(s | (((1u << f.exp) - 1u) << f.mant));
  if (a == 0) return static_cast<std::uint8_t>(s);
  const int e = std::max(binade(a), 1 - f.bias);
  const unsigned m = static_cast<unsigned>(std::ldexp(a, f.mant - e));
  const unsigned biased = a < std::ldexp(1.0, 1 - f.bias) ? 0u : static_cast<unsigned>(e + f.bias);
  return static_cast<std::uint8_t>(s | (biased << f.mant) | (m & ((1u << f.mant) - 1u)));
}

inline float small_value(const SmallFloat& f, std::uint8_t bits) {
  const int width = f.exp + f.mant + 1;
  const unsigned b = bits & ((1u << width) - 1u);
  const unsigned sign = 1u << (width - 1);
  if (f.uz && b == sign) return std::numeric_limits<float>::quiet_NaN();
  const unsigned e = (b >> f.mant) & ((1u << f.exp) - 1u);
  const unsigned m = b & ((1u << f.mant) - 1u);
  const unsigned top = (1u << f.exp) - 1u;
  if (e == top && f.overflow == 0) return m == 0 ? ((b & sign) ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity()) : std::numeric_limits<float>::quiet_NaN();
  if (e == top && f.fn && m == (1u << f.mant) - 1u) return std::numeric_limits<float>::quiet_NaN();
  const double a = e == 0 ? std::ldexp(static_cast<double>(m), 1 - f.bias - f.mant) : std::ldexp(1.0 + std::ldexp(static_cast<double>(m), -f.mant), static_cast<int>(e) - f.bias);
  return static_cast<float>((b & sign) ? -a : a);
}

/// E8M0: the power of two at or above |x|, saturating at 2^127 and 2^-127; NaN stays NaN.
inline float e8m0_round(double x) {
  if (x != x) return std::numeric_limits<float>::quiet_NaN();
  const double a = std::fabs(x);
  if (std::isinf(a) || a > std::ldexp(1.0, 127)) return static_cast<float>(std::ldexp(1.0, 127));
  if (a <= std::ldexp(1.0, -127)) return static_cast<float>(std::ldexp(1.0, -127));
  const int e = binade(a);
  return static_cast<float>(std::ldexp(1.0, a == std::ldexp(1.0, e) ? e : e + 1));
}
inline std::uint8_t e8m0_bits(float x) {
  const float v = e8m0_round(x);
  return v != v ? 0xff : static_cast<std::uint8_t>(binade(v) + 127);
}
inline float e8m0_value(std::uint8_t b) { return b == 0xff ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(std::ldexp(1.0, int(b) - 127)); }

inline float rnd_f8e4m3fn(double x) { return small_round(kF8E4M3FN, x); }
inline float rnd_f8e4m3fnuz(double x) { return small_round(kF8E4M3FNUZ, x); }
inline float rnd_f8e5m2(double x) { return small_round(kF8E5M2, x); }
inline float rnd_f8e5m2fnuz(double x) { return small_round(kF8E5M2FNUZ, x); }
inline float rnd_f4e2m1(double x) { return small_round(kF4E2M1, x); }
inline float rnd_f8e8m0(double x) { return e8m0_round(x); }

/// Wrap an int to `bits` (two's complement for signed): int4, uint4, int2, uint2.
template <int BITS, bool SIGNED>
inline std::conditional_t<SIGNED, std::int8_t, std::uint8_t> wrap_bits(std::int64_t x) {
  const std::uint32_t u = static_cast<std::uint32_t>(x) & ((1u << BITS) - 1u);
  if constexpr (SIGNED) return static_cast<std::int8_t>((u & (1u << (BITS - 1))) ? static_cast<std::int32_t>(u) - (1 << BITS) : static_cast<std::int32_t>(u));
  else return static_cast<std::uint8_t>(u);
}

}  // namespace aic
