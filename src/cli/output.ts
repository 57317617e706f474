// How the CLI talks: results on stdout, errors and progress on stderr, both behind an `Io` so tests
// can call `main()` and capture them. Errors follow CLI.md: one line, a hint line, a stack only with --debug.
import { isAicError } from '../ir/error.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may be shown there. */
  readonly interactive: boolean;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
};

/** What a command's action gets: where to write, and the exit code to return. */
export class CliContext {
  /** Set to 1 by commands whose result is "wrong" without an error (a mismatch in `test`). */
  exitCode = 0;
  /** `--debug` was given: internal errors show their stack. */
  debug = false;

  constructor(readonly io: Io) {}

  /** One line of the result, on stdout. */
  print(line = ''): void {
    this.io.out(`${line}\n`);
  }

  /** The whole result as one JSON document on stdout (BigInts become numbers or strings). */
  printJson(value: unknown): void {
    this.io.out(`${toJson(value)}\n`);
  }

  /** A log or progress line, on stderr so that stdout stays parseable. */
  log(line: string): void {
    this.io.err(`${line}\n`);
  }
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v, 2);
}

/** The stderr text for an error that reached the top: `aic: error[CODE]: …` or `aic: internal error: …`. */
export function formatError(e: unknown, debug: boolean): string {
  const lines: string[] = [];
  if (isAicError(e)) {
    lines.push(`aic: error[${e.code}]: ${oneLine(e.message)}`);
    if (e.hint) lines.push(`hint: ${oneLine(e.hint)}`);
  } else {
    const message = e instanceof Error ? e.message : String(e);
    lines.push(`aic: internal error: ${oneLine(message)}`);
    if (!debug) lines.push('hint: run again with --debug for a stack trace');
  }
  if (debug && e instanceof Error && e.stack) lines.push(e.stack);
  return `${lines.join('\n')}\n`;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();

/** Lay rows out in columns separated by two spaces; `right` lists the columns to right-align. */
export function columns(rows: readonly (readonly string[])[], right: readonly number[] = [], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => {
    const cells = row.map((cell, i) => {
      if (i === row.length - 1 && !right.includes(i)) return cell; // no trailing padding
      return right.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
    });
    return `${indent}${cells.join('  ')}`.trimEnd();
  });
}

/** 1234567 → "1,234,567", independent of the locale. */
export const groupDigits = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
