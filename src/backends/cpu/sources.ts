// The C++ files the CPU backend copies into an artifact: its own (cxx/: the scalar helpers, the runner) and
// the runtime library's headers (runtime/: gemm.h, gemv.h, conv.h, pool.h, vecmath.h). They are read from the source tree,
// which the package ships (package.json "files"), found relative to this module in src/ and in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../ir/error.js';

const here = dirname(fileURLToPath(import.meta.url));
// src/backends/cpu (vitest, tsx) or dist/backends/cpu (the built package): the files live in src/.
const root = resolve(here, '../../..');
export const CXX_DIR = join(root, 'src/backends/cpu/cxx');
export const RUNTIME_DIR = join(root, 'src/backends/cpu/runtime');

const cache = new Map<string, string>();

function read(path: string): string {
  let text = cache.get(path);
  if (text === undefined) {
    if (!existsSync(path)) fail('E_IO', `cpu backend: ${path} is missing (the package's src/backends/cpu is incomplete)`);
    text = readFileSync(path, 'utf8');
    cache.set(path, text);
  }
  return text;
}

/** A file of the backend's own C++ (cxx/). */
export const cxxSource = (name: string): string => read(join(CXX_DIR, name));

/** The headers an artifact may include, in include order (each after those it depends on). */
export const RUNTIME_HEADERS = ['aic_support.h', 'threads.h', 'vecmath.h', 'gemm.h', 'gemv.h', 'conv.h', 'pool.h'] as const;

/** A header an artifact includes: the backend's aic_support.h or a runtime library header. */
export const runtimeHeader = (name: string): string => (name === 'aic_support.h' ? cxxSource(name) : read(join(RUNTIME_DIR, name)));
