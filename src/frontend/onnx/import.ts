// ModelProto → graph IR in the `onnx` dialect. Initializers and Constants become prim.const; each other
// node becomes one `onnx.<Type>` node whose result types come from running its lowering rule on the
// operand types. Nodes whose operands are all constants (shape arithmetic) fold to constants here.
import { AicError, fail } from '../../ir/error.js';
import { A, type Attr } from '../../ir/attr.js';
import { Graph, Node, Value, type TensorType } from '../../ir/graph.js';
import { GraphBuilder, constantOf } from '../../ir/builder.js';
import { dtypeFromOnnx, onnxTypeName } from '../../ir/dtype.js';
import type { Dim } from '../../ir/shape.js';
import type { Tensor } from '../../ir/tensor.js';
import { findOp, registerOp } from '../../ir/op.js';
import { LowerContext } from './context.js';
import { DEFAULT_DOMAIN, findOnnxOp, irOpName } from './registry.js';
import { ATTRIBUTE_TYPE, int64ToNumber, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TypeProto, type ValueInfoProto } from './proto.js';
import { tensorFromProto, tensorFromSparse, type ExternalDataReader } from './tensor.js';
import { lowerGraph } from './lower-graph.js';
import { findResolver, flattenItem, isOpt, isSeq, tensorOnly, type Item, type ResolveContext, type Resolver } from './ops/sequence.js';
import './ops/index.js';

/** What names denote while importing: tensors, and sequences and optionals of known structure (ops/sequence.ts). */
type Scope = Map<string, Item>;

export interface ImportOptions {
  /** The model's file, for messages. */
  where?: string;
  /** Reads external tensor data relative to the model's folder. */
  readExternal?: ExternalDataReader;
  /** Values of graph inputs, consulted only when a rule needs an input as a compile-time constant
   * (a Reshape's shape fed as a graph input); such inputs become constants of the compiled graph. */
  specialize?: (inputName: string) => Tensor | undefined;
  /** Contents of graph inputs declared as sequences or optionals (a test's data): a sequence's tensors,
   * an optional's content (a tensor, tensors, or null for none). Only their structure is fixed when compiling
   * (a sequence's length and element types, an optional's presence): each element stays a run-time graph
   * input, named `name[k]` for element k of a sequence and `name` for an optional tensor. */
  structuredInput?: (inputName: string) => Tensor | Tensor[] | null | undefined;
}

export interface ImportedModel {
  graph: Graph;
  /** Opset version per domain ('' is the default domain). */
  opsets: ReadonlyMap<string, number>;
  /** ONNX names of the model's inputs that are not initializers, in order (what test data feeds). */
  declaredInputs: string[];
  /** ONNX names of the graph inputs that remain inputs, and of the outputs, by position. */
  inputNames: string[];
  outputNames: string[];
  /** How many graph outputs each ONNX output became: 1 for a tensor, a sequence's length, 0 or 1 for an
   * optional tensor (graph.outputs lists them in order). */
  outputParts: number[];
  /** A name per graph output tensor: the ONNX output's name, `NAME.i` for the i-th tensor of a sequence. */
  outputTensorNames: string[];
  /** Inputs folded in as constants through `specialize`. */
  specialized: string[];
  /** Nodes of the model's main graph. */
  onnxNodes: number;
}

const DOMAIN_ALIASES: Record<string, string> = { 'ai.onnx': DEFAULT_DOMAIN };
const normDomain = (d: string): string => DOMAIN_ALIASES[d] ?? d;

export function importModel(model: ModelProto, opts: ImportOptions = {}): ImportedModel {
  const opsets = new Map<string, number>();
  for (const o of model.opsetImport) opsets.set(normDomain(o.domain), int64ToNumber(o.version, 'opset version'));
  if (!opsets.has(DEFAULT_DOMAIN) && model.opsetImport.length === 0) opsets.set(DEFAULT_DOMAIN, 1);
  const graphProto = model.graph ?? fail('E_MODEL', `${opts.where ?? 'model'}: no graph`);
  // A rule may need as a constant a value computed from graph inputs (Range's limit from Cast(size)).
  // Those inputs are then specialized from the start and the model imported again.
  const eager = new Set<string>();
  let imp: Importer;
  let graph: Graph;
  for (;;) {
    imp = new Importer(opsets, opts, eager);
    try {
      graph = imp.importGraph(graphProto, new Map(), true);
      break;
    } catch (e) {
      if (!(e instanceof SpecializeAndRetry) || e.inputs.every((n) => eager.has(n))) throw e instanceof SpecializeAndRetry ? e.original : e;
      for (const n of e.inputs) eager.add(n);
    }
  }
  const inits = new Set(graphProto.initializer.map((t) => t.name));
  return {
    graph,
    opsets,
    declaredInputs: graphProto.input.map((v) => v.name).filter((n) => !inits.has(n)),
    inputNames: graph.inputs.map((v) => v.name ?? ''),
    outputNames: graphProto.output.map((o) => o.name),
    outputParts: imp.outputParts,
    outputTensorNames: imp.outputTensorNames,
    specialized: imp.specialized,
    onnxNodes: graphProto.node.length,
  };
}

/** Thrown when a rule needs as a constant a value derived from graph inputs that can be specialized. */
class SpecializeAndRetry extends Error {
  constructor(readonly inputs: readonly string[], readonly original: AicError) {
    super('specialize and import again');
  }
}

class Importer {
  readonly specialized: string[] = [];
  readonly outputParts: number[] = [];
  readonly outputTensorNames: string[] = [];
  /** Where each imported body came from, to import it again with other input types. */
  private readonly bodySources = new WeakMap<Graph, { proto: GraphProto; scope: ReadonlyMap<string, Item> }>();
  private symbolCount = 0;

  constructor(private readonly opsets: ReadonlyMap<string, number>, private readonly opts: ImportOptions,
    /** Main-graph inputs made constants from the start (see importModel). */
    private readonly eager: ReadonlySet<string> = new Set()) {}

  private where(): string {
    return this.opts.where ?? 'model';
  }

  /** `inputTypes`: for a body, the input types its node's operands imply (see OnnxOp.subgraphInputs). */
  importGraph(gp: GraphProto, outer: ReadonlyMap<string, Item>, isMain: boolean, inputTypes?: readonly (TensorType | null)[]): Graph {
    const g = new Graph(gp.name || 'main');
    // Names visible here: the enclosing graphs' (captures), shadowed by this graph's own.
    const values: Scope = new Map(outer);
    const b = new GraphBuilder(g);

    const initNames = new Set(gp.initializer.map((t) => t.name));
    for (const t of gp.initializer) {
      const tensor = this.tensor(() => tensorFromProto(t, this.opts.readExternal), `initializer '${t.name}'`);
      values.set(t.name, named(b.const(tensor), t.name));
    }
    for (const s of gp.sparseInitializer) {
      const name = s.values?.name ?? '';
      values.set(name, named(b.const(this.tensor(() => tensorFromSparse(s, this.opts.readExternal), `sparse initializer '${name}'`)), name));
    }
    for (const [i, vi] of gp.input.entries()) {
      if (initNames.has(vi.name)) continue; // IR < 4 lists initializers as inputs too
      if (isMain && (vi.type?.sequenceType || vi.type?.optionalType)) {
        values.set(vi.name, this.structuredInput(vi, g));
        continue;
      }
      const given = isMain && this.eager.has(vi.name) ? this.opts.specialize?.(vi.name) : undefined;
      if (given) {
        values.set(vi.name, named(b.const(given), vi.name));
        this.specialized.push(vi.name);
        continue;
      }
      const v = new Value(this.bodyInputType(vi, inputTypes?.[i] ?? null), vi.name);
      g.inputs.push(v);
      values.set(vi.name, v);
    }

    for (const np of this.topoSort(gp, (n) => values.has(n))) {
      this.importNode(np, g, values, isMain);
    }

    for (const vi of gp.output) {
      const x = values.get(vi.name) ?? fail('E_MODEL', `${this.where()}: graph output '${vi.name}' is never produced`);
      // The main graph's sequence and optional outputs become their tensors (see ImportedModel.outputParts).
      const vs = isMain ? flattenItem(x) : [tensorOnly(x, `${this.where()}: output '${vi.name}' of body '${gp.name}'`)];
      g.outputs.push(...vs);
      if (isMain) {
        this.outputParts.push(vs.length);
        this.outputTensorNames.push(...vs.map((_, i) => (isSeq(x) ? `${vi.name}.${i}` : vi.name)));
      }
    }
    return g;
  }

  private importNode(np: NodeProto, g: Graph, values: Scope, isMain: boolean): void {
    const lookup = (name: string): Value | undefined => {
      const x = values.get(name);
      return x instanceof Value ? x : undefined;
    };
    const domain = normDomain(np.domain);
    const opset = this.opsets.get(domain) ?? fail('E_MODEL', `${this.where()}: node "${np.name}" (${np.opType}) uses domain '${domain}', which the model does not import`);
    const origin = np.name || np.output.find((o) => o !== '') || np.opType;
    const describe = `${np.opType} (node "${origin}", domain ${domain || 'ai.onnx'}, opset ${opset})`;
    // Sequences and optionals are resolved here (ops/sequence.ts); other ops take tensors only.
    const items = np.input.map((name) => (name === '' ? null : values.get(name) ?? null));
    const resolver = findResolver(domain, np.opType);
    // (Resolvers exist for the default domain only.)
    if (resolver && this.resolve(resolver, np, opset, origin, describe, items, g, values, isMain)) return;
    const structured = np.input.find((_, i) => isSeq(items[i]) || isOpt(items[i]));
    if (structured !== undefined) fail('E_UNSUPPORTED', `${this.where()}: ${describe} reads '${structured}', a sequence or an optional; aic resolves those only in the sequence ops and in an If or a Loop it can inline`);
    const rule = findOnnxOp(domain, np.opType, opset) ??
      fail('E_UNSUPPORTED', `${this.where()}: op ${describe} is not supported`, 'run `aic ops` for the supported ops and opset ranges');
    const opName = irOpName(domain, np.opType);
    ensureIrOp(opName, domain);

    const operands = (): (Value | null)[] => np.input.map((name) => {
      if (name === '') return null;
      return lookup(name) ?? fail('E_MODEL', `${this.where()}: ${describe} reads '${name}', which is not defined`);
    });
    // Bodies are imported last: their input types may follow from the operands and other attributes.
    const attrs: Record<string, Attr> = { opset: A.int(opset) };
    const isGraph = (a: AttributeProto): boolean => a.type === ATTRIBUTE_TYPE.GRAPH || a.type === ATTRIBUTE_TYPE.GRAPHS;
    for (const a of np.attribute) if (!isGraph(a)) attrs[a.name] = this.attr(a, values, describe);
    const bodyTypes = np.attribute.some(isGraph) && rule.subgraphInputs
      ? rule.subgraphInputs(new Node(opName, operands(), [], attrs, origin), operands().map((v) => v?.type ?? null))
      : {};
    for (const a of np.attribute) {
      if (!isGraph(a)) continue;
      const types = bodyTypes[a.name];
      // A body the op will not run stays out (it may not even type-check for these operands).
      attrs[a.name] = types === 'unused' ? A.graph(new Graph(a.g?.name || a.name)) : this.attr(a, values, describe, types);
    }

    // Infer result types by lowering into a scratch graph. A rule that needs a graph input as a
    // constant may get it from `specialize`; the input then becomes a constant of this graph.
    let inputs = operands();
    const scratch = new GraphBuilder(new Graph('scratch'), { fold: true, origin });
    const probe = new Node(opName, inputs, [], attrs, origin);
    const specializeHook = isMain && this.opts.specialize ? (v: Value): Tensor | undefined => this.specializeInput(v, g, values) : undefined;
    // A rule may lower a body with other input types than it was imported with (a Loop-carried value
    // whose shape changes); import folded shape arithmetic of the old types, so import it again.
    const retyped = new Map<Graph, Graph>();
    const lowerSub = (sub: Graph, types?: readonly (TensorType | null)[]): Graph =>
      lowerGraph(types ? this.retypedBody(sub, types, retyped) : sub, new Map(), this.opsets, types);
    const ctx = new LowerContext(scratch, probe, opset, np.output.length, lowerSub, specializeHook);
    let results: (Value | null)[];
    try {
      results = ctx.run(() => rule.lower(ctx));
    } catch (e) {
      if (e instanceof AicError) throw e.message.startsWith(this.where()) ? e : e.withContext(this.where());
      throw e;
    }
    if (results.length < np.output.length) fail('E_TYPE', `${this.where()}: ${describe}: lowering gave ${results.length} results for ${np.output.length} outputs`);
    inputs = operands(); // specialization may have replaced inputs by constants

    const wanted = np.output.map((name, i) => (name === '' ? null : results[i] ?? null));
    const missing = np.output.findIndex((name, i) => name !== '' && !wanted[i]);
    if (missing >= 0) fail('E_UNSUPPORTED', `${this.where()}: ${describe}: output ${missing} cannot be produced`);
    const folded = wanted.every((v) => v === null || constantOf(v) !== undefined);
    if (folded) {
      np.output.forEach((name, i) => {
        const v = wanted[i];
        if (!v) return;
        const c = new Node('prim.const', [], [v.type], { value: A.tensor(constantOf(v)!) }, origin);
        g.nodes.push(c);
        values.set(name, named(c.output, name));
      });
      return;
    }
    const types: TensorType[] = np.output.map((_, i) => results[i]?.type ?? { dtype: 'f32', shape: [0] });
    for (const [k, a] of Object.entries(attrs)) {
      const latest = a.kind === 'graph' ? retyped.get(a.value) : undefined;
      if (latest) attrs[k] = A.graph(latest);
    }
    const node = new Node(opName, inputs, types, attrs, origin);
    g.nodes.push(node);
    np.output.forEach((name, i) => {
      if (name !== '') values.set(name, named(node.outputs[i]!, name));
    });
  }

  /** Turn a main-graph input into a constant with the value the caller provides. */
  private specializeInput(v: Value, g: Graph, values: Scope): Tensor | undefined {
    const name = v.name;
    if (!g.inputs.includes(v)) {
      // A value computed from graph inputs: if each of them has a value to offer, start again with them constant.
      const cone = inputsFeeding(v, g);
      if (cone.length > 0 && cone.every((x) => x.name !== undefined && this.opts.specialize?.(x.name) !== undefined)) {
        throw new SpecializeAndRetry(cone.map((x) => x.name!), new AicError('E_UNSUPPORTED', `a constant was needed from inputs ${cone.map((x) => `'${x.name}'`).join(', ')}`));
      }
      return undefined;
    }
    if (name === undefined) return undefined;
    const t = this.opts.specialize?.(name);
    if (!t) return undefined;
    if (t.dtype !== v.dtype) fail('E_RUNTIME', `input '${name}' is ${v.dtype}, the value given is ${t.dtype}`);
    const c = new Node('prim.const', [], [{ dtype: t.dtype, shape: t.shape }], { value: A.tensor(t) }, name);
    g.nodes.unshift(c);
    g.inputs = g.inputs.filter((x) => x !== v);
    g.replaceAllUses(v, c.output);
    values.set(name, named(c.output, name));
    this.specialized.push(name);
    return t;
  }

  private attr(a: AttributeProto, scope: ReadonlyMap<string, Item>, describe: string, bodyTypes?: readonly (TensorType | null)[]): Attr {
    const where = `${describe} attribute ${a.name}`;
    const text = (s: Uint8Array): string => new TextDecoder().decode(s);
    const int = (v: Parameters<typeof int64ToNumber>[0]): number => {
      // INT64_MAX/MIN (Slice ends) do not fit a double exactly; clamp them, the rules clamp anyway.
      try {
        return int64ToNumber(v, where);
      } catch {
        return typeof v === 'number' ? v : v.high < 0 ? -(2 ** 62) : 2 ** 62;
      }
    };
    if (a.refAttrName) fail('E_UNSUPPORTED', `${this.where()}: ${where} refers to a function attribute`);
    switch (a.type) {
      case ATTRIBUTE_TYPE.FLOAT: return A.float(a.f);
      case ATTRIBUTE_TYPE.INT: return A.int(int(a.i));
      case ATTRIBUTE_TYPE.STRING: return A.string(text(a.s));
      case ATTRIBUTE_TYPE.FLOATS: return A.floats([...a.floats]);
      case ATTRIBUTE_TYPE.INTS: return A.ints(a.ints.map(int));
      case ATTRIBUTE_TYPE.STRINGS: return A.strings(a.strings.map(text));
      case ATTRIBUTE_TYPE.TENSOR: return A.tensor(this.tensor(() => tensorFromProto(a.t!, this.opts.readExternal), where));
      case ATTRIBUTE_TYPE.SPARSE_TENSOR: return A.tensor(this.tensor(() => tensorFromSparse(a.sparseTensor!, this.opts.readExternal), where));
      case ATTRIBUTE_TYPE.GRAPH: {
        const g = this.importGraph(a.g!, scope, false, bodyTypes);
        this.bodySources.set(g, { proto: a.g!, scope: new Map(scope) });
        return A.graph(g);
      }
      case ATTRIBUTE_TYPE.GRAPHS: return A.graphs(a.graphs.map((sub) => this.importGraph(sub, scope, false)));
      default:
        return fail('E_UNSUPPORTED', `${this.where()}: ${where} has attribute type ${a.type}, which aic does not read`);
    }
  }

  /** Run a sequence resolver on a node; false when it leaves the node to its ordinary rule. */
  private resolve(resolver: Resolver, np: NodeProto, opset: number, origin: string, describe: string,
    items: readonly (Item | null)[], g: Graph, values: Scope, isMain: boolean): boolean {
    const attrs: Record<string, Attr> = { opset: A.int(opset) };
    const plain: number[] = [ATTRIBUTE_TYPE.GRAPH, ATTRIBUTE_TYPE.GRAPHS, ATTRIBUTE_TYPE.TYPE_PROTO, ATTRIBUTE_TYPE.TYPE_PROTOS];
    for (const a of np.attribute) if (!plain.includes(a.type)) attrs[a.name] = this.attr(a, values, describe);
    const body = (name: string): GraphProto =>
      np.attribute.find((a) => a.name === name)?.g ?? fail('E_MODEL', `${this.where()}: ${describe} has no graph attribute ${name}`);
    const where = (m: string): string => `${this.where()}: ${describe}: ${m}`;
    const ctx: ResolveContext = {
      node: new Node(irOpName(DEFAULT_DOMAIN, np.opType), [], [], attrs, origin),
      opset,
      items,
      numOutputs: np.output.length,
      b: new GraphBuilder(g, { fold: true, origin }),
      constant: (i) => {
        const v = items[i];
        if (!(v instanceof Value)) return undefined;
        return constantOf(v) ?? (isMain && this.opts.specialize ? this.specializeInput(v, g, values) : undefined);
      },
      inline: (name, args) => this.inlineBody(body(name), args, g, values, isMain),
      structured: (name) => usesStructures(body(name), values),
      fail: (m) => fail('E_TYPE', where(m)),
      unsupported: (m) => fail('E_UNSUPPORTED', where(m)),
    };
    let results: (Item | null)[] | undefined;
    try {
      results = resolver(ctx);
    } catch (e) {
      if (e instanceof AicError) throw e.message.startsWith(this.where()) ? e : e.withContext(this.where());
      throw e;
    }
    if (!results) return false;
    np.output.forEach((name, i) => {
      const x = results[i];
      if (name === '') return;
      if (!x) fail('E_UNSUPPORTED', where(`output ${i} cannot be produced`));
      values.set(name, x instanceof Value ? named(x, name) : x);
    });
    return true;
  }

  /** Import a body's nodes into g itself, its inputs bound to `args` (a SequenceMap body per element, the
   * taken branch of an If, one iteration of an unrolled Loop); returns what its outputs denote. */
  private inlineBody(gp: GraphProto, args: readonly (Item | null)[], g: Graph, outer: Scope, isMain: boolean): Item[] {
    const values: Scope = new Map(outer);
    const b = new GraphBuilder(g);
    for (const t of gp.initializer) values.set(t.name, b.const(this.tensor(() => tensorFromProto(t, this.opts.readExternal), `initializer '${t.name}'`)));
    gp.input.forEach((vi, i) => {
      const a = args[i] ?? fail('E_MODEL', `${this.where()}: body '${gp.name}' input '${vi.name}' is not given`);
      values.set(vi.name, a);
    });
    for (const np of this.topoSort(gp, (n) => values.has(n))) this.importNode(np, g, values, isMain);
    return gp.output.map((o) => values.get(o.name) ?? fail('E_MODEL', `${this.where()}: body output '${o.name}' is never produced`));
  }

  /** A main-graph input declared as a sequence or an optional, from the value the caller offers: a sequence
   * of n tensors becomes n tensor inputs `name[k]`, typed as the offered tensors; an optional, its content
   * (see ImportOptions.structuredInput). */
  private structuredInput(vi: ValueInfoProto, g: Graph): Item {
    const where = `${this.where()}: input '${vi.name}'`;
    const given = this.opts.structuredInput?.(vi.name);
    if (given === undefined) fail('E_UNSUPPORTED', `${where} is a sequence or an optional; aic compiles one only for given contents (their structure is fixed when compiling)`);
    const elemType = (t: TypeProto | null | undefined): number | undefined =>
      t?.tensorType ? t.tensorType.elemType : t?.sequenceType ? elemType(t.sequenceType.elemType) : t?.optionalType ? elemType(t.optionalType.elemType) : undefined;
    const declared = elemType(vi.type);
    const tensorInput = (t: Tensor, name: string): Value => {
      if (declared !== undefined && dtypeFromOnnx(declared) !== t.dtype) fail('E_RUNTIME', `${where} holds ${onnxTypeName(declared)}, the value given is ${t.dtype}`);
      const v = new Value({ dtype: t.dtype, shape: [...t.shape] }, name);
      g.inputs.push(v);
      return v;
    };
    const seq = (ts: Tensor[]): Item => ({ seq: ts.map((t, k) => tensorInput(t, `${vi.name}[${k}]`)) });
    const isSeqType = (t: TypeProto | null | undefined): boolean => !!(t?.sequenceType || t?.optionalType?.elemType?.sequenceType);
    if (vi.type?.sequenceType) return Array.isArray(given) ? seq(given) : fail('E_RUNTIME', `${where} is a sequence, the value given is not`);
    if (given === null) return { opt: null };
    if (isSeqType(vi.type) !== Array.isArray(given)) fail('E_RUNTIME', `${where}: the value given does not match the optional's type`);
    return { opt: Array.isArray(given) ? seq(given) as { seq: Value[] } : tensorInput(given, vi.name) };
  }

  /** `body` imported again with other input types, when they differ from those it has (see importNode). */
  private retypedBody(body: Graph, types: readonly (TensorType | null)[], retyped: Map<Graph, Graph>): Graph {
    const current = retyped.get(body) ?? body;
    const same = current.inputs.every((v, i) => {
      const t = types[i];
      return !t || (t.dtype === v.dtype && t.shape.length === v.shape.length && t.shape.every((d, j) => d === v.shape[j]));
    });
    const source = this.bodySources.get(body);
    if (same || !source) return current;
    const g = this.importGraph(source.proto, source.scope, false, current.inputs.map((v, i) => types[i] ?? v.type));
    retyped.set(body, g);
    return g;
  }

  private tensor(f: () => Tensor, what: string): Tensor {
    try {
      return f();
    } catch (e) {
      if (e instanceof AicError) throw e.withContext(`${this.where()}, ${what}`);
      throw e;
    }
  }

  /** A body input's type: as declared when that is complete (a dtype and static dims), else the type the
   * node's operands imply, else as declared (unknown dims become fresh symbols). */
  private bodyInputType(vi: ValueInfoProto, implied: TensorType | null): TensorType {
    if (!implied) return this.valueType(vi);
    const t = vi.type?.tensorType;
    const complete = t && t.shape && t.shape.dim.every((d) => d.value === 'dimValue');
    if (complete) {
      const declared = this.valueType(vi);
      if (declared.dtype === implied.dtype && declared.shape.length === implied.shape.length) return declared;
    }
    return implied;
  }

  private valueType(vi: ValueInfoProto): TensorType {
    const t: TypeProto | null = vi.type;
    const where = `${this.where()}: input '${vi.name}'`;
    if (!t || !t.tensorType) {
      const kind = t?.sequenceType ? 'a sequence' : t?.optionalType ? 'an optional' : t?.mapType ? 'a map' : 'not a tensor';
      return fail('E_UNSUPPORTED', `${where} is ${kind}; aic takes tensor inputs only`);
    }
    const elem = t.tensorType.elemType;
    const dtype = (() => {
      try {
        return dtypeFromOnnx(elem);
      } catch {
        return fail('E_UNSUPPORTED', `${where} has element type ${onnxTypeName(elem)}, which aic does not support yet`);
      }
    })();
    const shape: Dim[] = (t.tensorType.shape?.dim ?? []).map((d) => {
      if (d.value === 'dimValue') {
        const n = int64ToNumber(d.dimValue, where);
        if (n < 0 || n > 2 ** 31 - 1) fail('E_LIMIT', `${where}: dim ${n} is out of range`);
        return n;
      }
      if (d.value === 'dimParam' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d.dimParam)) return d.dimParam;
      return `_d${this.symbolCount++}`;
    });
    if (!t.tensorType.shape) fail('E_UNSUPPORTED', `${where} has unknown rank`);
    return { dtype, shape };
  }

  /** Nodes in an order where every operand is defined first; cycles and undefined names are errors. */
  private topoSort(gp: GraphProto, definedOutside: (name: string) => boolean): NodeProto[] {
    const producer = new Map<string, number>();
    gp.node.forEach((n, i) => n.output.forEach((o) => {
      if (o !== '') producer.set(o, i);
    }));
    const state = new Uint8Array(gp.node.length); // 0 new, 1 on the stack, 2 done
    const order: NodeProto[] = [];
    const visit = (start: number): void => {
      // Iterative DFS: models have chains of thousands of nodes.
      const stack: [number, number][] = [[start, 0]];
      state[start] = 1;
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const [i, k] = top;
        const n = gp.node[i]!;
        const deps = nodeReads(n);
        if (k < deps.length) {
          top[1]++;
          const name = deps[k]!;
          const p = producer.get(name);
          if (p === undefined) {
            if (!definedOutside(name)) {
              fail('E_MODEL', `${this.where()}: node "${n.name || n.opType}" (${n.opType}) reads '${name}', which is not defined`);
            }
            continue;
          }
          if (state[p] === 1) fail('E_MODEL', `${this.where()}: the graph has a cycle through node "${gp.node[p]!.name || gp.node[p]!.opType}" (${gp.node[p]!.opType})`);
          if (state[p] === 0) {
            state[p] = 1;
            stack.push([p, 0]);
          }
          continue;
        }
        state[i] = 2;
        order.push(n);
        stack.pop();
      }
    };
    gp.node.forEach((_, i) => {
      if (state[i] === 0) visit(i);
    });
    return order;
  }
}

/** Names a node reads, including names its subgraphs capture from this scope. */
function nodeReads(n: NodeProto): string[] {
  const names = n.input.filter((s) => s !== '');
  for (const a of n.attribute) {
    for (const g of a.g ? [a.g] : a.graphs) names.push(...capturedNames(g));
  }
  return names;
}

function capturedNames(g: GraphProto): string[] {
  const local = new Set<string>([...g.input.map((v) => v.name), ...g.initializer.map((t) => t.name)]);
  for (const n of g.node) for (const o of n.output) local.add(o);
  const out: string[] = [];
  for (const n of g.node) for (const name of nodeReads(n)) if (!local.has(name)) out.push(name);
  for (const o of g.output) if (!local.has(o.name)) out.push(o.name);
  return out;
}

/** Whether a body declares or yields a sequence or an optional, or reads one from `scope`. */
function usesStructures(gp: GraphProto, scope: ReadonlyMap<string, Item>): boolean {
  const structured = (t: TypeProto | null): boolean => !!(t?.sequenceType || t?.optionalType);
  if ([...gp.input, ...gp.output].some((vi) => structured(vi.type))) return true;
  if (gp.node.some((n) => SEQUENCE_OP.test(n.opType))) return true;
  return capturedNames(gp).some((n) => {
    const x = scope.get(n);
    return isSeq(x) || isOpt(x);
  });
}
const SEQUENCE_OP = /^(Sequence|SplitToSequence$|ConcatFromSequence$|Optional)/;

function named(v: Value, name: string): Value {
  if (v.name === undefined) v.name = name;
  return v;
}

/** Register `onnx.<Type>` in the IR op table the first time it is imported (for the verifier and
 * printer); its inference is its lowering run on operand types. */
function ensureIrOp(name: string, domain: string): void {
  if (findOp(name)) return;
  const type = name.slice(name.indexOf('.') + 1);
  registerOp({
    name,
    summary: `ONNX ${domain || 'ai.onnx'} ${type}, lowered to prims by its rule`,
    arity: { min: 0, max: Infinity },
    attrs: { opset: { kind: 'int', required: true } },
    openAttrs: true,
    infer(node) {
      const opset = node.int('opset');
      const rule = findOnnxOp(domain, type, opset) ?? fail('E_UNSUPPORTED', `${node.describe()}: no rule for opset ${opset}`);
      const b = new GraphBuilder(new Graph('scratch'), { fold: true, origin: node.origin });
      const ctx = new LowerContext(b, node, opset, node.outputs.length, (sub, types) => (types ? lowerGraph(sub, new Map(), undefined, types) : sub));
      const results = ctx.run(() => rule.lower(ctx));
      // A dim only the data decides (NonZero's count) is a fresh symbol in every run of the rule: where the
      // node declares a symbol there, keep the declared one.
      const operandSyms = new Set(node.inputs.flatMap((v) => v?.shape.filter((d) => typeof d === 'string') ?? []));
      return node.outputs.map((o, i) => {
        const t = results[i]?.type;
        if (!t) return o.type;
        const fresh = (d: Dim, j: number): boolean => typeof d === 'string' && !operandSyms.has(d) && typeof o.shape[j] === 'string';
        return t.shape.some(fresh) ? { dtype: t.dtype, shape: t.shape.map((d, j) => (fresh(d, j) ? o.shape[j]! : d)) } : t;
      });
    },
  });
}

/** The inputs of g that v is computed from (through nodes of g, not into subgraphs). */
function inputsFeeding(v: Value, g: Graph): Value[] {
  const found = new Set<Value>();
  const seen = new Set<Value>();
  const stack = [v];
  while (stack.length > 0) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (g.inputs.includes(x)) found.add(x);
    for (const y of x.producer?.inputs ?? []) if (y) stack.push(y);
  }
  return [...found];
}
