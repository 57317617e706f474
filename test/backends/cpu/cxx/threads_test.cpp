// Stress test of threads.h: every index of a loop runs exactly once, slots stay below the cap, loops nested
// in a multi-threaded loop run on their caller, loops inside a single-threaded one may use the pool, and
// several threads of the process starting loops at once (one gets the pool, the others run serially) all
// finish with the right results; thousands of back-to-back loops, tiny and larger, with short spins; a
// loop's chunks run under its caller's floating-point mode (flush-to-zero on and off, on every worker).
//   usage: threads_test <loops>
#include "threads.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

using aic::threads::index_t;

namespace {
std::atomic<int> failures{0};

void check(bool ok, const char* what, long long a, long long b) {
  if (!ok && failures.fetch_add(1) < 10) std::printf("FAIL %s (%lld, %lld)\n", what, a, b);
}

// One loop of n items on up to cap threads: each item once, slots below the cap.
void one_loop(index_t n, int cap, bool ranges) {
  std::vector<std::atomic<int>> hits(std::size_t(n > 0 ? n : 1));
  for (auto& h : hits) h.store(0);
  std::atomic<int> bad_slot{0};
  if (ranges) {
    aic::threads::parallel_range(n, cap, [&](index_t lo, index_t hi) {
      for (index_t i = lo; i < hi; ++i) hits[std::size_t(i)].fetch_add(1);
    });
  } else {
    aic::threads::parallel_for(n, cap, [&](index_t i, int slot) {
      if (slot < 0 || slot >= std::max(cap, 1)) bad_slot.fetch_add(1);
      hits[std::size_t(i)].fetch_add(1);
    });
  }
  for (index_t i = 0; i < n; ++i) check(hits[std::size_t(i)].load() == 1, "item not run exactly once", i, hits[std::size_t(i)].load());
  check(bad_slot.load() == 0, "slot outside the cap", cap, bad_slot.load());
}
// x * 2^-30 for x = 2^-100 is a denormal: 0 under flush-to-zero.  Every item of a loop sees the caller's
// mode; `volatile` keeps the product at run time.
void fp_mode_loop(bool flush) {
  std::atomic<int> wrong{0};
  aic::threads::parallel_for(64, 3, [&](index_t, int) {
    for (int r = 0; r < 2000; ++r) {  // long enough that the workers take chunks too
      volatile float x = 7.88860905e-31f, scale = 9.31322575e-10f;
      const float y = x * scale;
      if ((y == 0.0f) != flush) wrong.fetch_add(1);
    }
  });
  check(wrong.load() == 0, flush ? "a denormal under flush-to-zero" : "a flushed denormal", flush, wrong.load());
}
}  // namespace

int main(int argc, char** argv) {
  const int loops = argc > 1 ? std::atoi(argv[1]) : 3000;
  aic::threads::set_max_threads(3);
  for (int k = 0; k < loops; ++k) one_loop(index_t(k % 97), 1 + k % 4, k % 2 == 0);
  one_loop(100000, 3, false);
  one_loop(1000003, 3, true);

  // Nested: inside a loop on several threads max_threads() is 1; inside a single-threaded one it is not.
  std::atomic<int> inner_threads{0};
  aic::threads::parallel_for(8, 3, [&](index_t, int) { inner_threads.fetch_add(aic::threads::max_threads()); one_loop(50, 3, false); });
  check(inner_threads.load() == 8, "max_threads() inside a parallel loop", inner_threads.load(), 8);
  int serial_inner = 0;
  aic::threads::parallel_range(8, 1, [&](index_t, index_t) { serial_inner = aic::threads::max_threads(); });
  check(serial_inner == 3, "max_threads() inside a single-threaded loop", serial_inner, 3);

  // The caller's floating-point mode, on and off again (x86: MXCSR.FTZ; elsewhere no mode is modelled).
  if (aic::fp_mode::kFlushToZero != 0) {
    for (int k = 0; k < 20; ++k) {
      const bool flush = k % 2 == 0;
      if (flush) {
        const aic::fp_mode::FlushToZero ftz;
        fp_mode_loop(true);
      } else {
        fp_mode_loop(false);
      }
    }
  }

  // Several threads of the process starting loops at the same time.
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([t, loops] {
      for (int k = 0; k < loops / 3; ++k) one_loop(index_t(1 + (k * 7 + t) % 200), 3, (k + t) % 2 == 0);
    });
  for (auto& c : callers) c.join();

  std::printf("%s %d loops, %d failed\n", failures.load() ? "FAILED" : "ok", loops, failures.load());
  return failures.load() ? 1 : 0;
}
