// The WGSL renderer without a GPU: golden shaders for a pointwise kernel and a shared (one workgroup per
// row) softmax, the plan's layout, and clear refusals of what WGSL cannot run.
import { describe, expect, it } from 'vitest';
import { parseProgram } from '../../../src/kernel/parser.js';
import { bufferMap } from '../../../src/kernel/program.js';
import { emitWgsl } from '../../../src/backends/wgsl/emit.js';
import { planLayout } from '../../../src/backends/wgsl/layout.js';
import { renderKernel } from '../../../src/backends/wgsl/render.js';
import { errorCode } from '../../support/check.js';
import { AicError } from '../../../src/ir/error.js';

const SOFTMAX = `program @softmax(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[2,8] input "%x"
  buffer @out0: f32[2,8] output "%y"
  kernel k0 "reduce_max sub exp reduce_sum div → %y" (i0 < 2) {
    %0 = reduce max f32 (r0 < 8) {
      %1 = load f32 @in0[8*i0 + r0]
    } -> %1
    %2 = reduce sum f32 (r1 < 8) {
      %3 = load f32 @in0[8*i0 + r1]
      %4 = sub f32 %3, %0
      %5 = exp f32 %4
    } -> %5
    loop (i1 < 8) {
      %6 = load f32 @in0[8*i0 + i1]
      %7 = sub f32 %6, %0
      %8 = exp f32 %7
      %9 = div f32 %8, %2
      store @out0[8*i0 + i1] = %9
    }
  }
}`;

const SOFTMAX_SHARED = `// aic wgsl kernel k0: reduce_max sub exp reduce_sum div → %y
// one workgroup per point, reductions shared of (i0 < 2)
@group(0) @binding(0) var<storage, read_write> io: array<u32>;
override WG: u32 = 64u;
var<workgroup> red_f32: array<f32, WG>;
fn f32_from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn fmax_nan(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return f32_from_bits(0x7fc00000u); } return max(a, b); }
fn keep_nan(x: f32, y: f32) -> f32 { return select(y, x, is_nan(x)); }
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let gid = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
  if (gid >= 2u) { return; }
  let i0 = i32(gid);
  var a0: f32 = f32_from_bits(0xff800000u);
  for (var p0 = lid; p0 < 8u; p0 = p0 + WG) {
    let r0 = i32(p0);
    let v1: f32 = bitcast<f32>(io[(8 * i0 + r0)]);
    a0 = fmax_nan(a0, v1);
  }
  red_f32[lid] = a0;
  workgroupBarrier();
  for (var s1 = WG / 2u; s1 > 0u; s1 = s1 >> 1u) {
    if (lid < s1) {
      red_f32[lid] = fmax_nan(red_f32[lid], red_f32[lid + s1]);
    }
    workgroupBarrier();
  }
  a0 = workgroupUniformLoad(&red_f32[0]);
  workgroupBarrier();
  let v0: f32 = a0;
  var a2: f32 = 0.0f;
  for (var p2 = lid; p2 < 8u; p2 = p2 + WG) {
    let r1 = i32(p2);
    let v3: f32 = bitcast<f32>(io[(8 * i0 + r1)]);
    let v4: f32 = (v3 - v0);
    let v5: f32 = keep_nan(v4, exp(v4));
    a2 = (a2 + v5);
  }
  red_f32[lid] = a2;
  workgroupBarrier();
  for (var s3 = WG / 2u; s3 > 0u; s3 = s3 >> 1u) {
    if (lid < s3) {
      red_f32[lid] = (red_f32[lid] + red_f32[lid + s3]);
    }
    workgroupBarrier();
  }
  a2 = workgroupUniformLoad(&red_f32[0]);
  workgroupBarrier();
  let v2: f32 = a2;
  for (var p4 = lid; p4 < 8u; p4 = p4 + WG) {
    let i1 = i32(p4);
    let v6: f32 = bitcast<f32>(io[(8 * i0 + i1)]);
    let v7: f32 = (v6 - v0);
    let v8: f32 = keep_nan(v7, exp(v7));
    let v9: f32 = (v8 / v2);
    io[16 + (8 * i0 + i1)] = bitcast<u32>(v9);
  }
}
`;

const GATHER = `program @gather(@in0, @in1) -> (@out0) {
  arena 0
  buffer @in0: f16[5,3] input "%data"
  buffer @in1: i64[4] input "%idx"
  buffer @out0: f16[4,3] output "%y"
  kernel k0 "gather mul → %y" (i0 < 4, i1 < 3) {
    %0 = load i64 @in1[i0]
    %1 = inbounds [%0 + 5] < 10
    check %1 "prim.gather: an index is out of range for a dim of 5"
    %2 = load f16 @in0[3*(%0 % 5) + i1]
    %3 = mul f16 %2, %2
    store @out0[3*i0 + i1] = %3
  }
}`;

const GATHER_WGSL = `// aic wgsl kernel k0: gather mul → %y
// one invocation per point of (i0 < 4, i1 < 3)
@group(0) @binding(0) var<storage, read_write> io: array<u32>;
@group(0) @binding(1) var<storage, read_write> status: array<atomic<u32>>;
override WG: u32 = 64u;
fn floor_mod_i32(a: i32, b: i32) -> i32 { let r = a % b; return select(r, r + b, r != 0i && ((r < 0i) != (b < 0i))); }
fn i64_to_index(a: vec2<u32>) -> i32 {
  let lo = bitcast<i32>(a.x);
  if (a.y == select(0u, 0xffffffffu, lo < 0i)) { return clamp(lo, -1073741824i, 1073741824i); }
  return select(1073741824i, -1073741824i, bitcast<i32>(a.y) < 0i);
}
fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) < 0x7f800000u; }
fn f32_from_bits(b: u32) -> f32 { return bitcast<f32>(b); }
fn round_f16(x: f32) -> f32 {
  if (!is_finite(x)) { return x; }
  let a = abs(x);
  if (a >= 65520.0f) { return sign(x) * f32_from_bits(0x7f800000u); }
  if (a < 6.103515625e-5f) { return round(x * 16777216.0f) * 5.9604644775390625e-8f; }
  let b = bitcast<u32>(x);
  return bitcast<f32>((b + 0xfffu + ((b >> 13u) & 1u)) & 0xffffe000u);
}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let gid = gid3.x + (gid3.y + gid3.z * nwg.y) * nwg.x * WG;
  if (gid >= 12u) { return; }
  let i0 = i32(gid / 3u);
  let i1 = i32(gid % 3u);
  let t0 = 16 + 2 * i0;
  let v0: vec2<u32> = vec2<u32>(io[t0], io[t0 + 1]);
  let t1 = (i64_to_index(v0) + 5);
  let v1: bool = (t1 >= 0i && t1 < 10);
  if (!v1) { atomicMax(&status[0], 1u); }
  let v2: f32 = bitcast<f32>(io[(3 * floor_mod_i32(i64_to_index(v0), 5) + i1)]);
  let v3: f32 = round_f16((v2 * v2));
  io[32 + (3 * i0 + i1)] = bitcast<u32>(v3);
}
`;

describe('wgsl renderer', () => {
  it('renders a row kernel with its reductions shared by a workgroup (golden)', () => {
    const p = parseProgram(SOFTMAX);
    const s = renderKernel(p.kernels[0] as never, { buffers: bufferMap(p), layout: planLayout(p), checks: [] }, 'groups');
    expect(s.code).toBe(SOFTMAX_SHARED);
    expect(s.dispatch).toEqual({ kind: 'groups', count: 2 });
  });

  it('renders i64 indices, f16 rounding and a check (golden), placing every tensor in io', () => {
    const a = emitWgsl(parseProgram(GATHER));
    expect(a.shaders.get('k0.wgsl')).toBe(GATHER_WGSL);
    expect(a.plan.checks).toEqual(['prim.gather: an index is out of range for a dim of 5']);
    expect(a.plan.buffers.map((b) => [b.name, b.segment, b.offset, b.elements])).toEqual([['in0', 'io', 0, 15], ['in1', 'io', 16, 4], ['out0', 'io', 32, 12]]);
    expect(a.plan.kernels[0]!.bindings).toEqual([{ binding: 0, segment: 'io', access: 'read_write' }, { binding: 1, segment: 'status', access: 'read_write' }]);
  });

  it('packs weights into weights.bin as GPU words (bool widened, i64 as two words)', () => {
    const a = emitWgsl(parseProgram(`program @w(@in0) -> (@out0) {
  arena 0
  buffer @in0: i64[2] input "%x"
  buffer @out0: i64[2] output "%y"
  buffer @w0: bool[2] weight "%m" = dense<bool[2]: [true, false]>
  buffer @w1: i64[2] weight "%b" = dense<i64[2]: [-2, 3]>
  kernel k0 (i0 < 2) {
    %0 = load bool @w0[i0]
    %1 = load i64 @w1[i0]
    %2 = load i64 @in0[i0]
    %3 = where i64 %0, %1, %2
    store @out0[i0] = %3
  }
}`));
    expect([...new Uint32Array(a.weights.buffer)]).toEqual([1, 0, ...new Array<number>(14).fill(0), 0xfffffffe, 0xffffffff, 3, 0, ...new Array<number>(12).fill(0)]);
    expect(a.plan.segments).toEqual([{ name: 'w0', role: 'weights', words: 32, binOffset: 0 }, { name: 'io', role: 'io', words: 32 }]);
  });

  it('holds an i64 as i32 where its range is proven (an argmax, an index, a weight), as two words otherwise', () => {
    const a = emitWgsl(parseProgram(`program @n(@in0, @in1) -> (@out0) {
  arena 0
  buffer @in0: f32[4,8] input "%x"
  buffer @in1: i64[4] input "%k"
  buffer @out0: i64[4] output "%y"
  buffer @w0: i64[4] weight "%o" = dense<i64[4]: [3, -2, 7, 100]>
  kernel k0 (i0 < 4) {
    %0 = reduce argmax i64 (r0 < 8) {
      %1 = load f32 @in0[8*i0 + r0]
    } -> %1
    %2 = index i64 [3*i0]
    %3 = load i64 @w0[i0]
    %4 = add i64 %0, %2
    %5 = mul i64 %4, %3
    %6 = load i64 @in1[i0]
    %7 = add i64 %5, %6
    store @out0[i0] = %7
  }
}`)).shaders.get('k0.wgsl')!;
    expect(a).toContain('let v0: i32 = max(a0, 0i);');
    expect(a).toContain('let v2: i32 = 3 * i0;');
    expect(a).toMatch(/let v3: i32 = bitcast<i32>\(vec2<u32>\(w0\[t\d\], w0\[t\d \+ 1\]\)\.x\);/);
    expect(a).toContain('let v4: i32 = (v0 + v2);');
    expect(a).toContain('let v5: i32 = (v4 * v3);');
    expect(a).toContain('let v7: vec2<u32> = i64_add(i64_from_i32(v5), v6);');
  });

  it('refuses f64 and host extern kernels in an artifact with E_UNSUPPORTED naming the dtype or op', () => {
    const f64 = `program @d(@in0) -> (@out0) {
  arena 0
  buffer @in0: f64[2] input "%x"
  buffer @out0: f64[2] output "%y"
  kernel k0 (i0 < 2) {
    %0 = load f64 @in0[i0]
    store @out0[i0] = %0
  }
}`;
    expect(errorCode(() => emitWgsl(parseProgram(f64)))).toBe('E_UNSUPPORTED');
    try {
      emitWgsl(parseProgram(f64));
    } catch (e) {
      expect((e as AicError).message).toMatch(/dtype f64 .*WGSL has no 64-bit float/);
    }
    const ext = `program @x(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[3] input "%x"
  buffer @out0: i64[1] output "%n"
  extern k0 "prim.shape → %n" (@in0) -> (@out0) {
    graph @shape(%a: f32[3]) -> (%n: i64[1]) {
      %n = prim.shape(%a) : i64[1]
    }
  }
}`;
    expect(() => emitWgsl(parseProgram(ext))).toThrow(/prim\.shape.*on the host between GPU steps/);
  });
});
