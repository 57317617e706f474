// TfIdfVectorizer on integer tokens, lowered to prims. The pool, the n-gram lengths and the skip counts
// are attributes, so the rule enumerates every (length n, skip distance d) window of the input with
// slices, compares the windows with the pool's n-grams of length n by broadcasting `eq` and `and`, counts
// the matches with a reduce_sum over positions, and scatter-adds the counts into the output coordinates
// that ngram_indexes gives. It follows the ONNX reference (onnx/reference/ops/op_tfidf_vectorizer.py):
// - skip distance d runs over 1..max_skip_count+1, the elements of an n-gram are d apart; unigrams are
//   counted at d = 1 only;
// - the i-th n-gram of the pool (over all lengths, in order) counts into ngram_indexes[i]; levels outside
//   [min_gram_length, max_gram_length] still take their place in that numbering; a pool n-gram listed
//   twice counts into the coordinate of its last occurrence only;
// - IDF/TFIDF weights are indexed by output coordinate.
import type { Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import type { LowerContext } from '../context.js';
import { defineOnnxOps } from '../registry.js';

/** One pool n-gram that can match: its tokens and the output coordinate its count goes to. */
interface PoolGram { tokens: number[]; index: number }

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

/** The pool's n-grams of lengths min..max, grouped by length, last occurrence winning. */
function poolGrams(ctx: LowerContext, pool: readonly number[], minN: number, maxN: number, outSize: number): Map<number, PoolGram[]> {
  const { node } = ctx;
  const counts = node.ints('ngram_counts');
  const indexes = node.ints('ngram_indexes');
  const byLength = new Map<number, Map<string, PoolGram>>();
  let id = 0;
  counts.forEach((start, level) => {
    const n = level + 1;
    const end = level + 1 < counts.length ? counts[level + 1]! : pool.length;
    if (start < 0 || end > pool.length || end < start) ctx.fail(`ngram_counts [${counts.join(',')}] do not delimit a pool of ${pool.length}`);
    const grams = Math.floor((end - start) / n);
    if (n < minN || n > maxN) {
      id += grams;
      return;
    }
    const table = byLength.get(n) ?? new Map<string, PoolGram>();
    byLength.set(n, table);
    for (let g = 0; g < grams; g++, id++) {
      const tokens = pool.slice(start + g * n, start + (g + 1) * n);
      const index = indexes[id] ?? ctx.fail(`ngram_indexes has ${indexes.length} entries, the pool has more n-grams`);
      if (!Number.isInteger(index) || index < 0 || index >= outSize) ctx.fail(`ngram_indexes entry ${index} is out of range`);
      const key = tokens.join(',');
      table.delete(key); // re-inserted: the last occurrence wins, as in the reference's trie
      table.set(key, { tokens, index });
    }
  });
  return new Map([...byLength].map(([n, m]) => [n, [...m.values()]]));
}

/** Counts [N, K] (i64) of each n-gram of `grams` (all of length n) in the rows of x [N, C], skip distance d. */
function countWindows(ctx: LowerContext, x: Value, c: number, n: number, d: number, grams: PoolGram[]): Value | null {
  const { b } = ctx;
  const positions = c - (n - 1) * d;
  if (positions <= 0) return null;
  const k = grams.length;
  let match: Value | null = null;
  for (let j = 0; j < n; j++) {
    const column = x.dtype === 'i64'
      ? Tensor.from('i64', [1, 1, k], grams.map((g) => BigInt(g.tokens[j]!)))
      : Tensor.from('i32', [1, 1, k], grams.map((g) => g.tokens[j]!));
    const window = b.slice(x, [1], [j * d], [j * d + positions]);
    const [rows] = x.shape;
    const hit = b.eq(b.reshape(window, [rows!, positions, 1]), b.const(column));
    match = match ? b.and(match, hit) : hit;
  }
  return b.reduce('sum', b.cast(match!, 'i64'), [1], false);
}

function tfIdfVectorizer(ctx: LowerContext): Value {
  const { b, node } = ctx;
  if (node.has('pool_strings')) ctx.unsupported('pool_strings: aic has no string dtype (only pool_int64s with int32/int64 input)');
  if (!node.has('pool_int64s')) ctx.fail('pool_int64s is required');
  const x0 = ctx.arg(0);
  if (x0.dtype !== 'i32' && x0.dtype !== 'i64') ctx.fail(`X must be int32 or int64, got ${x0.dtype}`);
  const shape = ctx.staticShape(x0, 'X');
  if (shape.length > 2) ctx.fail(`X must be [C] or [N, C], got [${shape.join(',')}]`);
  const rows = shape.length === 2 ? shape[0]! : 1;
  const c = shape.length === 0 ? 1 : shape[shape.length - 1]!;
  const x = b.reshape(x0, [rows, c]);

  const minN = node.int('min_gram_length');
  const maxN = node.int('max_gram_length');
  const maxSkip = node.int('max_skip_count');
  if (minN < 1 || maxN < minN) ctx.fail(`gram lengths must satisfy 1 <= min_gram_length (${minN}) <= max_gram_length (${maxN})`);
  if (maxSkip < 0) ctx.fail(`max_skip_count ${maxSkip} is negative`);
  const mode = node.str('mode');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') ctx.fail(`unknown mode "${mode}"`);
  const indexes = node.ints('ngram_indexes');
  if (indexes.length === 0) ctx.fail('ngram_indexes is empty');
  if (indexes.some((i) => !Number.isInteger(i) || i < 0)) ctx.fail(`ngram_indexes [${indexes.join(',')}] must be non-negative`);
  const outSize = Math.max(...indexes) + 1;
  const weights = node.floats('weights', []);
  if (mode !== 'TF' && weights.length > 0 && weights.length < outSize) ctx.fail(`${weights.length} weights for an output of ${outSize}`);

  const pool = node.ints('pool_int64s');
  const groups = poolGrams(ctx, pool, minN, maxN, outSize);
  // Counts of every n-gram that can match, with their output coordinates.
  const counts: Value[] = [];
  const targets: number[] = [];
  for (const [n, all] of groups) {
    // A pool value outside int32 never matches an int32 input: its count stays 0.
    const grams = x.dtype === 'i32' ? all.filter((g) => g.tokens.every((t) => t >= I32_MIN && t <= I32_MAX)) : all;
    if (grams.length === 0) continue;
    let total: Value | null = null;
    for (let d = 1; d <= (n === 1 ? 1 : maxSkip + 1); d++) {
      const cnt = countWindows(ctx, x, c, n, d, grams);
      if (cnt) total = total ? b.add(total, cnt) : cnt;
    }
    if (!total) continue;
    counts.push(total);
    targets.push(...grams.map((g) => g.index));
  }
  let freq: Value = b.broadcast(b.scalar('i64', 0n), [rows, outSize]);
  if (counts.length > 0) {
    const idx = b.broadcast(b.const(Tensor.from('i64', [1, targets.length], targets.map((t) => BigInt(t)))), [rows, targets.length]);
    freq = b.scatter(freq, idx, b.concat(counts, 1), 1, 'add');
  }

  let y: Value;
  const w = weights.length > 0 ? b.const(Tensor.from('f32', [1, outSize], weights.slice(0, outSize))) : null;
  if (mode === 'TF') y = b.cast(freq, 'f32');
  else if (mode === 'IDF') {
    const present = b.lt(b.scalar('i64', 0n), freq);
    y = w ? b.where(present, w, b.scalar('f32', 0)) : b.cast(present, 'f32');
  } else y = w ? b.mul(b.cast(freq, 'f32'), w) : b.cast(freq, 'f32');
  return shape.length === 2 ? y : b.reshape(y, [outSize]);
}

defineOnnxOps({ type: 'TfIdfVectorizer', since: 9, lower: (ctx) => [tfIdfVectorizer(ctx)] });
