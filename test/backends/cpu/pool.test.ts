// pool.h: max pooling of one plane against a naive loop nest, bit for bit, for every ISA variant this host
// can run (see cxx/pool_test.cpp for what the cases cover).
import { afterAll, describe, expect, test } from 'vitest';
import { CxxWorkspace, HAVE_GXX, headerWarnings, variants } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

describe('cpu runtime: pool.h', () => {
  afterAll(() => ws?.dispose());

  for (const v of HAVE_GXX ? variants() : [{ name: 'native', flags: [] }]) {
    test.skipIf(!HAVE_GXX)(`random shapes, strides, dilations, pads, NaN and signed zeros (${v.name})`, () => {
      const c = workspace().compile('pool_test.cpp', v.flags, `pool_${v.name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, ['20261206', '600']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok \d+ cases, 0 failed$/m);
    });
  }
});
