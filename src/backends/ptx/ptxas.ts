// ptxas, the assembler of the CUDA toolkit: without a GPU it is how this machine knows the PTX is valid.
// Found on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../ir/error.js';

let found: string | null | undefined;

/** The ptxas executable, or undefined when there is none. */
export function ptxasPath(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  const candidates = [process.env['PTXAS'], 'ptxas', process.env['CUDA_HOME'] && join(process.env['CUDA_HOME'], 'bin', 'ptxas'), '/usr/local/cuda/bin/ptxas'];
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) {
      found = c;
      return c;
    }
  }
  found = null;
  return undefined;
}

export interface AssembleResult {
  readonly target: string;
  /** ptxas -v's report: registers, spill stores/loads per entry. */
  readonly entries: readonly EntryUsage[];
}

export interface EntryUsage {
  readonly entry: string;
  readonly registers: number;
  readonly spillStores: number;
  readonly spillLoads: number;
}

/** Assemble PTX text for one target (`sm_80`); rejects with E_BUILD naming ptxas's first error. */
export function assemble(ptx: string, target: string, file = 'kernels.ptx'): AssembleResult {
  const tool = ptxasPath() ?? fail('E_UNSUPPORTED', 'ptx: ptxas not found', 'install the CUDA toolkit or set PTXAS');
  const dir = mkdtempSync(join(tmpdir(), 'aic-ptxas-'));
  try {
    const src = join(dir, 'kernels.ptx');
    writeFileSync(src, ptx);
    const r = spawnSync(tool, ['-v', `-arch=${target}`, src, '-o', join(dir, 'kernels.cubin')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      const first = (r.stderr || r.stdout || '').split('\n').find((l) => l.trim() !== '') ?? 'failed';
      fail('E_BUILD', `ptxas (${target}) rejected ${file}: ${first.replace(src, file)}`);
    }
    return { target, entries: parseUsage(r.stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `ptxas info : Function properties for aic_k0` / `… N bytes spill stores, M bytes spill loads` /
 * `ptxas info : Used R registers, …`. */
function parseUsage(log: string): EntryUsage[] {
  const out: EntryUsage[] = [];
  let entry = '';
  let stores = 0;
  let loads = 0;
  for (const line of log.split('\n')) {
    const fn = /Compiling entry function '([^']+)'|Function properties for (\S+)/.exec(line);
    if (fn) entry = fn[1] ?? fn[2] ?? entry;
    const spill = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (spill) {
      stores = Number(spill[1]);
      loads = Number(spill[2]);
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used) {
      out.push({ entry, registers: Number(used[1]), spillStores: stores, spillLoads: loads });
      stores = 0;
      loads = 0;
    }
  }
  return out;
}
