// The IR parser: the text of docs/IR-TEXT.md back into a Graph. A hand-written lexer and a
// recursive-descent parser, one method per grammar rule. It checks what the text alone decides
// (syntax, names in scope, one type per result, tensor sizes) and leaves op semantics to the verifier,
// so ops need not be registered to parse.
import { A, type Attr, type Attrs } from './attr.js';
import { DTYPE_INFO, isDType, type DType, type Storage } from './dtype.js';
import { fail } from './error.js';
import { Graph, Node, Value, type TensorType } from './graph.js';
import { roundToDType } from './numeric.js';
import { fromRawBytes, rawByteLength } from './raw-bytes.js';
import { numel, shapeEq, type Dim } from './shape.js';
import { Tensor } from './tensor.js';
import { printType, quoteValueName } from './printer.js';

/** Parse one graph; errors are AicError E_PARSE naming `file:line:col` and what was expected. */
export function parseGraph(text: string, file?: string): Graph {
  const p = new Parser(text, file);
  const g = p.graph();
  p.end();
  return g;
}

/** Parse a tensor literal such as `dense<f32[2]: [1.0, 2.0]>` (the kernel IR's weights use it). */
export function parseTensorLiteral(text: string, file?: string): Tensor {
  const p = new Parser(text, file);
  const t = p.dense();
  p.end();
  return t;
}

/** Parse a type such as `f32[2,N]` (handy in tests). */
export function parseType(text: string, file?: string): TensorType {
  const p = new Parser(text, file);
  const t = p.type();
  p.end();
  return t;
}

type TokenKind =
  | 'ident' // [A-Za-z_][A-Za-z0-9_]*: keywords, dtypes, dialects, attribute names, dim symbols
  | 'int'
  | 'float' // carries '.', an exponent, or is -inf / nan / -nan ('inf' and 'nan' alone are idents)
  | 'string' // text is the decoded string
  | 'value' // %name; text is the name
  | 'global' // @name; text is the name
  | 'hex' // 0x...; text is the digits
  | 'punct'
  | 'eof';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const PUNCT = '(){}[],=:<>.';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_');
const isIdentChar = (c: string | undefined): boolean => isIdentStart(c) || isDigit(c);
const isValueChar = (c: string | undefined): boolean =>
  isIdentChar(c) || c === '.' || c === '$' || c === ':' || c === '/' || c === '-';
const isHexDigit = (c: string | undefined): boolean =>
  isDigit(c) || (c !== undefined && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));

/** Values visible at a point: a nested graph sees the values its enclosing graphs defined before it. */
class Scope {
  private readonly values = new Map<string, { readonly value: Value; readonly at: Token }>();
  constructor(readonly parent: Scope | undefined) {}

  lookup(name: string): { readonly value: Value; readonly at: Token } | undefined {
    return this.values.get(name) ?? this.parent?.lookup(name);
  }

  define(name: string, value: Value, at: Token): void {
    this.values.set(name, { value, at });
  }
}

class Parser {
  private readonly src: string;
  private readonly file: string | undefined;
  private readonly toks: Token[];
  private pos = 0;
  private scope: Scope | undefined;

  constructor(src: string, file: string | undefined) {
    this.src = src;
    this.file = file;
    this.toks = this.lex();
  }

  // ---- grammar ----

  /** graph := 'graph' '@' name '(' params ')' '->' '(' results ')' '{' node* '}' */
  graph(): Graph {
    this.keyword('graph');
    const name = this.expect('global', 'a graph name (@name)').text;
    const params = this.declList('a parameter (%name)');
    this.punct('->');
    const results = this.declList('a result (%name)');
    this.punct('{');

    const outer = this.scope;
    this.scope = new Scope(outer);
    const inputs = params.map((p) => this.define(p.at, new Value(p.type)));
    const nodes: Node[] = [];
    while (!this.atPunct('}')) {
      const t = this.peek();
      if (t.kind !== 'value' && t.kind !== 'ident') this.fail(t, `expected a node or '}' to close graph @${quoteValueName(name)}, found ${this.describe(t)}`);
      nodes.push(this.node());
    }
    this.next();
    // Results are resolved after the body, where their definitions are.
    const outputs = results.map((r) => {
      const v = this.resolve(r.at);
      if (!typeEq(v.type, r.type)) {
        this.fail(r.typeAt, `result %${quoteValueName(r.at.text)} has type ${printType(v.type)}, declared ${printType(r.type)}`);
      }
      return v;
    });
    this.scope = outer;
    return new Graph(name, inputs, outputs, nodes);
  }

  /** '(' [value ':' type (',' value ':' type)*] ')' */
  private declList(what: string): { at: Token; type: TensorType; typeAt: Token }[] {
    this.punct('(');
    const out: { at: Token; type: TensorType; typeAt: Token }[] = [];
    if (!this.atPunct(')')) {
      do {
        const at = this.expect('value', what);
        this.punct(':');
        const typeAt = this.peek();
        out.push({ at, type: this.type(), typeAt });
      } while (this.eatPunct(','));
    }
    this.punct(')');
    return out;
  }

  /** node := [value (',' value)* '='] opname '(' operands ')' [attrs] ':' types [loc] */
  private node(): Node {
    const results: Token[] = [];
    if (this.peek().kind === 'value') {
      do results.push(this.expect('value', 'a result (%name)'));
      while (this.eatPunct(','));
      this.punct('=');
    }
    const op = this.opName();
    this.punct('(');
    const inputs: (Value | null)[] = [];
    if (!this.atPunct(')')) {
      do {
        const t = this.peek();
        if (t.kind === 'value') inputs.push(this.resolve(this.next()));
        else if (t.kind === 'ident' && t.text === '_') {
          this.next();
          inputs.push(null);
        } else this.fail(t, `expected an operand (%name or _), found ${this.describe(t)}`);
      } while (this.eatPunct(','));
    }
    this.punct(')');
    const attrs = this.atPunct('{') ? this.attrs() : {};
    this.punct(':');
    const typesAt = this.peek();
    const types = this.types();
    if (types.length !== results.length) {
      this.fail(typesAt, `expected ${results.length} type(s), one per result, found ${types.length}`);
    }
    let origin: string | undefined;
    if (this.peek().kind === 'ident' && this.peek().text === 'loc' && this.isPunct(this.peek(1), '(')) {
      this.next();
      this.next();
      origin = this.expect('string', 'a string').text;
      this.punct(')');
    }
    const node = new Node(op, inputs, types, attrs, origin);
    node.outputs.forEach((v, i) => this.define(results[i]!, v));
    return node;
  }

  /** opname := dialect '.' ident ('.' ident)* */
  private opName(): string {
    let name = this.expect('ident', 'an op name (dialect.op)').text;
    if (!this.atPunct('.')) this.fail(this.peek(), `expected '.' in op name ${name} (dialect.op), found ${this.describe(this.peek())}`);
    while (this.eatPunct('.')) name += `.${this.expect('ident', 'an op name (dialect.op)').text}`;
    return name;
  }

  /** types := type | '(' [type (',' type)*] ')' */
  private types(): TensorType[] {
    if (!this.eatPunct('(')) return [this.type()];
    const out: TensorType[] = [];
    if (!this.atPunct(')')) {
      do out.push(this.type());
      while (this.eatPunct(','));
    }
    this.punct(')');
    return out;
  }

  /** type := dtype '[' [dim (',' dim)*] ']' */
  type(): TensorType {
    const dtype = this.dtype();
    this.punct('[');
    const shape: Dim[] = [];
    if (!this.atPunct(']')) {
      do {
        const t = this.next();
        if (t.kind === 'int') shape.push(Number(t.text));
        else if (t.kind === 'ident' || t.kind === 'string') shape.push(t.text);
        else this.fail(t, `expected a dim (a size or a symbol), found ${this.describe(t)}`);
      } while (this.eatPunct(','));
    }
    this.punct(']');
    return { dtype, shape };
  }

  private dtype(): DType {
    const t = this.peek();
    if (t.kind !== 'ident' || !isDType(t.text)) this.fail(t, `expected a type (a dtype such as f32), found ${this.describe(t)}`);
    this.next();
    return t.text as DType;
  }

  /** attrs := '{' [attr (',' attr)*] '}' */
  private attrs(): Attrs {
    this.punct('{');
    const out: Record<string, Attr> = {};
    if (!this.atPunct('}')) {
      do {
        const t = this.next();
        if (t.kind !== 'ident' && t.kind !== 'string') this.fail(t, `expected an attribute name, found ${this.describe(t)}`);
        if (Object.hasOwn(out, t.text)) this.fail(t, `duplicate attribute ${t.text}`);
        this.punct('=');
        // defineProperty, so that a name such as __proto__ is an ordinary key.
        Object.defineProperty(out, t.text, { value: this.attrValue(), enumerable: true, writable: true, configurable: true });
      } while (this.eatPunct(','));
    }
    this.punct('}');
    return out;
  }

  private attrValue(): Attr {
    const t = this.peek();
    if (t.kind === 'int') return A.int(this.intNumber(this.next()));
    if (t.kind === 'float' || isFloatWord(t)) return A.float(floatNumber(this.next().text));
    if (t.kind === 'string') return A.string(this.next().text);
    if (this.isPunct(t, '[')) return this.list();
    if (t.kind === 'ident') {
      const empty = { ints: A.ints([]), floats: A.floats([]), strings: A.strings([]) } as const;
      if ((t.text === 'ints' || t.text === 'floats' || t.text === 'strings') && this.isPunct(this.peek(1), '[')) {
        this.next();
        this.next();
        this.punct(']');
        return empty[t.text];
      }
      if (t.text === 'graph') return A.graph(this.graph());
      if (t.text === 'graphs' && this.isPunct(this.peek(1), '[')) {
        this.next();
        this.next();
        const gs: Graph[] = [];
        if (!this.atPunct(']')) {
          do gs.push(this.graph());
          while (this.eatPunct(','));
        }
        this.punct(']');
        return A.graphs(gs);
      }
      if (t.text === 'dense') return A.tensor(this.dense());
      if (isDType(t.text)) return A.dtype(this.next().text as DType);
    }
    return this.fail(t, `expected an attribute value, found ${this.describe(t)}`);
  }

  /** A non-empty list; its first element fixes the kind (ints, floats or strings). */
  private list(): Attr {
    this.punct('[');
    const first = this.peek();
    if (this.isPunct(first, ']')) this.fail(first, `expected a list element (an empty list is written ints[], floats[] or strings[]), found ']'`);
    let attr: Attr;
    if (first.kind === 'int') {
      const xs: number[] = [];
      do xs.push(this.intNumber(this.expect('int', 'an int')));
      while (this.eatPunct(','));
      attr = A.ints(xs);
    } else if (first.kind === 'float' || isFloatWord(first)) {
      const xs: number[] = [];
      do {
        const t = this.next();
        if (t.kind !== 'float' && !isFloatWord(t)) this.fail(t, `expected a float, found ${this.describe(t)}`);
        xs.push(floatNumber(t.text));
      } while (this.eatPunct(','));
      attr = A.floats(xs);
    } else if (first.kind === 'string') {
      const xs: string[] = [];
      do xs.push(this.expect('string', 'a string').text);
      while (this.eatPunct(','));
      attr = A.strings(xs);
    } else return this.fail(first, `expected an int, a float or a string, found ${this.describe(first)}`);
    this.punct(']');
    return attr;
  }

  /** 'dense' '<' type ':' ('[' scalars ']' | 0x hex) '>' */
  dense(): Tensor {
    this.keyword('dense');
    this.punct('<');
    const typeAt = this.peek();
    const { dtype, shape } = this.type();
    const dims: number[] = [];
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) this.fail(typeAt, `expected a static shape for a dense tensor, found ${printType({ dtype, shape })}`);
      dims.push(d);
    }
    this.punct(':');
    const n = numel(dims);
    const t = this.peek();
    let data: Storage;
    if (t.kind === 'hex') data = this.hexElements(this.next(), dtype, n);
    else if (this.isPunct(t, '[')) data = this.listElements(dtype, n);
    else if (t.kind === 'ident' && t.text === 'elided') return this.fail(t, 'this tensor was elided when the graph was printed; its values are not in the text');
    else return this.fail(t, `expected tensor elements ('[...]' or 0x...), found ${this.describe(t)}`);
    this.punct('>');
    return new Tensor(dtype, dims, data);
  }

  private listElements(dtype: DType, n: number): Storage {
    const open = this.punct('[');
    const xs: (number | bigint)[] = [];
    if (!this.atPunct(']')) {
      do xs.push(this.scalar(dtype));
      while (this.eatPunct(','));
    }
    this.punct(']');
    // Checked before allocating, so a huge declared shape cannot allocate much.
    if (xs.length !== n) this.fail(open, `expected ${n} element(s) for this tensor, found ${xs.length}`);
    const data = new DTYPE_INFO[dtype].array(n);
    for (let i = 0; i < n; i++) (data as { [i: number]: number | bigint })[i] = xs[i]!;
    return data;
  }

  /** One element, already converted to what the dtype's storage holds. */
  private scalar(dtype: DType): number | bigint {
    const t = this.next();
    const info = DTYPE_INFO[dtype];
    if (info.kind === 'float') {
      // An int is accepted too: the dtype already says these are floats.
      if (t.kind !== 'float' && t.kind !== 'int' && !isFloatWord(t)) this.fail(t, `expected a float, found ${this.describe(t)}`);
      return roundToDType(dtype, floatNumber(t.text));
    }
    if (info.kind === 'bool') {
      if (t.kind !== 'ident' || (t.text !== 'true' && t.text !== 'false')) this.fail(t, `expected true or false, found ${this.describe(t)}`);
      return t.text === 'true' ? 1 : 0;
    }
    if (t.kind !== 'int') this.fail(t, `expected an int, found ${this.describe(t)}`);
    const b = BigInt(t.text);
    const bits = info.bits;
    const inRange = info.kind === 'int' ? BigInt.asIntN(bits, b) === b : BigInt.asUintN(bits, b) === b;
    if (!inRange) this.fail(t, `value ${t.text} is out of range for ${dtype}`);
    return info.big ? b : Number(b);
  }

  private hexElements(t: Token, dtype: DType, n: number): Storage {
    const want = rawByteLength(dtype, n) * 2;
    if (t.text.length !== want) this.fail(t, `expected ${want} hex digits for ${n} ${dtype} element(s), found ${t.text.length}`);
    const bytes = new Uint8Array(t.text.length / 2); // no Node Buffer: the parser runs in browsers
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(t.text.slice(2 * i, 2 * i + 2), 16);
    return fromRawBytes(dtype, bytes, n);
  }

  end(): void {
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, `expected end of input, found ${this.describe(t)}`);
  }

  // ---- names ----

  private define(at: Token, v: Value): Value {
    const scope = this.scope!;
    const prev = scope.lookup(at.text);
    // No shadowing: in the text a name means one value wherever it is visible.
    if (prev) this.fail(at, `duplicate definition of %${quoteValueName(at.text)} (first defined at ${this.lineCol(prev.at.start)})`);
    v.name = at.text;
    scope.define(at.text, v, at);
    return v;
  }

  private resolve(at: Token): Value {
    const found = this.scope?.lookup(at.text);
    if (!found) this.fail(at, `unknown value %${quoteValueName(at.text)} (not defined before this use)`);
    return found.value;
  }

  private intNumber(t: Token): number {
    const x = Number(t.text);
    return x === 0 ? 0 : x; // no -0 in an int attribute
  }

  // ---- tokens ----

  private peek(k = 0): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private isPunct(t: Token, p: string): boolean {
    return t.kind === 'punct' && t.text === p;
  }

  private atPunct(p: string): boolean {
    return this.isPunct(this.peek(), p);
  }

  private eatPunct(p: string): boolean {
    if (!this.atPunct(p)) return false;
    this.pos++;
    return true;
  }

  private punct(p: string): Token {
    const t = this.peek();
    if (!this.isPunct(t, p)) this.fail(t, `expected '${p}', found ${this.describe(t)}`);
    return this.next();
  }

  private keyword(word: string): void {
    const t = this.peek();
    if (t.kind !== 'ident' || t.text !== word) this.fail(t, `expected '${word}', found ${this.describe(t)}`);
    this.next();
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) this.fail(t, `expected ${what}, found ${this.describe(t)}`);
    return this.next();
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of input';
    const raw = this.src.slice(t.start, t.end);
    return `'${raw.length > 24 ? `${raw.slice(0, 24)}...` : raw}'`;
  }

  private lineCol(offset: number): string {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (this.src.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return `${line}:${offset - lineStart + 1}`;
  }

  private fail(t: Token | number, message: string): never {
    const at = this.lineCol(typeof t === 'number' ? t : t.start);
    return fail('E_PARSE', `${this.file !== undefined ? `${this.file}:` : ''}${at}: ${message}`);
  }

  // ---- lexer ----

  private lex(): Token[] {
    const src = this.src;
    const toks: Token[] = [];
    let i = 0;
    const push = (kind: TokenKind, text: string, start: number): void => {
      toks.push({ kind, text, start, end: i });
    };
    for (;;) {
      while (i < src.length) {
        const c = src[i];
        if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
        else if (c === '/' && src[i + 1] === '/') while (i < src.length && src[i] !== '\n') i++;
        else break;
      }
      const start = i;
      if (i >= src.length) {
        push('eof', '', start);
        return toks;
      }
      const c = src[i]!;
      if (c === '"') {
        const s = this.lexString(i);
        i = s.end;
        push('string', s.text, start);
      } else if (c === '%' || c === '@') {
        i++;
        let name: string;
        if (src[i] === '"') {
          const s = this.lexString(i);
          i = s.end;
          name = s.text;
        } else {
          // ':' belongs to the name only before a digit (`%conv1/W:0`); otherwise it starts the type (`%x:f32[]`).
          while (isValueChar(src[i]) && (src[i] !== ':' || isDigit(src[i + 1]))) i++;
          name = src.slice(start + 1, i);
          if (name === '') this.fail(start, `expected a name after '${c}', found ${i < src.length ? `'${src[i]}'` : 'end of input'}`);
        }
        push(c === '%' ? 'value' : 'global', name, start);
      } else if (c === '-' && src[i + 1] === '>') {
        i += 2;
        push('punct', '->', start);
      } else if (isDigit(c) || (c === '-' && (isDigit(src[i + 1]) || this.wordAt(i + 1, 'inf') || this.wordAt(i + 1, 'nan')))) {
        const num = this.lexNumber(start);
        i = num.end;
        push(num.kind, num.text, start);
      } else if (isIdentStart(c)) {
        while (isIdentChar(src[i])) i++;
        push('ident', src.slice(start, i), start);
      } else if (PUNCT.includes(c)) {
        i++;
        push('punct', c, start);
      } else {
        this.fail(start, `unexpected character ${JSON.stringify(c)}`);
      }
    }
  }

  private wordAt(i: number, word: string): boolean {
    return this.src.startsWith(word, i) && !isIdentChar(this.src[i + word.length]);
  }

  /** An int, a float or a hex blob starting at `start`. */
  private lexNumber(start: number): { kind: TokenKind; text: string; end: number } {
    const src = this.src;
    let i = start;
    let kind: TokenKind = 'int';
    if (src[i] === '-') i++;
    if (this.wordAt(i, 'inf') || this.wordAt(i, 'nan')) {
      i += 3;
      kind = 'float';
    } else if (i === start && src[i] === '0' && (src[i + 1] === 'x' || src[i + 1] === 'X')) {
      i += 2;
      while (isHexDigit(src[i])) i++;
      if (isIdentChar(src[i])) this.fail(start, `invalid hex literal ${JSON.stringify(src.slice(start, i + 1))}`);
      return { kind: 'hex', text: src.slice(start + 2, i), end: i };
    } else {
      while (isDigit(src[i])) i++;
      if (src[i] === '.') {
        kind = 'float';
        i++;
        while (isDigit(src[i])) i++;
      }
      if ((src[i] === 'e' || src[i] === 'E') && (isDigit(src[i + 1]) || ((src[i + 1] === '+' || src[i + 1] === '-') && isDigit(src[i + 2])))) {
        kind = 'float';
        i += 2;
        while (isDigit(src[i])) i++;
      }
    }
    if (isIdentChar(src[i]) || src[i] === '.') this.fail(start, `invalid number ${JSON.stringify(src.slice(start, i + 1))}`);
    return { kind, text: src.slice(start, i), end: i };
  }

  /** A JSON string literal starting at `start` (the opening quote). */
  private lexString(start: number): { text: string; end: number } {
    const src = this.src;
    let i = start + 1;
    while (i < src.length && src[i] !== '"' && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
    if (i >= src.length || src[i] !== '"') this.fail(start, 'unterminated string');
    const raw = src.slice(start, i + 1);
    let text: unknown;
    try {
      text = JSON.parse(raw);
    } catch {
      this.fail(start, `invalid string literal ${raw.length > 24 ? `${raw.slice(0, 24)}...` : raw}`);
    }
    return { text: text as string, end: i + 1 };
  }
}

const isFloatWord = (t: Token): boolean => t.kind === 'ident' && (t.text === 'inf' || t.text === 'nan');

function floatNumber(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan' || text === '-nan') return NaN;
  return Number(text);
}

const typeEq = (a: TensorType, b: TensorType): boolean => a.dtype === b.dtype && shapeEq(a.shape, b.shape);
