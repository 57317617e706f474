// Extern kernels in C++: the ops that are not loop nests. The simple ones are written here with the
// semantics of their prims (src/ir/prims/indexing.ts scatter, structured.ts topk); the rest (If, Loop,
// Scan, NonZero, Unique) are refused with the op named, never run wrong.
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import type { Node } from '../../ir/graph.js';
import { dimExpr, type IndexExpr } from '../../kernel/index-expr.js';
import type { ExternKernel } from '../../kernel/kernel.js';
import type { Buffer } from '../../kernel/program.js';
import type { Dim } from '../../ir/shape.js';
import { bufferParam, cString, type KernelContext } from './kernel.js';
import { checkDType, cxxPrim, elementType, fromElement, toElement, valueType } from './spelling.js';

export interface RenderedExtern {
  readonly name: string;
  readonly source: string;
}

const RENDERERS: Record<string, (n: Node, k: ExternKernel, io: Io) => string[]> = {
  'prim.scatter': scatter,
  'prim.topk': topk,
};

/** The ops the CPU backend runs as extern kernels. */
export const EXTERN_OPS: readonly string[] = Object.keys(RENDERERS);

interface Io {
  readonly ctx: KernelContext;
  /** The buffer bound to operand i / result i. */
  input(i: number): Buffer;
  output(i: number): Buffer;
  /** Dims of a buffer as C++ expressions of the size locals. */
  dims(b: Buffer): string[];
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
  if (!RENDERERS[node.op]) fail('E_UNSUPPORTED', `cpu: ${node.op.replace(/^prim\./, '')} is not supported yet (kernel ${k.name}${k.note ? `, ${k.note}` : ''})`);
  return node;
}

export function renderExtern(k: ExternKernel, ctx: KernelContext): RenderedExtern {
  const node = checkExtern(k);
  const render = RENDERERS[node.op]!;
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
    output: (i) => ctx.buffers.get(k.outputs[k.graph.outputs.indexOf(node.outputs[i]!)]!)!,
    dims: (b) => b.shape.map((d: Dim) => sizeCxx(dimExpr(d), ctx)),
  };
  const name = `extern_${k.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const params = [...externBuffers(k).map((n) => `${k.outputs.includes(n) ? '' : 'const '}${elementType(ctx.buffers.get(n)!.dtype)}* ${bufferParam(n)}`), 'const index_t* S', 'aic::Status* st'];
  for (const n of [...k.inputs, ...k.outputs]) checkDType(ctx.buffers.get(n)!.dtype, `${node.op} operand @${n}`);
  const syms = new Set<string>();
  for (const n of [...k.inputs, ...k.outputs]) for (const d of ctx.buffers.get(n)!.shape) if (typeof d === 'string') for (const s of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) syms.add(s);
  const symLines = [...syms].map((s) => `  [[maybe_unused]] const index_t ${ctx.symbols.get(s)!} = S[${ctx.symbolIndex.get(s)!}];`);
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
