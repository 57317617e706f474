// The IR verifier: every rule a well-formed graph keeps, each broken one reported with the node and rule.
import { AicError, fail } from './error.js';
import { findOp } from './op.js';
import { formatType, subgraphsOf, type Graph, type Node, type TensorType, type Value } from './graph.js';
import { shapeEq } from './shape.js';
import './prims/index.js';

export interface VerifyOptions {
  /** Ops of these dialects need not be registered (e.g. while an importer is being written). */
  allowUnregistered?: readonly string[];
}

/** Throws E_VERIFY naming the first broken rule. */
export function verifyGraph(g: Graph, opts: VerifyOptions = {}): void {
  verifyScope(g, new Set(), opts);
}

const sameType = (a: TensorType, b: TensorType): boolean => a.dtype === b.dtype && shapeEq(a.shape, b.shape);

function verifyScope(g: Graph, outer: ReadonlySet<Value>, opts: VerifyOptions): void {
  const defined = new Set<Value>(outer);
  const define = (v: Value, where: string): void => {
    if (defined.has(v)) fail('E_VERIFY', `graph @${g.name}: ${where} defines %${v.name ?? v.id} a second time`);
    defined.add(v);
  };
  for (const v of g.inputs) define(v, 'an input');
  for (const n of g.nodes) {
    n.inputs.forEach((v, i) => {
      if (v && !defined.has(v)) {
        fail('E_VERIFY', `graph @${g.name}: ${n.describe()} operand ${i} %${v.name ?? v.id} is used before it is defined`);
      }
    });
    verifyNode(n, opts);
    for (const sub of subgraphsOf(n)) verifyScope(sub, defined, opts);
    for (const o of n.outputs) {
      if (o.producer !== n) fail('E_VERIFY', `graph @${g.name}: ${n.describe()} result %${o.name ?? o.id} names another producer`);
      define(o, n.describe());
    }
  }
  g.outputs.forEach((v, i) => {
    if (!defined.has(v)) fail('E_VERIFY', `graph @${g.name}: output ${i} %${v.name ?? v.id} is not defined`);
  });
}

function verifyNode(n: Node, opts: VerifyOptions): void {
  const def = findOp(n.op);
  if (!def) {
    if (opts.allowUnregistered?.includes(n.dialect)) return;
    fail('E_VERIFY', `${n.describe()}: unknown op`);
  }
  if (n.inputs.length < def.arity.min || n.inputs.length > def.arity.max) {
    fail('E_VERIFY', `${n.describe()}: has ${n.inputs.length} operands, the op takes ${def.arity.min}..${def.arity.max}`);
  }
  for (const [name, a] of Object.entries(n.attrs)) {
    const spec = def.attrs[name];
    if (!spec) {
      if (def.openAttrs) continue;
      fail('E_VERIFY', `${n.describe()}: unknown attribute ${name}`);
    }
    if (spec.kind !== a.kind) fail('E_VERIFY', `${n.describe()}: attribute ${name} is ${a.kind}, expected ${spec.kind}`);
  }
  for (const [name, spec] of Object.entries(def.attrs)) {
    if (spec.required && !(name in n.attrs)) fail('E_VERIFY', `${n.describe()}: required attribute ${name} is missing`);
  }
  let inferred: TensorType[];
  try {
    inferred = def.infer(n, n.inputs.map((v) => v?.type ?? null));
  } catch (e) {
    if (e instanceof AicError) throw new AicError('E_VERIFY', e.message, e.hint);
    throw e;
  }
  if (inferred.length !== n.outputs.length) {
    fail('E_VERIFY', `${n.describe()}: declares ${n.outputs.length} results, inference gives ${inferred.length}`);
  }
  inferred.forEach((t, i) => {
    const d = n.outputs[i]!.type;
    if (!sameType(t, d)) fail('E_VERIFY', `${n.describe()}: result ${i} is declared ${formatType(d)} but inference gives ${formatType(t)}`);
  });
}
