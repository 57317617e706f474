// `aic conformance DIR [--target T] [--filter REGEX] [--jobs N] [--json]`: every case under DIR.
import type { Command } from 'commander';
import type { CliContext } from '../output.js';
import { parseInteger } from '../options.js';

interface ConformanceFlags {
  target: string;
  filter?: string;
  jobs?: number;
  sample?: number;
  seed?: number;
  timeout?: number;
  json?: boolean;
}

export function registerConformance(program: Command, ctx: CliContext): void {
  program
    .command('conformance')
    .description('run every ONNX backend test case under DIR; one line per failure, then the counts')
    .argument('<dir>', 'a folder in the ONNX backend test layout (node/, simple/, pytorch-*, light/)')
    .option('--target <t>', 'where to run: interp, kir, cpu, wgsl, ptx', 'interp')
    .option('--filter <regex>', 'only cases whose suite/name matches')
    .option('--jobs <n>', 'worker threads (default: the number of cores)', parseInteger)
    .option('--sample <n>', 'a seeded sample of n cases', parseInteger)
    .option('--seed <s>', 'the seed of --sample (default 1)', parseInteger)
    .option('--timeout <seconds>', 'limit per case (default 300)', parseInteger)
    .option('--json', 'print {passed, failed, skipped, cases} as JSON')
    .action(async (dir: string, opts: ConformanceFlags) => {
      const { runConformance } = await import('../../driver/conformance.js');
      const { targetCompiler } = await import('../../driver/targets.js');
      await import('../../driver/all-targets.js');
      targetCompiler(opts.target); // an unknown target is a usage error before any work
      let filter: RegExp | undefined;
      if (opts.filter !== undefined) {
        try {
          filter = new RegExp(opts.filter);
        } catch (e) {
          const { AicError } = await import('../../ir/error.js');
          throw new AicError('E_USAGE', `--filter: ${(e as Error).message}`);
        }
      }
      const report = await runConformance(dir, {
        target: opts.target,
        ...(filter ? { filter } : {}),
        ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
        ...(opts.sample !== undefined ? { sample: opts.sample } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.timeout !== undefined ? { timeoutMs: opts.timeout * 1000 } : {}),
        onResult: (r, done, total) => {
          if (opts.json) {
            if (ctx.io.interactive) ctx.log(`[${done}/${total}] ${r.suite}/${r.name}: ${r.status}`);
          } else if (r.status === 'failed') {
            ctx.print(`FAIL ${r.suite}/${r.name} [${r.category ?? 'failed'}] ${r.reason ?? ''}`);
          } else if (r.status === 'skipped') {
            ctx.print(`SKIP ${r.suite}/${r.name}: ${r.reason ?? ''}`);
          }
        },
      });
      if (opts.json) {
        ctx.printJson({
          passed: report.passed, failed: report.failed, skipped: report.skipped,
          cases: report.cases.map((c) => ({ suite: c.suite, name: c.name, status: c.status, reason: c.reason ?? null, category: c.category ?? null, ms: Math.round(c.ms), ...(c.note !== undefined ? { note: c.note } : {}) })),
        });
      } else {
        const notes = new Set(report.cases.map((c) => c.note).filter((n): n is string => n !== undefined));
        for (const n of notes) ctx.print(`note: ${n}`);
        ctx.print(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
      }
      if (report.failed > 0) ctx.exitCode = 1;
    });
}
