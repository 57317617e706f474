// The pass manager: pipelines from strings ("lower,fold,cse,dce"), instrumentation before and after each
// pass (print-IR, dumps, equivalence checks hook in here), the verifier after every pass when asked,
// and a timing per pass.
import { AicError, fail } from '../ir/error.js';
import type { Graph } from '../ir/graph.js';
import { printGraph } from '../ir/printer.js';
import { verifyGraph } from '../ir/verify.js';
import { allPasses, findPass, type Pass, type PassContext } from './pass.js';
import './builtin.js';

export interface Instrumentation {
  beforePass?(pass: Pass, g: Graph, index: number): void;
  afterPass?(pass: Pass, g: Graph, index: number, ms: number): void;
}

export interface PassTiming {
  name: string;
  ms: number;
  /** Nodes after the pass (subgraphs included). */
  nodes: number;
}

export interface PipelineOptions {
  /** Run the IR verifier after every pass (always on in tests). */
  verifyEach?: boolean;
  instrumentations?: readonly Instrumentation[];
}

/** The passes named by a comma-separated pipeline string; an unknown name is a usage error. */
export function parsePipeline(text: string): Pass[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) fail('E_USAGE', 'the pass pipeline is empty');
  return names.map((n) => findPass(n) ?? fail('E_USAGE', `unknown pass '${n}'`, `passes: ${allPasses().map((p) => p.name).join(', ')}`));
}

export const countNodes = (g: Graph): number => {
  let n = 0;
  for (const _ of g.allNodes()) n++;
  return n;
};

export class PassManager {
  readonly passes: readonly Pass[];
  private readonly opts: PipelineOptions;

  constructor(passes: readonly Pass[] | string, opts: PipelineOptions = {}) {
    this.passes = typeof passes === 'string' ? parsePipeline(passes) : passes;
    this.opts = opts;
  }

  run(g: Graph, ctx: PassContext): { graph: Graph; timings: PassTiming[] } {
    const timings: PassTiming[] = [];
    const instr = this.opts.instrumentations ?? [];
    let cur = g;
    this.passes.forEach((pass, i) => {
      for (const ins of instr) ins.beforePass?.(pass, cur, i);
      const start = performance.now();
      try {
        cur = pass.run(cur, ctx);
      } catch (e) {
        if (e instanceof AicError) throw e.withContext(`in pass '${pass.name}'`);
        throw e;
      }
      const ms = performance.now() - start;
      if (this.opts.verifyEach) {
        try {
          verifyGraph(cur);
        } catch (e) {
          if (e instanceof AicError) fail('E_VERIFY', `after pass '${pass.name}': ${e.message}`);
          throw e;
        }
      }
      timings.push({ name: pass.name, ms, nodes: countNodes(cur) });
      for (const ins of instr) ins.afterPass?.(pass, cur, i, ms);
    });
    return { graph: cur, timings };
  }
}

/** `--print-ir-before/--print-ir-after PASS|all`: the IR text around the named passes. */
export function printIr(when: 'before' | 'after', which: string, write: (text: string) => void): Instrumentation {
  const wanted = (p: Pass): boolean => which === 'all' || which.split(',').includes(p.name);
  const emit = (p: Pass, g: Graph): void => write(`// ----- IR ${when} ${p.name} -----\n${printGraph(g, { elideTensorsOver: 16 })}`);
  return when === 'before'
    ? { beforePass: (p, g) => wanted(p) && emit(p, g) }
    : { afterPass: (p, g) => wanted(p) && emit(p, g) };
}

/** `--dump-dir D`: every stage as a numbered file (`00-import.air`, `01-lower.air`, …) that parses back. */
export function dumpStages(write: (fileName: string, text: string) => void): Instrumentation {
  return {
    beforePass: (_p, g, i) => {
      if (i === 0) write('00-import.air', printGraph(g));
    },
    afterPass: (p, g, i) => write(`${String(i + 1).padStart(2, '0')}-${p.name}.air`, printGraph(g)),
  };
}
