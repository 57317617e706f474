// Edge shapes for conv.h's vectorised im2col packing and depthwise paths (8-lane AVX2 and 16-lane
// AVX-512 alike), through conv_test.cpp's checker: stride 1 and 2 in both GEMM orientations (transposed:
// panels of MR pixels spanning output rows), depths that start packed blocks in the middle of a channel's
// taps, asymmetric pads and dilations, and depthwise planes of every width class (under one vector, whole
// vectors, ragged, several column blocks, wider than 64).  Built also with -DAIC_GEMM_FORCE_MODE=1.
//   usage: conv_focused_test
#define main conv_test_main
#include "conv_test.cpp"
#undef main
int main() {
  rng.seed(7u);
  int fails = 0, total = 0;
  auto run = [&](const Conv2dShape& s) {
    for (int v = 0; v < 2; ++v) { fails += run_case(s, v == 1, 1 + v, v == 0); ++total; }
  };
  run(shape(16, 27, 64, 3, 2, 1));   // stride 2, 14x14: transposed orientation
  run(shape(3, 29, 64, 7, 2, 3));    // stem-like 7x7/2, 15x15: transposed
  run(shape(3, 60, 16, 7, 2, 3));    // stem-like 7x7/2, 30x30: normal
  run(shape(64, 7, 64, 3, 1, 1));    // 7x7 outputs, K = 576 > KC: transposed, packed blocks mid-tap
  run(shape(64, 20, 16, 3, 1, 1));   // the same, normal orientation
  run(shape(64, 40, 16, 3, 2, 1));   // stride 2, K = 576
  run(shape(40, 9, 48, 5, 1, 2));    // 5x5, 9x9 outputs
  Conv2dShape a = shape(5, 9, 40, 3, 2, 0);  // 3x5/2, asymmetric pads, dilated, non-square
  a.W = 41; a.KW = 5; a.PT = 0; a.PL = 2; a.PB = 1; a.PR = 3; a.DH = a.DW = 2;
  run(a);
  Conv2dShape b = shape(4, 11, 36, 3, 1, 0);  // stride 1 with W = 3: a panel spans many output rows
  b.W = 3; b.PL = 1; b.PR = 2;
  run(b);
  for (index_t w : {1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 33, 47, 56, 63, 64, 65, 70, 112, 130})
    for (index_t st : {1, 2}) {
      Conv2dShape d = shape(3, 6, 3, 3, st, 1, 3);
      d.W = w;
      run(d);
      Conv2dShape e = shape(2, 9, 2, 5, st, 3, 2);  // 5x5 dilated, uneven pads
      e.W = w; e.DH = e.DW = 2; e.PL = 1; e.PR = 4;
      if (e.OW() > 0) run(e);
    }
  std::printf("%s %d cases, %d failed\n", fails ? "FAILED" : "ok", total, fails);
  return fails ? 1 : 0;
}
