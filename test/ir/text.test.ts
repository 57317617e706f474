// The IR text format (docs/IR-TEXT.md): golden texts that parse and print back unchanged, graphs built
// by hand that print as expected, parse errors with line:col, and a round-trip property over random graphs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { A, type Attr } from '../../src/ir/attr.js';
import { DTYPES, DTYPE_INFO, type DType } from '../../src/ir/dtype.js';
import { AicError } from '../../src/ir/error.js';
import { Graph, Node, Value, type TensorType } from '../../src/ir/graph.js';
import { bf16BitsToF32, bitCodec, f16BitsToF32 } from '../../src/ir/numeric.js';
import type { Dim } from '../../src/ir/shape.js';
import { Tensor } from '../../src/ir/tensor.js';
import { parseGraph, parseType } from '../../src/ir/parser.js';
import { printAttr, printGraph, printType } from '../../src/ir/printer.js';

/** Golden texts are written indented in the source; drop the common indentation and the first newline. */
function air(strings: TemplateStringsArray, ...args: unknown[]): string {
  const raw = String.raw(strings, ...args).replace(/^\n/, '');
  const lines = raw.split('\n');
  const pad = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(pad)).join('\n').replace(/\s*$/, '\n');
}

const t = (dtype: DType, shape: Dim[]): TensorType => ({ dtype, shape });

const roundTrips = (text: string): void => {
  expect(printGraph(parseGraph(text))).toBe(text);
};

describe('golden IR texts parse and print back unchanged', () => {
  it('softmax (the example of docs/IR-TEXT.md)', () => {
    const text = air`
      graph @softmax(%x: f32[2,8]) -> (%y: f32[2,8]) {
        %m = prim.reduce_max(%x) {axes=[1], keepdims=1} : f32[2,1]
        %d = prim.sub(%x, %m) : f32[2,8]
        %e = prim.exp(%d) : f32[2,8]
        %s = prim.reduce_sum(%e) {axes=[1], keepdims=1} : f32[2,1]
        %y = prim.div(%e, %s) : f32[2,8]
      }`;
    roundTrips(text);
    const g = parseGraph(text);
    expect(g.name).toBe('softmax');
    expect(g.nodes.map((n) => n.op)).toEqual(['prim.reduce_max', 'prim.sub', 'prim.exp', 'prim.reduce_sum', 'prim.div']);
    expect(g.nodes[1]!.inputs).toEqual([g.inputs[0], g.nodes[0]!.output]);
    expect(g.outputs[0]).toBe(g.nodes[4]!.output);
    expect(g.nodes[0]!.attrs).toEqual({ axes: A.ints([1]), keepdims: A.int(1) });
    expect(g.nodes[2]!.output.name).toBe('e');
  });

  it('nested graphs that capture outer values, symbolic dims, loc', () => {
    const text = air`
      graph @main(%cond: bool[], %x: f32[N,"seq len"]) -> (%r: f32[N,"seq len"]) {
        %one = prim.const() {value=dense<f32[]: [1.0]>} : f32[]
        %r = onnx.If(%cond) {else_branch=graph @else_body() -> (%e: f32[N,"seq len"]) {
          %e = prim.neg(%x) : f32[N,"seq len"]
        }, then_branch=graph @then_body() -> (%x2: f32[N,"seq len"]) {
          %x2 = prim.add(%x, %one) : f32[N,"seq len"]
        }} : f32[N,"seq len"] loc("If_0")
      }`;
    roundTrips(text);
    const g = parseGraph(text);
    const x = g.inputs[1]!;
    const iff = g.nodes[1]!;
    expect(iff.origin).toBe('If_0');
    expect(x.shape).toEqual(['N', 'seq len']);
    const thenBody = iff.graph('then_branch');
    expect(thenBody.nodes[0]!.inputs).toEqual([x, g.nodes[0]!.output]);
    expect(iff.graph('else_branch').outputs[0]!.producer!.inputs[0]).toBe(x);
    expect(g.users().get(x)).toEqual([iff]);
  });

  it('a loop body with parameters, a graphs list, and a body result that is a captured value', () => {
    roundTrips(air`
      graph @loop(%n: i64[], %init: f32[4]) -> (%out: f32[4]) {
        %out = onnx.Loop(%n, _, %init) {body=graph @body(%i: i64[], %c: bool[], %acc: f32[4]) -> (%c2: bool[], %acc2: f32[4]) {
          %c2 = prim.not(%c) : bool[]
          %acc2 = prim.add(%acc, %init) : f32[4]
        }} : f32[4]
        prim.print(%out) {branches=graphs[graph @a() -> (%init: f32[4]) {
        }, graph @b() -> () {
        }]} : ()
      }`);
  });

  it('multi-output nodes, omitted operands, zero-result nodes', () => {
    const text = air`
      graph @topk(%x: f32[2,8], %k: i64[1]) -> (%v: f32[2,3], %i: i64[2,3]) {
        %v, %i = prim.topk(%x, %k) {axis=1, largest=1, sorted=1} : (f32[2,3], i64[2,3]) loc("TopK_0")
        %c = onnx.Clip(%v, _, _) : f32[2,3]
        onnx_ml.Sink(%c, %i) : ()
      }`;
    roundTrips(text);
    const g = parseGraph(text);
    const [topk, clip, sink] = g.nodes as [Node, Node, Node];
    expect(topk.outputs.map((v) => v.name)).toEqual(['v', 'i']);
    expect(topk.outputs.map((v) => v.type)).toEqual([t('f32', [2, 3]), t('i64', [2, 3])]);
    expect(clip.inputs).toEqual([topk.outputs[0], null, null]);
    expect(sink.outputs).toEqual([]);
    expect(sink.dialect).toBe('onnx_ml');
  });

  it('every attribute kind, empty lists, scalar and empty types', () => {
    const text = air`
      graph @attrs(%s: f32[], %e: i64[0]) -> (%y: f32[]) {
        %y = test.every(%s, %e) {"a key"="quoted name", dt=bf16, dts=[-3, 0, 9223372036854775808], e1=ints[], e2=floats[], e3=strings[], f=-0.0, fs=[1.5, 1e-7, -inf, inf, nan, 5e-324, 1e+300], g=graph @inner(%p: f32[]) -> (%p: f32[]) {
        }, gs=graphs[], i=-3, s="tab\there \"quoted\" é\u0000", ss=["", "a b"], to=f32} : f32[]
      }`;
    roundTrips(text);
    const a = parseGraph(text).nodes[0]!.attrs;
    expect(a['a key']).toEqual(A.string('quoted name'));
    expect(a['dt']).toEqual(A.dtype('bf16'));
    expect(a['dts']).toEqual(A.ints([-3, 0, 2 ** 63]));
    expect(a['e1']).toEqual(A.ints([]));
    expect(a['e2']).toEqual(A.floats([]));
    expect(a['e3']).toEqual(A.strings([]));
    expect(Object.is((a['f'] as { value: number }).value, -0)).toBe(true);
    expect(a['fs']).toEqual(A.floats([1.5, 1e-7, -Infinity, Infinity, NaN, 5e-324, 1e300]));
    expect(a['gs']).toEqual(A.graphs([]));
    expect(a['i']).toEqual(A.int(-3));
    expect(a['s']).toEqual(A.string('tab\there "quoted" é\0'));
    expect(a['ss']).toEqual(A.strings(['', 'a b']));
    expect(a['g']!.kind).toBe('graph');
  });

  it('dense tensors in list form: exact floats, int64, f16/bf16, bool, scalars and empties', () => {
    const text = air`
      graph @consts() -> () {
        prim.use() {a=dense<f32[2,3]: [0.1, -0.0, 1e-45, 3.4028235e+38, -inf, nan]>, b=dense<i64[3]: [9223372036854775807, -9223372036854775808, 0]>, c=dense<u64[1]: [18446744073709551615]>, d=dense<f16[4]: [0.1, 65500.0, 6e-8, -2.0]>, e=dense<bf16[2]: [0.1, 3.14]>, f=dense<bool[2]: [true, false]>, g=dense<f64[1]: [0.1]>, h=dense<i8[2]: [-128, 127]>, s=dense<f32[]: [2.5]>, z=dense<i64[0]: []>} : ()
      }`;
    roundTrips(text);
    const a = parseGraph(text).nodes[0]!.attrs;
    const tensor = (k: string): Tensor => (a[k] as Extract<Attr, { kind: 'tensor' }>).value;
    expect(Array.from(tensor('a').data as Float32Array)).toEqual([Math.fround(0.1), -0, Math.fround(1e-45), 3.4028234663852886e38, -Infinity, NaN]);
    expect(Array.from(tensor('b').data as BigInt64Array)).toEqual([2n ** 63n - 1n, -(2n ** 63n), 0n]);
    expect(Array.from(tensor('c').data as BigUint64Array)).toEqual([2n ** 64n - 1n]);
    expect(Array.from(tensor('d').data as Float32Array)).toEqual([f16BitsToF32(0x2e66), 65504, 2 ** -24, -2]);
    expect(Array.from(tensor('e').data as Float32Array)).toEqual([bf16BitsToF32(0x3dcd), bf16BitsToF32(0x4049)]);
    expect(tensor('s').shape).toEqual([]);
    expect(tensor('z').shape).toEqual([0]);
  });

  it('dense tensors over 64 elements in hex form', () => {
    const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    const u8 = Array.from({ length: 65 }, (_, i) => i);
    // 1.0, NaN, -0.0 and the smallest subnormal as little-endian f16 bit patterns.
    const f16 = Array.from({ length: 65 }, (_, i) => [0x3c00, 0x7e00, 0x8000, 0x0001][i % 4]!);
    const text = air`
      graph @big() -> () {
        prim.use() {a=dense<u8[5,13]: 0x${hex(u8)}>, b=dense<f16[65]: 0x${hex(f16.flatMap((b) => [b & 0xff, b >> 8]))}>} : ()
      }`;
    roundTrips(text);
    const a = parseGraph(text).nodes[0]!.attrs;
    expect((a['a'] as Extract<Attr, { kind: 'tensor' }>).value.toNumbers()).toEqual(u8);
    expect((a['b'] as Extract<Attr, { kind: 'tensor' }>).value.toNumbers().slice(0, 4)).toEqual([1, NaN, -0, 2 ** -24]);
  });

  it('ONNX-style names print as they are; other names are quoted', () => {
    roundTrips(air`
      graph @"torch jit"(%"input ids": i64[B,S], %conv1/W:0: f32[3]) -> (%"y:": f32[3]) {
        %"y:" = prim.neg(%conv1/W:0) : f32[3]
        %12 = prim.cast(%"input ids") {to=f32} : f32[B,S]
      }`);
  });

  it('comments and free layout are accepted', () => {
    const g = parseGraph(`// a comment
      graph @g(%x:f32[2]) -> (%y : f32[2]) { // trailing
        %y = prim.neg( %x ) : f32[ 2 ]
      }`);
    expect(printGraph(g)).toBe(air`
      graph @g(%x: f32[2]) -> (%y: f32[2]) {
        %y = prim.neg(%x) : f32[2]
      }`);
  });
});

describe('printing graphs built by hand', () => {
  it('prints softmax exactly as docs/IR-TEXT.md shows it', () => {
    const x = new Value(t('f32', [2, 8]), 'x');
    const m = new Node('prim.reduce_max', [x], [t('f32', [2, 1])], { keepdims: A.int(1), axes: A.ints([1]) });
    const d = new Node('prim.sub', [x, m.output], [t('f32', [2, 8])]);
    const e = new Node('prim.exp', [d.output], [t('f32', [2, 8])]);
    const s = new Node('prim.reduce_sum', [e.output], [t('f32', [2, 1])], { axes: A.ints([1]), keepdims: A.int(1) });
    const y = new Node('prim.div', [e.output, s.output], [t('f32', [2, 8])]);
    [m, d, e, s, y].forEach((n, i) => (n.output.name = 'mdesy'[i]));
    const g = new Graph('softmax', [x], [y.output], [m, d, e, s, y]);
    expect(printGraph(g)).toBe(air`
      graph @softmax(%x: f32[2,8]) -> (%y: f32[2,8]) {
        %m = prim.reduce_max(%x) {axes=[1], keepdims=1} : f32[2,1]
        %d = prim.sub(%x, %m) : f32[2,8]
        %e = prim.exp(%d) : f32[2,8]
        %s = prim.reduce_sum(%e) {axes=[1], keepdims=1} : f32[2,1]
        %y = prim.div(%e, %s) : f32[2,8]
      }`);
  });

  it('numbers unnamed values and names that repeat anywhere in the text, skipping names in use', () => {
    const x = new Value(t('f32', [2]), 'x');
    const a = new Node('prim.neg', [x], [t('f32', [2])]); // unnamed
    const b = new Node('prim.exp', [a.output], [t('f32', [2])]);
    b.output.name = '0'; // a kept name that a number must not reuse
    // The body's value is also called x: both x's are numbered, in the outer graph and the nested one.
    const inner = new Value(t('f32', [2]), 'x');
    const body = new Graph('body', [inner], [inner]);
    const c = new Node('test.map', [b.output], [t('f32', [2])], { body: A.graph(body) });
    c.output.name = 'c';
    const g = new Graph('g', [x], [c.output], [a, b, c]);
    const text = printGraph(g);
    expect(text).toBe(air`
      graph @g(%1: f32[2]) -> (%c: f32[2]) {
        %2 = prim.neg(%1) : f32[2]
        %0 = prim.exp(%2) : f32[2]
        %c = test.map(%0) {body=graph @body(%3: f32[2]) -> (%3: f32[2]) {
        }} : f32[2]
      }`);
    roundTrips(text);
  });

  it('type and attribute helpers', () => {
    expect(printType(t('f32', []))).toBe('f32[]');
    expect(printType(t('i64', [0]))).toBe('i64[0]');
    expect(printType(t('bf16', ['N', 3, 'a-b']))).toBe('bf16[N,3,"a-b"]');
    expect(parseType('bf16[N,3,"a-b"]')).toEqual(t('bf16', ['N', 3, 'a-b']));
    expect(printAttr(A.float(1))).toBe('1.0');
    expect(printAttr(A.float(1e21))).toBe('1e+21');
    expect(printAttr(A.int(1e21))).toBe('1000000000000000000000');
    expect(printAttr(A.floats([0.1, -0]))).toBe('[0.1, -0.0]');
    expect(printAttr(A.tensor(Tensor.from('f32', [2], [0.1, 1 / 3])))).toBe('dense<f32[2]: [0.1, 0.33333334]>');
    expect(printAttr(A.tensor(Tensor.zeros('f32', [2, 50])), { elideTensorsOver: 64 })).toBe('dense<f32[2,50]: elided>');
  });
});

describe('parse errors name line:col and what was expected', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown value', 'graph @g(%x: f32[]) -> () {\n  %y = prim.neg(%z) : f32[]\n}', /^2:17: unknown value %z/],
    ['use before definition', 'graph @g() -> (%b: f32[]) {\n  %a = prim.neg(%b) : f32[]\n  %b = prim.neg(%a) : f32[]\n}', /^2:17: unknown value %b/],
    ['nested graph sees only earlier values', 'graph @g() -> () {\n  prim.use() {body=graph @b() -> () {\n    prim.use(%late) : ()\n  }} : ()\n  %late = prim.c() : f32[]\n}', /^3:14: unknown value %late/],
    ['unknown result', 'graph @g(%x: f32[]) -> (%nope: f32[]) {\n}', /^1:25: unknown value %nope/],
    ['duplicate definition', 'graph @g(%x: f32[]) -> () {\n  %x = prim.neg(%x) : f32[]\n}', /^2:3: duplicate definition of %x \(first defined at 1:10\)/],
    ['duplicate in a nested graph', 'graph @g(%x: f32[]) -> () {\n  prim.use() {b=graph @b(%x: f32[]) -> () {\n  }} : ()\n}', /^2:26: duplicate definition of %x/],
    ['bad type', 'graph @g(%x: f31[2]) -> () {\n}', /^1:14: expected a type \(a dtype such as f32\), found 'f31'/],
    ['bad dim', 'graph @g(%x: f32[2.5]) -> () {\n}', /^1:18: expected a dim \(a size or a symbol\), found '2.5'/],
    ['unterminated string', 'graph @g() -> () {\n  prim.use() : () loc("abc\n}', /^2:23: unterminated string/],
    ['missing }', 'graph @g(%x: f32[]) -> () {\n  %y = prim.neg(%x) : f32[]\n', /^3:1: expected a node or '}' to close graph @g, found end of input/],
    ['missing } of attributes', 'graph @g() -> () {\n  prim.use() {a=1 : ()\n}', /^2:19: expected '}', found ':'/],
    ['types do not match results', 'graph @g(%x: f32[]) -> () {\n  %a, %b = prim.split(%x) : f32[]\n}', /^2:29: expected 2 type\(s\), one per result, found 1/],
    ['result type differs', 'graph @g(%x: f32[]) -> (%x: f32[1]) {\n}', /^1:29: result %x has type f32\[\], declared f32\[1\]/],
    ['empty list', 'graph @g() -> () {\n  prim.use() {a=[]} : ()\n}', /^2:18: expected a list element \(an empty list is written ints\[\]/],
    ['mixed list', 'graph @g() -> () {\n  prim.use() {a=[1, 2.0]} : ()\n}', /^2:21: expected an int, found '2.0'/],
    ['out of range element', 'graph @g() -> () {\n  prim.use() {a=dense<u8[1]: [256]>} : ()\n}', /^2:31: value 256 is out of range for u8/],
    ['wrong element count', 'graph @g() -> () {\n  prim.use() {a=dense<f32[3]: [1.0]>} : ()\n}', /^2:31: expected 3 element\(s\) for this tensor, found 1/],
    ['wrong hex length', 'graph @g() -> () {\n  prim.use() {a=dense<f32[1]: 0x0000>} : ()\n}', /^2:31: expected 8 hex digits for 1 f32 element\(s\), found 4/],
    ['symbolic dense', 'graph @g() -> () {\n  prim.use() {a=dense<f32[N]: []>} : ()\n}', /^2:23: expected a static shape for a dense tensor, found f32\[N\]/],
    ['op without dialect', 'graph @g(%x: f32[]) -> () {\n  %y = neg(%x) : f32[]\n}', /^2:11: expected '\.' in op name neg/],
    ['duplicate attribute', 'graph @g() -> () {\n  prim.use() {a=1, a=2} : ()\n}', /^2:20: duplicate attribute a/],
    ['bad attribute value', 'graph @g() -> () {\n  prim.use() {a=%x} : ()\n}', /^2:17: expected an attribute value, found '%x'/],
    ['unexpected character', 'graph @g() -> () {\n  # nope\n}', /^2:3: unexpected character "#"/],
    ['invalid number', 'graph @g() -> () {\n  prim.use() {a=12abc} : ()\n}', /^2:17: invalid number "12a"/],
    ['trailing text', 'graph @g() -> () {\n}\n}', /^3:1: expected end of input, found '}'/],
    ['elided tensor', 'graph @g() -> () {\n  prim.use() {w=dense<f32[100]: elided>} : ()\n}', /^2:33: this tensor was elided/],
    ['not a graph', 'grph @g() -> () {}', /^1:1: expected 'graph', found 'grph'/],
  ];
  it.each(cases)('%s', (_name, text, message) => {
    let err: unknown;
    try {
      parseGraph(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('E_PARSE');
    expect((err as AicError).message).toMatch(message);
  });

  it('prefixes the file name', () => {
    expect(() => parseGraph('graph @g() -> () {\n  %y = prim.neg(%q) : f32[]\n}', 'model.air')).toThrow(/^model\.air:2:17: unknown value %q/);
  });
});

describe('round trip over random graphs', () => {
  // Graphs are drawn from a seeded generator rather than fc.gen: the text is the counterexample, and
  // drawing thousands of raw bit patterns this way is fast.
  const NAMES = ['x', 'y', 'x', '0', '1', '12', 'a b', 'conv1/W:0', 'y:', 'a:b', ':', '%', '"q"', '', 'é', 'N', '_', '-', 'graph'];
  const SYMBOLS = ['N', 'batch size', 'inf', 'nan', '3', '_x', 'graph', '', 'ints'];
  const CHARS = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\0', 'é', '\u{1F600}', '\ud800', ':', '/', '%', '}', '//'];
  const F64_SPECIAL = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, 1e21, 1e-7, 0.1, 2 ** 53 + 2, 1.7976931348623157e308];

  class Rng {
    private s: number;
    constructor(seed: number) {
      this.s = seed | 0;
    }
    /** mulberry32: 32 random bits. */
    u32(): number {
      this.s = (this.s + 0x6d2b79f5) | 0;
      let x = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return (x ^ (x >>> 14)) >>> 0;
    }
    int(n: number): number {
      return this.u32() % n;
    }
    pick<T>(xs: readonly T[]): T {
      return xs[this.int(xs.length)]!;
    }
    times<T>(max: number, f: () => T): T[] {
      return Array.from({ length: this.int(max + 1) }, f);
    }
    str(): string {
      return this.times(4, () => this.pick(CHARS)).join('');
    }
    f64(): number {
      if (this.int(4) === 0) return this.pick(F64_SPECIAL);
      const v = new DataView(new ArrayBuffer(8));
      v.setUint32(0, this.u32());
      v.setUint32(4, this.u32());
      return v.getFloat64(0);
    }
    bits(bytes: number): bigint {
      let b = 0n;
      for (let i = 0; i < bytes; i++) b = (b << 8n) | BigInt(this.int(256));
      return b;
    }
  }

  function randomTensor(r: Rng): Tensor {
    const dtype = r.pick(DTYPES);
    const shape = r.pick<number[]>([[], [0], [3], [2, 2], [64], [65], [5, 20]]);
    const info = DTYPE_INFO[dtype];
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new info.array(n);
    const codec = bitCodec(dtype); // f16, bf16, float8, float4, int4, int2: every bit pattern of the format
    if (codec) {
      for (let i = 0; i < n; i++) (data as Float32Array)[i] = codec.decode(r.int(2 ** codec.bits));
    } else if (dtype === 'bool') {
      for (let i = 0; i < n; i++) (data as Uint8Array)[i] = r.int(2);
    } else if (info.kind === 'float' && r.int(2) === 0) {
      for (let i = 0; i < n; i++) (data as Float32Array | Float64Array)[i] = r.f64(); // special values, rounded to the dtype
    } else {
      const bytes = new Uint8Array(data.buffer);
      for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256); // every bit pattern, NaN payloads included
    }
    return new Tensor(dtype, shape, data);
  }

  const randomType = (r: Rng): TensorType => ({
    dtype: r.pick(DTYPES),
    shape: r.times(3, (): Dim => (r.int(2) ? r.int(10) : r.pick(SYMBOLS))),
  });

  const randomName = (r: Rng): string | undefined => [undefined, r.pick(NAMES), r.str()][r.int(3)];

  function randomAttr(r: Rng, visible: Value[], depth: number): Attr {
    const int = (): number => (r.int(4) ? (r.u32() | 0) : r.pick([2 ** 63, -(2 ** 63), 2 ** 53 + 2, 0]));
    switch (r.int(depth < 2 ? 10 : 8)) {
      case 0: return A.int(int());
      case 1: return A.float(r.f64());
      case 2: return A.string(r.str());
      case 3: return A.ints(r.times(3, int));
      case 4: return A.floats(r.times(3, () => (r.int(2) ? r.f64() : Math.fround(r.f64()))));
      case 5: return A.strings(r.times(3, () => r.str()));
      case 6: return A.dtype(r.pick(DTYPES));
      case 7: return A.tensor(randomTensor(r));
      case 8: return A.graph(randomGraph(r, visible, depth + 1));
      default: return A.graphs(r.times(2, () => randomGraph(r, visible, depth + 1)));
    }
  }

  /** A graph whose nodes read earlier values, its own or (through captures) its enclosing graphs'. */
  function randomGraph(r: Rng, outer: Value[], depth: number): Graph {
    const inputs = r.times(2, () => new Value(randomType(r), randomName(r)));
    const visible = [...outer, ...inputs];
    const nodes: Node[] = [];
    for (let k = r.int(4); k > 0; k--) {
      const operands = r.times(3, () => (visible.length > 0 && r.int(3) ? r.pick(visible) : null));
      const attrs: Record<string, Attr> = {};
      for (let j = r.int(4); j > 0; j--) {
        const key = r.pick(['axis', 'b', 'A', 'to', 'value', 'then_branch', 'a key', '__proto__', 'z', '']);
        Object.defineProperty(attrs, key, { value: randomAttr(r, visible, depth), enumerable: true, writable: true, configurable: true });
      }
      const op = r.pick(['prim.add', 'onnx.If', 'onnx_ml.LabelEncoder', 'com.microsoft.Attention']);
      const node = new Node(op, operands, r.times(2, () => randomType(r)), attrs, r.int(2) ? r.str() : undefined);
      for (const v of node.outputs) v.name = randomName(r);
      nodes.push(node);
      visible.push(...node.outputs);
    }
    const pool = r.int(2) ? visible : visible.slice(outer.length);
    const outputs = pool.length === 0 ? [] : r.times(2, () => r.pick(pool));
    return new Graph(r.pick(['main', 'a b', '', 'body', 'x']), inputs, outputs, nodes);
  }

  it('print(parse(print(g))) === print(g)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const text = printGraph(randomGraph(new Rng(seed), [], 0));
        expect(printGraph(parseGraph(text))).toBe(text);
      }),
      { numRuns: Number(process.env['AIC_TEXT_RUNS'] ?? 500) },
    );
  });
});
