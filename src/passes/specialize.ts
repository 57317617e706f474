// A Program with symbolic sizes made static for given values of its symbols: every buffer shape and every
// index expression gets the numbers, and temps that were `dynamic` are planned into the arena. A backend
// that renders static shapes (WGSL) compiles a model with a symbolic batch once per set of input shapes.
//
//   buffer @in0: f32[N,3] input      kernel k0 (i0 < $N, i1 < 3) { … @in0[3*i0 + i1] … }
// with N = 2 becomes
//   buffer @in0: f32[2,3] input      kernel k0 (i0 < 2, i1 < 3) { … @in0[3*i0 + i1] … }
import { fail } from '../ir/error.js';
import { evalDim, isPlainSymbol } from '../ir/dim-expr.js';
import { formatShape, type Dim } from '../ir/shape.js';
import { planMemory } from './memory-plan.js';
import { ix, type IndexExpr } from '../kernel/index-expr.js';
import type { Axis, Expr, Kernel, Stmt } from '../kernel/kernel.js';
import type { Program } from '../kernel/program.js';

/** The symbols a Program's buffers use. */
export function programSymbols(p: Program): string[] {
  const out = new Set<string>();
  for (const b of p.buffers) for (const d of b.shape) if (typeof d === 'string') for (const s of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) out.add(s);
  return [...out];
}

/** Values of the symbols from the shapes of the inputs (in the order of p.inputs). */
export function bindSymbols(p: Program, shapes: readonly (readonly number[])[]): Map<string, number> {
  const sizes = new Map<string, number>();
  p.inputs.forEach((name, i) => {
    const b = p.buffers.find((x) => x.name === name)!;
    const s = shapes[i] ?? fail('E_RUNTIME', `program @${p.name}: no input ${i}`);
    if (s.length !== b.shape.length) fail('E_RUNTIME', `input ${i} (@${name}): expected rank ${b.shape.length}, got ${formatShape(s)}`);
    b.shape.forEach((d, k) => {
      if (!isPlainSymbol(d)) return;
      const have = sizes.get(d);
      if (have !== undefined && have !== s[k]) fail('E_RUNTIME', `input ${i} (@${name}): dim ${d} is ${s[k]} here but ${have} elsewhere`);
      sizes.set(d, s[k]!);
    });
  });
  return sizes;
}

/** The Program with every symbol replaced by its value, its temps planned again. */
export function specializeProgram(p: Program, sizes: ReadonlyMap<string, number>): Program {
  const dim = (d: Dim, where: string): number =>
    evalDim(d, (s) => sizes.get(s)) ?? fail('E_UNSUPPORTED', `${where}: the size ${d} is not known before the program runs (it depends on data)`);
  const buffers = p.buffers.map((b) => {
    const shape = b.shape.map((d) => dim(d, `buffer @${b.name}`));
    if (b.role !== 'temp') return { ...b, shape };
    const { offset: _drop, ...rest } = b;
    return { ...rest, shape };
  });
  const idx = (e: IndexExpr): IndexExpr => {
    switch (e.kind) {
      case 'sym': return ix.c(sizes.get(e.name) ?? fail('E_UNSUPPORTED', `program @${p.name}: size symbol ${e.name} has no value`));
      case 'add': return ix.add(...e.terms.map(idx));
      case 'mul': return ix.mul(...e.factors.map(idx));
      case 'div': return ix.div(idx(e.a), idx(e.b));
      case 'mod': return ix.mod(idx(e.a), idx(e.b));
      default: return e;
    }
  };
  const axes = (a: readonly Axis[]): Axis[] => a.map((x) => ({ name: x.name, extent: idx(x.extent) }));
  const expr = (e: Expr): Expr => {
    switch (e.op) {
      case 'load': return { ...e, index: idx(e.index) };
      case 'index': return { ...e, index: idx(e.index) };
      case 'inbounds': return { ...e, index: idx(e.index), extent: idx(e.extent) };
      default: return e;
    }
  };
  const body = (stmts: readonly Stmt[]): Stmt[] => stmts.map((s): Stmt => {
    switch (s.kind) {
      case 'let': return { ...s, expr: expr(s.expr) };
      case 'reduce': return { ...s, axes: axes(s.axes), body: body(s.body) };
      case 'loop': return { ...s, axes: axes(s.axes), body: body(s.body) };
      case 'store': return { ...s, index: idx(s.index) };
      default: return s;
    }
  });
  const kernels = p.kernels.map((k): Kernel => (k.kind === 'extern' ? k : { ...k, domain: axes(k.domain), body: body(k.body) }));
  return planMemory({ ...p, buffers, kernels, arenaBytes: 0 }).program;
}
