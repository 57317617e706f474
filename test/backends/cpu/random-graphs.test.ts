// The CPU backend against the graph interpreter on random prim graphs (test/support/random-graph.ts): each
// graph scheduled and planned into a Program, rendered as C++, all of a batch built into one executable,
// run, and compared. Every dtype, NaN/inf/-0 and empty dims in one batch; numerically tame f32 graphs with
// dots large enough for the GEMM micro-kernel in another. Seeded: a failure names the seed to reproduce
// with generatePrimGraph(seed, options).
import { afterAll, describe, expect, test } from 'vitest';
import { AicError } from '../../../src/ir/error.js';
import { isFloat } from '../../../src/ir/dtype.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { scheduleGraph } from '../../../src/passes/schedule/index.js';
import { planMemory } from '../../../src/passes/memory-plan.js';
import { printProgram } from '../../../src/kernel/printer.js';
import type { Program } from '../../../src/kernel/program.js';
import { renderModel } from '../../../src/backends/cpu/emit.js';
import { generatePrimGraph, type PrimGraphOptions } from '../../support/random-graph.js';
import { buildBatch, NO_GXX, type Batch } from './harness.js';

interface Case {
  seed: number;
  program: Program;
  inputs: Tensor[];
  want: Tensor[];
}

/** Cases for seeds [from, from + count) the interpreter and the backend both accept. */
function cases(from: number, count: number, options: PrimGraphOptions, nodes: number): { ok: Case[]; refused: string[] } {
  const ok: Case[] = [];
  const refused: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const c = generatePrimGraph(seed, { ...options, maxNodes: nodes });
    let want: Tensor[];
    try {
      want = interpret(c.graph, c.inputs);
    } catch (e) {
      if (e instanceof AicError) continue; // the reference itself stops (a bad index)
      throw e;
    }
    const { program } = planMemory(scheduleGraph(c.fresh().graph).program);
    try {
      renderModel(program, { prefix: 'probe' });
    } catch (e) {
      if (e instanceof AicError && e.code === 'E_UNSUPPORTED') {
        refused.push(`${seed}: ${e.message}`);
        continue;
      }
      throw e;
    }
    ok.push({ seed, program, inputs: c.inputs, want });
  }
  return { ok, refused };
}

async function check(batch: Batch, list: readonly Case[], tol: (t: Tensor) => { rtol: number; atol: number }): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const c = list[i]!;
    let got: Tensor[];
    try {
      got = await batch.run(i, c.inputs);
    } catch (e) {
      failures.push(`seed ${c.seed}: ${(e as Error).message}\n${printProgram(c.program, { elideWeightsOver: 8 })}`);
      continue;
    }
    c.want.forEach((w, k) => {
      const cmp = compareTensors(got[k]!, w, tol(w));
      if (!cmp.ok) failures.push(`seed ${c.seed} output ${k}: ${cmp.reason}\n  cpu: ${got[k]!.toString()}\n  interp: ${w.toString()}\n${printProgram(c.program, { elideWeightsOver: 8 })}`);
    });
  }
  return failures;
}

const batches: Batch[] = [];
afterAll(() => {
  for (const b of batches) b.dispose();
});

describe.skipIf(NO_GXX !== undefined)('cpu backend ≡ interpreter on random prim graphs', () => {
  test('every dtype, specials, empty dims (60 graphs, one executable)', async () => {
    const { ok } = cases(1000, 70, { maxRank: 4 }, 14);
    expect(ok.length).toBeGreaterThan(40);
    const batch = await buildBatch(ok.map((c) => c.program));
    batches.push(batch);
    // f32 transcendental functions come from vecmath.h (a few ulp); everything else is exact.
    const failures = await check(batch, ok, (t) => (isFloat(t.dtype) ? { rtol: 1e-5, atol: 1e-30 } : { rtol: 0, atol: 0 }));
    expect(failures).toEqual([]);
  }, 600_000);

  test('tame f32 graphs with dots through the GEMM micro-kernel (30 graphs)', async () => {
    const { ok } = cases(5000, 30, { numericallyTame: true, dtypes: ['f32'], maxRank: 3, maxDim: 24, maxElements: 4096 }, 10);
    const batch = await buildBatch(ok.map((c) => c.program), { emit: { gemmMinMacs: 1 } });
    batches.push(batch);
    const failures = await check(batch, ok, () => ({ rtol: 1e-4, atol: 1e-5 }));
    expect(failures).toEqual([]);
  }, 600_000);
});
