// gemm.h: C = alpha op(A) op(B) + beta C with epilogues, against a double-precision reference, for every
// ISA variant of the micro-kernel this host can run (see cxx/gemm_test.cpp for what each case covers).
import { afterAll, describe, expect, test } from 'vitest';
import { CxxWorkspace, HAVE_GXX, headerWarnings, variants } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

describe('cpu runtime: gemm.h', () => {
  afterAll(() => ws?.dispose());

  for (const v of HAVE_GXX ? variants() : [{ name: 'native', flags: [] }]) {
    test.skipIf(!HAVE_GXX)(`random and edge shapes, transposes, alpha/beta, prepacked, threads, epilogues (${v.name})`, () => {
      const c = workspace().compile('gemm_test.cpp', v.flags, `gemm_${v.name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, ['20261122', v.name === 'native' ? '500' : v.name === 'asan+ubsan' ? '120' : '200']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok \d+ cases, 0 failed$/m);
    });
  }
});
