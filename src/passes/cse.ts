// cse: common-subexpression elimination by structural hashing. Two nodes with the same op, the same
// operands, equal attributes (constants compared by content) and the same result types compute the
// same values; the later one is dropped and its uses read the first.
//
//   %a = prim.exp(%x) : f32[4]
//   %b = prim.exp(%x) : f32[4]
//   %y = prim.add(%a, %b) : f32[4]
// becomes
//   %a = prim.exp(%x) : f32[4]
//   %y = prim.add(%a, %a) : f32[4]
import { subgraphsOf, type Graph, type Node, type Value } from '../ir/graph.js';
import type { Attr } from '../ir/attr.js';
import { getOp } from '../ir/op.js';
import { printAttr, printType } from '../ir/printer.js';
import { toBytes } from '../ir/prims/select.js';
import { registerPass } from './pass.js';

export const csePass = registerPass({
  name: 'cse',
  description: 'merge nodes that compute the same thing (structural hashing)',
  run(g) {
    const replaced = new Map<Value, Value>();
    dedupe(g, replaced);
    return g;
  },
});

function dedupe(g: Graph, replaced: Map<Value, Value>): void {
  const seen = new Map<string, Node>();
  const ids = new Map<Value, number>();
  const idOf = (v: Value): number => {
    let id = ids.get(v);
    if (id === undefined) ids.set(v, (id = ids.size));
    return id;
  };
  const kept: Node[] = [];
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((v) => (v ? replaced.get(v) ?? v : null));
    const subs = subgraphsOf(n);
    for (const sub of subs) dedupe(sub, replaced);
    if (subs.length > 0 || getOp(n.op).impure) {
      kept.push(n);
      continue;
    }
    const key = `${n.op}(${n.inputs.map((v) => (v ? idOf(v) : '_')).join(',')}){${attrKey(n)}}:${n.outputs.map((o) => printType(o.type)).join(',')}`;
    const first = seen.get(key);
    if (first && sameConstants(first, n)) {
      n.outputs.forEach((o, i) => replaced.set(o, first.outputs[i]!));
      continue;
    }
    seen.set(key, n);
    kept.push(n);
  }
  g.nodes = kept;
  g.outputs = g.outputs.map((v) => replaced.get(v) ?? v);
}

/** Hashes can collide: constants are compared byte for byte before two nodes are merged. */
function sameConstants(a: Node, b: Node): boolean {
  for (const [k, x] of Object.entries(a.attrs)) {
    const y = b.attrs[k];
    if (x.kind !== 'tensor' || y?.kind !== 'tensor') continue;
    const p = toBytes(x.value);
    const q = toBytes(y.value);
    if (p.length !== q.length || p.some((v, i) => v !== q[i])) return false;
  }
  return true;
}

function attrKey(n: Node): string {
  return Object.keys(n.attrs).sort().map((k) => `${k}=${attrText(n.attrs[k]!)}`).join(',');
}

function attrText(a: Attr): string {
  if (a.kind !== 'tensor') return printAttr(a);
  const t = a.value;
  return `${t.dtype}[${t.shape.join(',')}]#${fnv1a(toBytes(t))}`;
}

/** FNV-1a over the bytes: equal constants hash equal; the key also carries dtype and shape. */
function fnv1a(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i]!, 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i]!, 0x5bd1e995);
  }
  return `${(h1 >>> 0).toString(16)}${(h2 >>> 0).toString(16)}:${bytes.length}`;
}
