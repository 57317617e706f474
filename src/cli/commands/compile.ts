// `aic compile MODEL.onnx --target T -o DIR [--passes P] [--print-ir-after PASS|all] [--dump-dir D] [--stats]
// [--json] [--explain-fusion]`: the target's artifact, written into DIR atomically. For `kir` the artifact is
// the Program's text (program.kir).
import type { Command } from 'commander';
import { formatBytes, groupDigits, type CliContext } from '../output.js';

interface CompileFlags {
  target: string;
  out: string;
  passes?: string;
  printIrAfter?: string;
  printIrBefore?: string;
  verifyEach?: boolean;
  timePasses?: boolean;
  dumpDir?: string;
  stats?: boolean;
  json?: boolean;
  explainFusion?: boolean;
  build?: boolean;
  embedWeights?: boolean;
  march?: string;
  prefix?: string;
  sm?: string;
  dim: string[];
}

export function registerCompile(program: Command, ctx: CliContext): void {
  program
    .command('compile')
    .description('compile a model for a target and write its artifact (for kir: the kernel-IR Program) into DIR')
    .argument('<model>', 'the .onnx file')
    .option('--target <t>', 'what to compile for: kir, or a backend', 'kir')
    .requiredOption('-o, --out <dir>', 'the folder to write (replaced atomically)')
    .option('--passes <pipeline>', 'comma-separated graph passes (default: lower + canonicalization)')
    .option('--print-ir-after <pass>', "print the IR after a pass ('all', a graph pass, 'schedule' or 'plan')")
    .option('--print-ir-before <pass>', "print the IR before a graph pass ('all' or a pass name)")
    .option('--verify-each', 'run the IR verifier after every graph pass')
    .option('--time-passes', 'print the time and node count of every pass (on stderr)')
    .option('--dump-dir <dir>', 'write every stage as numbered .air / .kir files')
    .option('--stats', 'print node, kernel and memory counts')
    .option('--json', 'print the stats (or a summary) as one JSON document on stdout')
    .option('--explain-fusion', 'list the kernels and every value not fused into its readers, with the reason')
    .option('--build', 'also build the artifact (cpu: g++ -O3 -march=native into DIR/model)')
    .option('--embed-weights', 'embed the weights in the source instead of a weights file')
    .option('--march <arch>', 'the CPU to build for with --build (default: native)')
    .option('--prefix <name>', 'prefix of the C ABI symbols (cpu; default aic_model)')
    .option('--sm <arch>', 'the GPU architecture to write PTX for (ptx: sm_80 by default, up to sm_90)')
    .option('--dim <name=n>', 'the size of a symbolic dim, for targets that render static shapes (ptx; repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (modelPath: string, opts: CompileFlags) => {
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { loadModel } = await import('../../driver/model-file.js');
      const { compileModel, writeArtifact } = await import('../../driver/compile.js');
      const { printIr, dumpStages } = await import('../../passes/manager.js');
      const { printProgram } = await import('../../kernel/printer.js');
      const { explainFusion } = await import('../../passes/schedule/explain.js');
      const { findBackend } = await import('../../backends/backend.js');
      const { AicError } = await import('../../ir/error.js');
      await import('../../driver/all-targets.js');
      const backend = opts.target === 'kir' ? undefined : findBackend(opts.target);
      if ((opts.build || opts.march !== undefined) && !backend?.build) {
        throw new AicError('E_USAGE', `--build: target '${opts.target}' has nothing to build`);
      }
      if (opts.build) {
        const why = backend!.unavailable?.();
        if (why) throw new AicError('E_BUILD', `${opts.target}: ${why}`);
      }
      // With --json, stdout holds only the JSON document: IR and explanations go to stderr.
      const text = (s: string): void => (opts.json ? ctx.io.err(s) : ctx.io.out(s));
      const t0 = performance.now();
      const model = loadModel(modelPath);
      const importMs = performance.now() - t0;
      const instrumentations = [];
      const which = opts.printIrAfter;
      if (which !== undefined) instrumentations.push(printIr('after', which, text));
      if (opts.printIrBefore !== undefined) instrumentations.push(printIr('before', opts.printIrBefore, text));
      let stage = 0;
      if (opts.dumpDir !== undefined) {
        mkdirSync(opts.dumpDir, { recursive: true });
        instrumentations.push(dumpStages((name, body) => {
          stage = Math.max(stage, Number(name.slice(0, 2)) + 1);
          writeFileSync(join(opts.dumpDir!, name), body);
        }));
      }
      const dims: Record<string, number> = {};
      for (const spec of opts.dim) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$/.exec(spec);
        if (!m) throw new AicError('E_USAGE', `--dim ${spec}: expected NAME=SIZE`);
        dims[m[1]!] = Number(m[2]);
      }
      const result = compileModel(model, {
        target: opts.target,
        emit: { ...(opts.embedWeights ? { embedWeights: true } : {}), ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}), ...(opts.sm !== undefined ? { sm: opts.sm } : {}), ...(opts.dim.length > 0 ? { dims } : {}) },
        ...(opts.passes !== undefined ? { passes: opts.passes } : {}),
        instrumentations,
        verifyEach: opts.verifyEach === true,
        onProgram: (name, p) => {
          if (which === 'all' || which?.split(',').includes(name)) text(`// ----- kernel IR after ${name} -----\n${printProgram(p, { elideWeightsOver: 16 })}`);
          if (opts.dumpDir !== undefined) writeFileSync(join(opts.dumpDir, `${String(stage++).padStart(2, '0')}-${name}.kir`), printProgram(p));
        },
      }, importMs);
      let buildMs = 0;
      await writeArtifact(opts.out, result.files, opts.build ? async (tmp, failedDir) => {
        const t = performance.now();
        await backend!.build!({ files: result.files, main: result.files.has('model.cpp') ? 'model.cpp' : [...result.files.keys()][0]! }, tmp,
          { ...(opts.march !== undefined ? { march: opts.march } : {}), shownDir: failedDir });
        buildMs = performance.now() - t;
      } : undefined);
      if (opts.timePasses) {
        for (const p of result.stats.passes) ctx.log(`${p.name.padEnd(12)} ${p.ms.toFixed(1).padStart(9)} ms  ${groupDigits(p.nodes)} nodes`);
      }
      if (opts.explainFusion) text(`${explainFusion(result.program, result.decisions).join('\n')}\n`);
      const s = result.stats;
      if (opts.json) {
        const built = opts.build ? { buildMs: Math.round(buildMs) } : {};
        ctx.printJson(opts.stats ? { ...s, ...built } : { out: opts.out, files: [...result.files.keys()], kernels: s.kernels, arenaBytes: s.arenaBytes, ...built });
        return;
      }
      ctx.print(`wrote ${[...result.files.keys()].map((f) => join(opts.out, f)).join(', ')}`);
      if (opts.build) ctx.print(`built ${join(opts.out, 'model')} in ${(buildMs / 1000).toFixed(1)} s`);
      if (!opts.stats) return;
      ctx.print(`nodes        ${groupDigits(s.nodes)} onnx, ${groupDigits(s.prims)} prims, ${groupDigits(s.nodesAfterOpt)} after canonicalization`);
      ctx.print(`kernels      ${groupDigits(s.kernels)}`);
      ctx.print(`arena        ${formatBytes(s.arenaBytes)} (naive ${formatBytes(s.naiveBytes)}, lower bound ${formatBytes(s.lowerBoundBytes)})`);
      ctx.print(`bytes moved  ${formatBytes(s.bytesMoved)} (unfused ${formatBytes(s.bytesMovedUnfused)})`);
      ctx.print(`passes       ${s.passes.map((p) => `${p.name} ${p.ms.toFixed(0)} ms`).join(', ')}`);
    });
}
