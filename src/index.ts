// aic's public API: what a pass, a backend or a tool built on aic imports (and what --plugin modules get).

// The graph IR
export { AicError, fail, type ErrorCode } from './ir/error.js';
export { DTYPES, DTYPE_INFO, isFloat, type DType } from './ir/dtype.js';
export { broadcastShapes, type Dim, type Shape } from './ir/shape.js';
export { Tensor } from './ir/tensor.js';
export { A, type Attr, type Attrs } from './ir/attr.js';
export { Graph, Node, Value, formatType, type TensorType } from './ir/graph.js';
export { registerOp, getOp, findOp, allOps, type OpDef, type EvalContext } from './ir/op.js';
export { GraphBuilder, createNode, constantOf } from './ir/builder.js';
export { verifyGraph } from './ir/verify.js';
export { printGraph } from './ir/printer.js';
export { parseGraph } from './ir/parser.js';

// The ONNX frontend
export { importModel, type ImportedModel, type ImportOptions } from './frontend/onnx/import.js';
export { decodeModelProto } from './frontend/onnx/decode.js';
export { defineOnnxOps, type OnnxOp } from './frontend/onnx/registry.js';

// Passes
export { registerPass, findPass, allPasses, type Pass, type PassContext } from './passes/pass.js';
export { PassManager, parsePipeline, type Instrumentation } from './passes/manager.js';
export { rewriteGraph, type Rule, type Candidate } from './passes/rewrite.js';
export { checkPassOnGraph, checkPassPreservesSemantics, compareOutputs, type EquivalenceCase } from './passes/equivalence.js';
export { CANONICALIZE, defaultPipeline } from './passes/builtin.js';

// Running
export { interpret } from './runtime/interpreter.js';
export { compareTensors } from './runtime/compare.js';
export { readNpy, writeNpy } from './runtime/npy.js';
export { readTensorProto, writeTensorProto } from './runtime/tensor-proto.js';
export { registerTarget, compileForTarget, type CompiledModel } from './driver/targets.js';
export { loadModel } from './driver/model-file.js';

// Backends: the interface, the shared walk of a loop kernel, registering one as a target
export type { Backend, Artifact, Built, EmitOptions, BuildOptions, RunOptions, Timing } from './backends/backend.js';
export { findBackend, allBackends } from './backends/backend.js';
export { KernelWriter, type LoopRole, type ReduceSpelling, type LetStmt, type ReduceStmt, type LoopStmt } from './backends/kernel-writer.js';
export { cacheRoot } from './backends/cache.js';
export { registerBackend, compileWithBackend, programFor, buildCached } from './driver/backend-target.js';
export { cpuBackend } from './backends/cpu/index.js';
export { wgslBackend, emitWgsl, WgslModel, WgslRunner, type WgslArtifact, type WgslPlan, type HostArray } from './backends/wgsl/index.js';
export { specializeProgram, bindSymbols, programSymbols } from './passes/specialize.js';
export { bufferBytes, bufferMap, getBuffer, type BufferRole } from './kernel/program.js';
export { hasStages } from './kernel/kernel.js';
export { rangeOf } from './kernel/index-expr.js';

// The kernel IR (docs/KERNEL-IR.md): what backends render
export { ix, simplify, printIndex, flatten, unflatten, evalIndex, type IndexExpr } from './kernel/index-expr.js';
export { allStmts, kernelReads, kernelWrites, type Kernel, type LoopKernel, type ExternKernel, type Stmt, type Expr, type Axis, type Combiner } from './kernel/kernel.js';
export { ALIGNMENT, type Program, type Buffer } from './kernel/program.js';
export { printProgram, printKernel } from './kernel/printer.js';
export { parseProgram, parseKernel } from './kernel/parser.js';
export { runProgram, ProgramRunner } from './kernel/interpreter.js';
export { matchGemm, type GemmPattern } from './kernel/gemm.js';
export { scheduleGraph, type Schedule, type FusionDecision } from './passes/schedule/index.js';
export { planMemory, checkPlan, type ArenaPlan } from './passes/memory-plan.js';
export { compileKir } from './driver/kir.js';
