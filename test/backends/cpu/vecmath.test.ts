// vecmath.h: error bounds over a dense sweep of float bit patterns (denormals, tails, +-inf, NaN), exact
// special values, and that g++ vectorises loops calling each function.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CXX_DIR, CxxWorkspace, HAVE_GXX, IS_X64, headerWarnings } from './cxx.js';

let ws: CxxWorkspace | undefined;
const workspace = (): CxxWorkspace => (ws ??= new CxxWorkspace());

// Max error (relative, FLT_MIN floor) allowed per function; the measured values are in vecmath.h.
const BOUNDS: Readonly<Record<string, number>> = {
  exp: 2e-7, log: 2e-7, tanh: 3e-7, sigmoid: 3e-7, erf: 3e-7, erfc: 1e-6, gelu: 1.2e-6,
};

interface Sweep { name: string; err: number; at: number; values: number; special: number }
const parse = (stdout: string): Sweep[] => stdout.split('\n').map((l) => l.trim().split(/\s+/))
  .filter((f) => f.length === 5 && f[0]! in BOUNDS)
  .map(([name, err, at, values, special]) => ({ name: name!, err: Number(err), at: Number(at), values: Number(values), special: Number(special) }));

describe('cpu runtime: vecmath.h', () => {
  afterAll(() => ws?.dispose());

  const builds = IS_X64 ? [['native', '-march=native'], ['portable', '-march=x86-64']] : [['native', '-march=native']];
  for (const [name, march] of builds) {
    test.skipIf(!HAVE_GXX)(`error bounds over a dense sweep, special values (${name})`, () => {
      const c = workspace().compile('vecmath_test.cpp', ['-std=c++17', '-O3', march!, '-fopenmp', '-ffp-contract=off'], `vecmath_${name}`);
      expect(c.ok, c.log).toBe(true);
      expect(headerWarnings(c.log)).toEqual([]);
      const r = workspace().run(c.exe, ['1009']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const rows = parse(r.stdout);
      expect(rows.map((x) => x.name).sort()).toEqual(Object.keys(BOUNDS).sort());
      for (const row of rows) {
        expect(row.special, `${row.name}: special values`).toBe(0);
        expect(row.values).toBeGreaterThan(2_000_000);
        expect(row.err, `${row.name}: max error at x = ${row.at}`).toBeLessThanOrEqual(BOUNDS[row.name]!);
      }
    });
  }

  test.skipIf(!HAVE_GXX)('loops calling each function are vectorised by g++ -O3', () => {
    const src = join(CXX_DIR, 'vecmath_vectorize.cpp');
    const tags = new Map<number, string>();
    readFileSync(src, 'utf8').split('\n').forEach((line, i) => {
      const m = /VEC:(\w+)/.exec(line);
      if (m) tags.set(i + 1, m[1]!);
    });
    expect(tags.size).toBeGreaterThan(5);
    const flagSets = IS_X64 ? [['-march=native'], ['-march=x86-64-v3'], ['-march=x86-64']] : [['-march=native']];
    for (const flags of flagSets) {
      const c = workspace().compile('vecmath_vectorize.cpp', ['-std=c++17', '-O3', ...flags, '-fopenmp', '-c', '-fopt-info-vec-optimized'],
        'vectorize.o');
      expect(c.ok, c.log).toBe(true);
      const vectorized = new Set<string>();
      for (const m of c.log.matchAll(/vecmath_vectorize\.cpp:(\d+):\d+: optimized: loop vectorized/g)) {
        const tag = tags.get(Number(m[1]));
        if (tag) vectorized.add(tag);
      }
      expect([...tags.values()].filter((t) => !vectorized.has(t)), `not vectorised with ${flags.join(' ')}`).toEqual([]);
    }
  });
});

