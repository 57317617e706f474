// Sequences and optionals resolved at import (ops/sequence.ts) where the conformance cases do not reach:
// sequence inputs becoming `name[k]` graph inputs, negative positions, ConcatFromSequence with new_axis,
// SplitToSequence with a scalar split, an unrolled Loop with a scan output, sequence outputs
// (ImportedModel.outputParts), and the refusals when the structure depends on run-time data.
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { DTYPE_INFO, type DType } from '../../../src/ir/dtype.js';
import { Tensor } from '../../../src/ir/tensor.js';
import { verifyGraph } from '../../../src/ir/verify.js';
import { decodeModelProto } from '../../../src/frontend/onnx/decode.js';
import { importModel, type ImportOptions } from '../../../src/frontend/onnx/import.js';
import { lowerModel } from '../../../src/driver/targets.js';
import { writeTensorProto } from '../../../src/runtime/tensor-proto.js';
import { interpret } from '../../../src/runtime/interpreter.js';
import { T, errorCode, expectTensor } from '../../support/check.js';

const { onnx } = onnxProto;

/** A declared type: a tensor of a dtype and dims, or a sequence / optional of one. */
type Ty = { t: DType; dims: (number | string)[] } | { seq: Ty } | { opt: Ty };
interface NodeSpec { op: string; in: string[]; out: string[]; attrs?: Record<string, number | { g: GraphSpec }> }
interface GraphSpec { inputs: [string, Ty][]; outputs: [string, Ty][]; nodes: NodeSpec[]; inits?: Record<string, Tensor> }

const f32 = (...dims: (number | string)[]): Ty => ({ t: 'f32', dims });
const i64 = (...dims: (number | string)[]): Ty => ({ t: 'i64', dims });
const bool = (): Ty => ({ t: 'bool', dims: [] });

function typeProto(ty: Ty): object {
  if ('seq' in ty) return { sequenceType: { elemType: typeProto(ty.seq) } };
  if ('opt' in ty) return { optionalType: { elemType: typeProto(ty.opt) } };
  return { tensorType: { elemType: DTYPE_INFO[ty.t].onnx, shape: { dim: ty.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } };
}

function graphProto(g: GraphSpec, name: string): object {
  const { AttributeType } = onnx.AttributeProto;
  return {
    name,
    node: g.nodes.map((n, i) => ({
      name: `${n.op}_${i}`, opType: n.op, input: n.in, output: n.out,
      attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => (typeof v === 'number'
        ? { name: k, type: AttributeType.INT, i: v }
        : { name: k, type: AttributeType.GRAPH, g: graphProto(v.g, k) })),
    })),
    input: g.inputs.map(([n, ty]) => ({ name: n, type: typeProto(ty) })),
    output: g.outputs.map(([n, ty]) => ({ name: n, type: typeProto(ty) })),
    initializer: Object.entries(g.inits ?? {}).map(([k, t]) => onnx.TensorProto.decode(writeTensorProto(t, k))),
  };
}

function load(g: GraphSpec, opts: ImportOptions = {}, opset = 17): ReturnType<typeof importModel> {
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph: graphProto(g, 'main') })).finish();
  return importModel(decodeModelProto(bytes, 'sequence.onnx'), opts);
}

/** Import with the given sequence inputs, lower, and run on the inputs the importer asks for by name. */
function run(g: GraphSpec, seqs: Record<string, Tensor[] | Tensor | null>, tensors: Record<string, Tensor> = {}): { out: Tensor[]; parts: number[]; inputs: string[] } {
  const feed = new Map<string, Tensor>(Object.entries(tensors));
  for (const [n, v] of Object.entries(seqs)) {
    if (Array.isArray(v)) v.forEach((t, k) => feed.set(`${n}[${k}]`, t));
    else if (v) feed.set(n, v);
  }
  const m = load(g, { structuredInput: (n) => seqs[n], specialize: (n) => tensors[n] });
  verifyGraph(m.graph);
  const lowered = lowerModel(m);
  verifyGraph(lowered);
  const out = interpret(lowered, m.inputNames.map((n) => feed.get(n) ?? Tensor.zeros('f32', [0])));
  return { out, parts: m.outputParts, inputs: m.inputNames };
}

const A3 = T('f32', [2], [1, 2]);
const B3 = T('f32', [2], [3, 4]);
const C3 = T('f32', [2], [5, 6]);

describe('sequence inputs and ops', () => {
  it('feeds a sequence input as name[k] graph inputs; erase, negative at, stack', () => {
    const g: GraphSpec = {
      inputs: [['xs', { seq: f32(2) }]],
      outputs: [['y', f32(2, 2)], ['last', f32(2)], ['n', i64()]],
      inits: { m1: T('i64', [], [-1n]) },
      nodes: [
        { op: 'SequenceErase', in: ['xs'], out: ['s1'] },               // drops the last
        { op: 'ConcatFromSequence', in: ['s1'], out: ['y'], attrs: { axis: -1, new_axis: 1 } },
        { op: 'SequenceAt', in: ['xs', 'm1'], out: ['last'] },
        { op: 'SequenceLength', in: ['s1'], out: ['n'] },
      ],
    };
    const { out, inputs } = run(g, { xs: [A3, B3, C3] });
    expect(inputs).toEqual(['xs[0]', 'xs[1]', 'xs[2]']);
    expectTensor(out[0]!, 'f32', [2, 2], [1, 3, 2, 4]);
    expectTensor(out[1]!, 'f32', [2], [5, 6]);
    expectTensor(out[2]!, 'i64', [], [2n]);
  });

  it('splits with a scalar size (the last piece shorter) and outputs the sequence as several tensors', () => {
    const g: GraphSpec = {
      inputs: [['x', f32(5)]],
      outputs: [['s', { seq: f32('n') }]],
      inits: { two: T('i64', [], [2n]) },
      nodes: [{ op: 'SplitToSequence', in: ['x', 'two'], out: ['s'] }],
    };
    const { out, parts } = run(g, {}, { x: T('f32', [5], [0, 1, 2, 3, 4]) });
    expect(parts).toEqual([3]);
    expect(out.map((t) => t.toNumbers())).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('unrolls a Loop over a sequence with a known trip count, stacking its scan output', () => {
    const body: GraphSpec = {
      inputs: [['i', i64()], ['c', bool()], ['acc', f32(2)]],
      outputs: [['c_out', bool()], ['acc_out', f32(2)], ['elem', f32(2)]],
      nodes: [
        { op: 'Identity', in: ['c'], out: ['c_out'] },
        { op: 'SequenceAt', in: ['xs', 'i'], out: ['elem'] },
        { op: 'Add', in: ['acc', 'elem'], out: ['acc_out'] },
      ],
    };
    const g: GraphSpec = {
      inputs: [['xs', { seq: f32(2) }], ['zero', f32(2)]],
      outputs: [['sum', f32(2)], ['all', f32(3, 2)]],
      nodes: [
        { op: 'SequenceLength', in: ['xs'], out: ['n'] },
        { op: 'Loop', in: ['n', '', 'zero'], out: ['sum', 'all'], attrs: { body: { g: body } } },
      ],
    };
    const { out } = run(g, { xs: [A3, B3, C3] }, { zero: T('f32', [2], [0, 0]) });
    expectTensor(out[0]!, 'f32', [2], [9, 12]);
    expectTensor(out[1]!, 'f32', [3, 2], [1, 2, 3, 4, 5, 6]);
  });

  it('resolves optionals: an absent input, has-element, get-element', () => {
    const g: GraphSpec = {
      inputs: [['o', { opt: f32(2) }], ['p', { opt: f32(2) }]],
      outputs: [['has_o', bool()], ['has_p', bool()], ['v', f32(2)]],
      nodes: [
        { op: 'OptionalHasElement', in: ['o'], out: ['has_o'] },
        { op: 'OptionalHasElement', in: ['p'], out: ['has_p'] },
        { op: 'OptionalGetElement', in: ['p'], out: ['v'] },
      ],
    };
    const { out, inputs } = run(g, { o: null, p: B3 });
    expect(inputs).toEqual(['p']);
    expect(out.map((t) => t.toNumbers()[0])).toEqual([0, 1, 3]);
  });
});

describe('refusals', () => {
  const atGraph: GraphSpec = {
    inputs: [['xs', { seq: f32(2) }], ['pos', i64()]],
    outputs: [['y', f32(2)]],
    nodes: [{ op: 'SequenceAt', in: ['xs', 'pos'], out: ['y'] }],
  };

  it('needs the contents of a sequence input', () => {
    expect(errorCode(() => load(atGraph))).toBe('E_UNSUPPORTED');
  });

  it('refuses a position known only at run time, and takes one the caller offers', () => {
    expect(errorCode(() => load(atGraph, { structuredInput: () => [A3, B3] }))).toBe('E_UNSUPPORTED');
    const m = load(atGraph, { structuredInput: () => [A3, B3], specialize: (n) => (n === 'pos' ? T('i64', [], [1n]) : undefined) });
    expect(m.specialized).toEqual(['pos']);
    expect(interpret(lowerModel(m), [A3, B3])[0]!.toNumbers()).toEqual([3, 4]);
  });

  it('refuses a Loop that grows a sequence for a data-dependent number of iterations', () => {
    const body: GraphSpec = {
      inputs: [['i', i64()], ['c', bool()], ['s', { seq: f32(2) }]],
      outputs: [['c_out', bool()], ['s_out', { seq: f32(2) }]],
      nodes: [{ op: 'Identity', in: ['c'], out: ['c_out'] }, { op: 'SequenceInsert', in: ['s', 'x'], out: ['s_out'] }],
    };
    const g: GraphSpec = {
      inputs: [['m', i64()], ['x', f32(2)]],
      outputs: [['s', { seq: f32(2) }]],
      nodes: [
        { op: 'SequenceEmpty', in: [], out: ['e'] },
        { op: 'Loop', in: ['m', '', 'e'], out: ['s'], attrs: { body: { g: body } } },
      ],
    };
    let message = '';
    try {
      load(g);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/trip count must be known/);
    expect(errorCode(() => load(g))).toBe('E_UNSUPPORTED');
  });

  it('refuses a sequence read by an op that takes tensors', () => {
    const g: GraphSpec = {
      inputs: [['xs', { seq: f32(2) }]],
      outputs: [['y', f32(2)]],
      nodes: [{ op: 'Relu', in: ['xs'], out: ['y'] }],
    };
    expect(errorCode(() => load(g, { structuredInput: () => [A3] }))).toBe('E_UNSUPPORTED');
  });
});
