// Reading a model from disk (Node only): the protobuf, and external tensor data confined to the
// model's folder — an absolute location, a `..`, or a symlink that leaves the folder is refused.
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fail } from '../ir/error.js';
import type { Tensor } from '../ir/tensor.js';
import { loadModelProto } from '../frontend/onnx/decode.js';
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
