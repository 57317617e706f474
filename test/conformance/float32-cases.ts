// Which conformance cases are "float32 cases" (issue #7's acceptance for WGSL: every float32 case that
// passes on interp passes on wgsl). A case is one when its model computes on float32 data: every graph
// input and output is a tensor (or a sequence or optional of tensors) of float32, of an integer index type
// (int32, int64: indices, shapes, counts, trip counts) or of bool (conditions, masks), and at least one is
// float32. Any other element type (f64, f16, bf16, float8, the narrow ints, strings) makes it not one.
import { readFileSync } from 'node:fs';
import { decodeModelProto, type TypeProto } from '../../src/frontend/onnx/decode.js';

/** TensorProto.DataType codes. */
const FLOAT = 1;
const ALLOWED = new Set([FLOAT, 6 /* INT32 */, 7 /* INT64 */, 9 /* BOOL */]);

/** Element types of a graph input or output (a sequence's or optional's elements), or -1 for a map or none. */
function elementTypes(t: TypeProto | null | undefined): number[] {
  if (t?.tensorType) return [t.tensorType.elemType];
  if (t?.sequenceType) return elementTypes(t.sequenceType.elemType);
  if (t?.optionalType) return elementTypes(t.optionalType.elemType);
  return [-1];
}

/** Whether the case whose model is `file` is a float32 case. */
export function isFloat32Case(file: string): boolean {
  const graph = decodeModelProto(new Uint8Array(readFileSync(file)), file).graph;
  // Old models list their initializers among the inputs: those are weights, not inputs.
  const weights = new Set(graph.initializer.map((t) => t.name));
  const types = [...graph.input.filter((v) => !weights.has(v.name)), ...graph.output].flatMap((v) => elementTypes(v.type));
  return types.includes(FLOAT) && types.every((t) => ALLOWED.has(t));
}
