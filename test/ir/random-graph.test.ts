// Properties of the random prim graph generator (test/support/random-graph.ts), which every pass's
// equivalence property reuses: its graphs verify, run, and match their declared types; it is
// deterministic, shrinks to prefixes, keeps to its options, and covers the whole prim set.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CORE_DTYPES, isFloat, type DType } from '../../src/ir/dtype.js';
import type { Graph } from '../../src/ir/graph.js';
import { allOps } from '../../src/ir/op.js';
import { shapeEq } from '../../src/ir/shape.js';
import type { Tensor } from '../../src/ir/tensor.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { GENERATED_PRIMS, arbPrimGraph, arbTensor, generatePrimGraph, type PrimGraphCase } from '../support/random-graph.js';

/** Every result of every node (not just the outputs), checked against its declared type as it is made. */
function runChecked(c: PrimGraphCase): { outputs: Tensor[]; values: Tensor[] } {
  const values: Tensor[] = [];
  const outputs = interpret(c.graph, c.inputs, {
    onNode: (node, results) => {
      results.forEach((t, i) => {
        const o = node.outputs[i]!;
        expect(t.dtype).toBe(o.dtype);
        expect(t.shape).toEqual(o.shape);
        values.push(t);
      });
    },
  });
  c.graph.outputs.forEach((v, i) => {
    expect(outputs[i]!.dtype).toBe(v.dtype);
    expect(shapeEq(outputs[i]!.shape, v.shape)).toBe(true);
  });
  return { outputs, values };
}

/** A structural fingerprint of a graph, independent of the printer: ops, operands, types, attributes. */
function signature(g: Graph): string[] {
  const ids = new Map<unknown, number>();
  // Inputs by name, other values numbered by first appearance (so a prefix numbers the same).
  const id = (v: { name: string | undefined; producer: unknown } | null): string => {
    if (!v) return '_';
    if (!v.producer) return v.name ?? '?';
    if (!ids.has(v)) ids.set(v, ids.size);
    return String(ids.get(v)!);
  };
  const type = (v: { dtype: string; shape: readonly (number | string)[] }): string => `${v.dtype}[${v.shape.join(',')}]`;
  const attr = (a: { kind: string; value: unknown }): string =>
    a.kind === 'tensor' ? `tensor:${String((a.value as Tensor).toString())}` : `${a.kind}:${JSON.stringify(a.value, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))}`;
  return g.nodes.map((n) => `${n.outputs.map((o) => `%${id(o)}:${type(o)}`).join(',')} = ${n.op}(${n.inputs.map((v) => `%${id(v)}`).join(',')}) ${Object.keys(n.attrs).sort().map((k) => `${k}=${attr(n.attrs[k]!)}`).join(' ')}`);
}

describe('arbPrimGraph', () => {
  it('makes graphs that verify, run, and give results of their declared types', () => {
    fc.assert(fc.property(arbPrimGraph({ maxNodes: 16 }), (c) => {
      verifyGraph(c.graph);
      expect(c.inputs.length).toBe(c.graph.inputs.length);
      c.graph.inputs.forEach((v, i) => {
        expect(c.inputs[i]!.dtype).toBe(v.dtype);
        expect(c.inputs[i]!.shape).toEqual(v.shape);
      });
      const { outputs } = runChecked(c);
      expect(outputs.length).toBe(c.graph.outputs.length);
      expect(c.graph.nodes.length).toBeGreaterThanOrEqual(1);
    }), { seed: 7, numRuns: 600 });
  });

  it('does so in tame mode too, where every float value stays within 1e4 (or is NaN)', () => {
    fc.assert(fc.property(arbPrimGraph({ numericallyTame: true, maxNodes: 20 }), (c) => {
      verifyGraph(c.graph);
      c.inputs.filter((t) => isFloat(t.dtype)).forEach((t) => {
        for (const x of t.data as Float32Array) expect(Math.abs(x)).toBeLessThanOrEqual(2);
      });
      const { values } = runChecked(c);
      for (const t of values) {
        if (!isFloat(t.dtype)) continue;
        for (const x of t.data as Float32Array) if (!Number.isNaN(x)) expect(Math.abs(x)).toBeLessThanOrEqual(1e4);
      }
      for (const n of c.graph.nodes) {
        if (isFloat(n.output.dtype)) expect(['prim.pow', 'prim.recip', 'prim.log']).not.toContain(n.op);
      }
    }), { seed: 8, numRuns: 400 });
  });

  it('is deterministic: one seed, one graph and one set of inputs', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 15 }), (seed, maxNodes) => {
      const a = generatePrimGraph(seed, { maxNodes });
      const b = generatePrimGraph(seed, { maxNodes });
      expect(signature(b.graph)).toEqual(signature(a.graph));
      expect(b.inputs.map(String)).toEqual(a.inputs.map(String));
      expect(signature(a.fresh().graph)).toEqual(signature(a.graph));
      expect(a.fresh().graph).not.toBe(a.graph);
    }), { seed: 9, numRuns: 100 });
  });

  it('shrinks to prefixes: fewer nodes give the first nodes of the bigger graph', () => {
    fc.assert(fc.property(fc.integer(), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), (seed, k, more) => {
      const small = generatePrimGraph(seed, { maxNodes: k });
      const big = generatePrimGraph(seed, { maxNodes: k + more });
      const s = signature(small.graph);
      expect(s.length).toBeGreaterThanOrEqual(k);
      expect(signature(big.graph).slice(0, s.length)).toEqual(s);
    }), { seed: 10, numRuns: 150 });
  });

  it('keeps to its dtype, op, rank, size and input options', () => {
    const opts = fc.record({
      dtypes: fc.subarray([...CORE_DTYPES], { minLength: 1 }),
      ops: fc.subarray([...GENERATED_PRIMS], { minLength: 1 }).map((ops) => [...ops, 'add', 'neg', 'cast']),
      maxRank: fc.integer({ min: 0, max: 5 }),
      maxDim: fc.integer({ min: 1, max: 5 }),
      maxElements: fc.integer({ min: 1, max: 300 }),
      maxInputs: fc.integer({ min: 1, max: 4 }),
      maxOutputs: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(fc.property(opts, fc.integer(), fc.integer({ min: 1, max: 10 }), (o, seed, maxNodes) => {
      const c = generatePrimGraph(seed, { ...o, maxNodes });
      verifyGraph(c.graph);
      expect(c.graph.inputs.length).toBeLessThanOrEqual(o.maxInputs);
      expect(c.graph.outputs.length).toBeLessThanOrEqual(o.maxOutputs);
      for (const n of c.graph.nodes) {
        expect(o.ops).toContain(n.opName);
        for (const v of n.outputs) {
          const isIndex = (n.op === 'prim.const' || n.op === 'prim.iota') && (v.dtype === 'i64' || v.dtype === 'i32');
          if (!isIndex) expect(o.dtypes).toContain(v.dtype);
          const shape = v.shape as number[];
          expect(shape.length).toBeLessThanOrEqual(o.maxRank);
          expect(shape.reduce((a, b) => a * b, 1)).toBeLessThanOrEqual(o.maxElements);
        }
      }
      for (const v of c.graph.inputs) expect(o.dtypes).toContain(v.dtype);
      runChecked(c);
    }), { seed: 11, numRuns: 300 });
  });

  it('covers every prim, every dtype, ranks 0 to 5, zero-size dims, shared values and several outputs', () => {
    const ops = new Set<string>();
    const dtypes = new Set<DType>();
    const ranks = new Set<number>();
    let zeroSize = 0;
    let shared = 0;
    let multiOut = 0;
    let symmetric = 0;
    for (let seed = 0; seed < 600; seed++) {
      const c = generatePrimGraph(seed, { maxNodes: 1 + (seed % 16), maxRank: 5 });
      const users = c.graph.users();
      for (const n of c.graph.nodes) {
        ops.add(n.opName);
        if (n.inputs.length === 2 && n.inputs[0] === n.inputs[1]) symmetric++;
        for (const v of [...n.inputs, ...n.outputs]) {
          if (!v) continue;
          dtypes.add(v.dtype);
          ranks.add(v.shape.length);
          if (v.shape.includes(0)) zeroSize++;
          if ((users.get(v)?.length ?? 0) > 1) shared++;
        }
      }
      if (c.graph.outputs.length > 1) multiOut++;
    }
    expect([...GENERATED_PRIMS].filter((op) => !ops.has(op))).toEqual([]);
    expect(CORE_DTYPES.filter((t) => !dtypes.has(t))).toEqual([]);
    expect([...ranks].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(zeroSize).toBeGreaterThan(50);
    expect(shared).toBeGreaterThan(300);
    expect(multiOut).toBeGreaterThan(100);
    expect(symmetric).toBeGreaterThan(20);
  });

  it('generates every registered prim, or says why not', () => {
    // Prims the generator leaves out on purpose, with the reason. The structured ops are covered by
    // test/frontend/ops/control.test.ts (against ONNX Runtime) and the conformance cases.
    const notGenerated: Record<string, string> = {
      if: 'needs generated branch graphs',
      loop: 'needs a generated body graph',
      scan: 'needs a generated body graph',
      topk: 'not yet added to the generator',
      nonzero: 'its result shape depends on the data',
      unique: 'its result shape depends on the data',
    };
    const prims = allOps().filter((d) => d.name.startsWith('prim.')).map((d) => d.name.slice(5));
    expect(prims.filter((p) => !GENERATED_PRIMS.includes(p) && !(p in notGenerated))).toEqual([]);
  });

  it('reports a failing case as the IR text it was generated as, even after a pass mutated it', () => {
    let message = '';
    try {
      fc.assert(fc.property(arbPrimGraph({ maxNodes: 3, ops: ['add', 'neg'] }), (c) => {
        expect(c.graph.nodes.length).toBeGreaterThan(0); // never a copy an earlier run emptied
        c.graph.nodes.length = 0; // a destructive "pass"
        return false;
      }), { seed: 12, numRuns: 5 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('generatePrimGraph(');
    expect(message).toMatch(/prim\.(add|neg)/); // printed as generated, not as the run left it
  });
});

describe('arbTensor', () => {
  it('makes tensors of the dtype and shape asked, every dtype', () => {
    const arb = fc.constantFrom(...CORE_DTYPES).chain((dtype) =>
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }).chain((shape) => arbTensor(dtype, shape).map((t) => ({ dtype, shape, t }))));
    fc.assert(fc.property(arb, ({ dtype, shape, t }) => {
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual(shape);
    }), { seed: 13, numRuns: 200 });
  });

  it('keeps tame floats in [-2, 2] with no specials', () => {
    fc.assert(fc.property(arbTensor('f32', [8], { tame: true }), (t) => {
      for (const x of t.data as Float32Array) expect(Math.abs(x)).toBeLessThanOrEqual(2);
    }), { seed: 14, numRuns: 100 });
  });
});
