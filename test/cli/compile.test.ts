// `aic compile --target kir`: the Program's text written atomically into DIR, the stats object with exactly
// CLI.md's keys, --explain-fusion, --print-ir-after and --dump-dir, and usage errors.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseProgram } from '../../src/kernel/parser.js';
import { runProgram } from '../../src/kernel/interpreter.js';
import { readTensorProto } from '../../src/runtime/tensor-proto.js';
import { compareTensors } from '../../src/runtime/compare.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODEL = join(ROOT, 'examples/models/tiny-cnn/model.onnx');
const tmp = mkdtempSync(join(tmpdir(), 'aic-compile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function aic(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'aic', ...args], { out: (s) => void (out += s), err: (s) => void (err += s), interactive: false });
  return { code, out, err };
}

const STATS_KEYS = ['nodes', 'prims', 'nodesAfterOpt', 'kernels', 'arenaBytes', 'naiveBytes', 'lowerBoundBytes', 'bytesMoved', 'bytesMovedUnfused', 'passes'];

describe('aic compile --target kir', () => {
  test('writes program.kir, which parses and computes the model', async () => {
    const out = join(tmp, 'a');
    const r = await aic('compile', MODEL, '--target', 'kir', '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain('program.kir');
    expect(readdirSync(out)).toEqual(['program.kir']);
    const program = parseProgram(readFileSync(join(out, 'program.kir'), 'utf8'));
    const data = join(ROOT, 'examples/models/tiny-cnn/test_data_set_0');
    const input = readTensorProto(readFileSync(join(data, 'input_0.pb'))).tensor;
    const want = readTensorProto(readFileSync(join(data, 'output_0.pb'))).tensor;
    const [got] = runProgram(program, [input]);
    expect(compareTensors(got!, want, { rtol: 1e-3, atol: 1e-5 }).ok).toBe(true);
  });

  test('--stats --json prints exactly the stats object of CLI.md', async () => {
    const r = await aic('compile', MODEL, '--target', 'kir', '-o', join(tmp, 'b'), '--stats', '--json');
    expect(r.code).toBe(0);
    const stats = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(stats)).toEqual(STATS_KEYS);
    expect(stats.kernels).toBeGreaterThan(0);
    expect(stats.lowerBoundBytes as number).toBeLessThanOrEqual(stats.arenaBytes as number);
    expect(stats.arenaBytes as number).toBeLessThanOrEqual(stats.naiveBytes as number);
    const passes = stats.passes as { name: string; ms: number; nodes: number }[];
    expect(passes.map((p) => p.name)).toEqual(expect.arrayContaining(['lower', 'schedule', 'plan']));
    for (const p of passes) expect(Object.keys(p)).toEqual(['name', 'ms', 'nodes']);
  });

  test('--explain-fusion lists the kernels and the refusals with their reasons', async () => {
    const r = await aic('compile', MODEL, '-o', join(tmp, 'c'), '--explain-fusion');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\d+ kernels?\n/m);
    expect(r.out).toMatch(/^refused to fuse \(\d+\):$/m);
    expect(r.out).toMatch(/k0 {2}.*→/);
  });

  test('replaces an existing DIR whole, atomically (no temp folder left)', async () => {
    const out = join(tmp, 'd');
    mkdirSync(out);
    writeFileSync(join(out, 'stale.txt'), 'old');
    expect((await aic('compile', MODEL, '-o', out)).code).toBe(0);
    expect(readdirSync(out)).toEqual(['program.kir']);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('--print-ir-after and --dump-dir show the kernel-IR stages', async () => {
    const dump = join(tmp, 'dump');
    const r = await aic('compile', MODEL, '-o', join(tmp, 'e'), '--print-ir-after', 'schedule', '--dump-dir', dump);
    expect(r.code).toBe(0);
    expect(r.out).toContain('// ----- kernel IR after schedule -----\nprogram @');
    const files = readdirSync(dump).sort();
    expect(files[0]).toBe('00-import.air');
    expect(files.slice(-2)).toEqual([expect.stringMatching(/^\d\d-schedule\.kir$/), expect.stringMatching(/^\d\d-plan\.kir$/)]);
    expect(() => parseProgram(readFileSync(join(dump, files[files.length - 1]!), 'utf8'))).not.toThrow();
  });

  test('usage errors exit 2: a missing -o, an unknown target (named)', async () => {
    expect((await aic('compile', MODEL)).code).toBe(2);
    const r = await aic('compile', MODEL, '--target', 'nope', '-o', join(tmp, 'f'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^aic: error\[E_USAGE\]: target 'nope'/);
    expect(existsSync(join(tmp, 'f'))).toBe(false);
  });
});
