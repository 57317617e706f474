// ONNX sequences and optionals, resolved while importing. The graph IR has tensor values only, so a
// sequence whose structure (its length) is known when compiling is a list of tensor Values, and an
// optional is its content or `null`; the ops on them (SequenceConstruct/Insert/At/Erase/Length,
// SplitToSequence, ConcatFromSequence, SequenceMap, Optional*) rearrange those lists in the importer and
// leave only tensor ops in the graph. A Loop or an If that carries, yields or reads a sequence is unrolled
// or inlined (its trip count and conditions must fold to constants); anything whose structure depends on
// run-time data is refused with E_UNSUPPORTED.
//
// A resolver returns `undefined` to leave the node to its ordinary rule (an If or a Loop on tensors).
import { fail } from '../../../ir/error.js';
import { Value, type Node } from '../../../ir/graph.js';
import { constantOf, type GraphBuilder } from '../../../ir/builder.js';
import { isStatic } from '../../../ir/shape.js';
import type { Tensor } from '../../../ir/tensor.js';
import { defineOnnxOps } from '../registry.js';

/** A sequence of known length. */
export interface Seq {
  readonly seq: readonly Value[];
}
/** An optional: its content, or null when it holds nothing. */
export interface Opt {
  readonly opt: Value | Seq | null;
}
/** What a name denotes while importing. */
export type Item = Value | Seq | Opt;

export const isSeq = (x: Item | null | undefined): x is Seq => x !== null && x !== undefined && 'seq' in x;
export const isOpt = (x: Item | null | undefined): x is Opt => x !== null && x !== undefined && 'opt' in x;

/** The tensors an item stands for, in order (a graph output that is a sequence becomes these outputs). */
export function flattenItem(x: Item): Value[] {
  if (x instanceof Value) return [x];
  if (isSeq(x)) return [...x.seq];
  return x.opt === null ? [] : flattenItem(x.opt);
}

/** What a resolver sees; the importer implements it. */
export interface ResolveContext {
  /** The ONNX node with its non-graph attributes (node.int('axis', 0)); its operands are not set. */
  readonly node: Node;
  readonly opset: number;
  /** Operands: tensors, sequences, optionals; null where omitted. */
  readonly items: readonly (Item | null)[];
  readonly numOutputs: number;
  /** Builds into the graph being imported, folding constants. */
  readonly b: GraphBuilder;
  /** Operand i (a tensor) as a compile-time constant, specializing a graph input the caller offers;
   * undefined when it is neither. */
  constant(i: number): Tensor | undefined;
  /** Import graph attribute `attr` inline, its inputs bound to `args`; returns its outputs. */
  inline(attr: string, args: readonly (Item | null)[]): Item[];
  /** Whether graph attribute `attr` declares, yields or reads a sequence or an optional. */
  structured(attr: string): boolean;
  /** E_TYPE / E_UNSUPPORTED naming the node. */
  fail(message: string): never;
  unsupported(message: string): never;
}

export type Resolver = (ctx: ResolveContext) => (Item | null)[] | undefined;

const resolvers = new Map<string, Resolver>();

/** The resolver for a default-domain op type (sequence ops, and If/Loop/Identity when they meet sequences). */
export function findResolver(domain: string, type: string): Resolver | undefined {
  return domain === '' ? resolvers.get(type) : undefined;
}

/** Register resolvers; `since` also lists a pure sequence op in the ONNX op table (`aic ops`), where its
 * lower rule is never reached (the importer resolves it first). */
function define(type: string, since: number | undefined, resolve: Resolver): void {
  resolvers.set(type, resolve);
  if (since !== undefined) {
    defineOnnxOps({
      type,
      since,
      lower: (ctx) => ctx.unsupported('sequence and optional ops are resolved while importing a model'),
    });
  }
}

// ---- operand helpers ----

function seqArg(ctx: ResolveContext, i: number): Seq {
  const x = ctx.items[i];
  if (isSeq(x)) return x;
  return ctx.fail(`input ${i} must be a sequence`);
}

function tensorArg(ctx: ResolveContext, i: number): Value {
  const x = ctx.items[i];
  if (x instanceof Value) return x;
  return ctx.fail(`input ${i} must be a tensor`);
}

/** A position operand (SequenceAt/Insert/Erase), which must be known when compiling; `dflt` when omitted. */
function position(ctx: ResolveContext, i: number, dflt: number, lo: number, hi: number): number {
  if (!ctx.items[i]) return dflt;
  const t = ctx.constant(i) ?? ctx.unsupported(`the position (input ${i}) must be known at compile time`);
  const p = t.toNumbers()[0] ?? ctx.fail('the position is empty');
  if (p < lo || p > hi) ctx.fail(`position ${p} is out of range [${lo}, ${hi}]`);
  return p;
}

/** Normalize a position in [-n, n-1] (or [-n, n] with `end`) against length n. */
function at(ctx: ResolveContext, i: number, n: number, dflt: number, end: boolean): number {
  const p = position(ctx, i, dflt, -n, end ? n : n - 1);
  return p < 0 ? p + n : p;
}

const same = (a: Value, b: Value): boolean => a.dtype === b.dtype;

// ---- sequence ops ----

define('SequenceEmpty', 11, () => [{ seq: [] }]);

define('SequenceConstruct', 11, (ctx) => {
  const xs = ctx.items.map((_, i) => tensorArg(ctx, i));
  if (xs.some((x) => !same(x, xs[0]!))) ctx.fail('the tensors of a sequence must have one dtype');
  return [{ seq: xs }];
});

define('SequenceLength', 11, (ctx) => [ctx.b.scalar('i64', BigInt(seqArg(ctx, 0).seq.length))]);

define('SequenceAt', 11, (ctx) => {
  const s = seqArg(ctx, 0);
  if (!ctx.items[1]) ctx.fail('input 1 (position) is required');
  return [s.seq[at(ctx, 1, s.seq.length, 0, false)]!];
});

define('SequenceInsert', 11, (ctx) => {
  const s = seqArg(ctx, 0);
  const x = tensorArg(ctx, 1);
  if (s.seq.length > 0 && !same(x, s.seq[0]!)) ctx.fail(`inserting ${x.dtype} into a sequence of ${s.seq[0]!.dtype}`);
  const p = at(ctx, 2, s.seq.length, s.seq.length, true);
  return [{ seq: [...s.seq.slice(0, p), x, ...s.seq.slice(p)] }];
});

define('SequenceErase', 11, (ctx) => {
  const s = seqArg(ctx, 0);
  if (s.seq.length === 0) ctx.fail('erasing from an empty sequence');
  const p = at(ctx, 1, s.seq.length, s.seq.length - 1, false);
  return [{ seq: s.seq.filter((_, k) => k !== p) }];
});

define('SplitToSequence', 11, (ctx) => {
  const x = tensorArg(ctx, 0);
  const { b } = ctx;
  const rank = x.shape.length;
  const axisAttr = ctx.node.int('axis', 0);
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  if (axis < 0 || axis >= rank) ctx.fail(`axis ${axisAttr} is out of range for rank ${rank}`);
  const dim = x.shape[axis]!;
  if (typeof dim !== 'number') return ctx.unsupported(`the split axis has symbolic size ${dim}; the sequence length must be known at compile time`);
  let sizes: number[];
  let squeeze = false;
  if (!ctx.items[1]) {
    sizes = new Array<number>(dim).fill(1);
    squeeze = ctx.node.int('keepdims', 1) === 0;
  } else {
    const t = ctx.constant(1) ?? ctx.unsupported('the split sizes (input 1) must be known at compile time');
    const v = t.toNumbers();
    if (t.shape.length === 0) {
      const c = v[0]!;
      if (!(c > 0)) ctx.fail(`split size ${c} must be positive`);
      sizes = [];
      for (let s = 0; s < dim; s += c) sizes.push(Math.min(c, dim - s));
    } else {
      sizes = v;
      if (sizes.some((s) => s < 0) || sizes.reduce((a, c) => a + c, 0) !== dim) ctx.fail(`split sizes [${sizes.join(',')}] do not add up to ${dim}`);
    }
  }
  const parts: Value[] = [];
  let start = 0;
  for (const n of sizes) {
    const part = b.slice(x, [axis], [start], [start + n]);
    parts.push(squeeze ? b.reshape(part, part.shape.filter((_, k) => k !== axis)) : part);
    start += n;
  }
  return [{ seq: parts }];
});

define('ConcatFromSequence', 11, (ctx) => {
  const s = seqArg(ctx, 0);
  if (s.seq.length === 0) ctx.unsupported('concatenating an empty sequence (the result type is unknown)');
  const first = s.seq[0]!;
  const newAxis = ctx.node.int('new_axis', 0) === 1;
  const rank = first.shape.length + (newAxis ? 1 : 0);
  const axisAttr = ctx.node.int('axis');
  const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
  if (axis < 0 || axis >= rank) ctx.fail(`axis ${axisAttr} is out of range for rank ${rank}`);
  if (s.seq.some((x) => !same(x, first) || x.shape.length !== first.shape.length)) ctx.fail('the tensors of the sequence differ in dtype or rank');
  const xs = newAxis ? s.seq.map((x) => ctx.b.reshape(x, [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)])) : [...s.seq];
  return [ctx.b.concat(xs, axis)];
});

define('SequenceMap', 17, (ctx) => {
  const n = seqArg(ctx, 0).seq.length;
  const outs: Value[][] = Array.from({ length: ctx.numOutputs }, () => []);
  for (let k = 0; k < n; k++) {
    const args = ctx.items.map((x, i) => {
      if (isSeq(x)) {
        if (x.seq.length !== n) ctx.fail(`input ${i} has ${x.seq.length} elements, input 0 has ${n}`);
        return x.seq[k]!;
      }
      if (x instanceof Value) return x;
      return ctx.fail(`input ${i} must be a sequence or a tensor`);
    });
    ctx.inline('body', args).forEach((y, j) => {
      if (!(y instanceof Value)) return ctx.unsupported(`the body's output ${j} is not a tensor`);
      outs[j]?.push(y);
    });
  }
  return outs.map((seq) => ({ seq }));
});

// ---- optionals ----

define('Optional', 15, (ctx) => [{ opt: ctx.items[0] ?? null } as Opt]);

define('OptionalHasElement', 15, (ctx) => {
  const x = ctx.items[0] ?? null;
  return [ctx.b.scalar('bool', x !== null && !(isOpt(x) && x.opt === null))];
});

define('OptionalGetElement', 15, (ctx) => {
  const x = ctx.items[0] ?? ctx.fail('input 0 is required');
  if (!isOpt(x)) return [x]; // opset 18: a tensor or a sequence is its own element
  return [x.opt ?? ctx.unsupported('the optional holds nothing')];
});

// ---- ops that pass sequences through or run bodies that build them ----

define('Identity', undefined, (ctx) => {
  const x = ctx.items[0];
  return x && !(x instanceof Value) ? [x] : undefined;
});

/** An If whose branches yield or read sequences: inlined when the condition is known at compile time. */
define('If', undefined, (ctx) => {
  if (!ctx.structured('then_branch') && !ctx.structured('else_branch')) return undefined;
  const cond = ctx.constant(0) ?? ctx.unsupported('an If whose branches yield sequences or optionals needs a condition known at compile time');
  return ctx.inline(cond.toNumbers()[0] ? 'then_branch' : 'else_branch', []);
});

/** A Loop that carries, yields or reads sequences: unrolled, so its trip count and its condition after
 * every iteration must be known at compile time. Scan outputs are stacked after the last iteration. */
const MAX_UNROLL = 4096;
define('Loop', undefined, (ctx) => {
  const carried = ctx.items.slice(2);
  if (!ctx.structured('body') && carried.every((x) => x === null || x instanceof Value)) return undefined;
  const need = 'a Loop over sequences or optionals is unrolled at compile time';
  const trips = ctx.items[0] ? (ctx.constant(0) ?? ctx.unsupported(`${need}: its trip count must be known then`)).toNumbers()[0]! : Infinity;
  let cond = ctx.items[1] ? (ctx.constant(1) ?? ctx.unsupported(`${need}: its condition must be known then`)).toNumbers()[0] !== 0 : true;
  if (!Number.isFinite(trips) && !ctx.items[1]) ctx.unsupported(`${need}: it has neither a trip count nor a condition`);
  let state: (Item | null)[] = carried;
  const scans: Value[][] = [];
  let i = 0;
  for (; i < trips && cond; i++) {
    if (i >= MAX_UNROLL) ctx.unsupported(`${need}: it runs more than ${MAX_UNROLL} iterations`);
    const outs = ctx.inline('body', [ctx.b.scalar('i64', BigInt(i)), ctx.b.scalar('bool', true), ...state]);
    const c = outs[0];
    const cv = c instanceof Value ? constantOf(c) : undefined;
    cond = (cv ?? ctx.unsupported(`${need}: its condition after iteration ${i} is not known then`)).toNumbers()[0] !== 0;
    state = outs.slice(1, 1 + carried.length);
    outs.slice(1 + carried.length).forEach((y, k) => {
      if (!(y instanceof Value)) return ctx.unsupported(`scan output ${k} is not a tensor`);
      (scans[k] ??= []).push(y);
    });
  }
  const scanCount = ctx.numOutputs - carried.length;
  const stacked: Value[] = [];
  for (let k = 0; k < scanCount; k++) {
    const ys = scans[k];
    if (!ys || ys.length === 0) return ctx.unsupported(`${need}: it runs no iteration, so scan output ${k} has no known type`);
    if (ys.some((y) => !isStatic(y.shape))) ctx.unsupported(`scan output ${k} has a symbolic shape`);
    stacked.push(ctx.b.concat(ys.map((y) => ctx.b.reshape(y, [1, ...y.shape])), 0));
  }
  return [...state, ...stacked];
});

/** Used by the importer's messages. */
export function describeItem(x: Item): string {
  return x instanceof Value ? 'a tensor' : isSeq(x) ? `a sequence of ${x.seq.length}` : 'an optional';
}

/** Sanity check kept here so the importer stays small: an item bound to a graph output of a body that is
 * imported as a graph (not inlined) must be a tensor. */
export function tensorOnly(x: Item, what: string): Value {
  return x instanceof Value ? x : fail('E_UNSUPPORTED', `${what} is ${describeItem(x)}; only a body that is inlined at import (an If with a known condition, an unrolled Loop) may yield one`);
}
