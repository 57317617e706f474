// The index-expression simplifier: it keeps the value of every expression at every point of the loop
// ranges, is idempotent, prints what it parses, and turns the index maps of movement ops into the plain
// affine forms the scheduler relies on.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  evalIndex, flatten, ix, printIndex, rangeOf, simplify, unflatten, type Extents, type IndexExpr,
} from '../../src/kernel/index-expr.js';
import { parseIndex } from '../../src/kernel/parser.js';

const EXTENTS: Record<string, number> = { i0: 3, i1: 5, i2: 4, r0: 7 };
const extents: Extents = (n) => (n in EXTENTS ? ix.c(EXTENTS[n]!) : undefined);
const VARS = Object.keys(EXTENTS);

/** Random expressions over the loop variables, with floor division and modulo by positive constants. */
const arbExpr: fc.Arbitrary<IndexExpr> = fc.letrec<{ e: IndexExpr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -20, max: 20 }).map((v) => ix.c(v)),
    fc.constantFrom(...VARS).map((v) => ix.v(v)),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => ix.add(a, b)),
    fc.tuple(fc.integer({ min: -12, max: 12 }), tie('e')).map(([k, a]) => ix.mul(ix.c(k), a)),
    fc.tuple(tie('e'), tie('e')).map(([a, b]) => ix.mul(a, b)),
    fc.tuple(tie('e'), fc.integer({ min: 1, max: 30 })).map(([a, d]) => ix.div(a, ix.c(d))),
    fc.tuple(tie('e'), fc.integer({ min: 1, max: 30 })).map(([a, d]) => ix.mod(a, ix.c(d))),
  ),
})).e;

const arbPoint = fc.record(Object.fromEntries(VARS.map((v) => [v, fc.integer({ min: 0, max: EXTENTS[v]! - 1 })])) as Record<string, fc.Arbitrary<number>>);

const at = (e: IndexExpr, p: Record<string, number>): number => evalIndex(e, { vars: new Map(Object.entries(p)) });

describe('simplify', () => {
  it('keeps the value at every point of the loop ranges', () => {
    fc.assert(fc.property(arbExpr, fc.array(arbPoint, { minLength: 1, maxLength: 8 }), (e, points) => {
      const s = simplify(e, extents);
      for (const p of points) expect(at(s, p)).toBe(at(e, p));
    }), { seed: 11, numRuns: 2000 });
  });

  it('is idempotent', () => {
    fc.assert(fc.property(arbExpr, (e) => {
      const s = simplify(e, extents);
      expect(printIndex(simplify(s, extents))).toBe(printIndex(s));
    }), { seed: 12, numRuns: 1000 });
  });

  it('bounds every value it can take (rangeOf)', () => {
    fc.assert(fc.property(arbExpr, fc.array(arbPoint, { minLength: 1, maxLength: 8 }), (e, points) => {
      const s = simplify(e, extents);
      const r = rangeOf(s, extents);
      for (const p of points) {
        const v = at(s, p);
        expect(v >= r.lo && v <= r.hi).toBe(true);
      }
    }), { seed: 13, numRuns: 1000 });
  });

  it('prints text that parses back to the same expression', () => {
    fc.assert(fc.property(arbExpr, arbPoint, (e, p) => {
      for (const x of [e, simplify(e, extents)]) {
        const back = parseIndex(printIndex(x));
        expect(printIndex(back)).toBe(printIndex(x));
        expect(at(back, p)).toBe(at(x, p));
      }
    }), { seed: 14, numRuns: 1000 });
  });

  it('undoes flatten with unflatten (reshape to a shape and back is free)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }), (shape) => {
      const names = shape.map((_, i) => `j${i}`);
      const ext: Extents = (n) => (names.includes(n) ? ix.c(shape[names.indexOf(n)]!) : undefined);
      const idx = names.map((n, i) => (shape[i] === 1 ? ix.c(0) : ix.v(n)));
      const back = unflatten(simplify(flatten(idx, shape), ext), shape).map((e) => simplify(e, ext));
      expect(back.map(printIndex)).toEqual(idx.map(printIndex));
    }), { seed: 15, numRuns: 300 });
  });
});

describe('simplify: golden forms', () => {
  const s = (text: string): string => printIndex(simplify(parseIndex(text), extents));
  const cases: [string, string][] = [
    ['(i0*5 + i1) // 5', 'i0'],
    ['(i0*5 + i1) % 5', 'i1'],
    ['(4*i0 + i1) // 6', '(4*i0 + i1) // 6'], // reshape [3,4] -> [2,6]: no shortcut exists
    ['(12*i0 + 2*i1) // 4', '3*i0 + i1 // 2'],
    ['(2*i1 + 224*r0) % 223', '2*i1 + r0'], // a window of a padded image (conv lowering)
    ['((i0*20 + i1*4 + i2) // 4) % 5', 'i1'],
    ['(i1 % 4) // 2', '(i1 // 2) % 2'],
    ['((r0 // 2) // 3)', 'r0 // 6'],
    ['((i1 // 2) // 3)', '0'], // i1 < 5
    ['i2 - i2 + 3*i0 - i0', '2*i0'],
    ['(r0 + 3) // 3', 'r0 // 3 + 1'],
    ['(20*r0 + 5*i2 + i1) // 40', 'r0 // 2'], // a group index: (stride*g_and_c + low) // (stride*c)
    ['(20*r0 + 5*i2 + i1) % 40', 'i1 + 5*i2 + 20*(r0 % 2)'],
    ['(i0 + 3) // 3', '1'], // i0 < 3
  ];
  it.each(cases)('%s  →  %s', (input, want) => {
    expect(s(input)).toBe(want);
  });

  it('divides by a symbolic size when the remainder is a loop over that size', () => {
    const ext: Extents = (n) => (n === 'i1' ? ix.sym('N') : undefined);
    expect(printIndex(simplify(parseIndex('(i0*$N + i1) // $N'), ext))).toBe('i0');
    expect(printIndex(simplify(parseIndex('(i0*$N + i1) % $N'), ext))).toBe('i1');
  });
});
