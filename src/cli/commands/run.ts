// `aic run MODEL.onnx --input NAME=FILE … [--target T] [-o DIR] [--json]`: run a model on .npy / .pb inputs.
import type { Command } from 'commander';
import { columns, type CliContext } from '../output.js';

interface RunFlags {
  input: string[];
  target: string;
  output?: string;
  json?: boolean;
}

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a model on inputs from .npy or .pb files; write outputs as .npy into DIR, or print a summary')
    .argument('<model>', 'the .onnx file')
    .option('--input <name=file>', 'an input (repeatable); by position when NAME is omitted', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--target <t>', 'where to run it', 'interp')
    .option('-o, --output <dir>', 'write each output as <name>.npy here')
    .option('--json', 'print the output summary as JSON')
    .action(async (modelPath: string, opts: RunFlags) => {
      const { readFileSync, mkdirSync, writeFileSync, renameSync, rmSync } = await import('node:fs');
      const { join, dirname, basename } = await import('node:path');
      const { AicError } = await import('../../ir/error.js');
      const { readNpy, writeNpy } = await import('../../runtime/npy.js');
      const { readTensorProto } = await import('../../runtime/tensor-proto.js');
      const { loadModelProto } = await import('../../driver/model-file.js');
      const { importModel } = await import('../../frontend/onnx/import.js');
      const { externalDataReader } = await import('../../driver/model-file.js');
      const { compileForTarget, targetCompiler } = await import('../../driver/targets.js');
      await import('../../driver/all-targets.js');
      targetCompiler(opts.target);

      const proto = loadModelProto(modelPath);
      const inits = new Set(proto.graph!.initializer.map((t) => t.name));
      const declared = proto.graph!.input.map((v) => v.name).filter((n) => !inits.has(n));
      const given = new Map<string, import('../../ir/tensor.js').Tensor>();
      opts.input.forEach((spec, k) => {
        const eq = spec.indexOf('=');
        const name = eq > 0 ? spec.slice(0, eq) : declared[k];
        const file = eq > 0 ? spec.slice(eq + 1) : spec;
        if (name === undefined || !declared.includes(name)) {
          throw new AicError('E_USAGE', `--input ${spec}: the model has no input '${name ?? k}'`, `inputs: ${declared.join(', ')}`);
        }
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(file);
        } catch {
          throw new AicError('E_IO', `${file}: cannot be read`);
        }
        given.set(name, file.endsWith('.npy') ? readNpy(bytes, file) : readTensorProto(bytes, file).tensor);
      });
      const model = importModel(proto, { where: modelPath, readExternal: externalDataReader(modelPath), specialize: (n) => given.get(n) });
      const missing = model.graph.inputs.filter((v) => !given.has(v.name ?? ''));
      if (missing.length > 0) throw new AicError('E_USAGE', `no value for input${missing.length > 1 ? 's' : ''} ${missing.map((v) => `'${v.name}'`).join(', ')}`, 'give each with --input NAME=FILE.npy');
      const compiled = await compileForTarget(opts.target, model);
      const outputs = await compiled.run(model.graph.inputs.map((v) => given.get(v.name ?? '')!));
      const names = model.outputTensorNames.map((n, i) => n || `output_${i}`);
      if (opts.output !== undefined) {
        // Written into a temp folder renamed at the end, so a failure leaves no partial output behind.
        const tmp = join(dirname(opts.output), `.${basename(opts.output)}.tmp-${process.pid}`);
        mkdirSync(tmp, { recursive: true });
        try {
          outputs.forEach((t, i) => writeFileSync(join(tmp, `${names[i]!.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`), writeNpy(t)));
          rmSync(opts.output, { recursive: true, force: true });
          renameSync(tmp, opts.output);
        } catch (e) {
          rmSync(tmp, { recursive: true, force: true });
          throw e;
        }
      }
      const summary = outputs.map((t, i) => {
        const nums = t.toNumbers();
        const finite = nums.filter(Number.isFinite);
        return { name: names[i]!, dtype: t.dtype, shape: [...t.shape], min: finite.length ? Math.min(...finite) : null, max: finite.length ? Math.max(...finite) : null, first: nums.slice(0, 6) };
      });
      if (opts.json) {
        ctx.printJson({ target: opts.target, outputs: summary, note: compiled.note ?? null });
        return;
      }
      for (const line of columns(summary.map((s) => [s.name, `${s.dtype}[${s.shape.join(',')}]`, `min ${s.min}`, `max ${s.max}`, `[${s.first.map((v) => +v.toPrecision(6)).join(', ')}${s.first.length < 6 ? '' : ', …'}]`]))) ctx.print(line);
      if (compiled.note) ctx.print(`note: ${compiled.note}`);
      if (opts.output !== undefined) ctx.print(`wrote ${outputs.length} output${outputs.length === 1 ? '' : 's'} to ${opts.output}/`);
    });
}
