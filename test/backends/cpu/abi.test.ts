// The artifact's C ABI from C: a C99 program includes model.h, queries the tensors, creates the model from
// weights.bin with a workspace it allocates, binds a symbolic batch size, runs, and checks the errors
// (missing weights file, run before bind, a wrong shape); and the artifact's own Makefile builds its
// runner, which reads a .npy and writes the outputs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { programFor, writeFiles } from '../../../src/driver/backend-target.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { readNpy, writeNpy } from '../../../src/runtime/npy.js';
import { compareTensors } from '../../../src/runtime/compare.js';
import { cpuBackend } from '../../../src/backends/cpu/index.js';
import { cxxFlags } from '../../../src/backends/cpu/toolchain.js';
import { graphModel, init, input } from '../../support/onnx-node.js';
import { buildBatch, NO_GXX } from './harness.js';

const ramp = (shape: number[], scale: number): Tensor => Tensor.from('f32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7) * scale));

// y = relu(x @ W^T + b) for x: f32[N,16]; the second output is x itself (an output that is an input).
const model = importModel(decodeModelProto(graphModel(17, [
  { op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['h'], attrs: { transB: 1 } },
  { op: 'Relu', inputs: ['h'], outputs: ['y'] },
  { op: 'Identity', inputs: ['x'], outputs: ['x_copy'] },
], { x: input(ramp([3, 16], 1), ['N', 16]), w: init(ramp([8, 16], 0.5)), b: init(ramp([8], 0.1)) }, ['y', 'x_copy']), 'abi.onnx'));

const C_TEST = String.raw`
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static int fails = 0;
#define CHECK(c) do { if (!(c)) { printf("FAILED: %s (line %d)\n", #c, __LINE__); fails++; } } while (0)

int main(int argc, char** argv) {
  CHECK(argc == 2);
  CHECK(aic_model_num_inputs() == 1 && aic_model_num_outputs() == 2);
  const aic_tensor_info* in = aic_model_input_info(0);
  CHECK(strcmp(in->name, "x") == 0 && in->dtype == AIC_F32 && in->rank == 2);
  CHECK(in->dims[0] == -1 && strcmp(in->dim_names[0], "N") == 0 && in->dims[1] == 16 && in->dim_names[1] == NULL);
  CHECK(strcmp(aic_model_output_info(0)->name, "y") == 0 && aic_model_output_info(2) == NULL);

  aic_model_t* bad = aic_model_create("/nonexistent/weights.bin", NULL);
  CHECK(bad == NULL);
  printf("create error: %s\n", aic_model_last_error(NULL));

  size_t ws = aic_model_workspace_size();
  void* workspace = ws ? aligned_alloc(64, (ws + 63) / 64 * 64) : NULL;
  aic_model_t* m = aic_model_create(argv[1], workspace);
  CHECK(m != NULL);
  if (!m) return 1;

  float x[3 * 16], y[3 * 8], copy[3 * 16];
  for (int i = 0; i < 48; i++) x[i] = (float)sin(i * 0.7);
  const void* ins[1] = {x};
  void* outs[2] = {y, copy};
  CHECK(aic_model_run(m, ins, outs) == -1);
  printf("run before bind: %s\n", aic_model_last_error(m));

  int64_t wrong[2] = {3, 15};
  const int64_t* wrong_shapes[1] = {wrong};
  CHECK(aic_model_bind(m, wrong_shapes) == -1);
  printf("bind error: %s\n", aic_model_last_error(m));

  int64_t shape[2] = {3, 16};
  const int64_t* shapes[1] = {shape};
  CHECK(aic_model_bind(m, shapes) == 0);
  int64_t dims[2] = {0, 0};
  CHECK(aic_model_output_shape(m, 0, dims) == 0 && dims[0] == 3 && dims[1] == 8);

  aic_model_set_threads(m, 2);
  CHECK(aic_model_run(m, ins, outs) == 0);
  CHECK(memcmp(copy, x, sizeof x) == 0);
  float again[3 * 8];
  void* outs2[2] = {again, copy};
  aic_model_set_threads(m, 1);
  CHECK(aic_model_run(m, ins, outs2) == 0);
  CHECK(memcmp(again, y, sizeof y) == 0);
  printf("y:");
  for (int i = 0; i < 24; i++) printf(" %.9g", y[i]);
  printf("\n");
  aic_model_destroy(m);
  free(workspace);
  /* A run flushes denormal results to zero on its threads, and gives the caller its own mode back. */
  volatile float tiny = 7.88860905e-31f, scale = 9.31322575e-10f; /* 2^-100, 2^-30 */
  CHECK(tiny * scale != 0.0f);
  printf("%s\n", fails ? "FAILED" : "ok");
  return fails ? 1 : 0;
}
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sh(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(NO_GXX !== undefined)('cpu: the artifact and its C ABI', () => {
  const program = programFor(model, 'cpu');
  const x = ramp([3, 16], 1);
  const want = interpret(lowerModel(model), [x]);

  test('a C99 program creates, binds, runs and gets the errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aic-cpu-abi-'));
    dirs.push(dir);
    writeFiles(dir, cpuBackend.emit(program).files);
    writeFileSync(join(dir, 'abi_test.c'), C_TEST);
    const flags = cxxFlags({ opt: '-O2' });
    let r = sh('g++', [...flags, '-c', 'model.cpp', '-o', 'model.o'], dir);
    expect(r.status, r.out).toBe(0);
    r = sh('gcc', ['-std=c99', '-Wall', '-Wextra', '-pedantic', '-D_ISOC11_SOURCE', '-c', 'abi_test.c', '-o', 'abi_test.o'], dir);
    expect(r.status, r.out).toBe(0);
    r = sh('g++', ['-fopenmp', 'abi_test.o', 'model.o', '-o', 'abi_test', '-lm'], dir);
    expect(r.status, r.out).toBe(0);
    r = sh(join(dir, 'abi_test'), [join(dir, 'weights.bin')], dir);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/create error: .*nonexistent.*/);
    expect(r.out).toMatch(/run before bind: .*bind/);
    expect(r.out).toMatch(/bind error: input 'x': dim 1 is 15, the model needs 16/);
    const y = /y: (.*)/.exec(r.out)![1]!.trim().split(' ').map(Number);
    const got = Tensor.from('f32', [3, 8], y);
    expect(compareTensors(got, want[0]!, { rtol: 1e-5, atol: 1e-6 }).ok).toBe(true);
  }, 300_000);

  test('denormal results are zero (x86), or kept when built with -DAIC_KEEP_DENORMALS', async () => {
    // y = x * s: 2^-100 * 2^-30 = 2^-130, a denormal; 2^-100 * 2^-20 = 2^-120 is not.
    const x = Tensor.from('f32', [2], [2 ** -100, 2 ** -100]);
    const tiny = importModel(decodeModelProto(graphModel(17, [{ op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }],
      { x: input(x), s: init(Tensor.from('f32', [2], [2 ** -30, 2 ** -20])) }, ['y']), 'tiny.onnx'));
    const p = programFor(tiny, 'cpu');
    for (const keep of [false, true]) {
      const batch = await buildBatch([p], { cxx: { opt: '-O1', extra: keep ? ['-DAIC_KEEP_DENORMALS'] : [] } });
      try {
        const [y] = await batch.run(0, [x]);
        const flushed = !keep && process.arch === 'x64';
        expect([...y!.data as Float32Array]).toEqual([flushed ? 0 : 2 ** -130, 2 ** -120]);
      } finally {
        batch.dispose();
      }
    }
  }, 300_000);

  test('make builds the runner, which reads .npy and writes the outputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aic-cpu-make-'));
    dirs.push(dir);
    writeFiles(dir, cpuBackend.emit(program, { embedWeights: true }).files);
    let r = sh('make', ['-s', 'CXXFLAGS=-std=c++17 -O1 -fopenmp -fno-math-errno -fno-trapping-math -ffp-contract=off'], dir);
    expect(r.status, r.out).toBe(0);
    writeFileSync(join(dir, 'x.npy'), writeNpy(x));
    r = sh(join(dir, 'model'), ['--out', dir, 'x.npy'], dir); // embedded weights: no weights.bin needed
    expect(r.status, r.out).toBe(0);
    const y = readNpy(readFileSync(join(dir, 'output_0.npy')));
    expect(compareTensors(y, want[0]!, { rtol: 1e-5, atol: 1e-6 }).ok).toBe(true);
    const copy = readNpy(readFileSync(join(dir, 'output_1.npy')));
    expect(compareTensors(copy, x, { rtol: 0, atol: 0 }).ok).toBe(true);
    r = sh(join(dir, 'model'), ['x.npy', '--runs', '20'], dir);
    expect(r.status, r.out).toBe(0);
    expect(JSON.parse(r.out.trim().split('\n').pop()!)).toMatchObject({ runs: 20 });
  }, 300_000);
});
