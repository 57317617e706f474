// What a lowering rule sees: the ONNX node (attributes, operands), its opset, a builder that folds
// constants, and helpers that turn every failure into an error naming the node and the op.
import { AicError, fail, type ErrorCode } from '../../ir/error.js';
import type { Graph, Node, TensorType, Value } from '../../ir/graph.js';
import { GraphBuilder, constantOf } from '../../ir/builder.js';
import type { Tensor } from '../../ir/tensor.js';
import { isStatic, type Shape } from '../../ir/shape.js';

/** Lowers a nested graph (an If branch, a Loop body) in the scope of the node being lowered; `inputTypes`
 * re-types its inputs (null keeps one), and every node of the body is inferred again from them. */
export type SubgraphLowerer = (g: Graph, inputTypes?: readonly (TensorType | null)[]) => Graph;

export class LowerContext {
  /** Where prims go. Folding is on: ops on constants become constants. */
  readonly b: GraphBuilder;
  /** The ONNX node: read attributes with node.int('axis', 0), node.ints('perm'), …; operands with arg/input. */
  readonly node: Node;
  /** The version of the node's domain's opset that the model imports. */
  readonly opset: number;
  /** How many outputs the model's node lists (including omitted optional ones). */
  readonly numOutputs: number;
  private readonly subgraphs: SubgraphLowerer;
  private readonly specialize: ((v: Value) => Tensor | undefined) | undefined;

  constructor(b: GraphBuilder, node: Node, opset: number, numOutputs: number, subgraphs: SubgraphLowerer,
    specialize?: (v: Value) => Tensor | undefined) {
    this.b = b;
    this.node = node;
    this.opset = opset;
    this.numOutputs = numOutputs;
    this.subgraphs = subgraphs;
    this.specialize = specialize;
  }

  /** The ONNX op type, e.g. `Conv`. */
  get type(): string {
    return this.node.opName;
  }

  get numInputs(): number {
    return this.node.inputs.length;
  }

  /** Operand i, or null when the model omits it (an empty name or a shorter list). */
  input(i: number): Value | null {
    return this.node.inputs[i] ?? null;
  }

  /** Operand i, which the op requires. */
  arg(i: number): Value {
    return this.input(i) ?? this.fail(`input ${i} is required`);
  }

  /** The value of operand i if it is a constant (an initializer, a Constant, or folded shape arithmetic). */
  constant(i: number): Tensor | undefined {
    const v = this.input(i);
    return v ? constantOf(v) : undefined;
  }

  /** The value of operand i, which must be known when compiling. Where it comes from graph inputs and the
   * caller offers their values (a test's data), the model is specialized to them (ImportOptions.specialize);
   * only here, so a rule that merely probes with constant() never turns data into constants. */
  requireConstant(i: number, what: string): Tensor {
    const c = this.constant(i);
    if (c) return c;
    const v = this.input(i);
    const t = v && this.specialize ? this.specialize(v) : undefined;
    if (t) {
      this.node.inputs[i] = this.b.const(t);
      return t;
    }
    return this.unsupported(`${what} (input ${i}) must be a constant known at compile time`);
  }

  /** A constant operand as integers (axes, shapes, pads), or undefined when omitted. */
  constInts(i: number, what: string): number[] | undefined {
    if (!this.input(i)) return undefined;
    return this.requireConstant(i, what).toNumbers();
  }

  /** A static shape, or an E_UNSUPPORTED error saying which operand is dynamic. */
  staticShape(v: Value, what = 'operand'): number[] {
    if (!isStatic(v.shape)) this.unsupported(`${what} has symbolic shape [${v.shape.join(',')}]`);
    return v.shape as number[];
  }

  /** Normalize an axis attribute value against a rank. */
  axis(value: number, rank: number, what = 'axis'): number {
    const a = value < 0 ? value + rank : value;
    if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) this.fail(`${what} ${value} is out of range for rank ${rank}`);
    return a;
  }

  /** Lower a graph attribute (a branch or a body) into prims, seeing this node's scope; `inputTypes`
   * re-types the body's inputs (a Loop body typed from the Loop's operands), null keeping one. */
  lowerSubgraph(g: Graph, inputTypes?: readonly (TensorType | null)[]): Graph {
    return this.subgraphs(g, inputTypes);
  }

  shapeOf(v: Value): Shape {
    return v.shape;
  }

  fail(message: string, code: ErrorCode = 'E_TYPE'): never {
    return fail(code, `${this.where()}: ${message}`);
  }

  unsupported(message: string): never {
    return this.fail(message, 'E_UNSUPPORTED');
  }

  /** `Conv (node "conv1", opset 11)`. */
  where(): string {
    const name = this.node.origin ? ` node "${this.node.origin}"` : '';
    return `${this.type} (${name ? `${name.trim()}, ` : ''}opset ${this.opset})`;
  }

  /** Run a rule, prefixing errors that do not already name this node. */
  run<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof AicError && !e.message.startsWith(this.where())) throw e.withContext(this.where());
      throw e;
    }
  }
}
