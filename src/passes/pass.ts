// A pass: a named, pure-ish transformation of a graph. It may rewrite the graph in place or return a new
// one; either way the manager takes what it returns as the next stage.
import type { Graph } from '../ir/graph.js';

export interface PassContext {
  /** Opset per ONNX domain of the imported model ('' is the default domain); lowering needs it. */
  readonly opsets: ReadonlyMap<string, number>;
  /** The target the pipeline compiles for (`interp`, `kir`, `cpu`, …). */
  readonly target: string;
}

export interface Pass {
  readonly name: string;
  /** One line for `aic passes` and the docs. */
  readonly description: string;
  run(g: Graph, ctx: PassContext): Graph;
}

const passes = new Map<string, Pass>();

export function registerPass(p: Pass): Pass {
  passes.set(p.name, p);
  return p;
}

export const findPass = (name: string): Pass | undefined => passes.get(name);

export const allPasses = (): Pass[] => [...passes.values()];
