// ONNX pointwise math: unary and binary ops that map to one prim (or a short formula), comparisons,
// logic, Where, Cast. Rules are table rows where they can be: `Add` is `prim.add`, nothing more.
import type { Value } from '../../../ir/graph.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps, type OnnxOp } from '../registry.js';

/** An ONNX op that is exactly one unary prim. */
const unary = (type: string, prim: string, since = 1): OnnxOp => ({
  type, since, lower: (ctx) => [ctx.b.unary(prim, ctx.arg(0))],
});

/** An ONNX op that is exactly one broadcasting binary prim. */
const binary = (type: string, prim: string, since = 1): OnnxOp => ({
  type, since, lower: (ctx) => [ctx.b.binary(prim, ctx.arg(0), ctx.arg(1))],
});

/** A rule written as a formula over the builder. */
const formula = (type: string, since: number, f: (ctx: LowerContext, x: Value) => Value): OnnxOp => ({
  type, since, lower: (ctx) => [f(ctx, ctx.arg(0))],
});

defineOnnxOps(
  unary('Neg', 'neg'),
  unary('Abs', 'abs'),
  unary('Exp', 'exp'),
  unary('Log', 'log'),
  unary('Sqrt', 'sqrt'),
  unary('Reciprocal', 'recip'),
  unary('Tanh', 'tanh'),
  unary('Erf', 'erf'),
  unary('Floor', 'floor'),
  unary('Ceil', 'ceil'),
  binary('Add', 'add'),
  binary('Sub', 'sub'),
  binary('Mul', 'mul'),
  binary('Div', 'div'),
  formula('Relu', 1, (ctx, x) => ctx.b.max(x, ctx.b.like(x, 0))),
  formula('Sigmoid', 1, (ctx, x) => ctx.b.recip(ctx.b.add(ctx.b.like(x, 1), ctx.b.exp(ctx.b.neg(x))))),
  formula('Identity', 1, (_ctx, x) => x),
);
