// Typed attributes. The kind is part of the value (as in ONNX's AttributeProto), so an attribute prints
// and parses back without consulting any schema, and `1` and `1.0` stay different things.
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';
import type { Graph } from './graph.js';

export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'dtype'; readonly value: DType }
  | { readonly kind: 'tensor'; readonly value: Tensor }
  | { readonly kind: 'graph'; readonly value: Graph }
  | { readonly kind: 'graphs'; readonly value: readonly Graph[] };

export type AttrKind = Attr['kind'];
export type Attrs = Readonly<Record<string, Attr>>;

/** Constructors, so a rule reads `{ axis: A.int(1) }`. */
export const A = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  strings: (value: readonly string[]): Attr => ({ kind: 'strings', value }),
  dtype: (value: DType): Attr => ({ kind: 'dtype', value }),
  tensor: (value: Tensor): Attr => ({ kind: 'tensor', value }),
  graph: (value: Graph): Attr => ({ kind: 'graph', value }),
  graphs: (value: readonly Graph[]): Attr => ({ kind: 'graphs', value }),
};
