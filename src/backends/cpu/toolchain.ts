// Building and running the CPU backend's artifacts with the system's C++ compiler (g++, or $CXX).
//
//   build      model.cpp + the runner (main.cpp) -> an executable; a compiler failure is an E_BUILD error
//              naming the compiler's first error and the generated file's path;
//   cache      the runner's object (main.cpp, the same for every model) is built once per compiler and
//              flags, under $AIC_CACHE_DIR (or the user cache dir)/cpu/;
//   run        inputs written as .npy into a temp folder, the runner started on them, outputs read back.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cacheRoot } from '../cache.js';
import { dirname, join } from 'node:path';
import { fail } from '../../ir/error.js';
import type { DType } from '../../ir/dtype.js';
import type { Tensor } from '../../ir/tensor.js';
import { readNpy, writeNpy } from '../../runtime/npy.js';
import { abiHeader } from './emit.js';
import { cxxSource } from './sources.js';

export interface CxxOptions {
  /** The compiler (default: $CXX, else g++). */
  cxx?: string;
  /** -march value (default `native`). */
  march?: string;
  /** Optimization level flag (default -O3). */
  opt?: string;
  /** Build with -fsanitize=address,undefined (for tests). */
  sanitize?: boolean;
  /** More flags. */
  extra?: readonly string[];
}

export const compilerName = (o: CxxOptions = {}): string => o.cxx ?? process.env['CXX'] ?? 'g++';

const versions = new Map<string, string | undefined>();

/** The compiler's version line, or undefined when it cannot be run. */
export function compilerVersion(cxx: string): string | undefined {
  if (!versions.has(cxx)) {
    const r = spawnSync(cxx, ['--version'], { encoding: 'utf8' });
    versions.set(cxx, r.status === 0 ? (r.stdout.split('\n')[0] ?? cxx) : undefined);
  }
  return versions.get(cxx);
}

/** Why this machine cannot build CPU artifacts, or undefined when it can. */
export function cxxUnavailable(o: CxxOptions = {}): string | undefined {
  const cxx = compilerName(o);
  return compilerVersion(cxx) === undefined ? `${cxx} not found` : undefined;
}

export function cxxFlags(o: CxxOptions = {}): string[] {
  const flags = ['-std=c++17', o.opt ?? '-O3', `-march=${o.march ?? 'native'}`, '-fopenmp', '-fno-math-errno', '-fno-trapping-math', '-ffp-contract=off'];
  if (o.sanitize) flags.push('-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer');
  return [...flags, ...(o.extra ?? [])];
}

/** The first error of a compiler's output, with the line after it (usually the source line). */
export function firstError(log: string): string {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => /\berror\b/.test(l));
  if (i < 0) return lines.filter((l) => l.trim() !== '').slice(0, 2).join(' ').trim() || 'the compiler failed';
  return lines[i]!.trim();
}

interface Spawned {
  status: number | null;
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
}

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 0): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = timeoutMs > 0 ? setTimeout(() => child.kill('SIGKILL'), timeoutMs) : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, stdout, stderr, signal });
    });
  });
}

/** Compile with the given sources in `dir`; an E_BUILD error names the first error and `shown` (the file to open). */
export async function compile(dir: string, args: readonly string[], o: CxxOptions, shown: string): Promise<void> {
  const cxx = compilerName(o);
  if (compilerVersion(cxx) === undefined) fail('E_BUILD', `cpu: ${cxx} not found`, 'install g++ (or set CXX) to build CPU artifacts');
  const r = await run(cxx, [...cxxFlags(o), ...args], dir);
  if (r.status !== 0) {
    const log = `${r.stdout}${r.stderr}`;
    writeFileSync(join(dir, 'build.log'), log);
    const logAt = shown.endsWith('.cpp') ? join(dirname(shown), 'build.log') : join(dir, 'build.log');
    fail('E_BUILD', `cpu: ${cxx} failed: ${firstError(log)} (generated file: ${shown})`, `the full log is ${logAt}`);
  }
}

/** Build an artifact folder's runner in place: `model` beside model.cpp. The runner's object (main.cpp is
 * the same file for every model) comes from the cache. `shownDir` is where the user will find the sources
 * when the build fails. */
export async function buildInPlace(dir: string, prefix: string, o: CxxOptions = {}, shownDir = dir): Promise<string> {
  // The model first: a failure (the flags included) names the generated file.
  await compile(dir, ['-I.', '-c', 'model.cpp', '-o', 'model.o'], o, join(shownDir, 'model.cpp'));
  const obj = await runnerObject(prefix, o);
  await compile(dir, ['model.o', obj, '-o', 'model'], o, join(shownDir, 'model.cpp'));
  return join(dir, 'model');
}

// ---- the cache ----

const sha = (parts: readonly (string | Uint8Array)[]): string => {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? p : Buffer.from(p));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 32);
};

/** Rename a finished folder into place (another process may have won the race: fine). */
export function publish(tmp: string, dest: string): void {
  try {
    renameSync(tmp, dest);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dest)) fail('E_IO', `cpu: cannot write ${dest}`);
  }
}

/** The runner's object file for a prefix, built once per compiler and flags. */
async function runnerObject(prefix: string, o: CxxOptions): Promise<string> {
  const cxx = compilerName(o);
  const src = cxxSource('runner.cpp');
  const header = abiHeader(prefix, `${prefix}: the C ABI (generic declarations)`);
  const key = sha(['runner', src, header, cxx, compilerVersion(cxx) ?? '', ...cxxFlags(o)]);
  const dest = join(cacheRoot(), 'cpu', `runner-${key}`);
  const obj = join(dest, 'main.o');
  if (existsSync(obj)) return obj;
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = mkdtempSync(`${dest}.tmp-`);
  writeFileSync(join(tmp, 'main.cpp'), src);
  writeFileSync(join(tmp, 'model.h'), header);
  try {
    await compile(tmp, ['-c', 'main.cpp', '-o', 'main.o'], o, 'the runner, main.cpp');
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  publish(tmp, dest);
  return obj;
}

// ---- running ----

export interface RunnerOptions {
  threads?: number;
  /** Timed runs (the runner prints their statistics). */
  runs?: number;
  warmup?: number;
  timeoutMs?: number;
  /** Arguments before the runner's own (a test executable that holds several models takes their number). */
  leading?: readonly string[];
}

export interface RunnerResult {
  outputs: Tensor[];
  timing?: { runs: number; threads: number; medianMs: number; minMs: number; meanMs: number };
}

/** Run a built runner on inputs; `outputDTypes` tells how to read each output back. */
export async function runRunner(exe: string, weights: string, inputs: readonly Tensor[], outputDTypes: readonly DType[], o: RunnerOptions = {}): Promise<RunnerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'aic-cpu-run-'));
  try {
    const files = inputs.map((t, i) => {
      const f = join(dir, `input_${i}.npy`);
      writeFileSync(f, writeNpy(t));
      return f;
    });
    const args = [...(o.leading ?? []), '--weights', weights, '--out', dir, ...(o.threads ? ['--threads', String(o.threads)] : []),
      ...(o.runs ? ['--runs', String(o.runs), '--warmup', String(o.warmup ?? 3)] : []), ...files];
    const r = await run(exe, args, dir, o.timeoutMs ?? 0);
    if (r.status !== 0) {
      const msg = r.stderr.split('\n').find((l) => l.startsWith('aic: error:'))?.replace(/^aic: error:\s*/, '');
      if (msg) fail('E_RUNTIME', `cpu: ${msg}`);
      const why = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
      fail('E_RUNTIME', `cpu: the compiled model ${why}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}` : ''}`);
    }
    const outputs = outputDTypes.map((t, k) => readNpy(readFileSync(join(dir, `output_${k}.npy`)), `output ${k}`, { expect: t }));
    const last = r.stdout.trim().split('\n').pop() ?? '';
    const timing = o.runs && last.startsWith('{') ? (JSON.parse(last) as RunnerResult['timing']) : undefined;
    return { outputs, ...(timing ? { timing } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

