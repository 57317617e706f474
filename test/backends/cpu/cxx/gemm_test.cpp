// Randomised correctness test of gemm.h against a double-precision reference: shapes from tiny to several
// cache blocks, both transposes, leading dimensions with padding, alpha/beta (beta = 0 must ignore NaN in
// C), raw and prepacked operands in both orientations, 1-3 threads, caller workspace (with a guard zone),
// and an epilogue that must see every element of C exactly once, after its final value.
//   usage: gemm_test <seed> <random cases>
#include "gemm.h"

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

struct Case { int M, N, K; bool ta, tb; int pad; float alpha, beta; int variant, threads, epi; bool flip, ws; };

int run_case(const Case& c) {
  const int M = c.M, N = c.N, K = c.K;
  const int lda = (c.ta ? M : K) + c.pad, ldb = (c.tb ? K : N) + c.pad, ldc = N + c.pad;
  std::vector<float> A(std::size_t(c.ta ? K : M) * lda + 1), B(std::size_t(c.tb ? N : K) * ldb + 1), C(std::size_t(M) * ldc);
  std::vector<float> bias_r(M), bias_c(N), res(std::size_t(M) * ldc);
  for (auto& v : A) v = unf();
  for (auto& v : B) v = unf();
  for (auto& v : C) v = c.beta == 0.0f ? NAN : unf();
  for (auto& v : bias_r) v = unf();
  for (auto& v : bias_c) v = unf();
  for (auto& v : res) v = unf();
  const std::vector<float> C0 = C;
  aic::threads::set_max_threads(c.threads);
  bool tm = sgemm_transposed_mode(M, N, K);
  if (c.flip) tm = !tm;
  std::vector<float> Ap(sgemm_packed_a_floats(M, K) + 1), Bp(sgemm_packed_b_floats(K, N) + 1);
  sgemm_pack_a(c.ta, M, K, A.data(), lda, Ap.data(), tm);
  sgemm_pack_b(c.tb, K, N, B.data(), ldb, Bp.data(), tm);
  const std::size_t wsb = sgemm_workspace_bytes(M, N, K, c.threads);
  std::vector<unsigned char> ws(wsb + 256, 0xA5);
  void* wsp = c.ws ? ws.data() : nullptr;

  std::vector<int> seen(std::size_t(M) * N, 0);
  int bad_calls = 0;
  auto epi = [&](index_t r, index_t col, float* p, int n) {
    if (r < 0 || r >= M || col < 0 || col + n > N || n <= 0 || p != C.data() + r * ldc + col) { ++bad_calls; return; }
    for (int j = 0; j < n; ++j) {
      ++seen[std::size_t(r) * N + col + j];
      float v = p[j];
      if (c.epi == 1) v += bias_r[r];
      if (c.epi == 2) v = std::max(v + bias_c[col + j], 0.0f);
      if (c.epi == 3) v += res[std::size_t(r) * ldc + col + j];
      p[j] = v;
    }
  };
  const RawA ra{A.data(), lda, c.ta};
  const RawB rb{B.data(), ldb, c.tb};
  const PackedA pa(Ap.data(), M, tm);
  const PackedB pb(Bp.data(), N, tm);
  switch (c.variant) {
    case 0: sgemm(c.ta, c.tb, M, N, K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc, epi, wsp); break;
    case 1: sgemm(pa, rb, M, N, K, c.alpha, c.beta, C.data(), ldc, epi, wsp); break;
    case 2: sgemm(ra, pb, M, N, K, c.alpha, c.beta, C.data(), ldc, epi, wsp); break;
    default: sgemm(pa, pb, M, N, K, c.alpha, c.beta, C.data(), ldc, epi, wsp); break;
  }
  int bad = bad_calls;
  double worst = 0;
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double s = 0;
      for (int k = 0; k < K; ++k)
        s += double(c.ta ? A[std::size_t(k) * lda + i] : A[std::size_t(i) * lda + k]) *
             double(c.tb ? B[std::size_t(j) * ldb + k] : B[std::size_t(k) * ldb + j]);
      double ref = c.alpha * s + (c.beta == 0.0f ? 0.0 : c.beta * double(C0[std::size_t(i) * ldc + j]));
      if (c.epi == 1) ref += bias_r[i];
      if (c.epi == 2) ref = std::max(ref + bias_c[j], 0.0);
      if (c.epi == 3) ref += res[std::size_t(i) * ldc + j];
      const double err = std::fabs(ref - C[std::size_t(i) * ldc + j]) / (1.0 + std::sqrt(double(K)));
      if (!(err < 2e-6)) ++bad;
      worst = std::max(worst, err);
      if (seen[std::size_t(i) * N + j] != 1) ++bad;
    }
  // Padding columns of C untouched.
  for (int i = 0; i < M; ++i)
    for (int j = N; j < ldc; ++j) {
      const float a = C[std::size_t(i) * ldc + j], b = C0[std::size_t(i) * ldc + j];
      if (!(a == b || (std::isnan(a) && std::isnan(b)))) ++bad;
    }
  for (std::size_t i = wsb; i < ws.size(); ++i)
    if (ws[i] != 0xA5) { ++bad; break; }
  if (bad)
    std::printf("FAIL M=%d N=%d K=%d ta=%d tb=%d pad=%d alpha=%g beta=%g variant=%d threads=%d epi=%d flip=%d ws=%d: %d bad, worst %.3g\n",
                M, N, K, c.ta, c.tb, c.pad, c.alpha, c.beta, c.variant, c.threads, c.epi, c.flip, c.ws, bad, worst);
  return bad ? 1 : 0;
}

Case random_case(int maxm, int maxn, int maxk) {
  Case c;
  c.M = uni(1, maxm); c.N = uni(1, maxn); c.K = uni(0, maxk);
  c.ta = uni(0, 1); c.tb = uni(0, 1); c.pad = uni(0, 3);
  c.alpha = uni(0, 3) ? 1.0f : 2.0f * unf();
  c.beta = uni(0, 2) == 0 ? 0.0f : (uni(0, 1) ? 1.0f : unf());
  c.variant = uni(0, 3); c.threads = uni(1, 3); c.epi = uni(0, 3); c.flip = uni(0, 3) == 0; c.ws = uni(0, 1);
  return c;
}
}  // namespace

int main(int argc, char** argv) {
  rng.seed(argc > 1 ? unsigned(std::atoi(argv[1])) : 1u);
  const int ncases = argc > 2 ? std::atoi(argv[2]) : 500;
  int fails = 0, total = 0;
  // Edge sizes around the register tile (MR, NR) and the cache blocks (KC, MC, NC, the L2 right block).
  const int dims[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 49, 64, 65};
  for (int m : dims)
    for (int n : dims) {
      Case c = random_case(1, 1, 1);
      c.M = m; c.N = n; c.K = uni(1, 40);
      fails += run_case(c); ++total;
    }
  // Large ones, and depths either side of kShallowK (the tile order changes there).
  const int big[][3] = {{200, 300, 800}, {9, 2100, 20}, {100, 700, 400}, {300, 49, 390}, {65, 196, 1000}, {1, 1000, 385},
                        {1000, 1, 385}, {70, 530, 160}, {70, 530, 161}};
  for (const auto& s : big)
    for (int v = 0; v < 4; ++v) {
      Case c = random_case(1, 1, 1);
      c.M = s[0]; c.N = s[1]; c.K = s[2]; c.variant = v; c.threads = 1 + v % 3;
      fails += run_case(c); ++total;
    }
  // Degenerate: K = 0 (C = beta C), alpha = 0.
  for (int v = 0; v < 4; ++v) {
    Case c = random_case(20, 20, 0);
    if (v >= 2) { c.K = 5; c.alpha = 0.0f; }
    fails += run_case(c); ++total;
  }
  for (int i = 0; i < ncases; ++i) {
    const bool large = i % 10 == 0;
    fails += run_case(random_case(large ? 260 : 70, large ? 260 : 80, large ? 800 : 50)); ++total;
  }
  std::printf("%s %d cases, %d failed\n", fails ? "FAILED" : "ok", total, fails);
  return fails ? 1 : 0;
}
