// simplify: algebraic identities, one rule each. A rule fires only when the replacement has exactly the
// node's result type (so `x + 0` with a broadcasting 0 stays).
//
//   %z = prim.const() {value=dense<f32[]: [0.0]>} : f32[]
//   %a = prim.add(%x, %z) : f32[4]
//   %b = prim.cast(%a) {to=f32} : f32[4]
//   %y = prim.neg(%b) : f32[4]
//   %w = prim.neg(%y) : f32[4]
// becomes
//   %w = %x   (the uses of %w read %x)
import { constantOf } from '../ir/builder.js';
import { shapeEq } from '../ir/shape.js';
import type { TensorType, Value } from '../ir/graph.js';
import { registerPass } from './pass.js';
import { rewriteGraph, type Candidate, type Rule } from './rewrite.js';

const sameType = (a: TensorType, b: TensorType): boolean => a.dtype === b.dtype && shapeEq(a.shape, b.shape);

/** v is a constant whose every element equals x. */
function isSplat(v: Value | null, x: number): boolean {
  const t = v ? constantOf(v) : undefined;
  if (!t) return false;
  for (let i = 0; i < t.size; i++) if (t.num(i) !== x || Object.is(t.num(i), -0) !== Object.is(x, -0)) return false;
  return true;
}

/** `x` if it can stand for the node's result unchanged. */
const keep = (c: Candidate, x: Value | null): Value | undefined => (x && sameType(x.type, c.type) ? x : undefined);

const producerOf = (v: Value | null, op: string) => (v?.producer?.op === op ? v.producer : undefined);

export const SIMPLIFY_RULES: readonly Rule[] = [
  // x + 0 → x, 0 + x → x, x - 0 → x. (For x = -0, x + 0 is +0: equal as numbers, as every comparison in aic
  // and in ONNX's own test runner treats them.)
  { name: 'add-zero', ops: ['prim.add'], apply: (c) => (isSplat(c.inputs[1]!, 0) ? keep(c, c.inputs[0]!) : isSplat(c.inputs[0]!, 0) ? keep(c, c.inputs[1]!) : undefined) },
  { name: 'sub-zero', ops: ['prim.sub'], apply: (c) => (isSplat(c.inputs[1]!, 0) ? keep(c, c.inputs[0]!) : undefined) },
  { name: 'mul-one', ops: ['prim.mul'], apply: (c) => (isSplat(c.inputs[1]!, 1) ? keep(c, c.inputs[0]!) : isSplat(c.inputs[0]!, 1) ? keep(c, c.inputs[1]!) : undefined) },
  { name: 'div-one', ops: ['prim.div'], apply: (c) => (isSplat(c.inputs[1]!, 1) ? keep(c, c.inputs[0]!) : undefined) },
  { name: 'pow-one', ops: ['prim.pow'], apply: (c) => (isSplat(c.inputs[1]!, 1) ? keep(c, c.inputs[0]!) : undefined) },
  // neg(neg(x)) → x; not(not(x)) → x.
  { name: 'double-neg', ops: ['prim.neg'], apply: (c) => keep(c, producerOf(c.inputs[0]!, 'prim.neg')?.inputs[0] ?? null) },
  { name: 'double-not', ops: ['prim.not'], apply: (c) => keep(c, producerOf(c.inputs[0]!, 'prim.not')?.inputs[0] ?? null) },
  // cast to the operand's own dtype.
  { name: 'cast-same', ops: ['prim.cast'], apply: (c) => keep(c, c.inputs[0]!) },
  // A movement op that does not move anything.
  { name: 'identity-view', ops: ['prim.reshape', 'prim.broadcast', 'prim.permute', 'prim.slice', 'prim.pad'], apply: (c) => keep(c, identityView(c) ? c.inputs[0]! : null) },
  { name: 'concat-one', ops: ['prim.concat'], apply: (c) => (c.inputs.length === 1 ? keep(c, c.inputs[0]!) : undefined) },
  // Reducing over no axes is the identity.
  { name: 'reduce-nothing', ops: ['prim.reduce_sum', 'prim.reduce_max', 'prim.reduce_min', 'prim.reduce_prod'], apply: (c) => (c.attrs['axes']?.kind === 'ints' && c.attrs['axes'].value.length === 0 ? keep(c, c.inputs[0]!) : undefined) },
  // where on a constant condition picks one side (broadcast to the result shape).
  {
    name: 'where-const', ops: ['prim.where'], apply(c, b) {
      const cond = c.inputs[0] ? constantOf(c.inputs[0]) : undefined;
      if (!cond || cond.size === 0) return undefined;
      const first = cond.num(0);
      for (let i = 1; i < cond.size; i++) if (cond.num(i) !== first) return undefined;
      const side = first ? c.inputs[1]! : c.inputs[2]!;
      return side.shape.length <= c.type.shape.length ? b.broadcast(side, c.type.shape) : undefined;
    },
  },
];

function identityView(c: Candidate): boolean {
  const x = c.inputs[0];
  if (!x || !sameType(x.type, c.type)) return false;
  switch (c.op) {
    case 'prim.reshape':
    case 'prim.broadcast':
      return true;
    case 'prim.permute': {
      const perm = c.attrs['perm'];
      return perm?.kind === 'ints' && perm.value.every((p, i) => p === i || x.shape[p] === 1 && x.shape[i] === 1);
    }
    case 'prim.slice': {
      const steps = c.attrs['steps'];
      return steps?.kind === 'ints' && steps.value.every((s) => s === 1);
    }
    case 'prim.pad': {
      const pads = c.attrs['pads'];
      return pads?.kind === 'ints' && pads.value.every((p) => p === 0);
    }
    default:
      return false;
  }
}

export const simplifyPass = registerPass({
  name: 'simplify',
  description: 'algebraic identities (x*1, x+0, double negation, casts and views that change nothing, where on a constant)',
  run: (g) => rewriteGraph(g, SIMPLIFY_RULES).graph,
});
