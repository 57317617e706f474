// gemv.h: the matrix-vector product of fully connected layers on one input against a double-precision
// reference, for every ISA variant this host can run (see cxx/gemv_test.cpp for what the cases cover).
import { afterAll, describe, expect, test } from 'vitest';
import { CxxWorkspace, HAVE_GXX, headerWarnings, variants } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

describe('cpu runtime: gemv.h', () => {
  afterAll(() => ws?.dispose());

  for (const v of HAVE_GXX ? variants() : [{ name: 'native', flags: [] }]) {
    test.skipIf(!HAVE_GXX)(`random sizes, leading dimensions, threads, the epilogue contract (${v.name})`, () => {
      const c = workspace().compile('gemv_test.cpp', v.flags, `gemv_${v.name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, ['20261207', '300']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok \d+ cases, 0 failed$/m);
    });
  }
});
