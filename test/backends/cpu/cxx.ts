// Compile and run the C++ test programs of the CPU runtime kernels (src/backends/cpu/runtime/*.h) with the
// system g++, from a temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const RUNTIME_DIR = resolve(here, '../../../src/backends/cpu/runtime');
export const CXX_DIR = join(here, 'cxx');

/** Whether a working g++ is on PATH. */
export const HAVE_GXX: boolean = spawnSync('g++', ['--version'], { encoding: 'utf8' }).status === 0;
export const IS_X64: boolean = process.arch === 'x64';

export interface Variant {
  name: string;
  flags: string[];
}

/** ISA variants worth compiling the kernels for on this host: the native one and, on x86-64, the AVX2 and
 *  portable fallbacks (only those the host can run), plus a build without OpenMP. */
export function variants(): Variant[] {
  const base = ['-std=c++17', '-O2'];
  const out: Variant[] = [{ name: 'native', flags: [...base, '-march=native', '-fopenmp'] }];
  if (IS_X64) {
    const defs = spawnSync('g++', ['-march=native', '-dM', '-E', '-x', 'c++', '/dev/null'], { encoding: 'utf8' }).stdout ?? '';
    if (defs.includes('__AVX512F__') && defs.includes('__AVX2__')) {
      out.push({ name: 'avx2', flags: [...base, '-march=native', '-mno-avx512f', '-fopenmp'] });
    }
    out.push({ name: 'portable', flags: [...base, '-march=x86-64', '-fopenmp'] });
  }
  out.push({ name: 'no-openmp', flags: [...base, '-march=native'] });
  const sanitize = ['-std=c++17', '-O1', '-g', '-march=native', '-fopenmp', '-fsanitize=address,undefined', '-fno-sanitize-recover=all'];
  if (sanitizersWork(sanitize)) out.push({ name: 'asan+ubsan', flags: sanitize });
  return out;
}

// Whether this g++ can build and run a sanitized program (the runtime libraries may be missing).
function sanitizersWork(flags: readonly string[]): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'aic-san-'));
  try {
    const src = join(dir, 'probe.cpp');
    writeFileSync(src, 'int main() { return 0; }\n');
    const exe = join(dir, 'probe');
    if (spawnSync('g++', [...flags, src, '-o', exe]).status !== 0) return false;
    return spawnSync(exe, []).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class CxxWorkspace {
  readonly dir: string = mkdtempSync(join(tmpdir(), 'aic-cpu-kernels-'));

  /** Compile test/backends/cpu/cxx/<source> into an executable; returns its path and the compiler output. */
  compile(source: string, flags: readonly string[], exeName: string): { exe: string; ok: boolean; log: string } {
    const exe = join(this.dir, exeName);
    const r = spawnSync('g++', [...flags, '-Wall', '-Wextra', '-I', RUNTIME_DIR, join(CXX_DIR, source), '-o', exe], {
      encoding: 'utf8',
    });
    return { exe, ok: r.status === 0, log: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  }

  run(exe: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Run {
    const r = spawnSync(exe, [...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Warnings that the compiler reports inside the runtime headers (they must compile cleanly). */
export function headerWarnings(log: string): string[] {
  return log.split('\n').filter((l) => l.includes('src/backends/cpu/runtime/') && /warning:/.test(l));
}

if (!HAVE_GXX) console.log('skipped: g++ not found');
