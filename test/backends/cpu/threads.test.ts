// threads.h: aic's thread pool under stress (see cxx/threads_test.cpp for what it checks), natively and
// under the address and undefined-behaviour sanitizers.
import { afterAll, describe, expect, test } from 'vitest';
import { CxxWorkspace, HAVE_GXX, headerWarnings, variants } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

describe('cpu runtime: threads.h', () => {
  afterAll(() => ws?.dispose());

  for (const v of HAVE_GXX ? variants().filter((x) => x.name === 'native' || x.name === 'asan+ubsan') : [{ name: 'native', flags: [] }]) {
    test.skipIf(!HAVE_GXX)(`every item once, slots under the cap, nesting, concurrent callers (${v.name})`, () => {
      const c = workspace().compile('threads_test.cpp', [...v.flags, '-pthread'], `threads_${v.name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, [v.name === 'native' ? '6000' : '1500']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ok \d+ loops, 0 failed$/m);
    });
  }
});
