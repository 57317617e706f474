// Reading an .onnx file into a decoded ModelProto. Every failure becomes one AicError naming the
// file: protobufjs throws assorted RangeErrors and plain Errors on damaged input, and a file of the
// wrong kind can decode "successfully" into an empty message, so both are checked here.
import { existsSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { AicError, fail } from '../../ir/error.js';
import type { ModelProto } from './proto.js';

export type * from './proto.js';
export { ATTRIBUTE_TYPE, DATA_LOCATION, hasField, int64ToBigInt, int64ToNumber } from './proto.js';

// onnx-proto is CommonJS: its namespace is reachable only through the default export under Node.
const { onnx } = onnxProto;

/** Protobuf's hard limit on one message; bigger models keep their weights in external files. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

/** Read and decode an ONNX model file (weights in external data files are not loaded here). */
export function loadModelProto(path: string): ModelProto {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (e) {
    return ioFailure(path, e);
  }
  if (stats.isDirectory()) {
    const inside = join(path, 'model.onnx');
    return fail('E_IO', `${path}: is a directory, not a model file`,
      existsSync(inside) ? `did you mean ${inside}?` : undefined);
  }
  if (stats.size > MAX_PROTO_BYTES) {
    return fail('E_LIMIT', `${path}: ${stats.size} bytes is beyond protobuf's 2 GiB limit for one model file`,
      'large models keep their weights in external data files (see ONNX ExternalData.md)');
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return ioFailure(path, e);
  }
  return decodeModelProto(bytes, path);
}

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

function ioFailure(path: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return fail('E_IO', `${path}: no such file`);
    case 'ENOTDIR':
      return fail('E_IO', `${path}: no such file (a parent is not a directory)`);
    case 'EACCES':
    case 'EPERM':
      return fail('E_IO', `${path}: permission denied`);
    case 'EISDIR':
      return fail('E_IO', `${path}: is a directory, not a model file`);
    case 'ERR_FS_FILE_TOO_LARGE':
      return fail('E_LIMIT', `${path}: the file is too large to read in one piece`);
    default: {
      if (e instanceof AicError) throw e;
      const message = e instanceof Error ? e.message : String(e);
      return fail('E_IO', `${path}: cannot read: ${message}`);
    }
  }
}
