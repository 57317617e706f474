// The conformance run: every case under a folder, on a pool of worker threads, each case under a time
// limit (a worker that overruns is terminated and replaced, so one hung case cannot stall the run).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { discoverCases, runCase, type CaseResult, type RunOptions, type TestCase } from './test-case.js';

export interface ConformanceOptions extends RunOptions {
  filter?: RegExp;
  jobs?: number;
  /** Per-case limit in milliseconds. */
  timeoutMs?: number;
  /** Run a seeded sample of this many cases (CI runs a sample on compiled targets). */
  sample?: number;
  seed?: number;
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

export interface ConformanceReport {
  passed: number;
  failed: number;
  skipped: number;
  cases: CaseResult[];
}

export function selectCases(root: string, opts: Pick<ConformanceOptions, 'filter' | 'sample' | 'seed'>): TestCase[] {
  let cases = discoverCases(root);
  if (opts.filter) cases = cases.filter((c) => opts.filter!.test(`${c.suite}/${c.name}`));
  if (opts.sample !== undefined && opts.sample < cases.length) cases = seededSample(cases, opts.sample, opts.seed ?? 1);
  return cases;
}

/** A deterministic sample (a seeded Fisher–Yates prefix), kept in the original order. */
function seededSample<T>(items: readonly T[], n: number, seed: number): T[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const idx = items.map((_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => items[i]!);
}

export async function runConformance(root: string, opts: ConformanceOptions): Promise<ConformanceReport> {
  const cases = selectCases(root, opts);
  const jobs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), cases.length));
  const results: CaseResult[] = new Array<CaseResult>(cases.length);
  let done = 0;
  const record = (i: number, r: CaseResult): void => {
    results[i] = r;
    done++;
    opts.onResult?.(r, done, cases.length);
  };
  if (jobs === 1 || !workerAvailable()) {
    for (let i = 0; i < cases.length; i++) record(i, await runCase(cases[i]!, opts));
  } else {
    await runInWorkers(cases, opts, jobs, record);
  }
  return {
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    cases: results,
  };
}

const WORKER_URL = new URL('./conformance-worker.js', import.meta.url);

/** Workers need the compiled JavaScript (dist/); from TypeScript sources (tests) cases run in-process. */
function workerAvailable(): boolean {
  return import.meta.url.endsWith('.js');
}

interface WorkerReply {
  index: number;
  result: CaseResult;
}

async function runInWorkers(cases: readonly TestCase[], opts: ConformanceOptions, jobs: number,
  record: (i: number, r: CaseResult) => void): Promise<void> {
  const runOpts: RunOptions = { target: opts.target, ...(opts.rtol !== undefined ? { rtol: opts.rtol } : {}), ...(opts.atol !== undefined ? { atol: opts.atol } : {}) };
  const timeoutMs = opts.timeoutMs ?? 300_000;
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker: Worker | undefined;
    while (next < cases.length) {
      const index = next++;
      const tc = cases[index]!;
      worker ??= new Worker(WORKER_URL);
      const w = worker;
      const start = performance.now();
      const result = await new Promise<CaseResult>((resolve) => {
        const failed = (category: string, reason: string): CaseResult =>
          ({ suite: tc.suite, name: tc.name, status: 'failed', category, reason, ms: performance.now() - start, outputs: [] });
        const onMessage = (m: WorkerReply): void => done(m.result);
        const onError = (e: Error): void => {
          worker = undefined;
          done(failed('crash', e.message));
        };
        const onExit = (code: number): void => {
          worker = undefined;
          done(failed('crash', `worker exited with code ${code}`));
        };
        const timer = setTimeout(() => {
          worker = undefined;
          void w.terminate();
          done(failed('timeout', `took longer than ${timeoutMs / 1000} s`));
        }, timeoutMs);
        // Only our own listeners are removed: Worker keeps internal ones that removeAllListeners would drop.
        function done(r: CaseResult): void {
          clearTimeout(timer);
          w.off('message', onMessage).off('error', onError).off('exit', onExit);
          resolve(r);
        }
        w.on('message', onMessage).on('error', onError).on('exit', onExit);
        w.postMessage({ index, tc, opts: runOpts });
      });
      record(index, result);
    }
    if (worker) await shutDown(worker);
  };
  await Promise.all(Array.from({ length: jobs }, lane));
}

/** Let a worker release what it holds (its WebGPU device), then end it. A worker that held a device is
 * left idle and unreferenced instead: terminating a thread that has loaded Dawn crashes the process about
 * half the time, while ending the process with it alive does not. */
async function shutDown(w: Worker): Promise<void> {
  const held = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), 10_000);
    w.once('message', (m: { held?: boolean }) => {
      clearTimeout(timer);
      resolve(m.held !== false);
    });
    w.postMessage({ shutdown: true });
  });
  if (held) w.unref();
  else await w.terminate();
}
