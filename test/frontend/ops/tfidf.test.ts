// ops/tfidf.ts beyond the conformance cases (which are all TF on int32): IDF and TFIDF with and without
// weights, unigrams with skips, int64 and 1-D inputs, a pool n-gram listed twice, shared output
// coordinates, levels outside [min, max] — against ONNX Runtime — and the string pool refused.
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import type { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode, expectTensor } from '../../support/check.js';
import { input, lowerNode, ortNode, runNode1, type AttrValue } from '../../support/onnx-node.js';

const { onnx } = onnxProto;

async function sameAsOrt(attrs: Record<string, AttrValue>, x: Tensor): Promise<Tensor> {
  const got = runNode1('TfIdfVectorizer', 9, attrs, [input(x)]);
  const [want] = await ortNode('TfIdfVectorizer', 9, attrs, [input(x)]);
  expectTensor(got, 'f32', want!.shape, want!.toNumbers());
  return got;
}

const X = [1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8, 2, 3, 5, 4, 5, 6];
// Unigrams 2 3 5 4, bigrams (5 6) (7 8) (6 7) (3 3), trigrams (3 3 7) (5 6 8).
const base = {
  min_gram_length: 1, max_gram_length: 3, max_skip_count: 2,
  ngram_counts: [0, 4, 12], ngram_indexes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  pool_int64s: [2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 3, 3, 3, 3, 7, 5, 6, 8],
};
const weights = { fs: [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5] };

describe('TfIdfVectorizer', () => {
  it('matches ONNX Runtime across modes, weights, skips and input layouts', async () => {
    for (const mode of ['TF', 'IDF', 'TFIDF']) {
      await sameAsOrt({ ...base, mode }, T('i32', [3, 6], X));
      await sameAsOrt({ ...base, mode, weights }, T('i32', [3, 6], X));
      await sameAsOrt({ ...base, mode, weights, min_gram_length: 2 }, T('i64', [18], X.map(BigInt)));
      await sameAsOrt({ ...base, mode, max_skip_count: 0, min_gram_length: 3 }, T('i64', [2, 9], X.map(BigInt)));
    }
  });

  it('counts unigrams once, n-grams once per skip distance', async () => {
    // Unigram 3: 4 times (not per skip); bigram (5 6): at d=1 twice, d=3 once; (3 3): d=1 twice, d=2 once;
    // (7 8): d=1 and d=3; trigram (3 3 7): d=1 only.
    const y = await sameAsOrt({ ...base, mode: 'TF' }, T('i32', [18], X));
    expect(y.toNumbers()).toEqual([1, 4, 3, 1, 3, 2, 1, 3, 1, 1]);
  });

  it('sums n-grams that share an output coordinate', async () => {
    await sameAsOrt({ ...base, mode: 'TFIDF', ngram_indexes: [0, 1, 1, 2, 0, 3, 3, 4, 4, 4], weights }, T('i32', [2, 9], X));
  });

  it('counts a pool n-gram listed twice at its last coordinate only', () => {
    const y = runNode1('TfIdfVectorizer', 9, {
      mode: 'TF', min_gram_length: 1, max_gram_length: 2, max_skip_count: 0,
      ngram_counts: [0, 2], ngram_indexes: [0, 1, 2, 3], pool_int64s: [3, 3, 3, 7, 3, 7],
    }, [input(T('i32', [4], [3, 7, 3, 7]))]);
    expect(y.toNumbers()).toEqual([0, 2, 0, 2]);
  });

  it('refuses a string pool and non-integer input', () => {
    const { AttributeType } = onnx.AttributeProto;
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 9 }],
      graph: {
        name: 'g',
        node: [{
          opType: 'TfIdfVectorizer', input: ['x'], output: ['y'],
          attribute: [
            { name: 'mode', type: AttributeType.STRING, s: enc('TF') },
            { name: 'min_gram_length', type: AttributeType.INT, i: 1 },
            { name: 'max_gram_length', type: AttributeType.INT, i: 1 },
            { name: 'max_skip_count', type: AttributeType.INT, i: 0 },
            { name: 'ngram_counts', type: AttributeType.INTS, ints: [0] },
            { name: 'ngram_indexes', type: AttributeType.INTS, ints: [0, 1] },
            { name: 'pool_strings', type: AttributeType.STRINGS, strings: [enc('a'), enc('b')] },
          ],
        }],
        input: [{ name: 'x', type: { tensorType: { elemType: onnx.TensorProto.DataType.INT32, shape: { dim: [{ dimValue: 3 }] } } } }],
        output: [{ name: 'y' }],
      },
    })).finish();
    expect(errorCode(() => lowerModel(importModel(decodeModelProto(bytes, 'tfidf.onnx'))))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => lowerNode('TfIdfVectorizer', 9, { ...base, mode: 'TF' }, [input(T('f32', [3], [1, 2, 3]))]))).toBe('E_TYPE');
  });
});
