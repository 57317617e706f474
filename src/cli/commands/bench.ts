// `aic bench MODEL.onnx [--target T] [--threads N] [--runs R] [--warmup W] [--vs ort] [--dim NAME=N …]
// [--input NAME=FILE …] [--json]`: median latency of the compiled model (CLI.md's bench object).
import type { Command } from 'commander';
import type { CliContext } from '../output.js';
import { parseInteger } from '../options.js';

interface BenchFlags {
  target: string;
  threads?: number;
  runs?: number;
  warmup?: number;
  vs?: string;
  dim: string[];
  input: string[];
  json?: boolean;
}

export function registerBench(program: Command, ctx: CliContext): void {
  program
    .command('bench')
    .description('median latency of the compiled model (timed inside the compiled artifact); --vs ort: ONNX Runtime too')
    .argument('<model>', 'the .onnx file')
    .option('--target <t>', 'what to run: cpu, or another backend (interp and kir are timed in JavaScript)', 'cpu')
    .option('--threads <n>', 'threads (default: the number of cores); ONNX Runtime gets as many intra-op threads', parseInteger)
    .option('--runs <r>', 'timed runs after the warm-up, at least 20 (default 50)', parseInteger)
    .option('--warmup <w>', 'untimed runs first (default 5)', parseInteger)
    .option('--vs <runtime>', "also time another runtime on the same inputs: 'ort' (ONNX Runtime)")
    .option('--dim <name=n>', 'the size of a symbolic dim (repeatable; default 1)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--input <name=file>', 'an input from a .npy or .pb file instead of random values (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print the bench object as JSON')
    .action(async (modelPath: string, opts: BenchFlags) => {
      const { readFileSync } = await import('node:fs');
      const { AicError } = await import('../../ir/error.js');
      const { bench } = await import('../../driver/bench.js');
      const { targetCompiler } = await import('../../driver/targets.js');
      const { readNpy } = await import('../../runtime/npy.js');
      const { readTensorProto } = await import('../../runtime/tensor-proto.js');
      await import('../../driver/all-targets.js');
      targetCompiler(opts.target);
      if (opts.vs !== undefined && opts.vs !== 'ort') throw new AicError('E_USAGE', `--vs ${opts.vs}: the runtime to compare with is 'ort'`);
      const dims = new Map<string, number>();
      for (const spec of opts.dim) {
        const m = /^([^=]+)=(\d+)$/.exec(spec);
        if (!m) throw new AicError('E_USAGE', `--dim ${spec}: expected NAME=SIZE`);
        dims.set(m[1]!, Number(m[2]));
      }
      const inputs = new Map<string, import('../../ir/tensor.js').Tensor>();
      for (const spec of opts.input) {
        const eq = spec.indexOf('=');
        if (eq <= 0) throw new AicError('E_USAGE', `--input ${spec}: expected NAME=FILE`);
        const file = spec.slice(eq + 1);
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(file);
        } catch {
          throw new AicError('E_IO', `${file}: cannot be read`);
        }
        inputs.set(spec.slice(0, eq), file.endsWith('.npy') ? readNpy(bytes, file) : readTensorProto(bytes, file).tensor);
      }
      const r = await bench(modelPath, {
        target: opts.target,
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
        ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
        ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
        vsOrt: opts.vs === 'ort',
        dims,
        inputs,
        log: (l) => ctx.log(l),
      });
      if (opts.json) {
        ctx.printJson(r);
        return;
      }
      ctx.print(`${r.model} on ${r.target}, ${r.threads} thread${r.threads === 1 ? '' : 's'}: median ${r.medianMs.toFixed(3)} ms, min ${r.minMs.toFixed(3)} ms (${r.runs} runs)`);
      if (r.ort) {
        ctx.print(`ONNX Runtime, ${r.threads} intra-op thread${r.threads === 1 ? '' : 's'}: median ${r.ort.medianMs.toFixed(3)} ms, min ${r.ort.minMs.toFixed(3)} ms`);
        ctx.print(`ratio ${r.ratio!.toFixed(2)} (aic / ORT; below 1 is faster)${r.ortMaxAbsDiff !== undefined ? `; outputs differ by at most ${r.ortMaxAbsDiff.toExponential(2)}` : ''}`);
      }
    });
}
