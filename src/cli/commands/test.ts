// `aic test CASE [--data DIR] [--target T] [--rtol R] [--atol A] [--json]`: one ONNX test case.
import type { Command } from 'commander';
import type { CaseResult } from '../../driver/test-case.js';
import { columns, type CliContext } from '../output.js';
import { parseNumber } from '../options.js';

export function registerTest(program: Command, ctx: CliContext): void {
  program
    .command('test')
    .description('run an ONNX test case (model.onnx + test_data_set_N/) and compare with its expected outputs')
    .argument('<case>', 'a case folder, or a model file with test_data_set_N/ beside it')
    .option('--data <dir>', 'the folder holding test_data_set_N/ (default: beside the model)')
    .option('--target <t>', 'where to run it: interp, kir, cpu, wgsl, ptx', 'interp')
    .option('--rtol <r>', 'relative tolerance (default 1e-3)', parseNumber)
    .option('--atol <a>', 'absolute tolerance (default 1e-7)', parseNumber)
    .option('--json', 'print the result as JSON')
    .action(async (path: string, opts: { data?: string; target: string; rtol?: number; atol?: number; json?: boolean }) => {
      const { loadTestCase, runCase } = await import('../../driver/test-case.js');
      const { targetCompiler } = await import('../../driver/targets.js');
      await import('../../driver/all-targets.js');
      targetCompiler(opts.target); // an unknown target is a usage error before any work
      const tc = loadTestCase(path, opts.data);
      const r = await runCase(tc, { target: opts.target, ...(opts.rtol !== undefined ? { rtol: opts.rtol } : {}), ...(opts.atol !== undefined ? { atol: opts.atol } : {}) });
      if (opts.json) ctx.printJson(r);
      else for (const line of formatCaseResult(r)) ctx.print(line);
      if (r.status === 'failed') ctx.exitCode = 1;
    });
}

export function formatCaseResult(r: CaseResult): string[] {
  const lines = [`${r.suite}/${r.name}: ${r.status}${r.reason ? ` — ${r.reason}` : ''} (${r.ms.toFixed(0)} ms)`];
  if (r.note) lines.push(`note: ${r.note}`);
  if (r.outputs.length > 0) {
    const rows = [['output', 'max abs err', 'max rel err', 'ok']];
    for (const o of r.outputs) {
      const c = o.comparison;
      rows.push([o.name, c.maxAbsErr.toExponential(2), c.maxRelErr.toExponential(2), c.ok ? 'yes' : `NO: ${c.reason ?? ''}`]);
    }
    lines.push(...columns(rows).map((l) => `  ${l}`));
  }
  return lines;
}
