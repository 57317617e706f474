// A backend as a target: what `aic run/test/conformance/bench --target NAME` do with any backend. The model
// is lowered for the target, scheduled and planned into a Program, rendered by the backend; the artifact is
// built once per content (under the cache folder, keyed by a hash of its files) and run.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../ir/error.js';
import type { ImportedModel } from '../frontend/onnx/import.js';
import type { Program } from '../kernel/program.js';
import { addBackend, type Artifact, type Backend, type BuildOptions, type Built, type EmitOptions, type RunOptions } from '../backends/backend.js';
import { cacheRoot } from '../backends/cache.js';
import { compileKir } from './kir.js';
import { lowerModel, registerTarget, type CompiledModel } from './target-registry.js';

/** Register a backend and the target of the same name. */
export function registerBackend(b: Backend): Backend {
  addBackend(b);
  registerTarget(b.name, (model) => compileWithBackend(b, model));
  return b;
}

export interface BackendCompileOptions {
  emit?: EmitOptions;
  build?: BuildOptions;
  run?: RunOptions;
}

/** A compiled model that runs, and what it was made of. */
export interface BackendModel extends CompiledModel {
  readonly program: Program;
  readonly artifact: Artifact;
  readonly built: Built;
}

/** The Program of an imported model for a target (lowered, scheduled, planned). */
export function programFor(model: ImportedModel, target: string): Program {
  return compileKir(lowerModel(model, target)).program;
}

export async function compileWithBackend(b: Backend, model: ImportedModel, opts: BackendCompileOptions = {}): Promise<BackendModel> {
  const program = programFor(model, b.name);
  return compileProgram(b, program, opts);
}

export async function compileProgram(b: Backend, program: Program, opts: BackendCompileOptions = {}): Promise<BackendModel> {
  if (!b.build || !b.run) fail('E_UNSUPPORTED', `${b.name}: this backend writes artifacts but cannot run them here`, `aic compile --target ${b.name} -o DIR writes them`);
  const why = b.unavailable?.();
  if (why) fail('E_UNSUPPORTED', `${b.name}: ${why}`);
  const artifact = b.emit(program, opts.emit ?? {});
  const built = await buildCached(b, artifact, opts.build ?? {});
  const run = b.run.bind(b);
  return {
    program,
    artifact,
    built,
    run: (inputs) => run(built, program, inputs, opts.run ?? {}),
    ...(built.note !== undefined ? { note: built.note } : {}),
  };
}

/** Build an artifact once: kept under <cache>/<backend>/<hash of its files and the build options>. */
export async function buildCached(b: Backend, a: Artifact, opts: BuildOptions = {}): Promise<Built> {
  const h = createHash('sha256');
  h.update(`${b.name}\0${JSON.stringify(opts)}\0`);
  for (const name of [...a.files.keys()].sort()) {
    const f = a.files.get(name)!;
    h.update(`${name}\0`);
    h.update(typeof f === 'string' ? f : Buffer.from(f.buffer, f.byteOffset, f.byteLength));
    h.update('\0');
  }
  const key = h.digest('hex').slice(0, 32);
  const dest = join(cacheRoot(), b.name, key);
  const record = join(dest, 'built.json');
  if (existsSync(record)) {
    const r = JSON.parse(readFileSync(record, 'utf8')) as { entry: string; note?: string };
    return { dir: dest, entry: r.entry, ...(r.note !== undefined ? { note: r.note } : {}) };
  }
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.tmp-`);
  const failed = join(dirname(dest), 'failed', key);
  try {
    writeFiles(tmp, a.files);
    const built = await b.build!(a, tmp, { ...opts, shownDir: failed });
    writeFileSync(join(tmp, 'built.json'), JSON.stringify({ entry: built.entry, ...(built.note !== undefined ? { note: built.note } : {}) }));
    try {
      renameSync(tmp, dest);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another process built it first
    }
    return { dir: dest, entry: built.entry, ...(built.note !== undefined ? { note: built.note } : {}) };
  } catch (e) {
    // Keep what failed to build where the error message says, out of the cache proper.
    rmSync(failed, { recursive: true, force: true });
    mkdirSync(dirname(failed), { recursive: true });
    try {
      renameSync(tmp, failed);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
    throw e;
  }
}

export function writeFiles(dir: string, files: ReadonlyMap<string, string | Uint8Array>): void {
  for (const [name, content] of files) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}
