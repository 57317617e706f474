// Randomised correctness test of conv.h against a naive loop nest: batch, groups, depthwise, strides,
// asymmetric pads, dilations, 1x1 (GEMM without im2col), raw and prepacked weights, 1-3 threads, caller
// workspace with a guard zone, and a bias + residual + relu epilogue that must see every output once.
//   usage: conv_test <seed> <random cases>
#include "conv.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace aic::cpu;


namespace {
std::mt19937 rng;
int uni(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); }
float unf() { return std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng); }

int run_case(const Conv2dShape& s, bool packed, int threads, bool use_ws) {
  const index_t OH = s.OH(), OW = s.OW(), cg = s.Cg(), mg = s.Mg();
  std::vector<float> x(std::size_t(s.N * s.C * s.H * s.W)), w(std::size_t(s.M * cg * s.KH * s.KW));
  std::vector<float> y(std::size_t(s.N * s.M * OH * OW), NAN), bias(std::size_t(s.M)), res(y.size());
  for (auto& v : x) v = unf();
  for (auto& v : w) v = unf();
  for (auto& v : bias) v = unf();
  for (auto& v : res) v = unf();
  std::vector<float> wp(conv2d_packed_weights_floats(s));
  if (packed) conv2d_pack_weights(s, w.data(), wp.data());
  aic::threads::set_max_threads(threads);
  const std::size_t wsb = conv2d_workspace_bytes(s, threads);
  std::vector<unsigned char> ws(wsb + 256, 0x5A);
  std::vector<int> seen(y.size(), 0);
  int bad = 0;
  auto epi = [&](index_t ch, index_t pix, float* p, int n) {
    const std::size_t off = std::size_t(p - y.data());
    if (n <= 0 || off + std::size_t(n) > y.size() || index_t(off / std::size_t(OH * OW)) % s.M != ch ||
        index_t(off % std::size_t(OH * OW)) != pix || pix + n > OH * OW) { ++bad; return; }
    const epi::ResidualAt r{y.data(), res.data()};
    r(ch, pix, p, n);
    for (int j = 0; j < n; ++j) {
      ++seen[off + std::size_t(j)];
      p[j] = std::max(p[j] + bias[std::size_t(ch)], 0.0f);
    }
  };
  conv2d(s, x.data(), packed ? wp.data() : w.data(), y.data(), epi, use_ws ? ws.data() : nullptr, packed);
  for (index_t n = 0; n < s.N; ++n)
    for (index_t m = 0; m < s.M; ++m)
      for (index_t oh = 0; oh < OH; ++oh)
        for (index_t ow = 0; ow < OW; ++ow) {
          const index_t g = m / mg;
          double acc = 0;
          for (index_t c = 0; c < cg; ++c)
            for (index_t kh = 0; kh < s.KH; ++kh)
              for (index_t kw = 0; kw < s.KW; ++kw) {
                const index_t ih = oh * s.SH - s.PT + kh * s.DH, iw = ow * s.SW - s.PL + kw * s.DW;
                if (ih < 0 || ih >= s.H || iw < 0 || iw >= s.W) continue;
                acc += double(w[std::size_t(((m * cg + c) * s.KH + kh) * s.KW + kw)]) *
                       double(x[std::size_t(((n * s.C + g * cg + c) * s.H + ih) * s.W + iw)]);
              }
          const std::size_t off = std::size_t(((n * s.M + m) * OH + oh) * OW + ow);
          const double ref = std::max(acc + res[off] + bias[std::size_t(m)], 0.0);
          const double tol = 2e-6 * (1.0 + std::sqrt(double(cg * s.KH * s.KW)));
          if (!(std::fabs(ref - y[off]) <= tol) || seen[off] != 1) ++bad;
        }
  for (std::size_t i = wsb; i < ws.size(); ++i)
    if (ws[i] != 0x5A) { ++bad; break; }
  if (bad)
    std::printf("FAIL N=%ld C=%ld H=%ld W=%ld M=%ld k=%ldx%ld s=%ld,%ld p=%ld,%ld,%ld,%ld d=%ld,%ld G=%ld packed=%d threads=%d ws=%d: %d bad\n",
                long(s.N), long(s.C), long(s.H), long(s.W), long(s.M), long(s.KH), long(s.KW), long(s.SH), long(s.SW),
                long(s.PT), long(s.PL), long(s.PB), long(s.PR), long(s.DH), long(s.DW), long(s.G), packed, threads, use_ws, bad);
  return bad ? 1 : 0;
}

Conv2dShape shape(index_t C, index_t H, index_t M, index_t k, index_t st, index_t p, index_t G = 1) {
  Conv2dShape s{};
  s.N = 1; s.C = C; s.H = s.W = H; s.M = M; s.KH = s.KW = k; s.SH = s.SW = st;
  s.PT = s.PL = s.PB = s.PR = p; s.G = G;
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  rng.seed(argc > 1 ? unsigned(std::atoi(argv[1])) : 1u);
  const int ncases = argc > 2 ? std::atoi(argv[2]) : 400;
  int fails = 0, total = 0;
  // Scaled-down network layers: stem 7x7/2, 3x3 at 56/28/14/7-like sizes (7x7 and 14x14 outputs take the
  // transposed GEMM orientation), 1x1, strided 1x1, depthwise, grouped.
  const Conv2dShape fixed[] = {shape(3, 30, 16, 7, 2, 3),  shape(16, 20, 16, 3, 1, 1), shape(24, 14, 40, 3, 1, 1),
                               shape(32, 7, 64, 3, 1, 1),  shape(64, 7, 96, 1, 1, 0), shape(16, 20, 40, 1, 2, 0),
                               shape(16, 13, 16, 3, 1, 1, 16), shape(16, 12, 32, 3, 2, 1, 4), shape(450, 5, 20, 3, 1, 1)};
  for (const auto& s : fixed)
    for (int v = 0; v < 2; ++v) { fails += run_case(s, v == 1, 1 + v, v == 0); ++total; }
  // Big enough for the threads: grouped 1x1 layers (ShuffleNet's; the groups cut into column pieces, also with
  // two images and a ragged pixel count) and a depthwise layer over the plane-parallel floor.
  Conv2dShape threaded[] = {shape(240, 14, 240, 1, 1, 0, 3), shape(192, 13, 192, 1, 1, 0, 3), shape(64, 28, 64, 3, 1, 1, 64)};
  threaded[1].N = 2;
  for (const auto& s : threaded)
    for (int v = 0; v < 2; ++v) { fails += run_case(s, v == 1, 2, false); ++total; }
  // Wide images, stride 1: the direct (padded rows, no packing) path, also dilated and unevenly padded.
  Conv2dShape wide[] = {shape(8, 60, 24, 3, 1, 1), shape(5, 57, 9, 3, 1, 1), shape(6, 50, 16, 3, 1, 2)};
  wide[1].PB = 0; wide[1].PR = 2; wide[1].KW = 5;
  wide[2].DH = wide[2].DW = 2;
  for (const auto& s : wide)
    for (int v = 0; v < 2; ++v) { fails += run_case(s, v == 1, 1 + v, v == 0); ++total; }
  for (int i = 0; i < ncases; ++i) {
    Conv2dShape s{};
    s.N = uni(1, 2);
    s.G = uni(0, 3) == 0 ? uni(1, 4) : 1;
    index_t cg = uni(1, 6), mg = uni(1, 12);
    if (uni(0, 4) == 0) { s.G = uni(1, 12); cg = 1; mg = 1; }  // depthwise
    s.C = s.G * cg; s.M = s.G * mg;
    s.H = uni(1, 20); s.W = uni(1, 20); s.KH = uni(1, 4); s.KW = uni(1, 4); s.SH = uni(1, 3); s.SW = uni(1, 3);
    s.PT = uni(0, 2); s.PB = uni(0, 2); s.PL = uni(0, 2); s.PR = uni(0, 2); s.DH = uni(1, 2); s.DW = uni(1, 2);
    if (uni(0, 4) == 0) { s.KH = s.KW = 1; s.SH = s.SW = 1; s.PT = s.PB = s.PL = s.PR = 0; }
    if (s.OH() <= 0 || s.OW() <= 0) { --i; continue; }
    fails += run_case(s, uni(0, 1) == 1, uni(1, 3), uni(0, 1) == 1); ++total;
  }
  std::printf("%s %d cases, %d failed\n", fails ? "FAILED" : "ok", total, fails);
  return fails ? 1 : 0;
}
