// Numerical equivalence of a pass: the interpreter gives the same outputs before and after it, within a
// dtype-aware tolerance. Property tests feed it random graphs; `aic verify` feeds it the user's model.
import { AicError } from '../ir/error.js';
import type { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/printer.js';
import type { Tensor } from '../ir/tensor.js';
import { interpret } from '../runtime/interpreter.js';
import { compareTensors, type Comparison } from '../runtime/compare.js';
import type { Pass, PassContext } from './pass.js';

/** Tolerance per dtype: passes may reassociate within rounding; integers and bools must be exact. */
export const PASS_TOLERANCE: Readonly<Record<DType, { rtol: number; atol: number }>> = {
  f64: { rtol: 1e-12, atol: 1e-12 },
  f32: { rtol: 1e-5, atol: 1e-6 },
  f16: { rtol: 2e-3, atol: 1e-3 },
  bf16: { rtol: 1.6e-2, atol: 1e-2 },
  // One unit in the last place of each small float format (its mantissa: 3, 2, 1 or 0 bits).
  f8e4m3fn: { rtol: 0.125, atol: 2 ** -9 }, f8e4m3fnuz: { rtol: 0.125, atol: 2 ** -10 },
  f8e5m2: { rtol: 0.25, atol: 2 ** -16 }, f8e5m2fnuz: { rtol: 0.25, atol: 2 ** -17 },
  f4e2m1: { rtol: 0.5, atol: 0.5 }, f8e8m0: { rtol: 1, atol: 0 },
  i4: { rtol: 0, atol: 0 }, u4: { rtol: 0, atol: 0 }, i2: { rtol: 0, atol: 0 }, u2: { rtol: 0, atol: 0 },
  i8: { rtol: 0, atol: 0 }, i16: { rtol: 0, atol: 0 }, i32: { rtol: 0, atol: 0 }, i64: { rtol: 0, atol: 0 },
  u8: { rtol: 0, atol: 0 }, u16: { rtol: 0, atol: 0 }, u32: { rtol: 0, atol: 0 }, u64: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
};

export interface OutputsComparison {
  ok: boolean;
  /** Per output; empty when the run itself failed or the counts differ. */
  outputs: Comparison[];
  reason?: string;
}

/** Compare two runs' outputs with the dtype-aware tolerance (or a fixed one). */
export function compareOutputs(after: readonly Tensor[], before: readonly Tensor[], tol?: { rtol: number; atol: number }): OutputsComparison {
  if (after.length !== before.length) return { ok: false, outputs: [], reason: `${after.length} outputs after, ${before.length} before` };
  const outputs = after.map((a, i) => compareTensors(a, before[i]!, tol ?? PASS_TOLERANCE[before[i]!.dtype]));
  const bad = outputs.findIndex((c) => !c.ok);
  return bad < 0 ? { ok: true, outputs } : { ok: false, outputs, reason: `output ${bad}: ${outputs[bad]!.reason}` };
}

export interface EquivalenceCase {
  graph: Graph;
  inputs: readonly Tensor[];
}

export interface EquivalenceFailure {
  pass: string;
  reason: string;
  /** The graph the pass was given, and what it made of it, as IR text. */
  before: string;
  after: string;
}

const DEFAULT_CONTEXT: PassContext = { opsets: new Map([['', 21]]), target: 'interp' };

/** Run `pass` on one graph and compare the interpreter's results; undefined when they agree. A graph the
 * interpreter cannot run before the pass is not evidence either way and also gives undefined. */
export function checkPassOnGraph(pass: Pass, c: EquivalenceCase, ctx: PassContext = DEFAULT_CONTEXT): EquivalenceFailure | undefined {
  const before = printGraph(c.graph);
  let expected: Tensor[];
  try {
    expected = interpret(c.graph, c.inputs);
  } catch (e) {
    if (e instanceof AicError) return undefined;
    throw e;
  }
  let transformed: Graph;
  try {
    transformed = pass.run(c.graph, ctx);
  } catch (e) {
    return { pass: pass.name, reason: `the pass failed: ${e instanceof Error ? e.message : String(e)}`, before, after: '' };
  }
  const after = printGraph(transformed);
  let actual: Tensor[];
  try {
    actual = interpret(transformed, c.inputs);
  } catch (e) {
    return { pass: pass.name, reason: `the graph after the pass does not run: ${e instanceof Error ? e.message : String(e)}`, before, after };
  }
  const cmp = compareOutputs(actual, expected);
  return cmp.ok ? undefined : { pass: pass.name, reason: cmp.reason ?? 'outputs differ', before, after };
}

/** Check a pass on many graphs; returns the first failure (with both graphs as IR text), if any. */
export function checkPassPreservesSemantics(pass: Pass, cases: Iterable<EquivalenceCase>, ctx: PassContext = DEFAULT_CONTEXT): EquivalenceFailure | undefined {
  for (const c of cases) {
    const f = checkPassOnGraph(pass, c, ctx);
    if (f) return f;
  }
  return undefined;
}

export function formatEquivalenceFailure(f: EquivalenceFailure): string {
  return `pass '${f.pass}' changed the numbers: ${f.reason}\n--- before ---\n${f.before}--- after ---\n${f.after}`;
}
