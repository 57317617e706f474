// The IR printer: a Graph as the text of docs/IR-TEXT.md, which src/ir/parser.ts reads back.
//
//   graph @softmax(%x: f32[2,8]) -> (%y: f32[2,8]) {
//     %m = prim.reduce_max(%x) {axes=[1], keepdims=1} : f32[2,1]
//     ...
//   }
//
// The output is deterministic: attributes sorted by name, values named by their own name when it is
// unique in the whole text and numbered otherwise, floats in the shortest form that reads back exactly.
import type { Attr, Attrs } from './attr.js';
import { isFloat, type DType } from './dtype.js';
import type { Dim } from './shape.js';
import type { Graph, Node, TensorType, Value } from './graph.js';
import type { Tensor } from './tensor.js';
import { roundToDType } from './numeric.js';
import { toRawBytes } from './raw-bytes.js';

/** Tensors with more elements than this print as raw little-endian hex. */
export const MAX_LIST_ELEMENTS = 64;

const VALUE_IDENT = /^[A-Za-z0-9_.$:/-]+$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INDENT = '  ';

export interface PrintOptions {
  /** Print tensors with more elements than this as `dense<f32[64,3,7,7]: elided>`, to keep dumps of
   * real models readable (`--print-ir-after`). Such text does not parse back. */
  readonly elideTensorsOver?: number;
}

/** The whole graph, nested graphs included, ending with a newline. */
export function printGraph(g: Graph, opts: PrintOptions = {}): string {
  return `${graphText(g, new Namer(g, opts), 0)}\n`;
}

/** One node on one line (nested graphs spread over several), naming values by name or id. For messages. */
export function printNode(n: Node): string {
  return nodeText(n, new Namer(undefined, {}), 0);
}

/** `f32[2,N]`; a symbol that is not an identifier is quoted: `f32["batch size"]`. */
export function printType(t: TensorType): string {
  return `${t.dtype}[${t.shape.map(printDim).join(',')}]`;
}

/** An attribute value as it appears after `name=` (nested graphs laid out at depth 0). */
export function printAttr(a: Attr, opts: PrintOptions = {}): string {
  return attrText(a, new Namer(undefined, opts), 0);
}

/** A double in the shortest form that reads back to it, always recognizable as a float. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** An integer attribute without exponent notation, which would read back as a float. */
export function formatInt(x: number): string {
  return Number.isInteger(x) ? BigInt(x).toString() : String(x);
}

/** `%x`, or `%"a b"` for a name that is not a value identifier. */
export function quoteValueName(name: string): string {
  return isValueIdent(name) ? name : JSON.stringify(name);
}

// A ':' not followed by a digit reads as the ':' before a type (`%x:f32[]`), so such names are quoted.
const isValueIdent = (s: string): boolean => VALUE_IDENT.test(s) && !/:(?![0-9])/.test(s);

const printDim = (d: Dim): string => (typeof d === 'number' ? String(d) : IDENT.test(d) ? d : JSON.stringify(d));

const printKey = (k: string): string => (IDENT.test(k) ? k : JSON.stringify(k));

/** Chooses the printed name of every value in a text, once, before printing; carries the options. */
class Namer {
  private readonly names = new Map<Value, string>();

  constructor(root: Graph | undefined, readonly opts: PrintOptions) {
    if (!root) return;
    const order: Value[] = [];
    const seen = new Set<Value>();
    const see = (v: Value | null): void => {
      if (v && !seen.has(v)) {
        seen.add(v);
        order.push(v);
      }
    };
    const walk = (g: Graph): void => {
      g.inputs.forEach(see);
      for (const n of g.nodes) {
        n.outputs.forEach(see);
        n.inputs.forEach(see); // only dangling uses are new here; they still need a printable name
        for (const sub of subgraphsInPrintOrder(n)) walk(sub);
      }
      g.outputs.forEach(see);
    };
    walk(root);

    const count = new Map<string, number>();
    for (const v of order) if (v.name) count.set(v.name, (count.get(v.name) ?? 0) + 1);
    let next = 0;
    for (const v of order) {
      if (v.name && count.get(v.name) === 1) {
        this.names.set(v, v.name);
        continue;
      }
      // Numbers skip every name in the text, so a number never collides with a kept name.
      while (count.has(String(next))) next++;
      this.names.set(v, String(next++));
    }
  }

  ref(v: Value): string {
    return `%${quoteValueName(this.names.get(v) ?? v.name ?? String(v.id))}`;
  }
}

function subgraphsInPrintOrder(n: Node): Graph[] {
  const out: Graph[] = [];
  for (const k of Object.keys(n.attrs).sort()) {
    const a = n.attrs[k]!;
    if (a.kind === 'graph') out.push(a.value);
    else if (a.kind === 'graphs') out.push(...a.value);
  }
  return out;
}

/** A graph whose header starts at the current position and whose body is indented one level past `depth`. */
function graphText(g: Graph, names: Namer, depth: number): string {
  const decl = (v: Value): string => `${names.ref(v)}: ${printType(v.type)}`;
  const pad = INDENT.repeat(depth);
  let s = `graph @${quoteValueName(g.name)}(${g.inputs.map(decl).join(', ')}) -> (${g.outputs.map(decl).join(', ')}) {\n`;
  for (const n of g.nodes) s += `${pad}${INDENT}${nodeText(n, names, depth + 1)}\n`;
  return `${s}${pad}}`;
}

function nodeText(n: Node, names: Namer, depth: number): string {
  const results = n.outputs.length > 0 ? `${n.outputs.map((v) => names.ref(v)).join(', ')} = ` : '';
  const operands = n.inputs.map((v) => (v ? names.ref(v) : '_')).join(', ');
  const types = n.outputs.length === 1 ? printType(n.outputs[0]!.type) : `(${n.outputs.map((v) => printType(v.type)).join(', ')})`;
  const loc = n.origin !== undefined ? ` loc(${JSON.stringify(n.origin)})` : '';
  return `${results}${n.op}(${operands})${attrsText(n.attrs, names, depth)} : ${types}${loc}`;
}

function attrsText(attrs: Attrs, names: Namer, depth: number): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 0) return '';
  return ` {${keys.map((k) => `${printKey(k)}=${attrText(attrs[k]!, names, depth)}`).join(', ')}}`;
}

function attrText(a: Attr, names: Namer, depth: number): string {
  switch (a.kind) {
    case 'int':
      return formatInt(a.value);
    case 'float':
      return formatFloat(a.value);
    case 'string':
      return JSON.stringify(a.value);
    case 'ints':
      return a.value.length === 0 ? 'ints[]' : `[${a.value.map(formatInt).join(', ')}]`;
    case 'floats':
      return a.value.length === 0 ? 'floats[]' : `[${a.value.map(formatFloat).join(', ')}]`;
    case 'strings':
      return a.value.length === 0 ? 'strings[]' : `[${a.value.map((s) => JSON.stringify(s)).join(', ')}]`;
    case 'dtype':
      return a.value;
    case 'tensor':
      return tensorText(a.value, names.opts);
    case 'graph':
      return graphText(a.value, names, depth);
    case 'graphs':
      return `graphs[${a.value.map((g) => graphText(g, names, depth)).join(', ')}]`;
  }
}

function tensorText(t: Tensor, opts: PrintOptions): string {
  const type = printType(t);
  if (opts.elideTensorsOver !== undefined && t.size > opts.elideTensorsOver) return `dense<${type}: elided>`;
  if (t.size > MAX_LIST_ELEMENTS) return `dense<${type}: ${tensorHex(t)}>`;
  const elems: string[] = [];
  for (let i = 0; i < t.size; i++) elems.push(formatElement(t.dtype, t.data[i]!));
  return `dense<${type}: [${elems.join(', ')}]>`;
}

function formatElement(dt: DType, v: number | bigint): string {
  if (typeof v === 'bigint') return v.toString();
  if (dt === 'bool') return v ? 'true' : 'false';
  // f8e8m0 rounds up, so its shortest round-trip decimal would read oddly (0.1 for 0.125): it prints exactly.
  if (isFloat(dt) && dt !== 'f64' && dt !== 'f8e8m0') return formatNarrowFloat(dt, v);
  if (dt === 'f64' || dt === 'f8e8m0') return formatFloat(v);
  return String(v);
}

/** The shortest decimal that the parser rounds back to this f32/f16/bf16/float8 element (`0.1`, not the
 * double `0.10000000149011612` that a float32 0.1 holds). */
function formatNarrowFloat(dt: DType, x: number): string {
  if (!Number.isFinite(x) || x === 0) return formatFloat(x);
  for (let p = 1; p <= 17; p++) {
    const d = Number(x.toPrecision(p));
    if (roundToDType(dt, d) === x) return formatFloat(d);
  }
  return formatFloat(x); // not representable in dt: a broken tensor, printed as it is
}

/** Raw little-endian bytes (raw-bytes.ts): 16- and 8-bit floats as their bit patterns (they are stored
 * widened to f32), sub-byte types packed. */
function tensorHex(t: Tensor): string {
  const bytes = toRawBytes(t.dtype, t.data);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0'); // no Node Buffer: the printer runs in browsers
  return `0x${hex}`;
}
