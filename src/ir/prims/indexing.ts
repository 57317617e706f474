// Data-dependent indexing: gather (ONNX Gather) and scatter (ONNX ScatterElements). Negative indices
// count from the end; an index out of range is a run-time error, never a silent read.
import { registerOp } from '../op.js';
import { fail } from '../error.js';
import { formatShape, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { narrowing } from '../numeric.js';
import { checkAxes, expectDType, operand } from './common.js';

function normIndex(i: number, dim: number, where: string): number {
  const j = i < 0 ? i + dim : i;
  if (j < 0 || j >= dim) fail('E_RUNTIME', `${where}: index ${i} is out of range for a dim of ${dim}`);
  return j;
}

registerOp({
  name: 'prim.gather',
  summary: 'take slices of data along `axis` at indices: shape data[:axis] + indices + data[axis+1:]',
  arity: { min: 2, max: 2 },
  attrs: { axis: { kind: 'int', required: true } },
  infer(node, inputs) {
    const data = operand(node, inputs, 0);
    const idx = operand(node, inputs, 1);
    expectDType(node, idx, 'index', 'indices');
    const axis = node.int('axis');
    checkAxes(node, [axis], data.shape.length, 'axis');
    return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)] }];
  },
  eval(node, [data, indices]) {
    const t = data!;
    const ix = indices!;
    const axis = node.int('axis');
    const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const dim = t.shape[axis]!;
    const out = Tensor.zeros(t.dtype, [...t.shape.slice(0, axis), ...ix.shape, ...t.shape.slice(axis + 1)]);
    const s = t.data as Float64Array;
    const d = out.data as Float64Array;
    const n = ix.size;
    const where = node.describe();
    // Check every index once, even when the result is empty (a bad index is an error, not a no-op).
    const js = new Int32Array(n);
    for (let k = 0; k < n; k++) js[k] = normIndex(ix.num(k), dim, where);
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < n; k++) {
        const j = js[k]!;
        const src = (o * dim + j) * inner;
        const dst = (o * n + k) * inner;
        for (let i = 0; i < inner; i++) d[dst + i] = s[src + i]!;
      }
    }
    return [out];
  },
});

const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'];

registerOp({
  name: 'prim.scatter',
  summary: 'copy of data with updates written at indices along `axis` (ONNX ScatterElements; reduction none/add/mul/max/min, applied in order)',
  arity: { min: 3, max: 3 },
  attrs: { axis: { kind: 'int', required: true }, reduction: { kind: 'string' } },
  infer(node, inputs) {
    const data = operand(node, inputs, 0);
    const idx = operand(node, inputs, 1);
    const upd = operand(node, inputs, 2);
    expectDType(node, idx, 'index', 'indices');
    if (upd.dtype !== data.dtype) fail('E_TYPE', `${node.describe()}: updates must have the dtype of data`);
    if (idx.shape.length !== data.shape.length || upd.shape.length !== idx.shape.length || idx.shape.some((d, i) => d !== upd.shape[i])) {
      fail('E_TYPE', `${node.describe()}: indices ${formatShape(idx.shape)} and updates ${formatShape(upd.shape)} must have one shape, of the rank of data`);
    }
    const axis = node.int('axis');
    checkAxes(node, [axis], data.shape.length, 'axis');
    idx.shape.forEach((d, i) => {
      const dd = data.shape[i]!;
      if (i !== axis && typeof d === 'number' && typeof dd === 'number' && d > dd) {
        fail('E_TYPE', `${node.describe()}: indices ${formatShape(idx.shape)} reach outside data ${formatShape(data.shape)} on axis ${i}`);
      }
    });
    const red = node.str('reduction', 'none');
    if (!REDUCTIONS.includes(red)) fail('E_TYPE', `${node.describe()}: unknown reduction "${red}"`);
    if (data.dtype === 'bool' && (red === 'add' || red === 'mul')) {
      fail('E_TYPE', `${node.describe()}: reduction ${red} needs a numeric dtype, data is bool (use max/min for or/and)`);
    }
    return [data];
  },
  eval(node, [data, indices, updates]) {
    const t = data!;
    const ix = indices!;
    const up = updates!;
    const axis = node.int('axis');
    const red = node.str('reduction', 'none');
    const out = new Tensor(t.dtype, t.shape, t.data.slice());
    const st = stridesOf(t.shape);
    const d = out.data as Float64Array;
    const u = up.data as Float64Array;
    const idx = new Array<number>(ix.rank).fill(0);
    const where = node.describe();
    const big = typeof d[0] === 'bigint' || t.dtype === 'i64' || t.dtype === 'u64';
    const narrow = narrowing(t.dtype);
    for (let k = 0; k < ix.size; k++) {
      if (k > 0) {
        // Step the multi-index of element k of indices (row-major).
        for (let ax = idx.length - 1; ax >= 0; ax--) {
          if (++idx[ax]! < ix.shape[ax]!) break;
          idx[ax] = 0;
        }
      }
      let dst = 0;
      for (let j = 0; j < idx.length; j++) {
        const p = j === axis ? normIndex(ix.num(k), t.shape[j]!, where) : idx[j]!;
        if (p >= t.shape[j]!) fail('E_RUNTIME', `${where}: updates reach outside data`);
        dst += p * st[j]!;
      }
      const a = d[dst]!;
      const b = u[k]!;
      let v: number;
      switch (red) {
        case 'add': v = (a + b) as number; break;
        case 'mul': v = big ? ((a as unknown as bigint) * (b as unknown as bigint)) as unknown as number : t.dtype === 'i32' || t.dtype === 'u32' ? Math.imul(a, b) : a * b; break;
        case 'max': v = big ? (a > b ? a : b) : Math.max(a, b); break;
        case 'min': v = big ? (a < b ? a : b) : Math.min(a, b); break;
        default: v = b;
      }
      d[dst] = narrow ? narrow(v) : v;
    }
    return [out];
  },
});
