// Signal ops (ops/signal.ts) where the conformance cases do not reach: DFT against a direct complex sum
// for random lengths, axes, padding or truncating dft_length, one-sided and inverse transforms, the
// RFFT → IRFFT round trip, and the windows, STFT and MelWeightMatrix against ONNX Runtime.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode } from '../../support/check.js';
import { init, input, ortNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

function random(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => lo + next() * (hi - lo));
}

const close = (got: Tensor, want: ArrayLike<number>, tol = 1e-5): void => {
  expect(got.size).toBe(want.length);
  got.toNumbers().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!))));
};

async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: Operand[], tol = 1e-5): Promise<void> {
  const [want] = await ortNode(op, opset, attrs, operands);
  const got = runNode1(op, opset, attrs, operands);
  expect(`${got.dtype}[${got.shape.join(',')}]`).toBe(`${want!.dtype}[${want!.shape.join(',')}]`);
  close(got, want!.toNumbers(), tol);
}

/** Direct DFT of x [rows, len, c] along axis 1 (c = 1 real, 2 complex) with length n, as [rows, K, 2]. */
function direct(x: number[], rows: number, len: number, c: number, n: number, inverse: boolean, onesided: boolean): number[] {
  const K = onesided ? Math.floor(n / 2) + 1 : n;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < Math.min(n, len); t++) {
        const a = ((inverse ? 2 : -2) * Math.PI * k * t) / n;
        const xr = x[(r * len + t) * c]!;
        const xi = c === 2 ? x[(r * len + t) * c + 1]! : 0;
        re += xr * Math.cos(a) - xi * Math.sin(a);
        im += xr * Math.sin(a) + xi * Math.cos(a);
      }
      out.push(inverse ? re / n : re, inverse ? im / n : im);
    }
  }
  return out;
}

describe('DFT', () => {
  test.prop([fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 2), fc.boolean(), fc.boolean(), fc.integer()], { numRuns: 30 })(
    'matches the direct sum for any length, dft_length, real or complex input, inverse or one-sided', (len, n, c, inverse, onesided, seed) => {
      if (inverse && onesided) return; // IRFFT: its own test
      const x = T('f32', [2, len, c], random(2 * len * c, seed));
      const y = runNode1('DFT', 20, { inverse: inverse ? 1 : 0, onesided: onesided ? 1 : 0 }, [input(x), init(T('i64', [], [BigInt(n)])), init(T('i64', [], [1n]))]);
      close(y, direct(x.toNumbers(), 2, len, c, n, inverse, onesided), 1e-5);
    });

  it('transforms along any signal axis, from the attribute before opset 20', () => {
    const x = T('f32', [3, 4, 1], random(12, 7));
    const viaAxis0 = runNode1('DFT', 17, { axis: 0 }, [input(x)]);
    // Axis 0 of [3, 4, 1] is axis 1 of its transpose [4, 3, 1].
    const xt = T('f32', [4, 3, 1], [0, 1, 2, 3].flatMap((j) => [0, 1, 2].map((i) => x.toNumbers()[i * 4 + j]!)));
    const want = direct(xt.toNumbers(), 4, 3, 1, 3, false, false);
    const back = [0, 1, 2].flatMap((i) => [0, 1, 2, 3].flatMap((j) => [want[(j * 3 + i) * 2]!, want[(j * 3 + i) * 2 + 1]!]));
    close(viaAxis0, back);
    expect(errorCode(() => runNode1('DFT', 20, {}, [input(x), null, init(T('i64', [], [2n]))]))).toBe('E_TYPE');
  });

  test.prop([fc.integer({ min: 2, max: 12 }), fc.integer()], { numRuns: 15 })('IRFFT undoes RFFT', (n, seed) => {
    const x = T('f32', [1, n, 1], random(n, seed));
    const spectrum = runNode1('DFT', 20, { onesided: 1 }, [input(x)]);
    const back = runNode1('DFT', 20, { onesided: 1, inverse: 1 }, [input(spectrum), init(T('i64', [], [BigInt(n)]))]);
    expect(back.shape).toEqual([1, n, 1]);
    close(back, x.toNumbers(), 1e-5);
  });
});

describe('windows, STFT, MelWeightMatrix', () => {
  test.prop([fc.constantFrom('HannWindow', 'HammingWindow', 'BlackmanWindow'), fc.integer({ min: 1, max: 20 }), fc.boolean()], { numRuns: 15 })(
    'windows agree with ONNX Runtime', async (op, size, periodic) => {
      if (size === 1 && !periodic) return; // 0/0 in the symmetric formula
      await agreesWithOrt(op, 17, { periodic: periodic ? 1 : 0 }, [init(T('i32', [], [size]))], 1e-6);
    });

  test.prop([fc.integer({ min: 1, max: 6 }), fc.integer({ min: 4, max: 10 }), fc.boolean(), fc.integer()], { numRuns: 10 })(
    'STFT agrees with ONNX Runtime', async (step, frame, windowed, seed) => {
      const x = T('f32', [2, 24, 1], random(48, seed));
      const operands = [input(x), init(T('i64', [], [BigInt(step)])), ...(windowed ? [input(T('f32', [frame], random(frame, seed + 1, 0, 1)))] : [input(T('f32', [frame], new Array<number>(frame).fill(1)))])];
      await agreesWithOrt('STFT', 17, { onesided: 1 }, operands, 1e-4);
    });

  it('MelWeightMatrix agrees with ONNX Runtime', async () => {
    const i32 = (v: number): Operand => init(T('i32', [], [v]));
    const f32 = (v: number): Operand => init(T('f32', [], [v]));
    await agreesWithOrt('MelWeightMatrix', 17, {}, [i32(10), i32(64), i32(16000), f32(100), f32(7000)], 1e-6);
  });
});
