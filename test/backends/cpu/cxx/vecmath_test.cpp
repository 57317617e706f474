// Accuracy of vecmath.h: a sweep over every `stride`-th float bit pattern (all magnitudes: denormals,
// normals, the tails, +-inf, NaN), each function evaluated in a `#pragma omp simd` loop and compared with
// the double-precision libm value.  Error = |y - ref| / max(|ref|, FLT_MIN) (relative, with the smallest
// normal as the floor so that denormal results are judged in absolute terms); infinite, out-of-range and
// NaN references must be matched exactly.  Then exact checks of special values.
//   usage: vecmath_test <stride>     prints one line per function: "<name> <max err> <at x> <values>"
#include "vecmath.h"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace aic::cpu;

namespace {
float from_bits(std::uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
int failures = 0;

template <class F, class R>
void sweep(const char* name, F f, R ref, std::uint64_t stride) {
  const int B = 1 << 16;
  std::vector<float> x(B), y(B);
  double worst = 0;
  float at = 0;
  long n = 0;
  int special = 0;
  std::uint64_t u = 0;
  while (u < (1ull << 32)) {
    int m = 0;
    for (; m < B && u < (1ull << 32); ++m, u += stride) x[std::size_t(m)] = from_bits(std::uint32_t(u));
    // Also the neighbourhood of 0 and of the thresholds, whatever the stride.
    const float* xs = x.data();
    float* ys = y.data();
#pragma omp simd
    for (int i = 0; i < m; ++i) ys[i] = f(xs[i]);
    for (int i = 0; i < m; ++i) {
      const double r = ref(double(x[std::size_t(i)]));
      const float yi = y[std::size_t(i)];
      if (std::isnan(r) || std::isinf(r) || std::fabs(r) > FLT_MAX) {
        const float rf = float(r);
        const bool ok = std::isnan(r) ? std::isnan(yi) : yi == rf;
        if (!ok && special++ < 5) std::printf("  %s(%.9g) = %.9g, want %.9g\n", name, x[std::size_t(i)], yi, rf);
        continue;
      }
      const double e = std::fabs(double(yi) - r) / std::max(std::fabs(r), double(FLT_MIN));
      if (!(e <= worst)) { worst = e; at = x[std::size_t(i)]; }
      ++n;
    }
  }
  if (special) ++failures;
  std::printf("%s %.6g %.9g %ld %d\n", name, worst, at, n, special);
}

void expect(const char* what, float got, float want) {
  const bool ok = std::isnan(want) ? std::isnan(got) : (got == want && std::signbit(got) == std::signbit(want));
  if (!ok) { ++failures; std::printf("  special: %s = %.9g, want %.9g\n", what, got, want); }
}
}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t stride = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1009;
  sweep("exp", [](float v) { return vexp(v); }, [](double v) { return std::exp(v); }, stride);
  sweep("log", [](float v) { return vlog(v); }, [](double v) { return v < 0 ? NAN : std::log(v); }, stride);
  sweep("tanh", [](float v) { return vtanh(v); }, [](double v) { return std::tanh(v); }, stride);
  sweep("sigmoid", [](float v) { return vsigmoid(v); }, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, stride);
  sweep("erf", [](float v) { return verf(v); }, [](double v) { return std::erf(v); }, stride);
  sweep("erfc", [](float v) { return verfc(v); }, [](double v) { return std::erfc(v); }, stride);
  sweep("gelu", [](float v) { return vgelu(v); }, [](double v) { return 0.5 * v * std::erfc(-v / std::sqrt(2.0)); }, stride);

  const float inf = INFINITY, nan = NAN, dmin = from_bits(1u);  // smallest denormal
  expect("exp(0)", vexp(0.0f), 1.0f);
  expect("exp(-0)", vexp(-0.0f), 1.0f);
  expect("exp(inf)", vexp(inf), inf);
  expect("exp(-inf)", vexp(-inf), 0.0f);
  expect("exp(nan)", vexp(nan), nan);
  expect("exp(89)", vexp(89.0f), inf);
  expect("exp(-200)", vexp(-200.0f), 0.0f);
  expect("exp(-103.2789)", vexp(-103.278929903431851103f), dmin);  // e^x = 2^-149
  expect("exp(1)", vexp(1.0f), 2.71828182845904523536f);
  expect("log(1)", vlog(1.0f), 0.0f);
  expect("log(0)", vlog(0.0f), -inf);
  expect("log(-0)", vlog(-0.0f), -inf);
  expect("log(-1)", vlog(-1.0f), nan);
  expect("log(inf)", vlog(inf), inf);
  expect("log(-inf)", vlog(-inf), nan);
  expect("log(nan)", vlog(nan), nan);
  expect("log(denorm_min)", vlog(dmin), float(std::log(double(dmin))));
  expect("tanh(0)", vtanh(0.0f), 0.0f);
  expect("tanh(-0)", vtanh(-0.0f), -0.0f);
  expect("tanh(inf)", vtanh(inf), 1.0f);
  expect("tanh(-inf)", vtanh(-inf), -1.0f);
  expect("tanh(nan)", vtanh(nan), nan);
  expect("tanh(denorm_min)", vtanh(dmin), dmin);
  expect("sigmoid(0)", vsigmoid(0.0f), 0.5f);
  expect("sigmoid(inf)", vsigmoid(inf), 1.0f);
  expect("sigmoid(-inf)", vsigmoid(-inf), 0.0f);
  expect("sigmoid(nan)", vsigmoid(nan), nan);
  expect("erf(0)", verf(0.0f), 0.0f);
  expect("erf(-0)", verf(-0.0f), -0.0f);
  expect("erf(inf)", verf(inf), 1.0f);
  expect("erf(-inf)", verf(-inf), -1.0f);
  expect("erf(nan)", verf(nan), nan);
  expect("erfc(inf)", verfc(inf), 0.0f);
  expect("erfc(-inf)", verfc(-inf), 2.0f);
  expect("erfc(nan)", verfc(nan), nan);
  expect("gelu(0)", vgelu(0.0f), 0.0f);
  expect("gelu(inf)", vgelu(inf), inf);
  expect("gelu(nan)", vgelu(nan), nan);
  std::printf("%s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
