// views: fold chains of movement ops. Two reshapes are one reshape, two permutes one permute, two
// broadcasts one broadcast, two static slices one slice, and a permute that only moves size-1 dims is
// a reshape (which the scheduler reads for free).
//
//   %a = prim.permute(%x) {perm=[1,0,2]} : f32[3,2,4]
//   %b = prim.permute(%a) {perm=[2,1,0]} : f32[4,2,3]
//   %c = prim.reshape(%b) : f32[8,3]
//   %d = prim.reshape(%c) : f32[24]
// becomes
//   %b = prim.permute(%x) {perm=[2,0,1]} : f32[4,2,3]
//   %d = prim.reshape(%b) : f32[24]
import { A } from '../ir/attr.js';
import type { Node } from '../ir/graph.js';
import { sliceAxis } from '../ir/prims/movement.js';
import { registerPass } from './pass.js';
import { rewriteGraph, type Candidate, type Rule } from './rewrite.js';

const inner = (c: Candidate, op: string): Node | undefined => {
  const p = c.inputs[0]?.producer;
  return p && p.op === op ? p : undefined;
};

const intsAttr = (c: Candidate, name: string): readonly number[] => {
  const a = c.attrs[name];
  return a?.kind === 'ints' ? a.value : [];
};

export const VIEW_RULES: readonly Rule[] = [
  { name: 'reshape-reshape', ops: ['prim.reshape'], apply: (c, b) => { const p = inner(c, 'prim.reshape'); return p ? b.reshape(p.input(0), c.type.shape) : undefined; } },
  { name: 'broadcast-broadcast', ops: ['prim.broadcast'], apply: (c, b) => { const p = inner(c, 'prim.broadcast'); return p ? b.broadcast(p.input(0), c.type.shape) : undefined; } },
  {
    name: 'permute-permute', ops: ['prim.permute'], apply(c, b) {
      const p = inner(c, 'prim.permute');
      if (!p) return undefined;
      const first = p.ints('perm');
      return b.permute(p.input(0), intsAttr(c, 'perm').map((q) => first[q]!));
    },
  },
  {
    // A permute that keeps the order of the dims larger than 1 moves no data.
    name: 'permute-as-reshape', ops: ['prim.permute'], apply(c, b) {
      const x = c.inputs[0]!;
      const moved = intsAttr(c, 'perm').filter((p) => x.shape[p] !== 1);
      return moved.every((p, i) => i === 0 || p > moved[i - 1]!) ? b.reshape(x, c.type.shape) : undefined;
    },
  },
  {
    name: 'slice-slice', ops: ['prim.slice'], apply(c, b) {
      const p = inner(c, 'prim.slice');
      const x = p?.input(0);
      if (!p || !x || !x.shape.every((d) => typeof d === 'number')) return undefined;
      const dims = x.shape as number[];
      // Per axis: the original start, step and length after the first slice, then after the second.
      const start = dims.map(() => 0);
      const step = dims.map(() => 1);
      const len = [...dims];
      const apply = (axes: readonly number[], starts: readonly number[], stops: readonly number[], steps: readonly number[]): void => {
        axes.forEach((a, i) => {
          const r = sliceAxis(len[a]!, starts[i]!, stops[i]!, steps[i]!);
          start[a] = start[a]! + r.start * step[a]!;
          step[a] = step[a]! * steps[i]!;
          len[a] = r.len;
        });
      };
      apply(p.ints('axes'), p.ints('starts'), p.ints('stops'), p.ints('steps'));
      apply(intsAttr(c, 'axes'), intsAttr(c, 'starts'), intsAttr(c, 'stops'), intsAttr(c, 'steps'));
      const axes = dims.map((_, i) => i).filter((i) => !(start[i] === 0 && step[i] === 1 && len[i] === dims[i]));
      const stops = axes.map((a) => {
        if (len[a] === 0) return start[a]!;
        const last = start[a]! + (len[a]! - 1) * step[a]!;
        const stop = step[a]! > 0 ? last + 1 : last - 1;
        return stop < 0 ? -dims[a]! - 1 : stop; // -1 would count from the end
      });
      return b.op1('prim.slice', [x], {
        axes: A.ints(axes), starts: A.ints(axes.map((a) => start[a]!)), stops: A.ints(stops), steps: A.ints(axes.map((a) => step[a]!)),
      });
    },
  },
];

export const viewsPass = registerPass({
  name: 'views',
  description: 'fold chains of movement ops (reshape∘reshape, permute∘permute, slice∘slice, …)',
  run: (g) => rewriteGraph(g, VIEW_RULES).graph,
});
