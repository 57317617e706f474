// Symbolic dims as polynomials over symbols with integer coefficients: `N`, `N*128`, `2*N*T+1`. They let a
// model with a symbolic batch compile once: a Reshape to [N*T, 512] or a Concat of [N, 4] and [N, 4] along
// the batch keeps the symbol, and the interpreter evaluates the dim once the symbols are bound.
//
// A Dim is a number, or a string in this canonical form: terms joined by `+` (a negative coefficient is
// written `+-3*N`), each term a coefficient and symbols joined by `*`, sorted — so equal dims are equal
// strings.
import { fail } from './error.js';
import type { Dim } from './shape.js';

/** monomial key (sorted symbols joined by '*', '' for the constant) → coefficient */
type Poly = Map<string, number>;

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isPlainSymbol(d: Dim): d is string {
  return typeof d === 'string' && SYMBOL.test(d);
}

function parse(d: Dim): Poly {
  const p: Poly = new Map();
  if (typeof d === 'number') {
    if (d !== 0) p.set('', d);
    return p;
  }
  for (const term of d.split('+')) {
    let coef = 1;
    const syms: string[] = [];
    for (const f of term.split('*')) {
      const t = f.trim();
      if (/^-?\d+$/.test(t)) coef *= Number(t);
      else if (SYMBOL.test(t)) syms.push(t);
      else fail('E_TYPE', `'${d}' is not a dim expression`);
    }
    const key = syms.sort().join('*');
    p.set(key, (p.get(key) ?? 0) + coef);
  }
  for (const [k, c] of p) if (c === 0) p.delete(k);
  return p;
}

function format(p: Poly): Dim {
  const terms = [...p.entries()].filter(([, c]) => c !== 0).sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a.localeCompare(b)));
  if (terms.length === 0) return 0;
  if (terms.length === 1 && terms[0]![0] === '') return terms[0]![1];
  return terms.map(([k, c]) => (k === '' ? String(c) : c === 1 ? k : `${c}*${k}`)).join('+');
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const p = parse(a);
  for (const [k, c] of parse(b)) p.set(k, (p.get(k) ?? 0) + c);
  return format(p);
}

export const dimSub = (a: Dim, b: Dim): Dim => dimAdd(a, dimMul(b, -1));

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  const out: Poly = new Map();
  for (const [ka, ca] of parse(a)) {
    for (const [kb, cb] of parse(b)) {
      const key = [...(ka ? ka.split('*') : []), ...(kb ? kb.split('*') : [])].sort().join('*');
      out.set(key, (out.get(key) ?? 0) + ca * cb);
    }
  }
  return format(out);
}

/** Exact division, or undefined when the quotient is not a polynomial (or not an integer). */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  if (typeof b === 'number') {
    if (b === 0) return undefined;
    if (typeof a === 'number') return a % b === 0 ? a / b : undefined;
    const out: Poly = new Map();
    for (const [k, c] of parse(a)) {
      if (c % b !== 0) return undefined;
      out.set(k, c / b);
    }
    return format(out);
  }
  // A single-term divisor: divide each term's symbols and coefficient.
  const pb = parse(b);
  if (pb.size !== 1) return a === b ? 1 : undefined;
  const [[kb, cb]] = [...pb.entries()] as [[string, number]];
  const out: Poly = new Map();
  for (const [k, c] of parse(a)) {
    const syms = k ? k.split('*') : [];
    for (const s of kb.split('*')) {
      const i = syms.indexOf(s);
      if (i < 0) return undefined;
      syms.splice(i, 1);
    }
    if (c % cb !== 0) return undefined;
    out.set(syms.join('*'), c / cb);
  }
  return format(out);
}

export function dimProduct(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((p, d) => dimMul(p, d), 1);
}

/** The value of a dim once its symbols are known; undefined while one is not. */
export function evalDim(d: Dim, lookup: (sym: string) => number | undefined): number | undefined {
  if (typeof d === 'number') return d;
  if (SYMBOL.test(d)) return lookup(d);
  let total = 0;
  for (const [k, c] of parse(d)) {
    let v = c;
    for (const s of k ? k.split('*') : []) {
      const x = lookup(s);
      if (x === undefined) return undefined;
      v *= x;
    }
    total += v;
  }
  return total;
}
