// schedule: a prim graph becomes a kernel-IR Program. Movement ops become index maps, pointwise chains fuse,
// reductions take their prologue and epilogue, a dot takes its epilogue; what is not a loop nest becomes an
// extern kernel. Buffers get no offsets here: src/passes/memory-plan.ts places them.
//
//   graph @softmax(%x: f32[2,8]) -> (%y: f32[2,8]) {
//     %m = prim.reduce_max(%x) {axes=[1], keepdims=1} : f32[2,1]
//     %d = prim.sub(%x, %m) : f32[2,8]
//     %e = prim.exp(%d) : f32[2,8]
//     %s = prim.reduce_sum(%e) {axes=[1], keepdims=1} : f32[2,1]
//     %y = prim.div(%e, %s) : f32[2,8]
//   }
// becomes one row kernel (the two reductions are stages, the division an inner loop):
//   kernel k0 "reduce_max sub exp reduce_sum div → %y" (i0 < 2) {
//     %0 = reduce max f32 (r0 < 8) { %1 = load f32 @in0[8*i0 + r0] } -> %1
//     %2 = reduce sum f32 (r1 < 8) { … %5 = exp f32 %4 } -> %5
//     loop (i1 < 8) { … %9 = div f32 %8, %2; store @out0[8*i0 + i1] = %9 }
//   }
import { fail } from '../../ir/error.js';
import { dimProduct } from '../../ir/dim-expr.js';
import type { Dim } from '../../ir/shape.js';
import { Graph, Node, Value } from '../../ir/graph.js';
import { kernelReads, type Kernel, type Stmt } from '../../kernel/kernel.js';
import type { Buffer, Program } from '../../kernel/program.js';
import { EmitFailure, emitKernel, label, type EmittedKernel } from './emit.js';
import { planFusion, type FusionPlan } from './plan.js';

/** A value given a buffer of its own although something reads it: a refusal to fuse, with the reason. */
export interface FusionDecision {
  /** The value (`%name`) and the op that makes it. */
  readonly value: string;
  readonly op: string;
  readonly reason: string;
  /** The kernel that computes it (none for a weight), and the kernels that read its buffer. */
  readonly kernel: string | undefined;
  readonly readers: readonly string[];
}

export interface Schedule {
  /** Buffers without arena offsets yet (arenaBytes 0). */
  readonly program: Program;
  readonly decisions: readonly FusionDecision[];
  /** Rounds of planning: 1, plus one per value the emitter could not fuse after all. */
  readonly rounds: number;
}

/** Schedule a verified prim graph into a Program. */
export function scheduleGraph(g: Graph): Schedule {
  const forced = new Map<Value, string>();
  const cache: KernelCache = new Map();
  for (let round = 1; ; round++) {
    const plan = planFusion(g, forced);
    const builder = new ProgramBuilder(g, plan, cache);
    const built = builder.build();
    if (builder.failures.length === 0) return { ...built, rounds: round };
    const before = new Set(forced.keys());
    for (const f of builder.failures) {
      // A reduction that cannot be fused into its reader keeps its epilogue: materialize the end of the
      // one-to-one pointwise chain after it rather than the reduction itself.
      const target = plan.sideStores.has(f.value) ? f.value : epilogueEnd(plan, f.value);
      if (!before.has(target)) {
        if (!forced.has(target)) forced.set(target, f.reason);
      } else if (!before.has(f.value)) {
        if (!forced.has(f.value)) forced.set(f.value, f.reason);
      } else fail('E_VERIFY', `schedule: ${label(f.value)} was materialized and still cannot be fused: ${f.reason}`);
    }
  }
}

/** Kernels of earlier rounds by root, with the roles they were built on: reused while those hold. */
type KernelCache = Map<Value, EmittedKernel>;

/** The last value of the chain of single-reader pointwise ops and reshapes/permutes that keep v's size. */
function epilogueEnd(plan: FusionPlan, v: Value): Value {
  const kind = v.producer ? plan.kinds.get(v.producer) : undefined;
  if (kind !== 'reduce' && kind !== 'dot') return v;
  let end = v;
  for (;;) {
    const users = plan.users.get(end) ?? [];
    if (users.length !== 1 || plan.graph.outputs.includes(end)) return end;
    const u = users[0]!;
    const k = plan.kinds.get(u);
    const ok = (k === 'pointwise' || (k === 'movement' && (u.opName === 'reshape' || u.opName === 'permute'))) &&
      sameSize(u.output.shape, end.shape) && u.inputs.filter((x) => x === end).length === 1;
    const role = plan.roles.get(u.output);
    if (!ok || (role !== 'inline' && role !== 'view')) return end;
    end = u.output;
  }
}

/** Equal element counts (dims are numbers or polynomials of symbols in canonical form). */
const sameSize = (a: readonly Dim[], b: readonly Dim[]): boolean => String(dimProduct(a)) === String(dimProduct(b));

class ProgramBuilder {
  /** Buffers by value; names are provisional (`v<id>`) until the Program is assembled. */
  private readonly decls = new Map<Value, Buffer>();
  private readonly kernelOf = new Map<Value, Kernel>();
  private readonly kernels: Kernel[] = [];
  private readonly outputSet: Set<Value>;
  /** What the emitter could not fuse this round (the kernels concerned are left out). */
  readonly failures: EmitFailure[] = [];

  constructor(private readonly g: Graph, private readonly plan: FusionPlan, private readonly cache: KernelCache) {
    this.outputSet = new Set(g.outputs);
  }

  build(): { program: Program; decisions: FusionDecision[] } {
    const g = this.g;
    for (const v of g.inputs) this.bufferOf(v);
    for (const n of g.nodes) {
      const kind = this.plan.kinds.get(n);
      if (kind === 'extern') {
        this.kernels.push(this.extern(n));
        continue;
      }
      const v = n.output;
      if (this.plan.roles.get(v) !== 'root') continue;
      if (!this.outputSet.has(v) && (this.plan.users.get(v) ?? []).length === 0) continue;
      const hit = this.cache.get(v);
      let made: EmittedKernel;
      if (hit && [...hit.consulted].every(([x, r]) => this.plan.roles.get(x) === r) && hit.stored.every((x) => this.plan.sideStores.has(x))) {
        made = hit;
        for (const x of hit.consulted.keys()) if (this.hasBuffer(x)) this.bufferOf(x);
      } else {
        try {
          made = emitKernel({ plan: this.plan, bufferOf: (x) => this.bufferOf(x) }, v, 'k', this.bufferOf(v));
          this.cache.set(v, made);
        } catch (e) {
          if (!(e instanceof EmitFailure)) throw e;
          this.failures.push(e);
          continue;
        }
      }
      this.kernels.push(made.kernel);
      this.kernelOf.set(v, made.kernel);
      for (const x of made.stored) this.kernelOf.set(x, made.kernel);
    }
    for (const s of this.plan.sideStores) {
      if (!this.kernelOf.has(s) && !this.failures.some((f) => f.value === s)) this.failures.push(new EmitFailure(s, 'graph output that no kernel reading it could store'));
    }
    for (const v of g.outputs) this.bufferOf(v);
    return this.assemble();
  }

  private hasBuffer(v: Value): boolean {
    const r = this.plan.roles.get(v);
    return r === 'input' || r === 'weight' || r === 'root' || r === 'extern' || this.plan.sideStores.has(v);
  }

  /** The buffer of a value that lives in one, declared on first use under a provisional name. */
  private bufferOf(v: Value): string {
    const have = this.decls.get(v);
    if (have) return have.name;
    const role = this.plan.roles.get(v);
    const base = { name: `v${v.id}`, dtype: v.dtype, shape: v.shape, label: label(v) };
    let b: Buffer;
    if (role === 'input') b = { ...base, role: 'input' };
    else if (role === 'weight') {
      const data = this.plan.constData.get(v) ?? v.producer?.tensor('value') ?? fail('E_VERIFY', `schedule: weight ${label(v)} has no data`);
      b = { ...base, role: 'weight', data };
    } else if (role === 'root' || role === 'extern' || this.plan.sideStores.has(v)) b = { ...base, role: this.outputSet.has(v) ? 'output' : 'temp' };
    else return fail('E_VERIFY', `schedule: ${label(v)} (${role ?? 'no role'}) has no buffer`);
    this.decls.set(v, b);
    return b.name;
  }

  /** Final names: inputs and outputs by position, weights and temps in order of first use; kernels k0, k1, …. */
  private assemble(): { program: Program; decisions: FusionDecision[] } {
    const rename = new Map<string, string>();
    const count = { w: 0, t: 0, out: 0 };
    this.g.inputs.forEach((v, i) => rename.set(this.bufferOf(v), `in${i}`));
    for (const v of this.g.outputs) {
      const b = this.decls.get(v)!;
      if (b.role === 'output' && !rename.has(b.name)) rename.set(b.name, `out${count.out++}`);
    }
    const byOld = new Map([...this.decls.values()].map((b) => [b.name, b]));
    const name = (old: string): string => {
      let n = rename.get(old);
      if (!n) {
        const b = byOld.get(old) ?? fail('E_VERIFY', `schedule: no buffer ${old}`);
        n = b.role === 'weight' ? `w${count.w++}` : `t${count.t++}`;
        rename.set(old, n);
      }
      return n;
    };
    const kernels = this.kernels.map((k, i) => renameKernel(k, `k${i}`, name));
    const kernelName = new Map(this.kernels.map((k, i) => [k, `k${i}`]));
    for (const v of this.g.outputs) name(this.decls.get(v)!.name);
    const buffers = [...byOld.values()].filter((b) => rename.has(b.name)).map((b) => ({ ...b, name: name(b.name) }));
    const order = (b: Buffer): number => ['input', 'output', 'weight', 'temp'].indexOf(b.role);
    buffers.sort((a, b) => order(a) - order(b) || numberOf(a.name) - numberOf(b.name));
    const program: Program = {
      name: this.g.name,
      buffers,
      inputs: this.g.inputs.map((v) => name(this.decls.get(v)!.name)),
      outputs: this.g.outputs.map((v) => name(this.decls.get(v)!.name)),
      kernels,
      arenaBytes: 0,
    };
    const readers = new Map<string, string[]>();
    for (const k of kernels) for (const b of kernelReads(k)) readers.set(b, [...(readers.get(b) ?? []), k.name]);
    const decisions: FusionDecision[] = [];
    for (const [v, reason] of this.plan.reasons) {
      const b = this.decls.get(v);
      if (!b) continue;
      const k = this.kernelOf.get(v);
      decisions.push({ value: label(v), op: v.producer?.op ?? 'input', reason, kernel: k ? kernelName.get(k) : undefined, readers: readers.get(name(b.name)) ?? [] });
    }
    return { program, decisions };
  }

  /** A kernel that runs a node's reference semantics: a one-node graph over its operands and captures. */
  private extern(n: Node): Kernel {
    const captures = this.plan.captures.get(n) ?? [];
    const fresh = n.inputs.map((v) => (v ? new Value(v.type, v.name) : null));
    const node = new Node(n.op, fresh, n.outputs.map((o) => o.type), n.attrs, n.origin);
    node.outputs.forEach((o, i) => (o.name = n.outputs[i]!.name));
    const graphInputs = [...fresh.filter((v): v is Value => v !== null), ...captures];
    const graph = new Graph(n.opName, graphInputs, node.outputs, [node]);
    const inputs = [...n.inputs.filter((v): v is Value => v !== null), ...captures].map((v) => this.bufferOf(v));
    const outputs = n.outputs.map((o) => this.bufferOf(o));
    const k: Kernel = { kind: 'extern', name: 'k', inputs, outputs, graph, note: `${n.op} → ${n.outputs.map(label).join(', ')}` };
    for (const o of n.outputs) this.kernelOf.set(o, k);
    return k;
  }
}

const numberOf = (name: string): number => Number(/\d+$/.exec(name)?.[0] ?? 0);

/** A kernel with its buffers renamed. */
function renameKernel(k: Kernel, name: string, rename: (b: string) => string): Kernel {
  if (k.kind === 'extern') return { ...k, name, inputs: k.inputs.map(rename), outputs: k.outputs.map(rename) };
  const body = (stmts: readonly Stmt[]): Stmt[] => stmts.map((s): Stmt => {
    switch (s.kind) {
      case 'let': return s.expr.op === 'load' ? { ...s, expr: { ...s.expr, buffer: rename(s.expr.buffer) } } : s;
      case 'store': return { ...s, buffer: rename(s.buffer) };
      case 'reduce': return { ...s, body: body(s.body) };
      case 'loop': return { ...s, body: body(s.body) };
      default: return s;
    }
  });
  return { ...k, name, body: body(k.body) };
}
