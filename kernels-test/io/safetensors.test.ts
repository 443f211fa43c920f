import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeHostTensor, readSafetensors, writeSafetensors, type StateDict } from '../../src/index.js';
import { assertSameTensor, fixture } from './fixtures.js';

function sample(): StateDict {
  return new Map([
    ['a.f32', makeHostTensor('f32', [2, 3], new Float32Array([1, -2, 3.5, 0, -0, 1e-30]))],
    ['b.u8', makeHostTensor('u8', [3], new Uint8Array([0, 7, 255]))],
    ['c.f64', makeHostTensor('f64', [1], new Float64Array([Math.PI]))],
    ['d.i64', makeHostTensor('i64', [2], new BigInt64Array([-(2n ** 62n), 2n ** 53n + 1n]))],
    ['e.i32', makeHostTensor('i32', [2, 1], new Int32Array([-1, 2 ** 31 - 1]))],
    ['f.scalar', makeHostTensor('f32', [], new Float32Array([2.5]))],
    ['g.empty', makeHostTensor('f32', [0, 4], new Float32Array(0))],
    ['h.f16', makeHostTensor('f16', [1], new Uint16Array([0x3c00]))],
    ['i.bool', makeHostTensor('bool', [2], new Uint8Array([1, 0]))],
  ]);
}

test('round trip keeps names, dtypes, shapes, values and metadata', () => {
  const src = sample();
  const bytes = writeSafetensors(src, { note: 'hello', epoch: '3' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(headerLen % 8, 0, 'header padded to 8 bytes');
  const { tensors, metadata } = readSafetensors(bytes);
  assert.equal(metadata, { note: 'hello', epoch: '3' });
  assert.equal([...tensors.keys()].sort(), [...src.keys()].sort());
  for (const [k, t] of src) assertSameTensor(tensors.get(k), t, k);
});

test('data offsets are aligned to the element size', () => {
  const bytes = writeSafetensors(sample());
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, U8: 1, BOOL: 1 };
  for (const [k, v] of Object.entries(header) as Array<[string, { dtype: string; data_offsets: number[] }]>) {
    assert.is(v.data_offsets[0]! % sizes[v.dtype]!, 0, k);
  }
});

test('reads a file written by an independent (Python) writer', () => {
  const { tensors, metadata } = readSafetensors(fixture('tiny_expected.safetensors'));
  assert.is(metadata.generator, 'tools/gen_pth_fixtures.py');
  const i64 = tensors.get('tensors/i64')!;
  assert.is(i64.dtype, 'i64');
  assert.equal(Array.from(i64.data as ArrayLike<number | bigint>), [-(2n ** 40n), -1n, 0n, 5n, 2n ** 53n + 1n, 2n ** 62n]);
  assert.equal(Array.from(tensors.get('tensors/bool')!.data as ArrayLike<number | bigint>), [1, 0, 1]);
  assert.is(tensors.get('tensors/f16')!.dtype, 'f16');
  assert.equal(tensors.get('tensors/empty')!.shape, [0, 3]);
});

test('truncated and malformed files give clear errors', () => {
  const bytes = writeSafetensors(sample());
  assert.throws(() => readSafetensors(bytes.subarray(0, 4)), /too short/);
  assert.throws(() => readSafetensors(bytes.subarray(0, 40)), /header length \d+ exceeds the file/);
  assert.throws(() => readSafetensors(bytes.subarray(0, bytes.length - 3)), /outside the \d+-byte data section/);
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setBigUint64(0, 8n, true);
  bad.set(new TextEncoder().encode('[1,2,3] '), 8);
  assert.throws(() => readSafetensors(bad), /not a JSON object/);
  const wrongSize = new TextEncoder().encode(JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }));
  const f = new Uint8Array(8 + wrongSize.length + 4);
  new DataView(f.buffer).setBigUint64(0, BigInt(wrongSize.length), true);
  f.set(wrongSize, 8);
  assert.throws(() => readSafetensors(f), /'x' \(F32 \[2\]\) needs 8 bytes/);
  assert.throws(() => writeSafetensors([['x', { dtype: 'f32', shape: [3], data: new Float32Array(2) }]]), /shape \[3\] but 2 elements/);
});

test.run();
