// The op registry. An op is one entry: its name and dialect, operand count, typed attributes, type
// inference, and — for prims — its reference semantics. Adding an op means adding one entry.
import type { AttrKind } from './attr.js';
import type { Graph, Node, TensorType } from './graph.js';
import type { Tensor } from './tensor.js';
import type { Shape } from './shape.js';
import { fail } from './error.js';

export interface AttrSpec {
  readonly kind: AttrKind;
  readonly required?: boolean;
  readonly doc?: string;
}

/** What evaluation needs besides the operands: run-time sizes of symbols, and a way to run subgraphs. */
export interface EvalContext {
  /** Resolve a declared shape (which may hold symbols) to the concrete one of this run. */
  resolveShape(shape: Shape): number[];
  /** Run a subgraph on inputs; it may read values of enclosing graphs. */
  runGraph(g: Graph, inputs: readonly (Tensor | null)[]): Tensor[];
}

export interface OpDef {
  /** Qualified name, `prim.add`. */
  readonly name: string;
  readonly summary: string;
  /** Operand count; `max: Infinity` for variadic ops. */
  readonly arity: { readonly min: number; readonly max: number };
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /** Attributes beyond `attrs` are allowed (ops of an imported dialect keep their source attributes). */
  readonly openAttrs?: boolean;
  /** Output types from operand types and attributes (and, for ops such as reshape whose result type
   * is their target, from the node's declared output types). Throws E_TYPE with the broken rule. */
  infer(node: Node, inputs: readonly (TensorType | null)[]): TensorType[];
  /** Reference semantics over dense tensors (prims and structured ops). */
  eval?(node: Node, inputs: readonly (Tensor | null)[], ctx: EvalContext): Tensor[];
  /** Has an effect or a result that must not be folded or deduplicated (none of the prims today). */
  readonly impure?: boolean;
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef): OpDef {
  if (registry.has(def.name)) fail('E_VERIFY', `op ${def.name} is registered twice`);
  if (!def.name.includes('.')) fail('E_VERIFY', `op name ${def.name} needs a dialect prefix`);
  registry.set(def.name, def);
  return def;
}

export const findOp = (name: string): OpDef | undefined => registry.get(name);

export function getOp(name: string): OpDef {
  const d = registry.get(name);
  if (!d) fail('E_UNSUPPORTED', `op ${name} is not registered`);
  return d;
}

export const allOps = (): OpDef[] => [...registry.values()];

export const opsOfDialect = (dialect: string): OpDef[] =>
  allOps().filter((d) => d.name.startsWith(`${dialect}.`));
