// Reading a model from disk (Node only): the protobuf, and external tensor data confined to the
// model's folder — an absolute location, a `..`, or a symlink that leaves the folder is refused.
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { AicError, fail } from '../ir/error.js';
import type { Tensor } from '../ir/tensor.js';
import { decodeModelProto, type ModelProto } from '../frontend/onnx/decode.js';
import { importModel, type ImportedModel } from '../frontend/onnx/import.js';
import type { ExternalDataReader } from '../frontend/onnx/tensor.js';

export interface LoadOptions {
  specialize?: (inputName: string) => Tensor | undefined;
}

export function loadModel(path: string, opts: LoadOptions = {}): ImportedModel {
  const model = loadModelProto(path);
  return importModel(model, { where: path, readExternal: externalDataReader(path), ...opts });
}

/** Reads external data files that lie inside the model's folder. */
export function externalDataReader(modelPath: string): ExternalDataReader {
  const folder = realpathSync(dirname(modelPath));
  return (location, offset, length) => {
    const where = `${modelPath}: external data '${location}'`;
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
      fail('E_MODEL', `${where} must be a path inside the model's folder`);
    }
    let real: string;
    try {
      real = realpathSync(join(folder, location));
    } catch {
      return fail('E_IO', `${where}: no such file`);
    }
    const rel = relative(folder, real);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) fail('E_MODEL', `${where} leaves the model's folder (through a symlink)`);
    const size = statSync(real).size;
    const n = length ?? size - offset;
    if (offset + n > size) fail('E_MODEL', `${where}: bytes ${offset}..${offset + n} are past the end of the file (${size} bytes)`);
    const buf = new Uint8Array(n);
    const fd = openSync(real, 'r');
    try {
      let done = 0;
      while (done < n) {
        const r = readSync(fd, buf, done, n - done, offset + done);
        if (r === 0) break;
        done += r;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  };
}

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
