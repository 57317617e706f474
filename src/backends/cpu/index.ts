// The CPU backend: a Program as C++17 that g++ builds (OpenMP, vectorized loops, the runtime library's
// GEMM and convolution for dot kernels), with a C ABI and a runner. The files:
//   emit.ts      the artifact (model.h, model.cpp, weights.bin, main.cpp, Makefile, CMakeLists.txt)
//   kernel.ts    a loop kernel as a C++ function (the shared walk with the C++ spelling)
//   spelling.ts  the prims in C++
//   gemm.ts      dot kernels as calls of the GEMM / convolution micro-kernels, with fused epilogues
//   extern.ts    scatter and topk; other extern ops are refused
//   toolchain.ts g++, the runner, the cache of the runner's object
import { join } from 'node:path';
import type { Backend, BuildOptions, Built } from '../backend.js';
import { emitCpu, WEIGHTS_FILE, type CpuEmitOptions } from './emit.js';
import { buildInPlace, cxxUnavailable, runRunner, type CxxOptions } from './toolchain.js';

export const cpuBackend: Backend = {
  name: 'cpu',
  description: 'C++17 for g++ (OpenMP, AVX-512/AVX2 GEMM micro-kernels), with a C ABI',
  emit: (p, opts = {}) => emitCpu(p, opts as CpuEmitOptions),
  async build(a, dir, opts: BuildOptions = {}): Promise<Built> {
    const header = a.files.get('model.h');
    const prefix = typeof header === 'string' ? /#define AIC_PREFIX (\w+)/.exec(header)?.[1] ?? 'aic_model' : 'aic_model';
    const o: CxxOptions = {
      ...(opts.march !== undefined ? { march: opts.march } : {}),
      ...(opts['sanitize'] === true ? { sanitize: true, opt: '-O1' } : {}),
      ...(typeof opts['opt'] === 'string' ? { opt: opts['opt'] } : {}),
    };
    const shown = typeof opts['shownDir'] === 'string' ? opts['shownDir'] : dir;
    await buildInPlace(dir, prefix, o, shown);
    return { dir, entry: 'model' };
  },
  async run(b, p, inputs, opts = {}) {
    const r = await runRunner(join(b.dir, b.entry), join(b.dir, WEIGHTS_FILE), inputs, p.outputs.map((n) => p.buffers.find((x) => x.name === n)!.dtype), {
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
      ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
    });
    if (r.timing) opts.onTiming?.(r.timing);
    return r.outputs;
  },
  unavailable: () => cxxUnavailable(),
};
