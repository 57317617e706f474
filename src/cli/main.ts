// The `aic` command line (contract: CLI.md). This file only wires commander to the commands, each of
// which lives in commands/<name>.ts, and turns whatever escapes them into an exit code and stderr text.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerInspect } from './commands/inspect.js';
import { registerTest } from './commands/test.js';
import { registerConformance } from './commands/conformance.js';
import { registerVerify } from './commands/verify.js';
import { registerOps } from './commands/ops.js';
import { registerCompile } from './commands/compile.js';
import { registerRun } from './commands/run.js';
import { registerBench } from './commands/bench.js';
import { loadPlugins } from './plugins.js';
import { CliContext, formatError, processIo, type Io } from './output.js';
import { isAicError } from '../ir/error.js';

/** A command registers itself on the program; keep heavy imports inside its action so `aic --help` stays fast. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

const COMMANDS: readonly RegisterCommand[] = [registerInspect, registerOps, registerRun, registerTest, registerConformance, registerVerify, registerCompile, registerBench];

/** Exit codes from CLI.md. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Run `aic` on `argv` (as in process.argv: node, script, args…) and return the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const ctx = new CliContext(io);
  return runProgram(buildProgram(ctx), ctx, argv);
}

/** Parse and run; every outcome becomes an exit code, every failure one error line on ctx's stderr. */
export async function runProgram(program: Command, ctx: CliContext, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (e) {
    // With exitOverride, commander has already printed its message (help, version or usage error).
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const debug = ctx.debug || program.opts<{ debug?: boolean }>().debug === true;
    ctx.io.err(formatError(e, debug));
    return isAicError(e) && e.code === 'E_USAGE' ? EXIT.usage : EXIT.failed;
  }
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('aic')
    .description('An ML graph compiler: ONNX in, fused kernels out.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'show stack traces for internal errors')
    .option('--plugin <path>', 'load a module that registers passes or targets (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .showHelpAfterError('hint: add --help for usage')
    .configureOutput({
      writeOut: (s) => ctx.io.out(s),
      writeErr: (s) => ctx.io.err(s),
      outputError: (s, write) => write(usageLine(s)),
    })
    .exitOverride();
  program.hook('preAction', async (_program, action) => {
    const globals = action.optsWithGlobals<{ debug?: boolean; plugin?: string[] }>();
    ctx.debug = globals.debug === true;
    await loadPlugins(globals.plugin ?? []);
  });
  // Registered after the settings above so that every command inherits them.
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Commander's "error: unknown option '--x'\n(Did you mean --y?)" as one CLI.md error line. */
function usageLine(message: string): string {
  const text = message.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim();
  return `aic: error[E_USAGE]: ${text}\n`;
}

/** The version in package.json, found relative to this file (src/cli or dist/cli). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
