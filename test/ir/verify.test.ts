// The verifier on malformed graphs (E_VERIFY, one broken rule each), and the interpreter's run-time
// checks of its inputs and symbolic dims (E_RUNTIME).
import { describe, expect, it } from 'vitest';
import { A } from '../../src/ir/attr.js';
import { GraphBuilder, createNode } from '../../src/ir/builder.js';
import { Graph, Node, Value } from '../../src/ir/graph.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { interpret } from '../../src/runtime/interpreter.js';
import '../../src/ir/prims/index.js';
import { T, errorCode, expectTensor, ramp } from '../support/check.js';

/** x: f32[2,3] -> exp(x) + x */
function small(): { g: Graph; x: Value; e: Node; s: Node } {
  const b = new GraphBuilder('small');
  const x = b.input('x', 'f32', [2, 3]);
  const e = b.exp(x);
  const y = b.add(e, x);
  b.output(y, 'y');
  return { g: b.build(), x, e: e.producer!, s: y.producer! };
}

const verifyCode = (g: Graph, opts?: Parameters<typeof verifyGraph>[1]): string => errorCode(() => verifyGraph(g, opts));

describe('verifyGraph', () => {
  it('accepts a well-formed graph', () => {
    expect(verifyCode(small().g)).toBe('no error');
  });

  it('rejects a use before the definition', () => {
    const { g } = small();
    g.nodes.reverse();
    expect(verifyCode(g)).toBe('E_VERIFY');
  });

  it('rejects a value defined twice', () => {
    const { g, e } = small();
    g.nodes.splice(1, 0, e);
    expect(verifyCode(g)).toBe('E_VERIFY');
    const h = small();
    h.g.inputs.push(h.x);
    expect(verifyCode(h.g)).toBe('E_VERIFY');
  });

  it('rejects an output that is not defined in the graph', () => {
    const { g } = small();
    g.outputs.push(new Value({ dtype: 'f32', shape: [] }, 'stray'));
    expect(verifyCode(g)).toBe('E_VERIFY');
  });

  it('rejects an operand from another graph', () => {
    const { g, s } = small();
    s.inputs[1] = small().x;
    expect(verifyCode(g)).toBe('E_VERIFY');
  });

  it('rejects unknown ops unless their dialect is allowed', () => {
    const { g, x } = small();
    g.nodes.push(new Node('acme.frob', [x], [{ dtype: 'f32', shape: [2, 3] }]));
    expect(verifyCode(g)).toBe('E_VERIFY');
    expect(verifyCode(g, { allowUnregistered: ['acme'] })).toBe('no error');
    g.nodes.push(new Node('prim.frob', [x], [{ dtype: 'f32', shape: [2, 3] }]));
    expect(verifyCode(g, { allowUnregistered: ['acme'] })).toBe('E_VERIFY');
  });

  it('rejects a wrong operand count', () => {
    const { g, s, x } = small();
    s.inputs.push(x);
    expect(verifyCode(g)).toBe('E_VERIFY');
    const h = small();
    h.e.inputs.pop();
    expect(verifyCode(h.g)).toBe('E_VERIFY');
  });

  it('rejects unknown, mistyped and missing attributes', () => {
    const { g, s } = small();
    s.attrs = { axis: A.int(0) };
    expect(verifyCode(g)).toBe('E_VERIFY');

    const b = new GraphBuilder('attrs');
    const x = b.input('x', 'f32', [2, 3]);
    const r = b.reduce('sum', x, [1], false).producer!;
    b.output(r.output);
    const g2 = b.build();
    expect(verifyCode(g2)).toBe('no error');
    r.attrs = { axes: A.int(1) };
    expect(verifyCode(g2)).toBe('E_VERIFY');
    r.attrs = { keepdims: A.int(0) };
    expect(verifyCode(g2)).toBe('E_VERIFY');
    r.attrs = { axes: A.ints([1]), keepdims: A.float(0) };
    expect(verifyCode(g2)).toBe('E_VERIFY');
  });

  it('rejects a declared result type that inference does not give', () => {
    const { g, e } = small();
    e.output.type = { dtype: 'f32', shape: [3, 2] };
    expect(verifyCode(g)).toBe('E_VERIFY');
    const h = small();
    h.e.output.type = { dtype: 'f64', shape: [2, 3] };
    expect(verifyCode(h.g)).toBe('E_VERIFY');
  });

  it('reports a type error of a node as E_VERIFY', () => {
    const { g, s } = small();
    s.inputs[1] = new Value({ dtype: 'i32', shape: [2, 3] });
    g.inputs.push(s.inputs[1]);
    expect(verifyCode(g)).toBe('E_VERIFY');
  });

  it('rejects the wrong number of results, and a result that names another producer', () => {
    const { g, x } = small();
    g.nodes.push(new Node('prim.exp', [x], [{ dtype: 'f32', shape: [2, 3] }, { dtype: 'f32', shape: [2, 3] }]));
    expect(verifyCode(g)).toBe('E_VERIFY');
    const h = small();
    h.e.output.producer = h.s;
    expect(verifyCode(h.g)).toBe('E_VERIFY');
  });

  it('checks subgraphs, which may read the values defined before their node', () => {
    const { g, x, e } = small();
    const sub = new Graph('body', [], [], []);
    const n = new Node('acme.loop', [], [], { body: A.graph(sub) });
    sub.nodes.push(createNode('prim.neg', [e.output]));
    sub.outputs.push(sub.nodes[0]!.output);
    g.nodes.push(n);
    expect(verifyCode(g, { allowUnregistered: ['acme'] })).toBe('no error');
    g.nodes.splice(g.nodes.indexOf(n), 1);
    g.nodes.unshift(n); // now the body reads %e before it is defined
    expect(verifyCode(g, { allowUnregistered: ['acme'] })).toBe('E_VERIFY');
    sub.nodes[0]!.inputs[0] = x;
    expect(verifyCode(g, { allowUnregistered: ['acme'] })).toBe('no error');
  });
});

describe('interpret: run-time checks', () => {
  const b = new GraphBuilder('sym');
  const x = b.input('x', 'f32', ['N', 3]);
  const y = b.input('y', 'f32', ['N', 3]);
  b.output(b.add(x, y), 'z');
  const g = b.build();

  it('binds symbolic dims from the inputs', () => {
    expectTensor(interpret(g, [ramp('f32', [2, 3]), ramp('f32', [2, 3])])[0]!, 'f32', [2, 3], [0, 2, 4, 6, 8, 10]);
    expectTensor(interpret(g, new Map([['x', ramp('f32', [0, 3])], ['y', ramp('f32', [0, 3])]]))[0]!, 'f32', [0, 3], []);
  });

  it('rejects inputs of the wrong dtype, rank, static or symbolic size, or count (E_RUNTIME)', () => {
    expect(errorCode(() => interpret(g, [ramp('f64', [2, 3]), ramp('f32', [2, 3])]))).toBe('E_RUNTIME');
    expect(errorCode(() => interpret(g, [ramp('f32', [6]), ramp('f32', [2, 3])]))).toBe('E_RUNTIME');
    expect(errorCode(() => interpret(g, [ramp('f32', [2, 4]), ramp('f32', [2, 4])]))).toBe('E_RUNTIME');
    expect(errorCode(() => interpret(g, [ramp('f32', [2, 3]), ramp('f32', [1, 3])]))).toBe('E_RUNTIME');
    expect(errorCode(() => interpret(g, [ramp('f32', [2, 3])]))).toBe('E_RUNTIME');
    expect(errorCode(() => interpret(g, new Map([['x', ramp('f32', [2, 3])]])))).toBe('E_RUNTIME');
  });

  it('names the node of a run-time failure', () => {
    const gb = new GraphBuilder('bad_index');
    const d = gb.input('d', 'f32', [3]);
    gb.output(gb.gather(d, gb.ints([5]), 0));
    try {
      interpret(gb.build(), [T('f32', [3], [1, 2, 3])]);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('prim.gather');
    }
  });
});
