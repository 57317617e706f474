// `aic verify`: run a pipeline one pass at a time, interpret after each pass, and compare with the
// result before it. The first pass that changes the numbers is named, with its input and output graphs.
import { DTYPE_INFO, isFloat } from '../ir/dtype.js';
import type { Graph, Value } from '../ir/graph.js';
import { printGraph } from '../ir/printer.js';
import { Tensor } from '../ir/tensor.js';
import { verifyGraph } from '../ir/verify.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import { interpret } from '../runtime/interpreter.js';
import { compareOutputs } from '../passes/equivalence.js';
import { countNodes, parsePipeline } from '../passes/manager.js';
import { defaultPipeline } from '../passes/builtin.js';

export interface VerifyRow {
  pass: string;
  nodesBefore: number;
  nodesAfter: number;
  ms: number;
  /** Compared with the previous interpretable stage; false when the graph is not all prims yet. */
  checked: boolean;
  ok: boolean;
  maxAbsErr: number;
  maxRelErr: number;
  reason?: string;
}

export interface VerifyReport {
  rows: VerifyRow[];
  /** The first pass that changed the numbers, with its input and output as IR text. */
  divergence?: { pass: string; before: string; after: string; reason: string };
}

export interface VerifyOptions {
  passes?: string;
  /** Called with every stage's IR text: `00-import.air`, `01-lower.air`, … */
  dump?: (fileName: string, text: string) => void;
}

const isPrimGraph = (g: Graph): boolean => {
  for (const n of g.allNodes()) if (n.dialect !== 'prim') return false;
  return true;
};

export function verifyModel(model: ImportedModel, inputs: readonly Tensor[], opts: VerifyOptions = {}): VerifyReport {
  const passes = parsePipeline(opts.passes ?? defaultPipeline('interp'));
  const ctx = { opsets: model.opsets, target: 'interp' };
  const rows: VerifyRow[] = [];
  let g = model.graph;
  opts.dump?.('00-import.air', printGraph(g));
  let reference = isPrimGraph(g) ? interpret(g, inputs) : undefined;
  for (const [i, pass] of passes.entries()) {
    const before = printGraph(g);
    const nodesBefore = countNodes(g);
    const start = performance.now();
    const next = pass.run(g, ctx);
    const ms = performance.now() - start;
    verifyGraph(next);
    opts.dump?.(`${String(i + 1).padStart(2, '0')}-${pass.name}.air`, printGraph(next));
    const row: VerifyRow = { pass: pass.name, nodesBefore, nodesAfter: countNodes(next), ms, checked: false, ok: true, maxAbsErr: 0, maxRelErr: 0 };
    if (isPrimGraph(next)) {
      const out = interpret(next, inputs);
      if (reference) {
        const cmp = compareOutputs(out, reference);
        row.checked = true;
        row.ok = cmp.ok;
        row.maxAbsErr = Math.max(0, ...cmp.outputs.map((c) => c.maxAbsErr));
        row.maxRelErr = Math.max(0, ...cmp.outputs.map((c) => c.maxRelErr));
        if (!cmp.ok) {
          row.reason = cmp.reason ?? 'outputs differ';
          rows.push(row);
          return { rows, divergence: { pass: pass.name, before, after: printGraph(next), reason: row.reason } };
        }
      }
      reference = out;
    }
    rows.push(row);
    g = next;
  }
  return { rows };
}

/** Seeded random inputs of the graph's input types (symbolic dims as 1): floats in [-1, 1), small integers. */
export function randomInputs(inputs: readonly Value[], seed = 1): Tensor[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return inputs.map((v) => {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : 1));
    const t = Tensor.zeros(v.dtype, shape);
    for (let i = 0; i < t.size; i++) {
      if (isFloat(v.dtype)) t.set(i, rand() * 2 - 1);
      else if (v.dtype === 'bool') t.set(i, rand() < 0.5);
      else t.set(i, Math.floor(rand() * (DTYPE_INFO[v.dtype].kind === 'uint' ? 4 : 7)) - (DTYPE_INFO[v.dtype].kind === 'uint' ? 0 : 3));
    }
    return t;
  });
}
