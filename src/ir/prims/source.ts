// Sources: constants, iota (an index ramp along one axis), and the run-time shape of a tensor.
import { registerOp } from '../op.js';
import { fail } from '../error.js';
import { Tensor } from '../tensor.js';
import { checkAxes, declared, operand } from './common.js';
import { stridesOf } from '../shape.js';

registerOp({
  name: 'prim.const',
  summary: 'the tensor in attribute `value`',
  arity: { min: 0, max: 0 },
  attrs: { value: { kind: 'tensor', required: true } },
  infer(node) {
    const t = node.tensor('value');
    return [{ dtype: t.dtype, shape: t.shape }];
  },
  eval(node) {
    return [node.tensor('value')];
  },
});

registerOp({
  name: 'prim.iota',
  summary: 'element value = its index along `axis`, in the declared result type',
  arity: { min: 0, max: 0 },
  attrs: { axis: { kind: 'int', required: true } },
  infer(node) {
    const t = declared(node);
    if (t.dtype === 'bool') fail('E_TYPE', `${node.describe()}: iota of bool`);
    checkAxes(node, [node.int('axis')], t.shape.length, 'axis');
    return [t];
  },
  eval(node, _inputs, ctx) {
    const shape = ctx.resolveShape(node.output.type.shape);
    const axis = node.int('axis');
    const out = Tensor.zeros(node.output.type.dtype, shape);
    const stride = stridesOf(shape)[axis]!;
    const dim = shape[axis]!;
    if (out.size === 0) return [out];
    // Each index converts to the dtype once (wrapping for small ints, rounding for f16), then fills a run.
    const ramp = Tensor.zeros(out.dtype, [dim]);
    for (let v = 0; v < dim; v++) ramp.set(v, v);
    const r = ramp.data as Float64Array;
    const d = out.data as Float64Array;
    for (let i = 0, v = 0; i < out.size; i += stride, v = v + 1 === dim ? 0 : v + 1) d.fill(r[v]!, i, i + stride);
    return [out];
  },
});

registerOp({
  name: 'prim.shape',
  summary: 'the run-time shape of the operand as i64[rank]',
  arity: { min: 1, max: 1 },
  attrs: {},
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    return [{ dtype: 'i64', shape: [x.shape.length] }];
  },
  eval(_node, [x]) {
    return [Tensor.from('i64', [x!.rank], x!.shape.map((d) => BigInt(d)))];
  },
});
