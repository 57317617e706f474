// How the CPU backend fails: a g++ failure names the compiler's first error and the generated file, and
// leaves no artifact that looks good; ops it cannot run yet are refused by name, never run wrong; a range
// check in a kernel stops the run with the op's message; a weights file made for another model is refused.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AicError } from '../../../src/ir/error.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { compileWithBackend } from '../../../src/driver/backend-target.js';
import { main } from '../../../src/cli/main.js';
import { cpuBackend } from '../../../src/backends/cpu/index.js';
import { firstError } from '../../../src/backends/cpu/toolchain.js';
import { nodeModel, init, input } from '../../support/onnx-node.js';
import { parseProgram } from '../../../src/kernel/parser.js';
import { NO_GXX } from './harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'aic-cpu-errors-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function aic(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'aic', ...args], { out: (s) => void (out += s), err: (s) => void (err += s), interactive: false });
  return { code, out, err };
}

const model = (bytes: Uint8Array, name: string): ReturnType<typeof importModel> => importModel(decodeModelProto(bytes, name));

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<AicError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof AicError) return e;
    throw e;
  }
  throw new Error('expected an AicError');
}

describe('cpu: errors', () => {
  test('the first error of a compiler log', () => {
    const log = "In file included from model.cpp:3:\nmodel.cpp:12:5: error: 'foo' was not declared in this scope\n   12 |     foo();\nmodel.cpp:13:1: error: expected ';'\n";
    expect(firstError(log)).toBe("model.cpp:12:5: error: 'foo' was not declared in this scope");
  });

  test.skipIf(NO_GXX !== undefined)('a g++ failure: its first error, the generated file, and no artifact that looks good', async () => {
    const onnx = join(tmp, 'relu.onnx');
    writeFileSync(onnx, nodeModel('Relu', 17, {}, [input(Tensor.from('f32', [4], [1, -2, 3, -4]))]));
    const out = join(tmp, 'art');
    const r = await aic('compile', onnx, '--target', 'cpu', '-o', out, '--build', '--march', 'no-such-cpu');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^aic: error\[E_BUILD\]: cpu: g\+\+ failed: .*no-such-cpu.*\(generated file: .*art\.failed\/model\.cpp\)/m);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(`${out}.failed`, 'model.cpp'))).toBe(true);
    // A good build afterwards replaces the failed one.
    const ok = await aic('compile', onnx, '--target', 'cpu', '-o', out, '--build', '--json');
    expect(ok.code, ok.err).toBe(0);
    expect(existsSync(join(out, 'model'))).toBe(true);
    expect(JSON.parse(ok.out)).toMatchObject({ out });
  }, 300_000);

  test('what the backend cannot run yet is refused by name, never run wrong', () => {
    // A scan over a symbolic number of steps (its body is compiled as a model of its own; its length must be known).
    const p = parseProgram(`program @scan(@in0, @in1) -> (@out0, @out1) {
  arena 0
  buffer @in0: f32[2] input "%initial"
  buffer @in1: f32[T,2] input "%x"
  buffer @out0: f32[2] output "%y"
  buffer @out1: f32[T,2] output "%z"
  extern k0 "prim.scan → %y, %z" (@in0, @in1) -> (@out0, @out1) {
    graph @scan(%initial: f32[2], %x: f32[T,2]) -> (%y: f32[2], %z: f32[T,2]) {
      %y, %z = prim.scan(%initial, %x) {body=graph @scan_body(%sum_in: f32[2], %next: f32[2]) -> (%sum_out: f32[2], %sum_out: f32[2]) {
        %sum_out = prim.add(%sum_in, %next) : f32[2]
      }, num_scan_inputs=1} : (f32[2], f32[T,2])
    }
  }
}
`);
    let e: unknown;
    try {
      cpuBackend.emit(p);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(AicError);
    expect((e as AicError).code).toBe('E_UNSUPPORTED');
    expect((e as AicError).message).toMatch(/^cpu: scan over a symbolic length is not supported yet/);
  });

  test.skipIf(NO_GXX !== undefined)('a range check in a kernel stops the run with its message', async () => {
    const m = model(nodeModel('Gather', 13, { axis: 0 }, [init(Tensor.from('f32', [3], [1, 2, 3])), input(Tensor.from('i64', [2], [0n, 1n]))]), 'gather.onnx');
    const compiled = await compileWithBackend(cpuBackend, m);
    expect((await compiled.run([Tensor.from('i64', [2], [2n, -3n])]))[0]!.toNumbers()).toEqual([3, 1]);
    const e = await errorOf(compiled.run([Tensor.from('i64', [2], [0n, 7n])]));
    expect(e.code).toBe('E_RUNTIME');
    expect(e.message).toMatch(/^cpu: prim\.gather .*out of range for a dim of 3/);
  }, 300_000);

  test.skipIf(NO_GXX !== undefined)('a weights file made for another model is refused', async () => {
    const a = await compileWithBackend(cpuBackend, model(nodeModel('Add', 17, {}, [input(Tensor.from('f32', [3], [1, 2, 3])), init(Tensor.from('f32', [3], [1, 1, 1]))]), 'a.onnx'));
    const b = await compileWithBackend(cpuBackend, model(nodeModel('Mul', 17, {}, [input(Tensor.from('f32', [3], [1, 2, 3])), init(Tensor.from('f32', [1], [2]))]), 'b.onnx'));
    // b's runner with a's weights.
    const run = cpuBackend.run!.bind(cpuBackend);
    const e = await errorOf(run({ dir: a.built.dir, entry: join('..', b.built.dir.split('/').pop()!, b.built.entry) }, b.program, [Tensor.from('f32', [3], [1, 2, 3])]));
    expect(e.code).toBe('E_RUNTIME');
    expect(e.message).toMatch(/made for another model/);
  }, 300_000);
});
