// Movement prims. The scheduler turns each into an index map (no copy); the interpreter copies.
// reshape and broadcast take their target shape from their declared result type.
import { registerOp } from '../op.js';
import { fail } from '../error.js';
import { formatShape, isStatic, numel, stridesOf, type Dim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { formatType } from '../graph.js';
import { checkAxes, declared, operand, sameDType, stridedCopy } from './common.js';

registerOp({
  name: 'prim.reshape',
  summary: 'same elements in row-major order, shape of the declared result type',
  arity: { min: 1, max: 1 },
  attrs: {},
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const t = declared(node);
    if (t.dtype !== x.dtype) fail('E_TYPE', `${node.describe()}: reshape cannot change dtype (${formatType(x)} to ${formatType(t)})`);
    if (isStatic(x.shape) && isStatic(t.shape) && numel(x.shape) !== numel(t.shape)) {
      fail('E_TYPE', `${node.describe()}: cannot reshape ${formatType(x)} to ${formatType(t)}: element counts differ`);
    }
    return [t];
  },
  eval(node, [x], ctx) {
    const shape = ctx.resolveShape(node.output.type.shape);
    if (numel(shape) !== x!.size) fail('E_RUNTIME', `${node.describe()}: cannot reshape ${formatShape(x!.shape)} to ${formatShape(shape)}`);
    return [x!.reshape(shape)];
  },
});

registerOp({
  name: 'prim.permute',
  summary: 'transpose: result dim i is operand dim perm[i]',
  arity: { min: 1, max: 1 },
  attrs: { perm: { kind: 'ints', required: true } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const perm = node.ints('perm');
    if (perm.length !== x.shape.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
      fail('E_TYPE', `${node.describe()}: perm [${perm.join(',')}] is not a permutation of rank ${x.shape.length}`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  eval(node, [x]) {
    const t = x!;
    const perm = node.ints('perm');
    const outShape = perm.map((p) => t.shape[p]!);
    const inStrides = stridesOf(t.shape);
    const st = perm.map((p) => inStrides[p]!);
    const out = Tensor.zeros(t.dtype, outShape);
    stridedCopy(out.data, 0, stridesOf(outShape), t.data, 0, st, outShape);
    return [out];
  },
});

registerOp({
  name: 'prim.broadcast',
  summary: 'numpy-broadcast the operand to the shape of the declared result type',
  arity: { min: 1, max: 1 },
  attrs: {},
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const t = declared(node);
    const off = t.shape.length - x.shape.length;
    const ok = t.dtype === x.dtype && off >= 0 &&
      x.shape.every((d, i) => d === 1 || d === t.shape[off + i] || typeof d === 'string' || typeof t.shape[off + i] === 'string');
    if (!ok) fail('E_TYPE', `${node.describe()}: cannot broadcast ${formatType(x)} to ${formatType(t)}`);
    return [t];
  },
  eval(node, [x], ctx) {
    const t = x!;
    const shape = ctx.resolveShape(node.output.type.shape);
    const off = shape.length - t.rank;
    if (off < 0 || t.shape.some((d, i) => d !== 1 && d !== shape[off + i])) {
      fail('E_RUNTIME', `${node.describe()}: cannot broadcast ${formatShape(t.shape)} to ${formatShape(shape)}`);
    }
    const inStrides = stridesOf(t.shape);
    // Stride 0 along the axes the operand lacks or has as 1.
    const st = shape.map((_, i) => (i < off || t.shape[i - off] === 1 ? 0 : inStrides[i - off]!));
    const out = Tensor.zeros(t.dtype, shape);
    stridedCopy(out.data, 0, stridesOf(shape), t.data, 0, st, shape);
    return [out];
  },
});

/** Start, step and length of one sliced axis, by the rules of ONNX Slice (negative counts from the end; clamped). */
export function sliceAxis(dim: number, start: number, stop: number, step: number): { start: number; len: number } {
  if (step === 0) fail('E_TYPE', 'slice step must not be 0');
  const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
  let s = start < 0 ? start + dim : start;
  let e = stop < 0 ? stop + dim : stop;
  if (step > 0) {
    s = clamp(s, 0, dim);
    e = clamp(e, 0, dim);
  } else {
    // ONNX clamps a backward start to [0, dim-1] (numpy would give -1, an empty slice).
    if (dim === 0) return { start: 0, len: 0 };
    s = clamp(s, 0, dim - 1);
    e = clamp(e, -1, dim - 1);
  }
  const len = Math.max(0, Math.ceil((e - s) / step));
  return { start: s, len };
}

registerOp({
  name: 'prim.slice',
  summary: 'elements start, start+step, … before stop along each of `axes` (ONNX Slice rules: negative from the end, clamped)',
  arity: { min: 1, max: 1 },
  attrs: {
    axes: { kind: 'ints', required: true },
    starts: { kind: 'ints', required: true },
    stops: { kind: 'ints', required: true },
    steps: { kind: 'ints', required: true },
  },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const axes = node.ints('axes');
    const [starts, stops, steps] = [node.ints('starts'), node.ints('stops'), node.ints('steps')];
    if (starts.length !== axes.length || stops.length !== axes.length || steps.length !== axes.length) {
      fail('E_TYPE', `${node.describe()}: axes, starts, stops and steps must have the same length`);
    }
    checkAxes(node, axes, x.shape.length);
    const shape: Dim[] = [...x.shape];
    axes.forEach((a, i) => {
      const d = x.shape[a]!;
      if (steps[i] === 0) fail('E_TYPE', `${node.describe()}: slice step must not be 0`);
      if (typeof d === 'number') {
        shape[a] = sliceAxis(d, starts[i]!, stops[i]!, steps[i]!).len;
      } else if (!(starts[i] === 0 && steps[i] === 1 && stops[i]! >= 2 ** 31 - 1)) {
        fail('E_UNSUPPORTED', `${node.describe()}: slicing the symbolic dim ${d} other than whole`);
      }
    });
    return [{ dtype: x.dtype, shape }];
  },
  eval(node, [x]) {
    const t = x!;
    const axes = node.ints('axes');
    const [starts, stops, steps] = [node.ints('starts'), node.ints('stops'), node.ints('steps')];
    const begin = t.shape.map(() => 0);
    const step = t.shape.map(() => 1);
    const outShape = [...t.shape];
    axes.forEach((a, i) => {
      const r = sliceAxis(t.shape[a]!, starts[i]!, stops[i]!, steps[i]!);
      begin[a] = r.start;
      step[a] = steps[i]!;
      outShape[a] = r.len;
    });
    const inStrides = stridesOf(t.shape);
    const out = Tensor.zeros(t.dtype, outShape);
    const base = begin.reduce((acc, b, j) => acc + b * inStrides[j]!, 0);
    stridedCopy(out.data, 0, stridesOf(outShape), t.data, base, inStrides.map((st, j) => st * step[j]!), outShape);
    return [out];
  },
});

registerOp({
  name: 'prim.pad',
  summary: 'constant padding: pads = [begin_0…begin_n, end_0…end_n] (negative crops), filled with `value`',
  arity: { min: 1, max: 1 },
  attrs: { pads: { kind: 'ints', required: true }, value: { kind: 'float' } },
  infer(node, inputs) {
    const x = operand(node, inputs, 0);
    const pads = node.ints('pads');
    const r = x.shape.length;
    if (pads.length !== 2 * r) fail('E_TYPE', `${node.describe()}: pads has ${pads.length} entries, expected ${2 * r}`);
    const shape = x.shape.map((d, i) => {
      if (pads[i] === 0 && pads[i + r] === 0) return d;
      if (typeof d === 'string') return fail('E_UNSUPPORTED', `${node.describe()}: padding the symbolic dim ${d}`);
      const n = d + pads[i]! + pads[i + r]!;
      if (n < 0) fail('E_TYPE', `${node.describe()}: pads make dim ${i} negative`);
      return n;
    });
    return [{ dtype: x.dtype, shape }];
  },
  eval(node, [x]) {
    const t = x!;
    const pads = node.ints('pads');
    const r = t.rank;
    const outShape = t.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
    const out = Tensor.zeros(t.dtype, outShape);
    // The fill value converts as a cast would (Tensor.set: truncate and wrap, non-finite to 0 for ints).
    const fill = Tensor.scalar(t.dtype, node.float('value', 0)).data[0]!;
    (out.data as Float64Array).fill(fill as number);
    // Copy the part of the operand that survives cropping: input index p lands at p + pads[j].
    const inStrides = stridesOf(t.shape);
    const outStrides = stridesOf(outShape);
    const lo = t.shape.map((_, j) => Math.max(0, -pads[j]!));
    const region = t.shape.map((d, j) => Math.max(0, Math.min(d, outShape[j]! - pads[j]!) - lo[j]!));
    const srcBase = lo.reduce((acc, l, j) => acc + l * inStrides[j]!, 0);
    const dstBase = lo.reduce((acc, l, j) => acc + (l + pads[j]!) * outStrides[j]!, 0);
    stridedCopy(out.data, dstBase, outStrides, t.data, srcBase, inStrides, region);
    return [out];
  },
});

registerOp({
  name: 'prim.concat',
  summary: 'join operands along `axis`',
  arity: { min: 1, max: Infinity },
  attrs: { axis: { kind: 'int', required: true } },
  infer(node, inputs) {
    const xs = inputs.map((_, i) => operand(node, inputs, i));
    const dtype = sameDType(node, xs);
    const axis = node.int('axis');
    const rank = xs[0]!.shape.length;
    checkAxes(node, [axis], rank, 'axis');
    let total: Dim = 0;
    for (const x of xs) {
      if (x.shape.length !== rank) fail('E_TYPE', `${node.describe()}: operands have different ranks`);
      x.shape.forEach((d, i) => {
        if (i !== axis && d !== xs[0]!.shape[i] && typeof d === 'number' && typeof xs[0]!.shape[i] === 'number') {
          fail('E_TYPE', `${node.describe()}: operand shapes ${xs.map((t) => formatShape(t.shape)).join(', ')} differ off axis ${axis}`);
        }
      });
      const d = x.shape[axis]!;
      if (typeof total === 'number' && typeof d === 'number') total += d;
      else if (d !== 0) total = typeof total === 'number' && total === 0 ? d : fail('E_UNSUPPORTED', `${node.describe()}: concatenating along symbolic dims`);
    }
    const shape = [...xs[0]!.shape];
    shape[axis] = total;
    return [{ dtype, shape }];
  },
  eval(node, xs) {
    const ts = xs.map((x) => x!);
    const axis = node.int('axis');
    const outShape = [...ts[0]!.shape];
    outShape[axis] = ts.reduce((a, t) => a + t.shape[axis]!, 0);
    const out = Tensor.zeros(ts[0]!.dtype, outShape);
    const outer = outShape.slice(0, axis).reduce((a, b) => a * b, 1);
    const innerOut = outShape.slice(axis).reduce((a, b) => a * b, 1);
    const d = out.data as Float64Array;
    let offset = 0;
    for (const t of ts) {
      const inner = t.shape.slice(axis).reduce((a, b) => a * b, 1);
      const s = t.data as Float64Array;
      for (let o = 0; o < outer; o++) d.set(s.subarray(o * inner, (o + 1) * inner), o * innerOut + offset);
      offset += inner;
    }
    return [out];
  },
});
