// aic CPU runtime: 2-D convolution, NCHW, fp32.  Header-only C++17, depends only on gemm.h.
//
//   y[n, m, oh, ow] = sum_{c in group(m), kh, kw} w[m, c', kh, kw] * x[n, c, oh*SH - PT + kh*DH, ow*SW - PL + kw*DW]
//
// Per image and group this is a GEMM  Y_g (Mg x OH*OW) = W_g (Mg x Cg*KH*KW) * X_g (Cg*KH*KW x OH*OW),
// computed one of three ways, chosen from the shape alone (so prepacked weights always fit):
//   * 1x1, stride 1, no padding: X_g is the input itself (a row-major matrix with ld = H*W), no im2col.
//   * stride 1 on wide images with few output channels (conv_detail::use_direct): direct implicit GEMM on
//     a zero-padded copy of the input, whose im2col rows are contiguous over "virtual" columns oh*Wp + ow,
//     so the micro-kernel reads them in place through a row-offset table: no packing at all, at the cost
//     of computing the Wp - OW padding columns of each row (VGG, DenseNet, ResNet 56x56 3x3 layers).
//   * otherwise implicit GEMM through the packed GEMM: the im2col matrix is never materialised, its panels
//     are packed straight from the image by Im2colSource: per kernel tap a table of masked 16-lane loads
//     (stride 1), pairs of loads compacted by a permute (stride 2) or gathers (other strides), built once
//     per panel and reused for every input channel.  Small ragged outputs (7x7, 14x14) take the GEMM's
//     transposed orientation (pixels as the MR side).
//   * depthwise (G == C == M): its own loop nest, vectorised along the output row (16 outputs in a
//     register across all taps); planes up to 64 outputs wide through a zero-padded copy, so that no
//     column needs a bounds test.
// Without AVX-512 (AVX2 + FMA, e.g. Zen 3) the same paths run on 8-lane vectors: Im2colSource packs 8-lane
// chunks (stride 1: masked loads merged by OR; stride 2: two masked loads compacted by a shuffle + permute;
// other strides: the portable loop), depthwise planes of any width (stride <= 2) go through the zero-padded
// copy, four rows x up to three vectors in registers; there is no direct path (use_direct explains why).
// The weights can be prepacked once (conv2d_pack_weights) in the layout the chosen path wants.  Threads:
// as in gemm.h (threads::max_threads(); none inside a parallel loop), the pixels split among them; for
// grouped convolutions (without a caller's workspace) the groups, each GEMM on one thread (1x1 groups cut
// into as many column pieces as threads).
//
// The epilogue is called as epi(channel, pixel, ptr, count): output channel m (0..M-1), spatial index
// pixel = oh*OW + ow of the first element, ptr = &y[n, m, pixel], `count` contiguous final elements, once
// for every output element, right after its final value is stored.  Per-element data at the same position
// of another NCHW tensor (a residual) is at (ptr - y) from its base: see epi::ResidualAt.
//
// API (namespace aic::cpu):
//   Conv2dShape s{N, C, H, W, M, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW, G};   s.OH(), s.OW()
//   conv2d_workspace_bytes(s, threads)         bytes of the optional workspace (nullptr: thread-local)
//   conv2d_packed_weights_floats(s), conv2d_pack_weights(s, w, dst)
//   conv2d(s, x, w, y [, epi [, workspace [, w_is_packed]]])
//
// Measured (AMD EPYC Zen 5, 1 thread, CPU-time GFLOP/s, same run, vs ONNX Runtime 1.23.2 with its NCHWc
// convolutions): see gemm.h's header; 3x3 layers are at parity with ORT (0.97-1.03x), 1x1 and strided
// layers 1.05-1.7x faster.
// Measured on Zen 3 without AVX-512 (AMD EPYC, AVX2 + FMA, 1 thread, best CPU time of 48, portable
// packing and depthwise before -> the AVX2 paths, same run): Inception v1 stem 7x7/2 3->64 at 224x224
// 5.01 -> 4.04 ms (ORT 3.4), its 3x3 64->192 at 56x56 8.81 -> 7.61 ms (ORT 8.0), ResNet 3x3 64->64 at
// 56x56 3.80 -> 2.78 ms, DenseNet 3x3 128->32 at 56x56 5.23 -> 3.32 ms, ShuffleNet depthwise 3x3 on 136 x
// 28 x 28 0.81 -> 0.12 ms (ORT 0.15-0.21); whole models (kernel time): ShuffleNet 13.7 -> 7.8 ms, SqueezeNet
// 15.0 -> 12.9 ms, Inception v1 62 -> 58 ms.
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
AIC_SIMD
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
      if (SW == 1) pack_panel_avx512<P, kLoads>(o0 + o, w, p0, kc, dst);
      else if (SW == 2) pack_panel_avx512<P, kPairs>(o0 + o, w, p0, kc, dst);
      else pack_panel_avx512<P, kGather>(o0 + o, w, p0, kc, dst);
#elif defined(__AVX2__) && defined(__FMA__)
      if (SW == 1) pack_panel_avx2<P, kLoads>(o0 + o, w, p0, kc, dst);
      else if (SW == 2) pack_panel_avx2<P, kPairs>(o0 + o, w, p0, kc, dst);
      else pack_panel<P>(o0 + o, w, p0, kc, dst);
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
  // Valid t in [0, len) of a run whose input columns are iw0 + t*SW: [lo, hi).  STRIDE > 0: SW as the
  // caller knows it at compile time (no divisions in a packing setup that runs per panel).
  template <index_t STRIDE = 0>
  void valid_range(index_t iw0, int len, int& lo, int& hi) const {
    const index_t sw = STRIDE > 0 ? STRIDE : SW;
    index_t l = 0, h;
    if (sw == 1) {
      l = iw0 < 0 ? -iw0 : 0;
      h = W - iw0;
    } else {
      if (iw0 < 0) l = (-iw0 + sw - 1) / sw;
      h = iw0 >= W ? 0 : (W - 1 - iw0) / sw + 1;
    }
    lo = int(std::min<index_t>(len, l));
    hi = int(std::max<index_t>(lo, std::min<index_t>(len, h)));
  }

#if defined(__AVX512F__)
  // One panel of w <= P pixels starting at pixel q0, depth [p0, p0 + kc), in 16-lane chunks.  For each
  // kernel tap r = (kh, kw) the chunk is a merge of masked loads (stride 1) or one masked gather (GATHER),
  // at offsets relative to the channel plane that do not depend on the channel: tabulated once per panel.
  // How a 16-lane chunk is loaded: masked loads (stride 1), pairs of masked loads compacted by a
  // permute (stride 2), or a gather (other strides).
  enum Mode { kLoads, kPairs, kGather };
  template <int P, int MODE>
  void pack_panel_avx512(index_t q0, int w, index_t p0, index_t kc, float* __restrict dst) const {
    constexpr int CH = (P + 15) / 16;  // 16-lane chunks per panel row
    Segment seg[P];
    const int nseg = segments<P>(q0, w, seg);
    const index_t taps = KH * KW;
    constexpr bool GATHER = MODE == kGather;
    // Per (tap, chunk): exactly `nops` load ops (padded with empty masks, so the copy loop has a fixed
    // trip count and no unpredictable branches), or one gather (index vector + mask).  An op reads lane l
    // from plane[off + l * SW] for the lanes in its mask (kPairs: input masks for the two loads in ma, mb).
    thread_local std::vector<index_t> offs;
    thread_local std::vector<std::int32_t> idx;  // 16 lanes per (tap, chunk)
    thread_local std::vector<__mmask16> masks, ma, mb;
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
      if (MODE == kPairs) {
        ma.assign(ntc * std::size_t(nops), __mmask16(0));
        mb.assign(ntc * std::size_t(nops), __mmask16(0));
      }
    } else {
      idx.assign(ntc * 16, 0);
      masks.assign(ntc, __mmask16(0));
    }
    for (index_t r = 0, kh = 0, kw = 0; r < taps; ++r, kw = kw + 1 == KW ? 0 : kw + 1, kh += kw == 0) {
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
            const std::size_t e = tc * std::size_t(nops) + std::size_t(used);
            offs[e] = ih * W + iw0 + (16 * ch - seg[s].j0) * SW;
            masks[e] = __mmask16(m);
            if (MODE == kPairs) {
              // Input element 2l (of the 32 loaded) for each lane l in the mask.
#if defined(__BMI2__)
              const unsigned a2 = _pdep_u32(m & 0xFFu, 0x5555u), b2 = _pdep_u32(m >> 8, 0x5555u);
#else
              unsigned a2 = 0, b2 = 0;
              for (int l = 0; l < 8; ++l) {
                if (m & (1u << l)) a2 |= 1u << (2 * l);
                if (m & (1u << (l + 8))) b2 |= 1u << (2 * l);
              }
#endif
              ma[e] = __mmask16(a2);
              mb[e] = __mmask16(b2);
            }
            ++used;
          }
        }
      }
    }
    if (GATHER) {
      copy_gather<P>(p0, kc, idx.data(), masks.data(), dst);
    } else if (MODE == kPairs) {
      switch (nops) {
        case 1: copy_pairs<P, 1>(p0, kc, offs.data(), masks.data(), ma.data(), mb.data(), nops, dst); break;
        case 2: copy_pairs<P, 2>(p0, kc, offs.data(), masks.data(), ma.data(), mb.data(), nops, dst); break;
        default: copy_pairs<P, 0>(p0, kc, offs.data(), masks.data(), ma.data(), mb.data(), nops, dst); break;
      }
    } else {
      switch (nops) {
        case 1: copy_loads<P, 1>(p0, kc, offs.data(), masks.data(), nops, dst); break;
        case 2: copy_loads<P, 2>(p0, kc, offs.data(), masks.data(), nops, dst); break;
        case 3: copy_loads<P, 3>(p0, kc, offs.data(), masks.data(), nops, dst); break;
        case 4: copy_loads<P, 4>(p0, kc, offs.data(), masks.data(), nops, dst); break;
        default: copy_loads<P, 0>(p0, kc, offs.data(), masks.data(), nops, dst); break;
      }
    }
  }

  // The copy loops proper: the tables are walked linearly (one entry group per (tap, chunk)), wrapping
  // to the next channel plane after the last tap.  NOPS > 0: fixed number of loads per chunk.
  template <int P, int NOPS>
  void copy_loads(index_t p0, index_t kc, const index_t* __restrict offs, const __mmask16* __restrict masks, int nops,
                  float* __restrict dst) const {
    constexpr int CH = (P + 15) / 16;
    constexpr unsigned kStore = P >= 16 ? 0xFFFFu : (1u << P) - 1u;
    const int n = NOPS > 0 ? NOPS : nops;
    const index_t taps = KH * KW, plane_size = H * W;
    const index_t* const of_end = offs + taps * CH * n;
    const float* plane = x + (p0 / taps) * plane_size;
    const index_t* of = offs + (p0 % taps) * CH * n;
    const __mmask16* mk = masks + (p0 % taps) * CH * n;
    for (index_t k = 0; k < kc; ++k) {
      float* d = dst + k * P;
#pragma GCC unroll 2
      for (int ch = 0; ch < CH; ++ch) {
        __m512 v = _mm512_maskz_loadu_ps(mk[0], plane + of[0]);
        if (NOPS > 0) {
#pragma GCC unroll 4
          for (int o = 1; o < NOPS; ++o) v = _mm512_mask_loadu_ps(v, mk[o], plane + of[o]);
        } else {
          for (int o = 1; o < n; ++o) v = _mm512_mask_loadu_ps(v, mk[o], plane + of[o]);
        }
        if (kStore == 0xFFFFu) _mm512_storeu_ps(d + 16 * ch, v);
        else _mm512_mask_storeu_ps(d + 16 * ch, __mmask16(kStore), v);
        of += n;
        mk += n;
      }
      if (of == of_end) { of = offs; mk = masks; plane += plane_size; }
    }
  }

  template <int P, int NOPS>
  void copy_pairs(index_t p0, index_t kc, const index_t* __restrict offs, const __mmask16* __restrict masks,
                  const __mmask16* __restrict ma, const __mmask16* __restrict mb, int nops, float* __restrict dst) const {
    constexpr int CH = (P + 15) / 16;
    constexpr unsigned kStore = P >= 16 ? 0xFFFFu : (1u << P) - 1u;
    const int n = NOPS > 0 ? NOPS : nops;
    const index_t taps = KH * KW, plane_size = H * W;
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const index_t* const of_end = offs + taps * CH * n;
    const float* plane = x + (p0 / taps) * plane_size;
    const std::size_t e0 = std::size_t((p0 % taps) * CH * n);
    const index_t* of = offs + e0;
    const __mmask16 *mk = masks + e0, *ka = ma + e0, *kb = mb + e0;
    for (index_t k = 0; k < kc; ++k) {
      float* d = dst + k * P;
#pragma GCC unroll 2
      for (int ch = 0; ch < CH; ++ch) {
        // Lanes outside an op's mask come out 0 (their inputs are masked off), so ops merge by mask.
        __m512 v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(ka[0], plane + of[0]), even,
                                          _mm512_maskz_loadu_ps(kb[0], plane + of[0] + 16));
        const int nn = NOPS > 0 ? NOPS : n;
#pragma GCC unroll 2
        for (int o = 1; o < nn; ++o) {
          const __m512 t = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(ka[o], plane + of[o]), even,
                                                  _mm512_maskz_loadu_ps(kb[o], plane + of[o] + 16));
          v = _mm512_mask_mov_ps(v, mk[o], t);
        }
        if (kStore == 0xFFFFu) _mm512_storeu_ps(d + 16 * ch, v);
        else _mm512_mask_storeu_ps(d + 16 * ch, __mmask16(kStore), v);
        of += n; mk += n; ka += n; kb += n;
      }
      if (of == of_end) { of = offs; mk = masks; ka = ma; kb = mb; plane += plane_size; }
    }
  }

  template <int P>
  void copy_gather(index_t p0, index_t kc, const std::int32_t* __restrict idx, const __mmask16* __restrict masks,
                   float* __restrict dst) const {
    constexpr int CH = (P + 15) / 16;
    constexpr unsigned kStore = P >= 16 ? 0xFFFFu : (1u << P) - 1u;
    const index_t taps = KH * KW, plane_size = H * W;
    const float* plane = x + (p0 / taps) * plane_size;
    index_t tc = (p0 % taps) * CH;
    for (index_t k = 0; k < kc; ++k) {
      float* d = dst + k * P;
#pragma GCC unroll 2
      for (int ch = 0; ch < CH; ++ch, ++tc) {
        const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), masks[tc], _mm512_loadu_si512(idx + tc * 16), plane, 4);
        if (kStore == 0xFFFFu) _mm512_storeu_ps(d + 16 * ch, v);
        else _mm512_mask_storeu_ps(d + 16 * ch, __mmask16(kStore), v);
      }
      if (tc == taps * CH) { tc = 0; plane += plane_size; }
    }
  }
#elif defined(__AVX2__) && defined(__FMA__)
  // AVX2 version of the same, in 8-lane chunks.  AVX2 has no mask registers: the masks are int32 vectors
  // kept in the tables, and masked loads zero the lanes outside their mask, so the ops of a chunk merge by
  // OR.  Stride 2: two 8-float masked loads (input masks on the even elements only), merged, then
  // compacted once per chunk by a shuffle + a 64-bit permute.  Other strides keep the portable loop (AVX2
  // gathers are slow on Zen and such layers are rare).  Measured on Zen 3, 1 thread, packing all of B
  // alone (portable -> this): 3x3 stride 1, 64 channels at 56x56 1.12 -> 0.32 ms; 7x7/2 stem, 3 channels
  // at 224x224 1.45 -> 0.67 ms; 3x3 stride 2, 128 channels at 56x56 0.80 -> 0.25 ms.
  enum Mode { kLoads, kPairs };
  // One op of the copy loop: lane l of the chunk from plane[off + l * SW] for the lanes in mask m (kPairs:
  // m[0..7] and m[8..15] mask the two loads, on their even elements).
  struct Op { index_t off; const std::int32_t* m; };

  template <int P, int MODE>
  void pack_panel_avx2(index_t q0, int w, index_t p0, index_t kc, float* __restrict dst) const {
    constexpr int CH = (P + 7) / 8;                  // 8-lane chunks per panel row
    constexpr index_t S = MODE == kPairs ? 2 : 1;    // SW, known here: no divisions in the setup
    constexpr int ML = MODE == kPairs ? 16 : 8;      // mask ints per op
    Segment seg[P];
    const int nseg = segments<P>(q0, w, seg);
    const index_t taps = KH * KW;
    if (P % 8 == 0 && nseg == 1 && w == P && taps <= kInteriorTaps && interior<S>(seg[0]))
      return copy_interior_avx2<P, MODE>(seg[0], p0, kc, dst);
    // With few channels (the 3-channel stem) each table entry serves only a few copies, so the setup must
    // be cheap: the column masks and offsets are made once per (run, kw), the row offsets once per
    // (run, kh), and the per-tap table only combines them (a first version that made the masks per tap
    // spent 0.8 ms of the stem's ~1.2 ms of packing in the setup).
    thread_local std::vector<Op> ops;               // nops per (tap, chunk), padded with empty ops
    thread_local std::vector<std::int32_t> cmask;  // [0, ML): the empty mask; then per (run, kw, chunk)
    thread_local std::vector<index_t> colv, rowv;  // per (run, kw): iw0; per (run, kh): ih * W, or -1
    thread_local std::vector<int> lanes;           // per (run, kw): valid panel lanes [pa, pb)
    int nops = 1;
    for (int ch = 0; ch < CH; ++ch) {
      int cnt = 0;
      for (int s = 0; s < nseg; ++s)
        if (seg[s].j0 < 8 * ch + 8 && seg[s].j0 + seg[s].len > 8 * ch) ++cnt;
      nops = std::max(nops, cnt);
    }
    ops.resize(std::size_t(taps * CH * nops));
    cmask.resize(std::size_t(ML * (1 + nseg * KW * CH)));
    colv.resize(std::size_t(nseg * KW));
    rowv.resize(std::size_t(nseg * KH));
    lanes.resize(std::size_t(2 * nseg * KW));
    std::int32_t* const cm = cmask.data();
    // Output lane of each input lane (kPairs: even inputs of the two loads; odd ones never match).
    const __m256i lane_a = MODE == kLoads ? _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7) : _mm256_setr_epi32(0, 99, 1, 99, 2, 99, 3, 99);
    const __m256i lane_b = _mm256_setr_epi32(4, 99, 5, 99, 6, 99, 7, 99);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(cm), _mm256_setzero_si256());
    if (MODE == kPairs) _mm256_storeu_si256(reinterpret_cast<__m256i*>(cm + 8), _mm256_setzero_si256());
    for (int s = 0; s < nseg; ++s) {
      for (index_t kh = 0; kh < KH; ++kh) {
        const index_t ih = seg[s].oh * SH - PT + kh * DH;
        rowv[std::size_t(s * KH + kh)] = ih < 0 || ih >= H ? -1 : ih * W;
      }
      for (index_t kw = 0; kw < KW; ++kw) {
        const std::size_t sk = std::size_t(s * KW + kw);
        const index_t iw0 = seg[s].ow * S - PL + kw * DW;
        int lo, hi;
        valid_range<S>(iw0, seg[s].len, lo, hi);
        const int pa = seg[s].j0 + lo, pb = seg[s].j0 + hi;  // panel lanes
        colv[sk] = iw0;
        lanes[2 * sk] = lo < hi ? pa : 0;  // empty: [0, 0), meets no chunk
        lanes[2 * sk + 1] = lo < hi ? pb : 0;
        for (int ch = pa / 8; lo < hi && ch * 8 < pb; ++ch) {
          std::int32_t* m = cm + ML * (1 + std::size_t(sk) * CH + std::size_t(ch));
          const __m256i a = _mm256_set1_epi32(pa - 8 * ch - 1), b = _mm256_set1_epi32(pb - 8 * ch);  // a < lane < b
          const auto in = [&](__m256i lane) { return _mm256_and_si256(_mm256_cmpgt_epi32(lane, a), _mm256_cmpgt_epi32(b, lane)); };
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(m), in(lane_a));
          if (MODE == kPairs) _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + 8), in(lane_b));
        }
      }
    }
    Op* op = ops.data();
    for (index_t kh = 0; kh < KH; ++kh) {
      for (index_t kw = 0; kw < KW; ++kw) {
        for (int ch = 0; ch < CH; ++ch, op += nops) {
          int used = 0;
          for (int s = 0; s < nseg; ++s) {
            const index_t row = rowv[std::size_t(s * KH + kh)];
            const std::size_t sk = std::size_t(s * KW + kw);
            if (row < 0 || lanes[2 * sk] >= 8 * ch + 8 || lanes[2 * sk + 1] <= 8 * ch) continue;
            op[used++] = Op{row + colv[sk] + (8 * ch - seg[s].j0) * S, cm + ML * (1 + sk * CH + std::size_t(ch))};
          }
          for (; used < nops; ++used) op[used] = Op{0, cm};
        }
      }
    }
    switch (nops) {
      case 1: copy_avx2<P, MODE, 1>(p0, kc, ops.data(), nops, dst); break;
      case 2: copy_avx2<P, MODE, 2>(p0, kc, ops.data(), nops, dst); break;
      case 3: copy_avx2<P, MODE, 3>(p0, kc, ops.data(), nops, dst); break;
      default: copy_avx2<P, MODE, 0>(p0, kc, ops.data(), nops, dst); break;
    }
  }

  // Whether a run of P pixels in one output row has every tap inside the image, whole vectors included (a
  // stride-2 chunk loads 16 floats for its 8): then its panel is plain loads, no masks and no tables.  Most
  // panels of a layer are (a stem at 112 x 112 outputs: 5 of every 7), and for a 3-channel stem, whose
  // panels are 27 to 147 rows deep, the table setup was most of the packing.  Zen 3, 1 thread, with a
  // batch-norm epilogue: ShuffleNet's 3x3/2 stem 0.41 -> 0.34 ms, SqueezeNet's 0.84 -> 0.75, ResNet's 7x7/2
  // 3.34 -> 3.09, a 3x3/2 128->128 at 56x56 3.03 -> 2.73, a 3x3 64->64 at 56x56 2.76 -> 2.68.
  static constexpr index_t kInteriorTaps = 128;
  // The even elements of lo then of hi (a stride-2 chunk from its two loads): one in-lane shuffle gives
  // (lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6), a 64-bit permute puts the halves in order.
  static __m256 even_lanes(__m256 lo, __m256 hi) {
    const __m256 t = _mm256_shuffle_ps(lo, hi, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), 0xD8));
  }
  template <index_t S>
  bool interior(const Segment& g) const {
    const index_t ih0 = g.oh * SH - PT, iw0 = g.ow * S - PL, reach = S == 2 ? 2 * g.len - 1 : g.len - 1;
    return ih0 >= 0 && ih0 + (KH - 1) * DH < H && iw0 >= 0 && iw0 + (KW - 1) * DW + reach < W;
  }
  template <int P, int MODE>
  void copy_interior_avx2(const Segment& g, index_t p0, index_t kc, float* __restrict dst) const {
    constexpr int CH = P / 8;
    constexpr index_t S = MODE == kPairs ? 2 : 1;
    const index_t taps = KH * KW, plane_size = H * W;
    index_t off[kInteriorTaps];  // per tap (kh, kw): the run's first input element in the channel plane
    for (index_t kh = 0, r = 0; kh < KH; ++kh)
      for (index_t kw = 0; kw < KW; ++kw, ++r) off[r] = (g.oh * SH - PT + kh * DH) * W + g.ow * S - PL + kw * DW;
    const float* plane = x + (p0 / taps) * plane_size;
    index_t r = p0 % taps;
    for (index_t k = 0; k < kc; ++k) {
      const float* src = plane + off[r];
      float* d = dst + k * P;
#pragma GCC unroll 4
      for (int ch = 0; ch < CH; ++ch) {
        if (MODE == kLoads) {
          _mm256_storeu_ps(d + 8 * ch, _mm256_loadu_ps(src + 8 * ch));
        } else {
          _mm256_storeu_ps(d + 8 * ch, even_lanes(_mm256_loadu_ps(src + 16 * ch), _mm256_loadu_ps(src + 16 * ch + 8)));
        }
      }
      if (++r == taps) { r = 0; plane += plane_size; }
    }
  }

  // The copy loop: the table walked linearly as in copy_loads.  A panel width that is not a multiple of 8
  // (P = MR = 6 in the transposed orientation) stores whole vectors anyway, the extra lanes landing on the
  // start of the next depth row, which is stored next; only the very last row is stored exactly.
  template <int P, int MODE, int NOPS>
  void copy_avx2(index_t p0, index_t kc, const Op* __restrict ops, int nops, float* __restrict dst) const {
    constexpr int CH = (P + 7) / 8;
    const int n = NOPS > 0 ? NOPS : nops;
    const index_t taps = KH * KW, plane_size = H * W;
    const Op* const op_end = ops + taps * CH * n;
    const float* plane = x + (p0 / taps) * plane_size;
    const Op* op = ops + (p0 % taps) * CH * n;
    const auto mask = [](const std::int32_t* m) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m)); };
    for (index_t k = 0; k < kc; ++k) {
      float* d = dst + k * P;
#pragma GCC unroll 2
      for (int ch = 0; ch < CH; ++ch) {
        __m256 v;
        if (MODE == kLoads) {
          v = _mm256_maskload_ps(plane + op[0].off, mask(op[0].m));
#pragma GCC unroll 4
          for (int o = 1; o < (NOPS > 0 ? NOPS : n); ++o) v = _mm256_or_ps(v, _mm256_maskload_ps(plane + op[o].off, mask(op[o].m)));
        } else {
          // Merge the ops' loads first (disjoint lanes, zeros elsewhere), then compact once.
          __m256 lo = _mm256_maskload_ps(plane + op[0].off, mask(op[0].m));
          __m256 hi = _mm256_maskload_ps(plane + op[0].off + 8, mask(op[0].m + 8));
#pragma GCC unroll 4
          for (int o = 1; o < (NOPS > 0 ? NOPS : n); ++o) {
            lo = _mm256_or_ps(lo, _mm256_maskload_ps(plane + op[o].off, mask(op[o].m)));
            hi = _mm256_or_ps(hi, _mm256_maskload_ps(plane + op[o].off + 8, mask(op[o].m + 8)));
          }
          v = even_lanes(lo, hi);
        }
        if (P % 8 == 0 || ch + 1 < CH || k + 1 < kc) {
          _mm256_storeu_ps(d + 8 * ch, v);
        } else {
          alignas(32) float t[8];
          _mm256_store_ps(t, v);
          for (int j = 0; j < P % 8; ++j) d[8 * ch + j] = t[j];
        }
        op += n;
      }
      if (op == op_end) { op = ops; plane += plane_size; }
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
inline bool use_direct(const Conv2dShape& s);
inline bool transposed_for(const Conv2dShape& s) {
  return !use_direct(s) && sgemm_transposed_mode(s.Mg(), s.OH() * s.OW(), s.Kg());
}

// The thread's zero-padded scratch plane, Hp rows of Wv floats (and 16 of slack).  Every plane of a layer is
// copied into the same interior (rows PT .. PT+H-1 from column `left`, n floats, rounded up to whole
// vectors with zeros), so the rest stays zero from one plane to the next: it is zeroed only when that
// layout changes.  (Zeroing every row of every plane, which g++ made a memset call per row, was 13% of a
// stride-2 layer on Zen 3.)
inline float* padded_plane(index_t Hp, index_t Wv, index_t PT, index_t H, index_t left, index_t n) {
  thread_local std::vector<float> buf;
  thread_local index_t layout[6] = {-1, -1, -1, -1, -1, -1};
  const index_t now[6] = {Hp, Wv, PT, H, left, n};
  if (!std::equal(now, now + 6, layout)) {
    buf.assign(std::size_t(Hp * Wv + 16), 0.0f);
    std::copy(now, now + 6, layout);
  }
  return buf.data();
}

// Depthwise convolution of one channel plane: y (OH x OW) = w (KH x KW) (*) x (H x W), then epi.  Per
// output row, the taps that fall inside the image are listed once (row pointer, weight); interior
// columns are computed 16 at a time with the sum over all taps kept in a register, border columns one
// at a time with bounds checks.
// Planes narrower than this many outputs per row go through a zero-padded copy (depthwise_plane_padded):
// with few columns the border columns and the per-row tap lists cost more than the copy.
constexpr index_t kDepthwisePaddedMaxOW = 64;

#if defined(__AVX512F__)
// Rows oh0 .. oh0+3 of a padded plane (rows past OH repeat the last one and are not stored), V vectors of 16
// outputs each: 4V independent accumulators, so the FMAs overlap instead of waiting on one chain per tap.
template <int V, class Epi>
inline void depthwise_rows4(const Conv2dShape& s, const float* xp, index_t Wp, const float* w, float* y, index_t ch,
                            index_t oh0, const Epi& epi) {
  const index_t OH = s.OH(), OW = s.OW(), SW = s.SW;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const float* row[4];
  for (int r = 0; r < 4; ++r) row[r] = xp + std::min<index_t>(oh0 + r, OH - 1) * s.SH * Wp;
  __m512 acc[4][V];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  for (index_t kh = 0; kh < s.KH; ++kh) {
    for (index_t kw = 0; kw < s.KW; ++kw) {
      const __m512 wv = _mm512_set1_ps(w[kh * s.KW + kw]);
      const index_t off = kh * s.DH * Wp + kw * s.DW;
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          const float* p = row[r] + off + v * 16 * SW;
          const __m512 x = SW == 1 ? _mm512_loadu_ps(p) : _mm512_permutex2var_ps(_mm512_loadu_ps(p), even, _mm512_loadu_ps(p + 16));
          acc[r][v] = _mm512_fmadd_ps(wv, x, acc[r][v]);
        }
      }
    }
  }
  const int tail = int(OW - (V - 1) * 16);
  const __mmask16 last = __mmask16(tail >= 16 ? 0xFFFFu : (1u << tail) - 1u);
  for (int r = 0; r < 4 && oh0 + r < OH; ++r) {
    float* yr = y + (oh0 + r) * OW;
#pragma GCC unroll 4
    for (int v = 0; v < V - 1; ++v) _mm512_storeu_ps(yr + v * 16, acc[r][v]);
    _mm512_mask_storeu_ps(yr + (V - 1) * 16, last, acc[r][V - 1]);
    epi(ch, (oh0 + r) * OW, yr, int(OW));
  }
}

// The plane copied into a zero-padded scratch plane (rows from ih = -PT, columns from iw = -PL, slack on
// the right for 16-wide loads), so that every output is 16-lane FMAs over all taps with no bounds test;
// four output rows at a time.  Measured on ShuffleNet's 136 planes of 28 x 28 outputs, 3x3, 1 thread:
// stride 1 0.139 -> 0.074 ms with the copy (the per-row tap lists and scalar borders before); then, in
// another run, 0.091 -> 0.063 ms with four rows at a time (one row was a chain of 9 dependent FMAs per
// vector) and the copy in vector stores; stride 2 0.146 -> 0.124 ms; 272 x 14 x 14 0.067 -> 0.042 ms.
template <class Epi>
void depthwise_plane_padded(const Conv2dShape& s, const float* x, const float* w, float* y, index_t ch, const Epi& epi) {
  const index_t OH = s.OH(), OW = s.OW(), SW = s.SW;
  const index_t Hp = (OH - 1) * s.SH + (s.KH - 1) * s.DH + 1;
  const index_t Wp = (OW + 15) / 16 * 16 * SW + (s.KW - 1) * s.DW + 32;
  // Rows rounded up to whole vectors (and 16 floats of slack), so that the copy is vector stores only:
  // these planes are small, and library calls per row cost more than the convolution itself.
  const index_t Wv = (Wp + 15) / 16 * 16;
  const index_t left = std::min(s.PL, Wp), n = std::max<index_t>(0, std::min(s.W, Wp - left));
  float* xp = padded_plane(Hp, Wv, s.PT, s.H, left, n);
  for (index_t ih = std::max<index_t>(0, -s.PT); ih < std::min(s.H, Hp - s.PT); ++ih) {
    float* d = xp + (ih + s.PT) * Wv;
    const float* src = x + ih * s.W;
    for (index_t c = 0; c < n; c += 16) {
      const __mmask16 k = __mmask16(n - c >= 16 ? 0xFFFFu : (1u << (n - c)) - 1u);
      _mm512_mask_storeu_ps(d + left + c, k, _mm512_maskz_loadu_ps(k, src + c));
    }
  }
  const index_t vectors = (OW + 15) / 16;
  for (index_t oh = 0; oh < OH; oh += 4) {
    switch (vectors) {
      case 1: depthwise_rows4<1>(s, xp, Wv, w, y, ch, oh, epi); break;
      case 2: depthwise_rows4<2>(s, xp, Wv, w, y, ch, oh, epi); break;
      case 3: depthwise_rows4<3>(s, xp, Wv, w, y, ch, oh, epi); break;
      default: depthwise_rows4<4>(s, xp, Wv, w, y, ch, oh, epi); break;
    }
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
// AVX2 version of depthwise_plane_padded: 8-lane vectors, four output rows at a time.  With 16 ymm
// registers a row is done in blocks of up to B vectors (4B accumulators), all taps per block; the last
// vector of a row starts at OW - 8 (overlapping the one before, recomputed identically) so that every
// store is a whole vector; rows under 8 outputs go through a small buffer.  Stride 2 loads 16 floats and
// keeps the accumulators in the order of one in-lane shuffle (outputs 0 1 4 5 2 3 6 7), permuted once at
// the store rather than once per tap.  Unlike AVX-512 it takes every width: the alternative is scalar.
template <int V, int SW>
inline void depthwise_rows4_avx2(const Conv2dShape& s, const float* xp, index_t Wp, const float* w, float* y, index_t oh0,
                                 const index_t* col) {
  const index_t OH = s.OH(), OW = s.OW();
  const float* row[4];
  for (int r = 0; r < 4; ++r) row[r] = xp + std::min<index_t>(oh0 + r, OH - 1) * s.SH * Wp;
  __m256 acc[4][V];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  for (index_t kh = 0; kh < s.KH; ++kh) {
    for (index_t kw = 0; kw < s.KW; ++kw) {
      const __m256 wv = _mm256_set1_ps(w[kh * s.KW + kw]);
      const index_t off = kh * s.DH * Wp + kw * s.DW;
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) {
          const float* p = row[r] + off + col[v] * SW;
          const __m256 x = SW == 1 ? _mm256_loadu_ps(p) : _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), 0x88);
          acc[r][v] = _mm256_fmadd_ps(wv, x, acc[r][v]);
        }
      }
    }
  }
  for (int r = 0; r < 4 && oh0 + r < OH; ++r) {
    float* yr = y + (oh0 + r) * OW;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      __m256 a = acc[r][v];
      if (SW == 2) a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(a), 0xD8));
      if (OW >= 8) {
        _mm256_storeu_ps(yr + col[v], a);
      } else {
        alignas(32) float t[8];
        _mm256_store_ps(t, a);
        for (index_t j = 0; j < OW; ++j) yr[j] = t[j];
      }
    }
  }
}

// Measured on Zen 3, 1 thread (the scalar loops of depthwise_plane -> this): ShuffleNet's 136 planes of
// 28 x 28 outputs, 3x3, 0.81 -> 0.12 ms, stride 2 (from 56 x 56) 0.84 -> 0.21 ms; 272 x 14 x 14 0.43 ->
// 0.09 ms; 544 x 7 x 7 0.25 -> 0.08 ms; 32 x 112 x 112 2.9 -> 0.34 ms.  Blocks of 3 vectors at stride 2
// were not faster than 2.  Then (same machine, alternating, with a batch-norm epilogue): balanced blocks,
// one epilogue call per four rows and the border zeroed once per layer (padded_plane): 136 x 28 x 28
// 0.123 -> 0.107 ms, 272 x 14 x 14 0.096 -> 0.069, 544 x 7 x 7 0.088 -> 0.066, stride 2 272 x 28 x 28
// 0.159 -> 0.102; ShuffleNet's 16 depthwise layers in the model (profiled) 1.97 -> 1.29 ms.
template <class Epi>
void depthwise_plane_padded_avx2(const Conv2dShape& s, const float* x, const float* w, float* y, index_t ch, const Epi& epi) {
  const index_t OH = s.OH(), OW = s.OW(), SW = s.SW;
  const index_t Hp = (OH - 1) * s.SH + (s.KH - 1) * s.DH + 1;
  const index_t Wp = (OW + 7) / 8 * 8 * SW + (s.KW - 1) * s.DW + 16;
  const index_t Wv = (Wp + 7) / 8 * 8;
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  // The row's last partial vector is a masked load stored whole: its extra lanes are zeros, on padding
  // (left + n + 8 <= Wp as PL + W <= OW*SW + (KW-1)*DW).
  const index_t left = std::min(s.PL, Wp), n = std::max<index_t>(0, std::min(s.W, Wp - 8 - left));
  float* xp = padded_plane(Hp, Wv, s.PT, s.H, left, n);
  for (index_t ih = std::max<index_t>(0, -s.PT); ih < std::min(s.H, Hp - s.PT); ++ih) {
    float* d = xp + (ih + s.PT) * Wv;
    const float* src = x + ih * s.W;
    index_t c = 0;
    for (; c + 8 <= n; c += 8) _mm256_storeu_ps(d + left + c, _mm256_loadu_ps(src + c));
    if (c < n) {
      const __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(n - c)), iota);
      _mm256_storeu_ps(d + left + c, _mm256_maskload_ps(src + c, k));
    }
  }
  // Column starts of the row's vectors; blocks of B vectors (12 accumulators at stride 1; 8 at stride 2,
  // whose loads take two more registers).
  const index_t nvec = (OW + 7) / 8;
  thread_local std::vector<index_t> cols;
  cols.resize(std::size_t(nvec));
  for (index_t v = 0; v < nvec; ++v) cols[std::size_t(v)] = OW >= 8 ? std::min<index_t>(8 * v, OW - 8) : 0;
  // The row's vectors in as few blocks as the limit allows, of sizes as even as possible (a row of 4
  // vectors as 2 + 2, not 3 + 1, whose single vector is 4 dependent FMA chains, latency bound).
  const index_t B = SW == 1 ? 3 : 2, nblocks = (nvec + B - 1) / B;
  for (index_t oh = 0; oh < OH; oh += 4) {
    for (index_t b = 0, v0 = 0; b < nblocks; ++b) {
      const index_t* cv = cols.data() + v0;
      const int nv = int((nvec - v0) / (nblocks - b));
      v0 += nv;
      if (SW == 1) {
        switch (nv) {
          case 1: depthwise_rows4_avx2<1, 1>(s, xp, Wv, w, y, oh, cv); break;
          case 2: depthwise_rows4_avx2<2, 1>(s, xp, Wv, w, y, oh, cv); break;
          default: depthwise_rows4_avx2<3, 1>(s, xp, Wv, w, y, oh, cv); break;
        }
      } else {
        if (nv == 1) depthwise_rows4_avx2<1, 2>(s, xp, Wv, w, y, oh, cv);
        else depthwise_rows4_avx2<2, 2>(s, xp, Wv, w, y, oh, cv);
      }
    }
    // The four rows are contiguous in y: one epilogue call, whole vectors rather than a scalar tail per row.
    const index_t rows = std::min<index_t>(4, OH - oh);
    epi(ch, oh * OW, y + oh * OW, int(rows * OW));
  }
}
#endif

template <class Epi>
void depthwise_plane(const Conv2dShape& s, const float* x, const float* w, float* y, index_t ch, const Epi& epi) {
  const index_t OH = s.OH(), OW = s.OW(), SW = s.SW;
#if defined(__AVX512F__)
  if (SW <= 2 && OW <= kDepthwisePaddedMaxOW) return depthwise_plane_padded(s, x, w, y, ch, epi);
#elif defined(__AVX2__) && defined(__FMA__)
  if (SW <= 2) return depthwise_plane_padded_avx2(s, x, w, y, ch, epi);
#endif
  // Output columns whose taps are all inside the row for every kw: [ow_lo, ow_hi).
  index_t ow_lo = 0, ow_hi = OW;
  while (ow_lo < OW && ow_lo * SW - s.PL < 0) ++ow_lo;
  while (ow_hi > ow_lo && (ow_hi - 1) * SW - s.PL + (s.KW - 1) * s.DW >= s.W) --ow_hi;
  thread_local std::vector<const float*> tap_x;  // tap t reads tap_x[t][ow * SW]
  thread_local std::vector<float> tap_w;
  thread_local std::vector<index_t> tap_kw;
  tap_x.resize(std::size_t(s.KH * s.KW));
  tap_w.resize(std::size_t(s.KH * s.KW));
  tap_kw.resize(std::size_t(s.KH * s.KW));
  for (index_t oh = 0; oh < OH; ++oh) {
    int nt = 0;
    for (index_t kh = 0; kh < s.KH; ++kh) {
      const index_t ih = oh * s.SH - s.PT + kh * s.DH;
      if (ih < 0 || ih >= s.H) continue;
      for (index_t kw = 0; kw < s.KW; ++kw) {
        tap_x[std::size_t(nt)] = x + ih * s.W + kw * s.DW - s.PL;  // may point before the row: offset only
        tap_w[std::size_t(nt)] = w[kh * s.KW + kw];
        tap_kw[std::size_t(nt)] = kw * s.DW - s.PL;
        ++nt;
      }
    }
    const float* const* tx = tap_x.data();
    const float* tw = tap_w.data();
    float* __restrict yr = y + oh * OW;
    auto border = [&](index_t ow) {
      float acc = 0.0f;
      for (int t = 0; t < nt; ++t) {
        const index_t iw = ow * SW + tap_kw[std::size_t(t)];
        if (iw >= 0 && iw < s.W) acc += tw[t] * tx[t][ow * SW];
      }
      yr[ow] = acc;
    };
    for (index_t ow = 0; ow < ow_lo; ++ow) border(ow);
    index_t ow = ow_lo;
#if defined(__AVX512F__)
    if (SW <= 2) {
      const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
      for (; ow + 16 <= ow_hi; ow += 16) {
        __m512 acc = _mm512_setzero_ps();
        if (SW == 1) {
          for (int t = 0; t < nt; ++t) acc = _mm512_fmadd_ps(_mm512_set1_ps(tw[t]), _mm512_loadu_ps(tx[t] + ow), acc);
        } else {
          // Inputs 2*ow .. 2*ow + 30 of the tap; the last load is masked to stay inside the row.
          for (int t = 0; t < nt; ++t) {
            const float* xs = tx[t] + 2 * ow;
            const __m512 v = _mm512_permutex2var_ps(_mm512_loadu_ps(xs), even, _mm512_maskz_loadu_ps(0x7FFF, xs + 16));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(tw[t]), v, acc);
          }
        }
        _mm512_storeu_ps(yr + ow, acc);
      }
      if (ow < ow_hi) {  // the last < 16 interior columns, masked
        const int e = int(ow_hi - ow);
        const __mmask16 km = __mmask16((1u << e) - 1u);
        const __mmask16 k0 = SW == 1 ? km : __mmask16(2 * e - 1 >= 16 ? 0xFFFFu : (1u << (2 * e - 1)) - 1u);  // inputs 0 .. 2e-2
        const __mmask16 k1 = SW == 1 ? km : __mmask16(e > 8 ? (1u << (2 * e - 17)) - 1u : 0u);
        __m512 acc = _mm512_setzero_ps();
        for (int t = 0; t < nt; ++t) {
          const float* xs = tx[t] + SW * ow;
          const __m512 v = SW == 1 ? _mm512_maskz_loadu_ps(km, xs)
                                   : _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(k0, xs), even, _mm512_maskz_loadu_ps(k1, xs + 16));
          acc = _mm512_fmadd_ps(_mm512_set1_ps(tw[t]), v, acc);
        }
        _mm512_mask_storeu_ps(yr + ow, km, acc);
        ow = ow_hi;
      }
    }
#endif
    for (; ow < ow_hi; ++ow) {
      float acc = 0.0f;
      for (int t = 0; t < nt; ++t) acc += tw[t] * tx[t][ow * SW];
      yr[ow] = acc;
    }
    for (ow = ow_hi; ow < OW; ++ow) border(ow);
    for (index_t o = 0; o < OW; o += 256) epi(ch, oh * OW + o, yr + o, int(std::min<index_t>(256, OW - o)));
  }
}
}  // namespace conv_detail

namespace conv_detail {

// ---------------------------------------------------------------------------------------------------------
// Direct implicit GEMM for stride-1 convolutions ("padded rows"): with the input zero-padded into a
// Cg x Hp x Wp buffer (Hp = H + PT + PB, Wp = W + PL + PR), output pixel (oh, ow) is computed at the
// virtual column v = oh * Wp + ow, and im2col row k = (c, kh, kw) over virtual columns is contiguous:
// Xp[c*Hp*Wp + kh*DH*Wp + kw*DW + v].  So the micro-kernel reads B straight from the padded input through a
// table of row offsets, with no packing at all; the Wp - OW virtual columns per row that are not outputs
// are computed and dropped by the masked stores.  Worth it when that waste is smaller than the packing
// cost it saves, which is relatively larger the fewer output channels share each packed panel.
// AVX-512 only: an AVX2 version (MR x 16 tiles, 2 ymm per row, the same table of row offsets) measured
// slower than the vectorised packing on every 3x3 layer tried on Zen 3 (1 thread: Inception 64->192 at
// 56x56 8.7 vs 7.5 ms, ResNet 128->128 at 28x28 3.0 vs 2.6 ms, 512->512 at 7x7 3.7 vs 3.2 ms; only
// DenseNet's 128->32 at 56x56 about even, 3.2 vs 3.3 ms): its B rows, read in place at unaligned offsets,
// do not stay in the 32 KiB L1 across a depth block the way a packed 16-wide panel does.
// ---------------------------------------------------------------------------------------------------------
inline bool use_direct(const Conv2dShape& s) {
#if defined(__AVX512F__) && !defined(AIC_CONV_NO_DIRECT)
  if (s.SH != 1 || s.SW != 1 || s.depthwise() || s.pointwise()) return false;
  const index_t Wp = s.W + s.PL + s.PR, OW = s.OW();
  const double waste = double(Wp - OW) / double(Wp);
  // Measured on Zen 5 (3x3 convolutions): direct wins from 56x56 up for up to 256 output channels, and
  // for 32 channels at 28x28; below, the extra row pieces per tile and the waste cost more than packing.
  return waste * double(s.Mg()) < (OW >= 48 ? 10.0 : 2.5);
#else
  (void)s;
  return false;
#endif
}

inline index_t direct_pad_floats(const Conv2dShape& s) {
  return s.Cg() * (s.H + s.PT + s.PB) * (s.W + s.PL + s.PR) + 64;
}

#if defined(__AVX512F__)
// acc(MR x 32) = sum_k A[k*MR + i] * B[koff[k] + j]   (B rows read in place; masked at the right edge)
template <int MR, bool MASKED>
inline void direct_kernel(index_t kc, const float* __restrict A, const float* __restrict B, const index_t* __restrict koff,
                          __mmask16 m0, __mmask16 m1, __m512* c0, __m512* c1) {
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    const float* b = B + koff[k];
    const __m512 b0 = MASKED ? _mm512_maskz_loadu_ps(m0, b) : _mm512_loadu_ps(b);
    const __m512 b1 = MASKED ? _mm512_maskz_loadu_ps(m1, b + 16) : _mm512_loadu_ps(b + 16);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const __m512 a = _mm512_set1_ps(A[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    A += MR;
  }
}

// The output pieces of a 32-column virtual tile: lane l goes to pixel (off + l) for the lanes in (k0, k1).
struct DirectSeg { index_t off, pix; int count; __mmask16 k0, k1; };

inline int direct_segments(index_t v0, index_t Wp, index_t OW, index_t OH, DirectSeg* seg) {
  int n = 0;
  for (index_t r = v0 / Wp; r < OH && r * Wp < v0 + 32; ++r) {
    const index_t a = std::max<index_t>(0, r * Wp - v0), b = std::min<index_t>(32, r * Wp + OW - v0);
    if (a >= b) continue;
    const std::uint32_t m = (b >= 32 ? 0xFFFFFFFFu : (1u << b) - 1u) & ~((1u << a) - 1u);
    const index_t off = v0 - r * (Wp - OW);
    seg[n++] = DirectSeg{off, off + a, int(b - a), __mmask16(m & 0xFFFFu), __mmask16(m >> 16)};
  }
  return n;
}

// One group of one image: y (Mg x OH*OW) from the padded input xp and MR-panel packed weights wp.
template <class Epi>
void conv_direct(const Conv2dShape& s, const float* xp, const float* wp, const index_t* koff, float* y, index_t m0,
                 const Epi& epi) {
  using namespace gemm_cfg;
  using gemm_detail::round_up;
  const index_t OH = s.OH(), OW = s.OW(), npix = OH * OW, Wp = s.W + s.PL + s.PR;
  const index_t Mg = s.Mg(), K = s.Kg(), Mp = round_up(Mg, MR);
  const index_t nv = (OH - 1) * Wp + OW;      // virtual columns
  const index_t ntiles = (nv + 31) / 32;
  // Loads past the padded input are masked off in the last tile; others read at most 31 floats past the
  // last output's inputs, inside the 64 floats of slack after the padded input.
  auto work = [&](index_t t0, index_t t1) {
    DirectSeg seg[33];  // a 32-column tile meets at most 33 rows
    __m512 c0[MR], c1[MR];
    for (index_t t = t0; t < t1; ++t) {
      const index_t v0 = t * 32;
      const int nseg = direct_segments(v0, Wp, OW, OH, seg);
      const bool edge = v0 + 32 > nv;
      const index_t e = nv - v0;
      const __mmask16 k0 = edge ? __mmask16(e >= 16 ? 0xFFFFu : (1u << e) - 1u) : __mmask16(0xFFFF);
      const __mmask16 k1 = edge ? __mmask16(e >= 32 ? 0xFFFFu : e > 16 ? (1u << (e - 16)) - 1u : 0u) : __mmask16(0xFFFF);
      for (index_t pc = 0; pc < K; pc += KC) {
        const index_t kc = std::min(KC, K - pc);
        const bool first = pc == 0, last = pc + kc >= K;
        for (index_t ir = 0; ir < Mg; ir += MR) {
          const int mr = int(std::min<index_t>(MR, Mg - ir));
          const float* a = wp + pc * Mp + ir * kc;
          if (edge) direct_kernel<MR, true>(kc, a, xp + v0, koff + pc, k0, k1, c0, c1);
          else direct_kernel<MR, false>(kc, a, xp + v0, koff + pc, k0, k1, c0, c1);
          for (int i = 0; i < mr; ++i) {
            float* yr = y + (ir + i) * npix;
            for (int g = 0; g < nseg; ++g) {
              float* d = yr + seg[g].off;
              __m512 r0 = c0[i], r1 = c1[i];
              if (!first) {
                r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(seg[g].k0, d));
                r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(seg[g].k1, d + 16));
              }
              _mm512_mask_storeu_ps(d, seg[g].k0, r0);
              _mm512_mask_storeu_ps(d + 16, seg[g].k1, r1);
              if (last) epi(m0 + ir + i, seg[g].pix, yr + seg[g].pix, seg[g].count);
            }
          }
        }
      }
    }
  };
  const double flops = 2.0 * double(Mg) * double(nv) * double(K);
  const double bytes = 4.0 * (double(s.Cg() * s.H * s.W) + double(Mg * npix) + double(Mg * K));
  int nt = gemm_detail::worth_threads(flops, bytes) ? threads::max_threads() : 1;
  nt = int(std::min<double>(nt, std::max(1.0, flops / 1.0e6)));
  nt = int(std::min<index_t>(nt, ntiles));
  // Up to 4 chunks of tiles per thread, taken dynamically (robust to a preempted thread).
  threads::parallel_range(ntiles, nt, work);
}
#endif

// Zero-padded copy of one group's input planes, and the row offset table of the direct path.
inline void direct_prepare(const Conv2dShape& s, const float* xg, float* xp, index_t* koff) {
  const index_t Hp = s.H + s.PT + s.PB, Wp = s.W + s.PL + s.PR;
  for (index_t c = 0; c < s.Cg(); ++c) {
    float* d = xp + c * Hp * Wp;
    const float* src = xg + c * s.H * s.W;
    std::memset(d, 0, sizeof(float) * std::size_t(s.PT * Wp));
    for (index_t h = 0; h < s.H; ++h) {
      float* row = d + (s.PT + h) * Wp;
      for (index_t w = 0; w < s.PL; ++w) row[w] = 0.0f;
      std::memcpy(row + s.PL, src + h * s.W, sizeof(float) * std::size_t(s.W));
      for (index_t w = s.PL + s.W; w < Wp; ++w) row[w] = 0.0f;
    }
    std::memset(d + (s.PT + s.H) * Wp, 0, sizeof(float) * std::size_t(s.PB * Wp));
  }
  std::memset(xp + s.Cg() * Hp * Wp, 0, sizeof(float) * 64);
  index_t k = 0;
  for (index_t c = 0; c < s.Cg(); ++c)
    for (index_t kh = 0; kh < s.KH; ++kh)
      for (index_t kw = 0; kw < s.KW; ++kw) koff[k++] = c * Hp * Wp + kh * s.DH * Wp + kw * s.DW;
}

}  // namespace conv_detail

/// Bytes of workspace conv2d needs on up to `threads` threads (the GEMM's packing buffers).
inline std::size_t conv2d_workspace_bytes(const Conv2dShape& s, int threads) {
  if (s.depthwise()) return 0;
  if (conv_detail::use_direct(s)) {
    // row offsets, padded input, and the weights packed per call when they are not prepacked
    return std::size_t(s.Kg()) * sizeof(index_t) + std::size_t(conv_detail::direct_pad_floats(s)) * sizeof(float) +
           sgemm_packed_a_floats(s.Mg(), s.Kg()) * sizeof(float) + 256;
  }
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
    // About 2 flops per byte: threads pay from some 50 µs of work.  Zen 3, 1 thread, in the model: 3x3 on
    // 272 planes of 14 x 14 (480K taps) 0.105 ms, on 544 of 7 x 7 (240K) 0.10 ms, so the floor is 200K taps.
    const bool par = npix * s.KH * s.KW * planes > 200000;
    threads::parallel_range(planes, par ? threads::max_threads() : 1, [&](index_t p0, index_t p1) {
      for (index_t p = p0; p < p1; ++p) {
        const index_t ch = p % s.C;
        conv_detail::depthwise_plane(s, x + p * s.H * s.W, w + ch * s.KH * s.KW, y + p * npix, ch, epi);
      }
    });
    return;
  }
  const index_t Mg = s.Mg(), Cg = s.Cg(), Kg = s.Kg();
  const bool tm = conv_detail::transposed_for(s);
  const std::size_t per = sgemm_packed_a_floats(Mg, Kg);
#if defined(__AVX512F__)
  if (conv_detail::use_direct(s)) {
    // Workspace: row offsets | padded input | weights packed here when not prepacked.
    const std::size_t bytes = conv2d_workspace_bytes(s, 1);
    char* ws = workspace ? static_cast<char*>(workspace) : reinterpret_cast<char*>(gemm_detail::scratch_right().get(bytes / sizeof(float) + 1));
    ws = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(ws) + 63) & ~std::uintptr_t(63));
    index_t* koff = reinterpret_cast<index_t*>(ws);
    float* xp = reinterpret_cast<float*>(ws + (std::size_t(Kg) * sizeof(index_t) + 63) / 64 * 64);
    float* wpk = xp + (conv_detail::direct_pad_floats(s) + 15) / 16 * 16;
    for (index_t n = 0; n < s.N; ++n) {
      for (index_t g = 0; g < s.G; ++g) {
        const float* wg = w + g * per;
        if (!w_is_packed) {
          sgemm_pack_a(false, Mg, Kg, w + g * Mg * Kg, Kg, wpk, false);
          wg = wpk;
        }
        conv_detail::direct_prepare(s, x + (n * s.C + g * Cg) * s.H * s.W, xp, koff);
        conv_detail::conv_direct(s, xp, wg, koff, y + (n * s.M + g * Mg) * npix, g * Mg, epi);
      }
    }
    return;
  }
#endif
  // Grouped convolutions (ShuffleNet's 1x1 layers: small GEMMs) run their groups in parallel, each GEMM on
  // one thread, rather than each GEMM on all threads: one parallel region instead of one per group.  A
  // pointwise group is cut into as many column pieces as threads, so that the pieces share out evenly
  // (3 groups on 2 threads leave one thread two: ShuffleNet's grouped 1x1 layers, profiled in the model on
  // Zen 3, took 0.113-0.147 ms on 2 threads against 0.135-0.185 on 1; 0.101-0.132 with the pieces).
  const double flops = 2.0 * double(s.M) * double(npix) * double(Kg) * double(s.N);
  const double bytes = 4.0 * double(s.N) * (double(s.C * s.H * s.W) + double(s.M * npix) + double(s.M * Kg));
  const bool by_group = s.G > 1 && workspace == nullptr && gemm_detail::worth_threads(flops, bytes);
  const index_t cuts = by_group && s.pointwise() ? std::min<index_t>(threads::max_threads(), std::max<index_t>(1, npix / 64)) : 1;
  const index_t jobs = s.N * s.G * cuts;
  threads::parallel_for(jobs, by_group ? threads::max_threads() : 1, [&](index_t job, int) {
    const index_t n = job / (s.G * cuts), g = job / cuts % s.G, cut = job % cuts;
    const float* xg = x + (n * s.C + g * Cg) * s.H * s.W;
    float* yg = y + (n * s.M + g * Mg) * npix;
    const index_t m0 = g * Mg;
    // Pixels [p0, p1) of this group's output (all of them unless a pointwise group is cut).
    const index_t p0 = npix * cut / cuts, p1 = npix * (cut + 1) / cuts;
    auto e = [&epi, m0, p0](index_t row, index_t col, float* p, int cnt) { epi(m0 + row, p0 + col, p, cnt); };
    auto run = [&](const auto& a) {
      if (s.pointwise()) {
        sgemm(a, RawB{xg + p0, s.H * s.W, false}, Mg, p1 - p0, Kg, 1.0f, 0.0f, yg + p0, npix, e, workspace);
      } else {
        const Im2colSource src{xg, s.H, s.W, s.KH, s.KW, s.SH, s.SW, s.PT, s.PL, s.DH, s.DW, OW, npix};
        sgemm(a, src, Mg, npix, Kg, 1.0f, 0.0f, yg, npix, e, workspace);
      }
    };
    if (w_is_packed) run(PackedA(w + g * per, Mg, tm));
    else run(RawA{w + g * Mg * Kg, Kg, false});
  });
}

}  // namespace cpu
}  // namespace aic
