// The fusion plan: for every value of a prim graph, whether it lives in a buffer (a graph input, a weight,
// the result of its own kernel) or is an index map or a scalar recomputed inside the kernels that read it.
// Every value that gets a kernel of its own although something reads it is a refusal to fuse, and carries
// the reason (`aic compile --explain-fusion` prints them).
//
// The rules, in order:
//   - movement ops are index maps (views); a graph output, an extern operand or a costly view read by several
//     kernels is copied into a buffer;
//   - a graph output, an extern kernel's operand and a computed dot operand (the GEMM reads plain loads) are
//     materialized; ops that are not loop nests (and so every op that makes a data-dependent size) are extern
//     kernels, whose results are buffers: nothing fuses across them;
//   - a reduction (or dot) is computed inside the one kernel that reads it (a reduce stage: prologue and
//     epilogue fusion); read by several kernels, it gets its own;
//   - a pointwise value is recomputed in every kernel that reads it when that is cheap (cost <= CHEAP_COST),
//     else materialized; the same for a costly one read under a broadcast (recomputed once per copy);
//   - a graph output that other ops read is stored by the one kernel that reads it (a side output:
//     LayerNormalization's mean and inverse deviation beside its result), when that kernel computes each of
//     its elements once;
//   - what the kernel emitter finds it cannot fuse after all (a reduction read at several indices, or nested
//     in another reduction) comes back as `forced` and is materialized on the next round.
import type { Graph, Node, Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { Tensor as TensorClass } from '../../ir/tensor.js';
import { formatShape, isStatic, numel, type Shape } from '../../ir/shape.js';
import { subgraphsOf } from '../../ir/graph.js';
import { opKind, ownCost, type OpKind } from './classify.js';

/** Where a value lives. */
export type Role =
  | 'input' // a graph input: a buffer
  | 'weight' // a constant with more than one element (or a graph output): a buffer with data
  | 'literal' // a one-element constant: a literal in the kernels that read it
  | 'view' // a movement op: an index map over its operand
  | 'inline' // computed inside each kernel that reads it
  | 'root' // computed by a kernel of its own into a buffer
  | 'extern'; // the result of an extern kernel: a buffer

/** Recomputing a value whose own tree costs more than this (1 per pointwise op, 4 per transcendental,
 * n per n-way concat) in several kernels, or under a broadcast, is not cheap. */
export const CHEAP_COST = 6;

export interface FusionPlan {
  readonly graph: Graph;
  readonly roles: ReadonlyMap<Value, Role>;
  /** Why a value is materialized although it has readers (roots, weights made for outputs, views copied). */
  readonly reasons: ReadonlyMap<Value, string>;
  readonly kinds: ReadonlyMap<Node, OpKind>;
  readonly users: ReadonlyMap<Value, Node[]>;
  /** Data of weights that are not prim.const (prim.shape of a static shape). */
  readonly constData: ReadonlyMap<Value, Tensor>;
  /** Values an extern kernel reads from enclosing scopes (captured by its subgraphs), per extern node. */
  readonly captures: ReadonlyMap<Node, Value[]>;
  /** Graph outputs computed inside the one kernel that reads them, which also stores them (a side output:
   * LayerNormalization's mean next to its result). Their role is 'inline'. */
  readonly sideStores: ReadonlySet<Value>;
}

export function planFusion(g: Graph, forced: ReadonlyMap<Value, string> = new Map()): FusionPlan {
  const roles = new Map<Value, Role>();
  const reasons = new Map<Value, string>();
  const kinds = new Map<Node, OpKind>();
  const constData = new Map<Value, Tensor>();
  const captures = new Map<Node, Value[]>();
  const users = g.users();
  const inputSyms = new Set<string>();
  for (const v of g.inputs) {
    roles.set(v, 'input');
    for (const d of v.shape) if (typeof d === 'string') inputSyms.add(d);
  }

  for (const n of g.nodes) {
    let kind = opKind(n);
    if (kind === 'source' && n.opName === 'shape') {
      const x = n.input(0);
      if (isStatic(x.shape)) constData.set(n.output, TensorClass.from('i64', [x.shape.length], x.shape.map((d) => BigInt(d))));
      else kind = 'extern';
    }
    kinds.set(n, kind);
    if (kind === 'extern') {
      for (const o of n.outputs) {
        roles.set(o, 'extern');
        // Its readers are other kernels: a refusal to fuse, and for a data-dependent size the rule.
        const dyn = o.shape.filter((d) => typeof d === 'string' && !isInputDim(d, inputSyms));
        reasons.set(o, dyn.length > 0 ? `data-dependent shape ${formatShape(o.shape)}: never fused across` : `result of an extern kernel (${n.op} is not a loop nest)`);
      }
      captures.set(n, capturedValues(n));
      continue;
    }
    const v = n.output;
    if (kind === 'source') {
      if (n.opName === 'const') roles.set(v, numel(n.tensor('value').shape) === 1 ? 'literal' : 'weight');
      else if (n.opName === 'shape') roles.set(v, 'weight');
      else roles.set(v, 'inline'); // iota: an index value
    } else if (kind === 'movement') roles.set(v, 'view');
    else roles.set(v, 'inline');
  }

  /** Values materialized for a reason other than being a graph output. */
  const pinned = new Set<Value>();
  const materialize = (v: Value, reason: string): void => {
    if (reason !== 'graph output') pinned.add(v);
    const r = roles.get(v);
    if (r === 'inline' || r === 'view') {
      roles.set(v, 'root');
      if (!reasons.has(v)) reasons.set(v, reason);
    } else if (r === 'literal') {
      roles.set(v, 'weight');
      if (!reasons.has(v)) reasons.set(v, reason);
    }
  };

  for (const v of g.outputs) materialize(v, 'graph output');
  for (const n of g.nodes) {
    const kind = kinds.get(n)!;
    if (kind === 'extern') {
      for (const v of [...n.inputs, ...(captures.get(n) ?? [])]) if (v) materialize(v, `operand of extern ${n.op}`);
    } else if (kind === 'dot') {
      for (const v of n.inputs) for (const leaf of viewLeaves(v!, roles)) {
        if (roles.get(leaf) === 'inline' && leaf.producer?.opName !== 'iota') materialize(leaf, 'operand of a dot (a GEMM reads plain loads)');
      }
      for (const v of n.inputs) {
        const shuffled = permutedReshape(v!, roles);
        if (shuffled) materialize(shuffled, 'a reshape of a permuted view read by a dot (its index is not affine: the GEMM reads plain loads)');
      }
    }
  }
  for (const [v, reason] of forced) materialize(v, reason);

  // A computed graph output that other ops read may be stored by the kernel that reads it.
  const sideStores = new Set<Value>();
  for (const v of new Set(g.outputs)) {
    const k = v.producer ? kinds.get(v.producer) : undefined;
    if (roles.get(v) !== 'root' || pinned.has(v) || (users.get(v) ?? []).length === 0) continue;
    if (k !== 'pointwise' && k !== 'reduce' && k !== 'dot' && k !== 'gather') continue;
    roles.set(v, 'inline');
    reasons.delete(v);
    sideStores.add(v);
  }

  // Recompute cost of each inline value's tree (saturating), and whether it holds a reduction.
  const cost = new Map<Value, number>();
  const holdsReduction = new Map<Value, boolean>();
  for (const n of g.nodes) {
    if (n.outputs.length !== 1) continue;
    const v = n.output;
    const role = roles.get(v);
    if (role !== 'inline' && role !== 'view') continue;
    let c = ownCost(n);
    let red = kinds.get(n) === 'reduce' || kinds.get(n) === 'dot';
    for (const x of n.inputs) {
      if (!x) continue;
      const rx = roles.get(x);
      if (rx === 'inline' || rx === 'view') {
        c += cost.get(x) ?? 0;
        red ||= holdsReduction.get(x) ?? false;
      }
    }
    cost.set(v, Math.min(c, 1000));
    holdsReduction.set(v, red);
  }

  // Backwards: the kernels each value ends up in; decide recompute versus materialize.
  const kernelsOf = new Map<Value, Set<Value | Node>>();
  const expanded = new Map<Value, boolean>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.length !== 1) continue;
    const v = n.output;
    const role = roles.get(v);
    if (role !== 'inline' && role !== 'view') continue;
    const ks = new Set<Value | Node>();
    let exp = false;
    for (const u of users.get(v) ?? []) {
      if (kinds.get(u) === 'extern') {
        ks.add(u);
        continue;
      }
      const w = u.output;
      const rw = roles.get(w);
      if (rw === 'root') ks.add(w);
      else for (const k of kernelsOf.get(w) ?? []) ks.add(k);
      const ku = kinds.get(u);
      if (ku === 'pointwise' || (ku === 'movement' && u.opName === 'broadcast')) exp ||= broadcasts(v.shape, w.shape);
      if (ku === 'movement' && rw === 'view') exp ||= expanded.get(w) ?? false;
    }
    expanded.set(v, exp);
    if (sideStores.has(v) && ks.size !== 1) {
      // Read by several kernels (or none): no one kernel can store it; it gets its own.
      sideStores.delete(v);
      materialize(v, 'graph output');
      roles.set(v, 'root');
      kernelsOf.set(v, new Set([v]));
      continue;
    }
    const kind = kinds.get(n)!;
    const c = cost.get(v) ?? 0;
    if (kind === 'reduce' || kind === 'dot') {
      if (ks.size > 1) materialize(v, `read by ${ks.size} kernels (a reduction is computed once)`);
    } else if (role === 'view') {
      if (ks.size > 1 && c > CHEAP_COST) materialize(v, `view read by ${ks.size} kernels and costly to recompute (cost ${c} > ${CHEAP_COST})`);
    } else if (ks.size > 1 && c > CHEAP_COST) {
      materialize(v, `read by ${ks.size} kernels and costly to recompute (cost ${c} > ${CHEAP_COST})`);
    } else if (exp && c > CHEAP_COST && !holdsReduction.get(v)) {
      materialize(v, `read under a broadcast and costly to recompute for every copy (cost ${c} > ${CHEAP_COST})`);
    }
    kernelsOf.set(v, roles.get(v) === 'root' ? new Set([v]) : ks);
    if (roles.get(v) === 'root' && sideStores.delete(v)) reasons.set(v, 'graph output');
  }

  return { graph: g, roles, reasons, kinds, users, constData, captures, sideStores };
}

/** A dim made of graph-input symbols only (`N`, `2*N+1`): known before any kernel runs. */
function isInputDim(d: string, inputSyms: ReadonlySet<string>): boolean {
  return (d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).every((s) => inputSyms.has(s));
}

/** Is a value of shape `from` read as `to` with broadcasting (numpy rules), i.e. element reused? */
function broadcasts(from: Shape, to: Shape): boolean {
  if (to.length > from.length) return true;
  const off = to.length - from.length;
  return from.some((d, i) => d === 1 && to[off + i] !== 1);
}

/** The non-view values a value reads through its chain of index maps. */
function viewLeaves(v: Value, roles: ReadonlyMap<Value, Role>): Value[] {
  const out: Value[] = [];
  const seen = new Set<Value>();
  const walk = (x: Value): void => {
    if (seen.has(x)) return;
    seen.add(x);
    if (roles.get(x) === 'view' && x.producer) for (const y of x.producer.inputs) walk(y!);
    else out.push(x);
  };
  walk(v);
  return out;
}

/** In a dot operand's chain of views, a reshape of a permute (ShuffleNet's channel shuffle, attention's merged
 * heads): its index in the dot is full of divisions, so a copy is cheaper than recomputing it per read. */
function permutedReshape(v: Value, roles: ReadonlyMap<Value, Role>): Value | undefined {
  const seen = new Set<Value>();
  const walk = (x: Value): Value | undefined => {
    if (seen.has(x) || roles.get(x) !== 'view' || !x.producer) return undefined;
    seen.add(x);
    const p = x.producer;
    const operand = p.inputs[0];
    if (p.opName === 'reshape' && operand && roles.get(operand) === 'view' && operand.producer?.opName === 'permute') return x;
    for (const y of p.inputs) {
      const found = y ? walk(y) : undefined;
      if (found) return found;
    }
    return undefined;
  };
  return walk(v);
}

/** Values a node's subgraphs read from outside the node (captures). */
function capturedValues(n: Node): Value[] {
  const out: Value[] = [];
  const seen = new Set<Value>();
  const visit = (g: Graph, defined: Set<Value>): void => {
    const local = new Set(defined);
    for (const v of g.inputs) local.add(v);
    for (const m of g.nodes) {
      for (const v of m.inputs) if (v && !local.has(v) && !seen.has(v)) {
        seen.add(v);
        out.push(v);
      }
      for (const sub of subgraphsOf(m)) visit(sub, local);
      for (const o of m.outputs) local.add(o);
    }
    for (const v of g.outputs) if (!local.has(v) && !seen.has(v)) {
      seen.add(v);
      out.push(v);
    }
  };
  for (const sub of subgraphsOf(n)) visit(sub, new Set());
  return out;
}
