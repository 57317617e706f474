// The graph IR: SSA values, nodes in topological order, graphs with named inputs and outputs.
// Subgraphs (If/Loop/Scan bodies) are graph attributes and may read values of enclosing graphs.
import type { DType } from './dtype.js';
import type { Shape } from './shape.js';
import { formatShape } from './shape.js';
import type { Attr, AttrKind, Attrs } from './attr.js';
import type { Tensor } from './tensor.js';
import { fail } from './error.js';

export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export const formatType = (t: TensorType): string => `${t.dtype}${formatShape(t.shape)}`;

let nextId = 0;

export class Value {
  readonly id = nextId++;
  type: TensorType;
  /** A readable name (the ONNX tensor name, or one given by a pass); printed when unique. */
  name: string | undefined;
  /** The node that defines this value, or undefined for a graph input. */
  producer: Node | undefined;

  constructor(type: TensorType, name?: string, producer?: Node) {
    this.type = type;
    this.name = name;
    this.producer = producer;
  }

  get dtype(): DType {
    return this.type.dtype;
  }

  get shape(): Shape {
    return this.type.shape;
  }

  toString(): string {
    return `%${this.name ?? this.id}: ${formatType(this.type)}`;
  }
}

export class Node {
  readonly id = nextId++;
  /** Qualified op name, `dialect.op`: `prim.add`, `onnx.Conv`. */
  readonly op: string;
  /** Operands; `null` marks an omitted optional operand (ONNX's empty name). */
  inputs: (Value | null)[];
  readonly outputs: Value[];
  attrs: Attrs;
  /** Where it came from (the ONNX node name), for messages. */
  origin: string | undefined;

  constructor(op: string, inputs: (Value | null)[], outputTypes: readonly TensorType[], attrs: Attrs = {}, origin?: string) {
    this.op = op;
    this.inputs = inputs;
    this.outputs = outputTypes.map((t) => new Value(t, undefined, this));
    this.attrs = attrs;
    this.origin = origin;
  }

  get dialect(): string {
    return this.op.slice(0, this.op.indexOf('.'));
  }

  /** The op name without its dialect: `add` for `prim.add`. */
  get opName(): string {
    return this.op.slice(this.op.indexOf('.') + 1);
  }

  get output(): Value {
    if (this.outputs.length !== 1) fail('E_VERIFY', `${this.describe()} has ${this.outputs.length} outputs, expected one`);
    return this.outputs[0]!;
  }

  /** Operand i, which must be present. */
  input(i: number): Value {
    const v = this.inputs[i];
    if (!v) fail('E_VERIFY', `${this.describe()}: operand ${i} is missing`);
    return v;
  }

  /** `prim.add (node "Add_3")`: how errors name a node. */
  describe(): string {
    return this.origin ? `${this.op} (node "${this.origin}")` : this.op;
  }

  has(name: string): boolean {
    return name in this.attrs;
  }

  private attr<K extends AttrKind>(name: string, kind: K): Extract<Attr, { kind: K }> | undefined {
    const a = this.attrs[name];
    if (a === undefined) return undefined;
    if (a.kind !== kind) fail('E_VERIFY', `${this.describe()}: attribute ${name} is ${a.kind}, expected ${kind}`);
    return a as Extract<Attr, { kind: K }>;
  }

  private required<T>(name: string, v: T | undefined, def: T | undefined): T {
    if (v !== undefined) return v;
    if (def !== undefined) return def;
    return fail('E_VERIFY', `${this.describe()}: required attribute ${name} is missing`);
  }

  int(name: string, def?: number): number {
    return this.required(name, this.attr(name, 'int')?.value, def);
  }
  float(name: string, def?: number): number {
    return this.required(name, this.attr(name, 'float')?.value, def);
  }
  str(name: string, def?: string): string {
    return this.required(name, this.attr(name, 'string')?.value, def);
  }
  ints(name: string, def?: readonly number[]): readonly number[] {
    return this.required(name, this.attr(name, 'ints')?.value, def);
  }
  floats(name: string, def?: readonly number[]): readonly number[] {
    return this.required(name, this.attr(name, 'floats')?.value, def);
  }
  strs(name: string, def?: readonly string[]): readonly string[] {
    return this.required(name, this.attr(name, 'strings')?.value, def);
  }
  dtype(name: string, def?: DType): DType {
    return this.required(name, this.attr(name, 'dtype')?.value, def);
  }
  tensor(name: string): Tensor {
    return this.required(name, this.attr(name, 'tensor')?.value, undefined);
  }
  graph(name: string): Graph {
    return this.required(name, this.attr(name, 'graph')?.value, undefined);
  }
}

export class Graph {
  name: string;
  inputs: Value[];
  outputs: Value[];
  /** Topologically ordered. */
  nodes: Node[];

  constructor(name: string, inputs: Value[] = [], outputs: Value[] = [], nodes: Node[] = []) {
    this.name = name;
    this.inputs = inputs;
    this.outputs = outputs;
    this.nodes = nodes;
  }

  /** For each value, the nodes that read it (in this graph and, via captures, in its subgraphs). */
  users(): Map<Value, Node[]> {
    const users = new Map<Value, Node[]>();
    const visit = (g: Graph, owner: Node | undefined): void => {
      for (const n of g.nodes) {
        const user = owner ?? n;
        for (const v of n.inputs) {
          if (!v) continue;
          const list = users.get(v);
          if (list) {
            if (list[list.length - 1] !== user) list.push(user);
          } else users.set(v, [user]);
        }
        for (const sub of subgraphsOf(n)) visit(sub, user);
      }
      if (owner) {
        for (const v of g.outputs) {
          const list = users.get(v);
          if (list) {
            if (list[list.length - 1] !== owner) list.push(owner);
          } else users.set(v, [owner]);
        }
      }
    };
    visit(this, undefined);
    return users;
  }

  /** Replace every use of `from` by `to` (in nodes, subgraphs and graph outputs). */
  replaceAllUses(from: Value, to: Value): void {
    const visit = (g: Graph): void => {
      for (const n of g.nodes) {
        for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] === from) n.inputs[i] = to;
        for (const sub of subgraphsOf(n)) visit(sub);
      }
      for (let i = 0; i < g.outputs.length; i++) if (g.outputs[i] === from) g.outputs[i] = to;
    };
    visit(this);
  }

  /** Every node, including those of subgraphs, depth first. */
  *allNodes(): Generator<Node> {
    for (const n of this.nodes) {
      yield n;
      for (const sub of subgraphsOf(n)) yield* sub.allNodes();
    }
  }
}

/** The graphs held in a node's attributes. */
export function subgraphsOf(n: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of Object.values(n.attrs)) {
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}
