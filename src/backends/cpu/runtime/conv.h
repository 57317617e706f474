// aic CPU runtime: 2-D convolution, NCHW, fp32.  Header-only C++17, depends only on gemm.h.
//
//   y[n, m, oh, ow] = sum_{c in group(m), kh, kw} w[m, c', kh, kw] * x[n, c, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW]
//
// Per image and group this is a GEMM  Y_g (Mg x OH*OW) = W_g (Mg x Cg*KH*KW) * X_g (Cg*KH*KW x OH*OW):
//   * 1x1, stride 1, no padding: X_g is the input itself (a row-major matrix with ld = H*W), no im2col.
//   * otherwise implicit GEMM: the im2col matrix is never materialised; its panels are packed straight
//     from the input image by Im2colSource (masked vector copies for stride 1, zero fill at the borders),
//     so the only workspace is the GEMM's packing buffers.
//   * depthwise (G == C == M): its own loop nest, vectorised along the output row, 4 output rows at a time.
// The weights can be prepacked once (conv2d_pack_weights) in the layout the GEMM wants for this shape.
//
// The epilogue is called as epi(channel, pixel, ptr, count): output channel m (0..M-1), spatial index
// pixel = oh*OW + ow of the first element, ptr = &y[n, m, pixel], `count` contiguous final elements.
// Per-element data at the same position of another NCHW tensor (residual) is at (ptr - y) from its base:
// see epi::ResidualAt.
//
// API (namespace aic::cpu):
//   Conv2dShape s{N, C, H, W, M, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G};   s.OH(), s.OW()
//   conv2d_workspace_bytes(s, threads)         bytes of the optional workspace (nullptr: thread-local)
//   conv2d_packed_weights_floats(s), conv2d_pack_weights(s, w, dst)
//   conv2d(s, x, w, y [, epi [, workspace [, w_is_packed]]])
#pragma once

#include "gemm.h"

#include <vector>

namespace aic {
namespace cpu {

struct Conv2dShape {
  index_t N, C, H, W;  // input
  index_t M;           // output channels
  index_t KH, KW;
  index_t SH = 1, SW = 1;
  index_t PT = 0, PL = 0, PB = 0, PR = 0;  // pads: top, left, bottom, right
  index_t DH = 1, DW = 1;
  index_t G = 1;
  index_t OH() const { return (H + PT + PB - DH * (KH - 1) - 1) / SH + 1; }
  index_t OW() const { return (W + PL + PR - DW * (KW - 1) - 1) / SW + 1; }
  index_t Cg() const { return C / G; }
  index_t Mg() const { return M / G; }
  index_t Kg() const { return Cg() * KH * KW; }
  bool pointwise() const { return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PT == 0 && PL == 0 && PB == 0 && PR == 0; }
  bool depthwise() const { return G > 1 && G == C && G == M; }
};

namespace epi {
/// c += res[(ptr - out) + j]: add the element at the same position of another tensor shaped like the
/// output (a residual), for conv2d or any GEMM whose C is that tensor.
struct ResidualAt {
  const float* out; const float* res;
  void operator()(index_t, index_t, float* c, int n) const {
    const float* s = res + (c - out);
#pragma omp simd
    for (int j = 0; j < n; ++j) c[j] += s[j];
  }
};
}  // namespace epi

/// The im2col matrix of one image and group as a GEMM operand: outer index = output pixel, depth =
/// (c, kh, kw).  Packs panels straight from the image.
struct Im2colSource {
  const float* x;  // first channel of the group in this image
  index_t H, W, KH, KW, SH, SW, PT, PL, DH, DW, OW, npix;
  static constexpr bool kPrepacked = false;
  bool transposed() const { return false; }

  template <int P>
  const float* panels(index_t o0, index_t n, index_t p0, index_t kc, float* buf) const {
    float* dst = buf;
    for (index_t o = 0; o < n; o += P, dst += kc * P) {
      const int w = int(std::min<index_t>(P, n - o));
#if defined(__AVX512F__)
      if (SW == 1) pack_panel_avx512<P, false>(o0 + o, w, p0, kc, dst);
      else pack_panel_avx512<P, true>(o0 + o, w, p0, kc, dst);
#else
      pack_panel<P>(o0 + o, w, p0, kc, dst);
#endif
    }
    return buf;
  }

 private:
  // Runs of the panel's pixels within one output row: pixel q0 + j, j in [j0, j0 + len), row oh, from ow.
  struct Segment { index_t oh, ow; int j0, len; };
  template <int P>
  int segments(index_t q0, int w, Segment* seg) const {
    int nseg = 0;
    for (int j = 0; j < w;) {
      const index_t q = q0 + j, oh = q / OW, ow = q % OW;
      const int len = int(std::min<index_t>(w - j, OW - ow));
      seg[nseg++] = Segment{oh, ow, j, len};
      j += len;
    }
    return nseg;
  }
  // Valid t in [0, len) of a run whose input columns are iw0 + t*SW: [lo, hi).
  void valid_range(index_t iw0, int len, int& lo, int& hi) const {
    index_t l = 0;
    if (iw0 < 0) l = (-iw0 + SW - 1) / SW;
    index_t h = iw0 >= W ? 0 : (W - 1 - iw0) / SW + 1;
    lo = int(std::min<index_t>(len, l));
    hi = int(std::max<index_t>(lo, std::min<index_t>(len, h)));
  }

#if defined(__AVX512F__)
  // One panel of w <= P pixels starting at pixel q0, depth [p0, p0 + kc), in 16-lane chunks.  For each
  // kernel tap r = (kh, kw) the chunk is a merge of masked loads (stride 1) or one masked gather (GATHER),
  // at offsets relative to the channel plane that do not depend on the channel: tabulated once per panel.
  template <int P, bool GATHER>
  void pack_panel_avx512(index_t q0, int w, index_t p0, index_t kc, float* __restrict dst) const {
    constexpr int CH = (P + 15) / 16;                       // 16-lane chunks per panel row
    constexpr unsigned kStore = P >= 16 ? 0xFFFFu : (1u << P) - 1u;
    Segment seg[P];
    const int nseg = segments<P>(q0, w, seg);
    const index_t taps = KH * KW;
    // Per (tap, chunk): exactly `nops` masked loads (padded with empty masks, so the copy loop has a
    // fixed trip count and no unpredictable branches), or one gather (index vector + mask).
    thread_local std::vector<index_t> offs;
    thread_local std::vector<std::int32_t> idx;  // 16 lanes per (tap, chunk)
    thread_local std::vector<__mmask16> masks;
    const std::size_t ntc = std::size_t(taps * CH);
    int nops = 1;
    if (!GATHER) {
      // A chunk's lanes come from at most (rows its 16 pixels span) runs.
      for (int ch = 0; ch < CH; ++ch) {
        int cnt = 0;
        for (int s = 0; s < nseg; ++s)
          if (seg[s].j0 < 16 * ch + 16 && seg[s].j0 + seg[s].len > 16 * ch) ++cnt;
        nops = std::max(nops, cnt);
      }
      offs.assign(ntc * std::size_t(nops), 0);
      masks.assign(ntc * std::size_t(nops), __mmask16(0));
    } else {
      idx.assign(ntc * 16, 0);
      masks.assign(ntc, __mmask16(0));
    }
    for (index_t r = 0; r < taps; ++r) {
      const index_t kh = r / KW, kw = r % KW;
      for (int ch = 0; ch < CH; ++ch) {
        const std::size_t tc = std::size_t(r * CH + ch);
        int used = 0;
        for (int s = 0; s < nseg; ++s) {
          const index_t ih = seg[s].oh * SH - PT + kh * DH;
          if (ih < 0 || ih >= H) continue;
          const index_t iw0 = seg[s].ow * SW - PL + kw * DW;
          int lo, hi;
          valid_range(iw0, seg[s].len, lo, hi);
          // Lanes [a, b) of this chunk; lane l holds run element t = l + 16*ch - j0.
          const int a = std::max(0, seg[s].j0 + lo - ch * 16), b = std::min(16, seg[s].j0 + hi - ch * 16);
          if (a >= b) continue;
          const unsigned m = ((b >= 16 ? 0xFFFFu : (1u << b) - 1u) & ~((1u << a) - 1u));
          if (GATHER) {
            std::int32_t* lanes = &idx[tc * 16];
            for (int l = a; l < b; ++l) lanes[l] = std::int32_t(ih * W + iw0 + (l + 16 * ch - seg[s].j0) * SW);
            masks[tc] = __mmask16(masks[tc] | m);
          } else {
            offs[tc * std::size_t(nops) + std::size_t(used)] = ih * W + iw0 + 16 * ch - seg[s].j0;
            masks[tc * std::size_t(nops) + std::size_t(used)] = __mmask16(m);
            ++used;
          }
        }
      }
    }
    // Local copies: the vector stores below may alias anything, which would force reloads of the tables.
    const index_t* __restrict toffs = offs.data();
    const std::int32_t* __restrict tidx = idx.data();
    const __mmask16* __restrict tmasks = masks.data();
    const float* const x0 = x;
    const index_t plane_size = H * W;
    index_t c = p0 / taps, r = p0 % taps;
    for (index_t k = 0; k < kc; ++k) {
      const float* plane = x0 + c * plane_size;
      float* d = dst + k * P;
#pragma GCC unroll 2
      for (int ch = 0; ch < CH; ++ch) {
        const std::size_t tc = std::size_t(r * CH + ch);
        __m512 v;
        if (GATHER) {
          v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), tmasks[tc], _mm512_loadu_si512(tidx + tc * 16), plane, 4);
        } else {
          const index_t* of = toffs + tc * std::size_t(nops);
          const __mmask16* mk = tmasks + tc * std::size_t(nops);
          switch (nops) {
            case 1: v = _mm512_maskz_loadu_ps(mk[0], plane + of[0]); break;
            case 2: v = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(mk[0], plane + of[0]), mk[1], plane + of[1]); break;
            default:
              v = _mm512_maskz_loadu_ps(mk[0], plane + of[0]);
              for (int o = 1; o < nops; ++o) v = _mm512_mask_loadu_ps(v, mk[o], plane + of[o]);
          }
        }
        if (kStore == 0xFFFFu) _mm512_storeu_ps(d + 16 * ch, v);
        else _mm512_mask_storeu_ps(d + 16 * ch, __mmask16(kStore), v);
      }
      if (++r == taps) { r = 0; ++c; }
    }
  }
#endif

  // Portable version of the same.
  template <int P>
  void pack_panel(index_t q0, int w, index_t p0, index_t kc, float* __restrict dst) const {
    Segment seg[P];
    const int nseg = segments<P>(q0, w, seg);
    const index_t taps = KH * KW;
    index_t c = p0 / taps, r = p0 % taps;
    for (index_t k = 0; k < kc; ++k) {
      const index_t kh = r / KW, kw = r % KW;
      float* d = dst + k * P;
      for (int j = 0; j < P; ++j) d[j] = 0.0f;
      const float* plane = x + c * H * W;
      for (int s = 0; s < nseg; ++s) {
        const index_t ih = seg[s].oh * SH - PT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        const index_t iw0 = seg[s].ow * SW - PL + kw * DW;
        int lo, hi;
        valid_range(iw0, seg[s].len, lo, hi);
        const float* row = plane + ih * W + iw0;
        float* ds = d + seg[s].j0;
        for (int t = lo; t < hi; ++t) ds[t] = row[t * SW];
      }
      if (++r == taps) { r = 0; ++c; }
    }
  }
};

namespace conv_detail {
inline bool transposed_for(const Conv2dShape& s) { return sgemm_transposed_mode(s.Mg(), s.OH() * s.OW(), s.Kg()); }

// Depthwise convolution of one channel plane: y (OH x OW) = w (KH x KW) (*) x (H x W), then epi.
template <class Epi>
void depthwise_plane(const Conv2dShape& s, const float* x, const float* w, float* y, index_t ch, const Epi& epi) {
  const index_t OH = s.OH(), OW = s.OW();
  // Output columns whose taps are all inside the row for every kw: [ow_lo, ow_hi).
  index_t ow_lo = 0, ow_hi = OW;
  while (ow_lo < OW && ow_lo * s.SW - s.PL < 0) ++ow_lo;
  while (ow_hi > ow_lo && (ow_hi - 1) * s.SW - s.PL + (s.KW - 1) * s.DW >= s.W) --ow_hi;
  constexpr int RB = 4;  // output rows per pass
  for (index_t oh0 = 0; oh0 < OH; oh0 += RB) {
    const int rb = int(std::min<index_t>(RB, OH - oh0));
    for (int r = 0; r < rb; ++r) {
      float* yr = y + (oh0 + r) * OW;
      for (index_t ow = 0; ow < OW; ++ow) yr[ow] = 0.0f;
    }
    for (index_t kh = 0; kh < s.KH; ++kh) {
      for (int r = 0; r < rb; ++r) {
        const index_t ih = (oh0 + r) * s.SH - s.PT + kh * s.DH;
        if (ih < 0 || ih >= s.H) continue;
        const float* xr = x + ih * s.W;
        float* __restrict yr = y + (oh0 + r) * OW;
        for (index_t kw = 0; kw < s.KW; ++kw) {
          const float wv = w[kh * s.KW + kw];
          const index_t off = kw * s.DW - s.PL;
          // Border columns (some tap outside the row).
          for (index_t ow = 0; ow < ow_lo; ++ow) {
            const index_t iw = ow * s.SW + off;
            if (iw >= 0 && iw < s.W) yr[ow] += wv * xr[iw];
          }
          for (index_t ow = ow_hi; ow < OW; ++ow) {
            const index_t iw = ow * s.SW + off;
            if (iw >= 0 && iw < s.W) yr[ow] += wv * xr[iw];
          }
          // Interior.
          if (s.SW == 1) {
            const float* xs = xr + off;
#pragma omp simd
            for (index_t ow = ow_lo; ow < ow_hi; ++ow) yr[ow] += wv * xs[ow];
          } else {
            const index_t sw = s.SW;
#pragma omp simd
            for (index_t ow = ow_lo; ow < ow_hi; ++ow) yr[ow] += wv * xr[ow * sw + off];
          }
        }
      }
    }
    for (int r = 0; r < rb; ++r) {
      float* yr = y + (oh0 + r) * OW;
      for (index_t ow = 0; ow < OW; ow += 256) epi(ch, (oh0 + r) * OW + ow, yr + ow, int(std::min<index_t>(256, OW - ow)));
    }
  }
}
}  // namespace conv_detail

/// Bytes of workspace conv2d needs on up to `threads` threads (the GEMM's packing buffers).
inline std::size_t conv2d_workspace_bytes(const Conv2dShape& s, int threads) {
  if (s.depthwise()) return 0;
  return sgemm_workspace_bytes(s.Mg(), s.OH() * s.OW(), s.Kg(), threads);
}

/// Floats of prepacked weights (all groups).
inline std::size_t conv2d_packed_weights_floats(const Conv2dShape& s) {
  if (s.depthwise()) return std::size_t(s.M * s.KH * s.KW);
  return std::size_t(s.G) * sgemm_packed_a_floats(s.Mg(), s.Kg());
}

/// Prepack the weights (ONNX layout M x C/G x KH x KW) for conv2d(..., w_is_packed = true).
inline void conv2d_pack_weights(const Conv2dShape& s, const float* w, float* dst) {
  if (s.depthwise()) {
    std::memcpy(dst, w, sizeof(float) * std::size_t(s.M * s.KH * s.KW));
    return;
  }
  const bool tm = conv_detail::transposed_for(s);
  const std::size_t per = sgemm_packed_a_floats(s.Mg(), s.Kg());
  for (index_t g = 0; g < s.G; ++g) sgemm_pack_a(false, s.Mg(), s.Kg(), w + g * s.Mg() * s.Kg(), s.Kg(), dst + g * per, tm);
}

/// y = conv(x, w), then epi(channel, pixel, ptr, count) on every final piece of y.
template <class Epi = epi::None>
void conv2d(const Conv2dShape& s, const float* x, const float* w, float* y, const Epi& epi = Epi{},
            void* workspace = nullptr, bool w_is_packed = false) {
  const index_t OH = s.OH(), OW = s.OW(), npix = OH * OW;
  if (s.N <= 0 || s.M <= 0 || npix <= 0) return;
  if (s.depthwise()) {
    const index_t planes = s.N * s.C;
#if defined(_OPENMP)
    const bool par = !omp_in_parallel() && omp_get_max_threads() > 1 && planes > 1 && npix * s.KH * s.KW * planes > 100000;
#pragma omp parallel for schedule(static) if (par)
#endif
    for (index_t p = 0; p < planes; ++p) {
      const index_t ch = p % s.C;
      conv_detail::depthwise_plane(s, x + p * s.H * s.W, w + ch * s.KH * s.KW, y + p * npix, ch, epi);
    }
    return;
  }
  const index_t Mg = s.Mg(), Cg = s.Cg(), Kg = s.Kg();
  const bool tm = conv_detail::transposed_for(s);
  const std::size_t per = sgemm_packed_a_floats(Mg, Kg);
  for (index_t n = 0; n < s.N; ++n) {
    for (index_t g = 0; g < s.G; ++g) {
      const float* xg = x + (n * s.C + g * Cg) * s.H * s.W;
      float* yg = y + (n * s.M + g * Mg) * npix;
      const index_t m0 = g * Mg;
      auto e = [&epi, m0](index_t row, index_t col, float* p, int cnt) { epi(m0 + row, col, p, cnt); };
      auto run = [&](const auto& a) {
        if (s.pointwise()) {
          sgemm(a, RawB{xg, s.H * s.W, false}, Mg, npix, Kg, 1.0f, 0.0f, yg, npix, e, workspace);
        } else {
          const Im2colSource src{xg, s.H, s.W, s.KH, s.KW, s.SH, s.SW, s.PT, s.PL, s.DH, s.DW, OW, npix};
          sgemm(a, src, Mg, npix, Kg, 1.0f, 0.0f, yg, npix, e, workspace);
        }
      };
      if (w_is_packed) run(PackedA(w + g * per, Mg, tm));
      else run(RawA{w + g * Mg * Kg, Kg, false});
    }
  }
}

}  // namespace cpu
}  // namespace aic
