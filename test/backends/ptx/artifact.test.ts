// `aic compile --target ptx`: the artifact's files (kernels.ptx, plan.json, weights.bin, runner.cpp,
// Makefile), written atomically; the runner compiles against the CUDA headers (to an object: this machine
// has no libcuda to link); the ptx target runs on the interpreter and says so; refusals name the kernel.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AicError } from '../../../src/ir/error.js';
import { loadModel } from '../../../src/driver/model-file.js';
import { compileModel, writeArtifact } from '../../../src/driver/compile.js';
import { compileForTarget } from '../../../src/driver/targets.js';
import { readDataSet } from '../../../src/driver/test-case.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { parseProgram } from '../../../src/kernel/parser.js';
import { renderModule } from '../../../src/backends/ptx/module.js';
import { INTERPRETER_NOTE } from '../../../src/backends/ptx/index.js';
import type { LaunchPlan } from '../../../src/backends/ptx/module.js';
import '../../../src/driver/all-targets.js';
import { NO_PTXAS } from './ptxas.js';

const MODEL = fileURLToPath(new URL('../../../examples/models/tiny-cnn/model.onnx', import.meta.url));
const CUDA_INCLUDE = '/usr/local/cuda/include';
const gxx = spawnSync('g++', ['--version']).status === 0;
const NO_CUDA_HEADERS = !gxx ? 'g++ not found' : !existsSync(join(CUDA_INCLUDE, 'cuda.h')) ? `CUDA headers not found in ${CUDA_INCLUDE}` : undefined;
if (NO_CUDA_HEADERS) console.log(`skipped: ${NO_CUDA_HEADERS}`);

describe('the ptx artifact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aic-ptx-artifact-'));
  const out = join(dir, 'out');

  test('compile writes kernels.ptx, plan.json, weights.bin, runner.cpp and a Makefile atomically', async () => {
    expect(() => compileModel(loadModel(MODEL), { target: 'ptx' })).toThrow(/symbolic sizes \(N\)/);
    const r = compileModel(loadModel(MODEL), { target: 'ptx', emit: { dims: { N: 2 } } });
    await writeArtifact(out, r.files);
    expect(readdirSync(out).sort()).toEqual(['Makefile', 'kernels.ptx', 'plan.json', 'runner.cpp', 'weights.bin']);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const plan = JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')) as LaunchPlan;
    const ptx = readFileSync(join(out, 'kernels.ptx'), 'utf8');
    expect(plan.kernels.length).toBe(r.program.kernels.length);
    for (const k of plan.kernels) {
      expect(ptx).toContain(`.visible .entry ${k.entry}(`);
      expect(k.grid[0]).toBeGreaterThan(0);
      for (const p of k.params) expect(p === 'status' || plan.buffers.some((b) => b.name === p)).toBe(true);
    }
    expect(readFileSync(join(out, 'weights.bin')).length).toBe(plan.weightsBytes);
    const runner = readFileSync(join(out, 'runner.cpp'), 'utf8');
    for (const api of ['cuModuleLoadData', 'cuLaunchKernel', 'cuEventElapsedTime', 'readNpy', 'writeNpy']) expect(runner).toContain(api);
    expect(readFileSync(join(out, 'Makefile'), 'utf8')).toContain('-lcuda');
  });

  test.skipIf(NO_CUDA_HEADERS !== undefined)('the runner compiles against the CUDA headers', () => {
    const src = join(out, 'runner.cpp');
    expect(existsSync(src), 'the artifact test above wrote it').toBe(true);
    const r = spawnSync('g++', ['-std=c++17', '-O0', '-Wall', '-Werror', `-I${CUDA_INCLUDE}`, '-c', src, '-o', join(dir, 'runner.o')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 60_000);

  test.skipIf(NO_PTXAS !== undefined)('the ptx target assembles with ptxas, runs on the interpreter and says so', async () => {
    const compiled = await compileForTarget('ptx', loadModel(MODEL));
    expect(compiled.note).toBe(INTERPRETER_NOTE);
    const model = loadModel(MODEL);
    const inputs = [...readDataSet(join(MODEL, '..', 'test_data_set_0'), model.graph.inputs.map((v) => v.name ?? '')).values()];
    const got = await compiled.run(inputs);
    const want = await (await compileForTarget('interp', model)).run(inputs);
    const c = compareTensors(got[0]!, want[0]!, { rtol: 1e-5, atol: 1e-6 });
    expect(c.ok, c.reason).toBe(true);
  }, 60_000);

  test('what the backend cannot render is refused with E_UNSUPPORTED naming the kernel and the op', () => {
    const refusal = (text: string): AicError => {
      try {
        renderModule(parseProgram(text));
      } catch (e) {
        if (e instanceof AicError) return e;
        throw e;
      }
      throw new Error('not refused');
    };
    const nonzero = refusal(`program @p(@in0) -> (@t0) {
  arena 0
  buffer @in0: f32[3,4] input "%x"
  buffer @t0: i64[2,_nonzero0] output "%nz"
  extern k0 "prim.nonzero" (@in0) -> (@t0) {
    graph @nonzero(%x: f32[3,4]) -> (%nz: i64[2,_nonzero0]) {
      %nz = prim.nonzero(%x) : i64[2,_nonzero0]
    }
  }
}`);
    expect(nonzero.code).toBe('E_UNSUPPORTED');
    expect(nonzero.message).toMatch(/kernel k0 runs prim\.nonzero on the host between GPU steps; .*runner\.cpp cannot yet/);
    const symbolic = refusal(`program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[N] input "%x"
  buffer @out0: f32[N] output "%y"
  kernel k1 "neg" (i0 < $N) {
    %0 = load f32 @in0[i0]
    %1 = neg f32 %0
    store @out0[i0] = %1
  }
}`);
    expect(symbolic.code).toBe('E_UNSUPPORTED');
    expect(symbolic.message).toMatch(/kernel k1 .*symbolic/);
  });

  test('cleanup', () => rmSync(dir, { recursive: true, force: true }));
});
