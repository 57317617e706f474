// `aic inspect` and the CLI's error contract (CLI.md), mostly through main() with captured output,
// plus real subprocesses of bin/aic.js for what only a process shows (exit status, streams).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ModelSummary } from '../../src/frontend/onnx/summary.js';
import { AicError } from '../../src/ir/error.js';
import { buildProgram, main, runProgram } from '../../src/cli/main.js';
import { CliContext, type Io } from '../../src/cli/output.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TESTS = join(ROOT, '../shared/onnx-tests');
const DENSENET = join(TESTS, 'light/light_densenet121.onnx');
const NODE = join(TESTS, 'node');

const tmp = mkdtempSync(join(tmpdir(), 'aic-inspect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Result { code: number; out: string; err: string }

function capture(): { io: Io; result: () => Omit<Result, 'code'> } {
  let out = '';
  let err = '';
  return {
    io: { out: (s) => void (out += s), err: (s) => void (err += s), interactive: false },
    result: () => ({ out, err }),
  };
}

async function aic(...args: string[]): Promise<Result> {
  const { io, result } = capture();
  const code = await main(['node', 'aic', ...args], io);
  return { code, ...result() };
}

async function inspectJson(path: string): Promise<ModelSummary> {
  const r = await aic('inspect', path, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as ModelSummary;
}

describe('aic inspect', () => {
  test('densenet121 as JSON', async () => {
    const s = await inspectJson(DENSENET);
    expect(s.irVersion).toBe(3);
    expect(s.opsets).toEqual([{ domain: '', version: 9 }]);
    expect(s.producer.name).toBe('onnx-caffe2');
    expect(s.graphName).toBe('densenet121');
    expect(s.inputs).toEqual([{ name: 'data_0', dtype: 'f32', shape: [1, 3, 224, 224], type: 'f32[1,3,224,224]' }]);
    expect(s.outputs).toEqual([{ name: 'fc6_1', dtype: 'f32', shape: [1, 1000, 1, 1], type: 'f32[1,1000,1,1]' }]);
    expect(s.initializerInputs).toBe(848);
    expect(s.nodes).toBe(1746);
    expect(s.subgraphNodes).toBe(0);
    expect(s.ops.reduce((n, o) => n + o.count, 0)).toBe(1746);
    expect(s.ops.slice(0, 2)).toEqual([{ op: 'ConstantOfShape', count: 836 }, { op: 'Unsqueeze', count: 242 }]);
    // Ties in count are ordered by name.
    expect(s.ops.filter((o) => o.count === 121).map((o) => o.op))
      .toEqual(['Add', 'BatchNormalization', 'Conv', 'Mul', 'Relu']);
    expect(s.parameters.tensors).toBe(848);
    expect(s.parameters.bytes).toBeGreaterThanOrEqual(s.parameters.elements * 4);
    expect(s.constants).toEqual({ nodes: 0, elements: 0, bytes: 0 });
    // Which ops are unsupported depends on the op registry; the list is sorted and names ops of the model.
    expect(s.unsupported).toEqual([...s.unsupported].sort());
    for (const op of s.unsupported) expect(s.ops.map((o) => o.op)).toContain(op);
  });

  test('densenet121 for people: aligned label column, one input line', async () => {
    const r = await aic('inspect', DENSENET);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`model        ${DENSENET}`);
    expect(lines).toContain('  data_0     f32[1,3,224,224]');
    expect(lines).toContain('nodes        1,746');
    expect(lines.find((l) => l.startsWith('  ConstantOfShape'))).toMatch(/^ {2}ConstantOfShape +836/);
  });

  test('symbolic dims by name, sequences as seq<…>, and a subgraph counted apart', async () => {
    const s = await inspectJson(join(NODE, 'test_sequence_map_add_1_sequence_1_tensor/model.onnx'));
    expect(s.inputs).toEqual([
      { name: 'x0', dtype: 'seq<f32>', shape: null, type: 'seq<f32[N]>' },
      { name: 'x1', dtype: 'f32', shape: ['N'], type: 'f32[N]' },
    ]);
    expect(s.nodes).toBe(1);
    expect(s.subgraphNodes).toBe(1);
    expect(s.ops.map((o) => o.op).sort()).toEqual(['Add', 'SequenceMap']);
  });

  test('optional types, element types by name (f8e4m3fn, string), and Constant nodes', async () => {
    const opt = await inspectJson(join(NODE, 'test_identity_opt/model.onnx'));
    expect(opt.inputs[0]).toMatchObject({ dtype: 'optional<seq<f32>>', type: 'optional<seq<f32[5]>>' });
    const f8 = await inspectJson(join(NODE, 'test_cast_FLOAT_to_FLOAT8E4M3FN/model.onnx'));
    expect(f8.outputs[0]).toMatchObject({ dtype: 'f8e4m3fn', shape: [3, 5] });
    const str = await inspectJson(join(NODE, 'test_strnormalizer_export_monday_casesensintive_nochangecase/model.onnx'));
    expect(str.inputs[0]).toMatchObject({ dtype: 'string', type: 'string[4]' });
    const ifSeq = await inspectJson(join(NODE, 'test_if_seq/model.onnx'));
    expect(ifSeq.constants).toEqual({ nodes: 2, elements: 10, bytes: 40 });
    expect(ifSeq.outputs[0]!.type).toBe('seq<f32[*]>');
  });
});

describe('bad inputs: one error line naming the file, exit 1', () => {
  const truncated = join(tmp, 'half.onnx');
  const random = join(tmp, 'random.onnx');
  const dir = join(tmp, 'folder');
  beforeAll(() => {
    const bytes = readFileSync(DENSENET);
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    writeFileSync(random, Uint8Array.from({ length: 3000 }, (_, i) => (i * 2654435761) >>> 24));
    mkdirSync(dir);
  });

  const cases: [string, () => string, string, RegExp][] = [
    ['random bytes', () => random, 'E_PROTO', /: not a valid ONNX model: .+/],
    ['a truncated model', () => truncated, 'E_PROTO', /: not a valid ONNX model: index out of range/],
    ['a missing path', () => join(tmp, 'missing.onnx'), 'E_IO', /: no such file$/],
    ['a directory', () => dir, 'E_IO', /: is a directory/],
  ];
  for (const [what, path, code, reason] of cases) {
    for (const json of [false, true]) {
      test(`${what}${json ? ' (--json)' : ''}`, async () => {
        const r = await aic('inspect', path(), ...(json ? ['--json'] : []));
        expect(r.code).toBe(1);
        expect(r.out).toBe('');
        const lines = r.err.split('\n').filter(Boolean);
        expect(lines).toHaveLength(1);
        expect(lines[0]!.startsWith(`aic: error[${code}]: ${path()}: `)).toBe(true);
        expect(lines[0]).toMatch(reason);
      });
    }
  }
});

describe('the CLI contract', () => {
  test('--version prints package.json version; --help lists inspect', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await aic('--version')).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });
    const help = await aic('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^\s+inspect \[options\] <model>/m);
  });

  test('usage errors exit 2 with commander\'s message on one line and a hint', async () => {
    for (const args of [['inspect'], ['inspect', DENSENET, '--jsno'], ['frobnicate'], []]) {
      const r = await aic(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.out).toBe('');
    }
    const missing = await aic('inspect');
    expect(missing.err).toBe("aic: error[E_USAGE]: missing required argument 'model'\nhint: add --help for usage\n");
    const flag = await aic('inspect', DENSENET, '--jsno');
    expect(flag.err.split('\n')[0]).toBe("aic: error[E_USAGE]: unknown option '--jsno' (Did you mean --json?)");
  });

  test('unexpected exceptions are internal errors; the stack only with --debug', async () => {
    const run = async (...args: string[]): Promise<Result> => {
      const { io, result } = capture();
      const ctx = new CliContext(io);
      const program = buildProgram(ctx);
      program.command('boom').action(() => {
        throw new TypeError('cannot read x of undefined');
      });
      program.command('fail').action(() => {
        throw new AicError('E_MODEL', 'm.onnx: node conv1 (Conv): weight is missing', 'export it again');
      });
      return { code: await runProgram(program, ctx, ['node', 'aic', ...args]), ...result() };
    };
    const plain = await run('boom');
    expect(plain.code).toBe(1);
    expect(plain.err).toBe('aic: internal error: cannot read x of undefined\nhint: run again with --debug for a stack trace\n');
    for (const args of [['boom', '--debug'], ['--debug', 'boom']]) {
      const debug = await run(...args);
      expect(debug.code).toBe(1);
      expect(debug.err).toMatch(/^aic: internal error: cannot read x of undefined\nTypeError: .*\n\s+at /);
    }
    expect(await run('fail')).toEqual({
      code: 1, out: '',
      err: 'aic: error[E_MODEL]: m.onnx: node conv1 (Conv): weight is missing\nhint: export it again\n',
    });
  });
});

describe('bin/aic.js as a process', () => {
  const bin = join(ROOT, 'bin/aic.js');
  beforeAll(() => {
    // `npm test` builds first; build here only when dist is missing (a bare `vitest run`).
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
      try {
        execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT });
      } catch {
        // tsc emits despite type errors elsewhere in the tree; the tests below say if that was not enough.
      }
    }
  });

  test('inspect --json: only JSON on stdout, exit 0', () => {
    const r = spawnSync(process.execPath, [bin, 'inspect', DENSENET, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as ModelSummary).nodes).toBe(1746);
  });

  test('a missing model: one line on stderr, exit 1, no stack', () => {
    const path = join(tmp, 'absent.onnx');
    const r = spawnSync(process.execPath, [bin, 'inspect', path], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`aic: error[E_IO]: ${path}: no such file\n`);
  });

  test('an unknown flag exits 2', () => {
    const r = spawnSync(process.execPath, [bin, 'inspect', '--nope'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("aic: error[E_USAGE]: unknown option '--nope'");
  });
});
