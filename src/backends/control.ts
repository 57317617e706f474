// If, Loop and Scan for a GPU backend's host side (wgsl/host.ts, ptx/host.ts): the control (which branch,
// whether to go on, slicing the scan inputs and stacking the results) runs on the host; every run of a
// branch or a body is a Program of its own (bodyProgram) on the device, and only what the control needs
// next comes back from it each time (the condition, and the values the next iteration or the caller
// reads). The semantics are the prims' (src/ir/prims/structured.ts), written again here because a device
// run is asynchronous and the prims' reference evaluation is not. The other host steps (TopK, NonZero,
// Unique) run the prims' reference semantics (runHostKernel).
import { AicError, fail } from '../ir/error.js';
import { Graph, type Node, type Value } from '../ir/graph.js';
import { evalDim } from '../ir/dim-expr.js';
import { capturedValues } from '../ir/prims/structured.js';
import { formatShape, numel, type Dim } from '../ir/shape.js';
import { Tensor } from '../ir/tensor.js';
import type { ExternKernel } from '../kernel/kernel.js';
import type { Program } from '../kernel/program.js';
import { planMemory } from '../passes/memory-plan.js';
import { scheduleGraph } from '../passes/schedule/index.js';
import { interpret } from '../runtime/interpreter.js';
import { hostOp } from './steps.js';

/** Run a subgraph of the node on its own inputs, in order (the runner supplies what it captures). */
export type RunBody = (g: Graph, inputs: readonly Tensor[]) => Promise<Tensor[]>;

export const CONTROL_OPS: readonly string[] = ['prim.if', 'prim.loop', 'prim.scan'];

/** Run a control node on its operands (null where omitted); `size` gives a symbol's value where one is known. */
export async function runControl(node: Node, operands: readonly (Tensor | null)[], body: RunBody, size: (sym: string) => number | undefined): Promise<Tensor[]> {
  switch (node.op) {
    case 'prim.if': return runIf(node, operands, body);
    case 'prim.loop': return runLoop(node, operands, body, size);
    case 'prim.scan': return runScan(node, operands, body, size);
    default: return fail('E_UNSUPPORTED', `${node.describe()} is not a control op`);
  }
}

async function runIf(node: Node, [cond]: readonly (Tensor | null)[], body: RunBody): Promise<Tensor[]> {
  const c = single(node, cond ?? null, 'the condition');
  return body(node.graph(c ? 'then_branch' : 'else_branch'), []);
}

async function runLoop(node: Node, operands: readonly (Tensor | null)[], body: RunBody, size: (sym: string) => number | undefined): Promise<Tensor[]> {
  const g = node.graph('body');
  const n = operands.length - 2;
  const k = g.outputs.length - 1 - n;
  const max = operands[0] ? BigInt(single(node, operands[0], 'the trip count')) : null;
  let cond = operands[1] ? Boolean(single(node, operands[1], 'the condition')) : true;
  let carried = operands.slice(2) as Tensor[];
  const scans: Tensor[][] = Array.from({ length: k }, () => []);
  const ones = (shape: readonly Dim[]): number[] => shape.map(() => 1);
  for (let i = 0n; (max === null || i < max) && cond; i++) {
    const outs = await body(g, [Tensor.from('i64', ones(g.inputs[0]!.shape), [i]), Tensor.from('bool', ones(g.inputs[1]!.shape), [cond]), ...carried]);
    // The body's condition ends the loop even without a condition operand (as the reference does).
    cond = Boolean(single(node, outs[0]!, 'the body\'s condition'));
    carried = outs.slice(1, n + 1);
    outs.slice(n + 1).forEach((t, j) => scans[j]!.push(t));
  }
  return [...carried, ...scans.map((ts, j) => stack(node, ts, g.outputs[n + 1 + j]!, size, `scan output ${j}`))];
}

async function runScan(node: Node, operands: readonly (Tensor | null)[], body: RunBody, size: (sym: string) => number | undefined): Promise<Tensor[]> {
  const g = node.graph('body');
  const m = node.int('num_scan_inputs');
  const n = operands.length - m;
  const xs = operands.slice(n) as Tensor[];
  const length = xs[0]!.shape[0]!;
  xs.forEach((x, j) => {
    if (x.shape[0] !== length) fail('E_RUNTIME', `${node.describe()}: scan input ${j} has length ${x.shape[0]}, scan input 0 has ${length}`);
  });
  let states = operands.slice(0, n) as Tensor[];
  const ys: Tensor[][] = Array.from({ length: g.outputs.length - n }, () => []);
  for (let t = 0; t < length; t++) {
    const outs = await body(g, [...states, ...xs.map((x) => slice0(x, t))]);
    states = outs.slice(0, n);
    outs.slice(n).forEach((y, j) => ys[j]!.push(y));
  }
  return [...states, ...ys.map((ts, j) => stack(node, ts, g.outputs[n + j]!, size, `scan output ${j}`))];
}

function single(node: Node, t: Tensor | null, what: string): number | bigint {
  if (!t || t.size !== 1) fail('E_RUNTIME', `${node.describe()}: ${what} has shape ${t ? formatShape(t.shape) : '(none)'}, expected one element`);
  return t.data[0]!;
}

/** Element t of x along axis 0. */
function slice0(x: Tensor, t: number): Tensor {
  const inner = numel(x.shape.slice(1));
  return new Tensor(x.dtype, x.shape.slice(1), x.data.slice(t * inner, (t + 1) * inner));
}

/** The iterations' values on a new leading axis; with none, the element shape is the body's declared one
 * (a symbol known outside keeps its size, any other is 0), as the reference has it. */
function stack(node: Node, ts: readonly Tensor[], o: Graph['outputs'][number], size: (sym: string) => number | undefined, what: string): Tensor {
  const elem = ts[0]?.shape ?? o.shape.map((d) => evalDim(d, size) ?? 0);
  const out = Tensor.zeros(o.dtype, [ts.length, ...elem]);
  const inner = numel(elem);
  ts.forEach((t, i) => {
    if (t.shape.length !== elem.length || t.shape.some((d, j) => d !== elem[j])) {
      fail('E_RUNTIME', `${node.describe()}: ${what} has shape ${formatShape(t.shape)} in iteration ${i}, ${formatShape(elem)} before`);
    }
    (out.data as Float64Array).set(t.data as Float64Array, i * inner);
  });
  return out;
}

/** A branch or a body scheduled as a Program: its inputs are the graph's, then the values it captures. */
export interface BodyProgram {
  readonly program: Program;
  readonly captures: readonly Value[];
}

/** The If/Loop/Scan node of a host step, or undefined for an extern without a body. */
export function controlNode(k: ExternKernel): Node | undefined {
  return k.graph.nodes.find((n) => CONTROL_OPS.includes(n.op));
}

/** Schedule a branch or body of kernel k as a Program of its own (`who` names the backend in a refusal). */
export function bodyProgram(g: Graph, k: ExternKernel, who: string): BodyProgram {
  const captures = capturedValues(g).filter((v) => !g.inputs.includes(v));
  const standalone = new Graph(g.name, [...g.inputs, ...captures], g.outputs, g.nodes);
  try {
    return { program: planMemory(scheduleGraph(standalone).program).program, captures };
  } catch (e) {
    if (e instanceof AicError && e.code === 'E_UNSUPPORTED') throw e;
    return fail('E_UNSUPPORTED', `${who}: the body ${g.name} of kernel ${k.name} (${hostOp(k)}) cannot be compiled: ${(e as Error).message}`);
  }
}

/** Run a host step's extern kernel on its arguments: If/Loop/Scan through runControl with `runBody`
 * running each branch or body (given the graph's inputs then its captures), any other extern by the
 * reference semantics. */
export async function runHostKernel(k: ExternKernel, args: readonly Tensor[], sizes: ReadonlyMap<string, number>,
  captures: (g: Graph) => readonly Value[], runBody: RunBody, who: string): Promise<Tensor[]> {
  const node = controlNode(k);
  // TopK, NonZero, Unique (and any other extern without a body): the reference semantics, here.
  if (!node) return interpret(k.graph, args);
  const env = new Map<Value, Tensor>(k.graph.inputs.map((v, i) => [v, args[i]!]));
  const operands = node.inputs.map((v) => (v ? env.get(v) ?? fail('E_UNSUPPORTED', `${who}: ${node.describe()} reads a value made inside its kernel`) : null));
  const outs = await runControl(node, operands, (g, ins) => runBody(g, [...ins, ...captures(g).map((v) => env.get(v)
    ?? fail('E_VERIFY', `${who}: ${node.describe()}: captured ${v.name ?? 'value'} is not an input of its kernel`))]), (sym) => sizes.get(sym));
  return k.graph.outputs.map((v) => {
    const j = node.outputs.indexOf(v);
    return j >= 0 ? outs[j]! : env.get(v) ?? fail('E_UNSUPPORTED', `${who}: extern kernel ${k.name}: an output is not its node's`);
  });
}
