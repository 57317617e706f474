// Tensors in numpy's .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a version, a header that
// is a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }, then the elements.
// Reads versions 1.0-3.0, big-endian and Fortran-ordered files; writes what numpy itself writes, byte for byte.
// The narrow formats (float8, float4, int4, int2) have no numpy descr: they are written as ml_dtypes saves
// them, one element per byte under the untyped descr '|V1', and read back only when the caller names the dtype.
import { DTYPE_INFO, isNarrow, type DType, type Storage } from '../ir/dtype.js';
import { AicError, fail, isAicError } from '../ir/error.js';
import { bf16BitsToF32, bitCodec, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../ir/numeric.js';
import { MAX_ELEMENTS, formatShape, numel } from '../ir/shape.js';
import { Tensor } from '../ir/tensor.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** numpy aligns the data start to 64 bytes so the array can be memory-mapped. */
const ARRAY_ALIGN = 64;
/** numpy leaves this much room after the header so a file can grow along its first axis in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export interface ReadNpyOptions {
  /** The dtype the caller expects. Only consulted for the untyped voids ml_dtypes saves its types as:
   * '<V2' reads as bf16 with `expect: 'bf16'`, '|V1' as a float8, float4, int4 or int2 dtype named by
   * `expect`; otherwise they are refused. */
  expect?: DType;
}

/** Parse a .npy file. Every failure is an AicError naming `where` (E_PROTO, or E_LIMIT for huge shapes). */
export function readNpy(bytes: Uint8Array, where = 'npy', opts: ReadNpyOptions = {}): Tensor {
  try {
    return parseNpy(bytes, opts);
  } catch (e) {
    if (isAicError(e)) throw new AicError(e.code, `${where}: ${e.message}`, e.hint);
    throw new AicError('E_PROTO', `${where}: not a valid .npy file (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Serialize a tensor as .npy (version 1.0, or 2.0 when the header outgrows 64 KiB), little-endian, C order. */
export function writeNpy(t: Tensor): Uint8Array {
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${DTYPE_INFO[t.dtype].numpy}', 'fortran_order': False, 'shape': ${shape}, }`;
  if (t.shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(t.shape[0]).length);
  const header = new TextEncoder().encode(dict); // ASCII: digits, quotes and the descr only
  const hlen = header.length + 1; // the closing '\n'
  let lenBytes = 2;
  let pad = ARRAY_ALIGN - ((8 + lenBytes + hlen) % ARRAY_ALIGN);
  if (hlen + pad > 0xffff) {
    lenBytes = 4;
    pad = ARRAY_ALIGN - ((8 + lenBytes + hlen) % ARRAY_ALIGN);
  }
  const start = 8 + lenBytes + hlen + pad;
  const out = new Uint8Array(start + t.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = lenBytes === 2 ? 1 : 2;
  out[7] = 0;
  if (lenBytes === 2) view.setUint16(8, hlen + pad, true);
  else view.setUint32(8, hlen + pad, true);
  out.set(header, 8 + lenBytes);
  out.fill(0x20, 8 + lenBytes + header.length, start - 1);
  out[start - 1] = 0x0a;
  encodeElements(t, out.subarray(start));
  return out;
}

function parseNpy(bytes: Uint8Array, opts: ReadNpyOptions): Tensor {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) fail('E_PROTO', 'not a .npy file (bad magic)');
  if (bytes.length < 10) fail('E_PROTO', 'truncated header');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) fail('E_PROTO', `unsupported .npy format version ${major}.${minor}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('E_PROTO', 'truncated header');
  const hlen = lenBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  if (bytes.length < start) fail('E_PROTO', `truncated header (needs ${start} bytes, file has ${bytes.length})`);
  // Versions 1 and 2 are latin-1, version 3 is UTF-8; a valid header is ASCII either way.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, start));
  const { descr, fortran, shape } = parseHeader(text);
  const { dtype, little } = parseDescr(descr, opts.expect);

  const n = numel(shape);
  if (n > MAX_ELEMENTS) {
    fail('E_LIMIT', `shape ${formatShape(shape)} has ${n} elements, more than aic allocates (${MAX_ELEMENTS})`);
  }
  const size = DTYPE_INFO[dtype].bytes;
  const need = n * size;
  if (bytes.length - start < need) {
    fail('E_PROTO', `truncated data: ${dtype}${formatShape(shape)} needs ${need} bytes, file has ${bytes.length - start}`);
  }
  let raw = bytes.subarray(start, start + need);
  if (fortran && shape.length > 1) raw = fortranToC(raw, shape, size);
  return new Tensor(dtype, shape, decodeElements(dtype, little, raw, n));
}

// --- the header: a tiny Python-literal parser (dicts, tuples, lists, strings, ints, True/False) ---

type PyValue = string | number | boolean | PyValue[] | Map<string, PyValue>;

function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const p = new PyParser(text);
  const d = p.value();
  p.end();
  if (!(d instanceof Map)) fail('E_PROTO', `header is not a dict: ${text.trim()}`);
  const descr = d.get('descr');
  const fortran = d.get('fortran_order');
  const shape = d.get('shape');
  if (typeof descr !== 'string') {
    fail('E_PROTO', `unsupported descr ${descr === undefined ? '(missing)' : formatPy(descr)}: only plain numeric and bool dtypes are read`);
  }
  if (typeof fortran !== 'boolean') fail('E_PROTO', `header has no boolean 'fortran_order': ${text.trim()}`);
  if (!Array.isArray(shape) || !shape.every((x): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    fail('E_PROTO', `header has no valid 'shape' tuple: ${text.trim()}`);
  }
  return { descr, fortran, shape };
}

class PyParser {
  private pos = 0;
  constructor(private readonly s: string) {}

  value(): PyValue {
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') return this.dict();
    if (c === '(') return this.seq(')');
    if (c === '[') return this.seq(']');
    if (c === "'" || c === '"') return this.str();
    const word = /^(True|False|-?\d+L?)/.exec(this.s.slice(this.pos));
    if (!word) this.bad('a value');
    this.pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    return Number(word[0].replace('L', '')); // Python 2 wrote longs as 3L
  }

  end(): void {
    this.ws();
    if (this.pos !== this.s.length) this.bad('the end of the header');
  }

  private dict(): Map<string, PyValue> {
    const m = new Map<string, PyValue>();
    this.pos++;
    for (;;) {
      this.ws();
      if (this.eat('}')) return m;
      const k = this.value();
      if (typeof k !== 'string') this.bad('a string key');
      this.ws();
      if (!this.eat(':')) this.bad("':'");
      m.set(k, this.value());
      this.ws();
      if (this.eat('}')) return m;
      if (!this.eat(',')) this.bad("',' or '}'");
    }
  }

  private seq(close: string): PyValue[] {
    const items: PyValue[] = [];
    this.pos++;
    for (;;) {
      this.ws();
      if (this.eat(close)) return items;
      items.push(this.value());
      this.ws();
      if (this.eat(close)) return items;
      if (!this.eat(',')) this.bad(`',' or '${close}'`);
    }
  }

  private str(): string {
    const q = this.s[this.pos++]!;
    let out = '';
    while (this.pos < this.s.length && this.s[this.pos] !== q) {
      if (this.s[this.pos] === '\\') this.pos++;
      out += this.s[this.pos++] ?? '';
    }
    if (!this.eat(q)) this.bad('a closing quote');
    return out;
  }

  private ws(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  private eat(c: string): boolean {
    if (this.s[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  private bad(what: string): never {
    return fail('E_PROTO', `malformed header: expected ${what} at column ${this.pos} of ${JSON.stringify(this.s.trim())}`);
  }
}

const formatPy = (v: PyValue): string =>
  v instanceof Map ? `{${[...v].map(([k, x]) => `'${k}': ${formatPy(x)}`).join(', ')}}`
  : Array.isArray(v) ? `[${v.map(formatPy).join(', ')}]`
  : typeof v === 'string' ? `'${v}'` : String(v);

// --- dtypes ---

const BY_DESCR = new Map<string, DType>([
  ['f2', 'f16'], ['f4', 'f32'], ['f8', 'f64'],
  ['i1', 'i8'], ['i2', 'i16'], ['i4', 'i32'], ['i8', 'i64'],
  ['u1', 'u8'], ['u2', 'u16'], ['u4', 'u32'], ['u8', 'u64'],
  // 'b1' and '?' are bool, but a bare 'b'/'B' is numpy's char code for int8/uint8.
  ['b1', 'bool'], ['?', 'bool'], ['b', 'i8'], ['B', 'u8'],
]);

function parseDescr(descr: string, expect: DType | undefined): { dtype: DType; little: boolean } {
  const m = /^([<>|=]?)(.*)$/.exec(descr)!;
  const little = m[1] !== '>'; // '=' is native order, and every host aic runs on is little-endian
  if (m[2] === 'V2') {
    if (expect === 'bf16') return { dtype: 'bf16', little };
    fail('E_PROTO', `descr '${descr}' is an untyped 2-byte void; ml_dtypes saves bfloat16 this way, but the file cannot say so`,
      "read it with { expect: 'bf16' } if it holds bfloat16");
  }
  if (m[2] === 'V1') {
    if (expect !== undefined && isNarrow(expect)) return { dtype: expect, little };
    fail('E_PROTO', `descr '${descr}' is an untyped 1-byte void; ml_dtypes saves float8, float4, int4 and int2 this way, but the file cannot say which`,
      "read it with { expect: 'f8e4m3fn' } (or the dtype it holds)");
  }
  const dtype = BY_DESCR.get(m[2]!);
  if (dtype === undefined) {
    fail('E_PROTO', `unsupported descr '${descr}': aic reads ${[...new Set(Object.values(DTYPE_INFO).map((i) => i.numpy))].join(' ')}`);
  }
  return { dtype, little };
}

/** Reorder Fortran-order (first axis fastest) elements into C order, byte-wise so one loop serves every dtype. */
function fortranToC(src: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const rank = shape.length;
  const fstride = new Array<number>(rank);
  let acc = 1;
  for (let k = 0; k < rank; k++) {
    fstride[k] = acc;
    acc *= shape[k]!;
  }
  const n = acc;
  const out = new Uint8Array(src.length);
  const idx = new Array<number>(rank).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    out.set(src.subarray(f * size, f * size + size), c * size);
    for (let k = rank - 1; k >= 0; k--) {
      f += fstride[k]!;
      if (++idx[k]! < shape[k]!) break;
      f -= fstride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

/** Elements from their on-disk bytes (exactly n of them) into the dtype's storage. */
export function decodeElements(dtype: DType, little: boolean, raw: Uint8Array, n: number): Storage {
  const info = DTYPE_INFO[dtype];
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case 'f16':
    case 'bf16': {
      const out = new Float32Array(n);
      const conv = dtype === 'f16' ? f16BitsToF32 : bf16BitsToF32;
      for (let i = 0; i < n; i++) out[i] = conv(v.getUint16(2 * i, little));
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = raw[i] !== 0 ? 1 : 0;
      return out;
    }
    default:
      break;
  }
  if (isNarrow(dtype)) {
    // One element per byte: a float8/float4 bit pattern, or an integer in its low bits.
    const codec = bitCodec(dtype)!;
    const out = new info.array(n) as Float32Array;
    for (let i = 0; i < n; i++) out[i] = codec.decode(raw[i]!);
    return out;
  }
  // A copy gives an aligned buffer of its own (a Buffer's slice() would be a view), swapped in place if big-endian.
  const copy = new Uint8Array(raw.subarray(0, n * info.bytes));
  if (!little && info.bytes > 1) {
    for (let i = 0; i < copy.length; i += info.bytes) copy.subarray(i, i + info.bytes).reverse();
  }
  const Ctor = info.array as unknown as new (b: ArrayBuffer, off: number, len: number) => Storage;
  return new Ctor(copy.buffer, 0, n);
}

/** Elements into little-endian bytes (f16/bf16 as their 16-bit patterns, bool as 0/1). The plain copy
 * assumes a little-endian host, as every platform Node runs aic on is. */
export function encodeElements(t: Tensor, out: Uint8Array): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const d = t.data;
  switch (t.dtype) {
    case 'f16':
    case 'bf16': {
      const conv = t.dtype === 'f16' ? f32ToF16Bits : f32ToBf16Bits;
      for (let i = 0; i < d.length; i++) v.setUint16(2 * i, conv(d[i] as number), true);
      return;
    }
    case 'bool':
      for (let i = 0; i < d.length; i++) out[i] = d[i] !== 0 ? 1 : 0;
      return;
    default:
      if (isNarrow(t.dtype)) {
        const codec = bitCodec(t.dtype)!;
        for (let i = 0; i < d.length; i++) out[i] = codec.encode(d[i] as number);
      } else out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
}
