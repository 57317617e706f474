// Symbolic integer index expressions: how a kernel addresses a buffer. Affine terms in loop variables and
// size symbols, plus floor division and modulo by positive sizes, which is what makes reshape, permute,
// slice and broadcast free: each is a rewrite of the index, never a copy.
//
//   reshape [2,6] -> [3,4], element (i0, i1) of the result reads   (4*i0 + i1) // 6, (4*i0 + i1) % 6
//   the same through [2,6] -> [12] -> [2,6]                        i0, i1           (the simplifier)
//
// Atoms: constants, loop variables (`i0`, `r1`: extents known from the kernel), size symbols (`$N`, fixed
// when the program runs) and `%k`, an integer scalar of the kernel body (a data-dependent index, as gather
// reads). `simplify` puts an expression in a normal form: a sum of terms `c*atom*atom…` sorted by key, with
// floor-div and modulo pushed through the terms that divide evenly and dropped where the ranges of the loop
// variables prove them trivial. Division and modulo use floor semantics (Python's `//` and `%`).
import { fail } from '../ir/error.js';

export type IndexExpr =
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'sym'; readonly name: string }
  | { readonly kind: 'ref'; readonly id: number }
  | { readonly kind: 'add'; readonly terms: readonly IndexExpr[] }
  | { readonly kind: 'mul'; readonly factors: readonly IndexExpr[] }
  | { readonly kind: 'div'; readonly a: IndexExpr; readonly b: IndexExpr }
  | { readonly kind: 'mod'; readonly a: IndexExpr; readonly b: IndexExpr };

/** The extent of each loop variable (exclusive upper bound; its lower bound is 0), where known. */
export type Extents = (varName: string) => IndexExpr | undefined;

const NO_EXTENTS: Extents = () => undefined;

// ---- constructors (raw: they fold constants and flatten, `simplify` does the rest) ----

const ZERO: IndexExpr = { kind: 'const', value: 0 };
const ONE: IndexExpr = { kind: 'const', value: 1 };

export const ix = {
  c: (value: number): IndexExpr => (value === 0 ? ZERO : value === 1 ? ONE : { kind: 'const', value }),
  v: (name: string): IndexExpr => ({ kind: 'var', name }),
  sym: (name: string): IndexExpr => ({ kind: 'sym', name }),
  ref: (id: number): IndexExpr => ({ kind: 'ref', id }),
  add(...xs: IndexExpr[]): IndexExpr {
    const terms: IndexExpr[] = [];
    let k = 0;
    for (const x of xs) {
      if (x.kind === 'const') k += x.value;
      else if (x.kind === 'add') for (const t of x.terms) t.kind === 'const' ? (k += t.value) : terms.push(t);
      else terms.push(x);
    }
    if (k !== 0) terms.push(ix.c(k));
    return terms.length === 0 ? ZERO : terms.length === 1 ? terms[0]! : { kind: 'add', terms };
  },
  sub: (a: IndexExpr, b: IndexExpr): IndexExpr => ix.add(a, ix.mul(ix.c(-1), b)),
  mul(...xs: IndexExpr[]): IndexExpr {
    const factors: IndexExpr[] = [];
    let k = 1;
    for (const x of xs) {
      if (x.kind === 'const') k *= x.value;
      else if (x.kind === 'mul') for (const f of x.factors) f.kind === 'const' ? (k *= f.value) : factors.push(f);
      else factors.push(x);
    }
    if (k === 0) return ZERO;
    if (factors.length === 0) return ix.c(k);
    if (k !== 1) factors.unshift(ix.c(k));
    return factors.length === 1 ? factors[0]! : { kind: 'mul', factors };
  },
  div(a: IndexExpr, b: IndexExpr): IndexExpr {
    if (b.kind === 'const' && b.value === 1) return a;
    if (a.kind === 'const' && b.kind === 'const' && b.value > 0) return ix.c(Math.floor(a.value / b.value));
    return { kind: 'div', a, b };
  },
  mod(a: IndexExpr, b: IndexExpr): IndexExpr {
    if (b.kind === 'const' && b.value === 1) return ZERO;
    if (a.kind === 'const' && b.kind === 'const' && b.value > 0) return ix.c(floorMod(a.value, b.value));
    return { kind: 'mod', a, b };
  },
};

/** A size as an index expression: a number, a symbol name, or a polynomial of symbols as src/ir/dim-expr.ts
 * writes them (`2*N*T+1`, `N+-3`). */
export function dimExpr(d: number | string): IndexExpr {
  if (typeof d === 'number') return ix.c(d);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) return ix.sym(d);
  return ix.add(...d.split('+').map((term) => ix.mul(...term.split('*').map((f) => {
    const t = f.trim();
    return /^-?\d+$/.test(t) ? ix.c(Number(t)) : ix.sym(t);
  }))));
}

/** Row-major flat index of a multi-index into a shape (symbolic dims allowed). */
export function flatten(idx: readonly IndexExpr[], shape: readonly (number | string)[]): IndexExpr {
  let flat: IndexExpr = ZERO;
  for (let i = 0; i < shape.length; i++) flat = ix.add(ix.mul(flat, dimExpr(shape[i]!)), idx[i]!);
  return flat;
}

/** The multi-index of a row-major flat index into a shape. */
export function unflatten(flat: IndexExpr, shape: readonly (number | string)[]): IndexExpr[] {
  const out: IndexExpr[] = new Array<IndexExpr>(shape.length);
  let stride: IndexExpr = ONE;
  for (let i = shape.length - 1; i >= 0; i--) {
    const q = ix.div(flat, stride);
    out[i] = i === 0 ? q : ix.mod(q, dimExpr(shape[i]!));
    stride = ix.mul(stride, dimExpr(shape[i]!));
  }
  return out;
}

export const floorMod = (a: number, b: number): number => ((a % b) + b) % b;

// ---- queries ----

export const isConst = (e: IndexExpr, v?: number): e is { kind: 'const'; value: number } =>
  e.kind === 'const' && (v === undefined || e.value === v);

/** The loop variables an expression reads. */
export function varsOf(e: IndexExpr, out = new Set<string>()): Set<string> {
  switch (e.kind) {
    case 'var': out.add(e.name); break;
    case 'add': for (const t of e.terms) varsOf(t, out); break;
    case 'mul': for (const f of e.factors) varsOf(f, out); break;
    case 'div': case 'mod': varsOf(e.a, out); varsOf(e.b, out); break;
    default: break;
  }
  return out;
}

/** The body scalars (`%k`) an expression reads. */
export function refsOf(e: IndexExpr, out = new Set<number>()): Set<number> {
  switch (e.kind) {
    case 'ref': out.add(e.id); break;
    case 'add': for (const t of e.terms) refsOf(t, out); break;
    case 'mul': for (const f of e.factors) refsOf(f, out); break;
    case 'div': case 'mod': refsOf(e.a, out); refsOf(e.b, out); break;
    default: break;
  }
  return out;
}

/** The size symbols an expression reads. */
export function symsOf(e: IndexExpr, out = new Set<string>()): Set<string> {
  switch (e.kind) {
    case 'sym': out.add(e.name); break;
    case 'add': for (const t of e.terms) symsOf(t, out); break;
    case 'mul': for (const f of e.factors) symsOf(f, out); break;
    case 'div': case 'mod': symsOf(e.a, out); symsOf(e.b, out); break;
    default: break;
  }
  return out;
}

/** Replace loop variables (and, with `refs`, body scalars). */
export function substitute(e: IndexExpr, vars: ReadonlyMap<string, IndexExpr>, refs?: ReadonlyMap<number, IndexExpr>): IndexExpr {
  switch (e.kind) {
    case 'var': return vars.get(e.name) ?? e;
    case 'ref': return refs?.get(e.id) ?? e;
    case 'add': return ix.add(...e.terms.map((t) => substitute(t, vars, refs)));
    case 'mul': return ix.mul(...e.factors.map((f) => substitute(f, vars, refs)));
    case 'div': return ix.div(substitute(e.a, vars, refs), substitute(e.b, vars, refs));
    case 'mod': return ix.mod(substitute(e.a, vars, refs), substitute(e.b, vars, refs));
    default: return e;
  }
}

export interface IndexEnv {
  vars?: ReadonlyMap<string, number>;
  syms?: ReadonlyMap<string, number>;
  refs?: ReadonlyMap<number, number>;
}

/** The value of an expression (floor division and modulo). */
export function evalIndex(e: IndexExpr, env: IndexEnv): number {
  switch (e.kind) {
    case 'const': return e.value;
    case 'var': return env.vars?.get(e.name) ?? fail('E_RUNTIME', `index variable ${e.name} is not bound`);
    case 'sym': return env.syms?.get(e.name) ?? fail('E_RUNTIME', `size symbol ${e.name} is not bound`);
    case 'ref': return env.refs?.get(e.id) ?? fail('E_RUNTIME', `scalar %${e.id} is not bound`);
    case 'add': return e.terms.reduce((s, t) => s + evalIndex(t, env), 0);
    case 'mul': return e.factors.reduce((p, f) => p * evalIndex(f, env), 1) + 0; // never -0
    case 'div': {
      const b = evalIndex(e.b, env);
      if (b === 0) fail('E_RUNTIME', 'index division by zero');
      return Math.floor(evalIndex(e.a, env) / b);
    }
    case 'mod': {
      const b = evalIndex(e.b, env);
      if (b === 0) fail('E_RUNTIME', 'index modulo by zero');
      return floorMod(evalIndex(e.a, env), b);
    }
  }
}

// ---- printing: `6*i0 + i1 - 2`, `(4*i0 + i1) // 6`, `i1 % 4`, `$N*i0`, `%3` ----

const keyCache = new WeakMap<IndexExpr, string>();

/** The expression as text (also its identity: two expressions print alike iff they are equal). */
export function printIndex(e: IndexExpr): string {
  const hit = keyCache.get(e);
  if (hit !== undefined) return hit;
  const s = printPrec(e, 0);
  keyCache.set(e, s);
  return s;
}

const SYM_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const printSym = (name: string): string => `$${SYM_IDENT.test(name) ? name : JSON.stringify(name)}`;

// Precedence: 0 = sum, 1 = product / floordiv / mod operand, 2 = atom.
function printPrec(e: IndexExpr, prec: number): string {
  const wrap = (s: string, p: number): string => (p < prec ? `(${s})` : s);
  switch (e.kind) {
    case 'const': return e.value < 0 && prec > 0 ? `(${e.value})` : String(e.value);
    case 'var': return e.name;
    case 'sym': return printSym(e.name);
    case 'ref': return `%${e.id}`;
    case 'add': {
      let s = '';
      e.terms.forEach((t, i) => {
        const neg = negated(t);
        if (i === 0) s = printPrec(t, 0);
        else if (neg) s += ` - ${printPrec(neg, 1)}`;
        else s += ` + ${printPrec(t, 1)}`;
      });
      return wrap(s, 0);
    }
    case 'mul': {
      // Operands of a product that are themselves // or % are parenthesized: `3*(i0 // 2)`.
      const s = e.factors.map((f, i) => (i > 0 && (f.kind === 'div' || f.kind === 'mod') ? `(${printPrec(f, 0)})` : printPrec(f, 1))).join('*');
      return wrap(s, 1);
    }
    case 'div': case 'mod': {
      const a = e.a.kind === 'mul' ? printPrec(e.a, 1) : printPrec(e.a, 2);
      return wrap(`${a} ${e.kind === 'div' ? '//' : '%'} ${printPrec(e.b, 2)}`, 1);
    }
  }
}

/** For a term printed after `-`: the term without its negative sign, if it has one. */
function negated(t: IndexExpr): IndexExpr | undefined {
  if (t.kind === 'const' && t.value < 0) return ix.c(-t.value);
  if (t.kind === 'mul' && t.factors[0]!.kind === 'const' && t.factors[0].value < 0) {
    const k = -t.factors[0].value;
    const rest = t.factors.slice(1);
    return k === 1 ? (rest.length === 1 ? rest[0]! : { kind: 'mul', factors: rest }) : { kind: 'mul', factors: [ix.c(k), ...rest] };
  }
  return undefined;
}

/** Structural equality. */
export const sameIndex = (a: IndexExpr, b: IndexExpr): boolean => a === b || printIndex(a) === printIndex(b);

// ---- ranges ----

/** Inclusive bounds; ±Infinity where unknown. */
export interface Range {
  readonly lo: number;
  readonly hi: number;
}

const FULL: Range = { lo: -Infinity, hi: Infinity };

const mulBound = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b);

/** Bounds of an expression given the extents of the loop variables (symbols are sizes: >= 0). */
export function rangeOf(e: IndexExpr, extents: Extents = NO_EXTENTS): Range {
  switch (e.kind) {
    case 'const': return { lo: e.value, hi: e.value };
    case 'var': {
      const ext = extents(e.name);
      if (ext && ext.kind === 'const') return { lo: 0, hi: Math.max(0, ext.value - 1) };
      return { lo: 0, hi: Infinity };
    }
    case 'sym': return { lo: 0, hi: Infinity };
    case 'ref': return FULL;
    case 'add': {
      let lo = 0;
      let hi = 0;
      for (const t of e.terms) {
        const r = rangeOf(t, extents);
        lo += r.lo;
        hi += r.hi;
      }
      return { lo: Number.isNaN(lo) ? -Infinity : lo, hi: Number.isNaN(hi) ? Infinity : hi };
    }
    case 'mul': {
      let r: Range = { lo: 1, hi: 1 };
      for (const f of e.factors) {
        const x = rangeOf(f, extents);
        const c = [mulBound(r.lo, x.lo), mulBound(r.lo, x.hi), mulBound(r.hi, x.lo), mulBound(r.hi, x.hi)];
        r = { lo: Math.min(...c), hi: Math.max(...c) };
      }
      return r;
    }
    case 'div': {
      const a = rangeOf(e.a, extents);
      if (e.b.kind === 'const' && e.b.value > 0) return { lo: Math.floor(a.lo / e.b.value), hi: Math.floor(a.hi / e.b.value) };
      return a.lo >= 0 ? { lo: 0, hi: a.hi } : FULL;
    }
    case 'mod': {
      if (e.b.kind === 'const' && e.b.value > 0) {
        const a = rangeOf(e.a, extents);
        if (a.lo >= 0 && a.hi < e.b.value) return a;
        return { lo: 0, hi: e.b.value - 1 };
      }
      const a = rangeOf(e.a, extents);
      return a.lo >= 0 ? { lo: 0, hi: a.hi } : { lo: 0, hi: Infinity };
    }
  }
}

// ---- the simplifier ----

/** A sum of monomials `coeff * atom * atom …` plus a constant. Atoms are var, sym, ref, div, mod. */
interface Term {
  coeff: number;
  readonly atoms: readonly IndexExpr[];
}

class Poly {
  readonly terms = new Map<string, Term>();
  konst = 0;

  static of(k: number): Poly {
    const p = new Poly();
    p.konst = k;
    return p;
  }

  static atom(a: IndexExpr): Poly {
    const p = new Poly();
    p.addTerm(1, [a]);
    return p;
  }

  addTerm(coeff: number, atoms: readonly IndexExpr[]): void {
    if (coeff === 0) return;
    if (atoms.length === 0) {
      this.konst += coeff;
      return;
    }
    const key = atoms.map(printIndex).join('*');
    const t = this.terms.get(key);
    if (t) {
      t.coeff += coeff;
      if (t.coeff === 0) this.terms.delete(key);
    } else this.terms.set(key, { coeff, atoms });
  }

  addPoly(p: Poly, scale = 1): void {
    for (const t of p.terms.values()) this.addTerm(t.coeff * scale, t.atoms);
    this.konst += p.konst * scale;
  }

  mulPoly(p: Poly): Poly {
    const out = new Poly();
    out.konst = this.konst * p.konst;
    for (const t of this.terms.values()) {
      if (p.konst !== 0) out.addTerm(t.coeff * p.konst, t.atoms);
      for (const u of p.terms.values()) out.addTerm(t.coeff * u.coeff, sortAtoms([...t.atoms, ...u.atoms]));
    }
    if (this.konst !== 0) for (const u of p.terms.values()) out.addTerm(u.coeff * this.konst, u.atoms);
    return out;
  }

  isConst(): boolean {
    return this.terms.size === 0;
  }

  clone(): Poly {
    const p = new Poly();
    for (const [k, t] of this.terms) p.terms.set(k, { coeff: t.coeff, atoms: t.atoms });
    p.konst = this.konst;
    return p;
  }

  /** The single atom this polynomial is (coefficient 1, no constant), if it is one. */
  soleAtom(): IndexExpr | undefined {
    if (this.konst !== 0 || this.terms.size !== 1) return undefined;
    const t = [...this.terms.values()][0]!;
    return t.coeff === 1 && t.atoms.length === 1 ? t.atoms[0] : undefined;
  }

  toExpr(): IndexExpr {
    const keys = [...this.terms.keys()].sort();
    const parts: IndexExpr[] = keys.map((k) => {
      const t = this.terms.get(k)!;
      const atoms = t.atoms;
      if (t.coeff === 1) return atoms.length === 1 ? atoms[0]! : { kind: 'mul', factors: atoms };
      return { kind: 'mul', factors: [ix.c(t.coeff), ...atoms] };
    });
    if (this.konst !== 0 || parts.length === 0) parts.push(ix.c(this.konst));
    return parts.length === 1 ? parts[0]! : { kind: 'add', terms: parts };
  }
}

const sortAtoms = (atoms: IndexExpr[]): IndexExpr[] => atoms.sort((a, b) => (printIndex(a) < printIndex(b) ? -1 : printIndex(a) > printIndex(b) ? 1 : 0));

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Per extents: the polynomial of each expression `simplify` returned (simplifying it again changes
 * nothing), and the range of each atom. A kernel emitter keeps one extents function, so these live as
 * long as it does. */
interface SimplifierCache {
  readonly polys: WeakMap<IndexExpr, Poly>;
  readonly ranges: WeakMap<IndexExpr, Range>;
}
const caches = new WeakMap<Extents, SimplifierCache>();

/** An expression in normal form: equal expressions (for the loop ranges given) tend to print alike. */
export function simplify(e: IndexExpr, extents: Extents = NO_EXTENTS): IndexExpr {
  if (e.kind === 'const' || e.kind === 'var' || e.kind === 'sym' || e.kind === 'ref') return e;
  let cache = caches.get(extents);
  if (!cache) caches.set(extents, (cache = { polys: new WeakMap(), ranges: new WeakMap() }));
  if (cache.polys.has(e)) return e;
  const p = new Simplifier(extents, cache).poly(e);
  const out = p.toExpr();
  cache.polys.set(out, p);
  return out;
}

class Simplifier {
  constructor(private readonly extents: Extents, private readonly cache: SimplifierCache) {}

  poly(e: IndexExpr): Poly {
    const hit = this.cache.polys.get(e);
    if (hit) return hit.clone();
    switch (e.kind) {
      case 'const': return Poly.of(e.value);
      case 'var': case 'sym': case 'ref': return Poly.atom(e);
      case 'add': {
        const p = new Poly();
        for (const t of e.terms) p.addPoly(this.poly(t));
        return p;
      }
      case 'mul': {
        let p = Poly.of(1);
        for (const f of e.factors) p = p.mulPoly(this.poly(f));
        return p;
      }
      case 'div': return this.div(this.poly(e.a), this.poly(e.b));
      case 'mod': return this.mod(this.poly(e.a), this.poly(e.b));
    }
  }

  private range(p: Poly): Range {
    let lo = p.konst;
    let hi = p.konst;
    for (const t of p.terms.values()) {
      let rlo = t.coeff;
      let rhi = t.coeff;
      for (const a of t.atoms) {
        let x = this.cache.ranges.get(a);
        if (!x) this.cache.ranges.set(a, (x = rangeOf(a, this.extents)));
        const c0 = mulBound(rlo, x.lo);
        const c1 = mulBound(rlo, x.hi);
        const c2 = mulBound(rhi, x.lo);
        const c3 = mulBound(rhi, x.hi);
        rlo = Math.min(c0, c1, c2, c3);
        rhi = Math.max(c0, c1, c2, c3);
      }
      lo += rlo;
      hi += rhi;
    }
    return { lo: Number.isNaN(lo) ? -Infinity : lo, hi: Number.isNaN(hi) ? Infinity : hi };
  }

  /** Floor division. */
  div(a: Poly, b: Poly): Poly {
    if (b.isConst()) {
      const c = b.konst;
      if (c <= 0) return Poly.atom({ kind: 'div', a: a.toExpr(), b: b.toExpr() }); // never made by aic; kept as written
      if (c === 1) return a;
      if (a.isConst()) return Poly.of(Math.floor(a.konst / c));
      // (c*Q + R) // c = Q + R // c: terms whose coefficient c divides leave the division.
      const q = new Poly();
      const r = new Poly();
      for (const t of a.terms.values()) {
        // k*x = c*trunc(k/c)*x + (k mod c)*x: the first part leaves the division.
        const k = Math.trunc(t.coeff / c);
        if (k !== 0) q.addTerm(k, t.atoms);
        if (t.coeff - k * c !== 0) r.addTerm(t.coeff - k * c, t.atoms);
      }
      const qk = Math.floor(a.konst / c);
      q.konst = qk;
      r.konst = a.konst - qk * c;
      if (r.isConst()) return q; // 0 <= r.konst < c
      let d = c;
      // (g*x) // (g*d) = x // d
      const g = [...r.terms.values()].reduce((acc, t) => gcd(acc, t.coeff), gcd(r.konst, d));
      if (g > 1) {
        const scaled = new Poly();
        for (const t of r.terms.values()) scaled.addTerm(t.coeff / g, t.atoms);
        scaled.konst = r.konst / g;
        d /= g;
        return this.withQuotient(q, this.divRest(scaled, d));
      }
      return this.withQuotient(q, this.divRest(r, d));
    }
    if (a.isConst() && a.konst === 0) return Poly.of(0);
    // A symbolic divisor: terms that hold it as a factor leave the division; the rest vanishes when it is
    // provably in [0, b) (a loop variable whose extent is b).
    const bAtoms = b.soleAtom() ? [b.soleAtom()!] : undefined;
    if (bAtoms) {
      const { q, r } = splitByFactor(a, bAtoms[0]!);
      if (q.terms.size > 0 || q.konst !== 0) {
        if (this.provablyBelow(r, b)) return q;
      } else if (this.provablyBelow(r, b)) return Poly.of(0);
    }
    return Poly.atom({ kind: 'div', a: a.toExpr(), b: b.toExpr() });
  }

  private withQuotient(q: Poly, rest: Poly): Poly {
    q.addPoly(rest);
    return q;
  }

  /** r // d for r with no term divisible by d (d > 1). */
  private divRest(r: Poly, d: number): Poly {
    if (d === 1) return r;
    const rr = this.range(r);
    if (Number.isFinite(rr.lo) && Number.isFinite(rr.hi) && Math.floor(rr.lo / d) === Math.floor(rr.hi / d)) return Poly.of(Math.floor(rr.lo / d));
    const atom = r.soleAtom();
    if (atom?.kind === 'div' && atom.b.kind === 'const' && atom.b.value > 0) {
      return this.div(this.poly(atom.a), Poly.of(atom.b.value * d)); // (x // c1) // d = x // (c1*d)
    }
    if (atom?.kind === 'mod' && atom.b.kind === 'const' && atom.b.value % d === 0) {
      // (x % (d*m)) // d = (x // d) % m
      return this.mod(this.div(this.poly(atom.a), Poly.of(d)), Poly.of(atom.b.value / d));
    }
    const split = this.splitBelow(r, d);
    if (split) return this.div(split.x, Poly.of(d / split.k)); // (k*x + low) // (k*m) = x // m
    return Poly.atom({ kind: 'div', a: r.toExpr(), b: ix.c(d) });
  }

  /** r = k*x + low with k dividing d (k > 1) and 0 <= low < k, for the largest such k (a flattened index
   * whose inner part is below the stride: (676*i1 + 26*i2 + i3) with i2 < 26, i3 < 26 is 676*i1 + low). */
  private splitBelow(r: Poly, d: number): { k: number; x: Poly; low: Poly } | undefined {
    const ks = [...new Set([...r.terms.values()].map((t) => Math.abs(t.coeff)))].filter((k) => k > 1 && d % k === 0).sort((a, b) => b - a);
    for (const k of ks) {
      const x = new Poly();
      const low = new Poly();
      for (const t of r.terms.values()) {
        if (t.coeff % k === 0) x.addTerm(t.coeff / k, t.atoms);
        else low.addTerm(t.coeff, t.atoms);
      }
      low.konst = r.konst;
      const lr = this.range(low);
      if (lr.lo >= 0 && lr.hi < k) return { k, x, low };
    }
    return undefined;
  }

  /** Floor modulo. */
  mod(a: Poly, b: Poly): Poly {
    if (b.isConst()) {
      const c = b.konst;
      if (c <= 0) return Poly.atom({ kind: 'mod', a: a.toExpr(), b: b.toExpr() });
      if (c === 1) return Poly.of(0);
      if (a.isConst()) return Poly.of(floorMod(a.konst, c));
      const r = new Poly();
      for (const t of a.terms.values()) {
        const rest = t.coeff - Math.trunc(t.coeff / c) * c; // (c*k*x + r*x) % c = (r*x) % c
        if (rest !== 0) r.addTerm(rest, t.atoms);
      }
      r.konst = floorMod(a.konst, c);
      if (r.isConst()) return Poly.of(r.konst);
      const g = [...r.terms.values()].reduce((acc, t) => gcd(acc, t.coeff), gcd(r.konst, c));
      if (g > 1) {
        // (g*x) % (g*d) = g * (x % d)
        const scaled = new Poly();
        for (const t of r.terms.values()) scaled.addTerm(t.coeff / g, t.atoms);
        scaled.konst = r.konst / g;
        const m = this.modRest(scaled, c / g);
        const out = new Poly();
        out.addPoly(m, g);
        return out;
      }
      return this.modRest(r, c);
    }
    if (a.isConst() && a.konst === 0) return Poly.of(0);
    const bAtom = b.soleAtom();
    if (bAtom) {
      const { r } = splitByFactor(a, bAtom);
      if (this.provablyBelow(r, b)) return r;
      return Poly.atom({ kind: 'mod', a: r.toExpr(), b: b.toExpr() });
    }
    return Poly.atom({ kind: 'mod', a: a.toExpr(), b: b.toExpr() });
  }

  private modRest(r: Poly, d: number): Poly {
    if (d === 1) return Poly.of(0);
    const rr = this.range(r);
    if (Number.isFinite(rr.lo) && Number.isFinite(rr.hi) && Math.floor(rr.lo / d) === Math.floor(rr.hi / d)) {
      const out = new Poly();
      out.addPoly(r);
      out.konst -= Math.floor(rr.lo / d) * d;
      return out;
    }
    const atom = r.soleAtom();
    if (atom?.kind === 'mod' && atom.b.kind === 'const' && atom.b.value % d === 0) return this.mod(this.poly(atom.a), Poly.of(d));
    const split = this.splitBelow(r, d);
    if (split) {
      // (k*x + low) % (k*m) = k*(x % m) + low
      const out = new Poly();
      out.addPoly(this.mod(split.x, Poly.of(d / split.k)), split.k);
      out.addPoly(split.low);
      return out;
    }
    return Poly.atom({ kind: 'mod', a: r.toExpr(), b: ix.c(d) });
  }

  /** 0 <= r < b, for a symbolic b: r is 0, or a loop variable whose extent is b. */
  private provablyBelow(r: Poly, b: Poly): boolean {
    if (r.isConst()) return r.konst === 0;
    const atom = r.soleAtom();
    if (atom?.kind !== 'var') return false;
    const ext = this.extents(atom.name);
    return ext !== undefined && printIndex(ext) === printIndex(b.toExpr());
  }
}

/** Split a polynomial into q*factor + r, where r's terms do not hold `factor`. */
function splitByFactor(a: Poly, factor: IndexExpr): { q: Poly; r: Poly } {
  const key = printIndex(factor);
  const q = new Poly();
  const r = new Poly();
  for (const t of a.terms.values()) {
    const i = t.atoms.findIndex((x) => printIndex(x) === key);
    if (i >= 0) q.addTerm(t.coeff, t.atoms.filter((_, j) => j !== i));
    else r.addTerm(t.coeff, t.atoms);
  }
  r.konst = a.konst;
  return { q, r };
}
