// Randomised test of gemv.h's sgemv_rows against a double-precision reference: sizes around the vector
// widths (the four-row blocks, the one-row tail, the scalar tail of each dot), a leading dimension past
// the row length, matrices big enough to go to the threads, and the epilogue contract (every output once,
// in pieces of at most 32, after its value is final).
//   usage: gemv_test <seed> <random cases>
#include "gemv.h"

#include <cmath>
#include <cstdio>
#include <array>
#include <cstdlib>
#include <random>
#include <vector>

using namespace aic::cpu;

namespace {
std::mt19937 rng;
int uni(int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); }

struct Check {
  const float* want;
  std::vector<int>* seen;
  int* bad;
  void operator()(std::int64_t row, std::int64_t n0, float* y, int count) const {
    if (row != 0 || count <= 0 || count > 32) ++*bad;
    for (int j = 0; j < count; ++j) {
      ++(*seen)[std::size_t(n0 + j)];
      const double w = want[n0 + j];
      if (!(std::fabs(double(y[j]) - w) <= 1e-5 * (1.0 + std::fabs(w)) * 8.0)) ++*bad;
      y[j] = y[j] * 2.0f + 1.0f;  // the epilogue's write must be what stays
    }
  }
};

int run_case(std::int64_t N, std::int64_t K, std::int64_t ldw) {
  std::vector<float> W(static_cast<std::size_t>(N * ldw)), x(static_cast<std::size_t>(K)), y(static_cast<std::size_t>(N), 777.0f);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (auto& v : W) v = d(rng);
  for (auto& v : x) v = d(rng);
  std::vector<float> want(static_cast<std::size_t>(N));
  for (std::int64_t n = 0; n < N; ++n) {
    double s = 0;
    for (std::int64_t k = 0; k < K; ++k) s += double(W[std::size_t(n * ldw + k)]) * double(x[std::size_t(k)]);
    want[std::size_t(n)] = float(s);
  }
  std::vector<int> seen(static_cast<std::size_t>(N), 0);
  int bad = 0;
  sgemv_rows(x.data(), W.data(), ldw, N, K, y.data(), Check{want.data(), &seen, &bad});
  for (std::int64_t n = 0; n < N; ++n) {
    if (seen[std::size_t(n)] != 1) ++bad;
    const float after = want[std::size_t(n)] * 2.0f + 1.0f;
    if (!(std::fabs(y[std::size_t(n)] - after) <= 1e-4f * (1.0f + std::fabs(after)) * 8.0f)) ++bad;
  }
  if (bad) std::printf("FAIL N=%lld K=%lld ldw=%lld: %d bad\n", (long long)N, (long long)K, (long long)ldw, bad);
  return bad ? 1 : 0;
}
}  // namespace

int main(int argc, char** argv) {
  rng.seed(argc > 1 ? unsigned(std::atoi(argv[1])) : 1u);
  const int ncases = argc > 2 ? std::atoi(argv[2]) : 300;
  aic::threads::set_max_threads(2);
  int fails = 0;
  // Edges: one row, fewer than four, a dot shorter than a vector, exactly two vectors.
  for (const auto& c : {std::array<int, 2>{1, 1}, {3, 5}, {4, 16}, {5, 32}, {7, 33}, {64, 64}, {33, 1000}}) fails += run_case(c[0], c[1], c[1]);
  for (int i = 0; i < ncases; ++i) {
    const std::int64_t N = uni(1, 200), K = uni(1, 600);
    fails += run_case(N, K, K + (i % 3 == 0 ? uni(1, 40) : 0));
  }
  // Over 1 MiB of weights: the rows split among the threads.
  fails += run_case(700, 900, 900);
  fails += run_case(1001, 1031, 1040);
  std::printf("%s %d cases, %d failed\n", fails ? "FAILED" : "ok", ncases + 9, fails);
  return fails ? 1 : 0;
}
