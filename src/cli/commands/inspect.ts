// `aic inspect MODEL.onnx [--json]`: what a model is made of, without importing it.
import type { Command } from 'commander';
import type { ModelSummary, ValueSummary } from '../../frontend/onnx/summary.js';
import { columns, formatBytes, groupDigits, type CliContext } from '../output.js';

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('summarize an ONNX model: opsets, inputs and outputs, ops, parameters, unsupported ops')
    .argument('<model>', 'the .onnx file')
    .option('--json', 'print the summary as one JSON document on stdout')
    .action(async (model: string, opts: { json?: boolean }) => {
      // Loaded here, not at the top, so that other commands and --help do not pay for the protobuf code.
      const { loadModelProto } = await import('../../driver/model-file.js');
      const { summarizeModel } = await import('../../frontend/onnx/summary.js');
      const summary = summarizeModel(loadModelProto(model), model);
      if (opts.json) ctx.printJson(summary);
      else for (const line of formatSummary(summary)) ctx.print(line);
    });
}

/** The human-readable summary: a label column, then values; inputs, outputs and ops indented below. */
export function formatSummary(s: ModelSummary): string[] {
  const rows: string[][] = [];
  const row = (label: string, value: string): number => rows.push([label, value]);
  const values = (vs: readonly ValueSummary[]): void => void vs.forEach((v) => row(`  ${v.name}`, v.type));

  row('model', s.file);
  row('ir version', String(s.irVersion));
  row('opsets', s.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ') || 'none');
  row('producer', [s.producer.name, s.producer.version].filter(Boolean).join(' ') || '-');
  row('graph', s.graphName || '-');
  const viaInit = s.initializerInputs > 0 ? ` (+${groupDigits(s.initializerInputs)} initializers listed as inputs)` : '';
  row('inputs', `${s.inputs.length}${viaInit}`);
  values(s.inputs);
  row('outputs', String(s.outputs.length));
  values(s.outputs);
  const inSubgraphs = s.subgraphNodes > 0 ? ` (+${groupDigits(s.subgraphNodes)} in subgraphs)` : '';
  row('nodes', `${groupDigits(s.nodes)}${inSubgraphs}`);
  if (s.functions > 0) row('functions', `${s.functions} local`);
  const p = s.parameters;
  row('parameters', p.tensors === 0 ? 'none'
    : `${groupDigits(p.elements)} in ${groupDigits(p.tensors)} initializers, ${formatBytes(p.bytes)}`);
  const c = s.constants;
  row('constants', c.nodes === 0 ? 'none'
    : `${groupDigits(c.elements)} in ${groupDigits(c.nodes)} Constant nodes, ${formatBytes(c.bytes)}`);
  const unsupported = new Set(s.unsupported);
  // Ops only reachable through local functions are not in the histogram; they get a line of their own.
  const inFunctions = s.unsupported.filter((op) => !s.ops.some((o) => o.op === op));
  const marked = s.unsupported.length > inFunctions.length ? ' (marked below)' : '';
  row('unsupported', s.unsupported.length === 0 ? 'none' : `${plural(s.unsupported.length, 'op type')}${marked}`);
  row('ops', plural(s.ops.length, 'type'));

  const opRows = s.ops.map(({ op, count }) => [op, groupDigits(count), unsupported.has(op) ? 'unsupported' : '']);
  const tail = inFunctions.length > 0 ? [`  unsupported in local functions: ${inFunctions.join(', ')}`] : [];

  // Long value names would push every value far right; they overflow their column instead.
  const width = Math.min(32, Math.max(...rows.map((r) => r[0]!.length)));
  const lines = rows.map(([label, value]) => `${label!.padEnd(width)}  ${value}`);
  return [...lines, ...columns(opRows, [1], '  '), ...tail];
}

const plural = (n: number, noun: string): string => `${groupDigits(n)} ${noun}${n === 1 ? '' : 's'}`;
