// Loss ops (ops/loss.ts) where the conformance cases do not reach: random shapes, weights, reductions
// and ignore_index against ONNX Runtime, ignored labels far outside [0, C), NaN and inf in classes no
// sample picks, and SoftmaxCrossEntropyLoss's log_prob output.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode } from '../../support/check.js';
import { input, ortNode, runNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

function random(n: number, seed: number, lo: number, hi: number, whole = false): number[] {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => (whole ? Math.floor(lo + next() * (hi - lo)) : lo + next() * (hi - lo)));
}

const close = (got: Tensor, want: ArrayLike<number>, tol = 1e-5): void => {
  expect(got.size).toBe(want.length);
  got.toNumbers().forEach((v, i) => {
    if (Number.isNaN(want[i]!)) expect(v).toBeNaN();
    else expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!)));
  });
};

async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: Operand[], outputs: number): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands, outputs);
  const got = runNode(op, opset, attrs, operands, outputs);
  got.forEach((g, i) => {
    expect(`${g.dtype}[${g.shape.join(',')}]`).toBe(`${want[i]!.dtype}[${want[i]!.shape.join(',')}]`);
    close(g, want[i]!.toNumbers(), 1e-5);
  });
}

describe('NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss', () => {
  const config = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 2, max: 5 }),
    d: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    reduction: fc.constantFrom('none', 'sum', 'mean'),
    weighted: fc.boolean(),
    ignore: fc.constantFrom<number | undefined>(undefined, 0, 1, -1),
    seed: fc.integer(),
  });

  test.prop([config, fc.constantFrom('NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss')], { numRuns: 30 })(
    'agree with ONNX Runtime', async (c, op) => {
      const shape = [c.n, c.c, ...c.d];
      const x = T('f32', shape, random(shape.reduce((a, b) => a * b, 1), c.seed, -3, 0));
      const tshape = [c.n, ...c.d];
      const labels = random(tshape.reduce((a, b) => a * b, 1), c.seed + 1, c.ignore === -1 ? -1 : 0, c.c, true);
      // Keep one sample not ignored, so a mean is never 0/0.
      if (c.ignore !== undefined) labels[0] = c.ignore === 0 ? 1 : 0;
      const target = T('i64', tshape, labels.map(BigInt));
      const attrs: Record<string, AttrValue> = { reduction: c.reduction };
      if (c.ignore !== undefined) attrs['ignore_index'] = c.ignore;
      const operands = [input(x), input(target), ...(c.weighted ? [input(T('f32', [c.c], random(c.c, c.seed + 2, 0.1, 2)))] : [])];
      await agreesWithOrt(op, op === 'NegativeLogLikelihoodLoss' ? 22 : 13, attrs, operands, op === 'NegativeLogLikelihoodLoss' ? 1 : 2);
    });

  it('ignores labels far outside [0, C) and classes holding NaN or inf that no sample picks', () => {
    const x = T('f32', [2, 3], [-1, NaN, Infinity, -2, -3, -Infinity]);
    const target = T('i64', [2], [0n, 1000n]);
    close(runNode1('NegativeLogLikelihoodLoss', 22, { reduction: 'none', ignore_index: 1000 }, [input(x), input(target)]), [1, 0]);
    close(runNode1('NegativeLogLikelihoodLoss', 22, { reduction: 'mean', ignore_index: 1000 }, [input(x), input(target)]), [1]);
  });

  it('give the log-probabilities as SoftmaxCrossEntropyLoss\'s second output', () => {
    const x = T('f32', [1, 2], [0, Math.log(3)]);
    const [loss, logp] = runNode('SoftmaxCrossEntropyLoss', 13, { reduction: 'sum' }, [input(x), input(T('i64', [1], [1n]))], 2);
    close(logp!, [Math.log(0.25), Math.log(0.75)]);
    close(loss!, [-Math.log(0.75)]);
  });

  it('reject an unknown reduction and a target of the wrong rank', () => {
    const x = input(T('f32', [2, 3], random(6, 1, -1, 0)));
    expect(errorCode(() => runNode1('NegativeLogLikelihoodLoss', 22, { reduction: 'max' }, [x, input(T('i64', [2], [0n, 1n]))]))).toBe('E_TYPE');
    expect(errorCode(() => runNode1('NegativeLogLikelihoodLoss', 22, {}, [x, input(T('i64', [2, 1], [0n, 1n]))]))).toBe('E_TYPE');
  });
});
