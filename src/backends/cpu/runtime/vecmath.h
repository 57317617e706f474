// aic CPU runtime: vectorisable fp32 math.  Header-only C++17, no dependencies.
//
// Measured error over every one of the 2^32 float inputs (exhaustive sweep, g++ 12 -O3 -march=native,
// AVX-512; reference: the double-precision libm function), as |y - ref| / max(|ref|, FLT_MIN), i.e.
// relative, with denormal results judged against the smallest normal; infinities and NaN exact:
//   vexp      8.9e-08  (max at x = -87.34)          vlog   8.2e-08  (x = 2.80)
//   vtanh     1.4e-07  (x = 0.628)                  vsigmoid 2.0e-07 (x = -7.57)
//   verf      2.0e-07  (x = 0.483)                  verfc  8.1e-07  (x = 0.999; 1 - erf cancels there)
//   vgelu     9.1e-07  (x = -1.414; exact form, accurate in the negative tail too)
// (1 ulp = 6e-8 to 1.2e-7.)  Since the polynomials use mad(), re-measured on a 1-in-97 sweep (Zen 3, AVX2,
// -ffp-contract=off as the artifacts build): vexp 8.9e-08, vlog 8.0e-08, vtanh 1.4e-07, vsigmoid 2.0e-07,
// verf 2.0e-07, verfc 8.8e-07, vgelu 9.6e-07.  test/backends/cpu/vecmath.test.ts re-checks these bounds
// on a 1-in-1009 sweep for the native and the portable (SSE2) builds, and that each function's loop
// vectorises.
// Throughput, one Zen 5 core, 16 lanes: vexp 0.22 ns/value, vsigmoid 0.29, vlog 0.38, vtanh 0.42,
// verf / vgelu 0.58 (std::exp 1.5, std::tanh 8.7, std::erf 7.1).
//
// Every function is a branch-free inline function of one float (range reduction + polynomial, selects
// instead of branches, bit casts through memcpy), so that g++ -O3 vectorises loops that call it:
//
//   #pragma omp simd
//   for (int i = 0; i < n; ++i) y[i] = aic::cpu::vexp(x[i]);
//
// Special values: NaN in gives NaN out; +-inf and the tails saturate to the mathematically right limit
// (vexp(-inf) = 0, vexp(+inf) = inf, vtanh(+-inf) = +-1, vsigmoid(-inf) = 0, verf(+-inf) = +-1,
// vlog(0) = -inf, vlog(x < 0) = NaN); results that are denormal are produced as denormals (gradual
// underflow), and denormal inputs are handled.  Do not compile with -ffast-math (it would drop the NaN
// and infinity handling); -O3 -march=native [-fopenmp] is what they are written for.
#pragma once

#include <cstdint>
#include <cstring>

namespace aic {
namespace cpu {
namespace vm_detail {

inline std::int32_t as_int(float x) { std::int32_t i; std::memcpy(&i, &x, sizeof i); return i; }
inline float as_float(std::int32_t i) { float x; std::memcpy(&x, &i, sizeof x); return x; }
inline float inf() { return as_float(0x7f800000); }
inline float qnan() { return as_float(0x7fc00000); }
inline float fabs_(float x) { return as_float(as_int(x) & 0x7fffffff); }
inline float copysign_(float mag, float sign) { return as_float((as_int(mag) & 0x7fffffff) | (as_int(sign) & int(0x80000000u))); }
// c ? a : b as integer bit operations.  A plain ?: on floats computed by possibly-trapping arithmetic is
// not if-converted by g++ (-ftrapping-math) unless the target has AVX-512 masking, which would leave the
// loop scalar on AVX2 machines.
// The rounding error of x * x (x*x - fl(x*x), exact): one FMA, or Dekker's product without FMA hardware
// (where fmaf would be a library call and stop the vectoriser).
inline float sq_err(float x, float xx) {
#if defined(__FMA__) || defined(__aarch64__)
  return __builtin_fmaf(x, x, -xx);
#else
  const float c = 4097.0f * x;
  const float xh = c - (c - x), xl = x - xh;
  return ((xh * xh - xx) + 2.0f * xh * xl) + xl * xl;
#endif
}
// a * b + c: one fused multiply-add where the hardware has it (the artifacts build with -ffp-contract=off,
// so g++ does not fuse on its own), else the two roundings.  The polynomials below are evaluated with it:
// half the instructions and a shorter dependency chain (on Zen 3 a softmax's or GELU's vexp / verf / vtanh
// loop ran 20-25% faster).
inline float mad(float a, float b, float c) {
#if defined(__FMA__) || defined(__aarch64__)
  return __builtin_fmaf(a, b, c);
#else
  return a * b + c;
#endif
}
inline float sel(bool c, float a, float b) {
  const std::int32_t m = -std::int32_t(c);
  return as_float((as_int(a) & m) | (as_int(b) & ~m));
}

}  // namespace vm_detail

/// e^x.  Range reduction x = n ln2 + r (|r| <= ln2/2, Cody-Waite two-part ln2), degree-6 polynomial, 2^n
/// applied as two exponent factors so that results down to the denormal range are right.  (No branches
/// and no ?: on floats here or below: see sel.)
inline float vexp(float x) {
  using namespace vm_detail;
  // Clamp to [-104, 89] (NaN passes through): below -104 the result rounds to 0, at 89 the scaling
  // below overflows to inf by itself, as it does for any x > 88.7228.
  float xc = sel(x < -104.0f, -104.0f, x);
  xc = sel(xc > 89.0f, 89.0f, xc);
  // n = round(x / ln2) with the 1.5 * 2^23 trick (no float->int conversion, so NaN stays harmless).
  const float magic = 12582912.0f;
  const float t = mad(xc, 1.44269502162933349609375f, magic);
  const float n = t - magic;
  const std::int32_t ni = as_int(t) - as_int(magic);
  float r = mad(n, -0.693359375f, xc);
  r = mad(n, 2.12194440e-4f, r);
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = mad(p, r, 1.3981999507e-3f);
  p = mad(p, r, 8.3334519073e-3f);
  p = mad(p, r, 4.1665795894e-2f);
  p = mad(p, r, 1.6666665459e-1f);
  p = mad(p, r, 5.0000001201e-1f);
  p = p * z + r + 1.0f;
  // 2^n = 2^(n/2) * 2^(n - n/2): both factors are normal floats for n in [-150, 128].
  const std::int32_t n1 = ni >> 1, n2 = ni - n1;
  const float s1 = as_float((n1 + 127) << 23), s2 = as_float((n2 + 127) << 23);
  return p * s1 * s2;
}

/// Natural logarithm.  x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-9 polynomial in m - 1.
inline float vlog(float x) {
  using namespace vm_detail;
  // Denormals: scale into the normal range first.
  const bool sub = x < 1.17549435e-38f;
  const float xs = sel(sub, x * 8388608.0f, x);  // 2^23
  const std::int32_t ix = as_int(xs);
  std::int32_t e = ((ix >> 23) & 0xff) - 126;
  float m = as_float((ix & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool lo = m < 0.707106781186547524f;
  e -= std::int32_t(lo);
  m = sel(lo, m + m, m);
  const float f = m - 1.0f;
  const float fe = float(e) - sel(sub, 23.0f, 0.0f);
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = mad(p, f, -1.1514610310e-1f);
  p = mad(p, f, 1.1676998740e-1f);
  p = mad(p, f, -1.2420140846e-1f);
  p = mad(p, f, 1.4249322787e-1f);
  p = mad(p, f, -1.6668057665e-1f);
  p = mad(p, f, 2.0000714765e-1f);
  p = mad(p, f, -2.4999993993e-1f);
  p = mad(p, f, 3.3333331174e-1f);
  float y = p * f * z;
  y = y + fe * -2.12194440e-4f;
  y = y - 0.5f * z;
  float res = f + y;
  res = res + fe * 0.693359375f;
  res = sel(x == inf(), inf(), res);
  res = sel(x == 0.0f, -inf(), res);
  res = sel(x < 0.0f, qnan(), res);
  return sel(x != x, x, res);
}

/// tanh(x): an odd polynomial for |x| < 0.625, 1 - 2 / (e^{2|x|} + 1) beyond (saturates to +-1).
inline float vtanh(float x) {
  using namespace vm_detail;
  const float a = fabs_(x);
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = mad(p, s, 2.06390887954e-2f);
  p = mad(p, s, -5.37397155531e-2f);
  p = mad(p, s, 1.33314422036e-1f);
  p = mad(p, s, -3.33332819422e-1f);
  const float small = mad(p * s, x, x);
  const float ac = sel(a > 10.0f, 10.0f, a);  // tanh(x > 9.011) rounds to 1.0f
  const float large = 1.0f - 2.0f / (vexp(ac + ac) + 1.0f);
  const float res = copysign_(sel(a < 0.625f, small, large), x);  // the sign also for -0
  return sel(x != x, x, res);
}

/// Logistic sigmoid 1 / (1 + e^-x), computed as e^-|x| based fractions so that both tails keep full
/// relative accuracy (sigmoid(-100) = 3.7e-44, a denormal, not 0).
inline float vsigmoid(float x) {
  using namespace vm_detail;
  const float e = vexp(-fabs_(x));  // in (0, 1]
  const float s = 1.0f / (1.0f + e);
  return sel(x >= 0.0f, s, sel(x != x, x, e * s));
}

namespace vm_detail {
// erf(x) / x for |x| < 1, as a polynomial in z = x^2 (relative fit error 4e-8).
inline float erf_small(float x, float z) {
  float p = -0.0005667995428666472f;
  p = mad(p, z, 0.004927420057356358f);
  p = mad(p, z, -0.026720894500613213f);
  p = mad(p, z, 0.1128057911992073f);
  p = mad(p, z, -0.37612390518188477f);
  p = mad(p, z, 1.1283791065216064f);
  return x * p;
}
// erfc(a) for a >= 1 given a^2 = hi + lo exactly: e^{-a^2} R(1/a), R a polynomial fitted on [1, 4) and
// on [4, 10.1] (relative fit error < 1e-7 after rounding the coefficients to float).  0 past 10.1.
inline float erfc_tail(float a, float hi, float lo) {
  const float ac = sel(a < 1.0f, 1.0f, sel(a > 10.1f, 10.1f, a));
  const float u = 1.0f / ac;
  float q = -0.012079884298145771f;
  q = mad(q, u, 0.04147293418645859f);
  q = mad(q, u, -0.003256680676713586f);
  q = mad(q, u, -0.21059322357177734f);
  q = mad(q, u, 0.4749651551246643f);
  q = mad(q, u, -0.4620603919029236f);
  q = mad(q, u, 0.03947317227721214f);
  q = mad(q, u, 0.5594154596328735f);
  q = mad(q, u, 0.0002469873579684645f);
  float r = -0.40153661370277405f;
  r = mad(r, u, 0.45564398169517517f);
  r = mad(r, u, 0.013932015746831894f);
  r = mad(r, u, -0.2864433228969574f);
  r = mad(r, u, 0.0005393334431573749f);
  r = mad(r, u, 0.5641571879386902f);
  r = mad(r, u, 7.771523087285459e-07f);
  const float rr = sel(ac < 4.0f, q, r);
  const float h = sel(hi > 103.0f, 103.0f, hi);
  const float res = vexp(-h) * (1.0f - lo) * rr;
  return sel(a > 10.1f, 0.0f, res);
}
}  // namespace vm_detail

/// erf(x): x P(x^2) for |x| < 1, 1 - erfc(|x|) (signed) beyond; saturates to +-1.
inline float verf(float x) {
  using namespace vm_detail;
  const float a = fabs_(x);
  const float z = x * x;
  const float lo = sq_err(x, z);
  const float large = 1.0f - erfc_tail(a, z, lo);
  const float res = sel(a < 1.0f, erf_small(x, z), copysign_(large, x));
  return sel(x != x, x, res);
}

/// erfc(x) = 1 - erf(x), with full relative accuracy in the right tail (down to the denormals).
inline float verfc(float x) {
  using namespace vm_detail;
  const float a = fabs_(x);
  const float z = x * x;
  const float lo = sq_err(x, z);
  const float t = erfc_tail(a, z, lo);  // erfc(|x|) for |x| >= 1
  const float mid = 1.0f - erf_small(x, z);
  const float res = sel(a < 1.0f, mid, sel(x > 0.0f, t, 2.0f - t));
  return sel(x != x, x, res);
}

/// GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), evaluated without
/// cancellation in the negative tail (x^2 / 2 is carried as an exact hi + lo pair).
inline float vgelu(float x) {
  using namespace vm_detail;
  const float y = x * 0.70710678118654752f;  // erf / erfc argument
  const float a = fabs_(y);
  const float hi = x * x * 0.5f;
  const float lo = sq_err(x, x * x) * 0.5f;
  const float t = erfc_tail(a, hi, lo);                   // erfc(|y|), |y| >= 1
  const float mid = 1.0f + erf_small(y, y * y);           // 1 + erf(y), |y| < 1
  const float e = sel(a < 1.0f, mid, sel(x > 0.0f, 2.0f - t, t));
  const float res = 0.5f * x * e;
  return sel(x != x, x, res);
}

/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
inline float vgelu_tanh(float x) {
  return 0.5f * x * (1.0f + vtanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

}  // namespace cpu
}  // namespace aic
