// Compiled (not run) with -O3 -fopt-info-vec-optimized: every loop below must be reported vectorized.
// Each loop is on a line tagged VEC:<name>.
#include "vecmath.h"

using namespace aic::cpu;

void apply_exp(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vexp(x[i]);  // VEC:exp
}
void apply_log(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vlog(x[i]);  // VEC:log
}
void apply_tanh(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vtanh(x[i]);  // VEC:tanh
}
void apply_sigmoid(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vsigmoid(x[i]);  // VEC:sigmoid
}
void apply_erf(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = verf(x[i]);  // VEC:erf
}
void apply_erfc(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = verfc(x[i]);  // VEC:erfc
}
void apply_gelu(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vgelu(x[i]);  // VEC:gelu
}
void apply_gelu_tanh(const float* __restrict x, float* __restrict y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] = vgelu_tanh(x[i]);  // VEC:gelu_tanh
}
// Plain loops, without the pragma, vectorise too.
void apply_sigmoid_plain(const float* __restrict x, float* __restrict y, int n) {
  for (int i = 0; i < n; ++i) y[i] = vsigmoid(x[i]);  // VEC:sigmoid_plain
}
