// The kernel IR text (docs/KERNEL-IR.md) back into a Program: a lazy lexer and a recursive-descent parser,
// one method per grammar rule. Extern kernels hold graph IR text, which src/ir/parser.ts reads; weights
// hold `dense<…>` literals, which it reads too.
import { isDType, isFloat, DTYPE_INFO, type DType } from '../ir/dtype.js';
import { fail } from '../ir/error.js';
import { parseGraph, parseTensorLiteral } from '../ir/parser.js';
import type { Dim } from '../ir/shape.js';
import type { Tensor } from '../ir/tensor.js';
import { ix, type IndexExpr } from './index-expr.js';
import { COMBINERS, type Axis, type Combiner, type Expr, type Kernel, type Stmt } from './kernel.js';
import type { Buffer, BufferRole, Program } from './program.js';

export function parseProgram(text: string, file?: string): Program {
  const p = new KParser(text, file);
  const prog = p.program();
  p.end();
  return prog;
}

/** One index expression, e.g. `(4*i0 + i1) // 6` (for tests). */
export function parseIndex(text: string): IndexExpr {
  const p = new KParser(text, undefined);
  const e = p.index();
  p.end();
  return e;
}

/** A kernel on its own (for tests): `kernel k0 (i0 < 4) { … }`. */
export function parseKernel(text: string, file?: string): Kernel {
  const p = new KParser(text, file);
  const k = p.kernel();
  p.end();
  return k;
}

type Kind = 'ident' | 'int' | 'float' | 'string' | 'buf' | 'ref' | 'sym' | 'punct' | 'eof';

interface Tok {
  readonly kind: Kind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const ROLES: readonly BufferRole[] = ['input', 'output', 'weight', 'temp'];
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isIdentStart = (c: string | undefined): boolean => c !== undefined && (/[A-Za-z_]/.test(c));
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_.]/.test(c);

class KParser {
  private pos = 0;
  private look: Tok | undefined;

  constructor(private readonly src: string, private readonly file: string | undefined) {}

  // ---- grammar ----

  program(): Program {
    this.keyword('program');
    const name = this.nameAfter('@');
    const inputs = this.bufList();
    this.punct('->');
    const outputs = this.bufList();
    this.punct('{');
    this.keyword('arena');
    const arenaBytes = this.int();
    const buffers: Buffer[] = [];
    const kernels: Kernel[] = [];
    while (this.atWord('buffer')) buffers.push(this.buffer());
    while (this.atWord('kernel') || this.atWord('extern')) kernels.push(this.kernel());
    this.punct('}');
    const names = new Set(buffers.map((b) => b.name));
    for (const n of [...inputs, ...outputs]) if (!names.has(n)) this.fail(this.pos, `buffer @${n} is not declared`);
    return { name, buffers, inputs, outputs, kernels, arenaBytes };
  }

  private buffer(): Buffer {
    this.keyword('buffer');
    const name = this.bufName();
    this.punct(':');
    const { dtype, shape } = this.type();
    const roleTok = this.next();
    const role = ROLES.find((r) => r === roleTok.text) ?? this.fail(roleTok, `expected a buffer role (${ROLES.join(', ')}), found ${this.describe(roleTok)}`);
    let label: string | undefined;
    if (this.peek().kind === 'string') label = this.string();
    let offset: number | undefined;
    if (role === 'temp') {
      if (this.atWord('at')) {
        this.next();
        offset = this.int();
      } else this.keyword('dynamic');
    }
    let data: Tensor | undefined;
    if (this.atPunct('=')) {
      this.next();
      data = this.denseRaw();
    }
    return { name, dtype, shape, role, ...(label !== undefined ? { label } : {}), ...(offset !== undefined ? { offset } : {}), ...(data ? { data } : {}) };
  }

  kernel(): Kernel {
    const t = this.next();
    if (t.kind !== 'ident' || (t.text !== 'kernel' && t.text !== 'extern')) this.fail(t, `expected 'kernel' or 'extern', found ${this.describe(t)}`);
    const name = this.ident('a kernel name');
    const note = this.peek().kind === 'string' ? this.string() : undefined;
    if (t.text === 'extern') {
      const inputs = this.bufList();
      this.punct('->');
      const outputs = this.bufList();
      const graph = parseGraph(this.bracedRaw(), this.file);
      return { kind: 'extern', name, inputs, outputs, graph, ...(note !== undefined ? { note } : {}) };
    }
    const domain = this.axes();
    const body = this.block();
    return { kind: 'loop', name, domain, body, ...(note !== undefined ? { note } : {}) };
  }

  private axes(): Axis[] {
    this.punct('(');
    const axes: Axis[] = [];
    if (!this.atPunct(')')) {
      do {
        const name = this.ident('an axis name');
        this.punct('<');
        axes.push({ name, extent: this.index() });
      } while (this.eatPunct(','));
    }
    this.punct(')');
    return axes;
  }

  private block(): Stmt[] {
    this.punct('{');
    const body: Stmt[] = [];
    while (!this.atPunct('}')) body.push(this.stmt());
    this.punct('}');
    return body;
  }

  private stmt(): Stmt {
    const t = this.peek();
    if (t.kind === 'ref') {
      const id = this.ref();
      this.punct('=');
      return this.rhs(id);
    }
    if (t.kind === 'ident' && t.text === 'loop') {
      this.next();
      const axes = this.axes();
      return { kind: 'loop', axes, body: this.block() };
    }
    if (t.kind === 'ident' && t.text === 'store') {
      this.next();
      const buffer = this.bufName();
      this.punct('[');
      const index = this.index();
      this.punct(']');
      this.punct('=');
      return { kind: 'store', buffer, index, value: this.ref() };
    }
    if (t.kind === 'ident' && t.text === 'check') {
      this.next();
      const cond = this.ref();
      return { kind: 'check', cond, message: this.string() };
    }
    return this.fail(t, `expected a statement (%n = …, loop, store, check), found ${this.describe(t)}`);
  }

  private rhs(id: number): Stmt {
    const opTok = this.next();
    if (opTok.kind !== 'ident') this.fail(opTok, `expected an operation, found ${this.describe(opTok)}`);
    const op = opTok.text;
    if (op === 'inbounds') {
      this.punct('[');
      const index = this.index();
      this.punct(']');
      this.punct('<');
      return { kind: 'let', id, dtype: 'bool', expr: { op: 'inbounds', index, extent: this.index() } };
    }
    if (op === 'reduce') {
      const cTok = this.next();
      const combiner = COMBINERS.find((c) => c === cTok.text) ?? this.fail(cTok, `expected a combiner (${COMBINERS.join(', ')}), found ${this.describe(cTok)}`);
      const dtype = this.dtype();
      const axes = this.axes();
      let selectLast = false;
      if (this.atWord('last')) {
        this.next();
        selectLast = true;
      }
      const body = this.block();
      this.punct('->');
      const operands = [this.ref()];
      while (this.eatPunct(',')) operands.push(this.ref());
      return { kind: 'reduce', id, dtype, combiner: combiner as Combiner, axes, body, operands, ...(selectLast ? { selectLast } : {}) };
    }
    const dtype = this.dtype();
    let expr: Expr;
    switch (op) {
      case 'load': {
        const buffer = this.bufName();
        this.punct('[');
        const index = this.index();
        this.punct(']');
        let mask: number | undefined;
        if (this.atWord('if')) {
          this.next();
          mask = this.ref();
        }
        expr = { op: 'load', buffer, index, ...(mask !== undefined ? { mask } : {}) };
        break;
      }
      case 'const':
        expr = { op: 'const', value: this.literal(dtype) };
        break;
      case 'index': {
        this.punct('[');
        const index = this.index();
        this.punct(']');
        expr = { op: 'index', index };
        break;
      }
      default: {
        const args = [this.ref()];
        while (this.eatPunct(',')) args.push(this.ref());
        expr = { op: 'prim', prim: op, args };
      }
    }
    return { kind: 'let', id, dtype, expr };
  }

  private literal(dtype: DType): number | bigint {
    const neg = this.eatPunct('-');
    const t = this.next();
    let v: number;
    if (t.kind === 'int') v = Number(t.text);
    else if (t.kind === 'float') v = Number(t.text);
    else if (t.kind === 'ident' && (t.text === 'nan' || t.text === 'inf')) v = t.text === 'nan' ? NaN : Infinity;
    else return this.fail(t, `expected a literal, found ${this.describe(t)}`);
    if (DTYPE_INFO[dtype].big) {
      if (t.kind !== 'int') this.fail(t, `expected an integer literal for ${dtype}`);
      return neg ? -BigInt(t.text) : BigInt(t.text);
    }
    if (!isFloat(dtype) && t.kind !== 'int') this.fail(t, `expected an integer literal for ${dtype}`);
    return neg ? -v : v;
  }

  // ---- index expressions: sum := prod (('+'|'-') prod)*; prod := unary (('*'|'//'|'%') unary)* ----

  index(): IndexExpr {
    let e = this.product();
    for (;;) {
      if (this.eatPunct('+')) e = ix.add(e, this.product());
      else if (this.eatPunct('-')) e = ix.sub(e, this.product());
      else return e;
    }
  }

  private product(): IndexExpr {
    let e = this.unary();
    for (;;) {
      if (this.eatPunct('*')) e = ix.mul(e, this.unary());
      else if (this.eatPunct('//')) e = { kind: 'div', a: e, b: this.unary() };
      else if (this.eatPunct('%')) e = { kind: 'mod', a: e, b: this.unary() };
      else return e;
    }
  }

  private unary(): IndexExpr {
    if (this.eatPunct('-')) {
      const x = this.unary();
      return x.kind === 'const' ? ix.c(-x.value) : ix.mul(ix.c(-1), x);
    }
    const t = this.next();
    switch (t.kind) {
      case 'int': return ix.c(Number(t.text));
      case 'ident': return ix.v(t.text);
      case 'sym': return ix.sym(t.text);
      case 'ref': return ix.ref(Number(t.text));
      case 'punct':
        if (t.text === '(') {
          const e = this.index();
          this.punct(')');
          return e;
        }
        break;
      default: break;
    }
    return this.fail(t, `expected an index expression, found ${this.describe(t)}`);
  }

  // ---- small pieces ----

  private type(): { dtype: DType; shape: Dim[] } {
    const dtype = this.dtype();
    this.punct('[');
    const shape: Dim[] = [];
    if (!this.atPunct(']')) {
      do {
        const t = this.next();
        if (t.kind === 'int') shape.push(Number(t.text));
        else if (t.kind === 'ident' || t.kind === 'string') shape.push(t.text);
        else this.fail(t, `expected a dim, found ${this.describe(t)}`);
      } while (this.eatPunct(','));
    }
    this.punct(']');
    return { dtype, shape };
  }

  private dtype(): DType {
    const t = this.next();
    if (t.kind !== 'ident' || !isDType(t.text)) return this.fail(t, `expected a dtype, found ${this.describe(t)}`);
    return t.text;
  }

  private bufList(): string[] {
    this.punct('(');
    const out: string[] = [];
    if (!this.atPunct(')')) {
      do out.push(this.bufName());
      while (this.eatPunct(','));
    }
    this.punct(')');
    return out;
  }

  private bufName(): string {
    const t = this.next();
    if (t.kind !== 'buf') this.fail(t, `expected a buffer (@name), found ${this.describe(t)}`);
    return t.text;
  }

  private nameAfter(sigil: '@'): string {
    const t = this.next();
    if (t.kind !== 'buf') this.fail(t, `expected ${sigil}name, found ${this.describe(t)}`);
    return t.text;
  }

  private ref(): number {
    const t = this.next();
    if (t.kind !== 'ref') this.fail(t, `expected a scalar (%n), found ${this.describe(t)}`);
    return Number(t.text);
  }

  private int(): number {
    const t = this.next();
    if (t.kind !== 'int') this.fail(t, `expected an integer, found ${this.describe(t)}`);
    return Number(t.text);
  }

  private string(): string {
    const t = this.next();
    if (t.kind !== 'string') this.fail(t, `expected a string, found ${this.describe(t)}`);
    return t.text;
  }

  private ident(what: string): string {
    const t = this.next();
    if (t.kind !== 'ident') this.fail(t, `expected ${what}, found ${this.describe(t)}`);
    return t.text;
  }

  private keyword(w: string): void {
    const t = this.next();
    if (t.kind !== 'ident' || t.text !== w) this.fail(t, `expected '${w}', found ${this.describe(t)}`);
  }

  private atWord(w: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text === w;
  }

  private atPunct(p: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === p;
  }

  private eatPunct(p: string): boolean {
    if (!this.atPunct(p)) return false;
    this.next();
    return true;
  }

  private punct(p: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p) this.fail(t, `expected '${p}', found ${this.describe(t)}`);
  }

  end(): void {
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, `expected the end of the text, found ${this.describe(t)}`);
  }

  /** `dense<…>`, read by the graph IR parser. */
  private denseRaw(): Tensor {
    this.look = undefined;
    this.skipSpace();
    const start = this.pos;
    if (!this.src.startsWith('dense<', start)) this.fail(start, `expected a dense<…> literal`);
    const close = this.src.indexOf('>', start);
    if (close < 0) this.fail(start, 'unterminated dense<…> literal');
    this.pos = close + 1;
    try {
      return parseTensorLiteral(this.src.slice(start, close + 1), this.file);
    } catch (e) {
      return this.fail(start, (e as Error).message);
    }
  }

  /** The text between a `{` and its matching `}` (strings and comments skipped). */
  private bracedRaw(): string {
    this.punct('{');
    this.look = undefined;
    const start = this.pos;
    let depth = 0;
    let i = start;
    while (i < this.src.length) {
      const c = this.src[i]!;
      if (c === '"') {
        i++;
        while (i < this.src.length && this.src[i] !== '"') i += this.src[i] === '\\' ? 2 : 1;
      } else if (c === '/' && this.src[i + 1] === '/') {
        while (i < this.src.length && this.src[i] !== '\n') i++;
      } else if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0) {
          this.pos = i + 1;
          return this.src.slice(start, i);
        }
        depth--;
      }
      i++;
    }
    return this.fail(start, 'unterminated { … }');
  }

  // ---- the lexer ----

  private peek(): Tok {
    this.look ??= this.lex();
    return this.look;
  }

  private next(): Tok {
    const t = this.peek();
    this.look = undefined;
    return t;
  }

  /** Whitespace, and comments from `#` to the end of the line (`//` is floor division). */
  private skipSpace(): void {
    const s = this.src;
    for (;;) {
      while (this.pos < s.length && /\s/.test(s[this.pos]!)) this.pos++;
      if (s.startsWith('#', this.pos)) {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
        continue;
      }
      return;
    }
  }

  private lex(): Tok {
    this.skipSpace();
    const s = this.src;
    const start = this.pos;
    if (start >= s.length) return { kind: 'eof', text: '', start, end: start };
    const c = s[start]!;
    const tok = (kind: Kind, text: string, end: number): Tok => {
      this.pos = end;
      return { kind, text, start, end };
    };
    if (c === '"') {
      const { text, end } = this.lexString(start);
      return tok('string', text, end);
    }
    if (c === '@' || c === '$') {
      const kind: Kind = c === '@' ? 'buf' : 'sym';
      if (s[start + 1] === '"') {
        const { text, end } = this.lexString(start + 1);
        return tok(kind, text, end);
      }
      let e = start + 1;
      while (isIdentChar(s[e])) e++;
      if (e === start + 1) this.fail(start, `expected a name after '${c}'`);
      return tok(kind, s.slice(start + 1, e), e);
    }
    if (c === '%' && isDigit(s[start + 1])) {
      let e = start + 1;
      while (isDigit(s[e])) e++;
      return tok('ref', s.slice(start + 1, e), e);
    }
    if (isDigit(c)) {
      let e = start;
      while (isDigit(s[e])) e++;
      let float = false;
      if (s[e] === '.' && isDigit(s[e + 1])) {
        float = true;
        e++;
        while (isDigit(s[e])) e++;
      }
      if ((s[e] === 'e' || s[e] === 'E') && (isDigit(s[e + 1]) || ((s[e + 1] === '-' || s[e + 1] === '+') && isDigit(s[e + 2])))) {
        float = true;
        e += 2;
        while (isDigit(s[e])) e++;
      }
      return tok(float ? 'float' : 'int', s.slice(start, e), e);
    }
    if (isIdentStart(c)) {
      let e = start;
      while (isIdentChar(s[e])) e++;
      return tok('ident', s.slice(start, e), e);
    }
    if (s.startsWith('->', start)) return tok('punct', '->', start + 2);
    if (s.startsWith('//', start)) return tok('punct', '//', start + 2);
    if ('(){}[],=<:+-*%'.includes(c)) return tok('punct', c, start + 1);
    return this.fail(start, `unexpected character '${c}'`);
  }

  private lexString(start: number): { text: string; end: number } {
    const s = this.src;
    let e = start + 1;
    while (e < s.length && s[e] !== '"') e += s[e] === '\\' ? 2 : 1;
    if (e >= s.length) this.fail(start, 'unterminated string');
    try {
      return { text: JSON.parse(s.slice(start, e + 1)) as string, end: e + 1 };
    } catch {
      return this.fail(start, 'bad string escape');
    }
  }

  // ---- errors ----

  private describe(t: Tok): string {
    if (t.kind === 'eof') return 'the end of the text';
    if (t.kind === 'string') return JSON.stringify(t.text);
    if (t.kind === 'buf') return `@${t.text}`;
    if (t.kind === 'ref') return `%${t.text}`;
    if (t.kind === 'sym') return `$${t.text}`;
    return `'${t.text}'`;
  }

  private fail(at: Tok | number, message: string): never {
    const offset = typeof at === 'number' ? at : at.start;
    let line = 1;
    let col = 1;
    for (let i = 0; i < offset && i < this.src.length; i++) {
      if (this.src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
    }
    return fail('E_PARSE', `${this.file ? `${this.file}:` : ''}${line}:${col}: ${message}`);
  }
}
