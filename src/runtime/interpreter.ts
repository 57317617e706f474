// The reference interpreter of the graph IR: runs each node's reference semantics in order. It is the
// ground truth every pass and backend is compared with, so it is plain rather than clever; it checks
// every result against its declared type and frees each intermediate after its last use.
import { AicError, fail } from '../ir/error.js';
import { getOp, type EvalContext } from '../ir/op.js';
import { formatType, subgraphsOf, type Graph, type Node, type Value } from '../ir/graph.js';
import { formatShape, type Shape } from '../ir/shape.js';
import { Tensor } from '../ir/tensor.js';
import '../ir/prims/index.js';
import { evalDim, isPlainSymbol } from '../ir/dim-expr.js';

/** Run-time sizes of symbolic dims. A subgraph run gets a child table: it sees the sizes bound outside,
 * and the symbols it binds itself (a loop body's varying sizes) live only for that run. */
class SymbolTable {
  private readonly sizes = new Map<string, number>();

  constructor(private readonly parent?: SymbolTable) {}

  child(): SymbolTable {
    return new SymbolTable(this);
  }

  private lookup(sym: string): number | undefined {
    return this.sizes.get(sym) ?? this.parent?.lookup(sym);
  }

  bind(sym: string, size: number, where: string): void {
    const known = this.lookup(sym);
    if (known === undefined) this.sizes.set(sym, size);
    else if (known !== size) fail('E_RUNTIME', `${where}: dim ${sym} is ${size} here but ${known} elsewhere`);
  }

  resolve(shape: Shape, where: string): number[] {
    return shape.map((d) => {
      const s = evalDim(d, (sym) => this.lookup(sym));
      if (s === undefined) fail('E_RUNTIME', `${where}: the size of dim ${d} is not known at this point`);
      return s;
    });
  }

  /** Check a concrete shape against a declared one, binding symbols seen for the first time. */
  match(declared: Shape, actual: readonly number[], where: string): void {
    if (declared.length !== actual.length) fail('E_RUNTIME', `${where}: expected rank ${declared.length}, got shape ${formatShape(actual)}`);
    declared.forEach((d, i) => {
      if (isPlainSymbol(d)) {
        this.bind(d, actual[i]!, where);
        return;
      }
      // A number, or an expression of symbols (N*128) checked once its symbols are bound.
      const want = evalDim(d, (sym) => this.lookup(sym));
      if (want !== undefined && want !== actual[i]) fail('E_RUNTIME', `${where}: expected shape ${formatShape(declared)}, got ${formatShape(actual)}`);
    });
  }
}

export interface InterpretOptions {
  /** Called after each node with its results (for tracing and debugging). */
  onNode?: (node: Node, results: readonly Tensor[]) => void;
}

/** Run a graph on inputs given in the order of `g.inputs` or by input name. */
export function interpret(g: Graph, inputs: readonly Tensor[] | ReadonlyMap<string, Tensor>, opts: InterpretOptions = {}): Tensor[] {
  const ordered = Array.isArray(inputs) ? (inputs as readonly Tensor[]) : g.inputs.map((v, i) => {
    const t = (inputs as ReadonlyMap<string, Tensor>).get(v.name ?? '');
    if (!t) fail('E_RUNTIME', `graph @${g.name}: no value given for input ${i} "${v.name ?? ''}"`);
    return t;
  });
  return new Interpreter(new SymbolTable(), opts).run(g, ordered, new Map());
}

class Interpreter {
  constructor(private readonly symbols: SymbolTable, private readonly opts: InterpretOptions) {}

  run(g: Graph, inputs: readonly (Tensor | null)[], outer: ReadonlyMap<Value, Tensor>): Tensor[] {
    if (inputs.length !== g.inputs.length) {
      fail('E_RUNTIME', `graph @${g.name} takes ${g.inputs.length} inputs, got ${inputs.length}`);
    }
    const env = new Map<Value, Tensor>(outer);
    g.inputs.forEach((v, i) => {
      const t = inputs[i];
      if (!t) return; // an omitted optional input of a subgraph (Loop's absent trip count)
      const where = `graph @${g.name} input "${v.name ?? i}"`;
      if (t.dtype !== v.dtype) fail('E_RUNTIME', `${where}: expected ${formatType(v.type)}, got ${t.dtype}${formatShape(t.shape)}`);
      this.symbols.match(v.shape, t.shape, where);
      env.set(v, t);
    });
    const lastUse = lastUses(g);
    const keep = new Set(g.outputs);
    const ctx: EvalContext = {
      resolveShape: (s) => this.symbols.resolve(s, `graph @${g.name}`),
      runGraph: (sub, subInputs) => new Interpreter(this.symbols.child(), this.opts).run(sub, subInputs, env),
    };
    g.nodes.forEach((node, step) => {
      const args = node.inputs.map((v) => {
        if (!v) return null;
        const t = env.get(v);
        if (!t) fail('E_RUNTIME', `${node.describe()}: operand %${v.name ?? v.id} has no value`);
        return t;
      });
      const results = this.evalNode(node, args, ctx);
      node.outputs.forEach((o, i) => env.set(o, results[i]!));
      this.opts.onNode?.(node, results);
      for (const v of node.inputs) if (v && lastUse.get(v) === step && !keep.has(v) && !outer.has(v)) env.delete(v);
    });
    return g.outputs.map((v, i) => env.get(v) ?? fail('E_RUNTIME', `graph @${g.name}: output ${i} has no value`));
  }

  private evalNode(node: Node, args: (Tensor | null)[], ctx: EvalContext): Tensor[] {
    const def = getOp(node.op);
    if (!def.eval) fail('E_UNSUPPORTED', `${node.describe()}: the interpreter cannot run this op; lower it to prims first`);
    let results: Tensor[];
    try {
      results = def.eval(node, args, ctx);
    } catch (e) {
      if (e instanceof AicError) {
        throw e.message.includes(node.op) ? e : e.withContext(node.describe());
      }
      if (e instanceof RangeError) fail('E_LIMIT', `${node.describe()}: ${e.message}`);
      throw e;
    }
    if (results.length !== node.outputs.length) fail('E_RUNTIME', `${node.describe()}: gave ${results.length} results, declares ${node.outputs.length}`);
    results.forEach((t, i) => {
      const o = node.outputs[i]!;
      const where = `${node.describe()} result ${i}`;
      if (t.dtype !== o.dtype) fail('E_RUNTIME', `${where}: expected ${formatType(o.type)}, got ${t.dtype}${formatShape(t.shape)}`);
      this.symbols.match(o.shape, t.shape, where);
    });
    return results;
  }
}

/** Index of the last node of g that reads each value (reads inside subgraphs count for their node). */
function lastUses(g: Graph): Map<Value, number> {
  const last = new Map<Value, number>();
  const visit = (sub: Graph, step: number): void => {
    for (const n of sub.nodes) {
      for (const v of n.inputs) if (v) last.set(v, step);
      for (const s of subgraphsOf(n)) visit(s, step);
    }
    for (const v of sub.outputs) last.set(v, step);
  };
  g.nodes.forEach((n, step) => {
    for (const v of n.inputs) if (v) last.set(v, step);
    for (const s of subgraphsOf(n)) visit(s, step);
  });
  return last;
}

