// Attention-family ops (ops/attention.ts) where the conformance cases do not reach: random shapes and
// option mixes of Attention against ONNX Runtime, rows the mask hides entirely, RotaryEmbedding's layouts
// against a direct formula, LinearAttention's four update rules and CausalConvWithState against plain
// loops, TensorScatter wrapping around, and the errors for inputs the rules do not take.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../src/ir/tensor.js';
import { T, errorCode } from '../../support/check.js';
import { input, ortNode, runNode, runNode1, type AttrValue, type Operand } from '../../support/onnx-node.js';

function random(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed | 0;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) | 0) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => lo + next() * (hi - lo));
}
const rand = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => T('f32', shape, random(shape.reduce((a, b) => a * b, 1), seed, lo, hi));

const close = (got: Tensor, want: ArrayLike<number>, tol = 1e-5): void => {
  expect(got.size).toBe(want.length);
  got.toNumbers().forEach((v, i) => {
    const w = want[i]!;
    if (Number.isNaN(w)) expect(v).toBeNaN();
    else expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
};

async function agreesWithOrt(op: string, opset: number, attrs: Record<string, AttrValue>, operands: (Operand | null)[], outputs = 1, tol = 1e-5): Promise<void> {
  const want = await ortNode(op, opset, attrs, operands, outputs);
  const got = runNode(op, opset, attrs, operands, outputs);
  got.forEach((g, i) => {
    expect(`${g.dtype}[${g.shape.join(',')}]`).toBe(`${want[i]!.dtype}[${want[i]!.shape.join(',')}]`);
    close(g, want[i]!.toNumbers(), tol);
  });
}

describe('Attention', () => {
  const config = fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    kvHeads: fc.integer({ min: 1, max: 2 }),
    group: fc.integer({ min: 1, max: 3 }),
    q: fc.integer({ min: 1, max: 4 }),
    kv: fc.integer({ min: 1, max: 5 }),
    head: fc.constantFrom(2, 4),
    causal: fc.boolean(),
    mask: fc.constantFrom('none', 'float', 'bool'),
    softcap: fc.constantFrom(0, 2),
    scale: fc.constantFrom(undefined, 0.3),
    packed: fc.boolean(),
    seed: fc.integer(),
  });

  test.prop([config], { numRuns: 25 })('agrees with ONNX Runtime on random shapes and options', async (c) => {
    const Hq = c.kvHeads * c.group;
    const q = rand(c.packed ? [c.batch, c.q, Hq * c.head] : [c.batch, Hq, c.q, c.head], c.seed);
    const k = rand(c.packed ? [c.batch, c.kv, c.kvHeads * c.head] : [c.batch, c.kvHeads, c.kv, c.head], c.seed + 1);
    const v = rand(c.packed ? [c.batch, c.kv, c.kvHeads * 3] : [c.batch, c.kvHeads, c.kv, 3], c.seed + 2);
    const attrs: Record<string, AttrValue> = { is_causal: c.causal ? 1 : 0 };
    if (c.packed) Object.assign(attrs, { q_num_heads: Hq, kv_num_heads: c.kvHeads });
    if (c.softcap) attrs['softcap'] = { f: c.softcap };
    if (c.scale !== undefined) attrs['scale'] = { f: c.scale };
    // Masks that keep key 0 visible, so no row is hidden entirely (Runtime's choice there differs).
    const maskShape = [c.q, c.kv];
    const keep = random(c.q * c.kv, c.seed + 3, 0, 1).map((u, i) => i % c.kv === 0 || u < 0.7);
    const mask = c.mask === 'bool' ? T('bool', maskShape, keep) : c.mask === 'float' ? T('f32', maskShape, keep.map((b, i) => (b ? random(1, c.seed + i)[0]! : -Infinity))) : null;
    // ONNX Runtime aligns the causal mask bottom-right when the lengths differ; ONNX (no cache) top-left.
    if (c.causal && c.q !== c.kv) return;
    // ONNX Runtime caps the logits after adding the mask; ONNX caps them before (the conformance cases check that order).
    if (c.softcap && (c.mask !== 'none' || c.causal)) return;
    await agreesWithOrt('Attention', 23, attrs, [input(q), input(k), input(v), ...(mask ? [input(mask)] : [])], 1, 1e-4);
  });

  it('gives zero rows, not NaN, where the mask hides every key (Y and mode-3 probabilities)', () => {
    const q = rand([1, 1, 2, 4], 1);
    const k = rand([1, 1, 3, 4], 2);
    const v = rand([1, 1, 3, 2], 3);
    const mask = T('bool', [2, 3], [false, false, false, true, false, true]);
    const [y, , , p] = runNode('Attention', 23, { qk_matmul_output_mode: 3 }, [input(q), input(k), input(v), input(mask)], 4);
    expect(y!.toNumbers().slice(0, 2)).toEqual([0, 0]);
    expect(p!.toNumbers().slice(0, 3)).toEqual([0, 0, 0]);
    expect(p!.toNumbers()[4]).toBe(0);
    close(T('f32', [1], [p!.toNumbers()[3]! + p!.toNumbers()[5]!]), [1]);
  });

  it('returns present key/value as the past concatenated with the new tokens', () => {
    const pk = rand([1, 2, 3, 4], 4);
    const pv = rand([1, 2, 3, 4], 5);
    const k = rand([1, 2, 1, 4], 6);
    const v = rand([1, 2, 1, 4], 7);
    const [, presentK, presentV] = runNode('Attention', 23, {}, [input(rand([1, 2, 1, 4], 8)), input(k), input(v), null, input(pk), input(pv)], 3);
    expect(presentK!.shape).toEqual([1, 2, 4, 4]);
    expect(presentK!.toNumbers().slice(12, 16)).toEqual(k.toNumbers().slice(0, 4));
    expect(presentV!.toNumbers().slice(0, 12)).toEqual(pv.toNumbers().slice(0, 12));
  });

  it('refuses symbolic sequence lengths and mismatched heads', () => {
    expect(errorCode(() => runNode1('Attention', 23, {}, [input(rand([1, 1, 2, 4], 1), [1, 1, 'S', 4]), input(rand([1, 1, 2, 4], 2)), input(rand([1, 1, 2, 4], 3))]))).toBe('E_UNSUPPORTED');
    expect(errorCode(() => runNode1('Attention', 23, {}, [input(rand([1, 3, 2, 4], 1)), input(rand([1, 2, 2, 4], 2)), input(rand([1, 2, 2, 4], 3))]))).toBe('E_TYPE');
  });
});

describe('RotaryEmbedding', () => {
  /** The spec's algorithm on [B, S, H, D] with caches already indexed: [B, S, dim/2]. */
  function rope(x: number[], [B, S, H, D]: number[], cos: number[], sin: number[], dim: number, interleaved: boolean): number[] {
    const out = [...x];
    const half = dim / 2;
    for (let b = 0; b < B!; b++) for (let s = 0; s < S!; s++) for (let h = 0; h < H!; h++) {
      const base = ((b * S! + s) * H! + h) * D!;
      for (let i = 0; i < half; i++) {
        const [i1, i2] = interleaved ? [2 * i, 2 * i + 1] : [i, i + half];
        const c = cos[(b * S! + s) * half + i]!;
        const sn = sin[(b * S! + s) * half + i]!;
        const x1 = x[base + i1]!;
        const x2 = x[base + i2]!;
        out[base + i1] = c * x1 - sn * x2;
        out[base + i2] = sn * x1 + c * x2;
      }
    }
    return out;
  }

  test.prop([fc.boolean(), fc.constantFrom(0, 4), fc.integer()], { numRuns: 8 })('matches the spec formula on 3-D input with position ids', (interleaved, rdim, seed) => {
    const [B, S, H, D] = [2, 3, 2, 8];
    const dim = rdim || D;
    const x = rand([B, S, H * D], seed);
    const cos = rand([10, dim / 2], seed + 1);
    const sin = rand([10, dim / 2], seed + 2);
    const pos = T('i64', [B, S], [1n, 5n, 9n, 0n, 2n, 2n]);
    const y = runNode1('RotaryEmbedding', 23, { interleaved: interleaved ? 1 : 0, rotary_embedding_dim: rdim, num_heads: H }, [input(x), input(cos), input(sin), input(pos)]);
    const take = (t: Tensor): number[] => pos.toNumbers().flatMap((p) => t.toNumbers().slice(p * (dim / 2), (p + 1) * (dim / 2)));
    close(y, rope(x.toNumbers(), [B, S, H, D], take(cos), take(sin), dim, interleaved));
  });
});

describe('LinearAttention', () => {
  /** The recurrence, step by step, on [B, T, H*d] inputs (float64). */
  function reference(q: Tensor, k: Tensor, v: Tensor, Hq: number, Hkv: number, decay: Tensor | null, beta: Tensor | null): number[] {
    const [B, Tn] = q.shape as [number, number];
    const dk = q.shape[2]! / Hq;
    const dv = v.shape[2]! / Hkv;
    const qv = q.toNumbers(), kv = k.toNumbers(), vv = v.toNumbers();
    const out = new Array<number>(B * Tn * Hq * dv).fill(0);
    const scale = 1 / Math.sqrt(dk);
    for (let b = 0; b < B; b++) {
      const S = Array.from({ length: Hkv }, () => new Array<number>(dk * dv).fill(0));
      for (let t = 0; t < Tn; t++) {
        for (let h = 0; h < Hkv; h++) {
          const kt = Array.from({ length: dk }, (_, i) => kv[((b * Tn + t) * Hkv + h) * dk + i]!);
          let vt = Array.from({ length: dv }, (_, j) => vv[((b * Tn + t) * Hkv + h) * dv + j]!);
          const st = S[h]!;
          if (decay) {
            const per = decay.shape[2] === Hkv;
            for (let i = 0; i < dk; i++) {
              const g = Math.exp(decay.toNumbers()[per ? (b * Tn + t) * Hkv + h : ((b * Tn + t) * Hkv + h) * dk + i]!);
              for (let j = 0; j < dv; j++) st[i * dv + j]! *= g;
            }
          }
          if (beta) {
            const bt = beta.toNumbers()[(b * Tn + t) * beta.shape[2]! + (beta.shape[2] === 1 ? 0 : h)]!;
            vt = vt.map((x, j) => bt * (x - kt.reduce((acc, ki, i) => acc + ki * st[i * dv + j]!, 0)));
          }
          for (let i = 0; i < dk; i++) for (let j = 0; j < dv; j++) st[i * dv + j]! += kt[i]! * vt[j]!;
        }
        for (let hq = 0; hq < Hq; hq++) {
          const st = S[Math.floor(hq / (Hq / Hkv))]!;
          for (let j = 0; j < dv; j++) {
            let acc = 0;
            for (let i = 0; i < dk; i++) acc += qv[((b * Tn + t) * Hq + hq) * dk + i]! * st[i * dv + j]!;
            out[((b * Tn + t) * Hq + hq) * dv + j] = scale * acc;
          }
        }
      }
    }
    return out;
  }

  test.prop([fc.constantFrom('linear', 'gated', 'delta', 'gated_delta'), fc.boolean(), fc.integer()], { numRuns: 12 })(
    'follows the recurrence of each update rule, grouped heads included', (rule, perHeadDecay, seed) => {
      const [B, Tn, Hq, Hkv, dk, dv] = [2, 3, 4, 2, 3, 2];
      const q = rand([B, Tn, Hq * dk], seed);
      const k = rand([B, Tn, Hkv * dk], seed + 1);
      const v = rand([B, Tn, Hkv * dv], seed + 2);
      const decay = rule.startsWith('gated') ? rand([B, Tn, perHeadDecay ? Hkv : Hkv * dk], seed + 3, -0.5, 0) : null;
      const beta = rule.endsWith('delta') ? rand([B, Tn, Hkv], seed + 4, 0, 1) : null;
      const [y] = runNode('LinearAttention', 27, { update_rule: rule, q_num_heads: Hq, kv_num_heads: Hkv },
        [input(q), input(k), input(v), null, decay ? input(decay) : null, beta ? input(beta) : null], 2);
      close(y!, reference(q, k, v, Hq, Hkv, decay, beta), 1e-5);
    });

  it('insists on the inputs its update rule needs', () => {
    const x = input(rand([1, 1, 4], 1));
    expect(errorCode(() => runNode('LinearAttention', 27, { update_rule: 'gated', q_num_heads: 1, kv_num_heads: 1 }, [x, x, x], 2))).toBe('E_TYPE');
  });
});

describe('CausalConvWithState and TensorScatter', () => {
  it('convolves causally, carrying the last k-1 inputs, for any kernel size', () => {
    for (const K of [1, 2, 4]) {
      const x = rand([1, 2, 5], K);
      const w = rand([2, 1, K], K + 1);
      const past = rand([1, 2, K - 1], K + 2);
      const [y, state] = runNode('CausalConvWithState', 27, {}, [input(x), input(w), null, input(past)], 2);
      const want: number[] = [];
      for (let c = 0; c < 2; c++) {
        const padded = [...past.toNumbers().slice(c * (K - 1), (c + 1) * (K - 1)), ...x.toNumbers().slice(c * 5, (c + 1) * 5)];
        for (let t = 0; t < 5; t++) want.push(Array.from({ length: K }, (_, j) => padded[t + j]! * w.toNumbers()[c * K + j]!).reduce((a, b) => a + b, 0));
      }
      close(y!, want);
      expect(state!.shape).toEqual([1, 2, K - 1]);
      expect(state!.toNumbers()).toEqual(K === 1 ? [] : [...x.toNumbers().slice(5 - (K - 1), 5), ...x.toNumbers().slice(10 - (K - 1), 10)]);
    }
  });

  it('TensorScatter writes at each batch entry\'s index, wrapping in circular mode', () => {
    const past = T('f32', [2, 4, 1], [0, 1, 2, 3, 4, 5, 6, 7]);
    const update = T('f32', [2, 2, 1], [10, 11, 12, 13]);
    const at = T('i64', [2], [3n, 1n]);
    expect(runNode1('TensorScatter', 24, { mode: 'circular' }, [input(past), input(update), input(at)]).toNumbers()).toEqual([11, 1, 2, 10, 4, 12, 13, 7]);
    expect(errorCode(() => runNode1('TensorScatter', 24, { axis: 0 }, [input(past), input(update), input(at)]))).toBe('E_TYPE');
  });
});
