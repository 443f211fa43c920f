import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  castHostTensor, f16BitsToNumber, hostTensorToFloat32, isHostTensor, makeHostTensor, shapeNumel, zerosHostTensor,
} from '../../src/index.js';

test('makeHostTensor checks the array type and element count', () => {
  const t = makeHostTensor('f32', [2, 3], new Float32Array(6));
  assert.equal(t.shape, [2, 3]);
  assert.ok(isHostTensor(t));
  assert.throws(() => makeHostTensor('f32', [2, 3], new Float32Array(5)), /needs 6 elements, got 5/);
  assert.throws(() => makeHostTensor('f64', [2], new Float32Array(2)), /f64 needs a Float64Array/);
  assert.is(shapeNumel([]), 1);
  assert.is(zerosHostTensor('i64', [0, 4]).data.length, 0);
});

test('conversion to Float32Array: f16, bf16, i64, bool', () => {
  assert.is(f16BitsToNumber(0x3c00), 1);
  assert.is(f16BitsToNumber(0xc100), -2.5);
  assert.is(f16BitsToNumber(0x7bff), 65504);
  assert.is(f16BitsToNumber(0x0001), 2 ** -24);
  assert.is(f16BitsToNumber(0x7c00), Infinity);
  assert.equal(Array.from(hostTensorToFloat32(makeHostTensor('f16', [2], new Uint16Array([0x3c00, 0xc100])))), [1, -2.5]);
  assert.equal(Array.from(hostTensorToFloat32(makeHostTensor('bf16', [2], new Uint16Array([0x3f80, 0xc020])))), [1, -2.5]);
  assert.equal(Array.from(hostTensorToFloat32(makeHostTensor('i64', [2], new BigInt64Array([-3n, 7n])))), [-3, 7]);
  assert.equal(Array.from(hostTensorToFloat32(makeHostTensor('bool', [2], new Uint8Array([1, 0])))), [1, 0]);
});

test('castHostTensor between f32/f64/i32/i64', () => {
  const t = makeHostTensor('f64', [3], new Float64Array([1.5, -2.5, 3]));
  assert.equal(Array.from(castHostTensor(t, 'i64').data as ArrayLike<number | bigint>), [1n, -2n, 3n]);
  assert.equal(Array.from(castHostTensor(t, 'i32').data as ArrayLike<number | bigint>), [1, -2, 3]);
  assert.equal(Array.from(castHostTensor(castHostTensor(t, 'i64'), 'f32').data as Float32Array), [1, -2, 3]);
});

test.run();
