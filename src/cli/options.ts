// Parsers for numeric command-line options: a bad value is a usage error (exit 2), not a NaN.
import { InvalidArgumentError } from 'commander';

export function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

export function parseInteger(value: string): number {
  const n = parseNumber(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${value}' is not a non-negative integer`);
  return n;
}
