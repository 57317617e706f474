// Splitting an axis the body divides: where a kernel reads `i1 // 128` or `i1 % 128` of an axis `i1 < 256`, the
// axis becomes two, `i1a < 2` and `i1b < 128` with i1 = 128*i1a + i1b, and the division disappears. A grouped
// convolution's output channel is such an axis (group, channel in group): split, its weights depend on both
// and its input only on the group, so it is a batched GEMM (src/kernel/gemm.ts). The iteration order of
// every axis is unchanged (i1a outer, i1b inner), so a split reduce axis sums in the same order.
//
//   kernel k3 (i1 < 256, i2 < 26) { … @t2[32448*(i1 // 128) + …] … }
// becomes
//   kernel k3 (i1a < 2, i1b < 128, i2 < 26) { … @t2[32448*i1a + …] … }
import { ix, simplify, substitute, type Extents, type IndexExpr } from '../../kernel/index-expr.js';
import type { Axis, Expr, LoopKernel, Stmt } from '../../kernel/kernel.js';

/** The kernel with every axis split that the body reads through `// c` or `% c` (c dividing its extent). */
export function splitAxes(k: LoopKernel): LoopKernel {
  let cur = k;
  for (let round = 0; round < 8; round++) {
    const next = splitOne(cur);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

function splitOne(k: LoopKernel): LoopKernel | undefined {
  const axes = new Map<string, Axis>();
  const splittable = new Set<string>();
  const collectAxes = (list: readonly Axis[], canSplit: boolean): void => {
    for (const a of list) {
      axes.set(a.name, a);
      if (canSplit && a.extent.kind === 'const') splittable.add(a.name);
    }
  };
  collectAxes(k.domain, true);
  walkStmts(k.body, (s) => {
    if (s.kind === 'loop') collectAxes(s.axes, true);
    if (s.kind === 'reduce') collectAxes(s.axes, s.combiner !== 'argmax' && s.combiner !== 'argmin');
  });
  // The first `axis // c` or `axis % c` with c a proper divisor of the axis's extent.
  let found: { name: string; c: number } | undefined;
  const look = (e: IndexExpr): void => {
    if (found) return;
    switch (e.kind) {
      case 'div': case 'mod': {
        if (e.a.kind === 'var' && e.b.kind === 'const' && splittable.has(e.a.name)) {
          const ext = (axes.get(e.a.name)!.extent as { value: number }).value;
          if (e.b.value > 1 && e.b.value < ext && ext % e.b.value === 0) found = { name: e.a.name, c: e.b.value };
        }
        look(e.a);
        look(e.b);
        break;
      }
      case 'add': e.terms.forEach(look); break;
      case 'mul': e.factors.forEach(look); break;
      default: break;
    }
  };
  forEachIndex(k.body, look);
  if (!found) return undefined;
  const { name, c } = found;
  const ext = (axes.get(name)!.extent as { value: number }).value;
  const fresh = (base: string): string => {
    let n = base;
    for (let i = 0; axes.has(n); i++) n = `${base}${i}`;
    return n;
  };
  const hi: Axis = { name: fresh(`${name}a`), extent: ix.c(ext / c) };
  axes.set(hi.name, hi);
  const lo: Axis = { name: fresh(`${name}b`), extent: ix.c(c) };
  axes.set(lo.name, lo);
  const extents: Extents = (n) => axes.get(n)?.extent;
  const map = new Map([[name, ix.add(ix.mul(ix.c(c), ix.v(hi.name)), ix.v(lo.name))]]);
  const rewrite = (e: IndexExpr): IndexExpr => simplify(substitute(e, map), extents);
  const replace = (list: readonly Axis[]): Axis[] => list.flatMap((a) => (a.name === name ? [hi, lo] : [a]));
  return { ...k, domain: replace(k.domain), body: mapStmts(k.body, rewrite, replace) };
}

function walkStmts(body: readonly Stmt[], f: (s: Stmt) => void): void {
  for (const s of body) {
    f(s);
    if (s.kind === 'reduce' || s.kind === 'loop') walkStmts(s.body, f);
  }
}

function forEachIndex(body: readonly Stmt[], f: (e: IndexExpr) => void): void {
  walkStmts(body, (s) => {
    if (s.kind === 'store') f(s.index);
    else if (s.kind === 'let') {
      const e = s.expr;
      if (e.op === 'load' || e.op === 'index') f(e.index);
      else if (e.op === 'inbounds') {
        f(e.index);
        f(e.extent);
      }
    }
  });
}

function mapStmts(body: readonly Stmt[], f: (e: IndexExpr) => IndexExpr, axes: (list: readonly Axis[]) => Axis[]): Stmt[] {
  const expr = (e: Expr): Expr => {
    switch (e.op) {
      case 'load': return { ...e, index: f(e.index) };
      case 'index': return { ...e, index: f(e.index) };
      case 'inbounds': return { ...e, index: f(e.index), extent: f(e.extent) };
      default: return e;
    }
  };
  return body.map((s): Stmt => {
    switch (s.kind) {
      case 'let': return { ...s, expr: expr(s.expr) };
      case 'store': return { ...s, index: f(s.index) };
      case 'reduce': return { ...s, axes: axes(s.axes), body: mapStmts(s.body, f, axes) };
      case 'loop': return { ...s, axes: axes(s.axes), body: mapStmts(s.body, f, axes) };
      default: return s;
    }
  });
}
