// prim.scatter (ONNX ScatterElements, and what ScatterND, Col2Im and MaxUnpool lower to) as two loop
// kernels of the kernel IR, rendered like any other: a parallel copy of data into the result, then the
// updates applied in order by one thread, so that duplicate indices combine exactly as the reference does
// (last write wins for reduction none; add/mul/max/min accumulate in order). An index out of range fails
// the program's check, as the reference fails.
//
//   extern k2 "prim.scatter" (@in0, @w1, @in2) -> (@out0)        data f32[3,3], indices i64[2,3], axis 0
// becomes
//   kernel k2_copy (i0 < 9) { %0 = load f32 @in0[i0]; store @out0[i0] = %0 }
//   kernel k2 () { loop (i0 < 6) { %0 = load i64 @w1[i0]; … p = j < 0 ? j + 3 : j; check 0 <= p < 3;
//                                   %6 = load f32 @in2[i0]; store @out0[3*%p + i0 % 3] = %6 } }
import { fail } from '../../ir/error.js';
import { stridesOf } from '../../ir/shape.js';
import { ix, unflatten, type IndexExpr } from '../../kernel/index-expr.js';
import type { ExternKernel, LoopKernel, Stmt } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';

const COMBINE: Record<string, string> = { add: 'add', mul: 'mul', max: 'max', min: 'min' };

/** The loop kernels of a scatter extern, or undefined when the kernel is another extern. */
export function scatterKernels(k: ExternKernel, buffers: ReadonlyMap<string, Buffer>): LoopKernel[] | undefined {
  const node = k.graph.nodes.find((n) => n.op !== 'prim.const');
  if (!node || node.op !== 'prim.scatter' || k.graph.nodes.length !== 1) return undefined;
  const buf = (name: string): Buffer => buffers.get(name) ?? fail('E_VERIFY', `ptx: kernel ${k.name}: no buffer @${name}`);
  const [dataName, idxName, updName] = k.inputs as [string, string, string];
  const outName = k.outputs[0]!;
  const [data, indices] = [buf(dataName), buf(idxName)];
  const staticShape = (b: Buffer): number[] => b.shape.map((d) => (typeof d === 'number' ? d : fail('E_UNSUPPORTED', `ptx: kernel ${k.name}: @${b.name} has a symbolic shape`)));
  const shape = staticShape(data);
  const ishape = staticShape(indices);
  const axis = node.int('axis');
  const reduction = node.str('reduction', 'none');
  const t = data.dtype;
  const n = shape.reduce((a, b) => a * b, 1);
  const total = ishape.reduce((a, b) => a * b, 1);
  const copy: LoopKernel = {
    kind: 'loop', name: `${k.name}_copy`, note: `${k.note ?? 'prim.scatter'} (copy)`,
    domain: [{ name: 'i0', extent: ix.c(n) }],
    body: [
      { kind: 'let', id: 0, dtype: t, expr: { op: 'load', buffer: dataName, index: ix.v('i0') } },
      { kind: 'store', buffer: outName, index: ix.v('i0'), value: 0 },
    ],
  };
  const it = indices.dtype;
  const pos = unflatten(ix.v('i0'), ishape);
  const strides = stridesOf(shape);
  const dst: IndexExpr = ix.add(...shape.map((_, d) => ix.mul(ix.c(strides[d]!), d === axis ? ix.ref(6) : pos[d]!)));
  const combine = reduction === 'none' ? undefined : COMBINE[reduction] ?? fail('E_UNSUPPORTED', `ptx: kernel ${k.name}: scatter reduction ${reduction}`);
  const body: Stmt[] = [
    { kind: 'let', id: 0, dtype: it, expr: { op: 'load', buffer: idxName, index: ix.v('i0') } },
    { kind: 'let', id: 1, dtype: it, expr: { op: 'const', value: it === 'i64' || it === 'u64' ? 0n : 0 } },
    { kind: 'let', id: 2, dtype: it, expr: { op: 'const', value: it === 'i64' || it === 'u64' ? BigInt(shape[axis]!) : shape[axis]! } },
    { kind: 'let', id: 3, dtype: 'bool', expr: { op: 'prim', prim: 'lt', args: [0, 1] } },
    { kind: 'let', id: 4, dtype: it, expr: { op: 'prim', prim: 'add', args: [0, 2] } },
    // A negative index counts from the end, as ONNX says.
    { kind: 'let', id: 6, dtype: it, expr: { op: 'prim', prim: 'where', args: [3, 4, 0] } },
    { kind: 'let', id: 7, dtype: 'bool', expr: { op: 'inbounds', index: ix.ref(6), extent: ix.c(shape[axis]!) } },
    { kind: 'check', cond: 7, message: `${node.describe()}: an index is out of range for a dim of ${shape[axis]}` },
    { kind: 'let', id: 8, dtype: t, expr: { op: 'load', buffer: updName, index: ix.v('i0') } },
  ];
  if (combine) {
    body.push({ kind: 'let', id: 9, dtype: t, expr: { op: 'load', buffer: outName, index: dst } });
    body.push({ kind: 'let', id: 10, dtype: t, expr: { op: 'prim', prim: combine, args: [9, 8] } });
  }
  body.push({ kind: 'store', buffer: outName, index: dst, value: combine ? 10 : 8 });
  const apply: LoopKernel = {
    kind: 'loop', name: k.name, note: `${k.note ?? 'prim.scatter'}: ${total} updates along axis ${axis} in order (reduction ${reduction})`,
    domain: [],
    body: [{ kind: 'loop', axes: [{ name: 'i0', extent: ix.c(total) }], body }],
  };
  return [copy, apply];
}
