// Symbolic shape values: what an integer vector computed from shapes holds, as dims. A model with a
// symbolic batch computes its Reshape targets at run time (x.view(x.size(0), -1) exports as
// Shape→Gather→Unsqueeze→Concat); following that arithmetic back to prim.shape gives [N, -1], which a
// rule can use as a shape with the symbol kept. At import the producers are onnx.* nodes: the chain is
// lowered into a scratch graph first (only integer vectors are followed, so a Shape's data operand,
// however large its producer, is read for its type alone).
import { AicError } from '../../../ir/error.js';
import { GraphBuilder, constantOf } from '../../../ir/builder.js';
import { dimAdd, dimDiv, dimMul, dimSub } from '../../../ir/dim-expr.js';
import { DTYPE_INFO } from '../../../ir/dtype.js';
import { Graph, Node, subgraphsOf, type Value } from '../../../ir/graph.js';
import { sliceAxis } from '../../../ir/prims/movement.js';
import type { Dim } from '../../../ir/shape.js';
import { LowerContext } from '../context.js';
import { domainOfDialect } from '../lower-graph.js';
import { findOnnxOp } from '../registry.js';

/**
 * A shape operand whose entries may be symbolic dims: a constant, or shape arithmetic that reads a
 * symbolic shape (x.view(x.size(0), -1) exports as Shape→Gather→Unsqueeze→Concat). Anything else
 * must be a constant, with requireConstant's error.
 */
export function symbolicShapeOperand(ctx: LowerContext, i: number, what: string): Dim[] {
  const v = ctx.input(i);
  if (v && !ctx.constant(i)) {
    const traced = traceInts(v);
    if (traced) return traced;
  }
  const t = ctx.requireConstant(i, what);
  if (t.rank > 1) ctx.fail(`${what} must be 1-D, has shape [${t.shape.join(',')}]`);
  return t.toNumbers();
}

/** Integer vectors small enough to be shapes: what the tracer follows. */
const isShapeLike = (v: Value): boolean =>
  (DTYPE_INFO[v.dtype].kind === 'int' || DTYPE_INFO[v.dtype].kind === 'uint') && v.shape.length <= 1 &&
  v.shape.every((d) => typeof d === 'number' && d <= 64);

/** The elements of an integer vector (or scalar) as dims, following prim.shape through movement and
 * integer arithmetic prims; an onnx.* producer (at import) is lowered into a scratch graph first. With
 * `opaque`, a run-time value the trace cannot see through is a fresh symbol `_v<id>_<k>`, so that
 * differences such as (i + 1) - i still come out as numbers (never used as a shape). */
export function traceInts(v: Value, opaque = false, depth = 0): Dim[] | undefined {
  if (depth > 64 || !isShapeLike(v)) return undefined;
  const c = constantOf(v);
  if (c) return c.toNumbers();
  const traced = traceProducer(v, opaque, depth);
  if (traced || !opaque) return traced;
  const n = v.shape.length === 0 ? 1 : (v.shape[0] as number);
  return [...Array(n).keys()].map((k) => `_v${v.id}_${k}`);
}

function traceProducer(v: Value, opaque: boolean, depth: number): Dim[] | undefined {
  const p = v.producer;
  if (!p) return undefined;
  if (p.dialect !== 'prim') {
    const lowered = relower(v, new GraphBuilder(new Graph('trace'), { fold: true }), new Map());
    return lowered && lowered !== v ? traceInts(lowered, opaque, depth + 1) : undefined;
  }
  const arg = (k: number): Dim[] | undefined => {
    const x = p.inputs[k];
    return x ? traceInts(x, opaque, depth + 1) : undefined;
  };
  switch (p.op) {
    case 'prim.shape':
      return [...p.input(0).shape];
    case 'prim.reshape':
    case 'prim.cast':
      return arg(0);
    case 'prim.concat':
      return p.inputs.reduce<Dim[] | undefined>((acc, _, k) => {
        const x = arg(k);
        return acc && x ? [...acc, ...x] : undefined;
      }, []);
    case 'prim.slice': {
      const x = arg(0);
      if (!x || p.input(0).shape.length !== 1) return undefined;
      const { start, len } = sliceAxis(x.length, p.ints('starts')[0]!, p.ints('stops')[0]!, p.ints('steps')[0]!);
      return [...Array(len).keys()].map((k) => x[start + k * p.ints('steps')[0]!]!);
    }
    case 'prim.add':
    case 'prim.sub':
    case 'prim.mul':
    case 'prim.div': {
      const x = arg(0);
      const y = arg(1);
      if (!x || !y || (x.length !== y.length && x.length !== 1 && y.length !== 1)) return undefined;
      const f = { 'prim.add': dimAdd, 'prim.sub': dimSub, 'prim.mul': dimMul, 'prim.div': dimDiv }[p.op]!;
      const r = [...Array(Math.max(x.length, y.length)).keys()].map((k) => f(x[x.length === 1 ? 0 : k]!, y[y.length === 1 ? 0 : k]!));
      return r.every((d) => d !== undefined) ? (r as Dim[]) : undefined;
    }
    case 'prim.gather': {
      const x = arg(0);
      const idx = arg(1);
      if (!x || !idx || p.input(0).shape.length !== 1 || idx.some((j) => typeof j !== 'number')) return undefined;
      const picked = (idx as number[]).map((j) => x[j < 0 ? j + x.length : j]);
      return picked.every((d) => d !== undefined) ? (picked as Dim[]) : undefined;
    }
    default:
      return undefined;
  }
}

/** An onnx-dialect shape computation re-lowered to prims (inputs that are not shape-like stay as they
 * are: a Shape rule reads only its operand's type). Undefined where a rule cannot run here. */
function relower(v: Value, b: GraphBuilder, memo: Map<Value, Value>): Value | undefined {
  const known = memo.get(v);
  if (known) return known;
  const p = v.producer;
  if (!p || p.dialect === 'prim' || !isShapeLike(v)) return v;
  if (subgraphsOf(p).length > 0 || !p.has('opset')) return undefined;
  const rule = findOnnxOp(domainOfDialect(p.dialect), p.opName, p.int('opset'));
  if (!rule) return undefined;
  const inputs: (Value | null)[] = [];
  for (const x of p.inputs) {
    const y = x ? relower(x, b, memo) : null;
    if (y === undefined) return undefined;
    inputs.push(y);
  }
  const ctx = new LowerContext(b, new Node(p.op, inputs, [], p.attrs, p.origin), p.int('opset'), p.outputs.length, (g) => g);
  let results: (Value | null)[];
  try {
    results = rule.lower(ctx);
  } catch (e) {
    if (e instanceof AicError) return undefined;
    throw e;
  }
  p.outputs.forEach((o, k) => {
    const r = results[k];
    if (r) memo.set(o, r);
  });
  return memo.get(v);
}
