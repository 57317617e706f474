// Extern kernels in C++: the ops that are not loop nests, with the semantics of their prims
// (src/ir/prims/indexing.ts, structured.ts). Scatter and TopK are written out here. If, Loop and Scan compile
// their bodies as models of their own in the same source (scheduled, planned and rendered like the outer
// one) and run them per iteration. NonZero, Unique and Loop's stacked results have sizes the data decides:
// they run in two calls, one that sets the sizes in S, then (once the caller has allocated the results) one
// that writes them. What is not handled (a scan over a symbolic length, loop-carried values whose size
// changes) is refused with the op named, never run wrong.
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { Graph, type Node, type Value } from '../../ir/graph.js';
import { capturedValues } from '../../ir/prims/structured.js';
import { dimExpr, type IndexExpr } from '../../kernel/index-expr.js';
import type { ExternKernel } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import type { Dim } from '../../ir/shape.js';
import { bufferParam, cString, type KernelContext } from './kernel.js';
import { checkDType, cxxPrim, elementType, fromElement, toElement, valueType } from './spelling.js';

export interface RenderedExtern {
  readonly name: string;
  readonly source: string;
  /** Ops whose result sizes the data decides run in two calls: `name` (reads the inputs, sets the sizes in
   * S) and `name_write` (writes the results, once the caller has allocated them). */
  readonly sizes?: boolean;
}

/** Ops whose result size the data decides: compute (set S), then write. */
interface SizedOp {
  /** The state compute leaves for write (a namespace-scope thread_local). */
  readonly decl: string[];
  readonly compute: string[];
  readonly write: string[];
}

const SIZED: Record<string, (n: Node, k: ExternKernel, io: Io, state: string) => SizedOp> = {
  'prim.nonzero': nonzero,
  'prim.unique': unique,
  'prim.loop': loop,
};

/** Whether an extern kernel decides sizes of its results while it runs. */
export const makesSizes = (k: ExternKernel): boolean => k.graph.nodes.some((n) => n.op in SIZED);

const RENDERERS: Record<string, (n: Node, k: ExternKernel, io: Io) => string[]> = {
  'prim.scatter': scatter,
  'prim.topk': topk,
  'prim.scan': scan,
  'prim.if': ifElse,
};

/** The ops the CPU backend runs as extern kernels. */
export const EXTERN_OPS: readonly string[] = Object.keys(RENDERERS);

interface Io {
  readonly ctx: KernelContext;
  /** The buffer bound to operand i / result i. */
  input(i: number): Buffer;
  /** Operand i's buffer, or undefined where the operand is omitted. */
  optional(i: number): Buffer | undefined;
  output(i: number): Buffer;
  /** Dims of a buffer as C++ expressions of the size locals. */
  dims(b: Buffer): string[];
  /** The buffer holding a value of the kernel's graph (an operand or a captured outer value). */
  bufferOf(v: Value): Buffer;
  /** A graph compiled as a model of its own inside this one (a loop body, a branch): its ABI prefix. */
  sub(g: Graph, tag: string): string;
}

/** The buffers an extern kernel function takes, each once (a value may feed several operands). */
export function externBuffers(k: ExternKernel): string[] {
  return [...new Set([...k.inputs, ...k.outputs])];
}

/** The extern kernel's one node, or an E_UNSUPPORTED error naming the op. */
export function checkExtern(k: ExternKernel): Node {
  const nodes = k.graph.nodes.filter((n) => n.op !== 'prim.const');
  const node = nodes[0];
  if (nodes.length !== 1 || !node) return fail('E_UNSUPPORTED', `cpu: extern kernel ${k.name} (${k.note ?? 'a subgraph'}) is not supported yet`);
  if (!RENDERERS[node.op] && !SIZED[node.op]) fail('E_UNSUPPORTED', `cpu: ${node.op.replace(/^prim\./, '')} is not supported yet (kernel ${k.name}${k.note ? `, ${k.note}` : ''})`);
  return node;
}

export function renderExtern(k: ExternKernel, ctx: KernelContext): RenderedExtern {
  const node = checkExtern(k);
  // The node's operands are graph inputs, bound in order to the kernel's input buffers.
  const inputIndex = (i: number): number => {
    const v = node.inputs[i] ?? fail('E_UNSUPPORTED', `cpu: ${node.op} with an omitted operand`);
    const j = k.graph.inputs.indexOf(v);
    if (j < 0) fail('E_UNSUPPORTED', `cpu: ${node.op} reads a value made inside its kernel`);
    return j;
  };
  const io: Io = {
    ctx,
    input: (i) => ctx.buffers.get(k.inputs[inputIndex(i)]!)!,
    optional: (i) => (node.inputs[i] ? ctx.buffers.get(k.inputs[inputIndex(i)]!)! : undefined),
    output: (i) => ctx.buffers.get(k.outputs[k.graph.outputs.indexOf(node.outputs[i]!)]!)!,
    dims: (b) => b.shape.map((d: Dim) => sizeCxx(dimExpr(d), ctx)),
    bufferOf: (v) => {
      const j = k.graph.inputs.indexOf(v);
      if (j < 0) fail('E_UNSUPPORTED', `cpu: ${node.op} reads ${v.name ?? 'a value'} that is not an input of its kernel`);
      return ctx.buffers.get(k.inputs[j]!)!;
    },
    sub: (g, tag) => (ctx.subModel ?? fail('E_UNSUPPORTED', `cpu: ${node.op} needs nested models`))(g, `${k.name}_${tag}`),
  };
  const name = `extern_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  for (const n of [...k.inputs, ...k.outputs]) checkDType(ctx.buffers.get(n)!.dtype, `${node.op} operand @${n}`);
  const syms = new Set<string>();
  for (const n of [...k.inputs, ...k.outputs]) for (const d of ctx.buffers.get(n)!.shape) if (typeof d === 'string') for (const s of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) syms.add(s);
  const symLines = [...syms].map((s) => `  [[maybe_unused]] const index_t ${ctx.symbols.get(s)!} = S[${ctx.symbolIndex.get(s)!}];`);
  const param = (n: string, out: boolean): string => `${out ? '' : 'const '}${elementType(ctx.buffers.get(n)!.dtype)}* ${bufferParam(n)}`;
  const sized = SIZED[node.op];
  if (sized) {
    // The inputs' symbols only: the results' sizes are set by compute.
    const inSyms = new Set<string>();
    for (const n of k.inputs) for (const d of ctx.buffers.get(n)!.shape) if (typeof d === 'string') for (const s of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) inSyms.add(s);
    const inLines = [...inSyms].map((s) => `  [[maybe_unused]] const index_t ${ctx.symbols.get(s)!} = S[${ctx.symbolIndex.get(s)!}];`);
    const state = `${name}_state`;
    const r = sized(node, k, io, state);
    const inputs = [...new Set(k.inputs)];
    const outputs = [...new Set(k.outputs)];
    return {
      name,
      sizes: true,
      source: [
        ...r.decl,
        `static void ${name}(${[...inputs.map((n) => param(n, false)), 'index_t* S', 'aic::Status* st'].join(', ')}) {`, '  (void)S; (void)st;', ...inLines, ...r.compute.map((l) => `  ${l}`), '}',
        '',
        `static void ${name}_write(${[...outputs.map((n) => param(n, true)), 'const index_t* S', 'aic::Status* st'].join(', ')}) {`, '  (void)S; (void)st;', ...symLines, ...r.write.map((l) => `  ${l}`), '}',
      ].join('\n'),
    };
  }
  const render = RENDERERS[node.op]!;
  const params = [...externBuffers(k).map((n) => param(n, k.outputs.includes(n))), 'const index_t* S', 'aic::Status* st'];
  const body = render(node, k, io).map((l) => `  ${l}`);
  return { name, source: [`static void ${name}(${params.join(', ')}) {`, '  (void)S; (void)st;', ...symLines, ...body, '}'].join('\n') };
}

function sizeCxx(e: IndexExpr, ctx: KernelContext): string {
  switch (e.kind) {
    case 'const': return String(e.value);
    case 'sym': return ctx.symbols.get(e.name)!;
    case 'add': return `(${e.terms.map((t) => sizeCxx(t, ctx)).join(' + ')})`;
    case 'mul': return e.factors.map((f) => sizeCxx(f, ctx)).join(' * ');
    default: return fail('E_UNSUPPORTED', 'cpu: a size that is not a polynomial of symbols');
  }
}

const product = (xs: readonly string[]): string => (xs.length === 0 ? '1' : xs.map((x) => `static_cast<index_t>(${x})`).join(' * '));

/** ONNX ScatterElements: a copy of data, then each update applied in order at its index along `axis`. */
function scatter(n: Node, _k: ExternKernel, io: Io): string[] {
  const data = io.input(0);
  const idx = io.input(1);
  const upd = io.input(2);
  const out = io.output(0);
  const t = data.dtype;
  const axis = n.int('axis');
  const red = n.str('reduction', 'none');
  const dd = io.dims(data);
  const id = io.dims(idx);
  const rank = dd.length;
  const vt = valueType(t);
  const D = bufferParam(data.name);
  const I = bufferParam(idx.name);
  const U = bufferParam(upd.name);
  const O = bufferParam(out.name);
  const combine = (a: string, b: string): string => {
    switch (red) {
      case 'add': return cxxPrim('add', [a, b], [t, t], t);
      case 'mul': return cxxPrim('mul', [a, b], [t, t], t);
      case 'max': return cxxPrim('max', [a, b], [t, t], t);
      case 'min': return cxxPrim('min', [a, b], [t, t], t);
      default: return b;
    }
  };
  const where = cString(`${n.describe()}: an index is out of range`);
  const lines = [
    `const index_t nd = ${product(dd)};`,
    `if (${O} != ${D}) for (index_t i = 0; i < nd; ++i) ${O}[i] = ${D}[i];`,
    `const index_t dd[${Math.max(1, rank)}] = {${dd.join(', ') || '0'}};`,
    `const index_t id[${Math.max(1, rank)}] = {${id.join(', ') || '0'}};`,
    `const index_t ni = ${product(id)};`,
    `index_t pos[${Math.max(1, rank)}] = {0};`,
    'for (index_t k = 0; k < ni; ++k) {',
    '  if (k > 0) for (int ax = ' + (rank - 1) + '; ax >= 0; --ax) { if (++pos[ax] < id[ax]) break; pos[ax] = 0; }',
    '  index_t dst = 0;',
    '  bool ok = true;',
    `  for (int j = 0; j < ${rank}; ++j) {`,
    `    index_t p = pos[j];`,
    `    if (j == ${axis}) { p = static_cast<index_t>(${I}[k]); if (p < 0) p += dd[j]; if (p < 0 || p >= dd[j]) ok = false; }`,
    '    else if (p >= dd[j]) ok = false;',
    '    dst = dst * dd[j] + p;',
    '  }',
    `  if (!ok) { st->fail(${where}); return; }`,
    `  const ${vt} a = ${fromElement(t, `${O}[dst]`)};`,
    `  const ${vt} b = ${fromElement(t, `${U}[k]`)};`,
    `  (void)a; (void)b;`,
    `  ${O}[dst] = ${toElement(t, combine('a', 'b'))};`,
    '}',
  ];
  return lines;
}

/** The k largest (or smallest) along `axis`, sorted; ties keep the lower index first; NaN ranks last. */
function topk(n: Node, _k: ExternKernel, io: Io): string[] {
  const x = io.input(0);
  const values = io.output(0);
  const indices = io.output(1);
  const t: DType = x.dtype;
  const axis = n.int('axis');
  const kk = n.int('k');
  const largest = n.int('largest', 1) !== 0;
  const dims = io.dims(x);
  const vt = valueType(t);
  const X = bufferParam(x.name);
  const V = bufferParam(values.name);
  const IX = bufferParam(indices.name);
  const float = DTYPE_INFO[t].kind === 'float';
  const isnan = (v: string): string => (float ? `(${v} != ${v})` : 'false');
  return [
    `const index_t dim = ${dims[axis] ?? '1'};`,
    `const index_t outer = ${product(dims.slice(0, axis))};`,
    `const index_t inner = ${product(dims.slice(axis + 1))};`,
    `const index_t K = ${kk};`,
    `if (K > dim) { st->fail(${cString(`${n.describe()}: k = ${kk} is more than the elements along axis ${axis}`)}); return; }`,
    `std::vector<index_t> order(static_cast<std::size_t>(dim));`,
    `std::vector<${vt}> lane(static_cast<std::size_t>(dim));`,
    'for (index_t o = 0; o < outer; ++o) {',
    '  for (index_t i = 0; i < inner; ++i) {',
    '    const index_t base = o * dim * inner + i;',
    `    for (index_t j = 0; j < dim; ++j) { order[j] = j; lane[j] = ${fromElement(t, `${X}[base + j * inner]`)}; }`,
    '    std::stable_sort(order.begin(), order.end(), [&](index_t a, index_t b) {',
    `      const ${vt} va = lane[a], vb = lane[b];`,
    `      const bool an = ${isnan('va')}, bn = ${isnan('vb')};`,
    '      if (an || bn) return !an && bn;',
    `      return ${largest ? 'vb < va' : 'va < vb'};`,
    '    });',
    '    const index_t ob = o * K * inner + i;',
    `    for (index_t j = 0; j < K; ++j) { ${V}[ob + j * inner] = ${toElement(t, 'lane[order[j]]')}; ${IX}[ob + j * inner] = order[j]; }`,
    '  }',
    '}',
  ];
}

/** The bytes of a buffer with a static shape (the structured ops below need them). */
function staticBytes(b: Buffer, what: string): number {
  if (!b.shape.every((d) => typeof d === 'number')) fail('E_UNSUPPORTED', `cpu: ${what} with a symbolic size is not supported yet`);
  return (b.shape as number[]).reduce((x, y) => x * y, 1) * DTYPE_INFO[b.dtype].bytes;
}

/** A body graph as a model of its own: its inputs, then the outer values it reads. */
function standalone(body: Graph, first: readonly Value[]): { graph: Graph; captures: Value[] } {
  const captures = capturedValues(body).filter((v) => !first.includes(v));
  return { graph: new Graph(body.name, [...first, ...captures], body.outputs, body.nodes), captures };
}

/** prim.scan: the body, compiled as a model of its own, run once per element of the scan inputs; states
 * go through two scratch buffers, each y is written straight into its slot of the stacked result. */
function scan(n: Node, _k: ExternKernel, io: Io): string[] {
  const body = n.graph('body');
  const m = n.int('num_scan_inputs');
  const ns = n.inputs.length - m;
  const { graph, captures } = standalone(body, body.inputs);
  const P = io.sub(graph, 'body');
  const states = Array.from({ length: ns }, (_, j) => io.input(j));
  const xs = Array.from({ length: m }, (_, j) => io.input(ns + j));
  const finals = Array.from({ length: ns }, (_, j) => io.output(j));
  const ys = Array.from({ length: body.outputs.length - ns }, (_, j) => io.output(ns + j));
  const T = xs[0]!.shape[0];
  if (typeof T !== 'number') fail('E_UNSUPPORTED', 'cpu: scan over a symbolic length is not supported yet');
  const stepBytes = (b: Buffer): number => (T === 0 ? 0 : staticBytes(b, 'scan') / T);
  const stateBytes = finals.map((b) => staticBytes(b, 'scan state'));
  const capture = captures.map((v) => bufferParam(io.bufferOf(v).name));
  const lines = [
    `static ${P}_t* const body = ${P}_create(nullptr, nullptr);`,
    `if (!body) { st->fail("scan: the body cannot be created"); return; }`,
    ...stateBytes.map((bytes, j) => `static thread_local std::vector<unsigned char> s${j}[2] = {std::vector<unsigned char>(${Math.max(1, bytes)}), std::vector<unsigned char>(${Math.max(1, bytes)})};`),
    `const void* cur[${Math.max(1, ns)}] = {${states.map((b) => bufferParam(b.name)).join(', ') || 'nullptr'}};`,
    `for (index_t t = 0; t < ${T}; ++t) {`,
    `  const void* ins[${Math.max(1, ns + m + captures.length)}] = {${[...states.map((_, j) => `cur[${j}]`),
      ...xs.map((b) => `reinterpret_cast<const unsigned char*>(${bufferParam(b.name)}) + t * ${stepBytes(b)}`), ...capture].join(', ') || 'nullptr'}};`,
    `  void* outs[${Math.max(1, finals.length + ys.length)}] = {${[...finals.map((_, j) => `s${j}[t % 2].data()`),
      ...ys.map((b) => `reinterpret_cast<unsigned char*>(${bufferParam(b.name)}) + t * ${stepBytes(b)}`)].join(', ') || 'nullptr'}};`,
    `  if (${P}_run(body, ins, outs) != 0) { st->fail(${P}_last_error(body)); return; }`,
    ...finals.map((_, j) => `  cur[${j}] = s${j}[t % 2].data();`),
    '}',
    ...finals.map((b, j) => `if (${stateBytes[j]} > 0) std::memcpy(${bufferParam(b.name)}, cur[${j}], ${stateBytes[j]});`),
  ];
  return lines;
}

/** prim.if: both branches compiled as models of their own; the condition picks which one writes the results. */
function ifElse(n: Node, _k: ExternKernel, io: Io): string[] {
  const cond = io.input(0);
  const outs = n.outputs.map((_, i) => io.output(i));
  for (const b of outs) staticBytes(b, 'if');
  const branch = (name: 'then_branch' | 'else_branch', tag: string): { P: string; captures: Value[] } => {
    const { graph, captures } = standalone(n.graph(name), []);
    return { P: io.sub(graph, tag), captures };
  };
  const th = branch('then_branch', 'then');
  const el = branch('else_branch', 'else');
  const call = (b: { P: string; captures: Value[] }, model: string): string[] => [
    `const void* ins[${Math.max(1, b.captures.length)}] = {${b.captures.map((v) => bufferParam(io.bufferOf(v).name)).join(', ') || 'nullptr'}};`,
    `void* outs[${Math.max(1, outs.length)}] = {${outs.map((o) => bufferParam(o.name)).join(', ')}};`,
    `if (${b.P}_run(${model}, ins, outs) != 0) { st->fail(${b.P}_last_error(${model})); return; }`,
  ];
  return [
    `static ${th.P}_t* const then_model = ${th.P}_create(nullptr, nullptr);`,
    `static ${el.P}_t* const else_model = ${el.P}_create(nullptr, nullptr);`,
    `if (!then_model || !else_model) { st->fail("if: a branch cannot be created"); return; }`,
    `if (${fromElement(cond.dtype, `${bufferParam(cond.name)}[0]`)}) {`,
    ...call(th, 'then_model').map((l) => `  ${l}`),
    '} else {',
    ...call(el, 'else_model').map((l) => `  ${l}`),
    '}',
  ];
}

/** prim.nonzero: the flat positions of the nonzero elements (NaN is nonzero), then their indices per axis. */
function nonzero(_n: Node, _k: ExternKernel, io: Io, state: string): SizedOp {
  const x = io.input(0);
  const y = io.output(0);
  const shape = x.shape.length === 0 ? ['1'] : io.dims(x);
  const count = y.shape[1]!;
  if (typeof count !== 'string') fail('E_VERIFY', 'nonzero: the count is not a symbol');
  const k = io.ctx.symbolIndex.get(count)!;
  const X = bufferParam(x.name);
  return {
    decl: [`thread_local std::vector<index_t> ${state};`],
    compute: [
      `${state}.clear();`,
      `const index_t n = ${product(shape)};`,
      `for (index_t i = 0; i < n; ++i) if (${fromElement(x.dtype, `${X}[i]`)} != ${x.dtype === 'bool' ? 'false' : '0'}) ${state}.push_back(i);`,
      `S[${k}] = static_cast<index_t>(${state}.size());`,
    ],
    write: [
      `const index_t count = static_cast<index_t>(${state}.size());`,
      `const index_t shape[${shape.length}] = {${shape.join(', ')}};`,
      `for (index_t c = 0; c < count; ++c) {`,
      `  index_t flat = ${state}[static_cast<std::size_t>(c)];`,
      `  for (int ax = ${shape.length - 1}; ax >= 0; --ax) { ${bufferParam(y.name)}[ax * count + c] = flat % shape[ax]; flat /= shape[ax]; }`,
      '}',
    ],
  };
}

/** prim.unique: slices along `axis` (or elements) grouped by value (NaN equals NaN, -0 equals 0), sorted
 * ascending (NaN last) or in order of first occurrence; Y, first indices, inverse indices, counts. */
function unique(n: Node, _k: ExternKernel, io: Io, state: string): SizedOp {
  const x = io.input(0);
  const [y, first, inverse, counts] = [0, 1, 2, 3].map((i) => io.output(i)) as [Buffer, Buffer, Buffer, Buffer];
  const hasAxis = n.has('axis');
  const axis = hasAxis ? n.int('axis') : 0;
  const dims = hasAxis ? io.dims(x) : [product(io.dims(x))];
  const t = x.dtype;
  const vt = valueType(t);
  const X = bufferParam(x.name);
  const float = DTYPE_INFO[t].kind === 'float';
  const u = y.shape[axis]!;
  if (typeof u !== 'string') fail('E_VERIFY', 'unique: the count is not a symbol');
  const k = io.ctx.symbolIndex.get(u)!;
  const cmp = float
    ? 'const bool an = a != a, bn = b != b; if (an || bn) return an == bn ? 0 : (an ? 1 : -1); return a < b ? -1 : (a > b ? 1 : 0);'
    : 'return a < b ? -1 : (a > b ? 1 : 0);';
  return {
    decl: [
      `struct ${state}_t { std::vector<index_t> first, count, group, rank, order; std::vector<${elementType(t)}> data; index_t dim = 0, outer = 0, inner = 0; };`,
      `thread_local ${state}_t ${state};`,
    ],
    compute: [
      `const index_t dim = ${dims[axis]};`,
      `const index_t outer = ${product(dims.slice(0, axis))};`,
      `const index_t inner = ${product(dims.slice(axis + 1))};`,
      `auto at = [&](index_t s, index_t o, index_t i) -> ${vt} { return ${fromElement(t, `${X}[(o * dim + s) * inner + i]`)}; };`,
      `auto cmp1 = [](${vt} a, ${vt} b) -> int { ${cmp} };`,
      'auto cmp = [&](index_t p, index_t q) -> int {',
      '  for (index_t o = 0; o < outer; ++o) for (index_t i = 0; i < inner; ++i) { const int c = cmp1(at(p, o, i), at(q, o, i)); if (c != 0) return c; }',
      '  return 0;',
      '};',
      `std::vector<index_t> order(static_cast<std::size_t>(dim));`,
      'for (index_t s = 0; s < dim; ++s) order[static_cast<std::size_t>(s)] = s;',
      'std::stable_sort(order.begin(), order.end(), [&](index_t p, index_t q) { return cmp(p, q) < 0; });',
      '// Groups of equal slices, in sorted order: the first of each is its first occurrence (the sort is stable).',
      `auto& g = ${state};`,
      'g.first.clear(); g.count.clear(); g.group.assign(static_cast<std::size_t>(dim), 0);',
      'for (std::size_t j = 0; j < order.size(); ++j) {',
      '  if (j == 0 || cmp(order[j - 1], order[j]) != 0) { g.first.push_back(order[j]); g.count.push_back(0); }',
      '  g.count.back()++;',
      '  g.group[static_cast<std::size_t>(order[j])] = static_cast<index_t>(g.first.size() - 1);',
      '}',
      'g.rank.resize(g.first.size());',
      'std::vector<index_t> ord(g.first.size());',
      'for (std::size_t j = 0; j < ord.size(); ++j) ord[j] = static_cast<index_t>(j);',
      ...(n.int('sorted', 1) !== 0 ? [] : ['std::stable_sort(ord.begin(), ord.end(), [&](index_t p, index_t q) { return g.first[static_cast<std::size_t>(p)] < g.first[static_cast<std::size_t>(q)]; });']),
      'g.order = ord;',
      'for (std::size_t r = 0; r < ord.size(); ++r) g.rank[static_cast<std::size_t>(ord[r])] = static_cast<index_t>(r);',
      'g.dim = dim; g.outer = outer; g.inner = inner;',
      `g.data.assign(${X}, ${X} + dim * outer * inner);`,
      `S[${k}] = static_cast<index_t>(g.first.size());`,
    ],
    write: [
      `auto& g = ${state};`,
      'const index_t nU = static_cast<index_t>(g.first.size());',
      'for (index_t r = 0; r < nU; ++r) {',
      '  const index_t grp = g.order[static_cast<std::size_t>(r)];',
      '  const index_t s = g.first[static_cast<std::size_t>(grp)];',
      `  for (index_t o = 0; o < g.outer; ++o) for (index_t i = 0; i < g.inner; ++i) ${bufferParam(y.name)}[(o * nU + r) * g.inner + i] = g.data[static_cast<std::size_t>((o * g.dim + s) * g.inner + i)];`,
      `  ${bufferParam(first.name)}[r] = s;`,
      `  ${bufferParam(counts.name)}[r] = g.count[static_cast<std::size_t>(grp)];`,
      '}',
      `for (index_t s = 0; s < g.dim; ++s) ${bufferParam(inverse.name)}[s] = g.rank[static_cast<std::size_t>(g.group[static_cast<std::size_t>(s)])];`,
    ],
  };
}

/** prim.loop: the body, compiled as a model of its own, run while i < the trip count and the condition
 * holds; carried values go through two scratch buffers, scan values are appended, and their count (the trip
 * count, which the data decides) is set when the loop has run. Carried values and scan elements must have
 * static shapes. */
function loop(n: Node, _k: ExternKernel, io: Io, state: string): SizedOp {
  const body = n.graph('body');
  const nc = n.inputs.length - 2;
  const ns = body.outputs.length - 1 - nc;
  const { graph, captures } = standalone(body, body.inputs);
  const P = io.sub(graph, 'body');
  const trip = io.optional(0);
  const cond = io.optional(1);
  const carried = Array.from({ length: nc }, (_, j) => io.input(2 + j));
  const finals = Array.from({ length: nc }, (_, j) => io.output(j));
  const scans = Array.from({ length: ns }, (_, j) => io.output(nc + j));
  const carriedBytes = finals.map((b) => staticBytes(b, 'a loop-carried value'));
  const elemBytes = body.outputs.slice(nc + 1).map((v) => {
    if (!v.shape.every((d) => typeof d === 'number')) fail('E_UNSUPPORTED', 'cpu: a loop whose scan values have a symbolic size is not supported yet');
    return (v.shape as number[]).reduce((a, b) => a * b, 1) * DTYPE_INFO[v.dtype].bytes;
  });
  const tripSym = scans[0]?.shape[0];
  const tripIndex = typeof tripSym === 'string' ? io.ctx.symbolIndex.get(tripSym) : undefined;
  const capture = captures.map((v) => `reinterpret_cast<const void*>(${bufferParam(io.bufferOf(v).name)})`);
  return {
    decl: [`struct ${state}_t { std::vector<unsigned char> carried[${Math.max(1, nc)}][2]; std::vector<unsigned char> scan[${Math.max(1, ns)}]; std::vector<unsigned char> elem[${Math.max(1, ns)}]; const void* cur[${Math.max(1, nc)}]; };`,
      `thread_local ${state}_t ${state};`],
    compute: [
      `static ${P}_t* const body = ${P}_create(nullptr, nullptr);`,
      'if (!body) { st->fail("loop: the body cannot be created"); return; }',
      `auto& g = ${state};`,
      ...carriedBytes.map((b, j) => `g.carried[${j}][0].resize(${Math.max(1, b)}); g.carried[${j}][1].resize(${Math.max(1, b)});`),
      ...elemBytes.map((b, j) => `g.scan[${j}].clear(); g.elem[${j}].resize(${Math.max(1, b)});`),
      ...carried.map((b, j) => `g.cur[${j}] = ${bufferParam(b.name)};`),
      `const std::int64_t max = ${trip ? `${bufferParam(trip.name)}[0]` : 'INT64_MAX'};`,
      `bool c = ${cond ? `${bufferParam(cond.name)}[0] != 0` : 'true'};`,
      'std::int64_t it = 0;',
      'for (; it < max && c; ++it) {',
      '  std::int64_t iv = it;',
      '  std::uint8_t cin = c ? 1 : 0, cout = 0;',
      `  const void* ins[${2 + nc + captures.length}] = {${['&iv', '&cin', ...carried.map((_, j) => `g.cur[${j}]`), ...capture].join(', ')}};`,
      `  void* outs[${1 + nc + ns}] = {${['&cout', ...carried.map((_, j) => `g.carried[${j}][it % 2].data()`), ...scans.map((_, j) => `g.elem[${j}].data()`)].join(', ')}};`,
      `  if (${P}_run(body, ins, outs) != 0) { st->fail(${P}_last_error(body)); return; }`,
      '  c = cout != 0;',
      ...carried.map((_, j) => `  g.cur[${j}] = g.carried[${j}][it % 2].data();`),
      ...elemBytes.map((b, j) => `  g.scan[${j}].insert(g.scan[${j}].end(), g.elem[${j}].begin(), g.elem[${j}].begin() + ${b});`),
      '}',
      ...(tripIndex !== undefined ? [`S[${tripIndex}] = static_cast<index_t>(it);`] : ['(void)it;']),
    ],
    write: [
      `auto& g = ${state};`,
      ...finals.map((b, j) => `if (${carriedBytes[j]} > 0) std::memcpy(${bufferParam(b.name)}, g.cur[${j}], ${carriedBytes[j]});`),
      ...scans.map((b, j) => `if (!g.scan[${j}].empty()) std::memcpy(${bufferParam(b.name)}, g.scan[${j}].data(), g.scan[${j}].size());`),
    ],
  };
}
