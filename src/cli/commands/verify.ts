// `aic verify MODEL.onnx [--data DIR] [--passes P] [--dump-dir D] [--json]`: pass-by-pass equivalence on
// the user's own model; exit 1 naming the first pass that changed the numbers.
import type { Command } from 'commander';
import { columns, type CliContext } from '../output.js';

interface VerifyFlags {
  data?: string;
  passes?: string;
  dumpDir?: string;
  seed?: number;
  json?: boolean;
}

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('run the pipeline one pass at a time, interpreting after each, and name the first pass that changes the numbers')
    .argument('<model>', 'the .onnx file')
    .option('--data <dir>', 'a test_data_set_N folder (or a case folder) with input_K.pb files; default: seeded random inputs')
    .option('--passes <pipeline>', 'comma-separated passes (default: lower + canonicalization)')
    .option('--dump-dir <dir>', 'write every stage as numbered .air files')
    .option('--seed <n>', 'seed of the random inputs', (v) => Number.parseInt(v, 10))
    .option('--json', 'print the report as JSON')
    .action(async (modelPath: string, opts: VerifyFlags) => {
      const { existsSync, mkdirSync, mkdtempSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const { loadModel } = await import('../../driver/model-file.js');
      const { readDataSet } = await import('../../driver/test-case.js');
      const { verifyModel, randomInputs } = await import('../../driver/verify.js');
      const { loadModelProto } = await import('../../driver/model-file.js');

      let given: Map<string, import('../../ir/tensor.js').Tensor> | undefined;
      if (opts.data !== undefined) {
        const set = existsSync(join(opts.data, 'test_data_set_0')) ? join(opts.data, 'test_data_set_0') : opts.data;
        const g = loadModelProto(modelPath).graph!;
        const inits = new Set(g.initializer.map((t) => t.name));
        given = readDataSet(set, g.input.map((v) => v.name).filter((n) => !inits.has(n)));
      }
      const model = loadModel(modelPath, given ? { specialize: (n) => given.get(n) } : {});
      const random = randomInputs(model.graph.inputs, opts.seed ?? 1);
      const inputs = model.graph.inputs.map((v, i) => given?.get(v.name ?? '') ?? random[i]!);
      if (opts.dumpDir !== undefined) mkdirSync(opts.dumpDir, { recursive: true });
      const report = verifyModel(model, inputs, {
        ...(opts.passes !== undefined ? { passes: opts.passes } : {}),
        ...(opts.dumpDir !== undefined ? { dump: (name: string, text: string) => writeFileSync(join(opts.dumpDir!, name), text) } : {}),
      });
      let files: { before: string; after: string } | undefined;
      if (report.divergence) {
        const dir = opts.dumpDir ?? mkdtempSync(join(tmpdir(), 'aic-verify-'));
        files = { before: join(dir, `${report.divergence.pass}.before.air`), after: join(dir, `${report.divergence.pass}.after.air`) };
        writeFileSync(files.before, report.divergence.before);
        writeFileSync(files.after, report.divergence.after);
        ctx.exitCode = 1;
      }
      if (opts.json) {
        ctx.printJson({ ok: !report.divergence, inputs: given ? 'data' : 'random', rows: report.rows, divergence: report.divergence ? { pass: report.divergence.pass, reason: report.divergence.reason, ...files } : null });
        return;
      }
      const rows = [['pass', 'nodes', 'max abs err', 'max rel err', 'ok', 'ms']];
      for (const r of report.rows) {
        rows.push([r.pass, `${r.nodesBefore} → ${r.nodesAfter}`, r.checked ? r.maxAbsErr.toExponential(2) : '-', r.checked ? r.maxRelErr.toExponential(2) : '-',
          r.checked ? (r.ok ? 'yes' : 'NO') : 'baseline', r.ms.toFixed(1)]);
      }
      for (const line of columns(rows)) ctx.print(line);
      ctx.print(`inputs: ${given ? `from ${opts.data}` : `random (seed ${opts.seed ?? 1})`}`);
      if (report.divergence && files) {
        ctx.print(`pass '${report.divergence.pass}' changed the numbers: ${report.divergence.reason}`);
        ctx.print(`  before: ${files.before}`);
        ctx.print(`  after:  ${files.after}`);
      } else {
        ctx.print('every pass kept the numbers');
      }
    });
}
