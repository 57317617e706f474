// The graph half of compilation: an imported model through a pass pipeline (lowering and
// canonicalization by default) to a verified prim graph.
import type { Graph } from '../ir/graph.js';
import { verifyGraph } from '../ir/verify.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import { PassManager, type Instrumentation, type PassTiming } from '../passes/manager.js';
import { defaultPipeline } from '../passes/builtin.js';

export interface PipelineRequest {
  target: string;
  /** A pipeline string; default: the target's default pipeline. */
  passes?: string;
  verifyEach?: boolean;
  instrumentations?: readonly Instrumentation[];
}

export interface OptimizedModel {
  graph: Graph;
  timings: PassTiming[];
}

export function optimizeModel(model: ImportedModel, req: PipelineRequest): OptimizedModel {
  const pm = new PassManager(req.passes ?? defaultPipeline(req.target), {
    verifyEach: req.verifyEach ?? false,
    instrumentations: req.instrumentations ?? [],
  });
  const { graph, timings } = pm.run(model.graph, { opsets: model.opsets, target: req.target });
  verifyGraph(graph);
  return { graph, timings };
}
