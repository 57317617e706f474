// Randomised test of pool.h's maxpool_plane and sumpool_plane against a naive loop nest, bit for bit: strides 1-4 (plain
// loads, the stride-2 permute, gathers), dilations, asymmetric pads, widths around the vector width, and
// inputs with NaNs and signed zeros (the first NaN met propagates; max(-0, +0) = +0), and planes with neither
// (the plain-max path).
//   usage: pool_test <seed> <random cases>
#include "pool.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using namespace aic::cpu;

namespace {
std::mt19937 rng;
int uni(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); }

// special: NaNs and -0 among the values (the exact path), else neither (the plain-max path).
float value(bool special) {
  switch (uni(special ? 0 : 2, 15)) {
    case 0: return std::nanf("");
    case 1: return -0.0f;
    case 2: return 0.0f;
    case 3: return -INFINITY;
    default: return std::uniform_real_distribution<float>(-4.0f, 4.0f)(rng);
  }
}

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// sum: sumpool_plane (the taps summed in double, rounded once), else maxpool_plane.
int run_case(const Pool2dShape& s, bool special, bool sum) {
  std::vector<float> x(std::size_t(s.H * s.W)), y(std::size_t(s.OH * s.OW), 12345.0f);
  for (auto& v : x) v = value(special);
  (sum ? sumpool_plane : maxpool_plane)(s, x.data(), y.data());
  int bad = 0;
  for (std::int64_t oh = 0; oh < s.OH; ++oh)
    for (std::int64_t ow = 0; ow < s.OW; ++ow) {
      float want = -INFINITY;
      double total = 0.0;
      for (std::int64_t kh = 0; kh < s.KH; ++kh)
        for (std::int64_t kw = 0; kw < s.KW; ++kw) {
          const std::int64_t ih = oh * s.SH - s.PT + kh * s.DH, iw = ow * s.SW - s.PL + kw * s.DW;
          if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
          want = pool_detail::max_ref(want, x[std::size_t(ih * s.W + iw)]);
          total += double(x[std::size_t(ih * s.W + iw)]);
        }
      if (sum) want = float(total);
      const float got = y[std::size_t(oh * s.OW + ow)];
      if (std::isnan(want) ? !std::isnan(got) : bits(want) != bits(got)) ++bad;
    }
  if (bad)
    std::printf("FAIL %s H=%lld W=%lld K=%lldx%lld S=%lldx%lld P=%lld,%lld D=%lldx%lld: %d wrong\n", sum ? "sum" : "max", (long long)s.H, (long long)s.W,
                (long long)s.KH, (long long)s.KW, (long long)s.SH, (long long)s.SW, (long long)s.PT, (long long)s.PL,
                (long long)s.DH, (long long)s.DW, bad);
  return bad ? 1 : 0;
}
}  // namespace

int main(int argc, char** argv) {
  rng.seed(argc > 1 ? unsigned(std::atoi(argv[1])) : 1u);
  const int ncases = argc > 2 ? std::atoi(argv[2]) : 500;
  int fails = 0;
  for (int i = 0; i < ncases; ++i) {
    Pool2dShape s{};
    s.H = uni(1, 40); s.W = uni(1, 40); s.KH = uni(1, 4); s.KW = uni(1, 4); s.SH = uni(1, 4); s.SW = uni(1, 4);
    s.DH = uni(1, 2); s.DW = uni(1, 2);
    // ONNX pads are below the kernel's (dilated) extent
    s.PT = uni(0, (s.KH - 1) * s.DH); s.PL = uni(0, (s.KW - 1) * s.DW);
    const std::int64_t PB = uni(0, (s.KH - 1) * s.DH), PR = uni(0, (s.KW - 1) * s.DW);
    s.OH = (s.H + s.PT + PB - s.DH * (s.KH - 1) - 1) / s.SH + 1;
    s.OW = (s.W + s.PL + PR - s.DW * (s.KW - 1) - 1) / s.SW + 1;
    if (s.OH <= 0 || s.OW <= 0) { --i; continue; }
    fails += run_case(s, i % 2 == 0, i % 4 >= 2);
  }
  std::printf("%s %d cases, %d failed\n", fails ? "FAILED" : "ok", ncases, fails);
  return fails ? 1 : 0;
}
