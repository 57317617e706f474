// The PTX renderer on small Programs: the module's header lines, one .entry per kernel, the bounds check,
// virtual registers declared per kernel, explicit rounding modes, 64-bit indices only where a buffer is
// past 2^31 elements, shared reductions (shfl.sync + shared memory), every dtype — and ptxas accepting
// each module for sm_80 and sm_90 where it is installed.
import { describe, expect, test } from 'vitest';
import { parseProgram } from '../../../src/kernel/parser.js';
import { renderModule } from '../../../src/backends/ptx/module.js';
import { emitPtx } from '../../../src/backends/ptx/emit.js';
import { assemble } from '../../../src/backends/ptx/ptxas.js';
import { NO_PTXAS } from './ptxas.js';

const assembles = (ptx: string): void => {
  if (NO_PTXAS) return;
  for (const t of ['sm_80', 'sm_90']) {
    const r = assemble(ptx.replace(/^\.target sm_\d+$/m, `.target ${t}`), t);
    for (const e of r.entries) expect(e.spillStores + e.spillLoads, `${e.entry} spills on ${t}`).toBe(0);
  }
};

const EXP = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[1000] input "%x"
  buffer @out0: f32[1000] output "%y"
  kernel k0 "exp" (i0 < 1000) {
    %0 = load f32 @in0[i0]
    %1 = exp f32 %0
    %2 = const f32 0.5
    %3 = mul f32 %1, %2
    store @out0[i0] = %3
  }
}`;

describe('ptx render', () => {
  test('the module header, one entry, the bounds check, registers declared per kernel', () => {
    const { ptx, plan } = renderModule(parseProgram(EXP));
    expect(ptx).toMatch(/^\.version 8\.0$/m);
    expect(ptx).toMatch(/^\.target sm_80$/m);
    expect(ptx).toMatch(/^\.address_size 64$/m);
    expect(ptx.match(/\.visible \.entry /g)).toHaveLength(1);
    expect(ptx).toMatch(/setp\.ge\.u64 (%p\d+), %rd\d+, 1000;\n\t@\1 ret;/);
    expect(ptx).toMatch(/\.reg \.f32 \t%f<\d+>;/);
    expect(ptx).toContain('ex2.approx.f32');
    expect(ptx).toMatch(/mul\.rn\.f32/);
    expect(ptx).not.toMatch(/[^\x00-\x7f]/);
    expect(plan.kernels[0]).toMatchObject({ entry: 'aic_k0', grid: [4, 1, 1], block: [256, 1, 1], mapping: 'threads', params: ['in0', 'out0'] });
    assembles(ptx);
  });

  test('--sm picks the target; an unknown one is refused', () => {
    expect(renderModule(parseProgram(EXP), 'sm_90').ptx).toMatch(/^\.target sm_90$/m);
    expect(() => emitPtx(parseProgram(EXP), { sm: 75 })).toThrow(/unknown target sm_75/);
  });

  test('32-bit indices for small buffers, 64-bit where a buffer passes 2^31 elements', () => {
    const small = renderModule(parseProgram(EXP)).ptx;
    expect(small).toContain('mul.wide.s32');
    const big = renderModule(parseProgram(`program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: u8[3000000000] input "%x"
  buffer @out0: u8[3000000000] output "%y"
  kernel k0 "not" (i0 < 3000000000) {
    %0 = load u8 @in0[i0]
    %1 = not u8 %0
    store @out0[i0] = %1
  }
}`)).ptx;
    expect(big).toContain('64-bit indices');
    expect(big).toMatch(/mad\.lo\.s64 %rd\d+, %rd\d+, 1, %rd\d+/);
    expect(big).toContain('and.b32'); // u8 wraps
    assembles(big);
  });

  test('a long reduction over few points: a block per point, shfl.sync and shared memory', () => {
    const { ptx, plan } = renderModule(parseProgram(`program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: f32[4,5000] input "%x"
  buffer @out0: f32[4,5000] output "%y"
  kernel k0 "softmax" (i0 < 4) {
    %0 = reduce max f32 (r0 < 5000) {
      %1 = load f32 @in0[5000*i0 + r0]
    } -> %1
    %2 = reduce sum f32 (r1 < 5000) {
      %3 = load f32 @in0[5000*i0 + r1]
      %4 = sub f32 %3, %0
      %5 = exp f32 %4
    } -> %5
    loop (i1 < 5000) {
      %6 = load f32 @in0[5000*i0 + i1]
      %7 = sub f32 %6, %0
      %8 = exp f32 %7
      %9 = div f32 %8, %2
      store @out0[5000*i0 + i1] = %9
    }
  }
}`));
    expect(plan.kernels[0]).toMatchObject({ mapping: 'groups', grid: [4, 1, 1] });
    expect(ptx).toContain('shfl.sync.bfly.b32');
    expect(ptx).toContain('bar.sync 0');
    expect(ptx).toMatch(/\.shared \.align 8 \.b8 aic_k0_red0\[32\];/);
    expect(ptx).toContain('max.NaN.f32');
    expect(ptx).toContain('div.rn.f32');
    assembles(ptx);
  });

  test('every dtype through loads, arithmetic, casts and stores', () => {
    const types = ['f32', 'f16', 'bf16', 'f64', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'bool'];
    const kernels = types.map((t, i) => {
      const arith = t === 'bool' ? `%1 = xor ${t} %0, %0` : `%1 = add ${t} %0, %0`;
      return `  kernel k${i} "${t}" (i0 < 8) {
    %0 = load ${t} @in${i}[i0]
    ${arith}
    %2 = cast f32 %1
    %3 = cast ${t} %2
    %4 = max ${t} %3, %0
    %5 = cast f64 %4
    %6 = cast i64 %4
    %7 = cast ${t} %6
    %8 = lt ${t} %7, %5 ${''}
    store @out${i}[i0] = %7
  }`.replace(/\n    %8 = lt[^\n]*/, '');
    });
    const bufs = types.flatMap((t, i) => [`  buffer @in${i}: ${t}[8] input "%x${i}"`, `  buffer @out${i}: ${t}[8] output "%y${i}"`]);
    const text = `program @p(${types.map((_, i) => `@in${i}`).join(', ')}) -> (${types.map((_, i) => `@out${i}`).join(', ')}) {
  arena 0
${bufs.join('\n')}
${kernels.join('\n')}
}`;
    const { ptx } = renderModule(parseProgram(text));
    expect(ptx.match(/\.visible \.entry /g)).toHaveLength(types.length);
    expect(ptx).toContain('cvt.rn.f16.f32');
    expect(ptx).toContain('cvt.rn.bf16.f32');
    expect(ptx).toContain('bfe.s32'); // i8/i16 wrap
    expect(ptx).toContain('ld.global.nc.b16');
    assembles(ptx);
  });

  test('transcendentals and integer division', () => {
    const ops = ['log', 'sqrt', 'recip', 'sin', 'cos', 'atan', 'tanh', 'erf', 'floor', 'ceil', 'round', 'abs', 'neg', 'isnan'];
    for (const t of ['f32', 'f64']) {
      const body = ops.map((op, i) => `    %${i + 1} = ${op} ${op === 'isnan' ? 'bool' : t} %0`).join('\n');
      const text = `program @p(@in0) -> (@out0) {
  arena 0
  buffer @in0: ${t}[8] input "%x"
  buffer @out0: ${t}[8] output "%y"
  kernel k0 "math" (i0 < 8) {
    %0 = load ${t} @in0[i0]
${body}
    %20 = pow ${t} %1, %2
    %21 = mod ${t} %20, %3
    %22 = add ${t} %21, %4
    store @out0[i0] = %22
  }
}`;
      const { ptx } = renderModule(parseProgram(text));
      if (t === 'f32') expect(ptx).toContain('lg2.approx.f32');
      else expect(ptx).not.toMatch(/approx\.f32/);
      expect(ptx).toContain(`sqrt.rn.${t}`);
      expect(ptx).toContain(`rcp.rn.${t}`);
      expect(ptx).toContain(`cvt.rni.${t}.${t}`);
      assembles(ptx);
    }
    const ints = renderModule(parseProgram(`program @p(@in0, @in1) -> (@out0) {
  arena 0
  buffer @in0: i32[8] input "%x"
  buffer @in1: i32[8] input "%y"
  buffer @out0: i32[8] output "%z"
  kernel k0 "int" (i0 < 8) {
    %0 = load i32 @in0[i0]
    %1 = load i32 @in1[i0]
    %2 = div i32 %0, %1
    %3 = mod i32 %2, %1
    %4 = pow i32 %3, %1
    store @out0[i0] = %4
  }
}`)).ptx;
    expect(ints).toMatch(/div\.s32[\s\S]*setp\.eq\.s32 %p\d+, %r\d+, 0/); // division by zero gives 0
    assembles(ints);
  });

  test('argmax, gather with its check, masked loads', () => {
    const { ptx, plan } = renderModule(parseProgram(`program @p(@in0, @in1) -> (@out0, @out1) {
  arena 0
  buffer @in0: f32[6,7] input "%x"
  buffer @in1: i64[3] input "%i"
  buffer @out0: i64[6] output "%a"
  buffer @out1: f32[3,9] output "%g"
  kernel k0 "argmax" (i0 < 6) {
    %0 = reduce argmax i64 (r0 < 7) {
      %1 = load f32 @in0[7*i0 + r0]
    } -> %1
    store @out0[i0] = %0
  }
  kernel k1 "gather pad" (i0 < 3, i1 < 9) {
    %0 = load i64 @in1[i0]
    %1 = const i64 6
    %2 = lt i64 %0, %1
    check %2 "gather index out of range"
    %3 = inbounds [i1 - 1] < 7
    %4 = load f32 @in0[7*%0 + i1 - 1] if %3
    store @out1[9*i0 + i1] = %4
  }
}`));
    expect(plan.checks).toEqual(['gather index out of range']);
    expect(plan.kernels[1]!.params).toContain('status');
    expect(ptx).toMatch(/@%p\d+ st\.global\.u32 \[%rd\d+\], 1;/);
    expect(ptx).toMatch(/@%p\d+ ld\.global\.nc\.f32/);
    expect(ptx).toContain('setp.nan.f32');
    assembles(ptx);
  });

  test('a GEMM with its epilogue: 32x32 tiles through shared memory', () => {
    const { ptx, plan } = renderModule(parseProgram(`program @mlp(@in0, @in1, @in2) -> (@out0) {
  arena 0
  buffer @in0: f32[40,70] input "%x"
  buffer @in1: f32[50,70] input "%w"
  buffer @in2: f32[50] input "%b"
  buffer @out0: f32[40,50] output "%y"
  kernel k0 "dot add max" (i0 < 40, i1 < 50) {
    %0 = reduce dot f32 (r0 < 70) {
      %1 = load f32 @in0[70*i0 + r0]
      %2 = load f32 @in1[70*i1 + r0]
    } -> %1, %2
    %3 = load f32 @in2[i1]
    %4 = add f32 %0, %3
    %5 = const f32 0.0
    %6 = max f32 %4, %5
    store @out0[50*i0 + i1] = %6
  }
}`));
    expect(plan.kernels[0]).toMatchObject({ mapping: 'tiled', grid: [4, 1, 1], sharedBytes: 4096 });
    expect(ptx).toMatch(/\.shared \.align 16 \.f32 aic_k0_a\[512\];/);
    expect(ptx.match(/fma\.rn\.f32/g)!.length).toBe(64);
    expect(ptx.match(/bar\.sync 0/g)!.length).toBe(2);
    expect(ptx.match(/st\.global\.f32/g)!.length).toBe(4);
    assembles(ptx);
  });

  test('scatter: a parallel copy, then the updates in order by one thread, with the range check', () => {
    const { ptx, plan } = renderModule(parseProgram(`program @p(@in0, @in1, @in2) -> (@out0) {
  arena 0
  buffer @in0: f32[3,3] input "%x"
  buffer @in1: i64[2,3] input "%i"
  buffer @in2: f32[2,3] input "%u"
  buffer @out0: f32[3,3] output "%y"
  extern k0 "prim.scatter" (@in0, @in1, @in2) -> (@out0) {
    graph @scatter(%x: f32[3,3], %i: i64[2,3], %u: f32[2,3]) -> (%y: f32[3,3]) {
      %y = prim.scatter(%x, %i, %u) {axis=0, reduction="add"} : f32[3,3]
    }
  }
}`));
    expect(plan.kernels.map((k) => [k.entry, k.grid[0]])).toEqual([['aic_k0_copy', 1], ['aic_k0', 1]]);
    expect(plan.checks).toEqual([expect.stringMatching(/out of range for a dim of 3/)]);
    expect(ptx).toMatch(/setp\.ge\.s32 %p\d+, %r\d+, 6;/); // the serial loop over the 6 updates
    expect(ptx).toMatch(/ld\.global\.f32[\s\S]*add\.rn\.f32[\s\S]*st\.global\.f32/); // read, combine, write
    assembles(ptx);
  });

  test('float8 and float4: held as f32, rounded after every op, stored as bit patterns', () => {
    const types = ['f8e4m3fn', 'f8e4m3fnuz', 'f8e5m2', 'f8e5m2fnuz', 'f8e8m0', 'f4e2m1'];
    const bufs = types.flatMap((t, i) => [`  buffer @in${i}: ${t}[8] input "%x${i}"`, `  buffer @out${i}: u8[8] output "%y${i}"`]);
    const kernels = types.map((t, i) => `  kernel k${i} "${t}" (i0 < 8) {
    %0 = load ${t} @in${i}[i0]
    %1 = mul ${t} %0, %0
    %2 = bitcast u8 %1
    store @out${i}[i0] = %2
  }`);
    const { ptx } = renderModule(parseProgram(`program @p(${types.map((_, i) => `@in${i}`).join(', ')}) -> (${types.map((_, i) => `@out${i}`).join(', ')}) {
  arena 0
${bufs.join('\n')}
${kernels.join('\n')}
}`));
    for (const t of types) expect(ptx).toMatch(new RegExp(`^\\.const \\.align 4 \\.f32 aic_decode_${t}\\[${t === 'f4e2m1' ? 16 : 256}\\] = \\{`, 'm'));
    expect(ptx).toContain('ld.const.f32');
    expect(ptx).toContain('cvt.rni.f32.f32'); // round half to even at the format's spacing
    assembles(ptx);
  });
});
