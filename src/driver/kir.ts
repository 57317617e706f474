// The `kir` compilation: a prim graph scheduled into a kernel-IR Program, its temps placed in one arena.
// `aic compile --target kir` writes the result; the `kir` target runs it on the kernel-IR interpreter.
import type { Graph } from '../ir/graph.js';
import { countNodes } from '../passes/manager.js';
import { scheduleGraph, type FusionDecision } from '../passes/schedule/index.js';
import { planMemory, type ArenaPlan } from '../passes/memory-plan.js';
import type { Program } from '../kernel/program.js';

export interface StageTiming {
  name: string;
  ms: number;
  /** Nodes of the graph after a graph pass; kernels of the Program after schedule and plan. */
  nodes: number;
}

export interface KirCompilation {
  /** The scheduled Program, before memory planning (no arena offsets). */
  unplanned: Program;
  program: Program;
  decisions: readonly FusionDecision[];
  plan: ArenaPlan;
  timings: StageTiming[];
}

/** Schedule and plan a lowered, canonical prim graph. */
export function compileKir(g: Graph): KirCompilation {
  const t0 = performance.now();
  const s = scheduleGraph(g);
  const t1 = performance.now();
  const { program, plan } = planMemory(s.program);
  const t2 = performance.now();
  return {
    unplanned: s.program,
    program,
    decisions: s.decisions,
    plan,
    timings: [
      { name: 'schedule', ms: t1 - t0, nodes: program.kernels.length },
      { name: 'plan', ms: t2 - t1, nodes: program.kernels.length },
    ],
  };
}

export { countNodes };
