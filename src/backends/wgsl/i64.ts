// 64-bit integers for WGSL, which has none: a value is a vec2<u32> (low word, high word), the host's
// little-endian layout, so i64/u64 buffers upload and read back unchanged. Add, subtract and multiply are
// the same for signed and unsigned (two's complement, wrapping); comparison, division and conversion to
// float differ. Division truncates and gives 0 for a zero divisor, as the interpreter's BigInt rows do.
import type { Helper } from './spelling.js';

const V = 'vec2<u32>';

export const I64_HELPERS: Record<string, Helper> = {
  i64_from_i32: { code: `fn i64_from_i32(a: i32) -> ${V} { return ${V}(bitcast<u32>(a), select(0u, 0xffffffffu, a < 0i)); }` },
  i64_add: {
    code: `fn i64_add(a: ${V}, b: ${V}) -> ${V} { let lo = a.x + b.x; return ${V}(lo, a.y + b.y + select(0u, 1u, lo < a.x)); }`,
  },
  i64_sub: {
    code: `fn i64_sub(a: ${V}, b: ${V}) -> ${V} { return ${V}(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x)); }`,
  },
  i64_neg: { deps: ['i64_sub'], code: `fn i64_neg(a: ${V}) -> ${V} { return i64_sub(${V}(0u, 0u), a); }` },
  i64_is_neg: { code: `fn i64_is_neg(a: ${V}) -> bool { return (a.y >> 31u) != 0u; }` },
  i64_abs: { deps: ['i64_neg', 'i64_is_neg'], code: `fn i64_abs(a: ${V}) -> ${V} { return select(a, i64_neg(a), i64_is_neg(a)); }` },
  mul_wide_u32: {
    code: `fn mul_wide_u32(a: u32, b: u32) -> ${V} {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return ${V}((p00 & 0xffffu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}`,
  },
  i64_mul: {
    deps: ['mul_wide_u32'],
    code: `fn i64_mul(a: ${V}, b: ${V}) -> ${V} { let p = mul_wide_u32(a.x, b.x); return ${V}(p.x, p.y + a.x * b.y + a.y * b.x); }`,
  },
  i64_lt: {
    code: `fn i64_lt(a: ${V}, b: ${V}) -> bool { let ah = bitcast<i32>(a.y); let bh = bitcast<i32>(b.y); return ah < bh || (ah == bh && a.x < b.x); }`,
  },
  u64_lt: { code: `fn u64_lt(a: ${V}, b: ${V}) -> bool { return a.y < b.y || (a.y == b.y && a.x < b.x); }` },
  i64_max: { deps: ['i64_lt'], code: `fn i64_max(a: ${V}, b: ${V}) -> ${V} { return select(a, b, i64_lt(a, b)); }` },
  i64_min: { deps: ['i64_lt'], code: `fn i64_min(a: ${V}, b: ${V}) -> ${V} { return select(a, b, i64_lt(b, a)); }` },
  u64_max: { deps: ['u64_lt'], code: `fn u64_max(a: ${V}, b: ${V}) -> ${V} { return select(a, b, u64_lt(a, b)); }` },
  u64_min: { deps: ['u64_lt'], code: `fn u64_min(a: ${V}, b: ${V}) -> ${V} { return select(a, b, u64_lt(b, a)); }` },
  // Shift-and-subtract long division: (quotient, remainder) as vec4 (q.x, q.y, r.x, r.y); 0 for a zero divisor.
  u64_divmod: {
    deps: ['u64_lt', 'i64_sub'],
    code: `fn u64_divmod(a: ${V}, b: ${V}) -> vec4<u32> {
  if (b.x == 0u && b.y == 0u) { return vec4<u32>(0u, 0u, 0u, 0u); }
  var q = ${V}(0u, 0u);
  var r = ${V}(0u, 0u);
  for (var i = 63u; ; i = i - 1u) {
    var bit: u32;
    if (i >= 32u) { bit = (a.y >> (i - 32u)) & 1u; } else { bit = (a.x >> i) & 1u; }
    r = ${V}((r.x << 1u) | bit, (r.y << 1u) | (r.x >> 31u));
    if (!u64_lt(r, b)) {
      r = i64_sub(r, b);
      if (i >= 32u) { q.y = q.y | (1u << (i - 32u)); } else { q.x = q.x | (1u << i); }
    }
    if (i == 0u) { break; }
  }
  return vec4<u32>(q, r);
}`,
  },
  u64_div: { deps: ['u64_divmod'], code: `fn u64_div(a: ${V}, b: ${V}) -> ${V} { return u64_divmod(a, b).xy; }` },
  u64_mod: { deps: ['u64_divmod'], code: `fn u64_mod(a: ${V}, b: ${V}) -> ${V} { return u64_divmod(a, b).zw; }` },
  i64_div: {
    deps: ['u64_divmod', 'i64_abs', 'i64_neg', 'i64_is_neg'],
    code: `fn i64_div(a: ${V}, b: ${V}) -> ${V} {
  let q = u64_divmod(i64_abs(a), i64_abs(b)).xy;
  return select(q, i64_neg(q), i64_is_neg(a) != i64_is_neg(b));
}`,
  },
  i64_mod: {
    deps: ['u64_divmod', 'i64_abs', 'i64_neg', 'i64_is_neg'],
    code: `fn i64_mod(a: ${V}, b: ${V}) -> ${V} {
  let r = u64_divmod(i64_abs(a), i64_abs(b)).zw;
  return select(r, i64_neg(r), i64_is_neg(a));
}`,
  },
  // Exponentiation by squaring, wrapping; a negative exponent gives 1^b, (-1)^b or 0 as the interpreter does.
  i64_pow: {
    deps: ['i64_mul', 'i64_is_neg'],
    code: `fn i64_pow(a: ${V}, b: ${V}) -> ${V} {
  let one = ${V}(1u, 0u);
  if (i64_is_neg(b)) {
    if (all(a == one)) { return one; }
    if (all(a == ${V}(0xffffffffu, 0xffffffffu))) { return select(a, one, (b.x & 1u) == 0u); }
    return ${V}(0u, 0u);
  }
  var r = one; var base = a; var e = b;
  loop {
    if (e.x == 0u && e.y == 0u) { break; }
    if ((e.x & 1u) != 0u) { r = i64_mul(r, base); }
    base = i64_mul(base, base);
    e = ${V}((e.x >> 1u) | (e.y << 31u), e.y >> 1u);
  }
  return r;
}`,
  },
  u64_pow: { deps: ['i64_mul'], code: `fn u64_pow(a: ${V}, b: ${V}) -> ${V} {
  var r = ${V}(1u, 0u); var base = a; var e = b;
  loop {
    if (e.x == 0u && e.y == 0u) { break; }
    if ((e.x & 1u) != 0u) { r = i64_mul(r, base); }
    base = i64_mul(base, base);
    e = ${V}((e.x >> 1u) | (e.y << 31u), e.y >> 1u);
  }
  return r;
}` },
  // Correctly rounded: the top 32 significant bits with a sticky bit for the rest, then one rounding.
  u64_to_f32: {
    code: `fn u64_to_f32(a: ${V}) -> f32 {
  if (a.y == 0u) { return f32(a.x); }
  let s = countLeadingZeros(a.y);
  var top = a.y;
  var rest = a.x;
  if (s > 0u) { top = (a.y << s) | (a.x >> (32u - s)); rest = a.x << s; }
  if (rest != 0u) { top = top | 1u; }
  return ldexp(f32(top), i32(32u - s));
}`,
  },
  i64_to_f32: {
    deps: ['u64_to_f32', 'i64_neg', 'i64_is_neg'],
    code: `fn i64_to_f32(a: ${V}) -> f32 { if (i64_is_neg(a)) { return -u64_to_f32(i64_neg(a)); } return u64_to_f32(a); }`,
  },
  // Truncation toward zero, wrapped modulo 2^64 (signed and unsigned alike); NaN and ±inf give 0.
  f32_to_i64: {
    deps: ['is_finite', 'i64_from_i32', 'f32_to_u32'],
    code: `fn f32_to_i64(x: f32) -> ${V} {
  if (!is_finite(x)) { return ${V}(0u, 0u); }
  let t = trunc(x);
  if (abs(t) < 2147483648.0f) { return i64_from_i32(i32(t)); }
  let hi = floor(t / 4294967296.0f);
  return ${V}(u32(t - hi * 4294967296.0f), f32_to_u32(hi));
}`,
  },
  f32_to_u64: { deps: ['f32_to_i64'], code: `fn f32_to_u64(x: f32) -> ${V} { return f32_to_i64(x); }` },
  // An i64 used as an index: itself where it fits comfortably in i32, else clamped to ±2^30 so that index
  // arithmetic cannot wrap back into range (a gather's range check then fails as it should).
  i64_to_index: {
    code: `fn i64_to_index(a: ${V}) -> i32 {
  let lo = bitcast<i32>(a.x);
  if (a.y == select(0u, 0xffffffffu, lo < 0i)) { return clamp(lo, -1073741824i, 1073741824i); }
  return select(1073741824i, -1073741824i, bitcast<i32>(a.y) < 0i);
}`,
  },
  u64_to_index: {
    code: `fn u64_to_index(a: ${V}) -> i32 { if (a.y != 0u || a.x > 1073741824u) { return 1073741824i; } return i32(a.x); }`,
  },
};
