// `--explain-fusion`: the kernels of a Program, and every value the scheduler refused to fuse into its
// readers, with the reason.
//
//   31 kernels
//     k0   dot add max → %9825
//     k1   reduce_max → %r2
//   refused to fuse (2):
//     %r2 = prim.reduce_max  in k1, read by k2: operand of a dot (a GEMM reads plain loads)
import type { Program } from '../../kernel/program.js';
import type { FusionDecision } from './index.js';

export function explainFusion(p: Program, decisions: readonly FusionDecision[]): string[] {
  const lines = [`${p.kernels.length} kernel${p.kernels.length === 1 ? '' : 's'}`];
  const width = Math.max(0, ...p.kernels.map((k) => k.name.length));
  for (const k of p.kernels) lines.push(`  ${k.name.padEnd(width)}  ${k.kind === 'extern' ? 'extern ' : ''}${k.note ?? ''}`);
  const refused = decisions.filter((d) => d.reason !== 'graph output' || d.readers.length > 0);
  lines.push(`refused to fuse (${refused.length}):`);
  for (const d of refused) {
    const where = d.kernel ? `in ${d.kernel}` : 'a weight';
    const readers = d.readers.length > 0 ? `, read by ${d.readers.join(', ')}` : '';
    lines.push(`  ${d.value} = ${d.op}  ${where}${readers}: ${d.reason}`);
  }
  return lines;
}
