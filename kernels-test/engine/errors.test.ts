// Bad input gets a clear error naming the op and the shapes, never a NaN or a crash in Dawn.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  init, runtime, tensor, empty, parameter, add, matmul, crossEntropy, sum, backward, defineKernel, reshape, slice, zeros, ones, full,
} from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url)); // build/test/engine/ → the repository

const test = suite('errors');
test.before(async () => {
  await init();
});

test('broadcast mismatch names the op and both shapes', async () => {
  await assertThrowsWith(() => add(tensor([1, 2, 3, 4, 5, 6], [2, 3]), tensor([1, 2, 3, 4], [4])), ['add', '[2, 3]', '[4]'], 'add');
});

test('matmul inner-dimension mismatch names both shapes', async () => {
  await assertThrowsWith(() => matmul(empty([3, 4]), empty([5, 6])), ['matmul', '[3, 4]', '[5, 6]'], 'matmul');
});

test('wrong dtype names the op and the expected dtype', async () => {
  await assertThrowsWith(() => crossEntropy(empty([2, 3]), tensor([0, 1], [2])), ['crossEntropy', 'i32', 'f32'], 'labels');
  await assertThrowsWith(() => add(tensor([1], [1], 'i32'), tensor([1], [1])), ['add', 'f32', 'i32'], 'add on i32');
});

test('a disposed tensor cannot be used', async () => {
  const t = tensor([1, 2], [2]);
  t.dispose();
  await assertThrowsWith(() => sum(t), ['sum', 'disposed', '[2]'], 'sum');
  await assertThrowsWith(() => t.toArray(), ['disposed'], 'toArray');
});

test('shape errors for reshape, slice and host data', async () => {
  await assertThrowsWith(() => reshape(empty([2, 3]), [4, 2]), ['reshape', '[2, 3]', '[4, 2]'], 'reshape');
  await assertThrowsWith(() => slice(empty([2, 3]), 1, 2, 5), ['slice', '[2, 3]'], 'slice');
  await assertThrowsWith(() => tensor([1, 2, 3], [2, 2]), ['3 values', '[2, 2]'], 'tensor size');
  await assertThrowsWith(() => tensor([1, NaN], [2]), ['not finite', 'index 1'], 'NaN input');
});

test('bad shapes at tensor creation name the function and the shape', async () => {
  await assertThrowsWith(() => zeros([-1, 3]), ['zeros', '[-1, 3]', 'non-negative integers'], 'zeros');
  await assertThrowsWith(() => ones([2, 1.5]), ['ones', '[2, 1.5]'], 'ones');
  await assertThrowsWith(() => full([NaN], 2), ['full', '[NaN]'], 'full');
  await assertThrowsWith(() => full([2], NaN), ['full', 'NaN', 'not finite'], 'full value');
  await assertThrowsWith(() => empty([NaN]), ['empty', '[NaN]'], 'empty');
  await assertThrowsWith(() => empty([Infinity, 2]), ['empty', '[Infinity, 2]'], 'empty inf');
  await assertThrowsWith(() => tensor([1, 2], [2.5]), ['tensor', '[2.5]'], 'tensor');
  await assertThrowsWith(() => tensor([1, 2], 2 as unknown as number[]), ['tensor', 'shape must be an array'], 'tensor shape not an array');
  await assertThrowsWith(() => zeros([2 ** 40]), ['[1099511627776]', 'maxStorageBufferBindingSize'], 'zeros huge: refused before the host array');
});

test('dispose() after shutdown() is a no-op (own process: the suite shares one engine)', async () => {
  const script = `
    import { init, shutdown, tensor, reshape, isInitialized } from ${JSON.stringify(`${root}dist/node/index.js`)};
    await init();
    const t = tensor([1, 2, 3, 4], [4]);
    const v = reshape(t, [2, 2]);
    await shutdown();
    t.dispose(); v.dispose(); v.dispose();
    await init();                       // a new device: the old buffers must not enter its pool
    const u = tensor([5], [1]);
    console.log(JSON.stringify({ value: await u.item(), initialized: isInitialized() }));
    await shutdown();
    u.dispose();`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 60_000 });
  assert.equal(JSON.parse(stdout.trim().split('\n').at(-1)!), { value: 5, initialized: true });
});

test('backward of a non-scalar needs an explicit gradient', async () => {
  const p = parameter([1, 2], [2]);
  await assertThrowsWith(() => backward(add(p, p)), ['backward', '[2]', 'gradient'], 'non-scalar');
});

test('a tensor above the binding-size limit is refused with the limit and a hint', async () => {
  await assertThrowsWith(() => empty([1 << 20, 1 << 12]), ['[1048576, 4096]', 'maxStorageBufferBindingSize', 'batch size'], 'huge');
});

test('host data above the binding-size limit is refused before it is uploaded', async () => {
  const limit = runtime().gpu.limits.maxStorageBufferBindingSize;
  if (limit > 1 << 28) return; // would need gigabytes of host memory
  const n = limit / 4 + 1;
  await assertThrowsWith(() => tensor(new Float32Array(n), [n]), [`[${n}]`, 'maxStorageBufferBindingSize', 'batch size'], 'huge upload');
});

test('after a device error the engine drops the poisoned batch and keeps working', async () => {
  const rt = runtime();
  const kernel = defineKernel({
    name: 'test/bad_binding',
    source: '@compute @workgroup_size(1) fn main() { out[0] = f32(params.x); }\n',
    uniforms: { x: 'u32' },
    bindings: [{ name: 'out', type: 'f32', access: 'read_write' }],
  });
  // A buffer without STORAGE usage cannot be bound: Dawn reports it asynchronously.
  const mapBuffer = rt.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  kernel.dispatch({ uniforms: { x: 1 }, bindings: { out: mapBuffer }, workgroups: [1] });
  let caught: Error | null = null;
  for (let i = 0; i < 50 && !caught; i++) {
    await new Promise((r) => setTimeout(r, 10));
    try {
      add(tensor([1], [1]), tensor([1], [1])); // records more work on the poisoned batch, until the error arrives
    } catch (err) {
      caught = err as Error;
    }
  }
  assert.ok(caught && /bad_binding/.test(caught.message), `the error names the kernel: ${caught?.message}`);
  // The next batch is healthy: it must not inherit the invalid commands.
  assert.equal(Array.from(await add(tensor([1], [1]), tensor([2], [1])).toArray()), [3]);
  mapBuffer.destroy();
});

test('a WGSL compile error names the shader and the line', async () => {
  const rt = runtime();
  const kernel = defineKernel({
    name: 'test/broken_kernel',
    source: '@compute @workgroup_size(1) fn main() {\n  let x: u32 = undefined_thing;\n}\n',
    uniforms: { n: 'u32' },
    bindings: [],
  });
  kernel.dispatch({ uniforms: { n: 1 }, bindings: {}, workgroups: [1] });
  await assertThrowsWith(() => rt.sync(), ['test/broken_kernel', 'undefined_thing'], 'compile error');
  // later uses of the broken kernel fail at once, and the engine keeps working
  await assertThrowsWith(() => kernel.dispatch({ uniforms: { n: 1 }, bindings: {}, workgroups: [1] }), ['test/broken_kernel'], 'second use');
  assert.equal(Array.from(await add(tensor([1], [1]), tensor([2], [1])).toArray()), [3]);
});

test.run();
