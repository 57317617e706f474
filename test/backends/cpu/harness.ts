// Many Programs in one C++ executable: each rendered with its own ABI prefix (m0_, m1_, …), all included in
// one translation unit with the runner (cxx/runner.cpp, AIC_RUNNER_NO_MAIN) and a main that dispatches on
// its first argument. One g++ run builds them all — g++ is the slow part of testing the CPU backend.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Program } from '../../../src/kernel/program.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { renderModel, type CpuEmitOptions } from '../../../src/backends/cpu/emit.js';
import { CXX_DIR, RUNTIME_HEADERS, runtimeHeader } from '../../../src/backends/cpu/sources.js';
import { compile, cxxUnavailable, runRunner, type CxxOptions } from '../../../src/backends/cpu/toolchain.js';

/** `skipped: g++ not found` is printed once, and tests that need g++ are skipped. */
export const NO_GXX: string | undefined = cxxUnavailable();
if (NO_GXX) console.log('skipped: g++ not found');

export interface Batch {
  readonly dir: string;
  /** Run case i on inputs; rejects with the AicError the runner reports. */
  run(i: number, inputs: readonly Tensor[]): Promise<Tensor[]>;
  dispose(): void;
}

export interface BatchOptions {
  emit?: CpuEmitOptions;
  cxx?: CxxOptions;
}

/** Render and build Programs into one executable. A Program the backend refuses is an error of `render`. */
export async function buildBatch(programs: readonly Program[], opts: BatchOptions = {}): Promise<Batch> {
  const dir = mkdtempSync(join(tmpdir(), 'aic-cpu-batch-'));
  const parts: string[] = ['#define AIC_RUNNER_NO_MAIN'];
  const bodies: string[] = [];
  programs.forEach((p, i) => {
    const m = renderModel(p, { ...opts.emit, prefix: `m${i}` });
    mkdirSync(join(dir, `m${i}`));
    writeFileSync(join(dir, `m${i}`, 'model.h'), m.header);
    writeFileSync(join(dir, `m${i}`, 'model.cpp'), m.source);
    if (m.weights) writeFileSync(join(dir, `m${i}`, 'weights.bin'), m.weights);
    parts.push(`#include "m${i}/model.h"`);
    bodies.push(`#include "m${i}/model.cpp"`, `AIC_RUNNER_API(m${i})`);
  });
  mkdirSync(join(dir, 'include'));
  for (const h of RUNTIME_HEADERS) writeFileSync(join(dir, 'include', h), runtimeHeader(h));
  const cases = programs.map((_, i) => `    case ${i}: return aic_runner::run_main<Api_m${i}>(argc - 1, argv + 1);`);
  const main = [
    ...parts,
    `#include "${join(CXX_DIR, 'runner.cpp')}"`,
    ...bodies,
    'int main(int argc, char** argv) {',
    '  if (argc < 2) return 2;',
    '  switch (std::atoi(argv[1])) {',
    ...cases,
    '    default: return 2;',
    '  }',
    '}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'batch.cpp'), main);
  try {
    await compile(dir, ['-Iinclude', 'batch.cpp', '-o', 'batch'], opts.cxx ?? {}, join(dir, 'batch.cpp'));
  } catch (e) {
    if (!process.env['AIC_KEEP_BATCH']) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const exe = join(dir, 'batch');
  return {
    dir,
    run: async (i, inputs) => {
      const p = programs[i]!;
      const dtypes = p.outputs.map((n) => p.buffers.find((b) => b.name === n)!.dtype);
      const r = await runRunner(exe, join(dir, `m${i}`, 'weights.bin'), inputs, dtypes, { leading: [String(i)] });
      return r.outputs;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Whether g++ accepts these flags here (a -fsanitize build needs the sanitizer runtimes). */
export function gxxAccepts(flags: readonly string[]): boolean {
  const r = spawnSync(process.env['CXX'] ?? 'g++', [...flags, '-x', 'c++', '-', '-o', '/dev/null'], { input: 'int main() { return 0; }\n', encoding: 'utf8' });
  return r.status === 0;
}
