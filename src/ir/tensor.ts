// A dense tensor value: the interpreter's currency, and the payload of constants in the IR.
import { DTYPE_INFO, type DType, type Storage } from './dtype.js';
import { checkAllocatable, formatShape, numel } from './shape.js';
import { fail } from './error.js';
import { narrowing, roundToDType } from './numeric.js';

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Storage;

  constructor(dtype: DType, shape: readonly number[], data: Storage) {
    const n = numel(shape);
    if (data.length !== n) {
      fail('E_RUNTIME', `tensor ${dtype}${formatShape(shape)} needs ${n} elements, got ${data.length}`);
    }
    if (!(data instanceof DTYPE_INFO[dtype].array)) {
      fail('E_RUNTIME', `tensor ${dtype} cannot be stored in a ${data.constructor.name}`);
    }
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Bytes of the elements unpacked (4- and 2-bit types one to a byte; raw-bytes.ts packs them). */
  get byteLength(): number {
    return this.size * DTYPE_INFO[this.dtype].bytes;
  }

  static zeros(dtype: DType, shape: readonly number[]): Tensor {
    checkAllocatable(shape, `${dtype} tensor`);
    return new Tensor(dtype, shape, new DTYPE_INFO[dtype].array(numel(shape)));
  }

  /** Build from plain JS values (numbers, bigints or booleans), rounding to the dtype. */
  static from(dtype: DType, shape: readonly number[], values: ArrayLike<number | bigint | boolean>): Tensor {
    const t = Tensor.zeros(dtype, shape);
    if (values.length !== t.size) fail('E_RUNTIME', `tensor ${dtype}${formatShape(shape)} needs ${t.size} values, got ${values.length}`);
    for (let i = 0; i < t.size; i++) t.set(i, values[i]!);
    return t;
  }

  static scalar(dtype: DType, value: number | bigint | boolean): Tensor {
    return Tensor.from(dtype, [], [value]);
  }

  /** Element i as a JS number (int64 converted, possibly losing precision past 2^53). */
  num(i: number): number {
    return Number(this.data[i]!);
  }

  /** Element i as a BigInt (for integer dtypes; floats are truncated). */
  big(i: number): bigint {
    const v = this.data[i]!;
    return typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
  }

  /** Store a value at flat index i with the dtype's conversion (wrap for ints, rounding for floats). */
  set(i: number, v: number | bigint | boolean): void {
    const info = DTYPE_INFO[this.dtype];
    if (info.big) {
      const b = typeof v === 'bigint' ? v : BigInt(typeof v === 'boolean' ? Number(v) : Math.trunc(Number.isFinite(v) ? v : 0));
      (this.data as BigInt64Array | BigUint64Array)[i] = b;
    } else if (this.dtype === 'bool') {
      (this.data as Uint8Array)[i] = (typeof v === 'bigint' ? v !== 0n : Boolean(v)) ? 1 : 0;
    } else if (info.kind === 'float') {
      (this.data as Float32Array | Float64Array)[i] = roundToDType(this.dtype, Number(v));
    } else {
      const x = typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : Number(v);
      const wrap = narrowing(this.dtype); // 4- and 2-bit integers wrap to their width, not their byte's
      (this.data as Int32Array)[i] = wrap ? wrap(x) : x;
    }
  }

  /** All elements as JS numbers (for tests and printing). */
  toNumbers(): number[] {
    return Array.from(this.data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, shape, this.data);
  }

  toString(): string {
    const vals = this.size <= 16 ? this.toNumbers().join(', ') : `${this.toNumbers().slice(0, 16).join(', ')}, …`;
    return `${this.dtype}${formatShape(this.shape)} [${vals}]`;
  }
}
