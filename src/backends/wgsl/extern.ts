// Extern kernels the WGSL backend renders itself. prim.scatter (ONNX ScatterElements, and what ScatterND,
// Col2Im and MaxUnpool lower to) becomes two dispatches: a parallel copy of data into the result, then the
// updates applied in order by a single invocation, so duplicate indices combine exactly as the reference
// does (last write wins for reduction none; add/mul/max/min accumulate in order). Every other extern kernel
// (If/Loop/Scan, TopK, NonZero, Unique) is refused by name.
import { DTYPE_INFO } from '../../ir/dtype.js';
import { fail } from '../../ir/error.js';
import { stridesOf, type Dim } from '../../ir/shape.js';
import type { ExternKernel } from '../../kernel/kernel.js';
import type { Access, BindingInfo, KernelShader, RenderContext } from './render.js';
import { fromWord, helperSource, Spelling, toWord, valueType, wordsPer } from './spelling.js';

const COMBINE: Record<string, string> = { add: 'add', mul: 'mul', max: 'max', min: 'min' };

/** Shaders for an extern kernel, or E_UNSUPPORTED naming its op. */
export function renderExtern(k: ExternKernel, ctx: RenderContext): KernelShader[] {
  const node = k.graph.nodes[0];
  if (k.graph.nodes.length === 1 && node?.op === 'prim.scatter') return renderScatter(k, ctx);
  const op = node?.op ?? k.graph.name;
  return fail('E_UNSUPPORTED', `wgsl: kernel ${k.name} runs ${op} (${k.note ?? 'an extern kernel'}), which is not a loop nest; the WGSL backend cannot run it yet`);
}

const staticShape = (s: readonly Dim[], what: string): number[] =>
  s.map((d) => (typeof d === 'number' ? d : fail('E_UNSUPPORTED', `wgsl: ${what} has a symbolic shape`)));

function renderScatter(k: ExternKernel, ctx: RenderContext): KernelShader[] {
  const node = k.graph.nodes[0]!;
  const [dataName, idxName, updName] = k.inputs as [string, string, string];
  const outName = k.outputs[0]!;
  const buf = (name: string): NonNullable<ReturnType<typeof ctx.buffers.get>> => ctx.buffers.get(name) ?? fail('E_VERIFY', `wgsl: kernel ${k.name}: no buffer @${name}`);
  const [data, indices] = [buf(dataName), buf(idxName)];
  const place = (name: string) => ctx.layout.placement.get(name) ?? fail('E_VERIFY', `wgsl: kernel ${k.name}: buffer @${name} has no place`);
  const shape = staticShape(data.shape, `kernel ${k.name}`);
  const ishape = staticShape(indices.shape, `kernel ${k.name}`);
  const axis = node.int('axis');
  const reduction = node.str('reduction', 'none');
  const t = data.dtype;
  const sp = new Spelling();

  /** Segment bindings for the buffers a shader touches. */
  const bind = (uses: [string, Access][], status: boolean): { decls: string[]; bindings: BindingInfo[] } => {
    const access = new Map<string, Access>();
    for (const [name, a] of uses) {
      const seg = place(name).segment;
      if (access.get(seg) !== 'read_write') access.set(seg, a);
    }
    const decls: string[] = [];
    const bindings: BindingInfo[] = [];
    for (const s of ctx.layout.segments) {
      const a = access.get(s.name);
      if (!a) continue;
      decls.push(`@group(0) @binding(${bindings.length}) var<storage, ${a}> ${s.name}: array<u32>;`);
      bindings.push({ binding: bindings.length, segment: s.name, access: a });
    }
    if (status) {
      decls.push(`@group(0) @binding(${bindings.length}) var<storage, read_write> status: array<atomic<u32>>;`);
      bindings.push({ binding: bindings.length, segment: 'status', access: 'read_write' });
    }
    return { decls, bindings };
  };
  const at = (name: string, index: string): { seg: string; addr: string } => {
    const p = place(name);
    const b = buf(name);
    return { seg: p.segment, addr: `${p.offset}u + ${wordsPer(b.dtype) === 2 ? `2u * (${index})` : index}` };
  };
  const load = (name: string, index: string): string => {
    const { seg, addr } = at(name, index);
    const b = buf(name);
    return wordsPer(b.dtype) === 2 ? fromWord(b.dtype, `${seg}[${addr}]`, `${seg}[${addr} + 1u]`) : fromWord(b.dtype, `${seg}[${addr}]`);
  };
  const store = (name: string, index: string, v: string): string => {
    const { seg, addr } = at(name, index);
    const b = buf(name);
    return wordsPer(b.dtype) === 2 ? `${seg}[${addr}] = ${v}.x; ${seg}[${addr} + 1u] = ${v}.y;` : `${seg}[${addr}] = ${toWord(b.dtype, v)};`;
  };

  const words = place(outName).words;
  const copy = bind([[dataName, 'read'], [outName, 'read_write']], false);
  const copyCode = [
    `// aic wgsl kernel ${k.name} (1 of 2): ${k.note ?? 'prim.scatter'}: data copied into the result`,
    ...copy.decls,
    'override WG: u32 = 64u;',
    '@compute @workgroup_size(WG)',
    'fn main(@builtin(global_invocation_id) gid3: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {',
    '  let gid = gid3.x + (gid3.y + gid3.z * nwg.y) * nwg.x * WG;',
    `  if (gid >= ${words}u) { return; }`,
    `  ${place(outName).segment}[${place(outName).offset}u + gid] = ${place(dataName).segment}[${place(dataName).offset}u + gid];`,
    '}',
  ].join('\n');

  ctx.checks.push(`${node.describe()}: an index is out of range for a dim of ${shape[axis]}`);
  const check = ctx.checks.length;
  const strides = stridesOf(shape);
  const total = ishape.reduce((p, d) => p * d, 1);
  const idxT = indices.dtype;
  const j = valueType(idxT) === 'vec2<u32>' ? sp.call(idxT === 'i64' ? 'i64_to_index' : 'u64_to_index', load(idxName, 'k')) : valueType(idxT) === 'u32' ? `i32(${load(idxName, 'k')})` : load(idxName, 'k');
  const pos: string[] = [];
  let rest = 'k';
  for (let d = ishape.length - 1; d >= 0; d--) {
    pos[d] = d === 0 ? rest : `(${rest} % ${ishape[d]}u)`;
    rest = `(${rest} / ${ishape[d]}u)`;
  }
  const dst = shape.map((_, d) => `${d === axis ? 'u32(p)' : pos[d]} * ${strides[d]}u`).join(' + ') || '0u';
  const a = load(outName, 'dst');
  const b = load(updName, 'k');
  const v = reduction === 'none' ? b : sp.prim(COMBINE[reduction] ?? fail('E_UNSUPPORTED', `wgsl: scatter reduction ${reduction}`), [a, b], [t, t], t);
  const apply = bind([[idxName, 'read'], [updName, 'read'], [outName, 'read_write']], true);
  const applyCode = [
    `// aic wgsl kernel ${k.name} (2 of 2): ${k.note ?? 'prim.scatter'}: ${total} updates along axis ${axis}, in order (reduction ${reduction})`,
    ...apply.decls,
    ...(sp.used.size > 0 ? [helperSource(sp.used)] : []),
    '@compute @workgroup_size(1)',
    'fn main() {',
    `  for (var k = 0u; k < ${total}u; k++) {`,
    `    var p = ${j};`,
    `    if (p < 0i) { p = p + ${shape[axis]}i; }`,
    `    if (p < 0i || p >= ${shape[axis]}i) { atomicMax(&status[0], ${check}u); return; }`,
    `    let dst = ${dst};`,
    `    let v: ${valueType(t)} = ${v};`,
    `    ${store(outName, 'dst', 'v')}`,
    '  }',
    '}',
  ].join('\n');
  if (DTYPE_INFO[t].big && reduction !== 'none' && reduction !== 'add' && reduction !== 'max' && reduction !== 'min' && reduction !== 'mul') fail('E_UNSUPPORTED', `wgsl: scatter reduction ${reduction} on ${t}`);
  return [
    { name: `${k.name}_copy`, note: `${k.note ?? 'prim.scatter'} (copy)`, code: `${copyCode}\n`, bindings: copy.bindings, dispatch: { kind: 'threads', count: words } },
    { name: k.name, ...(k.note !== undefined ? { note: k.note } : {}), code: `${applyCode}\n`, bindings: apply.bindings, dispatch: { kind: 'groups', count: total > 0 ? 1 : 0 }, workgroupSize: 1 },
  ];
}
