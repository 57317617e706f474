// `aic ops [--json]`: the prim set, and every ONNX op aic imports with its opset range.
import type { Command } from 'commander';
import { columns, type CliContext } from '../output.js';

export function registerOps(program: Command, ctx: CliContext): void {
  program
    .command('ops')
    .description('list the prims and every ONNX op aic imports, with opset ranges')
    .option('--json', 'print {prims, onnx} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { opsOfDialect } = await import('../../ir/op.js');
      await import('../../ir/prims/index.js');
      const { supportedOnnxOps, NEWEST_OPSET } = await import('../../frontend/onnx/registry.js');
      await import('../../frontend/onnx/ops/index.js');
      const prims = opsOfDialect('prim').map((d) => ({ name: d.name.slice(5), summary: d.summary, operands: d.arity.max === Infinity ? `${d.arity.min}+` : d.arity.min === d.arity.max ? String(d.arity.min) : `${d.arity.min}-${d.arity.max}` }));
      // One row per op: the lowest `since` and highest `until` over its entries.
      const merged = new Map<string, { domain: string; type: string; since: number; until: number }>();
      for (const o of supportedOnnxOps()) {
        const k = `${o.domain}::${o.type}`;
        const cur = merged.get(k);
        // An open range ends at the newest opset aic knows for the default domain.
        const until = o.until ?? NEWEST_OPSET[o.domain] ?? o.since;
        merged.set(k, cur ? { ...cur, since: Math.min(cur.since, o.since), until: Math.max(cur.until, until) } : { domain: o.domain, type: o.type, since: o.since, until });
      }
      const onnx = [...merged.values()];
      if (opts.json) {
        ctx.printJson({ prims, onnx: onnx.map((o) => ({ domain: o.domain || 'ai.onnx', op: o.type, since: o.since, until: o.until })) });
        return;
      }
      ctx.print(`prims (${prims.length}):`);
      for (const line of columns(prims.map((p) => [`  ${p.name}`, p.operands, p.summary]))) ctx.print(line);
      ctx.print('');
      ctx.print(`ONNX ops (${onnx.length}):`);
      for (const line of columns(onnx.map((o) => [`  ${o.domain ? `${o.domain}::` : ''}${o.type}`, `opset ${o.since}-${o.until}`]))) ctx.print(line);
    });
}
