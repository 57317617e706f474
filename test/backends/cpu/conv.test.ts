// conv.h: 2-D convolution (implicit GEMM, 1x1 GEMM, depthwise) against a naive loop nest, for every ISA
// variant this host can run (see cxx/conv_test.cpp and cxx/conv_focused_test.cpp for what the cases cover).
import { afterAll, describe, expect, test } from 'vitest';
import { CxxWorkspace, HAVE_GXX, headerWarnings, variants } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

describe('cpu runtime: conv.h', () => {
  afterAll(() => ws?.dispose());

  for (const v of HAVE_GXX ? variants() : [{ name: 'native', flags: [] }]) {
    test.skipIf(!HAVE_GXX)(`random groups/dilations/strides/pads/depthwise, network layers, epilogue (${v.name})`, () => {
      const c = workspace().compile('conv_test.cpp', v.flags, `conv_${v.name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, ['20261122', v.name === 'native' ? '600' : v.name === 'asan+ubsan' ? '300' : '250']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok \d+ cases, 0 failed$/m);
    });

    test.skipIf(!HAVE_GXX)(`packing and depthwise edge shapes: strides 1/2, both orientations, widths (${v.name})`, () => {
      // Also with the GEMM's transposed orientation forced: without AVX-512 it is never chosen, so the
      // MR-wide (6 on AVX2) im2col panels would otherwise go untested.
      for (const [tag, extra] of [['', []], ['_transposed', ['-DAIC_GEMM_FORCE_MODE=1']]] as const) {
        const c = workspace().compile('conv_focused_test.cpp', [...v.flags, ...extra], `conv_focused_${v.name}${tag}`);
        expect(c.ok, c.log).toBe(true);
        expect(headerWarnings(c.log)).toEqual([]);
        const r = workspace().run(c.exe, []);
        expect(r.status, `${tag}: ${r.stdout}${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/^ok \d+ cases, 0 failed$/m);
      }
    });
  }
});
