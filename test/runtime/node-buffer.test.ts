// Node's readFileSync gives a Buffer, whose slice() is a view of (possibly pooled) memory, not a copy.
// Decoders must read the bytes they were given whatever the view's offset.
import { expect, test } from 'vitest';
import { Tensor } from '../../src/ir/tensor.js';
import { readTensorProto, writeTensorProto } from '../../src/runtime/tensor-proto.js';
import { readNpy, writeNpy } from '../../src/runtime/npy.js';

const ramp = (n: number): Tensor => Tensor.from('f32', [n], Array.from({ length: n }, (_, i) => i / n));

/** The bytes inside a larger Buffer at an odd offset, as a file read into a pooled Buffer would be. */
function inBuffer(bytes: Uint8Array): Buffer {
  const backing = Buffer.alloc(bytes.length + 37);
  backing.set(bytes, 13);
  return backing.subarray(13, 13 + bytes.length);
}

test('TensorProto from a Buffer view', () => {
  for (const n of [3, 6144]) {
    const t = readTensorProto(inBuffer(writeTensorProto(ramp(n), 'x'))).tensor;
    expect(t.toNumbers()).toEqual(ramp(n).toNumbers());
  }
});

test('npy from a Buffer view', () => {
  const t = readNpy(inBuffer(writeNpy(ramp(1000))));
  expect(t.toNumbers()).toEqual(ramp(1000).toNumbers());
});
