// A builder, so that a test, a lowering rule or a user writes a graph in a few lines:
//
//   const b = new GraphBuilder('softmax');
//   const x = b.input('x', 'f32', [2, 8]);
//   const e = b.exp(b.sub(x, b.reduce('max', x, [1], true)));
//   b.output(b.div(e, b.reduce('sum', e, [1], true)), 'y');
//   const g = b.build();
//
// Every node's result types are inferred as it is created, so a type error surfaces at the line that
// made it. With `fold`, ops whose operands are all constants are evaluated on the spot (lowering uses
// this so shape arithmetic such as Shape→Gather→Concat becomes constants).
import type { DType } from './dtype.js';
import type { Attrs } from './attr.js';
import { A } from './attr.js';
import { Graph, Node, Value, subgraphsOf, type TensorType } from './graph.js';
import { getOp } from './op.js';
import { fail } from './error.js';
import { isStatic, numel, type Dim, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import './prims/index.js';

/** Create a node with inferred result types (`declared` gives the target type of reshape-like ops). */
export function createNode(op: string, inputs: (Value | null)[], attrs: Attrs = {}, declared?: readonly TensorType[], origin?: string): Node {
  const def = getOp(op);
  if (inputs.length < def.arity.min || inputs.length > def.arity.max) {
    fail('E_TYPE', `${op}: takes ${def.arity.min === def.arity.max ? def.arity.min : `${def.arity.min} to ${def.arity.max}`} operands, got ${inputs.length}`);
  }
  const probe = new Node(op, inputs, declared ?? [], attrs, origin);
  const types = def.infer(probe, inputs.map((v) => v?.type ?? null));
  return new Node(op, inputs, types, attrs, origin);
}

export interface BuilderOptions {
  /** Evaluate ops whose operands are all constants (results up to `foldLimit` elements). */
  fold?: boolean;
  foldLimit?: number;
  /** Recorded on every node made (the ONNX node being lowered). */
  origin?: string;
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly nodes: Node[];
  fold: boolean;
  foldLimit: number;
  origin: string | undefined;

  constructor(nameOrGraph: string | Graph = 'main', opts: BuilderOptions = {}) {
    this.graph = typeof nameOrGraph === 'string' ? new Graph(nameOrGraph) : nameOrGraph;
    this.nodes = this.graph.nodes;
    this.fold = opts.fold ?? false;
    this.foldLimit = opts.foldLimit ?? 1 << 16;
    this.origin = opts.origin;
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = new Value({ dtype, shape }, name);
    this.graph.inputs.push(v);
    return v;
  }

  output(v: Value, name?: string): void {
    if (name !== undefined && v.name === undefined) v.name = name;
    this.graph.outputs.push(v);
  }

  build(): Graph {
    return this.graph;
  }

  /** Append a node; returns its results. */
  op(op: string, inputs: (Value | null)[], attrs: Attrs = {}, declared?: readonly TensorType[]): Value[] {
    const node = createNode(op, inputs, attrs, declared, this.origin);
    // Sources (const, iota) stay as they are: an iota is free in a kernel, a dense constant is not.
    if (this.fold && inputs.length > 0) {
      const folded = this.tryFold(node);
      if (folded) return folded;
    }
    this.nodes.push(node);
    return node.outputs;
  }

  /** Append a single-result node. */
  op1(op: string, inputs: (Value | null)[], attrs: Attrs = {}, declared?: TensorType): Value {
    return this.op(op, inputs, attrs, declared ? [declared] : undefined)[0]!;
  }

  private tryFold(node: Node): Value[] | undefined {
    const def = getOp(node.op);
    if (!def.eval || def.impure || subgraphsOf(node).length > 0 || node.outputs.some((o) => !isStatic(o.shape))) return undefined;
    const consts = node.inputs.map((v) => (v ? constantOf(v) : null));
    if (consts.some((c, i) => c === undefined || (c === null && node.inputs[i] !== null))) return undefined;
    // Fold small results, and any result no larger than its operands (a transposed or cast weight),
    // but never blow a constant up (a broadcast of a scalar to a large shape stays a broadcast).
    const operandElements = consts.reduce((n, c) => n + (c?.size ?? 0), 0);
    const resultElements = node.outputs.reduce((n, o) => n + numel(o.shape as number[]), 0);
    if (resultElements > Math.max(this.foldLimit, operandElements)) return undefined;
    const results = def.eval(node, consts as (Tensor | null)[], {
      resolveShape: (s) => s as number[],
      runGraph: () => fail('E_UNSUPPORTED', 'folding a node with a subgraph'),
    });
    return results.map((t) => this.const(t));
  }

  // ---- sources ----
  const(t: Tensor): Value {
    return this.op1('prim.const', [], { value: A.tensor(t) });
  }
  scalar(dtype: DType, v: number | bigint | boolean): Value {
    return this.const(Tensor.scalar(dtype, v));
  }
  /** A 1-D i64 constant (shapes, indices). */
  ints(values: readonly number[]): Value {
    return this.const(Tensor.from('i64', [values.length], values.map((v) => BigInt(v))));
  }
  iota(dtype: DType, shape: Shape, axis: number): Value {
    return this.op1('prim.iota', [], { axis: A.int(axis) }, { dtype, shape });
  }

  // ---- pointwise ----
  unary(op: string, x: Value): Value {
    return this.op1(`prim.${op}`, [x]);
  }
  binary(op: string, a: Value, b: Value): Value {
    return this.op1(`prim.${op}`, [a, b]);
  }
  neg = (x: Value): Value => this.unary('neg', x);
  abs = (x: Value): Value => this.unary('abs', x);
  exp = (x: Value): Value => this.unary('exp', x);
  log = (x: Value): Value => this.unary('log', x);
  sqrt = (x: Value): Value => this.unary('sqrt', x);
  recip = (x: Value): Value => this.unary('recip', x);
  tanh = (x: Value): Value => this.unary('tanh', x);
  erf = (x: Value): Value => this.unary('erf', x);
  not = (x: Value): Value => this.unary('not', x);
  add = (a: Value, b: Value): Value => this.binary('add', a, b);
  sub = (a: Value, b: Value): Value => this.binary('sub', a, b);
  mul = (a: Value, b: Value): Value => this.binary('mul', a, b);
  div = (a: Value, b: Value): Value => this.binary('div', a, b);
  pow = (a: Value, b: Value): Value => this.binary('pow', a, b);
  max = (a: Value, b: Value): Value => this.binary('max', a, b);
  min = (a: Value, b: Value): Value => this.binary('min', a, b);
  lt = (a: Value, b: Value): Value => this.binary('lt', a, b);
  eq = (a: Value, b: Value): Value => this.binary('eq', a, b);
  and = (a: Value, b: Value): Value => this.binary('and', a, b);
  or = (a: Value, b: Value): Value => this.binary('or', a, b);
  where = (c: Value, a: Value, b: Value): Value => this.op1('prim.where', [c, a, b]);
  cast(x: Value, to: DType): Value {
    return x.dtype === to ? x : this.op1('prim.cast', [x], { to: A.dtype(to) });
  }
  /** A scalar constant of x's dtype. */
  like(x: Value, v: number): Value {
    return this.scalar(x.dtype, x.dtype === 'i64' || x.dtype === 'u64' ? BigInt(v) : v);
  }

  // ---- reductions ----
  reduce(kind: 'sum' | 'max' | 'min' | 'prod', x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op1(`prim.reduce_${kind}`, [x], { axes: A.ints([...axes].sort((a, b) => a - b)), keepdims: A.int(keepdims ? 1 : 0) });
  }

  // ---- movement ----
  reshape(x: Value, shape: readonly Dim[]): Value {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.op1('prim.reshape', [x], {}, { dtype: x.dtype, shape });
  }
  permute(x: Value, perm: readonly number[]): Value {
    if (perm.every((p, i) => p === i)) return x;
    return this.op1('prim.permute', [x], { perm: A.ints(perm) });
  }
  broadcast(x: Value, shape: readonly Dim[]): Value {
    if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
    return this.op1('prim.broadcast', [x], {}, { dtype: x.dtype, shape });
  }
  slice(x: Value, axes: readonly number[], starts: readonly number[], stops: readonly number[], steps?: readonly number[]): Value {
    return this.op1('prim.slice', [x], {
      axes: A.ints(axes), starts: A.ints(starts), stops: A.ints(stops), steps: A.ints(steps ?? axes.map(() => 1)),
    });
  }
  pad(x: Value, pads: readonly number[], value = 0): Value {
    if (pads.every((p) => p === 0)) return x;
    return this.op1('prim.pad', [x], { pads: A.ints(pads), value: A.float(value) });
  }
  concat(xs: readonly Value[], axis: number): Value {
    return xs.length === 1 ? xs[0]! : this.op1('prim.concat', [...xs], { axis: A.int(axis) });
  }

  // ---- indexing and contraction ----
  gather(data: Value, indices: Value, axis: number): Value {
    return this.op1('prim.gather', [data, indices], { axis: A.int(axis) });
  }
  scatter(data: Value, indices: Value, updates: Value, axis: number, reduction = 'none'): Value {
    return this.op1('prim.scatter', [data, indices, updates], { axis: A.int(axis), reduction: A.string(reduction) });
  }
  dot(a: Value, b: Value, dims: { lhsBatch?: readonly number[]; rhsBatch?: readonly number[]; lhsContract: readonly number[]; rhsContract: readonly number[] }): Value {
    return this.op1('prim.dot', [a, b], {
      lhs_batch: A.ints(dims.lhsBatch ?? []), rhs_batch: A.ints(dims.rhsBatch ?? []),
      lhs_contract: A.ints(dims.lhsContract), rhs_contract: A.ints(dims.rhsContract),
    });
  }
}

/** The constant tensor a value holds, if it is produced by prim.const. */
export function constantOf(v: Value): Tensor | undefined {
  const p = v.producer;
  return p && p.op === 'prim.const' ? p.tensor('value') : undefined;
}
