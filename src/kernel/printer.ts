// The kernel IR as text (docs/KERNEL-IR.md); src/kernel/parser.ts reads it back, and
// print(parse(print(p))) === print(p).
//
//   kernel k0 "softmax → %y" (i0 < 2) {
//     %0 = reduce max f32 (r0 < 8) {
//       %1 = load f32 @in0[8*i0 + r0]
//     } -> %1
//     loop (i1 < 8) {
//       %2 = load f32 @in0[8*i0 + i1]
//       ...
//       store @out0[8*i0 + i1] = %7
//     }
//   }
import { isFloat, type DType } from '../ir/dtype.js';
import { A } from '../ir/attr.js';
import { formatFloat, printAttr, printGraph, printType } from '../ir/printer.js';
import { printIndex } from './index-expr.js';
import type { Axis, Kernel, Stmt } from './kernel.js';
import type { Buffer, Program } from './program.js';

const INDENT = '  ';
const BUF_IDENT = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export const printBufferName = (name: string): string => `@${BUF_IDENT.test(name) ? name : JSON.stringify(name)}`;

export interface ProgramPrintOptions {
  /** Print weights with more elements than this as `elided` (readable dumps; such text does not parse). */
  readonly elideWeightsOver?: number;
}

export function printProgram(p: Program, opts: ProgramPrintOptions = {}): string {
  const lines: string[] = [];
  lines.push(`program @${quoteName(p.name)}(${p.inputs.map(printBufferName).join(', ')}) -> (${p.outputs.map(printBufferName).join(', ')}) {`);
  lines.push(`${INDENT}arena ${p.arenaBytes}`);
  for (const b of p.buffers) lines.push(`${INDENT}${printBuffer(b, opts)}`);
  for (const k of p.kernels) lines.push(...kernelLines(k, 1));
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function printKernel(k: Kernel): string {
  return `${kernelLines(k, 0).join('\n')}\n`;
}

const quoteName = (s: string): string => (BUF_IDENT.test(s) ? s : JSON.stringify(s));

export function printBuffer(b: Buffer, opts: ProgramPrintOptions = {}): string {
  let s = `buffer ${printBufferName(b.name)}: ${printType(b)} ${b.role}`;
  if (b.label !== undefined) s += ` ${JSON.stringify(b.label)}`;
  if (b.role === 'temp') s += b.offset === undefined ? ' dynamic' : ` at ${b.offset}`;
  if (b.data) {
    s += ` = ${opts.elideWeightsOver !== undefined && b.data.size > opts.elideWeightsOver
      ? printAttr(A.tensor(b.data), { elideTensorsOver: opts.elideWeightsOver })
      : printAttr(A.tensor(b.data))}`;
  }
  return s;
}

const printAxes = (axes: readonly Axis[]): string => `(${axes.map((a) => `${a.name} < ${printIndex(a.extent)}`).join(', ')})`;

function kernelLines(k: Kernel, depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const note = k.note !== undefined ? ` ${JSON.stringify(k.note)}` : '';
  if (k.kind === 'extern') {
    const head = `${pad}extern ${k.name}${note} (${k.inputs.map(printBufferName).join(', ')}) -> (${k.outputs.map(printBufferName).join(', ')}) {`;
    const graph = printGraph(k.graph).trimEnd().split('\n').map((l) => `${pad}${INDENT}${l}`);
    return [head, ...graph, `${pad}}`];
  }
  return [`${pad}kernel ${k.name}${note} ${printAxes(k.domain)} {`, ...bodyLines(k.body, depth + 1), `${pad}}`];
}

function bodyLines(body: readonly Stmt[], depth: number): string[] {
  const pad = INDENT.repeat(depth);
  const out: string[] = [];
  for (const s of body) {
    switch (s.kind) {
      case 'let':
        out.push(`${pad}%${s.id} = ${exprText(s)}`);
        break;
      case 'reduce': {
        const last = s.selectLast ? ' last' : '';
        out.push(`${pad}%${s.id} = reduce ${s.combiner} ${s.dtype} ${printAxes(s.axes)}${last} {`);
        out.push(...bodyLines(s.body, depth + 1));
        out.push(`${pad}} -> ${s.operands.map((r) => `%${r}`).join(', ')}`);
        break;
      }
      case 'loop':
        out.push(`${pad}loop ${printAxes(s.axes)} {`, ...bodyLines(s.body, depth + 1), `${pad}}`);
        break;
      case 'store':
        out.push(`${pad}store ${printBufferName(s.buffer)}[${printIndex(s.index)}] = %${s.value}`);
        break;
      case 'check':
        out.push(`${pad}check %${s.cond} ${JSON.stringify(s.message)}`);
        break;
    }
  }
  return out;
}

function exprText(s: Extract<Stmt, { kind: 'let' }>): string {
  const e = s.expr;
  switch (e.op) {
    case 'load':
      return `load ${s.dtype} ${printBufferName(e.buffer)}[${printIndex(e.index)}]${e.mask !== undefined ? ` if %${e.mask}` : ''}`;
    case 'const':
      return `const ${s.dtype} ${formatLiteral(s.dtype, e.value)}`;
    case 'index':
      return `index ${s.dtype} [${printIndex(e.index)}]`;
    case 'inbounds':
      return `inbounds [${printIndex(e.index)}] < ${printIndex(e.extent)}`;
    case 'prim':
      return `${e.prim} ${s.dtype} ${e.args.map((a) => `%${a}`).join(', ')}`;
  }
}

/** A literal as the parser reads it back: floats always look like floats, integers never do. */
export function formatLiteral(dtype: DType, v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  return isFloat(dtype) ? formatFloat(v) : String(v);
}
