// memory-plan: place every temp of a Program at a byte offset of one arena. Inputs, outputs and weights
// live outside it, as do temps whose size is symbolic (allocated when the program runs).
//
//   liveness   each temp lives from the kernel that writes it to the last kernel that reads it;
//   in place   a pointwise kernel (no stages) whose store index is the index at which it loads a temp of
//              the same size that dies in that kernel writes over it: element i is read before it is written;
//   offsets    slots (temps, in-place chains merged) are placed largest first, each in the smallest gap left
//              by the slots it is live with (best fit), every offset a multiple of 64 bytes.
//
// It reports three numbers: the arena, the naive sum of all temps, and the lower bound (the most bytes live
// at any one kernel), all counting each temp rounded up to the alignment.
import { fail } from '../ir/error.js';
import { printIndex } from '../kernel/index-expr.js';
import { allStmts, hasStages, kernelReads, kernelWrites, type Kernel } from '../kernel/kernel.js';
import { ALIGNMENT, alignUp, bufferBytes, type Buffer, type Program } from '../kernel/program.js';

export interface TempLife {
  readonly name: string;
  /** Bytes, rounded up to the alignment. */
  readonly bytes: number;
  /** Index of the kernel that writes it, and of the last that reads it. */
  readonly first: number;
  readonly last: number;
  readonly offset: number;
}

export interface ArenaPlan {
  readonly arenaBytes: number;
  /** Every temp in a buffer of its own. */
  readonly naiveBytes: number;
  /** The most bytes live at once (in-place pairs counted once): no plan of these slots is smaller. */
  readonly lowerBoundBytes: number;
  readonly temps: readonly TempLife[];
  /** [written, overwritten]: a kernel writes the first over the second, which dies there. */
  readonly inPlace: readonly (readonly [string, string])[];
}

export interface MemoryPlanOptions {
  /** Let pointwise kernels write over an operand that dies there (default true). */
  inPlace?: boolean;
}

/** The Program with arena offsets, and the plan's numbers. */
export function planMemory(p: Program, opts: MemoryPlanOptions = {}): { program: Program; plan: ArenaPlan } {
  const temps = p.buffers.filter((b) => b.role === 'temp' && bufferBytes(b) !== undefined);
  const index = new Map(temps.map((b, i) => [b.name, i]));
  const first = new Array<number>(temps.length).fill(-1);
  const last = new Array<number>(temps.length).fill(-1);
  p.kernels.forEach((k, t) => {
    for (const b of kernelWrites(k)) {
      const i = index.get(b);
      if (i !== undefined && first[i] === -1) first[i] = t;
    }
    for (const b of kernelReads(k)) {
      const i = index.get(b);
      if (i !== undefined) last[i] = Math.max(last[i]!, t);
    }
  });
  temps.forEach((b, i) => {
    if (first[i] === -1) {
      // An empty temp's kernel has nothing to store.
      if (bufferBytes(b) !== 0) fail('E_VERIFY', `memory plan: temp @${b.name} is never written`);
      first[i] = Math.max(0, last[i]!);
    }
    if (last[i]! < first[i]!) last[i] = first[i]!;
  });
  const bytes = temps.map((b) => alignUp(bufferBytes(b)!));

  // In-place chains: slot[i] is the representative temp whose memory temp i shares.
  const slot = temps.map((_, i) => i);
  const find = (i: number): number => (slot[i] === i ? i : (slot[i] = find(slot[i]!)));
  const inPlace: [string, string][] = [];
  if (opts.inPlace ?? true) {
    const slotLast = [...last];
    p.kernels.forEach((k, t) => {
      const pair = inPlaceCandidate(k, t, temps, index, first, slotLast, find);
      if (!pair) return;
      const [o, i] = pair;
      const root = find(i);
      slot[o] = root;
      slotLast[root] = Math.max(slotLast[root]!, last[o]!);
      inPlace.push([temps[o]!.name, temps[i]!.name]);
    });
  }

  // Slots: merged intervals.
  const slots = new Map<number, { members: number[]; first: number; last: number; bytes: number }>();
  temps.forEach((_, i) => {
    const r = find(i);
    const s = slots.get(r) ?? { members: [], first: Infinity, last: -Infinity, bytes: 0 };
    s.members.push(i);
    s.first = Math.min(s.first, first[i]!);
    s.last = Math.max(s.last, last[i]!);
    s.bytes = Math.max(s.bytes, bytes[i]!);
    slots.set(r, s);
  });
  const slotList = [...slots.values()];
  const lowerBound = peakLive(slotList, p.kernels.length);
  // Greedy by size is usually best; by first use or by duration sometimes wins. Keep the smallest arena.
  const orders: ((a: Slot, b: Slot) => number)[] = [
    (a, b) => b.bytes - a.bytes || a.first - b.first,
    (a, b) => b.bytes * (b.last - b.first + 1) - a.bytes * (a.last - a.first + 1) || b.bytes - a.bytes,
    (a, b) => a.first - b.first || b.bytes - a.bytes,
  ];
  let best: Map<Slot, number> | undefined;
  let bestSize = Infinity;
  for (const order of orders) {
    const placed = placeSlots([...slotList].sort(order));
    const size = Math.max(0, ...slotList.map((s) => placed.get(s)! + s.bytes));
    if (size < bestSize) {
      best = placed;
      bestSize = size;
    }
  }
  const offsetOf = new Map<string, number>();
  for (const s of slotList) for (const m of s.members) offsetOf.set(temps[m]!.name, best!.get(s)!);
  const arenaBytes = slotList.length === 0 ? 0 : bestSize;
  const buffers: Buffer[] = p.buffers.map((b) => {
    const off = offsetOf.get(b.name);
    if (off === undefined) {
      if (b.offset === undefined) return b;
      const { offset: _drop, ...rest } = b;
      return rest;
    }
    return { ...b, offset: off };
  });
  const plan: ArenaPlan = {
    arenaBytes,
    naiveBytes: bytes.reduce((a, b) => a + b, 0),
    lowerBoundBytes: lowerBound,
    temps: temps.map((b, i) => ({ name: b.name, bytes: bytes[i]!, first: first[i]!, last: last[i]!, offset: offsetOf.get(b.name)! })),
    inPlace,
  };
  return { program: { ...p, buffers, arenaBytes }, plan };
}

interface Slot {
  readonly members: number[];
  readonly first: number;
  readonly last: number;
  readonly bytes: number;
}

/** Best fit: each slot in the smallest gap among the already placed slots it is live with. */
function placeSlots(order: readonly Slot[]): Map<Slot, number> {
  const placed: { slot: Slot; offset: number }[] = [];
  const out = new Map<Slot, number>();
  for (const s of order) {
    const busy = placed
      .filter((q) => q.slot.first <= s.last && s.first <= q.slot.last)
      .map((q) => ({ start: q.offset, end: q.offset + q.slot.bytes }))
      .sort((a, b) => a.start - b.start);
    let bestOffset = -1;
    let bestGap = Infinity;
    let cursor = 0;
    for (const r of busy) {
      const gap = r.start - cursor;
      if (gap >= s.bytes && gap < bestGap) {
        bestGap = gap;
        bestOffset = cursor;
      }
      cursor = Math.max(cursor, r.end);
    }
    const offset = bestOffset >= 0 ? bestOffset : cursor;
    placed.push({ slot: s, offset });
    out.set(s, offset);
  }
  return out;
}

function peakLive(slots: readonly Slot[], steps: number): number {
  const delta = new Array<number>(steps + 1).fill(0);
  for (const s of slots) {
    delta[s.first]! += s.bytes;
    delta[s.last + 1]! -= s.bytes;
  }
  let live = 0;
  let peak = 0;
  for (const d of delta) {
    live += d;
    peak = Math.max(peak, live);
  }
  return peak;
}

/** [output temp, input temp] when kernel t may write its result over an input that dies there. */
function inPlaceCandidate(k: Kernel, t: number, temps: readonly Buffer[], index: ReadonlyMap<string, number>,
  first: readonly number[], slotLast: readonly number[], find: (i: number) => number): [number, number] | undefined {
  if (k.kind !== 'loop' || hasStages(k)) return undefined;
  const stores = [...allStmts(k.body)].filter((s) => s.kind === 'store');
  if (stores.length !== 1 || stores[0]!.kind !== 'store') return undefined;
  const store = stores[0];
  const o = index.get(store.buffer);
  if (o === undefined || first[o] !== t) return undefined;
  const at = printIndex(store.index);
  const loads = new Map<string, boolean>();
  for (const s of allStmts(k.body)) {
    if (s.kind === 'let' && s.expr.op === 'load') {
      const same = printIndex(s.expr.index) === at;
      loads.set(s.expr.buffer, (loads.get(s.expr.buffer) ?? true) && same);
    }
  }
  for (const [name, same] of loads) {
    const i = index.get(name);
    if (i === undefined || !same) continue;
    const root = find(i);
    // The input's whole slot must end here, and the element sizes must match so element i is element i.
    if (slotLast[root] !== t || bufferBytes(temps[i]!) !== bufferBytes(temps[o]!) || temps[i]!.dtype !== temps[o]!.dtype) continue;
    return [o, i];
  }
  return undefined;
}

/** Check a planned Program: offsets aligned, and no two temps live at once share a byte unless the plan
 * says one is written in place over the other. Throws E_VERIFY naming the pair. */
export function checkPlan(p: Program, plan: Pick<ArenaPlan, 'temps' | 'inPlace'>): void {
  const pairs = new Set(plan.inPlace.map(([a, b]) => `${a}|${b}`));
  for (const t of plan.temps) {
    if (t.offset % ALIGNMENT !== 0) fail('E_VERIFY', `memory plan: @${t.name} at ${t.offset} is not ${ALIGNMENT}-byte aligned`);
    if (t.offset + t.bytes > p.arenaBytes) fail('E_VERIFY', `memory plan: @${t.name} ends past the arena`);
  }
  for (let i = 0; i < plan.temps.length; i++) {
    for (let j = i + 1; j < plan.temps.length; j++) {
      const a = plan.temps[i]!;
      const b = plan.temps[j]!;
      const live = a.first <= b.last && b.first <= a.last;
      const overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes && a.bytes > 0 && b.bytes > 0;
      if (!live || !overlap) continue;
      const inPlaceOk = (pairs.has(`${a.name}|${b.name}`) && a.first === b.last) || (pairs.has(`${b.name}|${a.name}`) && b.first === a.last);
      if (!inPlaceOk) fail('E_VERIFY', `memory plan: @${a.name} [${a.first}, ${a.last}] and @${b.name} [${b.first}, ${b.last}] are live together and overlap`);
    }
  }
}
