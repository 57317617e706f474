// conv.h: 2-D convolution (implicit GEMM, 1x1 GEMM, depthwise) against a naive loop nest, for every ISA
// variant this host can run (see cxx/conv_test.cpp for what each case covers).
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
  }
});
