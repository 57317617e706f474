// Golden snippets: how the CPU backend spells a few kernels (the kernel IR text in, the C++ function out).
// When the spelling changes on purpose, update the expected text here; the numbers are checked elsewhere
// (random-graphs.test.ts, dot-kernels.test.ts, conformance).
import { describe, expect, test } from 'vitest';
import { parseProgram } from '../../../src/kernel/parser.js';
import { renderModel } from '../../../src/backends/cpu/emit.js';

/** The rendered source from the first kernel's comment to the tables. */
function kernelSource(programText: string, from: string): string {
  const src = renderModel(parseProgram(programText), { prefix: 'g' }).source;
  return `${src.slice(src.indexOf(from), src.indexOf('// ---- tables ----')).trimEnd()}\n`;
}

describe('cpu: rendered C++ (golden)', () => {
  test('a pointwise kernel: the outer axis a range run on the thread pool, the inner one vectorized', () => {
    const program = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[1024,1024] input "%x"
  buffer @out0: f32[1024,1024] output "%y"
  kernel k0 "exp → %y" (i0 < 1024, i1 < 1024) {
    %0 = load f32 @in0[1024*i0 + i1]
    %1 = exp f32 %0
    store @out0[1024*i0 + i1] = %1
  }
}
`;
    expect(kernelSource(program, 'static void kernel_k0')).toBe(`static void kernel_k0_part(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st, index_t lo_, index_t hi_) {
  (void)S; (void)st;
  for (index_t i0 = lo_; i0 < hi_; ++i0) {
    #pragma omp simd
    for (index_t i1 = 0; i1 < 1024; ++i1) {
      const float v0 = b_in0[(1024 * i0 + i1)];
      const float v1 = aic::cpu::vexp(v0);
      b_out0[(1024 * i0 + i1)] = v1;
    }
  }
}

static void kernel_k0(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
  (void)S; (void)st;
  aic::threads::parallel_range((1024), aic::threads::max_threads(), [&](index_t lo_, index_t hi_) { kernel_k0_part(b_in0, b_out0, S, st, lo_, hi_); });
}
`);
  });

  test('a row kernel: reductions with vector accumulators, a symbolic size from S', () => {
    const program = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[N,8] input "%x"
  buffer @out0: f32[N,8] output "%y"
  kernel k0 "reduce_max sub exp reduce_sum div → %y" (i0 < $N) {
    %0 = reduce max f32 (r0 < 8) {
      %1 = load f32 @in0[8*i0 + r0]
    } -> %1
    %2 = reduce sum f32 (r1 < 8) {
      %3 = load f32 @in0[8*i0 + r1]
      %4 = sub f32 %3, %0
      %5 = exp f32 %4
    } -> %5
    loop (i1 < 8) {
      %6 = load f32 @in0[8*i0 + i1]
      %7 = sub f32 %6, %0
      %8 = exp f32 %7
      %9 = div f32 %8, %2
      store @out0[8*i0 + i1] = %9
    }
  }
}
`;
    expect(kernelSource(program, 'static void kernel_k0')).toBe(`static void kernel_k0_part(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st, index_t lo_, index_t hi_) {
  (void)S; (void)st;
  [[maybe_unused]] const index_t S_N = S[0];
  for (index_t i0 = lo_; i0 < hi_; ++i0) {
    float a0 = (-std::numeric_limits<float>::infinity());
    #pragma omp simd reduction(aic_max:a0)
    for (index_t r0 = 0; r0 < 8; ++r0) {
      const float v1 = b_in0[(8 * i0 + r0)];
      a0 = aic::fmax_nan(a0, v1);
    }
    const float v0 = a0;
    double a2 = 0.0;
    #pragma omp simd reduction(+:a2)
    for (index_t r1 = 0; r1 < 8; ++r1) {
      const float v3 = b_in0[(8 * i0 + r1)];
      const float v4 = (v3 - v0);
      const float v5 = aic::cpu::vexp(v4);
      a2 += static_cast<double>(v5);
    }
    const float v2 = static_cast<float>(a2);
    #pragma omp simd
    for (index_t i1 = 0; i1 < 8; ++i1) {
      const float v6 = b_in0[(8 * i0 + i1)];
      const float v7 = (v6 - v0);
      const float v8 = aic::cpu::vexp(v7);
      const float v9 = (v8 / v2);
      b_out0[(8 * i0 + i1)] = v9;
    }
  }
}

static void kernel_k0(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
  (void)S; (void)st;
  [[maybe_unused]] const index_t S_N = S[0];
  aic::threads::parallel_range((S_N), S_N * 96 >= 262144 ? aic::threads::max_threads() : 1, [&](index_t lo_, index_t hi_) { kernel_k0_part(b_in0, b_out0, S, st, lo_, hi_); });
}
`);
  });

  test('f16: a value in float, each op in double rounded once; stored as its bits', () => {
    const program = `program @p(@in0, @in1) -> (@out0) {
  arena 0
  buffer @in0: f16[16] input "%a"
  buffer @in1: i32[16] input "%b"
  buffer @out0: f16[16] output "%y"
  kernel k0 "cast add → %y" (i0 < 16) {
    %0 = load f16 @in0[i0]
    %1 = load i32 @in1[i0]
    %2 = cast f16 %1
    %3 = add f16 %0, %2
    store @out0[i0] = %3
  }
}
`;
    expect(kernelSource(program, 'static void kernel_k0')).toBe(`static void kernel_k0(const std::uint16_t* AIC_RESTRICT b_in0, const std::int32_t* AIC_RESTRICT b_in1, std::uint16_t* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
  (void)S; (void)st;
  #pragma omp simd
  for (index_t i0 = 0; i0 < 16; ++i0) {
    const float v0 = aic::f16_value(b_in0[i0]);
    const std::int32_t v1 = b_in1[i0];
    const float v2 = aic::rnd_f16(static_cast<double>(v1));
    const float v3 = aic::rnd_f16((static_cast<double>(v0) + static_cast<double>(v2)));
    b_out0[i0] = aic::f16_bits(v3);
  }
}
`);
  });

  test('a masked load: an unconditional load of a clamped index, then a pick', () => {
    const program = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[4,6] input "%x"
  buffer @out0: f32[4,8] output "%y"
  kernel k0 "pad → %y" (i0 < 4, i1 < 8) {
    %0 = inbounds [i1 - 1] < 6
    %1 = load f32 @in0[6*i0 + i1 - 1] if %0
    store @out0[8*i0 + i1] = %1
  }
}
`;
    expect(kernelSource(program, 'static void kernel_k0')).toBe(`static void kernel_k0(const float* AIC_RESTRICT b_in0, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
  (void)S; (void)st;
  for (index_t i0 = 0; i0 < 4; ++i0) {
    #pragma omp simd
    for (index_t i1 = 0; i1 < 8; ++i1) {
      const bool v0 = (static_cast<std::uint64_t>((i1 - 1)) < static_cast<std::uint64_t>(6));
      const float v1 = aic::pick(v0, b_in0[aic::clamp_index((6 * i0 + i1 - 1), 24)], 0.0f);
      b_out0[(8 * i0 + i1)] = v1;
    }
  }
}
`);
  });

  test('a dot with its epilogue: one sgemm call, the add and max fused on each piece of C (members named by position)', () => {
    const program = `program @p(@in0, @in1, @in2) -> (@out0) {
  arena 0
  buffer @in0: f32[64,32] input "%x"
  buffer @in1: f32[32,48] input "%w"
  buffer @in2: f32[48] input "%b"
  buffer @out0: f32[64,48] output "%y"
  kernel k0 "dot add max → %y" (i0 < 64, i1 < 48) {
    %0 = reduce dot f32 (r0 < 32) {
      %1 = load f32 @in0[32*i0 + r0]
      %2 = load f32 @in1[48*r0 + i1]
    } -> %1, %2
    %3 = load f32 @in2[i1]
    %4 = add f32 %0, %3
    %5 = const f32 0.0
    %6 = max f32 %4, %5
    store @out0[48*i0 + i1] = %6
  }
}
`;
    expect(kernelSource(program, 'struct Epi_k0')).toBe(`struct Epi_k0 {
  const float* m_0;
  const float* m_1;
  const float* m_2;
  float* m_3;
  const index_t* S;
  void operator()(index_t row, index_t col, float* c, int count) const {
    (void)row;
    #pragma omp simd
    for (int jj = 0; jj < count; ++jj) {
      const index_t f0 = col + jj;
      const float v0 = c[jj];
      const float v3 = m_2[f0];
      const float v4 = (v0 + v3);
      const float v5 = 0.0f;
      const float v6 = aic::fmax_nan(v4, v5);
      c[jj] = v6;
    }
  }
};

static void kernel_k0(const float* AIC_RESTRICT b_in0, const float* AIC_RESTRICT b_in1, const float* AIC_RESTRICT b_in2, float* AIC_RESTRICT b_out0, const index_t* S, aic::Status* st) {
  (void)S; (void)st;
  aic::cpu::sgemm(aic::cpu::RawA{b_in0 + 0, 32, false}, aic::cpu::RawB{b_in1 + 0, 48, false}, 64, 48, 32, 1.0f, 0.0f, b_out0 + 0, 48, Epi_k0{b_in0, b_in1, b_in2, b_out0, S});
}
`);
  });
});
