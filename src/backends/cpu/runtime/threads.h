// aic CPU runtime: the thread pool that generated kernels, gemm.h and conv.h run their parallel loops on.
// Header-only C++17 (std::thread, atomics), no other dependencies.
//
// Why not OpenMP's `parallel for`: its team meets at a barrier at the end of every loop, so a kernel waits
// for a worker that has not even started.  On the 2-vCPU VMs measured (Zen 3), waking a sleeping worker
// can take milliseconds: SqueezeNet's 3x3 convolutions (0.35-0.84 ms on one thread) took 2.3-3.7 ms on
// two with GOMP_SPINCOUNT=0; spinning longer instead (libgomp's default) has the idle worker take the
// host time its partner needs: the whole model 12 ms on one thread, 69-118 ms on two.
//
// Here a parallel loop is cut into chunks claimed from one atomic ticket.  The calling thread claims
// chunks too; when none is left it waits only for the chunks workers claimed (they are running, so that is
// short), never for a worker that did not wake up in time: at worst the loop runs on the caller alone.
// Idle workers spin for a short while (kSpinMicros, or $AIC_SPIN_US) and then sleep on a condition
// variable.  A loop started inside one that runs on several threads (or while another thread of the
// process is using the pool) runs on the calling thread; one inside a loop given a single thread may use
// the pool (a convolution's groups run one after the other, each GEMM on all threads).
//
// API (namespace aic::threads):
//   set_max_threads(n)          threads for the loops from now on (n <= 0: the hardware's); workers start
//                               on first use
//   max_threads()               that number; 1 inside a loop running on several threads
//   parallel_for(n, cap, fn)    fn(i, slot) for i in [0, n), on at most `cap` threads; slot in [0, cap)
//                               is the calling thread's index in this loop (0: the caller), for per-thread
//                               buffers; returns when every call has returned
//   parallel_range(n, cap, fn)  fn(lo, hi) over contiguous pieces of [0, n) (about 4 per thread)
// A loop's chunks run under the calling thread's floating-point mode (fp_mode below: x86's MXCSR, whose
// flush-to-zero bit a model run sets): a worker takes it on before it runs a chunk.
//
// API (namespace aic::fp_mode):
//   get(), set(mode)            the calling thread's mode (0 where the target has none modelled here)
//   FlushToZero                 RAII: results that would be denormal are zero while it lives (x86 only)
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace aic {
namespace fp_mode {

// Why flush: a value under 2^-126 costs a microcode assist per instruction that makes or reads it on x86
// (tens of cycles).  A softmax over scores that span more than 87 makes them by the thousand (exp of the
// far tail): GPT-2's 12 x 128 x 128 softmax took 0.75 ms instead of 0.45 in the model on one Zen 3 core.
// Flushing results (FTZ, not DAZ: denormal inputs are still read as they are) changes values by less than
// 2^-126, as TensorFlow's threads and ONNX Runtime's set_denormal_as_zero option do.
using Mode = unsigned;
#if defined(__SSE__) || defined(__x86_64__)
inline Mode get() { return _mm_getcsr(); }
inline void set(Mode m) { _mm_setcsr(m); }
constexpr Mode kFlushToZero = 0x8000;  // MXCSR.FTZ
#else
inline Mode get() { return 0; }
inline void set(Mode) {}
constexpr Mode kFlushToZero = 0;
#endif

class FlushToZero {
 public:
  FlushToZero() : saved_(get()) { set(saved_ | kFlushToZero); }
  ~FlushToZero() { set(saved_); }
  FlushToZero(const FlushToZero&) = delete;
  FlushToZero& operator=(const FlushToZero&) = delete;

 private:
  Mode saved_;
};

}  // namespace fp_mode

namespace threads {

using index_t = std::int64_t;

namespace detail {

// About as long as the gap between two kernels of a model: a worker that finished its part of one loop
// is still awake for the next one, yet never holds a core for long while the caller runs serial code.
constexpr int kSpinMicros = 50;

inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline bool& in_loop() {
  static thread_local bool inside = false;
  return inside;
}

// The ticket: bits 0-31 the next chunk to claim, 32-55 the number of chunks, 56-63 how many threads may
// take part.  One compare-and-swap claims a chunk of the current loop, and a worker reads the loop's
// function only after a successful claim (the caller cannot start another loop until that chunk is done).
constexpr std::uint64_t pack(std::uint64_t chunks, std::uint64_t cap) { return (cap << 56) | (chunks << 32); }
constexpr std::uint32_t next_of(std::uint64_t t) { return std::uint32_t(t); }
constexpr std::uint32_t chunks_of(std::uint64_t t) { return std::uint32_t((t >> 32) & 0xFFFFFFu); }
constexpr int cap_of(std::uint64_t t) { return int(t >> 56); }
constexpr index_t kMaxChunks = (index_t(1) << 24) - 1;
constexpr int kMaxThreads = 255;

class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int max_threads() const { return max_threads_.load(std::memory_order_relaxed); }
  void set_max_threads(int n) {
    if (n <= 0) n = int(std::max(1u, std::thread::hardware_concurrency()));
    max_threads_.store(std::min(n, kMaxThreads), std::memory_order_relaxed);
  }

  // fn(chunk, slot) for chunk in [0, chunks), chunks <= kMaxChunks, on up to cap threads (cap >= 2).
  template <class F>
  void run(index_t chunks, int cap, F& fn) {
    std::unique_lock<std::mutex> busy(submit_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another thread of the process is running a loop: this one runs here
      serial(chunks, fn);
      return;
    }
    start_workers(cap - 1);
    call_ = &invoke<F>;
    fn_ = &fn;
    mode_ = fp_mode::get();
    done_.store(0, std::memory_order_relaxed);
    ticket_.store(pack(std::uint64_t(chunks), std::uint64_t(cap)), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
    in_loop() = true;
    index_t mine = 0;
    for (std::uint64_t t = ticket_.load(std::memory_order_relaxed); next_of(t) < chunks_of(t);) {
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) {
        fn(index_t(next_of(t)), 0);
        ++mine;
      }
    }
    in_loop() = false;
    while (done_.load(std::memory_order_acquire) != chunks - mine) relax();
  }

  // On the calling thread alone: loops nested in fn may still use the pool.
  template <class F>
  static void serial(index_t chunks, F& fn) {
    for (index_t c = 0; c < chunks; ++c) fn(c, 0);
  }

 private:
  Pool() {
    const char* spin = std::getenv("AIC_SPIN_US");
    spin_ = std::chrono::microseconds(spin && *spin ? std::atoi(spin) : kSpinMicros);
    set_max_threads(0);
  }

  template <class F>
  static void invoke(void* fn, index_t chunk, int slot) { (*static_cast<F*>(fn))(chunk, slot); }

  void start_workers(int n) {
    while (int(workers_.size()) < n) {
      const int slot = int(workers_.size()) + 1;
      workers_.emplace_back([this, slot] { work(slot); });
    }
  }

  bool available(int slot) const {
    const std::uint64_t t = ticket_.load(std::memory_order_seq_cst);
    return next_of(t) < chunks_of(t) && slot < cap_of(t);
  }

  // Claim and run one chunk of the current loop, if there is one this worker may take.
  bool try_run(int slot) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    while (next_of(t) < chunks_of(t) && slot < cap_of(t)) {
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) {
        if (fp_mode::get() != mode_) fp_mode::set(mode_);
        call_(fn_, index_t(next_of(t)), slot);
        done_.fetch_add(1, std::memory_order_release);
        return true;
      }
    }
    return false;
  }

  void work(int slot) {
    in_loop() = true;  // a loop inside a chunk runs on this thread
    for (;;) {
      if (try_run(slot)) continue;
      const auto until = std::chrono::steady_clock::now() + spin_;
      bool found = false;
      for (int i = 1; !found; ++i) {
        relax();
        found = available(slot);
        if ((i & 63) == 0 && std::chrono::steady_clock::now() >= until) break;
      }
      if (found) continue;
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      cv_.wait(lock, [&] { return quit_ || available(slot); });
      sleepers_.fetch_sub(1, std::memory_order_seq_cst);
      if (quit_) return;
    }
  }

  std::atomic<std::uint64_t> ticket_{0};
  std::atomic<index_t> done_{0};
  void (*call_)(void*, index_t, int) = nullptr;
  void* fn_ = nullptr;
  fp_mode::Mode mode_ = 0;  // the caller's, for the workers
  std::atomic<int> max_threads_{1};
  std::atomic<int> sleepers_{0};
  std::chrono::microseconds spin_{kSpinMicros};
  std::mutex submit_;  // held by the thread running a loop
  std::mutex mu_;      // with cv_: sleeping workers
  std::condition_variable cv_;
  bool quit_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace detail

inline void set_max_threads(int n) { detail::Pool::get().set_max_threads(n); }

inline int max_threads() { return detail::in_loop() ? 1 : detail::Pool::get().max_threads(); }

namespace detail {
// The threads a loop of n items asked to run on `cap` threads gets: no more than max_threads() or n.
inline int threads_for(index_t n, int cap) { return int(std::min<index_t>({index_t(cap), index_t(threads::max_threads()), n})); }
}  // namespace detail

template <class F>
void parallel_for(index_t n, int cap, F&& fn) {
  if (n <= 0) return;
  cap = detail::threads_for(n, cap);
  if (cap <= 1) return detail::Pool::serial(n, fn);
  if (n <= detail::kMaxChunks) return detail::Pool::get().run(n, cap, fn);
  // More items than the ticket counts: chunks of consecutive items.
  const index_t chunks = detail::kMaxChunks, per = (n + chunks - 1) / chunks;
  auto piece = [&](index_t c, int slot) {
    for (index_t i = c * per, e = std::min(n, i + per); i < e; ++i) fn(i, slot);
  };
  detail::Pool::get().run(chunks, cap, piece);
}

template <class F>
void parallel_range(index_t n, int cap, F&& fn) {
  if (n <= 0) return;
  cap = detail::threads_for(n, cap);
  if (cap <= 1) return fn(index_t(0), n);
  // A few pieces per thread: a thread that starts late (or is preempted) leaves its share to the others.
  const index_t pieces = std::min<index_t>(n, 4 * index_t(cap));
  auto piece = [&](index_t c, int) { fn(n * c / pieces, n * (c + 1) / pieces); };
  detail::Pool::get().run(pieces, cap, piece);
}

}  // namespace threads
}  // namespace aic
