// .npy: the reader against files numpy wrote (tools/gen_npy_fixtures.py), the writer by round
// trip and by the exact header numpy writes, and clear errors for what it does not read.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { encodeNpy, decodeNpy } from '../../src/index.js';

const test = suite('npy');
const fixture = (name: string) => new Uint8Array(readFileSync(`kernels-test/io/fixtures/npy/${name}`));

test('reads numpy-written float32, int32, uint8 and empty arrays', () => {
  const f = decodeNpy(fixture('f32_3x4.npy'));
  assert.equal([f.dtype, f.shape], ['float32', [3, 4]]);
  assert.equal(Array.from(f.data), Array.from({ length: 12 }, (_, i) => i / 8 - 0.5));
  const i = decodeNpy(fixture('i32_5.npy'));
  assert.equal([i.dtype, i.shape, Array.from(i.data)], ['int32', [5], [-2, -1, 0, 7, 2 ** 31 - 1]]);
  const u = decodeNpy(fixture('u8_2x2x2.npy'));
  assert.equal([u.dtype, u.shape, Array.from(u.data)], ['uint8', [2, 2, 2], [0, 30, 60, 90, 120, 150, 180, 210]]);
  const e = decodeNpy(fixture('f32_empty_0x3.npy'));
  assert.equal([e.shape, e.data.length], [[0, 3], 0]);
});

test('writes what numpy writes, byte for byte', () => {
  const f = decodeNpy(fixture('f32_3x4.npy'));
  assert.equal(Array.from(encodeNpy(f)), Array.from(fixture('f32_3x4.npy')));
  const i = decodeNpy(fixture('i32_5.npy'));
  assert.equal(Array.from(encodeNpy(i)), Array.from(fixture('i32_5.npy')));
});

test('round trip, including a header too long for version 1.0', () => {
  const shape = Array.from({ length: 25000 }, () => 1);
  const bytes = encodeNpy({ dtype: 'float32', shape, data: Float32Array.of(3.25) });
  assert.is(bytes[6], 2, 'version 2.0');
  const back = decodeNpy(bytes);
  assert.equal([back.shape.length, Array.from(back.data)], [25000, [3.25]]);
});

test('clear errors: not npy, float64, Fortran order, truncated, wrong count', () => {
  assert.throws(() => decodeNpy(new Uint8Array([1, 2, 3]), 'x.npy'), /x\.npy: not a \.npy file/);
  assert.throws(() => decodeNpy(fixture('f64_2.npy')), /<f8 is not supported/);
  assert.throws(() => decodeNpy(fixture('f32_fortran_2x3.npy')), /Fortran-order/);
  assert.throws(() => decodeNpy(fixture('f32_3x4.npy').subarray(0, 100)), /truncated/);
  assert.throws(() => encodeNpy({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) }), /do not fill shape \[2, 2\]/);
});

test.run();
