// Decoding the bytes of an .onnx file into a ModelProto (reading the file is src/driver/model-file.ts's
// loadModelProto: this module runs in a browser too). Every failure becomes one AicError naming the
// file: protobufjs throws assorted RangeErrors and plain Errors on damaged input, and a file of the
// wrong kind can decode "successfully" into an empty message, so both are checked here.
import onnxProto from 'onnx-proto';
import { fail } from '../../ir/error.js';
import type { ModelProto } from './proto.js';

export type * from './proto.js';
export { ATTRIBUTE_TYPE, DATA_LOCATION, hasField, int64ToBigInt, int64ToNumber } from './proto.js';

// onnx-proto is CommonJS: its namespace is reachable only through the default export under Node.
const { onnx } = onnxProto;

/** Decode the bytes of an ONNX model; `where` names their source in error messages. */
export function decodeModelProto(bytes: Uint8Array, where: string): ModelProto {
  const invalid = (reason: string, hint?: string): never =>
    fail('E_PROTO', `${where}: not a valid ONNX model: ${reason}`, hint);
  if (bytes.length === 0) invalid('the file is empty');

  let decoded: unknown;
  try {
    decoded = onnx.ModelProto.decode(bytes);
  } catch (e) {
    return invalid(protobufReason(e));
  }
  // The generated classes type 64-bit fields with an unresolved `Long`; proto.ts states the real shape.
  const model = decoded as Omit<ModelProto, 'graph'> & { readonly graph: ModelProto['graph'] | null };
  if (model.graph === null) {
    return invalid('the protobuf decodes but has no graph', 'is this a tensor (.pb) or another protobuf file?');
  }
  if (!Object.hasOwn(model, 'irVersion')) invalid('it has no ir_version');
  return model as ModelProto;
}

/** protobufjs's own words for what is wrong, on one line. */
function protobufReason(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'messages nested too deeply';
  const message = e instanceof Error ? e.message : String(e);
  const line = message.split('\n')[0]!.trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line || 'undecodable protobuf';
}
